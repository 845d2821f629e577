#!/bin/bash
# A real bk-prune run with GFS rules over four months of nightly archives
# (some damaged, two on one day, .age copies, files that are not archives):
# it removes exactly what --dry-run planned and prints those paths; the
# daily, weekly and monthly picks equal a reference computed here with
# date(1) from the names; a second run removes nothing.
. "$(dirname "$0")/lib.sh"
test_description 'bk-prune: GFS retention, a real run'
. "$TEST_DIRECTORY/lib-prune.sh"

prune_make_archives || exit 1
now=$(date +%s)
DAY=86400
export BACKUP_RETENTION_DAYS=3 BACKUP_KEEP_MIN=2 BACKUP_KEEP_DAILY=7 \
	BACKUP_KEEP_WEEKLY=4 BACKUP_KEEP_MONTHLY=3

name_for() {	# name_for AGE_SECONDS
	echo "critical_backup_$(date -d "@$((now - $1))" +%Y%m%d_%H%M%S).tar.gz"
}

# Nightly for 120 days, a second one on day 3, day 10 corrupt, day 45 cut
# short; every fifth one has its .age copy.
test_expect_success 'set up four months of archives' '
	mkdir -p "$BACKUP_DIR" &&
	for d in $(seq 0 120); do
		cp "$TRASH/good.tar.gz" "$BACKUP_DIR/$(name_for $((d * DAY + 60)))" || exit 1
		if [ $((d % 5)) = 0 ]; then
			echo age >"$BACKUP_DIR/$(name_for $((d * DAY + 60))).age" || exit 1
		fi
	done &&
	cp "$TRASH/good.tar.gz" "$BACKUP_DIR/$(name_for $((3 * DAY + 3600)))" &&
	cp "$TRASH/corrupt.tar.gz" "$BACKUP_DIR/$(name_for $((10 * DAY + 60)))" &&
	head -c 100 "$TRASH/good.tar.gz" >"$BACKUP_DIR/$(name_for $((45 * DAY + 60)))" &&
	echo notes >"$BACKUP_DIR/notes.txt" &&
	printf "1\tok\n" >"$BACKUP_DIR/.backup_history" &&
	ls "$BACKUP_DIR" | grep -c "^critical_backup_.*\.tar\.gz$" >count &&
	echo 122 >expect &&
	test_cmp expect count
'

test_expect_success 'the real run removes what --dry-run planned, and prints those paths' '
	bk-prune --dry-run >plan 2>plan-err &&
	sed -n "s/^remove\t\([^\t]*\)\t.*/\1/p" plan >planned &&
	sed -n "s/^keep\t\([^\t]*\)\t.*/\1/p" plan | LC_ALL=C sort >kept &&
	test $(wc -l <planned) -gt 80 &&
	bk-prune >out 2>err &&
	test_cmp planned out &&
	ls -d "$BACKUP_DIR"/critical_backup_*.tar.gz | LC_ALL=C sort >left &&
	test_cmp kept left
'

test_expect_success '.age copies went with their archives, nothing else was touched' '
	for f in $(cat out); do test_path_is_missing "$f.age" || exit 1; done &&
	for f in $(cat kept); do
		case $(basename "$f") in
		$(name_for 60)|$(name_for $((5 * DAY + 60)))) test_path_is_file "$f.age" || exit 1 ;;
		esac
	done &&
	test_path_is_file "$BACKUP_DIR/notes.txt" &&
	test_path_is_file "$BACKUP_DIR/.backup_history"
'

# The reference: good archives' names newest first, their local date, ISO
# week and month from date(1); the first N distinct periods.
good_names() {
	ls "$TRASH/all" | grep -v -x -e "$(name_for $((10 * DAY + 60)))" \
		-e "$(name_for $((45 * DAY + 60)))" | LC_ALL=C sort -r
}
periods() {	# periods FORMAT N
	local n d
	good_names | while read -r n; do
		d=${n#critical_backup_}
		date -d "${d:0:4}-${d:4:2}-${d:6:2}" "+$1"
	done | awk "!seen[\$0]++" | head -n "$2"
}
notes() {	# notes WORD: the periods the plan names for that rule
	cut -f3 plan | tr "," "\n" | sed -n "s/^ *$1 //p" | LC_ALL=C sort
}

test_expect_success 'the picks equal those computed with date(1)' '
	mkdir all &&
	sed "s|.*/||" planned | while read -r n; do : >"all/$n"; done &&
	sed "s|.*/||" kept | while read -r n; do : >"all/$n"; done &&
	periods %Y-%m-%d 7 | LC_ALL=C sort >expect && notes daily >got && test_cmp expect got &&
	periods %G-W%V 4 | LC_ALL=C sort >expect && notes weekly >got && test_cmp expect got &&
	periods %Y-%m 3 | LC_ALL=C sort >expect && notes monthly >got && test_cmp expect got
'

test_expect_success 'an archive past retention that a rule keeps is logged with why' '
	grep -q "INFO bk-prune\[[0-9]*\]: keeping critical_backup_.* although it is [0-9]* days old: .*monthly [0-9-]*" err
'

test_expect_success 'a second run removes nothing' '
	bk-prune >out2 &&
	test ! -s out2 &&
	ls -d "$BACKUP_DIR"/critical_backup_*.tar.gz | LC_ALL=C sort >left2 &&
	test_cmp left left2
'

test_done
