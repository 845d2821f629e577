/*
 * Drift: tonight's MANIFEST compared with the previous good archive's. New
 * tables, tables gone and row counts that fell sharply become "drift: ..."
 * sentences that bk-export writes as "# warning:" lines (errors with
 * BACKUP_STRICT=1). Only names and counts are compared, never data.
 */
#ifndef BK_DRIFT_H
#define BK_DRIFT_H

#include <stddef.h>

#include "manifest.h"

/*
 * The previous good archive's MANIFEST: the newest
 * critical_backup_YYYYMMDD_HHMMSS.tar.gz (by the time in its name) among the
 * regular files of dir. Final names are given only after bk-verify passed, so
 * .incoming/ and every other name are ignored. Only the first member
 * (MANIFEST, at most BK_MANIFEST_MAX bytes) is read, nothing is extracted.
 * 1 with prev filled and *name = the file's base name (caller frees) when
 * found; 0 when there is none (dir missing or without such a file); -1 with
 * the error slot set when the directory or that archive cannot be read (the
 * caller warns and goes on: a broken old archive must not stop a backup).
 * prev is initialised in every case (bk_manifest_free is always safe).
 */
int bk_drift_load_previous(const char *dir, struct bk_manifest *prev, char **name);

struct bk_drift {
	char **warnings;	/* "drift: ..." sentences, for "# warning:" lines */
	size_t n;
};

/*
 * Compare cur with prev (read from the archive prev_name) into out (set up
 * here; free it with bk_drift_free). A table is "new" when it is in cur (as
 * a `# table:` or an `# omitted:` line) and not in prev, except that a table
 * omitted tonight is not reported new when prev has no `# omitted:` line at
 * all (round-1 archives listed only what they backed up). A table "is gone"
 * when it is in prev and not in cur; "left out" when prev backed it up and
 * cur omits it. Rows "fell" when a table backed up in
 * both (ROWS of full and added tables, TOTAL of window-rows for windowed
 * ones; unknown for omitted tables and round-1 windows) went to 0 from
 * non-zero, or, from 10 rows or more, fell by more than drop_percent
 * (1..100, clamped) percent. A prev without any table line gives nothing.
 */
void bk_drift_compare(const struct bk_manifest *prev, const char *prev_name,
		      const struct bk_manifest *cur, int drop_percent, struct bk_drift *out);
void bk_drift_free(struct bk_drift *d);

#endif
