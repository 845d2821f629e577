# A throwaway PostgreSQL 15 for one test script, sourced after lib.sh.
# pg_start makes a cluster in $TRASH/pg on a free loopback port with a
# scram-sha-256 password, so tests can also check that it never leaks.

# lib.sh has unset PG*, hence the BK_ name for the override.
PG_BINDIR=${BK_TEST_PG_BINDIR:-/usr/lib/postgresql/15/bin}
PG_TEST_DIR=$TRASH/pg
PG_TEST_DATA=$PG_TEST_DIR/data
PG_TEST_SOCKDIR=$PG_TEST_DIR/run
PG_TEST_LOG=$PG_TEST_DIR/server.log

# Run a server-side command as the cluster's owner: postgres refuses root.
_pg_as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

_pg_fail() {
	echo "# pg_start: $1"
	if [ -f "$PG_TEST_LOG" ]; then
		echo "# server log:"
		sed 's/^/#   /' "$PG_TEST_LOG"
	fi
	test_skip_all "PostgreSQL: $1"
}

_pg_running() {
	[ -f "$PG_TEST_DATA/postmaster.pid" ] &&
		kill -0 "$(head -n 1 "$PG_TEST_DATA/postmaster.pid")" 2>/dev/null
}

pg_start() {
	local b tries=0 i
	for b in initdb pg_ctl postgres psql pg_isready; do
		[ -x "$PG_BINDIR/$b" ] ||
			test_skip_all "PostgreSQL 15 not installed ($PG_BINDIR/$b missing; run tools/install-deps)"
	done
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || test_skip_all "no user postgres to run the server as"
		runuser -u postgres -- test -x "$TRASH" ||
			test_skip_all "user postgres cannot enter $TRASH (set BK_TEST_TMPDIR)"
	fi

	PG_TEST_PASSWORD=s3cr3t-$(test_random_hex 24)
	mkdir -p "$PG_TEST_DIR" "$PG_TEST_SOCKDIR"
	(umask 077 && printf '%s\n' "$PG_TEST_PASSWORD" >"$PG_TEST_DIR/pwfile")
	[ "$(id -u)" = 0 ] && chown -R postgres: "$PG_TEST_DIR"
	_pg_as_owner "$PG_BINDIR/initdb" -D "$PG_TEST_DATA" -U postgres \
		--pwfile="$PG_TEST_DIR/pwfile" --auth=scram-sha-256 \
		-E UTF8 --no-locale --no-sync >"$PG_TEST_DIR/initdb.log" 2>&1 || {
		sed 's/^/# /' "$PG_TEST_DIR/initdb.log"
		rm -f "$PG_TEST_DIR/pwfile"
		_pg_fail "initdb failed"
	}
	rm -f "$PG_TEST_DIR/pwfile"
	test_atexit pg_stop

	# The port is free when picked but may be taken before the server binds
	# it; try again with another.
	while :; do
		tries=$((tries + 1))
		POSTGRES_PORT=$(test_free_port) || _pg_fail "cannot find a free port"
		cat >"$PG_TEST_DATA/postgresql.auto.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		port = $POSTGRES_PORT
		unix_socket_directories = '$PG_TEST_SOCKDIR'
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		max_connections = 30
		shared_buffers = 16MB
		log_line_prefix = '%m [%p] %q%u@%d '
		EOF
		[ "$(id -u)" = 0 ] && chown postgres: "$PG_TEST_DATA/postgresql.auto.conf"
		_pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TEST_DATA" -l "$PG_TEST_LOG" \
			-W start >/dev/null 2>&1 || _pg_fail "pg_ctl start failed"
		# Poll until it answers; stop early if the postmaster died.
		i=0
		while ! "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT" -t 1; do
			i=$((i + 1))
			[ $i -le 600 ] || _pg_fail "server not ready after 60s"
			[ $i -gt 20 ] && ! _pg_running && break
			sleep 0.1
		done
		"$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT" -t 1 && break
		[ $tries -lt 3 ] || _pg_fail "server did not start"
		echo "# pg_start: port $POSTGRES_PORT did not work, trying another"
	done

	export POSTGRES_HOST=127.0.0.1 POSTGRES_PORT POSTGRES_USER=postgres
	export POSTGRES_PASSWORD=$PG_TEST_PASSWORD POSTGRES_DB=smart_ai_hub
	pg_psql -d postgres -c 'CREATE DATABASE smart_ai_hub' ||
		_pg_fail "cannot create database smart_ai_hub"
}

