#!/bin/bash
# The test library itself: TAP output, failure detection, the scrubbed
# environment, and the throwaway PostgreSQL with the fixture loaded.

. "$(dirname "$0")/lib.sh"
test_description 'test library and PostgreSQL fixture'

# Run a small script that uses lib.sh, with the caller's environment.
run_sub() {
	cat >"$TRASH/sub.sh" <<-EOF
	. "$TEST_DIRECTORY/lib.sh"
	$1
	EOF
	bash "$TRASH/sub.sh" >"$TRASH/sub.out" 2>"$TRASH/sub.err"
}

test_expect_success 'a passing and a failing test give TAP and exit 1' '
	test_expect_code 1 run_sub "
		test_expect_success \"good\" \"true\"
		test_expect_success \"bad\" \"false\"
		test_done" &&
	grep -v "^#" sub.out >actual &&
	printf "%s\n" "ok 1 - good" "not ok 2 - bad" "1..2" >expect &&
	test_cmp expect actual
'

test_expect_success 'a failing command in the middle of a body fails it' '
	test_expect_code 1 run_sub "
		test_expect_success \"mid\" \"false; true\"
		test_done" &&
	grep "^not ok 1 - mid" sub.out
'

test_expect_success 'test_skip_all prints a skip plan and exits 0' '
	run_sub "test_skip_all \"no server\"" &&
	echo "1..0 # SKIP no server" >expect &&
	test_cmp expect sub.out
'

test_expect_success 'test_must_fail and test_expect_code' '
	test_must_fail false &&
	test_expect_code 1 test_must_fail true &&
	test_expect_code 1 test_must_fail sh -c "kill -TERM \$\$" &&
	test_expect_code 1 test_must_fail no-such-command-bk &&
	test_expect_code 3 sh -c "exit 3" &&
	test_expect_code 1 test_expect_code 3 true
'

test_expect_success 'inherited configuration is scrubbed' '
	PGPASSWORD=x PGHOST=x POSTGRES_PASSWORD=x BACKUP_DIR=/nonexistent \
	DATABASE_URL=x SMTP_HOST=x ADMIN_EMAILS=x run_sub "
		env | grep -E \"^(PG|POSTGRES_|BACKUP_[A-Z]*=/non|DATABASE_URL|SMTP_|ADMIN)\" || :
		echo \"\$BACKUP_DIR\"" &&
	test "$(wc -l <sub.out)" = 1 &&
	grep "/bk-test\.sub\.[^/]*/backups\$" sub.out
'

test_expect_success 'scratch directory and variables' '
	test_path_is_dir "$TRASH" &&
	test_path_is_dir "$BACKUP_TMPDIR" &&
	test "$BACKUP_LOG" = "$TRASH/backup.log" &&
	test "$BACKUP_DIR" = "$TRASH/backups" &&
	test "$BACKUP_CONFIG_DIR" = "$TRASH/config" &&
	case ":$PATH:" in *":$BK_BUILD_DIR/bin:"*) ;; *) false ;; esac
'

test_expect_success 'scratch directory is removed, servers stopped at exit' '
	if ! test -x "${BK_TEST_PG_BINDIR:-/usr/lib/postgresql/15/bin}/initdb"; then exit 0; fi &&
	BK_TEST_KEEP=1 BK_TEST_TMPDIR=$TRASH run_sub "
		. \"$TEST_DIRECTORY/lib-pg.sh\"
		pg_start
		echo \"\$PG_TEST_DATA\"" &&
	data=$(tail -n 1 sub.out) &&
	test_path_is_dir "$data" &&
	test_path_is_missing "$data/postmaster.pid" &&
	rm -rf "$(dirname "$(dirname "$data")")" &&
	run_sub "echo \"\$TRASH\"" &&
	test_path_is_missing "$(cat sub.out)"
'

. "$TEST_DIRECTORY/lib-pg.sh"
pg_start

test_expect_success 'server is up on loopback with a password' '
	test "$POSTGRES_HOST" = 127.0.0.1 &&
	test -n "$POSTGRES_PORT" &&
	case $POSTGRES_PASSWORD in s3cr3t-?*) ;; *) false ;; esac &&
	test "$POSTGRES_PASSWORD" = "$PG_TEST_PASSWORD" &&
	test -z "${PGPASSWORD+set}" &&
	echo "127.0.0.1|scram-sha-256|smart_ai_hub" >expect &&
	pg_psql -At >actual <<-\EOF &&
	SELECT current_setting($$listen_addresses$$),
		current_setting($$password_encryption$$), current_database();
	EOF
	test_cmp expect actual
'

test_expect_success 'a wrong password is refused' '
	test_must_fail env PGPASSWORD=wrong "$PG_BINDIR/psql" -X -h 127.0.0.1 \
		-p "$POSTGRES_PORT" -U postgres -d smart_ai_hub -c "SELECT 1"
'

test_expect_success 'fixture loads' '
	pg_load_fixture
'

test_expect_success 'row counts match expected-counts.txt' '
	grep -v "^#" "$FIXTURES/expected-counts.txt" >expect &&
	while read -r t total window; do
		q="SELECT count(*) FROM \"$t\""
		n=$(pg_query "$q")
		if test "$window" != -; then
			window=$(pg_query "$q WHERE created_at >= now() - interval ${SQ}3 months${SQ}")
		fi
		echo "$t $n $window"
	done <expect >actual &&
	test_cmp expect actual
'

test_expect_success 'the fixture lists every table there is' '
	pg_psql -At >actual <<-\EOF &&
	SELECT relname FROM pg_class WHERE relkind = $$r$$
		AND relnamespace = $$public$$::regnamespace ORDER BY 1;
	EOF
	grep -v "^#" "$FIXTURES/expected-counts.txt" | cut -d" " -f1 | sort >expect &&
	sort actual >actual.sorted &&
	test_cmp expect actual.sorted
'

test_expect_success 'pg_expected_count' '
	test "$(pg_expected_count users)" = 200 &&
	test "$(pg_expected_count purchases window)" = 100 &&
	test_must_fail pg_expected_count no_such_table
'

test_expect_success 'awkward values survive: NULL vs empty, bytea zeros, Thai' '
	printf "%s\n" "t|t|t|t|สวัสดี" >expect &&
	pg_psql -At >actual <<-\EOF &&
	SELECT
		(SELECT name IS NULL FROM users WHERE id = md5($$user-1$$)::uuid),
		(SELECT name = $$$$ FROM users WHERE id = md5($$user-2$$)::uuid),
		(SELECT position($$\x00$$::bytea IN avatar) = 1 FROM users
			WHERE id = md5($$user-5$$)::uuid),
		(SELECT description = $$\.$$ FROM credit_transactions WHERE id = 1),
		(SELECT metadata->>$$th$$ FROM users WHERE id = md5($$user-3$$)::uuid);
	EOF
	test_cmp expect actual
'

test_expect_success 'read-only role can read but not write' '
	pg_create_readonly_role bk_reader "reader-pw" &&
	PGPASSWORD=reader-pw "$PG_BINDIR/psql" -X -At -h 127.0.0.1 -p "$POSTGRES_PORT" \
		-U bk_reader -d smart_ai_hub -c "SELECT count(*) FROM users" >actual &&
	echo 200 >expect &&
	test_cmp expect actual &&
	test_must_fail env PGPASSWORD=reader-pw "$PG_BINDIR/psql" -X -q -h 127.0.0.1 \
		-p "$POSTGRES_PORT" -U bk_reader -d smart_ai_hub \
		-c "DELETE FROM sessions" 2>err &&
	grep "permission denied" err
'

test_done
