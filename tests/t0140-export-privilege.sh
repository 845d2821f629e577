#!/bin/bash
# bk-export under a read-only role (pg_read_all_data), the password never
# shown, and failures that leave nothing behind: a role without read access,
# pg_dump missing or failing after the data was written, a signal.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'bk-export: least privilege, secrets, clean failure'

test_need_programs bk-export
pg_start && pg_load_fixture || exit 1
real_pg_dump=$(command -v pg_dump) || test_skip_all "pg_dump not installed"

test_expect_success 'the superuser export, for comparison' '
	bk-export -o super >path 2>err
'

reader_pw=reader-$(test_random_hex 16)
test_expect_success 'a read-only role with pg_read_all_data exports the same files' '
	pg_create_readonly_role bk_reader "$reader_pw" &&
	POSTGRES_USER=bk_reader POSTGRES_PASSWORD=$reader_pw bk-export -o reader >path 2>err &&
	grep -v "^#" super/MANIFEST | grep -v " schema" >expect &&
	grep -v "^#" reader/MANIFEST | grep -v " schema" >actual &&
	test_cmp expect actual &&
	for f in schema.sql schema-post.sql; do
		# pg_dump 15.14+ puts a random \restrict key in each dump
		grep -v "^\\\\\(un\)\?restrict " super/$f >expect &&
		grep -v "^\\\\\(un\)\?restrict " reader/$f >actual &&
		test_cmp expect actual || exit 1
	done &&
	grep "^# table: \|^# added: " super/MANIFEST >expect &&
	grep "^# table: \|^# added: " reader/MANIFEST >actual &&
	test_cmp expect actual &&
	! grep -F -q "$reader_pw" "$BACKUP_LOG" err
'

test_expect_success 'a role that cannot read the tables: exit 1, a hint, nothing left' '
	pg_psql -c "CREATE ROLE nobody LOGIN PASSWORD ${SQ}nobody-pw${SQ}" &&
	POSTGRES_USER=nobody POSTGRES_PASSWORD=nobody-pw test_expect_code 1 bk-export >out 2>err &&
	test ! -s out &&
	grep -q "ERROR bk-export\[[0-9]*\]: cannot lock the tables to back up: permission denied for table [^ ]*$" err &&
	grep -q "ERROR bk-export\[[0-9]*\]: hint: .*pg_read_all_data" err &&
	test -z "$(ls -A "$BACKUP_TMPDIR")"
'

test_expect_success 'a wrong password: exit 1, a clear message without the password' '
	wrong=wrong-$(test_random_hex 12) &&
	POSTGRES_PASSWORD=$wrong test_expect_code 1 bk-export -o wrongpw >out 2>err &&
	test ! -s out &&
	grep -q "ERROR bk-export\[[0-9]*\]: cannot connect to 127.0.0.1:$POSTGRES_PORT as postgres: password authentication failed for user \"postgres\"$" err &&
	grep -q "hint: check POSTGRES_PASSWORD" err &&
	! grep -F -q "$wrong" err "$BACKUP_LOG" &&
	test_path_is_missing wrongpw &&
	test -z "$(ls -A "$BACKUP_TMPDIR")"
'

test_expect_success 'DATABASE_URL with the password in it works; the password stays hidden' '
	DATABASE_URL="postgresql://postgres:$PG_TEST_PASSWORD@127.0.0.1:$POSTGRES_PORT/smart_ai_hub" \
		POSTGRES_PASSWORD= bk-export -o url >path 2>err &&
	grep -q "^# table: users.sql 200 public.users$" url/MANIFEST &&
	! grep -F -q "$PG_TEST_PASSWORD" err path
'

test_expect_success 'after all these runs the log has never held a password' '
	test -s "$BACKUP_LOG" &&
	! grep -F -q "$PG_TEST_PASSWORD" "$BACKUP_LOG" &&
	! grep -F -q "$reader_pw" "$BACKUP_LOG"
'

# A pg_dump that fails on its own after the data was written (post-data is
# collected last), or blocks until killed.
mkdir -p "$TRASH/failing" "$TRASH/blocking"
cat >"$TRASH/failing/pg_dump" <<EOF
#!/bin/sh
case "\$*" in
*--section=post-data*) echo "pg_dump: error: simulated failure" >&2; exit 1 ;;
esac
exec "$real_pg_dump" "\$@"
EOF
cat >"$TRASH/blocking/pg_dump" <<EOF
#!/bin/sh
# bk-export's version check first
[ "\$*" = --version ] && exec "$real_pg_dump" --version
echo \$\$ >"$TRASH/blocking.pid"
read x <"$TRASH/never.fifo"
EOF
chmod +x "$TRASH/failing/pg_dump" "$TRASH/blocking/pg_dump"
mkfifo "$TRASH/never.fifo"

test_expect_success 'pg_dump failing at the end: exit 1, its message, files removed' '
	mkdir given && echo mine >given/notes.txt &&
	PATH=$TRASH/failing:$PATH test_expect_code 1 bk-export -o given >out 2>err &&
	test ! -s out &&
	grep -q "ERROR bk-export\[[0-9]*\]: pg_dump --section=post-data failed (exit 1): pg_dump: error: simulated failure$" err &&
	grep -q "INFO bk-export\[[0-9]*\]: transfers.csv: " err &&
	echo notes.txt >expect && ls -A given >actual && test_cmp expect actual &&
	PATH=$TRASH/failing:$PATH test_expect_code 1 bk-export -o new/dir 2>err &&
	test_path_is_missing new/dir &&
	PATH=$TRASH/failing:$PATH test_expect_code 1 bk-export 2>err &&
	test -z "$(ls -A "$BACKUP_TMPDIR")"
'

test_expect_success 'pg_dump not installed: exit 1 with a hint, nothing left' '
	PATH=$BK_BUILD_DIR/bin test_expect_code 1 bk-export -o nodump >out 2>err &&
	grep -q "ERROR bk-export\[[0-9]*\]: cannot run pg_dump: No such file or directory$" err &&
	grep -q "hint: pg_dump .* must be on PATH" err &&
	test_path_is_missing nodump
'

test_expect_success 'SIGTERM: the export stops its pg_dump and removes its files' '
	{ PATH=$TRASH/blocking:$PATH bk-export -o term >out 2>err & } &&
	exporter=$! &&
	i=0 && until test -s blocking.pid; do
		i=$((i + 1)) && test $i -lt 600 && sleep 0.1
	done &&
	dump=$(cat blocking.pid) &&
	kill -TERM $exporter &&
	rc=0 && wait $exporter || rc=$? &&
	test $rc = 1 &&
	grep -q "ERROR bk-export\[[0-9]*\]: export interrupted by signal 15 (Terminated)$" err &&
	! kill -0 $dump 2>/dev/null &&
	test_path_is_missing term &&
	test ! -s out
'

test_done
