#!/bin/bash
# Hardening of the operations tools (issue 13, items 2, 3, 10, 13, 14):
# installations sharing BACKUP_TMPDIR leave each other's live temp dirs
# alone; the entrypoint refuses an environment its jobs could not read back;
# a BACKUP_DIR of another user or writable by others is refused and no
# symbolic link in it is followed; a dry run writes nothing; bk-prune never
# leaves fewer than BACKUP_KEEP_MIN archives when they do not verify.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-fault.sh"
test_description 'hardening: temp dirs, env file, BACKUP_DIR trust, dry run, prune'

test_need_programs bk-run bk-export bk-pack bk-verify bk-prune bk-monitor
command -v flock >/dev/null || test_skip_all "flock(1) not installed (util-linux)"
export BACKUP_MIN_SIZE_MB=0
mkdir -p "$BACKUP_CONFIG_DIR"
echo "services: {}" >"$BACKUP_CONFIG_DIR/docker-compose.prod.yml"

# The temp dir prefix of the installation whose BACKUP_DIR is $1.
tmp_prefix() {
	echo "bk-run.$(printf %s "$(realpath "$1")" | sha256sum | cut -c1-8)."
}

holders=()
# hold PATH: flock(1) holds PATH (a file or directory) until the script ends.
hold() {
	flock "$1" sleep 3600 &
	holders+=($!)
	fault_poll eval "! flock -n \"$1\" true"
}
test_atexit 'for p in "${holders[@]}"; do kill $p 2>/dev/null; done'

# ---- item 3: the entrypoint and the env file it writes ----

# entrypoint VAR=VALUE...: bk-run --entrypoint with a mail setup, a schedule
# that does not fire during the test, and these variables; sets rc.
entrypoint() {
	rm -rf run
	rc=0
	env BACKUP_RUN_DIR="$TRASH/run" BACKUP_MAIL_OUTBOX="$TRASH/outbox" \
		ADMIN_EMAILS=admin@example.com BACKUP_SCHEDULE="0 0 1 1 *" "$@" \
		timeout 60 bk-run --entrypoint >out 2>err || rc=$?
	cat err
}

# entrypoint_refuses VAR=VALUE...: exit 2 at once, no env file or crontab left.
entrypoint_refuses() {
	entrypoint "$@"
	test $rc = 2 && test ! -s out &&
	test_path_is_missing run/env && test_path_is_missing run/crontab
}

test_expect_success 'entrypoint: a job variable with a name the env file cannot hold is refused' '
	entrypoint_refuses BACKUP_NOTE.old=x &&
	grep -x ".* ERROR bk-cron\[[0-9]*\]: configuration: BACKUP_NOTE.old: not a valid variable name (letters, digits and _ only): the jobs could not read it from the env file" err &&
	grep -q "hint: rename it or remove it" err &&
	test_path_is_missing run
'

test_expect_success 'entrypoint: other odd names in the environment are not the jobs'"'"' and pass' '
	entrypoint "my.var=1" BACKUP_SCHEDULE="0 0 30 2 *" &&
	test $rc = 2 &&
	grep -q "BACKUP_SCHEDULE: .* never comes" err
'

test_expect_success 'entrypoint: a value too long for the jobs'"'"' reader is refused after reading the file back' '
	long=$(head -c 70000 /dev/zero | tr "\0" x) &&
	entrypoint_refuses BACKUP_NOTE="$long" &&
	grep -q "ERROR bk-cron\[[0-9]*\]: configuration: BACKUP_RUN_DIR: the env file written for the jobs cannot be read back: $TRASH/run/env:[0-9]*: value too long$" err
'

# ---- item 13: a dry run writes nothing ----

pg_start && pg_load_fixture || exit 1

# tree: everything under $TRASH/dry with size, mode and modification time.
tree() {
	(cd "$TRASH/dry" && find . -printf "%p %y %s %m %T@\n" | LC_ALL=C sort)
}

