#!/bin/bash
# bk-run --entrypoint on this host, without a container: a bad configuration
# stops it at once naming the variable; the env file and crontab it writes;
# its own cron runs bk-run with only the env file's configuration (secrets by
# *_FILE), and SIGTERM stops it cleanly.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'the container entrypoint: checks, files, schedule'

test_need_programs bk-run bk-export bk-pack bk-verify bk-mail bk-prune bk-monitor

export BACKUP_RUN_DIR=$TRASH/run
export BACKUP_MAIL_OUTBOX=$TRASH/outbox
export ADMIN_EMAILS=admin@example.com
export BACKUP_MIN_SIZE_MB=0

# entrypoint_fails VAR=VALUE... : exit 2 at once, with no file written.
entrypoint_fails() {
	rm -rf "$BACKUP_RUN_DIR"
	env "$@" timeout 60 bk-run --entrypoint >out 2>err && return 1
	rc=$?
	[ $rc = 2 ] || { echo "exit $rc, not 2"; cat err; return 1; }
	test ! -s out && test_path_is_missing "$BACKUP_RUN_DIR"
}

for bad in 'bad' '0 2 * *' '0 2 * * * *' '60 2 * * *' '0 24 * * *' '0 2 0 * *' \
	'0 2 * 13 *' '0 2 * * 8' '*/0 * * * *' '5-1 * * * *' '0 2 31 2 *' '@daily' ' '; do
	test_expect_success "BACKUP_SCHEDULE='$bad' is refused, naming BACKUP_SCHEDULE" "
		entrypoint_fails BACKUP_SCHEDULE='$bad' &&
		grep -q 'ERROR bk-cron\[[0-9]*\]: configuration: BACKUP_SCHEDULE: ' err
	"
done

test_expect_success 'the schedule message says what is wrong and how it should look' '
	entrypoint_fails BACKUP_SCHEDULE="0 24 * * *" &&
	grep -q "BACKUP_SCHEDULE: ${SQ}0 24 \* \* \*$SQ is not a cron expression: hour: 24 is out of range (0-23)$" err &&
	grep -q "hint: five fields: minute hour day-of-month month day-of-week" err
'

test_expect_success 'a date that never comes is refused' '
	entrypoint_fails BACKUP_SCHEDULE="0 2 30 2 *" &&
	grep -q "BACKUP_SCHEDULE: ${SQ}0 2 30 2 \*$SQ never comes" err
'

test_expect_success 'a malformed variable bk_start knows is exit 2 naming it' '
	entrypoint_fails POSTGRES_PORT=abc &&
	grep -q "configuration: POSTGRES_PORT: ${SQ}abc$SQ is not a whole number" err
'

test_expect_success 'a password given twice, differently, is refused; the same twice is not' '
	printf "one\n" >pw1 &&
	entrypoint_fails POSTGRES_PASSWORD=two POSTGRES_PASSWORD_FILE="$TRASH/pw1" &&
	grep -q "configuration: POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are both set; use one" err &&
	POSTGRES_PASSWORD=one POSTGRES_PASSWORD_FILE="$TRASH/pw1" BACKUP_SCHEDULE="0 0 30 2 *" \
		test_expect_code 2 bk-run --entrypoint 2>err &&
	grep -q "BACKUP_SCHEDULE: .* never comes" err
'

test_expect_success 'an unknown time zone is refused (glibc would silently use UTC)' '
	entrypoint_fails TZ=Asia/Bankok &&
	grep -q "configuration: TZ: unknown time zone ${SQ}Asia/Bankok$SQ" err
'

test_expect_success 'known zones and POSIX TZ strings are accepted' '
	for tz in Asia/Bangkok UTC :Europe/Berlin ICT-7; do
		rm -rf "$BACKUP_RUN_DIR" &&
		TZ=$tz BACKUP_SCHEDULE="0 0 30 2 *" test_expect_code 2 bk-run --entrypoint 2>err &&
		grep -q "BACKUP_SCHEDULE: .* never comes" err || return 1
	done
'

