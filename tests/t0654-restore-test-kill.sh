#!/bin/bash
# bk-run killed (SIGKILL) in the middle of its restore test leaves a scratch
# database behind; the next run drops it by name -- only its own
# installation's (its hash): another installation's is left alone, and so
# is one whose run is alive (it holds the name's advisory lock). A
# half-written .last_restore_test of the killed run goes too.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-fault.sh"
. "$TEST_DIRECTORY/lib-rtest.sh"
test_description 'restore test: kill -9, then the next run cleans up'

rtest_prereq
pg_start && pg_load_fixture || exit 1
rtest_setup
hash=$(rtest_hash)
other=00000000
[ "$hash" = "$other" ] && other=11111111

# The gate: creating a table in a scratch database waits (pg_sleep) until
# the session is terminated; bk-run is killed meanwhile.
pg_psql -d template1 >/dev/null <<'SQL' || exit 1
CREATE FUNCTION public.rtest_gate() RETURNS event_trigger LANGUAGE plpgsql AS $f$
BEGIN
	IF current_database() LIKE 'bk\_restore\_test\_%' THEN
		PERFORM pg_sleep(3600);
	END IF;
END $f$;
CREATE EVENT TRIGGER rtest_gate ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
	EXECUTE FUNCTION public.rtest_gate();
SQL

scratch_waiting() {
	fault_sql_true "SELECT count(*) > 0 FROM pg_stat_activity
		WHERE datname LIKE 'bk\\_restore\\_test\\_%' AND wait_event = 'PgSleep'"
}

test_expect_success 'bk-run stopped at the gate inside its restore test, then killed' '
	(BACKUP_RESTORE_TEST=1 BACKUP_RESTORE_TEST_URL=$(rtest_url) \
		exec "$BK_BUILD_DIR/bin/bk-run" >out 2>err) &
	pid=$! &&
	fault_poll scratch_waiting &&
	kill -9 "$pid" &&
	{ wait "$pid" || :; } &&
	rtest_scratch_dbs >left &&
	test $(wc -l <left) = 1 &&
	grep -q "^bk_restore_test_${hash}_[0-9]*\$" left
'

test_expect_success 'another installation'\''s scratch database, and a live run'\''s' '
	echo partial >"$BACKUP_DIR/..last_restore_test.tmp.XyZ123" &&
	pg_psql -d postgres -c "CREATE DATABASE bk_restore_test_${other}_1700000000 OWNER rtest" \
		-c "CREATE DATABASE bk_restore_test_${hash}_1700000001 OWNER rtest" &&
	(PGAPPNAME=rtest-holder pg_psql -d postgres \
		-c "SELECT pg_advisory_lock(1651208820, hashtext('\''bk_restore_test_${hash}_1700000001'\''))" \
		-c "SELECT pg_sleep(3600)" >/dev/null 2>&1 &) &&
	fault_poll fault_sql_true "SELECT count(*) > 0 FROM pg_stat_activity
		WHERE application_name = '\''rtest-holder'\'' AND wait_event = '\''PgSleep'\''"
'

test_expect_success 'the next run drops only the dead run'\''s scratch database' '
	pg_psql -d template1 -c "DROP EVENT TRIGGER rtest_gate" &&
	killed=$(cat left) &&
	BACKUP_RESTORE_TEST=1 BACKUP_RESTORE_TEST_URL=$(rtest_url) bk-run >out 2>err &&
	grep -q "dropping scratch database $killed left by an interrupted run" "$BACKUP_LOG" &&
	grep -q "keeping scratch database bk_restore_test_${hash}_1700000001: a running restore test holds it" "$BACKUP_LOG" &&
	printf "%s\n" "bk_restore_test_${other}_1700000000" "bk_restore_test_${hash}_1700000001" |
		sort >expect &&
	rtest_scratch_dbs | sort >actual &&
	test_cmp expect actual &&
	cut -f2 "$BACKUP_DIR/.last_restore_test" | grep -qx ok &&
	test_path_is_missing "$BACKUP_DIR/..last_restore_test.tmp.XyZ123"
'

test_expect_success 'the killed run'\''s sessions are gone with its database' '
	fault_poll fault_sql_true "SELECT count(*) = 0 FROM pg_stat_activity
		WHERE datname = '\''$(cat left)'\''"
'

test_expect_success 'once the live run has gone, its leftover is dropped too' '
	pg_query "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = '\''rtest-holder'\''" >/dev/null &&
	fault_poll fault_sql_true "SELECT count(*) = 0 FROM pg_stat_activity
		WHERE application_name = '\''rtest-holder'\''" &&
	rtest_next_second &&
	BACKUP_RESTORE_TEST=1 BACKUP_RESTORE_TEST_URL=$(rtest_url) bk-run >out 2>err &&
	echo "bk_restore_test_${other}_1700000000" >expect &&
	rtest_scratch_dbs >actual &&
	test_cmp expect actual
'

test_done
