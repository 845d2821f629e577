#!/bin/bash
# A restore that fails halfway leaves the database as it was. The backup has
# one more table, restore_gate, exported last, whose CHECK constraint takes a
# shared advisory lock: while the test holds that lock, the restore stops in
# the COPY into it, after everything else has been loaded, and the test can
# see it waiting (pg_stat_activity) before it strikes: the server stopped
# with -m immediate, or bk-unpack sent SIGTERM.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'bk-unpack --restore: a failure halfway changes nothing'

test_need_programs bk-export bk-pack
pg_start && pg_load_fixture || exit 1

GATE=4242

# wait_for DB SQL: poll until the query prints 1 (give up after a minute).
wait_for() {
	local i=0
	until [ "$(pg_psql -d "$1" -At -c "$2")" = 1 ]; do
		i=$((i + 1))
		[ $i -le 600 ] || { echo "timed out waiting for: $2" >&2; return 1; }
		sleep 0.1
	done
}

# hold_gate DB: a background session holding the gate lock in DB.
hold_gate() {
	PGAPPNAME=gate-holder pg_psql -d "$1" -c "SELECT pg_advisory_lock($GATE)" \
		-c "SELECT pg_sleep(3600)" >/dev/null 2>&1 &
	wait_for "$1" "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
		WHERE l.locktype = 'advisory' AND l.objid = $GATE AND l.granted AND d.datname = '$1'"
}

release_gate() {
	pg_psql -d postgres -At -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'gate-holder'" >/dev/null
}

# wait_blocked DB: until bk-unpack's COPY into restore_gate waits for the gate.
wait_blocked() {
	wait_for "$1" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bk-unpack'
		AND datname = '$1' AND wait_event_type = 'Lock' AND wait_event = 'advisory'
		AND query LIKE 'COPY %restore_gate%'"
}

# The server: stopped at once (no shutdown checkpoint: crash recovery on
# start), and started again on the same data directory and port.
pg_crash() {
	_pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TEST_DATA" -m immediate -w stop >/dev/null
}
pg_restart() {
	local i=0
	_pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TEST_DATA" -l "$PG_TEST_LOG" -w start >/dev/null &&
	until "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT" -t 1; do
		i=$((i + 1))
		[ $i -le 600 ] || return 1
		sleep 0.1
	done
}

test_expect_success 'setup: the gate table; an archive with it exported last' '
	pg_psql <<-\EOF &&
	CREATE FUNCTION restore_gate_check(id integer) RETURNS boolean
	LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM pg_advisory_xact_lock_shared(4242);
		RETURN true;
	END
	$$;
	CREATE TABLE restore_gate (id integer PRIMARY KEY CHECK (restore_gate_check(id)));
	INSERT INTO restore_gate VALUES (1);
	EOF
	cat >scope <<-\EOF &&
	users.sql                users,user_roles
	organization.sql         organizations,agencies,referrals
	config.sql               exchange_rates,system_settings
	credit_transactions.csv  credit_transactions   since=created_at:3 months
	point_transactions.csv   point_transactions    since=created_at:3 months
	purchases.csv            purchases             since=created_at:3 months
	transfers.csv            transfers             since=created_at:3 months
	gate.sql                 restore_gate
	EOF
	export BACKUP_CONFIG_FILES=" " &&
	BACKUP_SCOPE=$TRASH/scope bk-export -o "$TRASH/export" >export.out 2>export.err &&
	bk-pack -o "$TRASH/backup.tar.gz" "$TRASH/export" >archive 2>pack.err &&
	tar -xzOf backup.tar.gz MANIFEST >MANIFEST &&
	grep -q "^# table: gate.sql 1 public.restore_gate$" MANIFEST
'

test_expect_success 'the gate works: without the lock held the restore goes through' '
	pg_psql -d postgres -c "CREATE DATABASE open" &&
	POSTGRES_DB=open bk-unpack --restore --unsigned backup.tar.gz >stdout 2>err &&
	test "$(pg_psql -d open -At -c "SELECT count(*) FROM users")" = 200
