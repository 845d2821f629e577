#!/bin/bash
# The mail server down, rejecting the login, or slow, against real runs of
# bk-run: 3 attempts, then exit 1; the verified archive is kept under its
# final name and the success status says so, but a fail line "mail: ..."
# follows it in the history and bk-monitor reports that. A server that is
# slow but answers within the time allowed gets the backup once.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-smtp.sh"
. "$TEST_DIRECTORY/lib-fault.sh"
test_description 'mail server down, rejecting, slow'

test_need_programs bk-run bk-export bk-pack bk-verify bk-mail bk-monitor
smtp_check_deps
pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0 BK_MAIL_RETRY_DELAY_MS=50
export ADMIN_EMAILS=admin@example.com,ops@example.com SMTP_FROM=backup@example.com
mkdir -p "$BACKUP_CONFIG_DIR"
echo "services: {}" >"$BACKUP_CONFIG_DIR/docker-compose.prod.yml"

smtp_start
GOOD_PORT=$SMTP_TEST_PORT GOOD_DIR=$SMTP_TEST_DIR
smtp_start --slow 1
SLOW_PORT=$SMTP_TEST_PORT SLOW_DIR=$SMTP_TEST_DIR
smtp_start --slow 30
STUCK_PORT=$SMTP_TEST_PORT STUCK_DIR=$SMTP_TEST_DIR
# A port where a server was: nothing listens there now.
smtp_start
DOWN_PORT=$SMTP_TEST_PORT
smtp_stop
export SMTP_PORT=$GOOD_PORT

test_expect_success 'a good run mails the backup' '
	fault_run >path &&
	test $(smtp_count "$GOOD_DIR") = 1 &&
	bk-monitor
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

# mail_fails [N]: the run just made ($rc, out, err) failed at delivery only,
# after N attempts per mail (3; 1 for a permanent error, which is not retried).
mail_fails() {
	local n=${1:-3}
	test "$rc" = 1
	test ! -s out
	ls "$BACKUP_DIR"/critical_backup_*.tar.gz >archives.after
	comm -13 archives.before archives.after >new
	test $(wc -l <new) = 1
	bk-verify "$(cat new)" >/dev/null
	test "$(cat "$BACKUP_DIR/.last_backup_success")" -gt "$(cat success.before)"
	tail -n 2 "$BACKUP_DIR/.backup_history" | cut -f 2,5,6 >last
	cat last
	sed -n 1p last >ok-line
	printf "ok\t%s\t%s\n" "$(basename "$(cat new)")" "$(history_note "$(cat new)")" >expect
	test_cmp expect ok-line
	sed -n 2p last >fail-line
	if [ "$n" = 1 ]; then
		grep "^fail	-	mail: cannot send mail via 127.0.0.1:$SMTP_PORT after 1 attempt: " fail-line
	else
		grep "^fail	-	mail: cannot send mail via 127.0.0.1:$SMTP_PORT after $n attempts: " fail-line
	fi
	# n attempts for the backup, then n for the alert about it
	grep -c "WARN bk-mail\[[0-9]*\]: mail attempt [123] of 3 failed" err >attempts
	echo $((2 * n)) >expect && test_cmp expect attempts
	grep "ERROR bk-run\[[0-9]*\]: alert could not be sent" err
	test_expect_code 1 bk-monitor >status
	echo "unhealthy: last run failed: $(cut -f 3 fail-line)" >expect
	test_cmp expect status
}

start() {
	fault_next_second
	ls "$BACKUP_DIR"/critical_backup_*.tar.gz >archives.before
	cp "$BACKUP_DIR/.last_backup_success" success.before
	rc=0
}

test_expect_success 'server down: 3 attempts, the backup kept, the failure recorded' '
	start &&
	SMTP_PORT=$DOWN_PORT fault_run >out 2>err || rc=$? &&
	SMTP_PORT=$DOWN_PORT mail_fails &&
	grep -i "connect" fail-line
'

test_expect_success 'wrong password: 1 attempt (not retried), the backup kept, the failure recorded' '
	start &&
	SMTP_PASS=wrong-$SMTP_PASS fault_run >out 2>err || rc=$? &&
	mail_fails 1 &&
	grep -i "login denied" fail-line &&
	grep -c " fail$" "$GOOD_DIR/auth.log" >fails &&
	echo 2 >expect && test_cmp expect fails &&
	test $(smtp_count "$GOOD_DIR") = 1 &&
	! grep -F "wrong-$SMTP_PASS" err "$BACKUP_LOG"
'

test_expect_success 'server slower than the time allowed: 3 attempts cut short, nothing sent' '
	start &&
	SMTP_PORT=$STUCK_PORT BK_MAIL_TIMEOUT_MS=1000 fault_run >out 2>err || rc=$? &&
	SMTP_PORT=$STUCK_PORT mail_fails &&
	grep -i "timeout\|timed out" fail-line &&
	test $(wc -l <"$STUCK_DIR/connections.log") = 6 &&
	test $(smtp_count "$STUCK_DIR") = 0
'

test_expect_success 'a slow server that answers in time gets the backup, once' '
	fault_next_second &&
	SMTP_PORT=$SLOW_PORT fault_run >path 2>err &&
	test $(smtp_count "$SLOW_DIR") = 1 &&
	test $(wc -l <"$SLOW_DIR/connections.log") = 1 &&
	tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f 2 >result &&
	echo ok >expect && test_cmp expect result &&
	bk-monitor
'

test_done
