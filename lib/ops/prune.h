/*
 * Retention for bk-prune: archives in $BACKUP_DIR past BACKUP_RETENTION_DAYS
 * are removed, except the newest BACKUP_KEEP_MIN that pass verification,
 * whatever their age, and those the GFS rules keep (retention.h decides). Nothing but critical_backup_YYYYMMDD_HHMMSS.tar.gz
 * files is ever touched, and the encrypted copy NAME.tar.gz.age of an archive
 * removed, which goes with it.
 */
#ifndef BK_PRUNE_H
#define BK_PRUNE_H

#define BK_ARCHIVE_PREFIX "critical_backup_"
#define BK_ARCHIVE_SUFFIX ".tar.gz"

/*
 * Is name exactly "critical_backup_YYYYMMDD_HHMMSS.tar.gz"? Returns 1 and
 * sets *t to the local time it names, 2 when it has that shape but the digits
 * are not a valid time (*t untouched), 0 for any other name.
 */
int bk_archive_name_time(const char *name, long long *t);

struct bk_prune_opts {
	int dry_run;		/* say what would go, remove nothing */
	long long now;		/* unix seconds to measure ages from */
	int retention_days;	/* remove archives more than this many whole days old */
	int keep_min;		/* but keep this many newest good archives */
	int keep_daily;		/* and the newest good one of so many days, */
	int keep_weekly;	/* ISO weeks and months that have one (0: off) */
	int keep_monthly;
};

/*
 * keep: 1 kept, 0 removed (or, with dry_run, would be); notes: why, as
 * bk_retention_describe() says ("retention, daily 2026-11-30", "expired").
 */
typedef void bk_prune_verdict_fn(const char *path, int keep, const char *notes, void *ctx);

/*
 * Prune dir. decided() is called for each archive, newest first: kept, or
 * removed (with dry_run: that would be removed); not for one whose removal
 * failed. Returns 0, or -1 when the directory could not be read, some
 * archive not removed (each such failure is logged, the others are still
 * handled) or fewer than keep_min archives pass verification.
 */
int bk_prune(const char *dir, const struct bk_prune_opts *o,
	     bk_prune_verdict_fn *decided, void *ctx);

#endif
