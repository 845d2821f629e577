/*
 * What the parts of bk-export share (export.h is the API): the export's state
 * and the functions each part offers the others. export.c runs the export,
 * export_catalog.c classifies every table and builds the window queries,
 * export_dump.c runs pg_dump, export_data.c streams the rows on worker
 * connections, export_manifest.c writes MANIFEST and prints --plan.
 */
#ifndef BK_EXPORT_INT_H
#define BK_EXPORT_INT_H

#include <pthread.h>
#include <stdio.h>
#include <sys/types.h>

#include <libpq-fe.h>

#include "export.h"
#include "export_file.h"
#include "scope.h"
#include "sha256.h"

#define EX_BUF_SIZE (1 << 20)
/* How long to wait for a table lock (ours and pg_dump's) before giving up:
 * a migration holding one should not hang the nightly run for ever. */
#define EX_LOCK_WAIT "300s"
/* Worker connections for the data: at least 2, at most 4, else one per core. */
#define EX_MAX_WORKERS 4

/* Every table of the database is in exactly one class. */
enum ex_class { EX_FULL, EX_WINDOW, EX_ADDED, EX_OMITTED };

struct seq {
	unsigned int oid;
	char *qname;		/* quoted as needed, schema-qualified: for the files */
	char *sqlname;		/* PQescapeIdentifier form: for our queries */
	char *last_value;
	int is_called;
};

struct table {
	unsigned int oid;
	char relkind;
	char *schema, *name;	/* catalog form */
	char *qname, *sqlname;	/* quote_ident form for files, escaped form for queries */
	char *cols, *sqlcols;	/* column lists, same two forms; "" when none */
	enum ex_class cls;
	char *why;		/* omitted: the rule; added: "referenced by ..."; else NULL */
	const struct bk_scope_entry *entry;	/* the FILE line that names it, or NULL */
	const struct bk_scope_table *listed;	/* its name on that line */
	const struct bk_scope_rule *rule;	/* the rule that classified it, or NULL */
	char *file;		/* the member holding its rows; NULL when omitted */
	int csv;
	size_t referrer;	/* added: index of a table that references it */
	char *extension;	/* a member of this extension: its data comes with CREATE EXTENSION */
	/* window */
	char *interval;		/* "3 months" */
	char *since, *since_sql;	/* window column, two forms */
	char since_type;	/* 'z' timestamptz, 't' timestamp, 'd' date */
	char *cutoff;		/* literal of the column's type, computed in the snapshot */
	char *cutoff_sql;	/* the same, quoted and cast, for queries */
	char *where;		/* the rows to export, over alias "t"; NULL: all */
	int self_ref;		/* a foreign key of the table to itself */
	int referenced;		/* backed-up rows may reference older rows of it */
	long long window_rows, total_rows;
	size_t *seqs, n_seqs;	/* indices into export.seqs */
	long long pages;	/* pg_class.relpages, partitions summed: the size estimate */
	long long estimate;	/* rows: pg_class.reltuples, or counted when small */
	long long rows;
};

/* A foreign key between two tables of the list (partitions mapped to their root). */
struct fk {
	size_t from, to;	/* indices into export.t: from references to */
	char **from_cols, **to_cols;	/* escaped identifiers */
	size_t ncols;
};

struct member {
	char *name;
	long long rows;		/* -1: not a data file */
	unsigned long long bytes;
	char sha256[BK_SHA256_HEX];
};

/* One output data file: written by one worker, start to end. */
struct job {
	const char *name;
	int csv;		/* a .csv file of tables[0]; else COPY blocks */
	struct table **tables;
	size_t n;
	size_t *seqs, n_seqs;	/* setval lines it carries, decided before any is written */
	int any_seq;		/* a blank line after the setvals (as before: any table has one) */
	long long pages;	/* size estimate, for largest first */
	/* results, read after the workers are joined */
	long long rows;
	unsigned long long bytes;
	char sha256[BK_SHA256_HEX];
};

