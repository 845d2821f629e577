#!/bin/bash
# Bad configuration stops bk-run at the start: every variable with a
# malformed value is exit 2 with a message naming the variable (and the
# file and line for a scope or env file), before anything is created in
# BACKUP_DIR or BACKUP_TMPDIR. Table and column names in a scope file never
# reach the server as SQL: an injection attempt is refused by the parser or
# quoted into a plain (missing) name, and the victim table survives.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'bad configuration: exit 2 at the start, nothing created'

test_need_programs bk-run bk-export bk-pack bk-verify bk-mail
pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0
export ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com
export BACKUP_MAIL_OUTBOX=$TRASH/outbox
mkdir -p "$BACKUP_MAIL_OUTBOX" "$BACKUP_CONFIG_DIR"
mkdir -p a-directory
echo "not-the-password" >other-password
echo "services: {}" >"$BACKUP_CONFIG_DIR/docker-compose.prod.yml"

test_expect_success 'the configuration without the bad value works' '
	bk-run >path &&
	bk-verify "$(cat path)" >/dev/null
'

n=0
# bad 'what' VAR 'pattern' [NAME=VALUE...]: bk-run with those variables
# exits 2, its one ERROR line is "configuration: ..." matching pattern (a
# grep -E expression, which must name VAR), and BACKUP_DIR/BACKUP_TMPDIR
# were not created.
bad() {
	local what=$1 var=$2 pattern=$3
	shift 3
	n=$((n + 1))
	test_expect_success "$what: exit 2 naming $var, nothing created" "
		test_expect_code 2 env BACKUP_DIR=\$TRASH/b$n BACKUP_TMPDIR=\$TRASH/t$n $(printf '%q ' "$@") \
			bk-run >out 2>err &&
		cat err &&
		test ! -s out &&
		grep -E $(printf %q "ERROR bk-run\[[0-9]+\]: configuration: .*$var") err &&
		grep -E $(printf %q "ERROR bk-run\[[0-9]+\]: configuration: $pattern") err &&
		test \$(grep -c ' ERROR ' err) -le 2 &&
		test_path_is_missing \$TRASH/b$n &&
		test_path_is_missing \$TRASH/t$n
	"
}

bad 'non-numeric port' POSTGRES_PORT "POSTGRES_PORT: 'abc' is not a whole number" POSTGRES_PORT=abc
bad 'port out of range' POSTGRES_PORT 'POSTGRES_PORT: 70000 is out of range' POSTGRES_PORT=70000
bad 'negative retention' BACKUP_RETENTION_DAYS 'BACKUP_RETENTION_DAYS: -1 is out of range' BACKUP_RETENTION_DAYS=-1
bad 'gzip level 12' BACKUP_GZIP_LEVEL 'BACKUP_GZIP_LEVEL: 12 is out of range \(1\.\.9\)' BACKUP_GZIP_LEVEL=12
bad 'gzip level 0' BACKUP_GZIP_LEVEL 'BACKUP_GZIP_LEVEL: 0 is out of range' BACKUP_GZIP_LEVEL=0
bad 'keep none' BACKUP_KEEP_MIN 'BACKUP_KEEP_MIN: 0 is out of range' BACKUP_KEEP_MIN=0
bad 'strict maybe' BACKUP_STRICT "BACKUP_STRICT: 'maybe' is not 0 or 1" BACKUP_STRICT=maybe
bad 'max age 0' BACKUP_MAX_AGE_HOURS 'BACKUP_MAX_AGE_HOURS: 0 is out of range' BACKUP_MAX_AGE_HOURS=0
bad 'min size negative' BACKUP_MIN_SIZE_MB 'BACKUP_MIN_SIZE_MB: -1 is out of range' BACKUP_MIN_SIZE_MB=-1
bad 'max size not a number' BACKUP_MAX_SIZE_MB "BACKUP_MAX_SIZE_MB: '100MB' is not a whole number" BACKUP_MAX_SIZE_MB=100MB
bad 'min size above max size' BACKUP_MIN_SIZE_MB 'BACKUP_MIN_SIZE_MB \(200\) is larger than BACKUP_MAX_SIZE_MB \(100\)' BACKUP_MIN_SIZE_MB=200
bad 'alert repeat 1.5' BACKUP_ALERT_REPEAT_HOURS "BACKUP_ALERT_REPEAT_HOURS: '1.5' is not a whole number" BACKUP_ALERT_REPEAT_HOURS=1.5
bad 'attachment limit negative' BACKUP_MAIL_ATTACH_MAX_MB 'BACKUP_MAIL_ATTACH_MAX_MB: -3 is out of range' BACKUP_MAIL_ATTACH_MAX_MB=-3
bad 'link lifetime 0' BACKUP_LINK_TTL_HOURS 'BACKUP_LINK_TTL_HOURS: 0 is out of range' BACKUP_LINK_TTL_HOURS=0
bad 'unknown SMTP_TLS' SMTP_TLS "SMTP_TLS: 'ssl' is not one of starttls, tls, none" SMTP_TLS=ssl
bad 'non-numeric SMTP port' SMTP_PORT "SMTP_PORT: 'smtp' is not a whole number" SMTP_PORT=smtp
bad 'empty ADMIN_EMAILS' ADMIN_EMAILS 'ADMIN_EMAILS is not set' ADMIN_EMAILS=
bad 'ADMIN_EMAILS not an address' ADMIN_EMAILS "ADMIN_EMAILS: 'root' is not a valid e-mail address" ADMIN_EMAILS=root
bad 'SMTP_FROM not an address' SMTP_FROM "SMTP_FROM: 'backup' is not a valid e-mail address" SMTP_FROM=backup
bad 'no SMTP_HOST and no outbox' SMTP_HOST 'SMTP_HOST is not set' BACKUP_MAIL_OUTBOX=
bad 'SMTP_TLS=none to a remote host' SMTP_TLS 'SMTP_TLS: none is only allowed for a server on loopback' \
	BACKUP_MAIL_OUTBOX= SMTP_HOST=mail.example.com SMTP_TLS=none
