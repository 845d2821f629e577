#!/bin/bash
# The database goes away in the middle of the export: while bk-export reads a
# large table with COPY, the server is stopped at once (pg_ctl -m immediate)
# and started again. The run fails with a clear message, a fail history
# line and an alert; nothing is recorded as success and no archive appears.
#
# The COPY is caught by a loop inside the server that polls pg_stat_activity
# every millisecond; bk-export is then stopped with SIGSTOP so that the COPY
# stays in the middle of the table (the server waits to send the rest), and
# the test checks that it does before it stops the server.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-fault.sh"
test_description 'the database stopped and restarted during COPY'

test_need_programs bk-run bk-export bk-pack bk-verify bk-mail
pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0
export ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com
export BACKUP_MAIL_OUTBOX=$TRASH/outbox
mkdir -p "$BACKUP_MAIL_OUTBOX" "$BACKUP_CONFIG_DIR"
echo "services: {}" >"$BACKUP_CONFIG_DIR/docker-compose.prod.yml"
test_atexit 'for p in $(fault_procs); do kill -CONT $p; kill -9 $p; done'

# 400k rows, about 40 MB as CSV: far more than the socket buffers hold, so
# a stopped reader keeps the server's COPY in the middle.
test_expect_success 'setup: a large table in the scope, a first good run' '
	pg_psql <<-\EOF &&
	CREATE TABLE big (id bigint PRIMARY KEY, created_at timestamptz NOT NULL,
		payload text NOT NULL);
	INSERT INTO big SELECT g, now() - (g % 60) * interval $$1 day$$,
		repeat(md5(g::text), 3) FROM generate_series(1, 400000) g;
	EOF
	printf "%s\n" "users.sql users" "big.csv big since=created_at:3 months" >scope &&
	BACKUP_SCOPE=$TRASH/scope fault_run >path &&
	bk-verify "$(cat path)" >/dev/null
'

pg_crash() {
	_pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TEST_DATA" -m immediate -w stop >/dev/null
}
pg_restart() {
	_pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TEST_DATA" -l "$PG_TEST_LOG" -w start >/dev/null &&
	fault_poll "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT" -t 1
}

copy_active() {
	fault_sql_true "SELECT count(*) = 1 FROM pg_stat_activity
		WHERE application_name = 'bk-export' AND state = 'active'
		AND query LIKE 'COPY %big%'"
}

test_expect_success 'the server stopped and started again during COPY: the run fails' '
	export BACKUP_SCOPE=$TRASH/scope &&
	fault_next_second &&
	fault_snapshot before &&
	lines=$(wc -l <"$BACKUP_DIR/.backup_history") &&
	ls "$BACKUP_MAIL_OUTBOX" >mails.before &&
	fault_start &&
	exp=$(fault_child $FAULT_PID bk-export) &&
	pg_psql -d postgres -c "SET statement_timeout = ${SQ}60s$SQ" -f - <<-\EOF &&
	DO $$
	BEGIN
		LOOP
			PERFORM pg_catalog.pg_stat_clear_snapshot();
			EXIT WHEN EXISTS (SELECT FROM pg_catalog.pg_stat_activity
				WHERE application_name = $q$bk-export$q$ AND state = $q$active$q$
				AND query LIKE $q$COPY %big%$q$);
			PERFORM pg_catalog.pg_sleep(0.001);
		END LOOP;
	END
	$$;
	EOF
	kill -STOP $exp &&
	copy_active &&
	pg_crash &&
	pg_restart &&
	kill -CONT $exp &&
	rc=0 && { wait $FAULT_PID || rc=$?; } &&
	test $rc = 1 &&
	test ! -s out &&
	fault_wait_no_procs &&
	fault_snapshot after && test_cmp before after &&
	test "$(wc -l <"$BACKUP_DIR/.backup_history")" = $((lines + 1)) &&
	tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f 2,5,6 >last &&
	cat last &&
	grep "^fail	-	export: " last &&
	test_path_is_missing "$BACKUP_DIR/.incoming" &&
	test -z "$(ls "$BACKUP_TMPDIR")" &&
	ls "$BACKUP_MAIL_OUTBOX" >mails.after &&
	comm -13 mails.before mails.after >new-mails &&
	test $(wc -l <new-mails) = 1 &&
	tr -d "\r" <"$BACKUP_MAIL_OUTBOX/$(cat new-mails)" >alert.eml
'

# Several connections die at once; which one reports first (the COPY of big on
# one worker, another table on the other, or the snapshot holder) is timing.
test_expect_success 'the message says the connection to the server was lost' '
	cut -f 3 last >reason &&
	cat reason &&
	grep -i "server closed the connection\|terminat\|connection" reason &&
	grep "ERROR bk-run\[[0-9]*\]: backup failed at step export: " err
'

test_expect_success 'the alert names the step and the cause' '
	grep "^Subject: \[bk\] ALERT: backup failed at step export: database connection failed$" alert.eml &&
	grep -F "$(cut -f 3 last | cut -d" " -f2- | cut -c1-40)" alert.eml
'

test_expect_success 'bk-monitor reports the failure' '
	test_expect_code 1 bk-monitor >status &&
	grep "^unhealthy: last run failed: export: " status
'

test_expect_success 'with the server back, the next run succeeds' '
	fault_next_second &&
	fault_run >path &&
	bk-verify "$(cat path)" >/dev/null &&
	bk-monitor
'

test_done
