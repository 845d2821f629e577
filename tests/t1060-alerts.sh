#!/bin/bash
# Each row of the spec's error table, caused for real through bk-run, gives
# its alert: an "[bk] ALERT: backup failed at step STEP: WHAT" mail with the
# cause, a fail history line, no archive under a final name and no change
# of the success status (but for a failed delivery, where the verified
# backup is kept). Causes: the server stopped (3 connection attempts), a
# missing table with BACKUP_STRICT=1, the export changed under bk-pack, the
# archive damaged before bk-verify read it (both held by SIGSTOP at a system
# call, strace), a mail server refusing the backup's size.
# Disk full is in t1020-disk-full.sh.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-smtp.sh"
. "$TEST_DIRECTORY/lib-fault.sh"
test_description 'an alert for each failure of the error table'

test_need_programs bk-run bk-export bk-pack bk-verify bk-mail bk-monitor
"$SMTP_TEST_PYTHON" -c 'import email' 2>/dev/null || test_skip_all "no python3 to parse mail"
pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0
export ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com
export BACKUP_MAIL_OUTBOX=$TRASH/outbox
mkdir -p "$BACKUP_MAIL_OUTBOX" "$BACKUP_CONFIG_DIR"
echo "services: {}" >"$BACKUP_CONFIG_DIR/docker-compose.prod.yml"
test_atexit 'for p in $(fault_procs); do kill -CONT $p; kill -9 $p; done'
have_strace=0
fault_have_strace && have_strace=1 && fault_make_fakebin

test_expect_success 'setup: a good run' '
	fault_run >path &&
	bk-verify "$(cat path)" >/dev/null
'

# history_note ARCHIVE: the reason bk-run gives an ok run of ARCHIVE: "-", or
# "N warnings: FIRST" from the warnings of its MANIFEST.
history_note() {
	tar -xzOf "$1" MANIFEST | sed -n "s/^# warning: //p" >"$TRASH/notes" &&
	case $(wc -l <"$TRASH/notes") in
	0) echo - ;;
	1) echo "1 warning: $(head -n 1 "$TRASH/notes")" ;;
	*) echo "$(wc -l <"$TRASH/notes") warnings: $(head -n 1 "$TRASH/notes")" ;;
	esac
}

start() {
	fault_next_second
	fault_snapshot before
	lines=$(wc -l <"$BACKUP_DIR/.backup_history")
	ls "$BACKUP_MAIL_OUTBOX" >mails.before
	rc=0
}

# failed STEP: the run just made failed at STEP; nothing but a fail line.
failed() {
	test "$rc" = 1
	test ! -s out
	fault_wait_no_procs
	fault_snapshot after
	test_cmp before after
	test_path_is_missing "$BACKUP_DIR/.incoming"
	test -z "$(ls -A "$BACKUP_TMPDIR")"
	test "$(wc -l <"$BACKUP_DIR/.backup_history")" = $((lines + 1))
	tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f 2,5,6 >last
	cat last
	grep "^fail	-	$1: " last
	cut -f 3 last | cut -d" " -f2- >cause
}

# alert_in DIR STEP WHAT: the one new message in DIR (an outbox or an SMTP
# server's directory) is the alert for STEP, and its text gives the cause.
alert_in() {
	ls "$1" | grep "\.eml$" >mails.after
	comm -13 mails.before mails.after >new
	test $(wc -l <new) = 1
	rm -rf parsed && mail_parse "$1/$(cat new)" parsed
	echo "[bk] ALERT: backup failed at step $2${3:+: $3}" >expect
	test_cmp expect parsed/subject
	grep -F "$(cat cause)" parsed/text
}

pg_restart() {
	_pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PG_TEST_DATA" -l "$PG_TEST_LOG" -w start >/dev/null &&
	fault_poll "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT" -t 1
}

test_expect_success 'database connection failed: 3 attempts, then the alert' '
	start &&
	pg_stop &&
	{ fault_run >out 2>err || rc=$?; } &&
	pg_restart &&
	failed export &&
	grep "^fail	-	export: cannot connect to 127.0.0.1:$POSTGRES_PORT as postgres: " last &&
	grep "WARN bk-export\[[0-9]*\]: cannot connect to 127.0.0.1:$POSTGRES_PORT (attempt 1 of 3): .*; retrying in 2 s" err &&
	grep "WARN bk-export\[[0-9]*\]: cannot connect to 127.0.0.1:$POSTGRES_PORT (attempt 2 of 3): .*; retrying in 4 s" err &&
	! grep "attempt 3 of 3" err &&
	alert_in "$BACKUP_MAIL_OUTBOX" export "database connection failed"
