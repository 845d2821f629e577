#!/bin/bash
# bk-run's restore test on the round-1 fixture: the archive is restored into
# a scratch database on BACKUP_RESTORE_TEST_URL's server and proved; the
# mail, the history and .last_restore_test say so; the scratch database is
# gone afterwards; BACKUP_RESTORE_TEST_EVERY_DAYS skips a recent test; a
# bad value is exit 2 naming the variable.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-rtest.sh"
test_description 'restore test: success path, schedule, configuration'

rtest_prereq
pg_start && pg_load_fixture || exit 1
rtest_setup

test_expect_success 'a bad BACKUP_RESTORE_TEST is exit 2 naming it' '
	test_expect_code 2 env BACKUP_RESTORE_TEST=maybe bk-run 2>err &&
	grep -q "BACKUP_RESTORE_TEST: .maybe. is not 0 or 1" err &&
	test_expect_code 2 env BACKUP_RESTORE_TEST_EVERY_DAYS=-1 bk-run 2>err &&
	grep -q "BACKUP_RESTORE_TEST_EVERY_DAYS: -1 is out of range" err &&
	test_expect_code 2 env BACKUP_RESTORE_TEST_URL="nosuchkey=1" bk-run 2>err &&
	grep -q "BACKUP_RESTORE_TEST_URL: not a valid connection" err &&
	test_path_is_missing "$BACKUP_DIR/.backup_history"
'

test_expect_success 'a run with the restore test succeeds and says so' '
	BACKUP_RESTORE_TEST=1 BACKUP_RESTORE_TEST_URL=$(rtest_url) bk-run >path 2>err &&
	archive=$(cat path) && test -f "$archive" &&
	grep -q "step restore-test done in [0-9.]* s" "$BACKUP_LOG" &&
	grep -q "restore test: [0-9]* tables equal to the archive row for row" "$BACKUP_LOG"
'

test_expect_success 'the history line is ok and names the restore test' '
	IFS="	" read -r epoch result bytes secs file reason <"$BACKUP_DIR/.backup_history" &&
	test "$result" = ok && test "$file" = "$(basename "$(cat path)")" &&
	case $reason in "restore-tested OK in "*" s") ;; *) false ;; esac
'

test_expect_success '.last_restore_test: epoch, ok, seconds, "-"' '
	test $(wc -l <"$BACKUP_DIR/.last_restore_test") = 1 &&
	IFS="	" read -r epoch rest <"$BACKUP_DIR/.backup_history" &&
	IFS="	" read -r tepoch tresult tsecs treason <"$BACKUP_DIR/.last_restore_test" &&
	test "$tepoch" = "$epoch" && test "$tresult" = ok && test "$treason" = - &&
	case $tsecs in [0-9]*.[0-9]) ;; *) false ;; esac &&
	test "$(stat -c %a "$BACKUP_DIR/.last_restore_test")" = 600
'

test_expect_success 'the mail summary has the restore-tested line' '
	IFS="	" read -r epoch rest <"$BACKUP_DIR/.backup_history" &&
	rtest_last_mail >mail &&
	grep -E "^Restore-tested +OK in [0-9.]+ s into 127\.0\.0\.1:$POSTGRES_PORT/bk_restore_test_$(rtest_hash)_$epoch\$" mail
'

test_expect_success 'the scratch database is gone, the source untouched' '
	test "$(rtest_scratch_dbs)" = "" &&
	test "$(pg_query "SELECT count(*) FROM pg_database WHERE datname = '\''smart_ai_hub'\''")" = 1
'

test_expect_success 'no password of the test URL in the log or the mail' '
	! grep -rqF "$RTEST_PASSWORD" "$BACKUP_LOG" "$BACKUP_MAIL_OUTBOX" "$BACKUP_DIR"
'

test_expect_success 'EVERY_DAYS: a recent good test is not repeated, the mail says why' '
	rtest_next_second &&
	cp "$BACKUP_DIR/.last_restore_test" before &&
	BACKUP_RESTORE_TEST=1 BACKUP_RESTORE_TEST_EVERY_DAYS=7 \
		BACKUP_RESTORE_TEST_URL=$(rtest_url) bk-run >path2 2>err &&
	test_cmp before "$BACKUP_DIR/.last_restore_test" &&
	grep -q "restore test: not this run: last tested OK" "$BACKUP_LOG" &&
	rtest_last_mail >mail &&
	grep -q "^Restore-tested .*not this run: last tested OK .*(BACKUP_RESTORE_TEST_EVERY_DAYS=7)\$" mail &&
	tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f2 | grep -qx ok
'

test_expect_success 'EVERY_DAYS: a test older than that runs again' '
	rtest_next_second &&
	old=$(( $(date +%s) - 8 * 86400 )) &&
	printf "%s\tok\t1.0\t-\n" "$old" >"$BACKUP_DIR/.last_restore_test" &&
	BACKUP_RESTORE_TEST=1 BACKUP_RESTORE_TEST_EVERY_DAYS=7 \
		BACKUP_RESTORE_TEST_URL=$(rtest_url) bk-run >path3 2>err &&
	IFS="	" read -r tepoch3 tresult3 rest <"$BACKUP_DIR/.last_restore_test" &&
	test "$tepoch3" -gt "$old" && test "$tresult3" = ok
'

test_expect_success 'without BACKUP_RESTORE_TEST nothing is tested, no line in the mail' '
	rtest_next_second &&
	cp "$BACKUP_DIR/.last_restore_test" before &&
	bk-run >path4 2>err &&
	test_cmp before "$BACKUP_DIR/.last_restore_test" &&
	rtest_last_mail >mail &&
	grep -q "^Subject: \[bk\] Backup OK" mail &&
	! grep -q "Restore-tested" mail
'

test_done
