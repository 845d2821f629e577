#!/bin/bash
# bk-prune's GFS periods are local calendar days, months and ISO weeks of
# the names' time zone (TZ): the days the clocks change in Berlin and New
# York (an archive at 02:30 that does not exist, two in the hour that comes
# twice), 23:30 and 00:30 either side of a month's end (in UTC both in one
# month), and ISO week 2026-W53 that runs into January 2027.
. "$(dirname "$0")/lib.sh"
test_description 'bk-prune: GFS retention in local time'
. "$TEST_DIRECTORY/lib-prune.sh"

for zone in Europe/Berlin America/New_York; do
	[ -f "/usr/share/zoneinfo/$zone" ] || test_skip_all "no time zone $zone (tzdata)"
done
prune_make_archives || exit 1

verdict() {
	printf '%s\t%s\t%s\n' "$1" "$BACKUP_DIR/critical_backup_$2.tar.gz" "$3"
}

fresh_dir() {
	rm -rf "$BACKUP_DIR" && mkdir -p "$BACKUP_DIR"
}

test_expect_success 'Europe/Berlin: days and months of the local clock across DST' '
	fresh_dir &&
	prune_place good "2026-11-01 00:30" "2026-10-31 23:30" "2026-10-26 00:30" \
		"2026-10-25 02:45" "2026-10-25 02:15" "2026-10-24 23:30" \
		"2026-03-29 23:30" "2026-03-29 02:30" "2026-03-29 00:30" "2026-03-28 12:00" &&
	TZ=Europe/Berlin BK_PRUNE_NOW=$(TZ=Europe/Berlin prune_now "2026-12-01 12:00") \
		BACKUP_RETENTION_DAYS=1 BACKUP_KEEP_MIN=1 BACKUP_KEEP_DAILY=30 \
		BACKUP_KEEP_MONTHLY=30 bk-prune --dry-run >out &&
	{
		verdict keep 20261101_003000 "keep-min, daily 2026-11-01, monthly 2026-11"
		verdict keep 20261031_233000 "daily 2026-10-31, monthly 2026-10"
		verdict keep 20261026_003000 "daily 2026-10-26"
		verdict keep 20261025_024500 "daily 2026-10-25"
		verdict remove 20261025_021500 "expired"
		verdict keep 20261024_233000 "daily 2026-10-24"
		verdict keep 20260329_233000 "daily 2026-03-29, monthly 2026-03"
		verdict remove 20260329_023000 "expired"
		verdict remove 20260329_003000 "expired"
		verdict keep 20260328_120000 "daily 2026-03-28"
	} >expect &&
	test_cmp expect out
'

test_expect_success 'America/New_York: 1 November 2026 is the day the clocks go back' '
	fresh_dir &&
	prune_place good "2026-11-01 01:30" "2026-11-01 00:30" "2026-10-31 23:30" \
		"2026-03-08 23:30" "2026-03-08 02:30" "2026-03-08 00:30" "2026-03-07 23:30" &&
	TZ=America/New_York BK_PRUNE_NOW=$(TZ=America/New_York prune_now "2026-12-01 12:00") \
		BACKUP_RETENTION_DAYS=1 BACKUP_KEEP_MIN=1 BACKUP_KEEP_DAILY=30 \
		BACKUP_KEEP_MONTHLY=30 bk-prune --dry-run >out &&
	{
		verdict keep 20261101_013000 "keep-min, daily 2026-11-01, monthly 2026-11"
		verdict remove 20261101_003000 "expired"
		verdict keep 20261031_233000 "daily 2026-10-31, monthly 2026-10"
		verdict keep 20260308_233000 "daily 2026-03-08, monthly 2026-03"
		verdict remove 20260308_023000 "expired"
		verdict remove 20260308_003000 "expired"
		verdict keep 20260307_233000 "daily 2026-03-07"
	} >expect &&
	test_cmp expect out
'

test_expect_success 'ISO week 2026-W53 runs from 28 December to 3 January' '
	fresh_dir &&
	prune_place good "2027-01-04 02:00" "2027-01-03 02:00" "2027-01-01 02:00" \
		"2026-12-31 02:00" "2026-12-27 02:00" &&
	TZ=UTC BK_PRUNE_NOW=$(TZ=UTC prune_now "2027-06-01 12:00") \
		BACKUP_RETENTION_DAYS=1 BACKUP_KEEP_MIN=1 BACKUP_KEEP_WEEKLY=3 \
		BACKUP_KEEP_MONTHLY=2 bk-prune --dry-run >out &&
	{
		verdict keep 20270104_020000 "keep-min, weekly 2027-W01, monthly 2027-01"
		verdict keep 20270103_020000 "weekly 2026-W53"
		verdict remove 20270101_020000 "expired"
		verdict keep 20261231_020000 "monthly 2026-12"
		verdict keep 20261227_020000 "weekly 2026-W52"
	} >expect &&
	test_cmp expect out
'

test_done
