/*
 * bk-export's work: every table of the database, classified by the scope
 * (full, window, added, omitted), from ONE snapshot into a directory of
 * pg_dump-style .sql files (COPY ... FROM stdin), .csv files (windowed
 * tables), schema.sql/schema-post.sql from pg_dump --snapshot, and MANIFEST,
 * written last, which marks the export complete.
 */
#ifndef BK_EXPORT_H
#define BK_EXPORT_H

#include <stdio.h>

#include "scope.h"

struct bk_export_opts {
	const struct bk_scope *scope;
	const char *out_dir;	/* NULL: a new bk-export.XXXXXX under tmpdir */
	const char *tmpdir;
	int strict;		/* a listed table that does not exist, or drift, is an error */
	int progress;		/* a live progress line on stderr (a terminal) */
	const char *window_timezone;	/* cutoffs of timestamp columns; NULL: UTC */
	const char *backup_dir;	/* the previous archive there is compared (drift); NULL: none */
	int drift_drop_percent;	/* a fall in rows beyond this share is drift */
};

enum { BK_EXPORT_OK = 0, BK_EXPORT_FAIL = -1, BK_EXPORT_SCOPE = -2 };

/*
 * Export. Returns BK_EXPORT_OK with the absolute path of the directory in
 * *dir_out (caller frees); BK_EXPORT_FAIL, or BK_EXPORT_SCOPE when the scope
 * does not fit the database (a table listed twice under two names, a bad
 * window column), with the error slot set. On failure everything this call
 * created is removed again: the directory if it made it, else the files it
 * wrote there. SIGINT, SIGTERM and SIGHUP cancel the export the same way.
 */
int bk_export(const struct bk_export_opts *o, char **dir_out);

/*
 * The classification of every table, as bk-export --plan prints it to out,
 * without exporting anything. The same returns as bk_export.
 */
int bk_export_plan(const struct bk_export_opts *o, FILE *out);

#endif