pg_stop() {
	[ -f "$PG_TEST_DATA/postmaster.pid" ] || return 0
	_pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TEST_DATA" -m fast -w -t 60 \
		stop >/dev/null 2>&1 && return 0
	# pg_ctl could not stop it: kill the postmaster we started, by its pid.
	if _pg_running; then
		kill -9 "$(head -n 1 "$PG_TEST_DATA/postmaster.pid")"
	fi
}

# pg_psql [psql args...]: psql as the test superuser on $POSTGRES_DB (a later
# -d wins).  The password goes by environment to psql only, never exported
# to the tools under test.
pg_psql() {
	PGPASSWORD=$POSTGRES_PASSWORD PGCONNECT_TIMEOUT=10 "$PG_BINDIR/psql" \
		-X -q -v ON_ERROR_STOP=1 -h "$POSTGRES_HOST" -p "$POSTGRES_PORT" \
		-U "$POSTGRES_USER" -d "$POSTGRES_DB" "$@"
}

# pg_query 'SQL': unaligned, tuples only: one row per line, '|' between
# columns.
pg_query() {
	pg_psql -At -c "$1"
}

# pg_wait_for 'SQL': poll until the query prints t (at most 60 s): how a test
# waits for another session's lock or state, never by sleeping a guess.
pg_wait_for() {
	local i=0
	until [ "$(pg_query "$1")" = t ]; do
		i=$((i + 1))
		[ $i -lt 600 ] || { echo "timed out waiting for: $1" >&2; return 1; }
		sleep 0.1
	done
}

# pg_hold 'SQL': run SQL in a session kept open in the background (fd 3
# feeds it, its output in hold.out); pg_release 'SQL' sends the last
# statements, closes it and waits for it.
pg_hold() {
	rm -f hold.fifo &&
	mkfifo hold.fifo &&
	{ pg_psql <hold.fifo >hold.out 2>&1 & } &&
	PG_HOLDER=$! &&
	exec 3>hold.fifo &&
	echo "$1" >&3
}

pg_release() {
	echo "$1" >&3 &&
	exec 3>&- &&
	wait $PG_HOLDER &&
	rm -f hold.fifo
}

# pg_load_fixture [DB]: the Smart AI Hub test schema and rows.
pg_load_fixture() {
	local db=${1:-$POSTGRES_DB}
	pg_psql -d "$db" -f "$FIXTURES/schema.sql" &&
	pg_psql -d "$db" -f "$FIXTURES/data.sql"
}

# pg_create_readonly_role NAME PASSWORD
pg_create_readonly_role() {
	pg_psql -v name="$1" -v pw="$2" <<-'EOF'
	CREATE ROLE :"name" LOGIN PASSWORD :'pw';
	GRANT pg_read_all_data TO :"name";
	EOF
}

# pg_expected_count TABLE [window]: the fixture's row count for TABLE, the
# whole table or the rows in the 3-month window.
pg_expected_count() {
	awk -v t="$1" -v w="${2:-}" '
		$1 == t { print (w == "window" ? $3 : $2); found = 1 }
		END { exit !found }' "$FIXTURES/expected-counts.txt"
}

# pg_load_prisma_fixture [DB]: the second fixture, a Prisma-style Smart AI Hub
# (fixtures/prisma/): the whole application schema, with tables the spec does
# not name, logs and sessions, a partitioned and a mixed-case table.
pg_load_prisma_fixture() {
	local db=${1:-$POSTGRES_DB}
	pg_psql -d "$db" -f "$FIXTURES/prisma/schema.sql" &&
	pg_psql -d "$db" -f "$FIXTURES/prisma/data.sql"
}

# pg_dump_text DB: all of DB, schema and rows, as text to compare before and
# after (no comments, no \restrict lines whose key changes every run).
pg_dump_text() {
	PGPASSWORD=$POSTGRES_PASSWORD "$PG_BINDIR/pg_dump" -h "$POSTGRES_HOST" \
		-p "$POSTGRES_PORT" -U "$POSTGRES_USER" --no-owner "$1" |
		grep -v -e "^--" -e "^\\\\restrict " -e "^\\\\unrestrict "
}
