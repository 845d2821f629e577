#!/bin/bash
# bk-prune --dry-run with GFS rules over two years of real archives with
# gaps, three on one day and damaged ones (corrupt, truncated): the verdict
# for every archive equals a list computed by hand (the same archives as
# tests/unit/test-retention.c, here through bk-verify and the file names).
. "$(dirname "$0")/lib.sh"
test_description 'bk-prune: GFS retention, the plan'
. "$TEST_DIRECTORY/lib-prune.sh"

export TZ=UTC
prune_make_archives || exit 1
export BK_PRUNE_NOW=$(prune_now "2026-12-01 12:00")

# verdict keep|remove YYYYMMDD_HHMMSS NOTES: one line of the plan
verdict() {
	printf '%s\t%s\t%s\n' "$1" "$BACKUP_DIR/critical_backup_$2.tar.gz" "$3"
}

two_years() {
	rm -rf "$BACKUP_DIR" && mkdir -p "$BACKUP_DIR" &&
	prune_place good "2026-12-01 02:00" "2026-11-30 02:00" "2026-11-30 01:00" \
		"2026-11-29 02:00" "2026-11-27 02:00" "2026-11-23 02:00" \
		"2026-11-22 02:00" "2026-11-16 02:00" "2026-11-01 02:00" \
		"2026-10-31 02:00" "2026-10-15 02:00" "2026-09-10 02:00" \
		"2026-07-01 02:00" "2026-01-01 02:00" "2025-12-31 02:00" \
		"2025-12-28 02:00" "2025-06-15 02:00" "2025-01-05 02:00" \
		"2024-12-30 02:00" &&
	prune_place corrupt "2026-11-30 23:00" "2026-09-30 02:00" &&
	prune_place truncated "2026-11-26 02:00" "2024-12-15 02:00"
}

test_expect_success 'defaults: 30 days, the newest 3 good; the plan names every archive' '
	two_years &&
	prune_listing >before &&
	bk-prune --dry-run >out 2>err &&
	{
		verdict keep 20261201_020000 "retention, keep-min"
		verdict keep 20261130_230000 "retention, damaged"
		verdict keep 20261130_020000 "retention, keep-min"
		verdict keep 20261130_010000 "retention, keep-min"
		verdict keep 20261129_020000 "retention"
		verdict keep 20261127_020000 "retention"
		verdict keep 20261126_020000 "retention"
		verdict keep 20261123_020000 "retention"
		verdict keep 20261122_020000 "retention"
		verdict keep 20261116_020000 "retention"
		verdict keep 20261101_020000 "retention"
		for t in 20261031_020000 20261015_020000 20260930_020000 20260910_020000 \
			20260701_020000 20260101_020000 20251231_020000 20251228_020000 \
			20250615_020000 20250105_020000 20241230_020000 20241215_020000; do
			verdict remove $t expired
		done
	} >expect &&
	test_cmp expect out &&
	prune_listing >after &&
	test_cmp before after &&
	grep -q "WARN bk-prune.*critical_backup_20261130_230000.tar.gz is not counted as a good backup" err
'

test_expect_success '7 days, 7 daily, 4 weekly, 12 monthly' '
	BACKUP_RETENTION_DAYS=7 BACKUP_KEEP_DAILY=7 BACKUP_KEEP_WEEKLY=4 BACKUP_KEEP_MONTHLY=12 \
		bk-prune --dry-run >out 2>err &&
	{
		verdict keep 20261201_020000 "retention, keep-min, daily 2026-12-01, weekly 2026-W49, monthly 2026-12"
		verdict keep 20261130_230000 "retention, damaged"
		verdict keep 20261130_020000 "retention, keep-min, daily 2026-11-30, monthly 2026-11"
		verdict keep 20261130_010000 "retention, keep-min"
		verdict keep 20261129_020000 "retention, daily 2026-11-29, weekly 2026-W48"
		verdict keep 20261127_020000 "retention, daily 2026-11-27"
		verdict keep 20261126_020000 "retention, damaged"
		verdict keep 20261123_020000 "daily 2026-11-23"
		verdict keep 20261122_020000 "daily 2026-11-22, weekly 2026-W47"
		verdict keep 20261116_020000 "daily 2026-11-16"
		verdict keep 20261101_020000 "weekly 2026-W44"
		verdict keep 20261031_020000 "monthly 2026-10"
		verdict remove 20261015_020000 "expired"
		verdict remove 20260930_020000 "expired, damaged"
		verdict keep 20260910_020000 "monthly 2026-09"
		verdict keep 20260701_020000 "monthly 2026-07"
		verdict keep 20260101_020000 "monthly 2026-01"
		verdict keep 20251231_020000 "monthly 2025-12"
		verdict remove 20251228_020000 "expired"
		verdict keep 20250615_020000 "monthly 2025-06"
		verdict keep 20250105_020000 "monthly 2025-01"
		verdict keep 20241230_020000 "monthly 2024-12"
		verdict remove 20241215_020000 "expired"
	} >expect &&
	test_cmp expect out