test_expect_success 'a dry run with a missing BACKUP_DIR and BACKUP_TMPDIR creates nothing' '
	mkdir -p dry logs &&
	tree >before &&
	BACKUP_DIR=$TRASH/dry/backups BACKUP_TMPDIR=$TRASH/dry/tmp BACKUP_LOG=$TRASH/logs/dry.log \
		bk-run --dry-run --no-mail >out 2>err &&
	test ! -s out &&
	grep -q "dry run: $TRASH/dry/backups does not exist; a run would create it" err &&
	grep -q "dry run: database reachable" err &&
	tree >after &&
	test_cmp before after
'

test_expect_success 'a dry run in a BACKUP_DIR without .lock creates no .lock' '
	rm -rf dry/backups dry/tmp &&
	mkdir -p dry/backups dry/tmp && chmod 700 dry/backups &&
	tree >before &&
	BACKUP_DIR=$TRASH/dry/backups BACKUP_TMPDIR=$TRASH/dry/tmp BACKUP_LOG=$TRASH/logs/dry.log \
		bk-run --dry-run --no-mail >out 2>err &&
	tree >after &&
	test_cmp before after
'

test_expect_success 'a dry run sees a held lock without taking it: exit 1' '
	: >dry/backups/.lock &&
	hold dry/backups/.lock &&
	tree >before &&
	BACKUP_DIR=$TRASH/dry/backups BACKUP_TMPDIR=$TRASH/dry/tmp BACKUP_LOG=$TRASH/logs/dry.log \
		test_expect_code 1 bk-run --dry-run --no-mail >out 2>err &&
	grep -q "ERROR bk-run\[[0-9]*\]: another backup is running (lock $TRASH/dry/backups/.lock is held)" err &&
	tree >after &&
	test_cmp before after
'

# ---- item 10: BACKUP_DIR must be ours; no symbolic link in it is followed ----

test_expect_success 'setup: a good run' '
	bk-run --no-mail >path &&
	bk-verify "$(cat path)" >/dev/null
'

test_expect_success 'BACKUP_DIR writable by others: bk-run, bk-prune exit 2, bk-monitor unhealthy' '
	mkdir -p open && chmod 0777 open &&
	ls -la open >before &&
	BACKUP_DIR=$TRASH/open test_expect_code 2 bk-run --no-mail >out 2>err &&
	test ! -s out &&
	grep -x ".* ERROR bk-run\[[0-9]*\]: configuration: BACKUP_DIR: $TRASH/open is writable by others (mode 0777): refused" err &&
	grep -q "hint: chmod 700 $TRASH/open" err &&
	BACKUP_DIR=$TRASH/open test_expect_code 2 bk-prune >out 2>err &&
	grep -q "configuration: BACKUP_DIR: $TRASH/open is writable by others" err &&
	BACKUP_DIR=$TRASH/open test_expect_code 1 bk-monitor >out 2>err &&
	grep -q "BACKUP_DIR: $TRASH/open is writable by others" out &&
	ls -la open >after &&
	test_cmp before after &&
	test "$(stat -c %a open)" = 777
'

test_expect_success 'BACKUP_DIR writable by its group is refused too' '
	chmod 0770 open &&
	BACKUP_DIR=$TRASH/open test_expect_code 2 bk-run --no-mail 2>err &&
	grep -q "BACKUP_DIR: $TRASH/open is writable by its group (mode 0770): refused" err
'

if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	test_expect_success 'BACKUP_DIR owned by another user (nobody) is refused' '
		mkdir -p theirs && chmod 0700 theirs && chown nobody theirs &&
		BACKUP_DIR=$TRASH/theirs test_expect_code 2 bk-run --no-mail >out 2>err &&
		grep -q "configuration: BACKUP_DIR: $TRASH/theirs belongs to uid $(id -u nobody), not to uid 0 that runs bk: refused" err &&
		test -z "$(ls -A theirs)" &&
		BACKUP_DIR=$TRASH/theirs test_expect_code 2 bk-prune 2>err &&
		entrypoint_refuses BACKUP_DIR=$TRASH/theirs &&
		grep -q "configuration: BACKUP_DIR: $TRASH/theirs belongs to uid" err
	'
