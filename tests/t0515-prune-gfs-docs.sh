#!/bin/bash
# The example in docs/BACKUP_OPERATIONS.md ("Retention") is what bk-prune
# --dry-run prints for two years of nightly archives with gaps, a manual run
# and damaged ones, under the policy the docs' worked example sizes (30
# days, 8 weekly, 12 monthly): the docs cannot drift from the program.
. "$(dirname "$0")/lib.sh"
test_description 'bk-prune: the two-year example of the docs'
. "$TEST_DIRECTORY/lib-prune.sh"

export TZ=UTC
prune_make_archives || exit 1
docs=$TEST_DIRECTORY/../docs/BACKUP_OPERATIONS.md

# Nightly at 02:00 from 2024-12-02 to 2026-12-01, but none while the host
# was off (4-24 August 2025, 14-17 November 2026); a manual run on
# 2026-11-20 at 14:30; 2026-11-24 corrupt, 2026-10-31 cut short.
two_years() {
	seq "$(prune_now "2024-12-02 02:00")" 86400 "$(prune_now "2026-12-01 02:00")" |
	sed "s/^/@/" | date -f - "+%Y-%m-%d %H:%M" |
	grep -v -E "^(2025-08-(0[4-9]|1.|2[0-4])|2026-11-1[4-7]) "
}

test_expect_success 'set up two years of archives' '
	mkdir -p "$BACKUP_DIR" &&
	two_years >times &&
	sed "s/[-:]//g; s/ /_/" times | while read -r t; do
		cp "$TRASH/good.tar.gz" "$BACKUP_DIR/critical_backup_${t}00.tar.gz" || exit 1
	done &&
	prune_place good "2026-11-20 14:30" &&
	prune_place corrupt "2026-11-24 02:00" &&
	prune_place truncated "2026-10-31 02:00" &&
	ls "$BACKUP_DIR" | wc -l >count &&
	echo 706 >expect &&
	test_cmp expect count
'

test_expect_success 'the docs show what bk-prune --dry-run prints' '
	BK_PRUNE_NOW=$(prune_now "2026-12-01 09:00") BACKUP_RETENTION_DAYS=30 \
		BACKUP_KEEP_WEEKLY=8 BACKUP_KEEP_MONTHLY=12 bk-prune --dry-run >plan &&
	grep -v "expired\$" plan | sed "s|$BACKUP_DIR/|/backups/|" >shown &&
	grep -c "expired\$" plan >removed &&
	sed -n "/^<!-- example: t0515 -->/,/^<!-- end of example -->/p" "$docs" >block &&
	sed -e "1,/^\\\$ bk-prune --dry-run/d" -e "/^\`\`\`\$/,\$d" block >documented &&
	test_cmp shown documented &&
	grep -q "^and $(cat removed) archives more" block
'

test_done
