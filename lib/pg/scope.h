/*
 * The backup scope: every table of the database, in full, unless a rule
 * leaves it out (schema only) or windows it. Two kinds of lines:
 *   FILE  TABLE[,TABLE...]  [since=COLUMN:N months|weeks|days|years]
 *   omit|window|full  PATTERN[,PATTERN...]  [since=COLUMN[|COLUMN...]:N UNIT]
 * A FILE line puts the tables it names into FILE (round 1's format); a rule
 * classifies the tables no FILE line names, the first rule that matches
 * wins, and a table no rule matches is backed up in full. A scope without
 * rules is followed by the built-in rules. Names and patterns are parsed
 * here into their catalog form, never passed on as SQL text.
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

enum bk_scope_action { BK_SCOPE_OMIT, BK_SCOPE_WINDOW, BK_SCOPE_FULL };

/* A table pattern: '*' and '?' match any run of characters and any one. An
 * unquoted part is matched without regard to case (so *_sessions also
 * matches User_Sessions); a quoted one exactly. */
struct bk_scope_pattern {
	char *schema;		/* NULL: any schema */
	char *name;
	int schema_fold, name_fold;
	char *text;		/* as written */
};

struct bk_scope_rule {
	enum bk_scope_action action;
	struct bk_scope_pattern *patterns;
	size_t n_patterns;
	char **since_columns;	/* window: catalog form, the first that exists is used */
	size_t n_since;
	char *since_text;
	int since_n;
	const char *since_unit;
	const char *origin;	/* the scope it comes from: s->name or "built-in scope" */
	int line;
};

struct bk_scope {
	char *name;		/* the scope file, or "built-in scope" */
	int builtin;		/* FILE lines only place tables that exist; no warnings */
	struct bk_scope_entry *entries;
	size_t n_entries;
	struct bk_scope_rule *rules;
	size_t n_rules;
};

/* The default scope as scope-file text (man/bk-export.1 shows the same). */
extern const char bk_scope_default_text[];

/* The first rule that matches the table (catalog names), and the pattern that
 * matched in *which; NULL when none does (the table is backed up in full). */
const struct bk_scope_rule *bk_scope_match(const struct bk_scope *s, const char *schema,
					   const char *name,
					   const struct bk_scope_pattern **which);

/* Does the glob pattern match s ('*', '?'; fold: ASCII case ignored)? */
int bk_scope_glob(const char *pattern, const char *s, int fold);

/* "omit *_logs (built-in scope line 5)" for messages and MANIFEST; caller frees. */
char *bk_scope_rule_text(const struct bk_scope_rule *r, const struct bk_scope_pattern *p);

/* Parse scope text; -1 with "NAME:LINE: reason" in the error slot. */
int bk_scope_parse(struct bk_scope *s, const char *name, const char *text, size_t len);
/* Read and parse the file at path, or the built-in default when path is NULL. */
int bk_scope_load(struct bk_scope *s, const char *path);
void bk_scope_free(struct bk_scope *s);

/* The window as an interval literal ("3 months") into buf; "" without one. */
void bk_scope_interval(const struct bk_scope_entry *e, char *buf, size_t size);
void bk_scope_rule_interval(const struct bk_scope_rule *r, char *buf, size_t size);

#endif
