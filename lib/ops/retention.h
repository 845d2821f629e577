/*
 * Which archives to keep: the retention decision of bk-prune (local
 * $BACKUP_DIR) and of the S3 bucket, in one place so both agree. Pure: it
 * never touches a file, a socket or the clock; the caller lists the archives,
 * says what "good" means through a callback, and acts on the verdicts.
 *
 * An archive is kept when any rule keeps it:
 *   retention   at most retention_days whole days old (or in the future)
 *   keep-min    one of the newest keep_min good archives
 *   daily D     the newest good archive of day D (YYYY-MM-DD), for the
 *               newest keep_daily days that have a good archive
 *   weekly W    likewise per ISO 8601 week (YYYY-Www, week-year of %G)
 *   monthly M   likewise per calendar month (YYYY-MM)
 *   keep-min-damaged
 *               not good, but kept because otherwise fewer than keep_min
 *               archives would be left (newest first; a damaged archive
 *               may still hold most of the data)
 * Periods are in local time (TZ) and counted as restic's --keep-daily does:
 * the last N periods *that have a good archive*, not the last N calendar
 * periods; each rule counts on its own, so one archive may carry several
 * reasons. Everything else is removed.
 *
 * Goodness is asked lazily, at most once per archive, newest first, and
 * only when some archive is past retention_days (else everything is kept
 * and nothing is asked: bk-verify reads whole archives). With the GFS
 * rules off (0) the verdicts are those of bk-prune before they existed.
 *
 * bk-prune (lib/ops/prune.c): is_good runs bk-verify on the file. The S3
 * bucket: every uploaded object counts as good (is_good returns 1), t from
 * bk_archive_name_time() of the key's last part, BACKUP_S3_RETENTION_DAYS
 * as retention_days.
 */
#ifndef BK_RETENTION_H
#define BK_RETENTION_H

#include <stddef.h>

struct bk_retention_policy {
	int retention_days;	/* keep all at most this many whole days old */
	int keep_min;		/* keep the newest this many good ones (>= 1) */
	int keep_daily;		/* 0: rule off */
	int keep_weekly;
	int keep_monthly;
};

/* Reasons to keep, or-ed in bk_retention_item.reasons; 0 is "remove". */
enum {
	BK_KEEP_RETENTION = 1 << 0,
	BK_KEEP_MIN = 1 << 1,
	BK_KEEP_DAILY = 1 << 2,
	BK_KEEP_WEEKLY = 1 << 3,
	BK_KEEP_MONTHLY = 1 << 4,
	BK_KEEP_DAMAGED = 1 << 5,	/* keep-min-damaged */
};

/* Goodness as known after the decision. */
enum {
	BK_GOOD_UNKNOWN = -1,	/* not asked: not needed */
	BK_GOOD_NO = 0,
	BK_GOOD_YES = 1,
};

struct bk_retention_item {
	long long t;		/* in: unix seconds the archive's name says */
	/* out: */
	unsigned reasons;	/* BK_KEEP_* bits; 0: remove */
	int good;		/* BK_GOOD_* */
	char day[16];		/* "2026-11-30", set with BK_KEEP_DAILY */
	char week[16];		/* "2026-W48", set with BK_KEEP_WEEKLY */
	char month[16];		/* "2026-11", set with BK_KEEP_MONTHLY */
};

struct bk_retention_summary {
	size_t kept, removed;
	size_t good, damaged;	/* of those asked */
	int short_of_min;	/* some damaged and fewer than keep_min good */
};

/*
 * Decide for v[0..n-1], any order (ties in t: the earlier in v counts as
 * newer). is_good(i, ctx) returns 1 when v[i] is good, 0 when not; it is
 * called at most once per item. now is unix seconds to measure ages from.
 * Fills each item's outputs and *sum (may be NULL). Returns 0, or -1 with
 * bk_err set when the policy is invalid (negative, keep_min < 1).
 */
int bk_retention_decide(struct bk_retention_item *v, size_t n, long long now,
			const struct bk_retention_policy *p,
			int (*is_good)(size_t i, void *ctx), void *ctx,
			struct bk_retention_summary *sum);

#define BK_RETENTION_NOTES_MAX 112

/*
 * The item's notes for people and scripts, as bk-prune --dry-run prints
 * them after "keep" or "remove" (reasons ? keep : remove): separated by
 * ", ", in this order: retention, keep-min, daily D, weekly W, monthly M,
 * keep-min-damaged, then "damaged" when it is known not good. A removed
 * item's notes are "expired" or "expired, damaged". buf holds
 * BK_RETENTION_NOTES_MAX bytes. Returns buf.
 */
char *bk_retention_describe(const struct bk_retention_item *it, char *buf);

#endif
