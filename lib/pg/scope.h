/*
 * The backup scope: which tables go into which export file. The built-in
 * default is the spec's (shared/DESIGN.md); BACKUP_SCOPE names a file that
 * replaces it, one line per output file:
 *   FILE  TABLE[,TABLE...]  [since=COLUMN:N months|weeks|days|years]
 * Names are parsed here into their catalog form, never passed on as SQL text.
 */
#ifndef BK_SCOPE_H
#define BK_SCOPE_H

#include <stddef.h>

#define BK_SCOPE_MAX (1 << 20)	/* bytes of a scope file */

struct bk_scope_table {
	char *schema;		/* NULL: unqualified, found through search_path */
	char *name;		/* catalog form: unquoted names folded to lower case */
	char *text;		/* as written, for messages */
};

struct bk_scope_entry {
	char *file;		/* a plain name ending in .sql or .csv */
	int csv;
	struct bk_scope_table *tables;
	size_t n_tables;	/* exactly 1 for a .csv file */
	char *since_column;	/* catalog form; NULL: the whole table */
	char *since_text;	/* the column as written */
	int since_n;
	const char *since_unit;	/* "months", "weeks", "days" or "years" */
	int line;		/* line in the scope file, for messages */
};

struct bk_scope {
	char *name;		/* the scope file, or "built-in scope" */
	struct bk_scope_entry *entries;
	size_t n_entries;
};

/* The default scope as scope-file text (man/bk-export.1 shows the same). */
extern const char bk_scope_default_text[];

/* Parse scope text; -1 with "NAME:LINE: reason" in the error slot. */
int bk_scope_parse(struct bk_scope *s, const char *name, const char *text, size_t len);
/* Read and parse the file at path, or the built-in default when path is NULL. */
int bk_scope_load(struct bk_scope *s, const char *path);
void bk_scope_free(struct bk_scope *s);

/* The window as an interval literal ("3 months") into buf; "" without one. */
void bk_scope_interval(const struct bk_scope_entry *e, char *buf, size_t size);

#endif