else
	test_skip 'BACKUP_DIR owned by another user (nobody) is refused' 'needs root and a user nobody'
fi

test_expect_success 'a symbolic link .backup_history is not followed' '
	printf "root data\n" >rootfile &&
	cp rootfile rootfile.orig &&
	cp "$BACKUP_DIR/.backup_history" history.orig &&
	mv "$BACKUP_DIR/.backup_history" history.saved &&
	ln -s "$TRASH/rootfile" "$BACKUP_DIR/.backup_history" &&
	test_expect_code 1 bk-run --no-mail >out 2>err &&
	test ! -s out &&
	grep -q "$BACKUP_DIR/.backup_history is a symbolic link: not followed" err &&
	test_cmp rootfile.orig rootfile &&
	test -L "$BACKUP_DIR/.backup_history" &&
	rm "$BACKUP_DIR/.backup_history" &&
	mv history.saved "$BACKUP_DIR/.backup_history"
'

test_expect_success 'a symbolic link .last_backup_success is not read by bk-monitor' '
	printf "TOPSECRET-1234\n" >secret &&
	mv "$BACKUP_DIR/.last_backup_success" success.saved &&
	ln -s "$TRASH/secret" "$BACKUP_DIR/.last_backup_success" &&
	test_expect_code 1 bk-monitor >out 2>err &&
	grep -q "$BACKUP_DIR/.last_backup_success is a symbolic link: not followed" out &&
	! grep -q TOPSECRET out err
'

test_expect_success 'a run replaces a symbolic link .last_backup_success, not its target' '
	fault_next_second &&
	cp secret secret.orig &&
	bk-run --no-mail >path 2>err &&
	test_cmp secret.orig secret &&
	test ! -L "$BACKUP_DIR/.last_backup_success" &&
	test -f "$BACKUP_DIR/.last_backup_success"
'

test_expect_success 'a symbolic link .lock is not followed' '
	fault_next_second &&
	mv "$BACKUP_DIR/.lock" lock.saved &&
	ln -s "$TRASH/made-by-lock" "$BACKUP_DIR/.lock" &&
	test_expect_code 1 bk-run --no-mail >out 2>err &&
	grep -q "ERROR bk-run\[[0-9]*\]: $BACKUP_DIR/.lock is a symbolic link: not followed" err &&
	test_path_is_missing made-by-lock &&
	rm "$BACKUP_DIR/.lock" && mv lock.saved "$BACKUP_DIR/.lock"
'

# ---- item 2: installations sharing BACKUP_TMPDIR ----

test_expect_success 'another installation'"'"'s start leaves the dead temp dirs of others alone' '
	mkdir -p other && chmod 700 other &&
	mine=$(tmp_prefix "$TRASH/other") &&
	theirs=$(tmp_prefix "$BACKUP_DIR") &&
	mkdir "$BACKUP_TMPDIR/${mine}Dead01" "$BACKUP_TMPDIR/${mine}Live02" \
		"$BACKUP_TMPDIR/${theirs}Dead03" "$BACKUP_TMPDIR/bk-run.Old456" &&
	echo x >"$BACKUP_TMPDIR/${mine}Dead01/file" &&
	hold "$BACKUP_TMPDIR/${mine}Live02" &&
	fault_next_second &&
	BACKUP_DIR=$TRASH/other bk-run --no-mail >out 2>err &&
	test_path_is_missing "$BACKUP_TMPDIR/${mine}Dead01" &&
	grep -q "removing $BACKUP_TMPDIR/${mine}Dead01 left by an interrupted run" err &&
	test_path_is_dir "$BACKUP_TMPDIR/${mine}Live02" &&
	grep -q "keeping $BACKUP_TMPDIR/${mine}Live02: a running backup holds it" err &&
	test_path_is_dir "$BACKUP_TMPDIR/${theirs}Dead03" &&
	test_path_is_dir "$BACKUP_TMPDIR/bk-run.Old456" &&
	rmdir "$BACKUP_TMPDIR/${theirs}Dead03" "$BACKUP_TMPDIR/bk-run.Old456"
