#!/bin/bash
# bk-run --entrypoint's start-up report on this host, without a container: it
# connects to the database (server version, role, read-only or not, pg_dump
# against the server) and the SMTP server (a session, no message), logs one
# "start-up:" line; a failure is logged with its hint and alerted, and the
# entrypoint keeps running; a server newer than pg_dump is refused (exit 2),
# and so is it by bk-export.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-smtp.sh"
test_description 'the entrypoint checks the servers at start and reports them'

test_need_programs bk-run bk-export bk-mail bk-monitor
pg_start && pg_load_fixture || exit 1
smtp_check_deps

export BACKUP_RUN_DIR=$TRASH/run ADMIN_EMAILS=admin@example.com SMTP_FROM=bk@example.com
export BACKUP_SCHEDULE='0 2 * * *' BACKUP_MIN_SIZE_MB=0
pg_create_readonly_role backup "ro-$POSTGRES_PASSWORD" || exit 1
superuser_password=$POSTGRES_PASSWORD
server_version=$(pg_query "SHOW server_version") || exit 1
dump_version=$("$PG_BINDIR/pg_dump" --version | sed 's/^pg_dump (PostgreSQL) \([0-9.]*\).*/\1/')
# bk's pg_dump is the one on PATH, as in the container
PATH=$PG_BINDIR:$PATH

# start_entrypoint NAME [VAR=VALUE...]: run it in the background (NAME.err,
# NAME.pid) until it says when the next backup runs, or it exits (NAME.rc).
start_entrypoint() {
	local name=$1 i=0
	shift
	rm -rf "$BACKUP_RUN_DIR"
	(env "$@" bk-run --entrypoint >"$name.out" 2>"$name.err" & echo $! >"$name.pid"
	 wait $!; echo $? >"$name.rc") &
	until grep -q "next backup at " "$name.err" 2>/dev/null || test -f "$name.rc"; do
		i=$((i + 1)) && test $i -le 600 || return 1
		sleep 0.1
	done
}
stop_entrypoint() {
	local i=0
	[ -f "$1.pid" ] && kill "$(cat "$1.pid")" 2>/dev/null
	rm -f "$1.pid"
	until test -f "$1.rc"; do
		i=$((i + 1)) && test $i -le 600 || return 1
		sleep 0.1
	done
}
stop_all() {
	for f in "$TRASH"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
	return 0
}
test_atexit stop_all

smtp_start || exit 1
smtp_dir=$SMTP_TEST_DIR

test_expect_success 'a read-only role and SMTP: one start-up line, no mail sent' '
	start_entrypoint good POSTGRES_USER=backup POSTGRES_PASSWORD="ro-$superuser_password" &&
	test ! -f good.rc &&
	grep "start-up: " good.err >got &&
	sed "s/^.*INFO bk-cron\[[0-9]*\]: //" got >line &&
	echo "start-up: PostgreSQL $server_version at 127.0.0.1:$POSTGRES_PORT/$POSTGRES_DB, role backup (read-only), pg_dump $dump_version; SMTP 127.0.0.1:$SMTP_TEST_PORT ok; S3 not configured" >expect &&
	test_cmp expect line &&
	test "$(smtp_count "$smtp_dir")" = 0 &&
	grep -qx "PLAIN $SMTP_TEST_USER ok\|LOGIN $SMTP_TEST_USER ok" "$smtp_dir/auth.log" &&
	stop_entrypoint good && test "$(cat good.rc)" = 0
'

test_expect_success 'a superuser is reported as one that can write, with the advice' '
	start_entrypoint super &&
	grep -q "INFO bk-cron\[[0-9]*\]: start-up: PostgreSQL $server_version at .*, role postgres (superuser, can write), pg_dump " super.err &&
	grep -q "start-up: a read-only role is safer for backups: GRANT pg_read_all_data" super.err &&
	stop_entrypoint super
'

test_expect_success 'a Prisma DATABASE_URL (?schema=public) connects at start' '
	start_entrypoint prisma \
		DATABASE_URL="postgresql://backup:ro-$superuser_password@127.0.0.1:$POSTGRES_PORT/$POSTGRES_DB?schema=public" &&
	test ! -f prisma.rc &&
	grep -q "start-up: PostgreSQL $server_version at 127.0.0.1:$POSTGRES_PORT/$POSTGRES_DB, role backup (read-only)" prisma.err &&
	! grep -qF "ro-$superuser_password" prisma.err "$BACKUP_LOG" &&
	stop_entrypoint prisma
