#!/bin/bash
# The content check catches a row altered after load, which row counts,
# constraints and sequences do not: a trigger that the scratch database
# inherits from template1 changes one column of one users row as COPY loads
# it (round-1 fixture, a .sql COPY block member).
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-rtest.sh"
test_description 'restore test: the content check catches an altered row'

rtest_prereq
pg_start && pg_load_fixture || exit 1
rtest_setup

test_expect_success 'a trigger in template1 alters one users row as it loads' '
	rtest_tamper users "NEW.name := coalesce(NEW.name, '\'''\'') || '\'' (altered)'\''"
'

test_expect_success 'the restore test fails on the content, exit 1' '
	BACKUP_RESTORE_TEST=1 BACKUP_RESTORE_TEST_URL=$(rtest_url) \
		test_expect_code 1 bk-run >out 2>err &&
	tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f2,6 >last &&
	printf "fail\trestore-test: public.users: the restored rows differ from those of users.sql (same count, %s, different content digest) (the archive %s is kept)\n" \
		"$(pg_query "SELECT count(*) FROM users")" \
		"$(basename "$(ls "$BACKUP_DIR"/critical_backup_*.tar.gz)")" >expect &&
	test_cmp expect last &&
	cut -f2 "$BACKUP_DIR/.last_restore_test" | grep -qx fail &&
	rtest_last_mail >mail &&
	grep -q "restore test failed" mail &&
	test "$(rtest_scratch_dbs)" = ""
'

test_expect_success 'the source database is untouched' '
	test "$(pg_query "SELECT count(*) FROM users WHERE name LIKE '\''%(altered)'\''")" = 0
'

test_expect_success 'without the trigger the same check passes' '
	rtest_untamper &&
	rtest_next_second &&
	BACKUP_RESTORE_TEST=1 BACKUP_RESTORE_TEST_URL=$(rtest_url) bk-run >out 2>err &&
	cut -f2 "$BACKUP_DIR/.last_restore_test" | grep -qx ok
'

test_done
