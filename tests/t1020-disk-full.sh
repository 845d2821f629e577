#!/bin/bash
# Disk full, for real: BACKUP_DIR and BACKUP_TMPDIR on small tmpfs mounts.
# Before the run (too little free space for bk-run's estimate) and during it
# (room for the estimate, but the export or the archive is larger than the
# space left: ENOSPC in bk-export, then in bk-pack). Each time: the run
# fails, the alert says "disk full", no partial archive is left, and the
# archive of the previous run and the status files are untouched.
# Root only (mount); skipped otherwise.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-fault.sh"
test_description 'disk full in BACKUP_DIR and in BACKUP_TMPDIR'

test_need_programs bk-run bk-export bk-pack bk-verify bk-mail
[ "$(id -u)" = 0 ] || test_skip_all "mounting a small tmpfs needs root"
mkdir -p "$TRASH/probe" &&
	mount -t tmpfs -o size=1m tmpfs "$TRASH/probe" 2>/dev/null &&
	umount "$TRASH/probe" ||
	test_skip_all "cannot mount a tmpfs here (no CAP_SYS_ADMIN?)"

# bk-run wants 64 MB free in each (its minimum estimate). BACKUP_DIR gets
# 66 MB: enough for the estimate, not for a 70 MB archive.
mkdir -p "$BACKUP_DIR" "$BACKUP_TMPDIR"
mount -t tmpfs -o size=66m,mode=0700 tmpfs "$BACKUP_DIR" ||
	test_skip_all "cannot mount a tmpfs on $BACKUP_DIR"
test_atexit 'umount "$BACKUP_DIR"'
mount -t tmpfs -o size=70m,mode=0700 tmpfs "$BACKUP_TMPDIR" ||
	test_skip_all "cannot mount a tmpfs on $BACKUP_TMPDIR"
test_atexit 'umount "$BACKUP_TMPDIR"'

pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0 BACKUP_GZIP_LEVEL=1
export ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com
export BACKUP_MAIL_OUTBOX=$TRASH/outbox
mkdir -p "$BACKUP_MAIL_OUTBOX" "$BACKUP_CONFIG_DIR"
echo "services: {}" >"$BACKUP_CONFIG_DIR/docker-compose.prod.yml"
# Only the tables listed (and what they reference): "omit *", or the built-in
# rules would back up every other table too, the large one as well.
printf "%s\n" "users.sql users" "omit *" >small.scope
printf "%s\n" "users.sql users" "blob.sql blob" "omit *" >large.scope
export BACKUP_SCOPE=$TRASH/small.scope

free_mb() {
	echo $(( $(stat -f -c "%a * %S" "$1") / 1048576 ))
}

# fill DIR MB: a file in DIR that leaves about MB megabytes free.
fill() {
	local n=$(( $(free_mb "$1") - $2 ))
	[ $n -gt 0 ] && dd if=/dev/zero of="$1/filler" bs=1M count=$n status=none
	return 0
}

# expect_failure STEP: the run just made failed at STEP with "disk full"
# and changed nothing but a fail history line and one alert.
expect_failure() {
	test "$rc" = 1
	test ! -s out
	fault_snapshot after
	test_cmp before after
	test "$(wc -l <"$BACKUP_DIR/.backup_history")" = $((lines + 1))
	tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f 2,5,6 >last
	cat last
	grep "^fail	-	$1: " last
	grep -i "disk full\|no space left" last
	test_path_is_missing "$BACKUP_DIR/.incoming"
	test -z "$(ls -A "$BACKUP_TMPDIR" | grep -v "^filler$")"
	ls "$BACKUP_MAIL_OUTBOX" >mails.after
	comm -13 mails.before mails.after >new-mails
	test $(wc -l <new-mails) = 1
	tr -d "\r" <"$BACKUP_MAIL_OUTBOX/$(cat new-mails)" >alert.eml
	grep "^Subject: \[bk\] ALERT: backup failed at step $1: disk full$" alert.eml
}

start() {
	fault_next_second
	fault_snapshot before
	lines=$(wc -l <"$BACKUP_DIR/.backup_history")
	ls "$BACKUP_MAIL_OUTBOX" >mails.before
	rc=0
}

test_expect_success 'setup: a previous good backup on the small BACKUP_DIR' '
	fault_run >path &&
	bk-verify "$(cat path)" >/dev/null &&
	cp "$(cat path)" previous.tar.gz
'

test_expect_success 'BACKUP_DIR nearly full: the run fails before it starts' '
	fill "$BACKUP_DIR" 10 &&
	start &&
	fault_run >out 2>err || rc=$? &&
	rm "$BACKUP_DIR/filler" &&
	expect_failure space &&
	grep "space: disk full: $BACKUP_DIR has [0-9.]* [KMG]\{0,1\}B free, the next backup needs about 64 MB" last &&
	! grep -q "step export started" err
'

test_expect_success 'BACKUP_TMPDIR nearly full: the run fails before it starts' '
	fill "$BACKUP_TMPDIR" 10 &&
	start &&
	fault_run >out 2>err || rc=$? &&
	rm "$BACKUP_TMPDIR/filler" &&
	expect_failure space &&
	grep "space: disk full: $BACKUP_TMPDIR has [0-9.]* [KMG]\{0,1\}B free, the export needs about 64 MB" last
'

# About 100 MB of base64 text (75 MB random): more than BACKUP_TMPDIR holds,
# and gzip cannot make it smaller than BACKUP_DIR holds.
test_expect_success 'setup: a table larger than both filesystems' '
	pg_psql -c "CREATE TABLE blob (id serial PRIMARY KEY, chunk text NOT NULL)" &&
	head -c 75M /dev/urandom | base64 -w 1048576 >blob.txt &&
	pg_psql -c "\\copy blob (chunk) FROM $TRASH/blob.txt" &&
	rm blob.txt &&
	test "$(pg_query "SELECT sum(length(chunk)) > 100000000 FROM blob")" = t
'

test_expect_success 'BACKUP_TMPDIR fills up during the export: the run fails' '
	start &&
	BACKUP_SCOPE=$TRASH/large.scope fault_run >out 2>err || rc=$? &&
	expect_failure export &&
	grep -i "no space left on device\|disk full" err
'

test_expect_success 'BACKUP_DIR fills up while the archive is written: the run fails' '
	mkdir -p disk-tmp &&
	start &&
	BACKUP_SCOPE=$TRASH/large.scope BACKUP_TMPDIR=$TRASH/disk-tmp fault_run >out 2>err ||
		rc=$? &&
	expect_failure pack &&
	test -z "$(ls -A disk-tmp)" &&
	test "$(free_mb "$BACKUP_DIR")" -ge 64
'

test_expect_success 'the previous archive is intact' '
	cmp previous.tar.gz "$BACKUP_DIR/$(basename "$(cat path)")" &&
	bk-verify "$BACKUP_DIR/$(basename "$(cat path)")" >/dev/null
'

test_expect_success 'with room again, the next run succeeds' '
	fault_next_second &&
	fault_run >path2 &&
	bk-verify "$(cat path2)" >/dev/null &&
	fault_leftovers >left &&
	test_cmp /dev/null left
'

test_done