test_expect_success 'no ADMIN_EMAILS is refused, naming it' '
	entrypoint_fails ADMIN_EMAILS= &&
	grep -q "configuration: ADMIN_EMAILS is not set" err
'

test_expect_success 'no SMTP_HOST and no outbox is refused, naming SMTP_HOST' '
	entrypoint_fails BACKUP_MAIL_OUTBOX= &&
	grep -q "configuration: SMTP_HOST is not set" err
'

test_expect_success 'a malformed DATABASE_URL is refused without showing it' '
	entrypoint_fails DATABASE_URL="postgresql://u:Sup3rSecretPw@h:5432/d?nosuch=1" &&
	grep -q "configuration: DATABASE_URL: not a valid connection URI or string" err &&
	! grep -q Sup3rSecretPw err
'

test_expect_success 'BACKUP_DIR that is not a directory is refused, naming it' '
	echo file >notadir &&
	entrypoint_fails BACKUP_DIR="$TRASH/notadir" &&
	grep -q "configuration: BACKUP_DIR: $TRASH/notadir is not a directory" err
'

test_expect_success 'an unreadable BACKUP_SCOPE is refused, naming it' '
	entrypoint_fails BACKUP_SCOPE="$TRASH/no-such-scope" &&
	grep -q "configuration: BACKUP_SCOPE: cannot read $TRASH/no-such-scope" err
'

test_expect_success '--entrypoint with --dry-run or an argument is a usage error' '
	test_expect_code 2 bk-run --entrypoint --dry-run 2>err &&
	grep -q "^bk-run: --entrypoint takes no other option but --env-file$" err &&
	test_expect_code 2 bk-run --entrypoint extra 2>err &&
	grep -q "^bk-run: unexpected argument" err
'

# The real thing: a database, a password given only as a file, a schedule of
# every minute. The entrypoint runs in the background until SIGTERM.
pg_start && pg_load_fixture || exit 1
mkdir -p "$BACKUP_CONFIG_DIR/ssl" secrets
echo "APP=1" >"$BACKUP_CONFIG_DIR/.env.production"
echo "services: {}" >"$BACKUP_CONFIG_DIR/docker-compose.prod.yml"
echo "events {}" >"$BACKUP_CONFIG_DIR/nginx.prod.conf"
echo "CERT" >"$BACKUP_CONFIG_DIR/ssl/cert.pem"
(umask 077 && printf '%s\n' "$POSTGRES_PASSWORD" >secrets/pgpass)
pg_password=$POSTGRES_PASSWORD
unset POSTGRES_PASSWORD
export POSTGRES_PASSWORD_FILE=$TRASH/secrets/pgpass
export BACKUP_SCHEDULE='* * * * *'
export SMTP_FROM=bk@example.com
# A value with quotes, backslashes, a dollar and a newline, and its .env line.
export BACKUP_NOTE='a "quoted" \$HOME \\ and
a second line'
cat >note.line <<\EOF
BACKUP_NOTE="a \"quoted\" \\$HOME \\\\ and\na second line"
EOF
export TZ=Asia/Bangkok

stop_entrypoint() {
	[ -f ep.pid ] && kill "$(cat ep.pid)" 2>/dev/null
	rm -f ep.pid
}
test_atexit stop_entrypoint

test_expect_success 'the entrypoint starts and writes its files' '
	(bk-run --entrypoint >ep.out 2>ep.err & echo $! >ep.pid; wait $!; echo $? >ep.rc) &
	i=0 &&
	until grep -q "next backup at " ep.err 2>/dev/null; do
		i=$((i + 1)) && test $i -le 300 && test ! -f ep.rc && sleep 0.1 || {
			cat ep.err; exit 1; }
	done &&
	test "$(stat -c %a "$BACKUP_RUN_DIR")" = 700 &&
	test "$(stat -c %a "$BACKUP_RUN_DIR/env")" = 600 &&
	test "$(stat -c %a "$BACKUP_RUN_DIR/crontab")" = 600
'

