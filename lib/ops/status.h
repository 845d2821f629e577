/*
 * Status files in $BACKUP_DIR that bk-run writes and bk-monitor reads:
 *   .last_backup_success   unix seconds, one line
 *   .last_backup_size_mb   integer MiB (rounded up), one line
 *   .backup_history        TSV: epoch result(ok|fail) bytes seconds file reason
 */
#ifndef BK_STATUS_H
#define BK_STATUS_H

#define BK_STATUS_SUCCESS ".last_backup_success"
#define BK_STATUS_SIZE ".last_backup_size_mb"
#define BK_STATUS_HISTORY ".backup_history"
#define BK_STATUS_OFFSITE ".last_offsite_success"	/* unix seconds of the newest confirmed upload */

struct bk_history_entry {
	long long epoch;
	int ok;
	unsigned long long bytes;
	double seconds;
	char file[256];		/* base name of the archive, "-" when none */
	/* "step: cause" for failures; for ok runs "-", or "N warnings: FIRST"
	 * when the archive carries warnings (bk-monitor reads only failures') */
	char reason[512];
};

/* Append one line to the history (one write, O_APPEND). Tabs, newlines and
 * other control characters in file/reason become spaces; a reason too long
 * for the field is cut at a character boundary. */
int bk_history_append(const char *dir, const struct bk_history_entry *e);
/* The last `want` entries, oldest first (malformed lines skipped). Caller frees *out. */
int bk_history_read(const char *dir, size_t want, struct bk_history_entry **out, size_t *n);

/* Counts over the whole history and its newest ok line, for bk-monitor. */
struct bk_history_summary {
	unsigned long long runs, failed;
	int has_ok;
	struct bk_history_entry last_ok;
};
/* bk_history_read, and when sum is not NULL, the summary of every line. */
int bk_history_summarize(const char *dir, size_t want, struct bk_history_entry **out,
			 size_t *n, struct bk_history_summary *sum);

/* Write .last_backup_success and .last_backup_size_mb atomically, then the ok
 * history line; reason NULL or "" for a run without warnings. */
int bk_status_record_success(const char *dir, long long epoch, unsigned long long bytes,
			     double seconds, const char *archive_path, const char *reason);
/* Append a fail history line: reason "step: cause". Success files untouched. */
int bk_status_record_failure(const char *dir, long long epoch, double seconds,
			     const char *step, const char *cause);
/* Write .last_offsite_success (unix seconds, one line) atomically. */
int bk_status_record_offsite(const char *dir, long long epoch);
/* Read the two status files. Returns 0, 1 when there is no success yet, -1 on a
 * malformed file (message names it). */
int bk_status_read(const char *dir, long long *last_success, long long *size_mb);
/* One non-negative number on one line in dir/name (e.g. .last_offsite_success):
 * 0, 1 when the file does not exist, -1 when it is malformed (message names it). */
int bk_status_read_number(const char *dir, const char *name, long long *out);

#endif