'

if ! fault_have_strace; then
	test_skip 'a run of one installation survives the start of another' 'strace(1) missing'
else
	fault_make_fakebin
	test_atexit 'for p in $(fault_procs); do kill -CONT $p; kill -9 $p; done'
	test_expect_success 'a run of one installation survives the start of another' '
		fault_next_second &&
		echo "stop openat 1" >"$FAULT_INJECT/bk-pack" &&
		fault_start --no-mail &&
		held=$(fault_wait_stopped "$FAULT_PID" bk-pack) &&
		rm "$FAULT_INJECT/bk-pack" &&
		ls -d "$BACKUP_TMPDIR/$(tmp_prefix "$BACKUP_DIR")"?????? >live &&
		test $(wc -l <live) = 1 &&
		test -d "$(cat live)/export" &&
		BACKUP_DIR=$TRASH/other bk-run --no-mail >out2 2>err2 &&
		test -d "$(cat live)/export" &&
		kill -CONT $held &&
		wait $FAULT_PID &&
		bk-verify "$(cat out)" >/dev/null &&
		test_path_is_missing "$(cat live)"
	'
fi

# ---- item 14: bk-prune keeps BACKUP_KEEP_MIN archives when they do not verify ----

now=$(date +%s)
name_for() {	# name_for DAYS
	echo "critical_backup_$(date -d "@$((now - $1 * 86400))" +%Y%m%d_%H%M%S).tar.gz"
}

test_expect_success 'all archives old and damaged: the BACKUP_KEEP_MIN newest stay, exit 1' '
	mkdir -p pr && chmod 700 pr &&
	for d in 40 41 42 43 44 45; do echo damaged >"pr/$(name_for $d)" || exit 1; done &&
	BACKUP_DIR=$TRASH/pr BACKUP_RETENTION_DAYS=30 BACKUP_KEEP_MIN=3 \
		test_expect_code 1 bk-prune >out 2>err &&
	for d in 43 44 45; do echo "$TRASH/pr/$(name_for $d)"; done >expect &&
	test_cmp expect out &&
	for d in 40 41 42; do echo "$(name_for $d)"; done >expect &&
	ls pr | sort -r >left &&
	test_cmp expect left &&
	grep -q "WARN bk-prune\[[0-9]*\]: keeping $(name_for 40) although it is 40 days old and not known good: fewer than BACKUP_KEEP_MIN=3 archives would be left" err &&
	grep -x ".* ERROR bk-prune\[[0-9]*\]: only 0 archives in $TRASH/pr pass verification, fewer than BACKUP_KEEP_MIN=3: the damaged ones are kept" err
'

test_expect_success 'one good among damaged ones: it and the newest damaged ones make KEEP_MIN' '
	rm -f pr/* &&
	for d in 40 42 43 44 45; do echo damaged >"pr/$(name_for $d)" || exit 1; done &&
	cp "$(cat path)" "pr/$(name_for 41)" &&
	BACKUP_DIR=$TRASH/pr BACKUP_RETENTION_DAYS=30 BACKUP_KEEP_MIN=3 \
		test_expect_code 1 bk-prune --dry-run >plan 2>err &&
	sed -n "s/^remove\t\([^\t]*\)\t.*/\1/p" plan >out &&
	for d in 43 44 45; do echo "$TRASH/pr/$(name_for $d)"; done >expect &&
	test_cmp expect out &&
	test $(ls pr | wc -l) = 6 &&
	grep -q "only 1 archive in $TRASH/pr passes verification" err &&
	BACKUP_DIR=$TRASH/pr BACKUP_RETENTION_DAYS=30 BACKUP_KEEP_MIN=3 \
		test_expect_code 1 bk-prune >out2 &&
	test_cmp out out2 &&
	for d in 40 41 42; do echo "$(name_for $d)"; done >expect &&
	ls pr | sort -r >left &&
	test_cmp expect left
'

test_done
