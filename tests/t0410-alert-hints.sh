#!/bin/bash
# Each cause of a bk-monitor alert gets its own hints, passed as a cause
# (bk-mail --cause), never guessed from words of the text: no backup in
# BACKUP_MAX_AGE_HOURS → the scheduler and the container; a size out of
# bounds → the scope and BACKUP_INFO.txt; little free space → disk space; a
# failed step → that step. The table says "none" for no failed step, leaves
# out "Failed runs since 0", and shows sizes and ages in one format.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-smtp.sh"
test_description 'alert hints per cause'

test_need_programs bk-mail bk-monitor
[ -x "$SMTP_TEST_PYTHON" ] || test_skip_all "no $SMTP_TEST_PYTHON to parse mail"

export ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com
export BACKUP_MAIL_OUTBOX=$TRASH/outbox
mkdir -p "$BACKUP_MAIL_OUTBOX" "$BACKUP_DIR"
chmod 700 "$BACKUP_DIR"
now=$(date +%s)
MB=1048576

# ok_run AGE_SECONDS BYTES: a successful run AGE_SECONDS ago.
ok_run() {
	test_ok_run "$now" "$1" "$2"
}

fresh() {
	rm -rf "$BACKUP_DIR" "$BACKUP_MAIL_OUTBOX" parsed &&
	mkdir -m 700 "$BACKUP_DIR" && mkdir "$BACKUP_MAIL_OUTBOX"
}

# alert: bk-monitor --alert mails one alert; parse it into ./parsed and
# the "What to check" list into ./hints.
alert() {
	test_expect_code 1 bk-monitor --alert >status "$@" &&
	test "$(ls "$BACKUP_MAIL_OUTBOX" | wc -l)" = 1 &&
	mail_parse "$BACKUP_MAIL_OUTBOX"/*.eml parsed &&
	sed -n "/^What to check/,/^Last lines/p" parsed/text >hints
}

DISK_HINT="Free space in BACKUP_DIR"

test_expect_success 'no backup for 30 hours: the scheduler, the container, the last error' '
	fresh &&
	ok_run $((30 * 3600)) $((12 * MB)) &&
	printf "%s\tfail\t0\t3.0\t-\t%s\n" $((now - 4 * 3600)) "export: cannot connect to db:5432" \
		>>"$BACKUP_DIR/.backup_history" &&
	BACKUP_MAX_AGE_HOURS=25 alert &&
	grep -q "docker compose ps" hints &&
	grep -q "docker compose logs backup" hints &&
	grep -q "BACKUP_SCHEDULE" hints &&
	! grep -q "$DISK_HINT" hints &&
	! grep -q "free space" parsed/subject &&
	grep -x "Failed step        export" parsed/text
'

test_expect_success 'no backup, last run ok: failed step "none", the scheduler first' '
	fresh &&
	ok_run $((30 * 3600)) $((12 * MB)) &&
	alert &&
	grep -x "Failed step        none" parsed/text &&
	! grep -q "not stated" parsed/text &&
	! grep -q "Failed runs since" parsed/text &&
	sed -n "/^  - /{p;q}" hints >first &&
	grep -q "scheduler" first &&
	! grep -q "$DISK_HINT" hints
'

test_expect_success 'the last good backup: one age format, one size, no second size' '
	grep -x "Last good backup   .* (30 h ago), critical_backup_.*" parsed/text &&
	grep -x "Its size           12 MB" parsed/text &&
	! grep -q "hours ago" parsed/text &&
	! grep -q "KB" parsed/text &&
	! grep -q "last backup size" parsed/text
'

test_expect_success 'a backup just made but too small: the scope and BACKUP_INFO.txt' '
	fresh &&
	ok_run 60 $((300 * 1024)) &&
	BACKUP_MIN_SIZE_MB=1 alert &&
	echo "unhealthy: last backup 300 KB, below the minimum 1 MB" >expect &&
	test_cmp expect status &&
	grep -q "BACKUP_INFO.txt" hints &&
	grep -q "bk-export --plan" hints &&
	! grep -q "$DISK_HINT" hints &&
	! grep -q "docker compose" hints &&
	grep -x "Last good backup   .* (1 min ago), critical_backup_.*" parsed/text &&
	grep -x "Its size           300 KB" parsed/text
'

test_expect_success 'little free space: the disk-space hint' '
	fresh &&
	free=$(df -B1 --output=avail "$BACKUP_DIR" | tail -n 1 | tr -d " ") &&
	size=$((free / 2 + 64 * MB)) &&
	if [ $((size / MB)) -ge 1000000 ]; then
		echo "# $BACKUP_DIR has too much free space for this test" && exit 0
	fi &&
	ok_run 60 "$size" &&
	BACKUP_MAX_SIZE_MB=1000000 alert &&
	grep -q "free space in $BACKUP_DIR is" status &&
	grep -q "Free space in BACKUP_DIR (df -h)" hints &&
	! grep -q "docker compose" hints &&
	! grep -q "BACKUP_INFO.txt" hints
'

test_expect_success 'the last run failed at a step: that step, named, and its hints' '
	fresh &&
	ok_run 3600 $((12 * MB)) &&
	printf "%s\tfail\t0\t3.0\t-\t%s\n" $((now - 60)) "mail: SMTP server refused: 554 no" \
		>>"$BACKUP_DIR/.backup_history" &&
	alert &&
	grep -x "Failed step        mail" parsed/text &&
	grep -x "Failed runs since  1" parsed/text &&
	grep -q "bk-mail --test" hints &&
	! grep -q "$DISK_HINT" hints &&
	! grep -q "docker compose" hints
'

test_expect_success 'bk-mail --cause picks the hints; words of the reason do not' '
	fresh &&
	bk-mail --alert "something odd" --reason "free space, disk full, database, mail" \
		--cause size >path &&
	mail_parse "$(cat path)" parsed &&
	sed -n "/^What to check/,/^Last lines/p" parsed/text >hints &&
	grep -q "BACKUP_INFO.txt" hints &&
	! grep -q "$DISK_HINT" hints &&
	! grep -q "PostgreSQL up" hints &&
	! grep -q "SMTP settings" hints &&
	grep -x "Failed step        none" parsed/text
'

test_expect_success 'bk-mail --cause without --alert is a usage error' '
	test_expect_code 2 bk-mail --test --cause size 2>err &&
	grep -q "cause goes with --alert" err
'

test_done