bad 'SMTP_USER without SMTP_PASS' SMTP_PASS 'SMTP_PASS is not set, but SMTP_USER is' \
	BACKUP_MAIL_OUTBOX= SMTP_HOST=mail.example.com SMTP_USER=backup
bad 'SMTP_CA_FILE missing' SMTP_CA_FILE 'SMTP_CA_FILE: cannot read /nonexistent/ca.pem' \
	BACKUP_MAIL_OUTBOX= SMTP_HOST=mail.example.com SMTP_CA_FILE=/nonexistent/ca.pem
bad 'link base without secret' BACKUP_LINK_SECRET 'BACKUP_LINK_SECRET is not set, but BACKUP_LINK_BASE is' \
	BACKUP_LINK_BASE=https://backups.example.com/dl
bad 'password file missing' POSTGRES_PASSWORD_FILE 'POSTGRES_PASSWORD_FILE: cannot read /nonexistent/pw' \
	POSTGRES_PASSWORD= POSTGRES_PASSWORD_FILE=/nonexistent/pw
bad 'password file a directory' SMTP_PASS_FILE "SMTP_PASS_FILE: cannot read $TRASH/a-directory" \
	SMTP_PASS_FILE=$TRASH/a-directory
bad 'password and password file' POSTGRES_PASSWORD 'POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are both set' \
	POSTGRES_PASSWORD_FILE=$TRASH/other-password
bad 'schedule with 4 fields' BACKUP_SCHEDULE "BACKUP_SCHEDULE: '0 2 \* \*' is not a cron expression" \
	'BACKUP_SCHEDULE=0 2 * *'
bad 'schedule hour 24' BACKUP_SCHEDULE "BACKUP_SCHEDULE: '0 24 \* \* \*' is not a cron expression: hour" \
	'BACKUP_SCHEDULE=0 24 * * *'
bad 'ping URL not http' BACKUP_PING_URL "BACKUP_PING_URL: 'hc-ping.com/abc' is not an http" \
	BACKUP_PING_URL=hc-ping.com/abc
bad 'scope file missing' BACKUP_SCOPE 'BACKUP_SCOPE: cannot read /nonexistent/scope' \
	BACKUP_SCOPE=/nonexistent/scope

# The password in a malformed DATABASE_URL must not be shown.
test_expect_success 'malformed DATABASE_URL: exit 2, the password not shown' '
	test_expect_code 2 env BACKUP_DIR=$TRASH/b-url \
		DATABASE_URL="postgresql://app:hunter2-secret@[db:5432/app" bk-run >out 2>err &&
	cat err &&
	grep "ERROR bk-run\[[0-9]*\]: configuration: DATABASE_URL: not a valid connection URI" err &&
	! grep -F hunter2 err "$BACKUP_LOG" &&
	test_path_is_missing $TRASH/b-url
'