'

test_expect_success 'export failed: a missing table with BACKUP_STRICT=1' '
	printf "%s\n" "users.sql users,user_roles,no_such_table" >strict.scope &&
	start &&
	{ BACKUP_STRICT=1 BACKUP_SCOPE=$TRASH/strict.scope fault_run >out 2>err || rc=$?; } &&
	failed export &&
	grep "no_such_table" last &&
	alert_in "$BACKUP_MAIL_OUTBOX" export
'

# held STEP SYSCALL N: start a run with STEP held at its Nth call of
# SYSCALL; sets HELD (the step's pid) and EXPORT (the run's export dir).
held() {
	echo "stop $2 $3" >"$FAULT_INJECT/$1"
	fault_start
	HELD=$(fault_wait_stopped "$FAULT_PID" "$1")
	rm "$FAULT_INJECT/$1"
	EXPORT=$(echo "$BACKUP_TMPDIR"/bk-run.*/export)
	test -d "$EXPORT"
}

if [ $have_strace = 1 ]; then
	test_expect_success 'compression failed: the export changed under bk-pack' '
		start &&
		held bk-pack openat 1 &&
		echo "-- changed" >>"$EXPORT/users.sql" &&
		kill -CONT $HELD &&
		{ wait $FAULT_PID || rc=$?; } &&
		failed pack &&
		grep "users.sql changed since MANIFEST was written" last &&
		alert_in "$BACKUP_MAIL_OUTBOX" pack "backup compression failed"
	'

	test_expect_success 'verification failed: the archive damaged before bk-verify read it' '
		start &&
		held bk-verify openat 1 &&
		pending=$(echo "$BACKUP_DIR"/.incoming/critical_backup_*.tar.gz) &&
		size=$(stat -c %s "$pending") &&
		test_flip_byte "$pending" $((size / 2)) &&
		kill -CONT $HELD &&
		{ wait $FAULT_PID || rc=$?; } &&
		failed verify &&
		alert_in "$BACKUP_MAIL_OUTBOX" verify "backup verification failed"
	'
else
	test_skip 'compression failed: the export changed under bk-pack' 'strace(1) missing'
	test_skip 'verification failed: the archive damaged before bk-verify read it' 'strace(1) missing'
fi

if "$SMTP_TEST_PYTHON" -c 'import aiosmtpd' 2>/dev/null && command -v openssl >/dev/null; then
	# The backup (about 100 KB attached) is too large for this server; the
	# alert is not.
	smtp_start --max-size 30000
	test_expect_success 'email delivery failed: the backup kept, the alert by mail' '
		start &&
		ls "$SMTP_TEST_DIR" >mails.before &&
		{ BACKUP_MAIL_OUTBOX= BK_MAIL_RETRY_DELAY_MS=50 fault_run >out 2>err || rc=$?; } &&
		test $rc = 1 &&
		test ! -s out &&
		ls "$BACKUP_DIR"/critical_backup_*.tar.gz >archives &&
		archive=$(tail -n 1 archives) &&
		bk-verify "$archive" >/dev/null &&
		test "$(cat "$BACKUP_DIR/.last_backup_success")" -gt "$(grep "^.last_backup_success " before | cut -d" " -f2)" &&
		tail -n 2 "$BACKUP_DIR/.backup_history" | cut -f 2,5,6 >last2 &&
		printf "ok\t%s\t%s\n" "$(basename "$archive")" "$(history_note "$archive")" >expect &&
		head -n 1 last2 >ok-line && test_cmp expect ok-line &&
		tail -n 1 last2 >last &&
		grep "^fail	-	mail: cannot send mail via 127.0.0.1:$SMTP_PORT after 1 attempt: " last &&
		test $(grep -c "WARN bk-mail\[[0-9]*\]: mail attempt [123] of 3 failed" err) = 1 &&
		cut -f 3 last | cut -d" " -f2- >cause &&
		alert_in "$SMTP_TEST_DIR" mail "email delivery failed"
	'
else
	test_skip 'email delivery failed: the backup kept, the alert by mail' 'python3-aiosmtpd or openssl missing'
fi

test_expect_success 'bk-monitor reports the last failure' '
	test_expect_code 1 bk-monitor >status &&
	echo "unhealthy: last run failed: $(cut -f 3 last)" >expect &&
	test_cmp expect status
'

test_done
