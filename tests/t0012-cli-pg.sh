#!/bin/bash
# Messages about the database, against a real PostgreSQL: the server version
# as 15.18 (not 150018); a role that does not exist gets a hint about the
# user, a wrong password the password hint; bk-run -n is the dry run.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-fault.sh"
test_description 'command line: database messages'

pg_start || exit 1
export ADMIN_EMAILS=admin@example.org BACKUP_MAIL_OUTBOX=$TRASH/outbox

num=$(pg_query "SHOW server_version_num") || exit 1
version=$((num / 10000)).$((num % 10000))

test_expect_success 'bk-run -n: a dry run that succeeds, writes nothing, shows 15.N' '
	test_expect_code 0 bk-run -n >out 2>err &&
	test ! -s out &&
	test_path_is_missing "$BACKUP_DIR" &&
	test_path_is_missing "$TRASH/outbox" &&
	grep -q "INFO bk-run\[[0-9]*\]: dry run: database reachable, server version $version\$" err
'

test_expect_success 'bk-export logs the server version as 15.N too' '
	bk-export -o "$TRASH/exp" >out 2>err &&
	grep -q "INFO bk-export\[[0-9]*\]: connected to .*, server $version\$" err &&
	! grep -q "$num" err
'

# PostgreSQL answers "password authentication failed" both for a wrong
# password and for a role it does not have (it does not tell a client which
# roles exist): the hint names the password and the user, with the user's name.
test_expect_success 'a wrong password: the hint names POSTGRES_PASSWORD' '
	POSTGRES_PASSWORD=wrong test_expect_code 1 bk-run -n 2>err &&
	grep -q "ERROR bk-run\[[0-9]*\]: cannot connect to 127.0.0.1:$POSTGRES_PORT as postgres: password authentication failed" err &&
	grep -q "hint: check POSTGRES_PASSWORD" err &&
	! grep -q wrong err
'

test_expect_success 'a user that does not exist: the hint names POSTGRES_USER and the role' '
	POSTGRES_USER=ghost test_expect_code 1 bk-run -n 2>err &&
	grep -q "hint: .*role \"ghost\" exists (POSTGRES_USER)" err
'

test_expect_success 'in DATABASE_URL: the hint names the URL user' '
	DATABASE_URL="postgresql://ghost:x@127.0.0.1:$POSTGRES_PORT/smart_ai_hub" \
		test_expect_code 1 bk-run -n 2>err &&
	grep -q "hint: check the password in DATABASE_URL, and that role \"ghost\" exists (the user in DATABASE_URL)" err
'

# The reload is asynchronous: wait until a new connection sees the new rule.
ghost_is_trusted() {
	"$PG_BINDIR/psql" -X -w -h 127.0.0.1 -p "$POSTGRES_PORT" -U ghost -d postgres \
		-c "select 1" 2>&1 | grep -q "role \"ghost\" does not exist"
}

# Where the server can say it (an auth method that is not a password one), a
# role that does not exist is about the user only.
test_expect_success 'role does not exist: a hint about the user, none about the password' '
	hba=$PG_TEST_DATA/pg_hba.conf &&
	{ echo "host all ghost 127.0.0.1/32 trust" && cat "$hba"; } >hba.new &&
	cat hba.new >"$hba" &&
	pg_query "SELECT pg_reload_conf()" &&
	fault_poll ghost_is_trusted &&
	POSTGRES_USER=ghost test_expect_code 1 bk-run -n 2>err &&
	grep -q "as ghost: role \"ghost\" does not exist" err &&
	grep -q "hint: the server has no role \"ghost\": check POSTGRES_USER$" err &&
	! grep -q "hint: .*PASSWORD" err
'

test_expect_success 'a database that does not exist: the hint names POSTGRES_DB only' '
	POSTGRES_DB=nodb test_expect_code 1 bk-run -n 2>err &&
	grep -q "database \"nodb\" does not exist" err &&
	grep -q "hint: check POSTGRES_DB$" err
'

test_done