'

test_expect_success 'only the archives the rules need are verified' '
	grep -c "is not counted as a good backup" err >count &&
	echo 3 >expect &&
	test_cmp expect count &&
	! grep -q "critical_backup_20241215_020000.tar.gz is not counted" err
'

test_expect_success 'every ISO week: one per week, across week-years' '
	BACKUP_RETENTION_DAYS=1 BACKUP_KEEP_MIN=1 BACKUP_KEEP_WEEKLY=60 \
		bk-prune --dry-run >out &&
	{
		verdict keep 20261201_020000 "retention, keep-min, weekly 2026-W49"
		verdict keep 20261130_230000 "retention"
		verdict keep 20261130_020000 "retention"
		verdict keep 20261130_010000 "retention"
		verdict keep 20261129_020000 "weekly 2026-W48"
		verdict remove 20261127_020000 "expired"
		verdict remove 20261126_020000 "expired"
		verdict remove 20261123_020000 "expired"
		verdict keep 20261122_020000 "weekly 2026-W47"
		verdict remove 20261116_020000 "expired"
		verdict keep 20261101_020000 "weekly 2026-W44"
		verdict remove 20261031_020000 "expired"
		verdict keep 20261015_020000 "weekly 2026-W42"
		verdict remove 20260930_020000 "expired, damaged"
		verdict keep 20260910_020000 "weekly 2026-W37"
		verdict keep 20260701_020000 "weekly 2026-W27"
		verdict keep 20260101_020000 "weekly 2026-W01"
		verdict remove 20251231_020000 "expired"
		verdict keep 20251228_020000 "weekly 2025-W52"
		verdict keep 20250615_020000 "weekly 2025-W24"
		verdict keep 20250105_020000 "weekly 2025-W01"
		verdict remove 20241230_020000 "expired"
		verdict remove 20241215_020000 "expired, damaged"
	} >expect &&
	test_cmp expect out
'

test_expect_success 'a real run ignores BK_PRUNE_NOW: only a plan may be for another day' '
	rm -rf "$BACKUP_DIR" && mkdir -p "$BACKUP_DIR" &&
	prune_place good "$(date -d "@$(($(date +%s) - 86400))" "+%Y-%m-%d %H:%M")" \
		"$(date -d "@$(($(date +%s) - 2 * 86400))" "+%Y-%m-%d %H:%M")" &&
	ls "$BACKUP_DIR" >before &&
	BK_PRUNE_NOW=$(($(date +%s) + 400 * 86400)) BACKUP_KEEP_MIN=1 bk-prune --dry-run >plan &&
	cut -f1,3 plan >got &&
	printf "keep\tkeep-min\nremove\texpired\n" >expect &&
	test_cmp expect got &&
	BK_PRUNE_NOW=$(($(date +%s) + 400 * 86400)) BACKUP_KEEP_MIN=1 bk-prune >out &&
	test ! -s out &&
	ls "$BACKUP_DIR" >after &&
	test_cmp before after
'

test_expect_success 'BK_PRUNE_NOW that is not unix seconds: exit 2' '
	BK_PRUNE_NOW=yesterday test_expect_code 2 bk-prune --dry-run >out 2>err &&
	test ! -s out &&
	grep -q "BK_PRUNE_NOW: .yesterday. is not unix seconds" err
'

test_done
