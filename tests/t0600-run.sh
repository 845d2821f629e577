#!/bin/bash
# bk-run end to end against a real PostgreSQL: the archive, status files and
# history after a good run; the lock; a failed step leaves no archive, no
# success status, a fail history line; leftovers of dead runs are cleaned.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'bk-run, the nightly pipeline'

test_need_programs bk-export bk-pack bk-verify bk-prune
pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0
mkdir -p "$BACKUP_CONFIG_DIR/ssl"
echo "DATABASE_URL=postgres://app@db/app" >"$BACKUP_CONFIG_DIR/.env.production"
echo "services: {}" >"$BACKUP_CONFIG_DIR/docker-compose.prod.yml"
echo "events {}" >"$BACKUP_CONFIG_DIR/nginx.prod.conf"
echo "CERT" >"$BACKUP_CONFIG_DIR/ssl/cert.pem"
echo "KEY" >"$BACKUP_CONFIG_DIR/ssl/key.pem"

# A temp dir of this installation: "bk-run." + 8 hex digits of the SHA-256
# of BACKUP_DIR's real path + "." + 6 characters.
mkdir -p "$BACKUP_DIR"
dead_tmp=$BACKUP_TMPDIR/bk-run.$(printf %s "$(realpath "$BACKUP_DIR")" | sha256sum | cut -c1-8).Ab12Cd

test_expect_success 'leftovers of a dead run exist before the run' '
	mkdir -p "$BACKUP_DIR/.incoming" "$dead_tmp" &&
	echo partial >"$BACKUP_DIR/.incoming/critical_backup_20200101_000000.tar.gz" &&
	echo partial >"$BACKUP_DIR/.critical_backup_20200101_000000.tar.gz.tmp.XyZ123"
'

test_expect_success 'a run prints the verified archive path and exits 0' '
	bk-run --no-mail >path 2>err &&
	test $(wc -l <path) = 1 &&
	archive=$(cat path) &&
	case $archive in "$BACKUP_DIR"/critical_backup_[0-9]*_[0-9]*.tar.gz) ;; *) false ;; esac &&
	test -f "$archive" &&
	bk-verify "$archive" >/dev/null
'

test_expect_success 'archive mode 0600 in a 0700 directory' '
	test "$(stat -c %a "$(cat path)")" = 600 &&
	test "$(stat -c %a "$BACKUP_DIR")" = 700
'

test_expect_success 'status files say when and how big' '
	now=$(date +%s) &&
	last=$(cat "$BACKUP_DIR/.last_backup_success") &&
	test $((now - last)) -ge 0 && test $((now - last)) -lt 600 &&
	size=$(stat -c %s "$(cat path)") &&
	echo $(( (size + 1048575) / 1048576 )) >expect &&
	test_cmp expect "$BACKUP_DIR/.last_backup_size_mb"
'

test_expect_success 'the history has one ok line naming the archive and its size' '
	test $(wc -l <"$BACKUP_DIR/.backup_history") = 1 &&
	IFS="	" read -r epoch result bytes secs file reason <"$BACKUP_DIR/.backup_history" &&
	test "$result" = ok &&
	test "$bytes" = "$(stat -c %s "$(cat path)")" &&
	test "$file" = "$(basename "$(cat path)")" &&
	test "$epoch" = "$(cat "$BACKUP_DIR/.last_backup_success")"
'

test_expect_success 'the log has each step with its time' '
	grep -q "INFO bk-run\[[0-9]*\]: step export done in [0-9.]* s" "$BACKUP_LOG" &&
	grep -q "INFO bk-run\[[0-9]*\]: step pack done in [0-9.]* s" "$BACKUP_LOG" &&
	grep -q "INFO bk-run\[[0-9]*\]: step verify done in [0-9.]* s" "$BACKUP_LOG"
'

test_expect_success 'temp dirs and leftovers of the dead run are gone' '
	test_path_is_missing "$dead_tmp" &&
	test_path_is_missing "$BACKUP_DIR/.critical_backup_20200101_000000.tar.gz.tmp.XyZ123" &&
	test_path_is_missing "$BACKUP_DIR/.incoming" &&
	test -z "$(ls -A "$BACKUP_TMPDIR")"
'

test_expect_success 'the database password is in no log line and no output' '
	! grep -F -q "$PG_TEST_PASSWORD" "$BACKUP_LOG" err path
'

test_expect_success 'the archive holds the layout of DESIGN.md' '
	tar -tzf "$(cat path)" >members &&
	head -n 1 members >first && echo MANIFEST >expect && test_cmp expect first &&
	for m in BACKUP_INFO.txt schema.sql schema-post.sql users.sql organization.sql \
		config.sql credit_transactions.csv point_transactions.csv purchases.csv \
		transfers.csv .env.production docker-compose.prod.yml nginx.prod.conf \
		ssl/cert.pem ssl/key.pem; do
		grep -qx "$m" members || { echo "missing $m"; false; }
	done
'

test_expect_success 'a second run while the lock is held exits 1 and records nothing' '
	cp "$BACKUP_DIR/.backup_history" history.before &&
	test_expect_code 1 flock "$BACKUP_DIR/.lock" bk-run --no-mail >out 2>err.lock &&
	grep -q "another backup is running" err.lock &&
	test ! -s out &&
	test_cmp history.before "$BACKUP_DIR/.backup_history"
'

test_expect_success 'two runs back to back both succeed with archives of their own' '
	bk-run --no-mail >p1 2>/dev/null &&
	bk-run --no-mail >p2 2>/dev/null &&
	! test_cmp p1 p2 >/dev/null &&
	test -f "$(cat p1)" && test -f "$(cat p2)"
'

# A copy of bin/ whose bk-verify rejects everything: the run must fail at
# verification and leave nothing under a final name.
test_expect_success 'a failed verification leaves no archive and no success status' '
	mkdir fakebin && cp "$BK_BUILD_DIR"/bin/* fakebin/ &&
	printf "#!/bin/sh\necho \"2026-01-01T00:00:00+00:00 ERROR bk-verify[1]: member users.sql: sha256 mismatch\" >&2\nexit 1\n" >fakebin/bk-verify &&
	ls "$BACKUP_DIR"/critical_backup_*.tar.gz >archives.before &&
	cp "$BACKUP_DIR/.last_backup_success" success.before &&
	test_expect_code 1 fakebin/bk-run --no-mail >out 2>err &&
	test ! -s out &&
	ls "$BACKUP_DIR"/critical_backup_*.tar.gz >archives.after &&
	test_cmp archives.before archives.after &&
	test_cmp success.before "$BACKUP_DIR/.last_backup_success" &&
	tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f 2,6 >actual &&
	printf "fail\tverify: member users.sql: sha256 mismatch\n" >expect &&
	test_cmp expect actual &&
	test -z "$(ls -A "$BACKUP_DIR/.incoming" 2>/dev/null)"
'

test_expect_success 'database down: exit 1, fail history line naming the connection' '
	pg_stop &&
	cp "$BACKUP_DIR/.last_backup_success" success.before &&
	test_expect_code 1 bk-run --no-mail >out 2>err &&
	test ! -s out &&
	tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f 2,6 >actual &&
	grep -q "^fail	export: cannot connect to 127.0.0.1:$POSTGRES_PORT as postgres" actual &&
	test_cmp success.before "$BACKUP_DIR/.last_backup_success" &&
	test -z "$(ls -A "$BACKUP_TMPDIR")" &&
	! grep -F -q "$PG_TEST_PASSWORD" "$BACKUP_LOG" err
'

test_done
