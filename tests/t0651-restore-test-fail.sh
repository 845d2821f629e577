#!/bin/bash
# A restore test that fails: the target server refuses CREATE DATABASE (a
# role without CREATEDB), or the archive's post-data cannot be applied (a
# hand-made schema-post.sql in an archive that verifies). Either way: the
# verified archive is kept, but no success status, a fail history line
# "restore-test: ...", an alert "restore test failed" with the error,
# .last_restore_test says fail, exit 1, and no scratch database is left.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-rtest.sh"
test_description 'restore test: failures are reported, the archive is kept'

rtest_prereq
pg_start && pg_load_fixture || exit 1
rtest_setup
pg_psql -d postgres -c "CREATE ROLE nocreate LOGIN PASSWORD 'nc-$RTEST_PASSWORD'" >/dev/null ||
	exit 1

# check_failed WHAT: the state after a run whose restore test failed with
# WHAT in its reason.
check_failed() {
	local n
	n=$(ls "$BACKUP_DIR"/critical_backup_*.tar.gz | wc -l) &&
	test "$n" = "$(cat expect_archives)" &&
	bk-verify "$(ls "$BACKUP_DIR"/critical_backup_*.tar.gz | tail -n 1)" >/dev/null &&
	tail -n 1 "$BACKUP_DIR/.backup_history" >last &&
	IFS="	" read -r epoch result bytes secs file reason <last &&
	test "$result" = fail &&
	case $reason in "restore-test: "*"$1"*) ;; *) echo "reason: $reason"; false ;; esac &&
	IFS="	" read -r tepoch tresult tsecs treason <"$BACKUP_DIR/.last_restore_test" &&
	test "$tepoch" = "$epoch" && test "$tresult" = fail &&
	case $treason in *"$1"*) ;; *) false ;; esac &&
	rtest_last_mail >mail &&
	grep -q "^Subject: \[bk\] ALERT: restore test failed; the backup is kept but not proven to restore$" mail &&
	grep -qF "$1" mail &&
	test "$(rtest_scratch_dbs)" = ""
}

test_expect_success 'a first good run (status files to compare with)' '
	bk-run >/dev/null 2>err &&
	cp "$BACKUP_DIR/.last_backup_success" success_before &&
	echo 2 >expect_archives
'

test_expect_success 'a role without CREATEDB: exit 1' '
	rtest_next_second &&
	BACKUP_RESTORE_TEST=1 BACKUP_RESTORE_TEST_URL=$(rtest_url nocreate "nc-$RTEST_PASSWORD") \
		test_expect_code 1 bk-run >out 2>err
'

test_expect_success '... the archive kept, history, .last_restore_test, alert' '
	check_failed "cannot create the scratch database bk_restore_test_$(rtest_hash)_" &&
	grep -q "permission denied to create database" last &&
	grep -q "CREATEDB" mail &&
	test_cmp success_before "$BACKUP_DIR/.last_backup_success"
'

test_expect_success '... and no password in the log, history or mail' '
	! grep -rqF "$RTEST_PASSWORD" "$BACKUP_LOG" "$BACKUP_MAIL_OUTBOX" "$BACKUP_DIR"
'

cat >bad-post.sql <<'SQL'

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_never_check CHECK (email = '');
SQL

test_expect_success 'an archive whose post-data fails: it verifies, the run exits 1' '
	rtest_fakebin_post "$TRASH/bad-post.sql" &&
	rtest_next_second &&
	echo 3 >expect_archives &&
	BACKUP_RESTORE_TEST=1 BACKUP_RESTORE_TEST_URL=$(rtest_url) \
		test_expect_code 1 "$TRASH/fakebin/bk-run" >out 2>err &&
	tar -xzOf "$(ls "$BACKUP_DIR"/critical_backup_*.tar.gz | tail -n 1)" schema-post.sql |
		grep -q users_never_check
'

test_expect_success '... reported: the constraint violated, the archive kept' '
	check_failed "users_never_check" &&
	test_cmp success_before "$BACKUP_DIR/.last_backup_success"
'

test_expect_success 'the next good run is fine again and its test passes' '
	rtest_next_second &&
	echo 4 >expect_archives &&
	BACKUP_RESTORE_TEST=1 BACKUP_RESTORE_TEST_URL=$(rtest_url) bk-run >out 2>err &&
	tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f2 | grep -qx ok &&
	cut -f2 "$BACKUP_DIR/.last_restore_test" | grep -qx ok
'

test_done
