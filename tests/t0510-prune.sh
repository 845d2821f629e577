#!/bin/bash
# bk-prune: archives past BACKUP_RETENTION_DAYS go (age from the name, mtime
# when the name's time is invalid), the newest BACKUP_KEEP_MIN good ones stay
# whatever their age, a corrupt one does not count, no other file is touched.
. "$(dirname "$0")/lib.sh"
test_description 'bk-prune retention'

now=$(date +%s)
DAY=86400

. "$TEST_DIRECTORY/lib-prune.sh"
prune_make_archives || exit 1

name_for() {	# name_for AGE_SECONDS
	echo "critical_backup_$(date -d "@$((now - $1))" +%Y%m%d_%H%M%S).tar.gz"
}

# archives DAY...: a good archive named for each number of days ago.
archives() {
	local d
	for d in "$@"; do
		cp "$TRASH/good.tar.gz" "$BACKUP_DIR/$(name_for $((d * DAY)))"
	done
}

# paths DAY...: the full paths of those archives, one a line, in that order.
paths() {
	local d
	for d in "$@"; do
		echo "$BACKUP_DIR/$(name_for $((d * DAY)))"
	done
}

fresh_dir() {
	rm -rf "$BACKUP_DIR" && mkdir -p "$BACKUP_DIR"
}

# Files that are not archives of ours, old enough to be pruned if they were.
other_files() {
	(
		cd "$BACKUP_DIR" &&
		printf '1\tok\t1\t1.0\tx\t-\n' >.backup_history &&
		echo 1 >.last_backup_success && echo 1 >.last_backup_size_mb &&
		: >.lock && : >.alert_state && echo notes >notes.txt &&
		cp "$TRASH/good.tar.gz" .critical_backup_20200101_000000.tar.gz.tmp.Ab12Cd &&
		cp "$TRASH/good.tar.gz" critical_backup_20200101_000000.tar.gz.tmp &&
		cp "$TRASH/good.tar" critical_backup_20200101_000000.tar &&
		cp "$TRASH/good.tar.gz" critical_backup_2020.tar.gz &&
		cp "$TRASH/good.tar.gz" critical_backup_20200101_000000.tar.gz.bak &&
		cp "$TRASH/good.tar.gz" old_backup_20200101_000000.tar.gz &&
		mkdir -p .incoming critical_backup_20200104_000000.tar.gz &&
		cp "$TRASH/good.tar.gz" .incoming/critical_backup_20200101_000000.tar.gz &&
		cp "$TRASH/good.tar.gz" "$TRASH/elsewhere.tar.gz" &&
		ln -s "$TRASH/elsewhere.tar.gz" critical_backup_20200103_000000.tar.gz &&
		find . -exec touch -h -d "@$((now - 400 * DAY))" {} +
	)
}

listing() {
	prune_listing
}

test_expect_success 'archives 1..90 days old, retention 30: exactly those over 30 days go' '
	fresh_dir &&
	archives $(seq 1 90) &&
	other_files &&
	listing >before &&
	BACKUP_RETENTION_DAYS=30 bk-prune >out 2>err &&
	paths $(seq 31 90) >expect &&
	test_cmp expect out &&
	listing >after &&
	sed "s|^$BACKUP_DIR|.|" expect | LC_ALL=C sort >removed &&
	LC_ALL=C comm -23 before removed >expect-after &&
	test_cmp expect-after after &&
	for d in $(seq 1 30); do test_path_is_file "$(paths $d)" || exit 1; done &&
	test_path_is_file "$TRASH/elsewhere.tar.gz"
'

test_expect_success 'each removal is logged' '
	grep -c "INFO bk-prune\[[0-9]*\]: removed $BACKUP_DIR/critical_backup_.* (.* days old)" "$BACKUP_LOG" >count &&
	echo 60 >expect &&
	test_cmp expect count
'

test_expect_success 'the default retention is 30 days' '
	fresh_dir &&
	archives 1 2 3 29 30 31 32 &&
	bk-prune >out &&
	paths 31 32 >expect &&
	test_cmp expect out
'

test_expect_success '--dry-run prints a verdict for every archive and removes nothing' '
	fresh_dir &&
	archives $(seq 1 90) &&
	other_files &&
	listing >before &&
	BACKUP_RETENTION_DAYS=30 bk-prune --dry-run >out &&
	{
		paths 1 2 3 | sed "s/.*/keep\t&\tretention, keep-min/" &&
		paths $(seq 4 30) | sed "s/.*/keep\t&\tretention/" &&
		paths $(seq 31 90) | sed "s/.*/remove\t&\texpired/"
	} >expect &&
	test_cmp expect out &&
	listing >after &&
	test_cmp before after
'

test_expect_success 'every archive old: the newest BACKUP_KEEP_MIN stay' '
	fresh_dir &&
	archives $(seq 40 50) &&
	BACKUP_RETENTION_DAYS=30 bk-prune >out &&
	paths $(seq 43 50) >expect &&
	test_cmp expect out &&
	paths 40 41 42 >expect &&
	ls -d "$BACKUP_DIR"/critical_backup_* | sort -r >left &&
	test_cmp expect left
'

test_expect_success 'BACKUP_KEEP_MIN=5 keeps five' '
	fresh_dir &&
	archives $(seq 40 50) &&
	BACKUP_KEEP_MIN=5 bk-prune >out &&
	paths $(seq 45 50) >expect &&
	test_cmp expect out
'