'

test_expect_success 'a wrong database password: logged with the hint, alerted, still running' '
	mkdir -p outbox &&
	start_entrypoint wrongpw POSTGRES_PASSWORD=not-the-password BACKUP_MAIL_OUTBOX="$TRASH/outbox" &&
	test ! -f wrongpw.rc &&
	grep -q "ERROR bk-cron\[[0-9]*\]: start-up: database: cannot connect to 127.0.0.1:$POSTGRES_PORT as postgres: .*password authentication failed" wrongpw.err &&
	grep -q "ERROR bk-cron\[[0-9]*\]: hint: check POSTGRES_PASSWORD" wrongpw.err &&
	grep -q "ERROR bk-cron\[[0-9]*\]: start-up: database 127.0.0.1:$POSTGRES_PORT/$POSTGRES_DB FAILED; mail to the outbox $TRASH/outbox; S3 not configured$" wrongpw.err &&
	ls outbox/*.eml >mails && test $(wc -l <mails) = 1 &&
	grep -q "^Subject: \[bk\] ALERT: start-up check failed on " "$(cat mails)" &&
	grep -q "password authentication failed" "$(cat mails)" &&
	! grep -q not-the-password "$(cat mails)" wrongpw.err &&
	grep -q "next backup at " wrongpw.err &&
	stop_entrypoint wrongpw && test "$(cat wrongpw.rc)" = 0
'

test_expect_success 'a wrong SMTP password: SMTP FAILED with the server'"'"'s reply, still running' '
	start_entrypoint wrongsmtp SMTP_PASS=not-the-smtp-password &&
	test ! -f wrongsmtp.rc &&
	grep -q "ERROR bk-cron\[[0-9]*\]: start-up: SMTP: SMTP 127.0.0.1:$SMTP_TEST_PORT: " wrongsmtp.err &&
	grep -q "hint: check SMTP_USER and SMTP_PASS" wrongsmtp.err &&
	grep -q "start-up: PostgreSQL .*; SMTP 127.0.0.1:$SMTP_TEST_PORT FAILED; S3 not configured$" wrongsmtp.err &&
	grep -q "start-up: the alert could not be mailed: " wrongsmtp.err &&
	! grep -q not-the-smtp-password wrongsmtp.err "$BACKUP_LOG" &&
	stop_entrypoint wrongsmtp
'

# pg_dump of an older major than the server: this pg_dump stands in for
# PostgreSQL 14's (the host has 15 only); it prints what pg_dump 14 prints.
mkdir -p oldpg
cat >oldpg/pg_dump <<\EOF
#!/bin/sh
[ "$1" = --version ] && { echo "pg_dump (PostgreSQL) 14.11 (Debian 14.11-1)"; exit 0; }
echo "pg_dump: error: aborting because of server version mismatch" >&2
exit 1
EOF
chmod +x oldpg/pg_dump

test_expect_success 'a server newer than pg_dump: the entrypoint exits 2 naming both majors' '
	start_entrypoint newer PATH="$TRASH/oldpg:$PATH" &&
	test "$(cat newer.rc)" = 2 &&
	grep -q "ERROR bk-cron\[[0-9]*\]: start-up: pg_dump: the server is PostgreSQL $server_version (major 15) but pg_dump is 14.11 (major 14): pg_dump cannot dump a server newer than itself$" newer.err &&
	grep -q "hint: use pg_dump 15 or newer: in the container, build the image with --build-arg PG_MAJOR=15" newer.err &&
	test_path_is_missing "$BACKUP_RUN_DIR/env"
'

test_expect_success 'bk-export refuses it too, before any work' '
	PATH="$TRASH/oldpg:$PATH" test_expect_code 1 bk-export -o "$TRASH/exp" >out 2>err &&
	grep -q "ERROR bk-export\[[0-9]*\]: the server is PostgreSQL $server_version (major 15) but pg_dump is 14.11 (major 14)" err &&
	test_path_is_missing "$TRASH/exp/MANIFEST"
'

test_done
