#!/bin/bash
# The restore test's URL is a secret: read from BACKUP_RESTORE_TEST_URL_FILE
# too, never in the environment of bk-run's children, the log, the history,
# .last_restore_test or the mail, even when the connection fails. Without a
# URL the backed-up server's connection is used.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-rtest.sh"
test_description 'restore test: the URL is a secret; the default connection'

rtest_prereq
pg_start && pg_load_fixture || exit 1
rtest_setup

# bk-run starts the tools beside its own executable: shims there record their
# environment as the kernel shows it, then run the tool.
mkdir -p "$TRASH/fake"
cp "$BK_BUILD_DIR/bin/bk-run" "$TRASH/fake/"
for p in bk-export bk-pack bk-verify bk-mail bk-prune; do
	cat >"$TRASH/fake/$p" <<-EOF
	#!/bin/sh
	tr '\0' '\n' </proc/\$\$/environ >>"$TRASH/env.$p"
	exec "$BK_BUILD_DIR/bin/$p" "\$@"
	EOF
	chmod +x "$TRASH/fake/$p"
done

test_expect_success 'the URL from BACKUP_RESTORE_TEST_URL_FILE: the test passes' '
	(umask 077 && rtest_url >url.file) &&
	BACKUP_RESTORE_TEST=1 BACKUP_RESTORE_TEST_URL_FILE=$TRASH/url.file \
		fake/bk-run >path 2>err &&
	cut -f2 "$BACKUP_DIR/.last_restore_test" | grep -qx ok &&
	grep -q "restore test: into 127.0.0.1:$POSTGRES_PORT/bk_restore_test_" "$BACKUP_LOG"
'

test_expect_success 'a wrong password: the test fails, the password is nowhere' '
	rtest_next_second &&
	(umask 077 && rtest_url rtest "wrong-$RTEST_PASSWORD" >url.file) &&
	BACKUP_RESTORE_TEST=1 BACKUP_RESTORE_TEST_URL_FILE=$TRASH/url.file \
		test_expect_code 1 fake/bk-run >path 2>err &&
	tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f6 >reason &&
	grep -q "^restore-test: cannot connect to 127.0.0.1:$POSTGRES_PORT as rtest: password authentication failed" reason
'

test_expect_success 'no child of bk-run holds the URL' '
	for p in bk-export bk-pack bk-verify bk-mail; do
		test -s env.$p || return 1
		! grep -e "^BACKUP_RESTORE_TEST_URL" -e "$RTEST_PASSWORD" env.$p || return 1
	done
'

test_expect_success 'no password in the log, status files or mail' '
	! grep -rqF -e "$RTEST_PASSWORD" "$BACKUP_LOG" "$BACKUP_DIR" "$BACKUP_MAIL_OUTBOX" err
'

test_expect_success 'without a URL: the backed-up server'\''s connection' '
	rtest_next_second &&
	BACKUP_RESTORE_TEST=1 bk-run >path 2>err &&
	cut -f2 "$BACKUP_DIR/.last_restore_test" | grep -qx ok &&
	rtest_last_mail >mail &&
	grep -q "^Restore-tested  *OK in [0-9.]* s into $POSTGRES_HOST:$POSTGRES_PORT/bk_restore_test_$(rtest_hash)_" mail &&
	test "$(rtest_scratch_dbs)" = ""
'

test_done