test_expect_success 'the env file: configuration variables, *_FILE kept as a reference' '
	cat >expect <<-EOF &&
	# bk: the cron jobs$SQ configuration, written by bk-run --entrypoint at container start (mode 0600).
	ADMIN_EMAILS="admin@example.com"
	BACKUP_CONFIG_DIR="$BACKUP_CONFIG_DIR"
	BACKUP_DIR="$BACKUP_DIR"
	BACKUP_LOG="$BACKUP_LOG"
	BACKUP_MAIL_OUTBOX="$BACKUP_MAIL_OUTBOX"
	BACKUP_MIN_SIZE_MB="0"
	EOF
	cat note.line >>expect &&
	cat >>expect <<-EOF &&
	BACKUP_SCHEDULE="* * * * *"
	BACKUP_TMPDIR="$BACKUP_TMPDIR"
	POSTGRES_DB="smart_ai_hub"
	POSTGRES_HOST="127.0.0.1"
	POSTGRES_PASSWORD_FILE="$TRASH/secrets/pgpass"
	POSTGRES_PORT="$POSTGRES_PORT"
	POSTGRES_USER="postgres"
	SMTP_FROM="bk@example.com"
	TZ="Asia/Bangkok"
	EOF
	test_cmp expect "$BACKUP_RUN_DIR/env"
'

test_expect_success 'the crontab: BACKUP_SCHEDULE for bk-run, hourly bk-monitor --alert' '
	grep -v "^#" "$BACKUP_RUN_DIR/crontab" >jobs &&
	cat >expect <<-EOF &&
	* * * * * $BK_BUILD_DIR/bin/bk-run --env-file $BACKUP_RUN_DIR/env
	30 * * * * $BK_BUILD_DIR/bin/bk-monitor --alert --env-file $BACKUP_RUN_DIR/env
	EOF
	test_cmp expect jobs
'

test_expect_success 'the start is logged with the next run in local time' '
	grep -q "INFO bk-cron\[[0-9]*\]: next backup at 20[0-9-]*T[0-9:]*:00+07:00$" ep.err &&
	grep -q "INFO bk-cron\[[0-9]*\]: next backup at " "$BACKUP_LOG"
'

test_expect_success 'cron runs bk-run with the env file: an archive, a mail, the status' '
	i=0 &&
	# bk-run prints the archive path last, after the mail and the prune: the
	# status file alone appears before those are done.
	until grep -q "$BACKUP_DIR/critical_backup_" ep.out 2>/dev/null; do
		i=$((i + 1)) && test $i -le 1500 && test ! -f ep.rc && sleep 0.1 || {
			cat ep.err; exit 1; }
	done &&
	test -s "$BACKUP_DIR/.last_backup_success" &&
	ls "$BACKUP_DIR"/critical_backup_*.tar.gz >archives &&
	test $(wc -l <archives) -ge 1 &&
	bk-verify "$(head -n 1 archives)" >/dev/null &&
	ls "$BACKUP_MAIL_OUTBOX"/*.eml >/dev/null
'

test_expect_success 'the job ran with a clean environment (the password only by file)' '
	grep -q "INFO bk-cron\[[0-9]*\]: started $BK_BUILD_DIR/bin/bk-run --env-file " ep.err &&
	! grep -q "are both set" ep.err
'

test_expect_success "job output reaches the entrypoint's stderr, the tools log to BACKUP_LOG" '
	grep -q "INFO bk-run\[[0-9]*\]: " ep.err &&
	grep -q "INFO bk-run\[[0-9]*\]: " "$BACKUP_LOG" &&
	grep -q "$BACKUP_DIR/critical_backup_" ep.out
'

test_expect_success 'the password is in no log, output or file of the entrypoint' '
	! grep -rqF "$pg_password" ep.out ep.err "$BACKUP_LOG" "$BACKUP_RUN_DIR"
'

test_expect_success 'SIGTERM: the entrypoint stops and exits 0' '
	kill -TERM "$(cat ep.pid)" &&
	i=0 &&
	until test -f ep.rc; do
		i=$((i + 1)) && test $i -le 600 && sleep 0.1 || exit 1
	done &&
	test "$(cat ep.rc)" = 0 &&
	grep -q "INFO bk-cron\[[0-9]*\]: stopped$" ep.err
'

test_done
