#!/bin/bash
# BACKUP_KEEP_DAILY, BACKUP_KEEP_WEEKLY, BACKUP_KEEP_MONTHLY: whole numbers
# from 0 (the default: the rule is off); anything else stops bk-prune and
# bk-run with exit 2 naming the variable, before an archive is touched.
. "$(dirname "$0")/lib.sh"
test_description 'bk-prune: GFS variables'
. "$TEST_DIRECTORY/lib-prune.sh"

prune_make_archives || exit 1
mkdir -p "$BACKUP_DIR" || exit 1
old=$(date -d "@$(($(date +%s) - 100 * 86400))" "+%Y-%m-%d %H:%M")
prune_place good "$old" || exit 1
for d in 1 2 3; do
	prune_place good "$(date -d "@$(($(date +%s) - d * 86400))" "+%Y-%m-%d %H:%M")" || exit 1
done

for var in BACKUP_KEEP_DAILY BACKUP_KEEP_WEEKLY BACKUP_KEEP_MONTHLY; do
	for bad in -1 abc 1.5 " 3" 100001; do
		test_expect_success "$var='$bad': exit 2 naming it, nothing removed" '
			ls "$BACKUP_DIR" >before &&
			(export "$var=$bad" && test_expect_code 2 bk-prune >out 2>err) &&
			test ! -s out &&
			grep -q "ERROR bk-prune\[[0-9]*\]: configuration: $var: " err &&
			ls "$BACKUP_DIR" >after &&
			test_cmp before after
		'
	done
done

test_expect_success 'from an --env-file too' '
	echo "BACKUP_KEEP_WEEKLY=many" >env &&
	test_expect_code 2 bk-prune --env-file env 2>err &&
	grep -q "BACKUP_KEEP_WEEKLY: .many. is not a whole number" err
'

test_expect_success 'bk-run refuses it before it starts' '
	BACKUP_KEEP_MONTHLY=-1 test_expect_code 2 bk-run >out 2>err &&
	grep -q "BACKUP_KEEP_MONTHLY: -1 is out of range (0..100000)" err
'

test_expect_success '0 and empty are the default: the rule is off' '
	BACKUP_KEEP_DAILY=0 BACKUP_KEEP_WEEKLY= BACKUP_KEEP_MONTHLY=0 \
		bk-prune --dry-run >plan &&
	cut -f1,3 plan >got &&
	printf "keep\tretention, keep-min\nkeep\tretention, keep-min\nkeep\tretention, keep-min\nremove\texpired\n" >expect &&
	test_cmp expect got
'

test_expect_success 'a rule keeps the 100-day-old archive: 12 monthly' '
	BACKUP_KEEP_MONTHLY=12 bk-prune --dry-run >plan &&
	tail -n 1 plan | cut -f1 >got &&
	echo keep >expect &&
	test_cmp expect got &&
	BACKUP_KEEP_MONTHLY=12 bk-prune >out &&
	test ! -s out
'

test_done
