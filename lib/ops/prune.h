/*
 * Retention for bk-prune: archives in $BACKUP_DIR past BACKUP_RETENTION_DAYS
 * are removed, except the newest BACKUP_KEEP_MIN that pass verification,
 * whatever their age. Nothing but critical_backup_YYYYMMDD_HHMMSS.tar.gz
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
};

/*
 * Prune dir. removed(path, ctx) is called for each archive removed (or, with
 * dry_run, that would be removed), newest first. Returns 0, or -1 when the
 * directory could not be read or some archive not removed (each such failure
 * is logged, the others are still handled).
 */
int bk_prune(const char *dir, const struct bk_prune_opts *o,
	     void (*removed)(const char *path, void *ctx), void *ctx);

#endif
