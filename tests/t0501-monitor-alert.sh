#!/bin/bash
# bk-monitor --alert: one alert per incident through the real bk-mail (writing
# .eml files to BACKUP_MAIL_OUTBOX), a new one when the cause changes or the
# repeat interval has passed, one "recovered" message, retry when mail fails.
. "$(dirname "$0")/lib.sh"
test_description 'bk-monitor --alert: once per incident, recovery, retries'

test_need_programs bk-mail

export ADMIN_EMAILS=admin1@example.com,admin2@example.com
export SMTP_FROM=backup@example.com SMTP_HOST=127.0.0.1
export BACKUP_MAIL_OUTBOX=$TRASH/outbox
mkdir -p "$BACKUP_MAIL_OUTBOX" "$BACKUP_DIR"

now=$(date +%s)
MB=1048576
STATE=$BACKUP_DIR/.alert_state

# ok_run AGE_SECONDS: a successful 12 MB run AGE_SECONDS ago.
ok_run() {
	test_ok_run "$now" "$1" $((12 * MB))
}

# The decoded, unfolded Subject of every message in the outbox, oldest first.
subjects() {
	/usr/bin/python3 - "$BACKUP_MAIL_OUTBOX" <<-\EOF
	import email, email.policy, glob, os, sys
	files = sorted(glob.glob(os.path.join(sys.argv[1], "*.eml")),
	               key=lambda f: (os.stat(f).st_mtime_ns, f))
	for f in files:
	    with open(f, "rb") as fh:
	        m = email.message_from_binary_file(fh, policy=email.policy.default)
	    print(m["Subject"])
	EOF
}

# The text of the newest message (all text parts).
last_body() {
	/usr/bin/python3 - "$BACKUP_MAIL_OUTBOX" <<-\EOF
	import email, email.policy, glob, os, sys
	files = sorted(glob.glob(os.path.join(sys.argv[1], "*.eml")),
	               key=lambda f: (os.stat(f).st_mtime_ns, f))
	with open(files[-1], "rb") as fh:
	    m = email.message_from_binary_file(fh, policy=email.policy.default)
	for part in m.walk():
	    if part.get_content_type() == "text/plain":
	        print(part.get_content())
	EOF
}

mails() {
	find "$BACKUP_MAIL_OUTBOX" -name '*.eml' | wc -l
}

test_expect_success 'healthy and never alerted: no mail, no state' '
	ok_run 3600 &&
	bk-monitor --alert >out &&
	test "$(mails)" = 0 &&
	test_path_is_missing "$STATE" &&
	rm -f "$BACKUP_DIR"/.last_backup_* "$BACKUP_DIR"/.backup_history "$BACKUP_DIR"/critical_*
'

test_expect_success 'unhealthy: one alert naming the reason, the state written' '
	test_expect_code 1 bk-monitor --alert >out &&
	echo "unhealthy: no successful backup yet" >expect &&
	test_cmp expect out &&
	test "$(mails)" = 1 &&
	subjects >subj &&
	grep -q "unhealthy: no successful backup yet" subj &&
	last_body >body &&
	grep -q "no successful backup yet" body &&
	test_path_is_file "$STATE" &&
	test "$(stat -c %a "$STATE")" = 600 &&
	grep -q "^cause none$" "$STATE"
'

test_expect_success 'the same incident an hour later: no second alert' '
	test_expect_code 1 bk-monitor --alert >out &&
	test_expect_code 1 bk-monitor --alert >out &&
	test "$(mails)" = 1
'

test_expect_success 'the cause changes: a new alert' '
	ok_run $((26 * 3600)) &&
	test_expect_code 1 bk-monitor --alert >out &&
	test "$(mails)" = 2 &&
	subjects | tail -n 1 >subj &&
	grep -q "unhealthy: last success 26h ago (max 25h)" subj &&
	grep -q "^cause age$" "$STATE" &&
	test_expect_code 1 bk-monitor --alert >out &&
	test "$(mails)" = 2
'