struct worker {
	struct export *x;
	PGconn *conn;
	char *buf;
	struct bk_sha256 *sha;
	struct bk_xfile file;	/* the data file being written */
	int file_open;
	pthread_t thread;
	int started;
};

struct dump {
	const char *section, *name;
	pid_t pid;
	FILE *err;		/* pg_dump's stderr, logged when it ends */
	double start;
};

struct export {
	const struct bk_export_opts *o;
	PGconn *conn;
	char *dir;
	int made_dir;
	char **created;
	size_t n_created;
	struct table *t;	/* every table of the database, sorted by qname */
	size_t nt;
	struct fk *fks;
	size_t nfk;
	struct seq *seqs;
	size_t ns;
	struct member *members;
	size_t nm;
	char **warnings;
	size_t nw;
	char *snapshot, *created_at;
	struct dump dump[2];
	struct job *jobs;
	size_t nj, *order;	/* order: jobs by size, largest first */
	struct worker workers[EX_MAX_WORKERS];
	int nworkers;
	int aliases;		/* for the window queries' table aliases */
	/* Shared by the workers, under mu: the next job, the first error. */
	pthread_mutex_t mu;
	size_t next_job;
	int failed;		/* atomic: a worker failed, the others stop */
	char *fail_msg, *fail_hint;
	double start, shown;
	/* For bk-run's progress line (atomic): data bytes written, files done,
	 * and the tables' size on disk as the estimate of the total. */
	unsigned long long bytes_done, bytes_estimate;
	size_t jobs_done;
};

/* Signals (export.c): the handler cancels these queries and stops these children. */
extern PGcancel *volatile ex_cancel_handles[1 + EX_MAX_WORKERS];
extern volatile pid_t ex_dump_pids[2];

/* export.c: helpers */
int ex_interrupted(void);
int ex_interrupted_error(void);
void *ex_realloc(void *p, size_t n, size_t size);
int ex_pg_fail(PGconn *conn, PGresult *res, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
PGresult *ex_query(struct export *x, const char *sql, int n, const char *const *params,
		   const char *what);
int ex_conn_command(PGconn *conn, const char *sql, const char *what);
char *ex_ident(struct export *x, const char *name);
char *ex_qualified(struct export *x, const char *nsp, const char *rel);
void ex_warning(struct export *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ex_created(struct export *x, const char *path);
void ex_add_member(struct export *x, const char *name, long long rows,
		   unsigned long long bytes, const char *sha256);
int ex_session_setup(PGconn *conn);
void ex_progress_clear(struct export *x);
void ex_progress_total(struct export *x, int wait);
void ex_progress(struct export *x, const char *file, const struct table *t,
		 long long rows, unsigned long long bytes, double start);

/* export_catalog.c: before the snapshot, every table classified and named... */
int ex_classify(struct export *x);
/* ...the tables to lock... */
int ex_backed_up(const struct table *t);
/* ...and in the snapshot: columns, sequences, cutoffs, window queries, estimates. */
int ex_describe(struct export *x);
void ex_catalog_free(struct export *x);
/* Rows of a table: counted when small or never analyzed, else estimated. In
 * the export, only after pg_dump has taken its locks (a lock held on a table
 * left out must stop pg_dump, not us before it). */
int ex_estimate(struct export *x, struct table *t);
const char *ex_class_name(enum ex_class c);

/* export_dump.c */
int ex_start_dump(struct export *x, struct dump *d, const char *section, const char *name);
int ex_finish_dump(struct export *x, struct dump *d);
void ex_stop_dumps(struct export *x);

/* export_data.c */
void ex_plan_jobs(struct export *x);
int ex_start_workers(struct export *x);
int ex_write_data(struct export *x);
void ex_stop_workers(struct export *x);
void ex_jobs_free(struct export *x);

/* export_manifest.c */
int ex_write_manifest(struct export *x);
int ex_print_plan(struct export *x, FILE *out);

#endif
