#!/bin/bash
# bk-monitor on status files written by real runs of bk-run against a real
# PostgreSQL: healthy after a good run, unhealthy with the step and cause after
# a failed one, one alert for it, one "recovered" message after the next good run.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'bk-monitor after real bk-run runs'

test_need_programs bk-run bk-export bk-pack bk-verify bk-prune bk-mail bk-monitor
pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0
export ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com SMTP_HOST=127.0.0.1
export BACKUP_MAIL_OUTBOX=$TRASH/outbox
mkdir -p "$BACKUP_MAIL_OUTBOX" "$BACKUP_CONFIG_DIR"
echo "services: {}" >"$BACKUP_CONFIG_DIR/docker-compose.prod.yml"

alerts() {
	find "$BACKUP_MAIL_OUTBOX" -name '*.eml' | wc -l
}

test_expect_success 'before the first run: unhealthy' '
	mkdir -p "$BACKUP_DIR" &&
	test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: no successful backup yet" >expect &&
	test_cmp expect out
'

test_expect_success 'after a good run: healthy, the archive and its size named' '
	bk-run --no-mail >path &&
	archive=$(cat path) &&
	bytes=$(stat -c %s "$archive") &&
	bk-monitor >out &&
	test "$bytes" -lt 1048576 &&
	kb=$(awk -v n="$bytes" "BEGIN { v = n / 1024; printf(v < 9.95 ? \"%.1f\" : \"%.0f\", v) }") &&
	echo "healthy: last backup 0m ago, $kb KB, 1/1 ok, newest $(basename "$archive")" >expect &&
	test_cmp expect out &&
	bk-monitor --prometheus bk.prom >out &&
	grep -q "^bk_last_backup_size_bytes $bytes$" bk.prom &&
	grep -q "^bk_healthy 1$" bk.prom
'

test_expect_success 'after a failed run: unhealthy, with the step and cause from the history' '
	POSTGRES_PASSWORD=wrong-password test_expect_code 1 bk-run --no-mail >out 2>err &&
	tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f 2,6 >last &&
	reason=$(cut -f 2 last) &&
	case $reason in export:*) ;; *) echo "unexpected reason: $reason"; false ;; esac &&
	test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: last run failed: $reason" >expect &&
	test_cmp expect out
'

test_expect_success 'one alert for that incident, however often the monitor runs' '
	test_expect_code 1 bk-monitor --alert >out &&
	test_expect_code 1 bk-monitor --alert >out &&
	test "$(alerts)" = 1 &&
	grep -q "^cause failed:export$" "$BACKUP_DIR/.alert_state"
'

test_expect_success 'the next good run: healthy, one "recovered" message' '
	bk-run --no-mail >path &&
	bk-monitor --alert >out &&
	bk-monitor --alert >out &&
	test "$(alerts)" = 2 &&
	test_path_is_missing "$BACKUP_DIR/.alert_state" &&
	echo "healthy: last backup 0m ago, " >expect &&
	cut -c1-29 out >actual &&
	test_cmp expect actual &&
	grep -q ", 2/3 ok, newest $(basename "$(cat path)")$" out
'

test_expect_success 'bk-prune keeps the fresh archives of real runs' '
	bk-prune >out &&
	test ! -s out &&
	test "$(ls "$BACKUP_DIR"/critical_backup_*.tar.gz | wc -l)" = 2
'

test_done
