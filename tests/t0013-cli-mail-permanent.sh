#!/bin/bash
# bk-mail against the real test SMTP server (aiosmtpd): a permanent error
# (535 login refused, untrusted certificate, 5xx) ends delivery after one
# attempt, for --test and for real sends, instead of retrying for 30 s; a
# transient one is still retried. SMTP_PORT and SMTP_TLS that cannot work
# together (465 with starttls, 587 with tls) are a configuration error.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-smtp.sh"
test_description 'bk-mail: permanent errors are not retried'

smtp_check_deps
smtp_start --max-size 300
SMALL_DIR=$SMTP_TEST_DIR SMALL_PORT=$SMTP_TEST_PORT
smtp_start
export ADMIN_EMAILS=admin@example.org SMTP_FROM=bk@example.org
# No BK_MAIL_RETRY_DELAY_MS: the real pauses (10 s, 20 s) would apply if
# bk-mail retried; the assertions count attempts, not time.

# mail_attempts LOG: how many attempts bk-mail started.
mail_attempts() {
	grep -c " bk-mail\[[0-9]*\]: mail attempt [0-9] of 3: [^a]" "$1"
}

connections() {
	if [ -f "$1/connections.log" ]; then wc -l <"$1/connections.log"; else echo 0; fi
}

test_expect_success 'bk-mail --test, wrong password: one AUTH, one attempt, exit 1' '
	: >"$BACKUP_LOG" &&
	test_expect_code 1 env SMTP_PASS=wrong bk-mail --test >out 2>err &&
	test "$(smtp_auth_attempts "$SMTP_TEST_DIR")" = 1 &&
	test "$(mail_attempts "$BACKUP_LOG")" = 1 &&
	grep -q "mail attempt 1 of 3 failed after [0-9.]* s: Login denied (server said: 535 .*); not retried: the same error would come again\$" err &&
	grep -q "ERROR bk-mail\[[0-9]*\]: cannot send mail via 127.0.0.1:$SMTP_PORT after 1 attempt: Login denied" err &&
	grep -q "hint: check SMTP_USER and SMTP_PASS" err
'

test_expect_success 'a real send (--alert), wrong password: one attempt too' '
	: >"$BACKUP_LOG" &&
	test_expect_code 1 env SMTP_PASS=wrong bk-mail --alert "disk full" >out 2>err &&
	test "$(smtp_auth_attempts "$SMTP_TEST_DIR")" = 2 &&
	test "$(mail_attempts "$BACKUP_LOG")" = 1
'

test_expect_success 'untrusted certificate: one connection, one attempt, the CA hint' '
	: >"$BACKUP_LOG" &&
	before=$(connections "$SMTP_TEST_DIR") &&
	test_expect_code 1 env -u SMTP_CA_FILE bk-mail --test >out 2>err &&
	test "$(connections "$SMTP_TEST_DIR")" = $((before + 1)) &&
	test "$(mail_attempts "$BACKUP_LOG")" = 1 &&
	grep -q "after 1 attempt: SSL certificate problem" err &&
	grep -q "hint: .*SMTP_CA_FILE" err
'

test_expect_success 'a 5xx reply (message too large): one attempt' '
	: >"$BACKUP_LOG" &&
	test_expect_code 1 env SMTP_PORT=$SMALL_PORT \
		SMTP_CA_FILE=$SMTP_TEST_CERTS/localhost.crt bk-mail --test >out 2>err &&
	test "$(connections "$SMALL_DIR")" = 1 &&
	test "$(mail_attempts "$BACKUP_LOG")" = 1 &&
	grep -q "server said: 552 " err
'

test_expect_success 'a server that is down is still retried (3 attempts)' '
	: >"$BACKUP_LOG" &&
	test_expect_code 1 env BK_MAIL_RETRY_DELAY_MS=20 SMTP_PORT=$(test_free_port) \
		bk-mail --test >out 2>err &&
	test "$(mail_attempts "$BACKUP_LOG")" = 3
'

test_expect_success 'port 465 with SMTP_TLS=starttls: exit 2 with the fix, nothing sent' '
	: >"$BACKUP_LOG" &&
	test_expect_code 2 env SMTP_PORT=465 SMTP_TLS=starttls bk-mail --test >out 2>err &&
	test ! -s out &&
	grep -q "ERROR bk-mail\[[0-9]*\]: SMTP_PORT 465 is implicit TLS (smtps), but SMTP_TLS is starttls" err &&
	grep -q "hint: set SMTP_TLS=tls for port 465, or SMTP_PORT=587 for starttls\$" err &&
	test "$(mail_attempts "$BACKUP_LOG")" = 0
'

test_expect_success 'port 587 with SMTP_TLS=tls: exit 2 with the fix' '
	test_expect_code 2 env SMTP_PORT=587 SMTP_TLS=tls bk-mail --test >out 2>err &&
	grep -q "SMTP_PORT 587 is STARTTLS (submission), but SMTP_TLS is tls" err &&
	grep -q "hint: set SMTP_TLS=starttls for port 587, or SMTP_PORT=465 for tls\$" err
'

test_expect_success 'bk-run refuses the same combination at start' '
	test_expect_code 2 env SMTP_PORT=465 SMTP_TLS=starttls bk-run -n 2>err &&
	grep -q "SMTP_PORT 465 is implicit TLS" err
'

test_done