'

test_expect_success 'server stopped during a restore into an empty database: still empty' '
	pg_psql -d postgres -c "CREATE DATABASE fresh" &&
	rm -f stdout err &&
	hold_gate fresh &&
	{ POSTGRES_DB=fresh bk-unpack --restore --unsigned backup.tar.gz >stdout 2>err & } &&
	pid=$! &&
	wait_blocked fresh &&
	pg_crash &&
	test_expect_code 1 wait $pid &&
	test ! -s stdout &&
	grep -q "ERROR bk-unpack\[[0-9]*\]: gate.sql line [0-9]*: lost the connection to the server" err &&
	pg_restart &&
	test "$(pg_psql -d fresh -At -c "SELECT count(*) FROM pg_class WHERE relnamespace = ${SQ}public${SQ}::regnamespace")" = 0 &&
	test "$(pg_psql -d fresh -At -c "SELECT count(*) FROM pg_type WHERE typnamespace = ${SQ}public${SQ}::regnamespace")" = 0 &&
	test "$(ls -A "$BACKUP_TMPDIR")" = ""
'

test_expect_success 'setup: a live database that differs from the backup' '
	pg_psql -d postgres -c "CREATE DATABASE live TEMPLATE smart_ai_hub" &&
	pg_psql -d live <<-\EOF
	UPDATE users SET name = $$moved on$$ WHERE email LIKE $$user2%$$;
	INSERT INTO credit_transactions (user_id, type, amount, balance_after)
		VALUES (md5($$user-3$$)::uuid, $$BONUS$$, 7, 7);
	INSERT INTO restore_gate VALUES (2);
	-- The test cluster runs without fsync and with asynchronous commit:
	-- make the state to compare with durable, so that crash recovery
	-- cannot take it back for reasons of its own.
	CHECKPOINT;
	EOF
'

test_expect_success 'server stopped during --replace: old rows and sequences intact' '
	rm -f stdout err &&
	pg_dump_text live >before &&
	grep "^SELECT pg_catalog.setval(.public.credit_transactions_id_seq., " before >seq &&
	! grep -q ", 1000, true);$" seq &&
	hold_gate live &&
	{ POSTGRES_DB=live bk-unpack --restore --unsigned --replace backup.tar.gz >stdout 2>err & } &&
	pid=$! &&
	wait_blocked live &&
	pg_crash &&
	test_expect_code 1 wait $pid &&
	grep -q "ERROR bk-unpack\[[0-9]*\]: gate.sql line [0-9]*: lost the connection to the server" err &&
	pg_restart &&
	pg_dump_text live >after &&
	test_cmp before after &&
	test "$(ls -A "$BACKUP_TMPDIR")" = ""
'

test_expect_success 'SIGTERM during --replace: rolled back at once, temp files removed' '
	rm -f stdout err &&
	pg_dump_text live >before &&
	hold_gate live &&
	{ POSTGRES_DB=live bk-unpack --restore --unsigned --replace backup.tar.gz >stdout 2>err & } &&
	pid=$! &&
	wait_blocked live &&
	kill -TERM $pid &&
	test_expect_code 1 wait $pid &&
	grep -q "ERROR bk-unpack\[[0-9]*\]: stopped by a signal: the restore was rolled back" err &&
	test "$(ls -A "$BACKUP_TMPDIR")" = "" &&
	wait_for live "SELECT (count(*) = 0)::int FROM pg_stat_activity WHERE application_name = ${SQ}bk-unpack${SQ}" &&
	pg_dump_text live >after &&
	release_gate &&
	test_cmp before after
'

test_expect_success 'after all that, --replace goes through' '
	release_gate &&
	POSTGRES_DB=live bk-unpack --restore --unsigned --replace backup.tar.gz >stdout 2>err &&
	pg_psql -d live -At -c "SELECT id FROM restore_gate" >actual &&
	echo 1 >expect &&
	test_cmp expect actual
'

test_done
