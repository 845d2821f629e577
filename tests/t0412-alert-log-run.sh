#!/bin/bash
# The log excerpt of a failure alert holds the failing run's lines (from its
# "bk-run[PID]: backup started" line on), not the end of the good run
# before it; and a run's lines of a big log still end at the error.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-smtp.sh"
test_description 'the alert shows the failing run in the log'

test_need_programs bk-run bk-export bk-pack bk-verify bk-mail
[ -x "$SMTP_TEST_PYTHON" ] || test_skip_all "no $SMTP_TEST_PYTHON to parse mail"
pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0
export ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com
export BACKUP_MAIL_OUTBOX=$TRASH/outbox
mkdir -p "$BACKUP_MAIL_OUTBOX" "$BACKUP_CONFIG_DIR"

# excerpt EML: the "Last lines of the log" block of the alert, unindented.
excerpt() {
	rm -rf parsed && mail_parse "$1" parsed &&
	sed -n "/^Last lines of the log/,/^\$/p" parsed/text | sed "1,2d; /^\$/d; s/^    //"
}

test_expect_success 'a good run, then one that fails: the excerpt is the failing run' '
	bk-run >path 2>err &&
	good=$(sed -n "s/.* INFO bk-run\[\([0-9]*\)\]: backup started.*/\1/p" "$BACKUP_LOG" | tail -n 1) &&
	test -n "$good" &&
	pg_stop &&
	test_expect_code 1 bk-run >out 2>err &&
	bad=$(sed -n "s/.* INFO bk-run\[\([0-9]*\)\]: backup started.*/\1/p" "$BACKUP_LOG" | tail -n 1) &&
	test "$bad" != "$good" &&
	alert=$(ls "$BACKUP_MAIL_OUTBOX"/*-alert.eml) &&
	excerpt "$alert" >lines &&
	cat lines &&
	head -n 1 lines | grep "INFO bk-run\[$bad\]: backup started" &&
	grep "ERROR bk-run\[$bad\]: backup failed at step export: cannot connect" lines &&
	grep "WARN bk-export\[[0-9]*\]: cannot connect .*(attempt 1 of 3)" lines &&
	! grep -e "bk-run\[$good\]" -e "bk-pack\[" -e "bk-verify\[" lines
'

test_expect_success 'a monitor alert after the failure shows the same run' '
	bad=$(sed -n "s/.* INFO bk-run\[\([0-9]*\)\]: backup started.*/\1/p" "$BACKUP_LOG" | tail -n 1) &&
	good=$(sed -n "s/.* INFO bk-run\[\([0-9]*\)\]: backup started.*/\1/p" "$BACKUP_LOG" | head -n 1) &&
	rm -f "$BACKUP_MAIL_OUTBOX"/*.eml &&
	test_expect_code 1 bk-monitor --alert >status &&
	excerpt "$(ls "$BACKUP_MAIL_OUTBOX"/*-alert.eml)" >lines2 &&
	head -n 1 lines2 | grep "INFO bk-run\[$bad\]: backup started" &&
	! grep "bk-run\[$good\]" lines2
'

test_expect_success 'a long run: its last 30 lines, ending at the error' '
	: >"$BACKUP_LOG" &&
	echo "2026-11-25T01:00:00+00:00 INFO bk-run[10]: backup started: database x" >>"$BACKUP_LOG" &&
	echo "2026-11-25T01:00:09+00:00 INFO bk-run[10]: backup finished in 9.0 s" >>"$BACKUP_LOG" &&
	echo "2026-11-25T02:00:00+00:00 INFO bk-run[20]: backup started: database x" >>"$BACKUP_LOG" &&
	for i in $(seq 1 40); do
		echo "2026-11-25T02:00:01+00:00 INFO bk-export[21]: exported table $i" >>"$BACKUP_LOG"
	done &&
	echo "2026-11-25T02:00:02+00:00 ERROR bk-run[20]: backup failed at step export: boom" >>"$BACKUP_LOG" &&
	bk-mail --alert "backup failed at step export" --reason boom --cause failed:export >path &&
	excerpt "$(cat path)" >lines3 &&
	test "$(wc -l <lines3)" = 30 &&
	tail -n 1 lines3 | grep -q "ERROR bk-run\[20\]: backup failed at step export: boom" &&
	! grep -q "bk-run\[10\]" lines3
'

test_done