test_expect_success 'a corrupt newest archive is not one of the good ones kept' '
	fresh_dir &&
	archives $(seq 40 50) &&
	cp "$TRASH/corrupt.tar.gz" "$(paths 40)" &&
	truncate -s 100 "$(paths 42)" &&
	bk-prune >out 2>err &&
	paths 40 42 $(seq 45 50) >expect &&
	test_cmp expect out &&
	paths 41 43 44 >expect &&
	ls -d "$BACKUP_DIR"/critical_backup_* | sort -r >left &&
	test_cmp expect left &&
	grep -q "WARN bk-prune.*$(name_for $((40 * DAY))) is not counted as a good backup" err
'

test_expect_success 'recent corrupt archives do not count either' '
	fresh_dir &&
	archives 1 2 40 41 42 43 &&
	cp "$TRASH/corrupt.tar.gz" "$(paths 1)" &&
	cp "$TRASH/corrupt.tar.gz" "$(paths 2)" &&
	bk-prune >out &&
	paths 43 >expect &&
	test_cmp expect out
'

test_expect_success 'the time in the name counts, not the mtime' '
	fresh_dir &&
	archives 2 3 4 60 &&
	touch -d "@$((now - 300 * DAY))" "$(paths 2)" &&
	touch -d "@$now" "$(paths 60)" &&
	bk-prune >out &&
	paths 60 >expect &&
	test_cmp expect out
'

test_expect_success 'a name whose digits are not a valid time: the mtime counts' '
	fresh_dir &&
	archives 1 2 3 &&
	cp "$TRASH/good.tar.gz" "$BACKUP_DIR/critical_backup_20261399_000000.tar.gz" &&
	touch -d "@$((now - 100 * DAY))" "$BACKUP_DIR/critical_backup_20261399_000000.tar.gz" &&
	cp "$TRASH/good.tar.gz" "$BACKUP_DIR/critical_backup_20260231_120000.tar.gz" &&
	bk-prune >out &&
	echo "$BACKUP_DIR/critical_backup_20261399_000000.tar.gz" >expect &&
	test_cmp expect out &&
	test_path_is_file "$BACKUP_DIR/critical_backup_20260231_120000.tar.gz"
'

test_expect_success 'the name is local time (TZ)' '
	fresh_dir &&
	export TZ=ICT-7 &&
	keep=$(name_for $((31 * DAY - 3 * 3600))) &&
	gone=$(name_for $((31 * DAY + 3 * 3600))) &&
	cp "$TRASH/good.tar.gz" "$BACKUP_DIR/$keep" &&
	cp "$TRASH/good.tar.gz" "$BACKUP_DIR/$gone" &&
	archives 1 2 3 &&
	bk-prune >out &&
	echo "$BACKUP_DIR/$gone" >expect &&
	test_cmp expect out &&
	test_path_is_file "$BACKUP_DIR/$keep"
'

test_expect_success 'an .age whose archive is gone: kept within retention, removed past it' '
	fresh_dir &&
	archives 1 2 3 &&
	for d in 40 50 5; do echo age >"$(paths $d).age"; done &&
	echo age >"$(paths 1).age" &&
	BACKUP_RETENTION_DAYS=30 BACKUP_KEEP_MIN=3 bk-prune --dry-run >plan 2>err &&
	grep -q "^remove	$(paths 40).age	encrypted copy alone, expired$" plan &&
	grep -q "^remove	$(paths 50).age	encrypted copy alone, expired$" plan &&
	grep -q "^keep	$(paths 5).age	encrypted copy alone, retention$" plan &&
	! grep -q "	$(paths 1).age	" plan &&
	test_path_is_file "$(paths 40).age" &&
	BACKUP_RETENTION_DAYS=30 BACKUP_KEEP_MIN=3 bk-prune >out 2>err &&
	printf "%s\n" "$(paths 40).age" "$(paths 50).age" >expect &&
	test_cmp expect out &&
	grep -q "removed $(paths 40).age (40 days old; its archive was gone)" err &&
	test_path_is_missing "$(paths 40).age" && test_path_is_missing "$(paths 50).age" &&
	test_path_is_file "$(paths 5).age" && test_path_is_file "$(paths 1).age"
'

test_expect_success '... and the newest BACKUP_KEEP_MIN of them stay whatever their age' '
	fresh_dir &&
	for d in 40 50 60 70; do echo age >"$(paths $d).age"; done &&
	BACKUP_RETENTION_DAYS=30 BACKUP_KEEP_MIN=2 bk-prune >out 2>err &&
	printf "%s\n" "$(paths 60).age" "$(paths 70).age" >expect &&
	test_cmp expect out &&
	test_path_is_file "$(paths 40).age" && test_path_is_file "$(paths 50).age"
'

test_expect_success 'nothing old: no output, exit 0' '
	fresh_dir &&
	archives 1 2 3 30 &&
	bk-prune >out &&
	test ! -s out &&
	ls "$BACKUP_DIR" | wc -l >count &&
	echo 4 >expect &&
	test_cmp expect count
'

test_expect_success 'an empty or missing BACKUP_DIR' '
	fresh_dir &&
	bk-prune >out &&
	test ! -s out &&
	rm -rf "$BACKUP_DIR" &&
	test_expect_code 1 bk-prune >out 2>err &&
	test ! -s out &&
	grep -q "ERROR bk-prune.*cannot read directory $BACKUP_DIR" err
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 bk-prune extra 2>err &&
	grep -q "unexpected argument" err &&
	BACKUP_KEEP_MIN=0 test_expect_code 2 bk-prune 2>err &&
	grep -q "BACKUP_KEEP_MIN" err
'

test_done