# scope_bad 'what' LINE 'pattern' TEXT: a scope file holding TEXT is refused
# naming the file and LINE.
scope_bad() {
	n=$((n + 1))
	printf '%s\n' "$4" >"scope.$n"
	test_expect_success "scope file, $1: exit 2 naming the file and line $2" "
		test_expect_code 2 env BACKUP_DIR=\$TRASH/b$n BACKUP_SCOPE=\$TRASH/scope.$n \
			bk-run >out 2>err &&
		cat err &&
		grep -E $(printf %q "ERROR bk-run\[[0-9]+\]: configuration: BACKUP_SCOPE: $TRASH/scope\.$n:$2: $3") err &&
		test_path_is_missing \$TRASH/b$n
	"
}

scope_bad 'not a .sql or .csv name' 2 '' "users.sql users
users.txt user_roles"
scope_bad 'a path, not a name' 1 '' "../../etc/cron.d/x.sql users"
scope_bad 'two tables in a .csv' 1 '' "pairs.csv users,user_roles"
scope_bad 'unknown window unit' 1 '' "c.csv credit_transactions since=created_at:3 fortnights"
scope_bad 'no table' 3 '' "# comment

lonely.sql"
scope_bad 'SQL after a table name' 1 '' "users.sql users; DROP TABLE victim; --"
scope_bad 'SQL in a window column' 1 '' "c.csv credit_transactions since=created_at);DROP TABLE victim;--:3 months"
scope_bad 'unterminated quoted name' 1 '' 'users.sql "users'

test_expect_success 'setup: a victim table, and a table whose name is SQL' '
	pg_psql <<-\EOF
	CREATE TABLE victim (id int);
	INSERT INTO victim VALUES (42);
	CREATE TABLE "x; DROP TABLE victim; --" (id int, note text);
	INSERT INTO "x; DROP TABLE victim; --" VALUES (1, $$it is only a name$$);
	EOF
'

test_expect_success 'names that are SQL were never executed' '
	test "$(pg_query "SELECT id FROM victim")" = 42
'

# A quoted name is one identifier, however it reads: the table named like
# SQL is backed up, the missing one is a warning, and nothing is executed.
test_expect_success 'a quoted name that reads like SQL is only a name' '
	cat >scope.sql <<-\EOF &&
	users.sql users
	odd.sql "x; DROP TABLE victim; --"
	missing.sql "users; DROP TABLE victim; --"
	EOF
	BACKUP_SCOPE=$TRASH/scope.sql bk-run >path 2>err &&
	test "$(pg_query "SELECT id FROM victim")" = 42 &&
	mkdir x && tar -xzf "$(cat path)" -C x &&
	grep -F "COPY public.\"x; DROP TABLE victim; --\" (id, note) FROM stdin;" x/odd.sql &&
	grep -F "it is only a name" x/odd.sql &&
	grep -F "users; DROP TABLE victim; --" x/MANIFEST | grep -i "warning" &&
	grep -F "DROP TABLE victim" err | grep -i warn
'

test_expect_success 'a window column that reads like SQL is only a name' '
	cat >scope.win <<-\EOF &&
	c.csv credit_transactions since="created_at); DROP TABLE victim; --":3 months
	EOF
	test_expect_code 1 env BACKUP_SCOPE=$TRASH/scope.win bk-run >out 2>err &&
	test "$(pg_query "SELECT id FROM victim")" = 42 &&
	grep "ERROR bk-run\[[0-9]*\]: backup failed at step export: .*created_at); DROP TABLE victim; --" err
'

test_expect_success 'an env file with a syntax error: exit 2 naming the file and line' '
	printf "%s\n" "# settings" "BACKUP_RETENTION_DAYS=30" "this is not an assignment" >bad.env &&
	test_expect_code 2 env BACKUP_DIR=$TRASH/b-env bk-run --env-file bad.env >out 2>err &&
	cat err &&
	grep "ERROR bk-run\[[0-9]*\]: configuration: .*bad.env:3: expected NAME=VALUE" err &&
	test_path_is_missing $TRASH/b-env
'

test_expect_success 'a bad value in an env file: exit 2 naming the variable' '
	printf "%s\n" "BACKUP_GZIP_LEVEL=12" >level.env &&
	test_expect_code 2 env BACKUP_DIR=$TRASH/b-env2 bk-run --env-file level.env >out 2>err &&
	grep "ERROR bk-run\[[0-9]*\]: configuration: BACKUP_GZIP_LEVEL: 12 is out of range" err &&
	test_path_is_missing $TRASH/b-env2
'

test_done
