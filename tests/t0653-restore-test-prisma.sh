#!/bin/bash
# The restore test on the Prisma-style fixture (mixed-case and partitioned
# tables, CSV windows with their closure rows, identity and serial columns):
# it passes and says how many tables it proved; then a trigger that alters
# one row of a windowed CSV table (credit_transactions) as it loads is
# caught by the content check.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-rtest.sh"
test_description 'restore test: the Prisma-style fixture'

rtest_prereq
pg_start && pg_load_prisma_fixture || exit 1
rtest_setup

test_expect_success 'the restore test passes on every table of the archive' '
	BACKUP_RESTORE_TEST=1 BACKUP_RESTORE_TEST_URL=$(rtest_url) bk-run >path 2>err &&
	n=$(tar -xzOf "$(cat path)" MANIFEST | grep -c "^# table: ") &&
	grep -q "restore test: $n tables equal to the archive row for row, [1-9][0-9]* constraints and indexes valid, [1-9][0-9]* sequences ahead of their columns" "$BACKUP_LOG" &&
	cut -f2 "$BACKUP_DIR/.last_restore_test" | grep -qx ok &&
	rtest_last_mail >mail &&
	grep -q "^Restore-tested  *OK in [0-9.]* s into 127.0.0.1:$POSTGRES_PORT/bk_restore_test_" mail &&
	test "$(rtest_scratch_dbs)" = ""
'

test_expect_success 'a credit_transactions row altered as it loads is caught' '
	tar -xzOf "$(cat path)" MANIFEST | grep -q " credit_transactions.csv$" &&
	rtest_tamper credit_transactions "NEW.amount := NEW.amount + 0.01" &&
	rtest_next_second &&
	BACKUP_RESTORE_TEST=1 BACKUP_RESTORE_TEST_URL=$(rtest_url) \
		test_expect_code 1 bk-run >out 2>err &&
	tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f6 >reason &&
	grep -q "^restore-test: public.credit_transactions: the restored rows differ from those of credit_transactions.csv (same count, [0-9]*, different content digest)" reason &&
	test "$(rtest_scratch_dbs)" = ""
'

test_done