test_expect_success 'the same cause after BACKUP_ALERT_REPEAT_HOURS: alerted again' '
	first=$(sed -n "s/^first //p" "$STATE") &&
	printf "cause age\nfirst %s\nlast %s\n" "$first" $((now - 25 * 3600)) >"$STATE" &&
	test_expect_code 1 bk-monitor --alert >out &&
	test "$(mails)" = 3 &&
	grep -q "^first $first$" "$STATE" &&
	last=$(sed -n "s/^last //p" "$STATE") &&
	test "$last" -ge "$now" &&
	printf "cause age\nfirst %s\nlast %s\n" "$first" $((now - 5 * 3600)) >"$STATE" &&
	BACKUP_ALERT_REPEAT_HOURS=4 test_expect_code 1 bk-monitor --alert >out &&
	test "$(mails)" = 4
'

test_expect_success 'health returns: one "recovered" message, the state removed' '
	ok_run 600 &&
	bk-monitor --alert >out &&
	test "$(mails)" = 5 &&
	subjects | tail -n 1 >subj &&
	grep -q "recovered: last backup 10m ago, 12 MB" subj &&
	test_path_is_missing "$STATE" &&
	bk-monitor --alert >out &&
	bk-monitor --alert >out &&
	test "$(mails)" = 5
'

test_expect_success 'bk-mail fails: exit 1, no state, retried on the next call' '
	ok_run $((30 * 3600)) &&
	: >"$TRASH/not-a-dir" &&
	BACKUP_MAIL_OUTBOX=$TRASH/not-a-dir test_expect_code 1 bk-monitor --alert >out 2>err &&
	grep -q "ERROR bk-monitor.*cannot send the alert" err &&
	test_path_is_missing "$STATE" &&
	test "$(mails)" = 5 &&
	test_expect_code 1 bk-monitor --alert >out &&
	test "$(mails)" = 6 &&
	grep -q "^cause age$" "$STATE"
'

test_expect_success 'the recovered message fails: the state stays, sent on the next call' '
	ok_run 300 &&
	BACKUP_MAIL_OUTBOX=$TRASH/not-a-dir test_expect_code 1 bk-monitor --alert >out 2>err &&
	echo "healthy: last backup 5m ago, 12 MB, 4/4 ok, newest $(cd "$BACKUP_DIR" && ls critical_* | tail -n 1)" >expect &&
	test_cmp expect out &&
	test_path_is_file "$STATE" &&
	test "$(mails)" = 6 &&
	bk-monitor --alert >out &&
	test "$(mails)" = 7 &&
	subjects | tail -n 1 | grep -q "recovered: " &&
	test_path_is_missing "$STATE"
'

test_expect_success 'an unreadable state file counts as alerted: recovery is announced' '
	echo "garbage" >"$STATE" &&
	bk-monitor --alert >out &&
	test "$(mails)" = 8 &&
	subjects | tail -n 1 | grep -q "recovered: " &&
	test_path_is_missing "$STATE"
'

test_expect_success 'the alert text lists every reason and the facts' '
	ok_run $((27 * 3600)) &&
	printf "%s\tfail\t0\t3.0\t-\t%s\n" $((now - 60)) "mail: SMTP server refused: 554 no" >>"$BACKUP_DIR/.backup_history" &&
	test_expect_code 1 bk-monitor --alert >out &&
	test "$(mails)" = 9 &&
	last_body >body &&
	grep -q "^ *- last success 27h ago (max 25h)$" body &&
	grep -q "^ *- last run failed: mail: SMTP server refused: 554 no$" body &&
	grep -q "^ *newest archive: critical_backup_" body &&
	grep -q "^cause age,failed:mail$" "$STATE"
'

test_expect_success 'a long subject is cut on a character boundary; the text has it all' '
	cause="เชื่อมต่อฐานข้อมูลไม่ได้ กรุณาตรวจสอบรหัสผ่านและชื่อผู้ใช้ของฐานข้อมูล" &&
	printf "%s\tfail\t0\t3.0\t-\texport: %s\n" $((now - 30)) "$cause" >>"$BACKUP_DIR/.backup_history" &&
	test_expect_code 1 bk-monitor --alert >out &&
	test "$(mails)" = 10 &&
	subjects | tail -n 1 >subj &&
	/usr/bin/python3 -c "
import sys
s = open(\"subj\", encoding=\"utf-8\").read().rstrip(\"\\n\")
assert s.endswith(\"...\"), s
assert \"\\ufffd\" not in s, s
assert \"unhealthy: last success 27h ago (max 25h); last run failed: export: เชื่อม\" in s, s
" &&
	last_body >body &&
	grep -q -F "last run failed: export: $cause" body
'

test_done
