#!/bin/bash
# The end of an incident is a green "recovered" mail, not a red alert with a
# failure checklist: its subject starts "[bk] recovered:", it says what was
# wrong (the alerted status line, kept in .alert_state) and for how long.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-smtp.sh"
test_description 'the recovered mail'

test_need_programs bk-mail bk-monitor
[ -x "$SMTP_TEST_PYTHON" ] || test_skip_all "no $SMTP_TEST_PYTHON to parse mail"

export ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com
export BACKUP_MAIL_OUTBOX=$TRASH/outbox
mkdir -p "$BACKUP_MAIL_OUTBOX"
mkdir -m 700 "$BACKUP_DIR"
now=$(date +%s)
MB=1048576
STATE=$BACKUP_DIR/.alert_state

ok_run() {
	test_ok_run "$now" "$1" $((12 * MB))
}

newest_mail() {
	ls -t "$BACKUP_MAIL_OUTBOX"/*.eml | head -n 1
}

test_expect_success 'setup: an alert for a backup 30 hours old' '
	ok_run $((30 * 3600)) &&
	test_expect_code 1 bk-monitor --alert >status &&
	echo "unhealthy: last success 30h ago (max 25h)" >expect &&
	test_cmp expect status &&
	grep -x "reason unhealthy: last success 30h ago (max 25h)" "$STATE"
'

test_expect_success 'health returns: a green recovered mail, what was wrong, how long' '
	first=$((now - 3 * 3600 - 20 * 60)) &&
	sed -i "s/^first .*/first $first/" "$STATE" &&
	ok_run 600 &&
	bk-monitor --alert >status &&
	test "$(ls "$BACKUP_MAIL_OUTBOX"/*.eml | wc -l)" = 2 &&
	mail_parse "$(newest_mail)" parsed &&
	grep -q "^\[bk\] recovered: last backup 10m ago, 12 MB" parsed/subject &&
	! grep -q "ALERT" parsed/subject &&
	sed -n "/^What was wrong/,\$p" parsed/text >wrong &&
	grep -x "    unhealthy: last success 30h ago (max 25h)" wrong &&
	grep -q "For at least 3 h 20 min: first alerted at $(date -d @$first +%Y-%m-%dT%H:%M:%S+00:00)" wrong &&
	grep -q "<h2 style=\"color:#1a7f37\">Backups healthy again</h2>" parsed/html &&
	! grep -q "#cf222e" parsed/html &&
	! grep -q "What to check" parsed/text &&
	! grep -q "Failed step" parsed/text &&
	test_path_is_missing "$STATE"
'

test_expect_success 'bk-mail --recovered: usage' '
	test_expect_code 2 bk-mail --recovered "" 2>err &&
	grep -q "recovered: the subject is empty" err &&
	test_expect_code 2 bk-mail --recovered x --alert y 2>err &&
	grep -q "give exactly one of" err &&
	test_expect_code 2 bk-mail --recovered x --cause age 2>err &&
	grep -q "cause goes with --alert" err
'

test_done
