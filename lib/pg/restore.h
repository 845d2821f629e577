/*
 * Restore an extracted, verified backup into a database with libpq, in one
 * transaction: schema.sql, the data files (COPY blocks and CSV, streamed in
 * constant memory), sequences.sql, schema-post.sql, COMMIT.
 */
#ifndef BK_RESTORE_H
#define BK_RESTORE_H

#include <libpq-fe.h>

#include "extract.h"
#include "manifest.h"

/* One backed-up table, from a "# table: FILE ROWS QNAME" line of MANIFEST. */
struct bk_restore_table {
	char *qname;		/* as in MANIFEST, e.g. public."UserProfile" */
	char *schema, *name;	/* the same unquoted */
	char *file;		/* the member holding its rows */
	long long rows;		/* rows in the backup */
	char *window;		/* "created_at >= 2026-08-25 ..." for windowed tables, else NULL */
	char *window_col;	/* its column, unquoted ("created_at") */
	char *cutoff;		/* its cutoff, a literal of the column's type */
	char *zone;		/* "# window-rows:" ZONE of the cutoff, NULL if "-" or unknown */
	long long closure;	/* "# window-rows:" CLOSURE, -1 when not given (old archives) */
	/* Filled by bk_restore_probe(): */
	unsigned oid;		/* 0: not in the target database */
	long long target_rows;	/* rows there now; 0 when missing */
	long long target_window;	/* of them, in the window (COL >= CUTOFF OR COL IS NULL) */
};

/* What a restore over tables that hold rows may delete. */
enum bk_restore_replace {
	BK_REPLACE_NONE,	/* nothing: refused if a backed-up table holds rows */
	BK_REPLACE_WINDOW,	/* --replace: full tables emptied, windowed tables keep their
				 * rows older than the cutoff that the backup does not hold */
	BK_REPLACE_ALL		/* --replace-all: every backed-up table emptied */
};

enum bk_restore_mode {
	BK_RESTORE_FULL,	/* no backed-up table exists: schema, data, post-data */
	BK_RESTORE_DATA		/* all exist: data only (emptied first) */
};

struct bk_restore_plan {
	struct bk_restore_table *tables;
	size_t n_tables;
	enum bk_restore_mode mode;
	int n_existing;		/* tables that exist in the target */
	int n_populated;	/* tables there that hold rows */
};

/* Per-phase durations in seconds. */
struct bk_restore_times {
	double schema, data, post;
};

/* The tables of the backup from m (with their "# window:" and
 * "# window-rows:" lines): 0, or -1 on a malformed line. */
int bk_restore_plan_init(struct bk_restore_plan *p, const struct bk_manifest *m);
void bk_restore_plan_free(struct bk_restore_plan *p);

/*
 * Look at the target database (reads only; in the caller's transaction if
 * one is open, else in a read-only one of its own): which backed-up tables
 * exist, how many rows they hold and, for windowed tables, how many of them
 * are in the window; choose the mode. -1 with the error slot set when only
 * some of the tables exist.
 */
int bk_restore_probe(struct bk_restore_plan *p, PGconn *conn);

#define BK_RESTORE_REFUSED (-2)

/* Does the restore read path? For bk_extract_opts.keep: the files a restore
 * reads must be kept open at extraction (bk_restore reads nothing by name). */
int bk_restore_keep(const struct bk_manifest *m, const char *path);

/*
 * Restore the extracted files (MANIFEST m) into conn's database in one
 * transaction. First, before anything runs, every file it may read is
 * checked: a data file (.sql) or sequences.sql may hold only what bk-export
 * writes there -- comments, its SET lines, COPY ... FROM stdin blocks into
 * the tables MANIFEST lists in that file (each once), setval() lines --
 * and a schema file no psql meta-command (but pg_dump's \restrict lines);
 * anything else refuses the restore with nothing run. Schema files are sent
 * in batches that end where statements end (any size). The transaction
 * must stay open after each batch and COPY.
 * Into an empty database (no backed-up table exists): schema.sql, data,
 * sequences.sql, schema-post.sql. If the tables exist: data only (foreign
 * keys touching them dropped and re-created, their user triggers disabled
 * meanwhile, all in the same transaction) -- but if any holds rows, only
 * with replace set; without it nothing is changed and BK_RESTORE_REFUSED is
 * returned with the plan filled in to say which.
 * Full tables, and with BK_REPLACE_ALL every table, are emptied with
 * TRUNCATE ... RESTART IDENTITY (the restart makes the setval() of the
 * owned sequences roll back with the rest). A windowed table otherwise
 * loses only its rows in the window and those whose primary key is that of
 * a row of the backup; its older rows stay; its owned sequences get new
 * storage (ALTER SEQUENCE ... RESTART, then their value back) for the same
 * reason, and end past the kept rows. Row counts are checked against
 * MANIFEST. 0, or -1 with the error slot set and the transaction rolled back.
 */
int bk_restore(PGconn *conn, const struct bk_extract_files *files, const struct bk_manifest *m,
	       enum bk_restore_replace replace, struct bk_restore_plan *plan,
	       struct bk_restore_times *times);

/* Parse a quoted, schema-qualified name (public."UserProfile") into its
 * unquoted parts; -1 if it is not exactly that. Callers free *schema, *name. */
int bk_restore_parse_qname(const char *qname, char **schema, char **name);

#endif
