/*
 * bk-export (see export.h): tables resolved by name through the catalog, locked,
 * then one REPEATABLE READ READ ONLY snapshot shared with pg_dump for the schema
 * and with worker connections (pg_dump -j's way) that stream the tables with
 * COPY straight into their files, whole files per worker, largest first.
 * MANIFEST last.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "cli.h"
#include "err.h"
#include "export.h"
#include "export_file.h"
#include "fs.h"
#include "log.h"
#include "manifest.h"
#include "pg.h"
#include "sha256.h"
#include "spawn.h"

#define BUF_SIZE (1 << 20)
/* How long to wait for a table lock (ours and pg_dump's) before giving up:
 * a migration holding one should not hang the nightly run for ever. */
#define LOCK_WAIT "300s"
/* Worker connections for the data: at least 2, at most 4, else one per core. */
#define MAX_WORKERS 4

/* Never backed up unless listed, even when a listed table references them. */
static const char *const never_added[] = { "sessions", "logs", "audit_logs", NULL };

static const char *const generated_files[] = {
	"schema.sql", "schema-post.sql", "referenced.sql", "sequences.sql", BK_MANIFEST_NAME, NULL
};

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
	char *qname, *sqlname;
	char *cols, *sqlcols;	/* column lists, same two forms; "" when none */
	const struct bk_scope_entry *entry;	/* NULL: added for a foreign key */
	const struct bk_scope_table *listed;	/* the scope's name; NULL when added */
	size_t referrer;	/* added: index of the table that references it */
	char *since, *since_sql;	/* window column, two forms */
	size_t *seqs, n_seqs;	/* indices into export.seqs */
	long long pages;	/* pg_class.relpages, partitions summed: the size estimate */
	long long rows;
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
	size_t entry;		/* scope entry (csv) */
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
	struct table *t;
	size_t nt;
	struct seq *seqs;
	size_t ns;
	struct member *members;
	size_t nm;
	char **cutoffs;		/* per scope entry, NULL without a window */
	char **warnings;
	size_t nw;
	char *snapshot, *created_at;
	struct dump dump[2];
	struct job *jobs;
	size_t nj, *order;	/* order: jobs by size, largest first */
	struct worker workers[MAX_WORKERS];
	int nworkers;
	/* Shared by the workers, under mu: the next job, the first error. */
	pthread_mutex_t mu;
	size_t next_job;
	int failed;		/* atomic: a worker failed, the others stop */
	char *fail_msg, *fail_hint;
	double start, shown;
};

/* Signals: the handler records the signal, cancels the running query (PQcancel
 * is safe in a handler) and stops the pg_dump children, so that whatever the
 * export is waiting for returns; the export notices and cleans up. */
static int interrupted_sig;	/* atomic: the workers read it too */
static PGcancel *volatile cancel_handles[1 + MAX_WORKERS];
static volatile pid_t dump_pids[2];

static void on_signal(int sig)
{
	char errbuf[256];
	int saved = errno;

	__atomic_store_n(&interrupted_sig, sig, __ATOMIC_RELAXED);
	for (int i = 0; i < 1 + MAX_WORKERS; i++) {
		PGcancel *c = cancel_handles[i];

		if (c)
			PQcancel(c, errbuf, sizeof(errbuf));
	}
	for (int i = 0; i < 2; i++)
		if (dump_pids[i] > 0)
			kill(dump_pids[i], SIGTERM);
	errno = saved;
}

static int interrupted(void)
{
	return __atomic_load_n(&interrupted_sig, __ATOMIC_RELAXED);
}

static int interrupted_error(void)
{
	int sig = interrupted();

	return bk_err_set("export interrupted by signal %d (%s)", sig, strsignal(sig));
}

static void *xrealloc(void *p, size_t n, size_t size)
{
	p = realloc(p, n * size);
	if (!p) {
		fputs("out of memory\n", stderr);
		abort();
	}
	return p;
}

/* The first line of the server's message, masked, without "ERROR:  ". */
static void pg_message(PGconn *conn, const PGresult *res, char *buf, size_t size)
{
	const char *m = res ? PQresultErrorMessage(res) : "";

	if (!*m)
		m = PQerrorMessage(conn);
	if (!strncmp(m, "ERROR:  ", 8) || !strncmp(m, "FATAL:  ", 8))
		m += 8;
	snprintf(buf, size, "%.*s", (int)strcspn(m, "\n"), m);
	bk_log_mask(buf, size);
	if (!buf[0])
		snprintf(buf, size, "server error");
}

__attribute__((format(printf, 3, 4)))
static int pg_fail(PGconn *conn, PGresult *res, const char *fmt, ...)
{
	char what[1024], why[1024];
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	va_list ap;

	if (interrupted()) {
		PQclear(res);
		return interrupted_error();
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	pg_message(conn, res, why, sizeof(why));
	bk_err_set("%s: %s", what, why);
	if (state && !strcmp(state, "42501"))
		bk_err_hint("the backup role needs read access to every table: "
			    "GRANT pg_read_all_data TO the role (PostgreSQL 14 or later)");
	else if (state && !strcmp(state, "55P03"))
		bk_err_hint("another session holds a conflicting lock (a migration?); try again later");
	PQclear(res);
	return -1;
}

static PGresult *query(struct export *x, const char *sql, int n, const char *const *params,
		       const char *what)
{
	PGresult *res;

	if (interrupted()) {
		interrupted_error();
		return NULL;
	}
	res = PQexecParams(x->conn, sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_fail(x->conn, res, "%s", what);
		return NULL;
	}
	return res;
}

static int conn_command(PGconn *conn, const char *sql, const char *what)
{
	PGresult *res;

	if (interrupted())
		return interrupted_error();
	res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fail(conn, res, "%s", what);
	PQclear(res);
	return 0;
}

static int command(struct export *x, const char *sql, const char *what)
{
	return conn_command(x->conn, sql, what);
}

static char *ident(struct export *x, const char *name)
{
	char *q = PQescapeIdentifier(x->conn, name, strlen(name)), *copy;

	if (!q) {
		pg_fail(x->conn, NULL, "cannot quote identifier");
		return NULL;
	}
	copy = bk_xstrdup(q);
	PQfreemem(q);
	return copy;
}

static char *qualified(struct export *x, const char *nsp, const char *rel)
{
	char *a = ident(x, nsp), *b = a ? ident(x, rel) : NULL, *s = NULL;

	if (a && b)
		s = bk_asprintf("%s.%s", a, b);
	free(a);
	free(b);
	return s;
}

__attribute__((format(printf, 2, 3)))
static void warning(struct export *x, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	bk_log_mask(s, strlen(s) + 1);
	bk_warn("%s", s);
	x->warnings = xrealloc(x->warnings, x->nw + 1, sizeof(*x->warnings));
	x->warnings[x->nw++] = s;
}

static void created(struct export *x, const char *path)
{
	pthread_mutex_lock(&x->mu);
	x->created = xrealloc(x->created, x->n_created + 1, sizeof(*x->created));
	x->created[x->n_created++] = bk_xstrdup(path);
	pthread_mutex_unlock(&x->mu);
}

static void add_member(struct export *x, const char *name, long long rows,
		       unsigned long long bytes, const char *sha256)
{
	struct member *m;

	x->members = xrealloc(x->members, x->nm + 1, sizeof(*x->members));
	m = &x->members[x->nm++];
	m->name = bk_xstrdup(name);
	m->rows = rows;
	m->bytes = bytes;
	snprintf(m->sha256, sizeof(m->sha256), "%s", sha256);
}

/* ---- the output directory ---- */

static int dir_exists(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : bk_err_errno("cannot use %s", path);
	if (!S_ISDIR(st.st_mode))
		return bk_err_set("cannot use %s: not a directory", path);
	return 1;
}

/* Refuse to start when a file we will write is there already: an export never
 * overwrites, and must not fail after an hour on a name clash. */
static int check_free(struct export *x, const char *name)
{
	char *path = bk_path_join(x->dir, name);
	struct stat st;
	int ret = 0;

	if (lstat(path, &st) == 0) {
		bk_err_set("%s already exists", path);
		bk_err_hint("export into a new or empty directory");
		ret = -1;
	}
	free(path);
	return ret;
}

static int setup_dir(struct export *x)
{
	const struct bk_export_opts *o = x->o;
	char *real;
	int e;

	if (!o->out_dir) {
		x->dir = bk_mkdtemp(o->tmpdir, "bk-export.");
		if (!x->dir) {
			bk_err_hint("check BACKUP_TMPDIR");
			return -1;
		}
		x->made_dir = 1;
	} else {
		e = dir_exists(o->out_dir);
		if (e < 0)
			return -1;
		if (!e) {
			if (bk_mkdir_p(o->out_dir, 0700) < 0)
				return -1;
			x->made_dir = 1;
		}
		x->dir = bk_xstrdup(o->out_dir);
	}
	real = realpath(x->dir, NULL);
	if (!real)
		return bk_err_errno("cannot resolve %s", x->dir);
	free(x->dir);
	x->dir = real;
	if (x->made_dir)
		return 0;
	for (const char *const *g = generated_files; *g; g++)
		if (check_free(x, *g) < 0)
			return -1;
	for (size_t i = 0; i < o->scope->n_entries; i++)
		if (check_free(x, o->scope->entries[i].file) < 0)
			return -1;
	return 0;
}

/* ---- progress ---- */

static void progress_clear(struct export *x)
{
	static const char clear[] = "\r\033[K";

	pthread_mutex_lock(&x->mu);
	if (x->o->progress && x->shown > 0 && write(STDERR_FILENO, clear, sizeof(clear) - 1) < 0) {
		/* stderr gone: nothing to clear */
	}
	x->shown = 0;
	pthread_mutex_unlock(&x->mu);
}

static void progress(struct export *x, const char *file, const struct table *t,
		     long long rows, unsigned long long bytes, double start)
{
	double now = bk_monotonic(), secs = now - start;
	char line[512];
	int n;

	if (pthread_mutex_trylock(&x->mu) != 0)
		return;		/* another worker is drawing it */
	if (now - x->shown < 0.25) {
		pthread_mutex_unlock(&x->mu);
		return;
	}
	x->shown = now;
	n = snprintf(line, sizeof(line), "\r\033[K%s: %s %lld rows, %.1f MB, %.1f MB/s",
		     file, t->qname, rows, (double)bytes / 1e6,
		     secs > 0 ? (double)bytes / 1e6 / secs : 0.0);
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n
									 : sizeof(line) - 1) < 0)
		x->shown = 0;
	pthread_mutex_unlock(&x->mu);
}

/* ---- resolving the scope (before the snapshot, so the locks come first) ---- */

/* Columns of both: oid, relkind, schema, name, quoted qualified name. */
#define Q_TABLE_COLUMNS(c, n) \
	"SELECT DISTINCT " c ".oid, " c ".relkind, " n ".nspname, " c ".relname," \
	" pg_catalog.quote_ident(" n ".nspname) || '.' || pg_catalog.quote_ident(" c ".relname)"

static const char q_resolve[] =
	Q_TABLE_COLUMNS("c", "n")
	" FROM pg_catalog.pg_class c"
	" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
	" WHERE c.oid = pg_catalog.to_regclass(COALESCE(pg_catalog.quote_ident($1) || '.', '')"
	" || pg_catalog.quote_ident($2))";

static const char q_references[] =
	Q_TABLE_COLUMNS("r", "n")
	" FROM pg_catalog.pg_constraint k"
	" JOIN pg_catalog.pg_class r ON r.oid = k.confrelid"
	" JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace"
	" WHERE k.conrelid = $1 AND k.contype = 'f' AND k.conparentid = 0"
	" ORDER BY n.nspname, r.relname";

static const char *kind_name(char relkind)
{
	switch (relkind) {
	case 'v': return "a view";
	case 'm': return "a materialized view";
	case 'f': return "a foreign table";
	case 'S': return "a sequence";
	case 'i': case 'I': return "an index";
	case 'c': return "a composite type";
	default: return "not a table";
	}
}

static struct table *find_oid(struct export *x, unsigned int oid)
{
	for (size_t i = 0; i < x->nt; i++)
		if (x->t[i].oid == oid)
			return &x->t[i];
	return NULL;
}

static struct table *add_table(struct export *x, const PGresult *res, int row)
{
	struct table *t;
	char *sqlname = qualified(x, PQgetvalue(res, row, 2), PQgetvalue(res, row, 3));

	if (!sqlname)
		return NULL;
	x->t = xrealloc(x->t, x->nt + 1, sizeof(*x->t));
	t = &x->t[x->nt++];
	memset(t, 0, sizeof(*t));
	t->oid = (unsigned int)strtoul(PQgetvalue(res, row, 0), NULL, 10);
	t->relkind = PQgetvalue(res, row, 1)[0];
	t->sqlname = sqlname;
	t->qname = bk_xstrdup(PQgetvalue(res, row, 4));
	return t;
}

static int resolve_scope(struct export *x)
{
	const struct bk_scope *s = x->o->scope;

	for (size_t i = 0; i < s->n_entries; i++) {
		const struct bk_scope_entry *e = &s->entries[i];

		for (size_t j = 0; j < e->n_tables; j++) {
			const struct bk_scope_table *st = &e->tables[j];
			const char *params[2] = { st->schema, st->name };
			PGresult *res = query(x, q_resolve, 2, params, "cannot look up tables");
			struct table *t, *dup;
			unsigned int oid;

			if (!res)
				return -1;
			if (PQntuples(res) == 0 || !strchr("rp", PQgetvalue(res, 0, 1)[0])) {
				char why[64];

				snprintf(why, sizeof(why), "%s%s", PQntuples(res) ? "is " : "",
					 PQntuples(res) ? kind_name(PQgetvalue(res, 0, 1)[0])
							: "does not exist");
				PQclear(res);
				if (x->o->strict) {
					bk_err_set("%s:%d: table %s (%s) %s", s->name, e->line,
						   st->text, e->file, why);
					bk_err_hint("BACKUP_STRICT=1 makes this an error; "
						    "fix BACKUP_SCOPE or the database");
					return BK_EXPORT_FAIL;
				}
				warning(x, "%s:%d: table %s (%s) %s; not backed up", s->name, e->line,
					st->text, e->file, why);
				continue;
			}
			oid = (unsigned int)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
			dup = find_oid(x, oid);
			if (dup) {
				bk_err_set("%s:%d: table %s is already listed on line %d (as %s)",
					   s->name, e->line, st->text, dup->entry->line,
					   dup->listed->text);
				PQclear(res);
				return BK_EXPORT_SCOPE;
			}
			t = add_table(x, res, 0);
			PQclear(res);
			if (!t)
				return -1;
			t->entry = e;
			t->listed = st;
		}
	}
	return 0;
}

static int never_add(const char *relname)
{
	for (const char *const *n = never_added; *n; n++)
		if (!strcmp(*n, relname))
			return 1;
	return 0;
}

/* Tables referenced by foreign key from a backed-up table, transitively. */
static int add_referenced(struct export *x)
{
	for (size_t i = 0; i < x->nt; i++) {
		char oid[16];
		const char *params[1] = { oid };
		PGresult *res;

		snprintf(oid, sizeof(oid), "%u", x->t[i].oid);
		res = query(x, q_references, 1, params, "cannot read foreign keys");
		if (!res)
			return -1;
		for (int r = 0; r < PQntuples(res); r++) {
			unsigned int ref = (unsigned int)strtoul(PQgetvalue(res, r, 0), NULL, 10);
			struct table *t;

			if (find_oid(x, ref))
				continue;
			if (never_add(PQgetvalue(res, r, 3))) {
				warning(x, "%s is referenced by %s but is never backed up unless listed",
					PQgetvalue(res, r, 4), x->t[i].qname);
				continue;
			}
			if (!strchr("rp", PQgetvalue(res, r, 1)[0]))
				continue;
			t = add_table(x, res, r);
			if (!t) {
				PQclear(res);
				return -1;
			}
			t->referrer = i;
		}
		PQclear(res);
	}
	return 0;
}

/* ---- the transaction ---- */

static int begin(struct export *x)
{
	char *lock = bk_xstrdup("LOCK TABLE ");
	PGresult *res;
	int ret;
	long long epoch;

	if (command(x, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "cannot start a transaction") < 0) {
		free(lock);
		return -1;
	}
	/* LOCK takes no snapshot: the snapshot below comes after every lock is held,
	 * so no TRUNCATE or ALTER of a backed-up table can slip in between. */
	for (size_t i = 0; i < x->nt; i++) {
		char *l = bk_asprintf("%s%s%s", lock, i ? ", " : "", x->t[i].sqlname);

		free(lock);
		lock = l;
	}
	if (x->nt) {
		char *l = bk_asprintf("%s IN ACCESS SHARE MODE", lock);

		free(lock);
		lock = l;
		ret = command(x, lock, "cannot lock the tables to back up");
		if (ret < 0) {
			free(lock);
			return -1;
		}
	}
	free(lock);
	res = query(x, "SELECT pg_catalog.pg_export_snapshot(), "
		    "pg_catalog.floor(EXTRACT(epoch FROM pg_catalog.now()))::bigint",
		    0, NULL, "cannot export a snapshot");
	if (!res)
		return -1;
	x->snapshot = bk_xstrdup(PQgetvalue(res, 0, 0));
	epoch = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	x->created_at = bk_xmalloc(40);
	bk_iso_time(epoch, x->created_at, 40);
	/* Names in everything below are qualified; make sure nothing else resolves. */
	res = query(x, "SELECT pg_catalog.set_config('search_path', '', false)", 0, NULL,
		    "cannot set search_path");
	PQclear(res);
	return res ? 0 : -1;
}

static const char q_describe[] =
	"SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname),"
	" (SELECT COALESCE(pg_catalog.sum(GREATEST(p.relpages, 0)), 0)::pg_catalog.int8"
	"  FROM pg_catalog.pg_partition_tree(c.oid) t"
	"  JOIN pg_catalog.pg_class p ON p.oid = t.relid)"
	" FROM pg_catalog.pg_class c"
	" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1";

static const char q_columns[] =
	"SELECT pg_catalog.quote_ident(a.attname), a.attname FROM pg_catalog.pg_attribute a"
	" WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''"
	" ORDER BY a.attnum";

static const char q_since[] =
	"SELECT pg_catalog.quote_ident(a.attname), a.atttypid IN ("
	"'pg_catalog.timestamptz'::pg_catalog.regtype::pg_catalog.oid,"
	" 'pg_catalog.timestamp'::pg_catalog.regtype::pg_catalog.oid,"
	" 'pg_catalog.date'::pg_catalog.regtype::pg_catalog.oid),"
	" pg_catalog.format_type(a.atttypid, a.atttypmod)"
	" FROM pg_catalog.pg_attribute a"
	" WHERE a.attrelid = $1 AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped";

/* Sequences that own a column of the table (serial, identity) or that a column
 * default draws from: after a restore they must continue past the data. */
static const char q_sequences[] =
	"SELECT s.oid, pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(s.relname),"
	" n.nspname, s.relname"
	" FROM pg_catalog.pg_class s JOIN pg_catalog.pg_namespace n ON n.oid = s.relnamespace"
	" WHERE s.relkind = 'S' AND s.oid IN ("
	"  SELECT d.objid FROM pg_catalog.pg_depend d"
	"  WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
	"  AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
	"  AND d.refobjid = $1 AND d.deptype IN ('a', 'i')"
	"  UNION"
	"  SELECT d.refobjid FROM pg_catalog.pg_attrdef ad JOIN pg_catalog.pg_depend d"
	"  ON d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND d.objid = ad.oid"
	"  AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
	"  WHERE ad.adrelid = $1)"
	" ORDER BY 2";

static int describe_columns(struct export *x, struct table *t, const char *oid)
{
	const char *params[1] = { oid };
	PGresult *res = query(x, q_columns, 1, params, "cannot read columns");
	size_t len = 0, sqllen = 0;

	if (!res)
		return -1;
	for (int r = 0; r < PQntuples(res); r++) {
		len += strlen(PQgetvalue(res, r, 0)) + 2;
		sqllen += 2 * strlen(PQgetvalue(res, r, 1)) + 4;
	}
	t->cols = bk_xmalloc(len + 1);
	t->sqlcols = bk_xmalloc(sqllen + 1);
	t->cols[0] = t->sqlcols[0] = '\0';
	len = sqllen = 0;
	for (int r = 0; r < PQntuples(res); r++) {
		char *q = ident(x, PQgetvalue(res, r, 1));

		if (!q) {
			PQclear(res);
			return -1;
		}
		len += (size_t)sprintf(t->cols + len, "%s%s", r ? ", " : "", PQgetvalue(res, r, 0));
		sqllen += (size_t)sprintf(t->sqlcols + sqllen, "%s%s", r ? ", " : "", q);
		free(q);
	}
	PQclear(res);
	return 0;
}

static int describe_since(struct export *x, struct table *t, const char *oid)
{
	const struct bk_scope_entry *e = t->entry;
	const char *params[2] = { oid, e->since_column };
	PGresult *res = query(x, q_since, 2, params, "cannot read columns");

	if (!res)
		return -1;
	if (PQntuples(res) == 0) {
		bk_err_set("%s:%d: table %s has no column %s for since=", x->o->scope->name, e->line,
			   t->qname, e->since_text);
		PQclear(res);
		return BK_EXPORT_SCOPE;
	}
	if (strcmp(PQgetvalue(res, 0, 1), "t")) {
		bk_err_set("%s:%d: since=%s: column %s of %s is %s, not a date or timestamp",
			   x->o->scope->name, e->line, e->since_text, e->since_text, t->qname,
			   PQgetvalue(res, 0, 2));
		PQclear(res);
		return BK_EXPORT_SCOPE;
	}
	t->since = bk_xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	t->since_sql = ident(x, e->since_column);
	return t->since_sql ? 0 : -1;
}

static int read_sequence(struct export *x, struct seq *s)
{
	char *sql = bk_asprintf("SELECT last_value, is_called FROM %s", s->sqlname);
	PGresult *res = query(x, sql, 0, NULL, "cannot read sequence");

	free(sql);
	if (!res)
		return bk_err_prefix("%s", s->qname);
	/* Sequences are outside MVCC: this is the value now, at or past the
	 * snapshot's, which is what a restore needs (never a reused id). */
	s->last_value = bk_xstrdup(PQgetvalue(res, 0, 0));
	s->is_called = !strcmp(PQgetvalue(res, 0, 1), "t");
	PQclear(res);
	return 0;
}

static int describe_sequences(struct export *x, struct table *t, const char *oid)
{
	const char *params[1] = { oid };
	PGresult *res = query(x, q_sequences, 1, params, "cannot read sequences");

	if (!res)
		return -1;
	for (int r = 0; r < PQntuples(res); r++) {
		unsigned int soid = (unsigned int)strtoul(PQgetvalue(res, r, 0), NULL, 10);
		size_t k;

		for (k = 0; k < x->ns && x->seqs[k].oid != soid; k++)
			;
		if (k == x->ns) {
			struct seq *s;

			x->seqs = xrealloc(x->seqs, x->ns + 1, sizeof(*x->seqs));
			s = &x->seqs[x->ns];
			memset(s, 0, sizeof(*s));
			s->oid = soid;
			s->qname = bk_xstrdup(PQgetvalue(res, r, 1));
			s->sqlname = qualified(x, PQgetvalue(res, r, 2), PQgetvalue(res, r, 3));
			x->ns++;
			if (!s->sqlname || read_sequence(x, s) < 0) {
				PQclear(res);
				return -1;
			}
		}
		t->seqs = xrealloc(t->seqs, t->n_seqs + 1, sizeof(*t->seqs));
		t->seqs[t->n_seqs++] = k;
	}
	PQclear(res);
	return 0;
}

static int describe(struct export *x)
{
	const struct bk_scope *s = x->o->scope;

	for (size_t i = 0; i < x->nt; i++) {
		struct table *t = &x->t[i];
		const char *params[1];
		char oid[16];
		PGresult *res;
		int r;

		snprintf(oid, sizeof(oid), "%u", t->oid);
		params[0] = oid;
		res = query(x, q_describe, 1, params, "cannot read the catalog");
		if (!res)
			return -1;
		if (PQntuples(res) == 0) {
			PQclear(res);
			return bk_err_set("table %s was dropped while the export started", t->qname);
		}
		free(t->qname);
		t->qname = bk_xstrdup(PQgetvalue(res, 0, 0));
		t->pages = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		PQclear(res);
		if (describe_columns(x, t, oid) < 0 || describe_sequences(x, t, oid) < 0)
			return -1;
		if (t->entry && t->entry->since_column && (r = describe_since(x, t, oid)) < 0)
			return r;
	}
	x->cutoffs = calloc(s->n_entries, sizeof(*x->cutoffs));
	if (!x->cutoffs)
		abort();
	for (size_t i = 0; i < s->n_entries; i++) {
		char iv[64];
		const char *params[1] = { iv };
		PGresult *res;

		if (!s->entries[i].since_column)
			continue;
		/* now() is the start of this transaction: the server's clock, once. */
		bk_scope_interval(&s->entries[i], iv, sizeof(iv));
		res = query(x, "SELECT (pg_catalog.now() - $1::pg_catalog.interval)::pg_catalog.text",
			    1, params, "cannot compute the window");
		if (!res)
			return -1;
		x->cutoffs[i] = bk_xstrdup(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	return 0;
}

/* ---- pg_dump for the schema ---- */

static int start_dump(struct export *x, struct dump *d, const char *section, const char *name)
{
	char *path = bk_path_join(x->dir, name);
	char *conninfo = bk_pg_conninfo_nopass();
	char *snap = bk_asprintf("--snapshot=%s", x->snapshot);
	char *sect = bk_asprintf("--section=%s", section);
	char *db = conninfo ? bk_asprintf("--dbname=%s", conninfo) : NULL;
	const char *pw = bk_pg_password();
	char *pwenv = pw ? bk_asprintf("PGPASSWORD=%s", pw) : NULL;
	const char *env[] = { pwenv, NULL };
	/* pg_dump needs none of our other secrets in its environment. */
	static const char *const unset[] = { "POSTGRES_PASSWORD", "DATABASE_URL", "SMTP_PASS",
		"BACKUP_LINK_SECRET", NULL };
	const char *argv[] = { "pg_dump", snap, sect, "--no-owner", "--no-privileges",
			       "--lock-wait-timeout=" LOCK_WAIT, db, NULL };
	struct bk_spawn_opts so = { -1, -1, pwenv ? env : NULL, unset, -1 };
	int fd = -1, ret = -1;

	d->section = section;
	d->name = name;
	if (!db)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		bk_err_errno("cannot create %s", path);
		goto out;
	}
	created(x, path);
	d->err = tmpfile();
	if (!d->err || fcntl(fileno(d->err), F_SETFD, FD_CLOEXEC) < 0) {
		bk_err_errno("cannot create a temporary file");
		goto out;
	}
	so.stdout_fd = fd;
	so.stderr_fd = fileno(d->err);
	d->start = bk_monotonic();
	d->pid = bk_spawn(argv, &so);
	if (d->pid > 0)
		dump_pids[d - x->dump] = d->pid;
	if (d->pid < 0) {
		d->pid = 0;
		bk_err_hint("pg_dump (PostgreSQL client, same major version as the server or newer) "
			    "must be on PATH");
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (pwenv) {
		explicit_bzero(pwenv, strlen(pwenv));
		free(pwenv);
	}
	free(path);
	free(conninfo);
	free(snap);
	free(sect);
	free(db);
	return ret;
}

/* Wait for pg_dump; on success add its file to the members. */
static int finish_dump(struct export *x, struct dump *d)
{
	char line[2048], first[1024] = "";
	int status = 0, code, nlines = 0;
	char *path;
	char sha[BK_SHA256_HEX];
	unsigned long long bytes;

	if (!d->pid)
		return 0;
	/* Wait without reaping, so the signal handler never kills a reused pid. */
	for (;;) {
		siginfo_t info;

		if (interrupted())
			kill(d->pid, SIGTERM);
		if (waitid(P_PID, (id_t)d->pid, &info, WEXITED | WNOWAIT) == 0)
			break;
		if (errno != EINTR)
			return bk_err_errno("cannot wait for pg_dump");
	}
	dump_pids[d - x->dump] = 0;
	while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
		;
	d->pid = 0;
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	rewind(d->err);
	while (fgets(line, sizeof(line), d->err)) {
		line[strcspn(line, "\n")] = '\0';
		bk_log_mask(line, sizeof(line));
		if (!line[0])
			continue;
		if (code == 0)
			bk_warn("%s", line);
		else if (nlines++ == 0)
			snprintf(first, sizeof(first), "%.1000s", line);
		else
			bk_error("%s", line);
	}
	fclose(d->err);
	d->err = NULL;
	if (interrupted())
		return interrupted_error();
	if (code != 0) {
		bk_err_set("pg_dump --section=%s failed (exit %d)%s%s", d->section, code,
			   first[0] ? ": " : "", first);
		if (strstr(first, "version mismatch"))
			bk_err_hint("install pg_dump of the server's major version or newer");
		return -1;
	}
	path = bk_path_join(x->dir, d->name);
	if (bk_sha256_file(path, sha, &bytes) < 0) {
		free(path);
		return -1;
	}
	free(path);
	add_member(x, d->name, -1, bytes, sha);
	bk_info("%s: pg_dump --section=%s, %llu bytes, %.2f s", d->name, d->section, bytes,
		bk_monotonic() - d->start);
	return 0;
}

static void stop_dumps(struct export *x)
{
	for (int i = 0; i < 2; i++) {
		struct dump *d = &x->dump[i];

		if (d->pid > 0) {
			kill(d->pid, SIGTERM);
			dump_pids[i] = 0;	/* not reaped yet: the pid cannot be reused */
			while (waitpid(d->pid, NULL, 0) < 0 && errno == EINTR)
				;
			d->pid = 0;
		}
		if (d->err)
			fclose(d->err);
		d->err = NULL;
	}
}

/* ---- sessions ---- */

static int session_setup(PGconn *conn)
{
	if (PQsetClientEncoding(conn, "UTF8") != 0)
		return pg_fail(conn, NULL, "cannot set client encoding");
	/* As pg_dump: output that loads back anywhere, no timeouts of ours to trip
	 * over, and an error rather than silently missing rows under row security. */
	return conn_command(conn, "SET DateStyle = ISO; SET IntervalStyle = postgres;"
		       " SET extra_float_digits = 3; SET statement_timeout = 0;"
		       " SET idle_in_transaction_session_timeout = 0;"
		       " SET lock_timeout = '" LOCK_WAIT "'; SET synchronize_seqscans = off;"
		       " SET row_security = off", "cannot set up the session");
}

/* ---- data files, written by the workers ---- */

static int stopping(struct worker *w)
{
	return interrupted() || __atomic_load_n(&w->x->failed, __ATOMIC_RELAXED);
}

static int stopped_error(void)
{
	if (interrupted())
		return interrupted_error();
	return bk_err_set("stopped after another worker's error");
}

static int file_open(struct worker *w, const char *name)
{
	char *path = bk_path_join(w->x->dir, name);
	int ret = bk_xfile_open(&w->file, path, w->buf, BUF_SIZE, w->sha);

	if (ret == 0) {
		created(w->x, path);
		w->file_open = 1;
	}
	free(path);
	return ret;
}

static int file_close(struct worker *w, struct job *j, long long rows)
{
	int ret;

	w->file_open = 0;
	ret = bk_xfile_close(&w->file);
	if (ret == 0) {
		j->rows = rows;
		j->bytes = w->file.bytes;
		memcpy(j->sha256, w->file.sha256, sizeof(j->sha256));
	}
	free(w->file.path);
	w->file.path = NULL;
	return ret;
}

static int sql_header(struct worker *w, const char *name)
{
	return bk_xfile_printf(&w->file,
		"--\n-- bk-export data: %s\n"
		"-- Load after schema.sql and before schema-post.sql: psql -v ON_ERROR_STOP=1 -f %s\n"
		"--\n\n"
		"SET client_encoding = 'UTF8';\n"
		"SET standard_conforming_strings = on;\n\n", name, name);
}

/* Run a COPY ... TO STDOUT and stream it into the open file. */
static int copy_out(struct worker *w, const char *file, struct table *t, const char *sql)
{
	struct export *x = w->x;
	double start = bk_monotonic();
	unsigned long long bytes0 = bk_xfile_size(&w->file);
	long long msgs = 0;
	PGresult *res;
	char *row;
	int n;

	if (stopping(w))
		return stopped_error();
	res = PQexec(w->conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_OUT)
		return pg_fail(w->conn, res, "cannot read table %s", t->qname);
	PQclear(res);
	/* One CopyData message per row (protocol); libpq hands it over as is. */
	while ((n = PQgetCopyData(w->conn, &row, 0)) > 0) {
		int wr = bk_xfile_write(&w->file, row, (size_t)n);

		PQfreemem(row);
		if (wr < 0)
			return -1;
		if (++msgs & 63)
			continue;
		if (stopping(w))
			return stopped_error();
		if (x->o->progress)
			progress(x, file, t, msgs, bk_xfile_size(&w->file) - bytes0, start);
	}
	if (n == -2)
		return pg_fail(w->conn, NULL, "cannot read table %s", t->qname);
	res = PQgetResult(w->conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_fail(w->conn, res, "cannot read table %s", t->qname);
	t->rows = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	while ((res = PQgetResult(w->conn)) != NULL)
		PQclear(res);
	progress_clear(x);
	bk_info("%s: %s %lld rows, %llu bytes, %.2f s", file, t->qname, t->rows,
		bk_xfile_size(&w->file) - bytes0, bk_monotonic() - start);
	return 0;
}

static char *paren(const char *cols)
{
	return *cols ? bk_asprintf(" (%s)", cols) : bk_xstrdup("");
}

static int table_block(struct worker *w, const char *file, struct table *t)
{
	char *cols = paren(t->cols), *sqlcols = paren(t->sqlcols), *sql;
	int ret;

	/* COPY of a partitioned table itself is refused; a query reads its partitions. */
	if (t->relkind == 'p')
		sql = bk_asprintf("COPY (SELECT %s FROM %s) TO STDOUT", t->sqlcols, t->sqlname);
	else
		sql = bk_asprintf("COPY %s%s TO STDOUT", t->sqlname, sqlcols);
	ret = bk_xfile_printf(&w->file, "COPY %s%s FROM stdin;\n", t->qname, cols);
	if (ret == 0)
		ret = copy_out(w, file, t, sql);
	if (ret == 0)
		ret = bk_xfile_puts(&w->file, "\\.\n\n");
	free(cols);
	free(sqlcols);
	free(sql);
	return ret;
}

/* SQL string literal of a name, for setval('...'). */
static int put_literal(struct worker *w, const char *s)
{
	int ret = bk_xfile_puts(&w->file, "'");

	for (; *s && ret == 0; s++)
		ret = bk_xfile_write(&w->file, "''", *s == '\'' ? 2 : 0) |
		      bk_xfile_write(&w->file, s, *s == '\'' ? 0 : 1);
	return ret | bk_xfile_puts(&w->file, "'");
}

static int setvals(struct worker *w, const struct job *j)
{
	for (size_t i = 0; i < j->n_seqs; i++) {
		const struct seq *s = &w->x->seqs[j->seqs[i]];

		if (bk_xfile_puts(&w->file, "SELECT pg_catalog.setval(") < 0 ||
		    put_literal(w, s->qname) < 0 ||
		    bk_xfile_printf(&w->file, ", %s, %s);\n", s->last_value,
				    s->is_called ? "true" : "false") < 0)
			return -1;
	}
	return 0;
}

/* A .sql file: COPY blocks of its tables, then setval for their sequences. */
static int write_sql(struct worker *w, struct job *j)
{
	long long rows = 0;

	if (file_open(w, j->name) < 0 || sql_header(w, j->name) < 0)
		return -1;
	for (size_t i = 0; i < j->n; i++) {
		if (table_block(w, j->name, j->tables[i]) < 0)
			return -1;
		rows += j->tables[i]->rows;
	}
	if (setvals(w, j) < 0)
		return -1;
	if (j->any_seq && bk_xfile_puts(&w->file, "\n") < 0)
		return -1;
	return file_close(w, j, rows);
}

static int write_csv(struct worker *w, struct job *j)
{
	struct export *x = w->x;
	struct table *t = j->tables[0];
	const char *cutoff = x->cutoffs[j->entry];
	char *sqlcols = paren(t->sqlcols), *sql, *lit = NULL;
	int ret;

	if (cutoff) {
		lit = PQescapeLiteral(w->conn, cutoff, strlen(cutoff));
		if (!lit) {
			free(sqlcols);
			return pg_fail(w->conn, NULL, "cannot quote the window");
		}
		sql = bk_asprintf("COPY (SELECT %s FROM %s%s WHERE %s >= %s::pg_catalog.timestamptz)"
				  " TO STDOUT WITH (FORMAT csv, HEADER)", t->sqlcols,
				  t->relkind == 'p' ? "" : "ONLY ", t->sqlname, t->since_sql, lit);
		PQfreemem(lit);
	} else if (t->relkind == 'p') {
		sql = bk_asprintf("COPY (SELECT %s FROM %s) TO STDOUT WITH (FORMAT csv, HEADER)",
				  t->sqlcols, t->sqlname);
	} else {
		sql = bk_asprintf("COPY %s%s TO STDOUT WITH (FORMAT csv, HEADER)", t->sqlname, sqlcols);
	}
	free(sqlcols);
	ret = file_open(w, j->name);
	if (ret == 0)
		ret = copy_out(w, j->name, t, sql);
	free(sql);
	if (ret == 0)
		ret = file_close(w, j, t->rows);
	return ret;
}

static struct job *new_job(struct export *x, const char *name)
{
	struct job *j;

	x->jobs = xrealloc(x->jobs, x->nj + 1, sizeof(*x->jobs));
	j = &x->jobs[x->nj++];
	memset(j, 0, sizeof(*j));
	j->name = name;
	return j;
}

static void job_add_table(struct job *j, struct table *t)
{
	j->tables = xrealloc(j->tables, j->n + 1, sizeof(*j->tables));
	j->tables[j->n++] = t;
	j->pages += t->pages;
}

/* The setvals of a .sql file: its tables' sequences not written by an earlier file. */
static void job_take_seqs(struct job *j, int *written)
{
	for (size_t i = 0; i < j->n; i++) {
		const struct table *t = j->tables[i];

		j->any_seq |= t->n_seqs > 0;
		for (size_t k = 0; k < t->n_seqs; k++) {
			if (written[t->seqs[k]])
				continue;
			written[t->seqs[k]] = 1;
			j->seqs = xrealloc(j->seqs, j->n_seqs + 1, sizeof(*j->seqs));
			j->seqs[j->n_seqs++] = t->seqs[k];
		}
	}
}

/* The data files in MANIFEST order, with their contents decided up front so
 * that the order the workers happen to finish in changes no byte. */
static void plan_jobs(struct export *x)
{
	const struct bk_scope *s = x->o->scope;
	int *written = calloc(x->ns + 1, sizeof(*written));
	struct job *j = NULL;

	if (!written)
		abort();
	for (size_t e = 0; e < s->n_entries; e++) {
		j = NULL;
		for (size_t i = 0; i < x->nt; i++) {
			if (x->t[i].entry != &s->entries[e])
				continue;
			if (!j) {
				j = new_job(x, s->entries[e].file);
				j->csv = s->entries[e].csv;
				j->entry = e;
			}
			if (!j->csv || j->n == 0)
				job_add_table(j, &x->t[i]);
		}
		/* every table missing: warned already, no file */
		if (j && !j->csv)
			job_take_seqs(j, written);
	}
	j = NULL;
	for (size_t i = 0; i < x->nt; i++) {
		if (x->t[i].entry)
			continue;
		if (!j)
			j = new_job(x, "referenced.sql");
		job_add_table(j, &x->t[i]);
	}
	if (j)
		job_take_seqs(j, written);
	j = NULL;
	for (size_t i = 0; i < x->nt; i++)
		for (size_t k = 0; k < x->t[i].n_seqs; k++) {
			size_t q = x->t[i].seqs[k];

			if (written[q])
				continue;
			written[q] = 1;
			if (!j)
				j = new_job(x, "sequences.sql");
			j->seqs = xrealloc(j->seqs, j->n_seqs + 1, sizeof(*j->seqs));
			j->seqs[j->n_seqs++] = q;
		}
	free(written);
}

static int run_job(struct worker *w, struct job *j)
{
	if (j->csv)
		return write_csv(w, j);
	if (j->n)
		return write_sql(w, j);
	/* sequences.sql */
	if (file_open(w, j->name) < 0 || sql_header(w, j->name) < 0 || setvals(w, j) < 0)
		return -1;
	return file_close(w, j, 0);
}

/* The first error is the export's; the other workers are cancelled. */
static void worker_failed(struct worker *w)
{
	struct export *x = w->x;
	char errbuf[256];

	pthread_mutex_lock(&x->mu);
	if (!x->failed) {
		x->fail_msg = bk_xstrdup(bk_err());
		x->fail_hint = bk_xstrdup(bk_err_hint_text());
		__atomic_store_n(&x->failed, 1, __ATOMIC_RELAXED);
		for (int i = 0; i < x->nworkers; i++) {
			PGcancel *c = cancel_handles[1 + i];

			if (&x->workers[i] != w && c)
				PQcancel(c, errbuf, sizeof(errbuf));
		}
	}
	pthread_mutex_unlock(&x->mu);
}

/* A worker: whole files, the largest left first, until none is left. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct export *x = w->x;

	for (;;) {
		struct job *j = NULL;

		pthread_mutex_lock(&x->mu);
		if (x->next_job < x->nj && !x->failed)
			j = &x->jobs[x->order[x->next_job++]];
		pthread_mutex_unlock(&x->mu);
		if (!j)
			break;
		if ((stopping(w) ? stopped_error() : run_job(w, j)) < 0) {
			if (w->file_open)
				bk_xfile_abort(&w->file);
			w->file_open = 0;
			worker_failed(w);
			break;
		}
	}
	return NULL;
}

/* A connection in the export's snapshot (SET TRANSACTION SNAPSHOT, as pg_dump -j). */
static PGconn *worker_connect(struct export *x)
{
	PGconn *conn = bk_pg_connect("bk-export");
	char *lit, *sql;
	int ret;

	if (!conn)
		return NULL;
	lit = PQescapeLiteral(conn, x->snapshot, strlen(x->snapshot));
	if (!lit) {
		pg_fail(conn, NULL, "cannot quote the snapshot");
		bk_pg_close(conn);
		return NULL;
	}
	sql = bk_asprintf("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"
			  " SET TRANSACTION SNAPSHOT %s", lit);
	PQfreemem(lit);
	ret = session_setup(conn);
	if (ret == 0)
		ret = conn_command(conn, sql, "cannot use the exported snapshot");
	if (ret == 0)
		ret = conn_command(conn, "SET search_path = ''", "cannot set search_path");
	free(sql);
	if (ret < 0) {
		bk_pg_close(conn);
		return NULL;
	}
	return conn;
}

static int count_workers(size_t nj)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 2)
		n = 2;
	if (n > MAX_WORKERS)
		n = MAX_WORKERS;
	if ((size_t)n > nj)
		n = (long)nj;
	return (int)n;
}

/* Connect the workers; one that cannot connect (no free connection slot)
 * leaves the work to the others, as long as there is one. */
static int start_workers(struct export *x)
{
	int want = count_workers(x->nj);

	for (int i = 0; i < want; i++) {
		struct worker *w = &x->workers[i];
		sigset_t all, old;

		w->x = x;
		w->conn = worker_connect(x);
		if (!w->conn) {
			if (i == 0 || interrupted())
				return -1;
			bk_warn("%s; exporting on %d connection%s", bk_err(), i, i > 1 ? "s" : "");
			break;
		}
		x->nworkers = i + 1;
		w->buf = bk_xmalloc(BUF_SIZE);
		w->sha = bk_sha256_new();
		if (!w->sha)
			return -1;
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, &old);
		cancel_handles[1 + i] = PQgetCancel(w->conn);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	return 0;
}

static int cmp_pages_desc(const void *a, const void *b, void *arg)
{
	const struct job *jobs = arg;
	long long pa = jobs[*(const size_t *)a].pages, pb = jobs[*(const size_t *)b].pages;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;

	if (pa != pb)
		return pa < pb ? 1 : -1;
	return ia < ib ? -1 : ia > ib;
}

static int write_data(struct export *x)
{
	sigset_t all, old;
	int ret = 0;

	if (!x->nj)
		return 0;
	x->order = xrealloc(NULL, x->nj, sizeof(*x->order));
	for (size_t i = 0; i < x->nj; i++)
		x->order[i] = i;
	qsort_r(x->order, x->nj, sizeof(*x->order), cmp_pages_desc, x->jobs);
	if (interrupted())
		return interrupted_error();
	/* Signals stay with this thread: it is the one whose waits they interrupt. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < x->nworkers; i++) {
		struct worker *w = &x->workers[i];

		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			bk_err_set("cannot start a thread to export the data");
			worker_failed(w);
			ret = -1;
			break;
		}
		w->started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (int i = 0; i < x->nworkers; i++)
		if (x->workers[i].started) {
			pthread_join(x->workers[i].thread, NULL);
			x->workers[i].started = 0;
		}
	if (interrupted())
		return interrupted_error();
	if (x->failed) {
		bk_err_set("%s", x->fail_msg);
		if (*x->fail_hint)
			bk_err_hint("%s", x->fail_hint);
		return -1;
	}
	if (ret < 0)
		return -1;
	for (size_t i = 0; i < x->nj; i++)
		add_member(x, x->jobs[i].name, x->jobs[i].rows, x->jobs[i].bytes, x->jobs[i].sha256);
	return 0;
}

static void stop_workers(struct export *x)
{
	sigset_t all, old;

	for (int i = 0; i < x->nworkers; i++) {
		struct worker *w = &x->workers[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		if (w->file_open)
			bk_xfile_abort(&w->file);
		free(w->file.path);
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, &old);
		if (cancel_handles[1 + i]) {
			PGcancel *c = cancel_handles[1 + i];

			cancel_handles[1 + i] = NULL;
			PQfreeCancel(c);
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
		bk_pg_close(w->conn);
		free(w->buf);
		if (w->sha)
			bk_sha256_free(w->sha);
		memset(w, 0, sizeof(*w));
	}
	x->nworkers = 0;
}

/* ---- MANIFEST ---- */

static int write_manifest(struct export *x)
{
	const struct bk_scope *s = x->o->scope;
	struct bk_manifest m;
	char *text, *path, *v;
	const char *version = PQparameterStatus(x->conn, "server_version");
	int ret = -1;

	bk_manifest_init(&m);
	bk_manifest_meta_add(&m, "format", "bk 1");
	bk_manifest_meta_add(&m, "created", x->created_at);
	bk_manifest_meta_add(&m, "host", bk_pg_target());
	bk_manifest_meta_add(&m, "database", PQdb(x->conn));
	bk_manifest_meta_add(&m, "server_version", version ? version : "?");
	bk_manifest_meta_add(&m, "snapshot", x->snapshot);
	bk_manifest_meta_add(&m, "scope", s->name);
	for (size_t i = 0; i < x->nt; i++) {
		const struct table *t = &x->t[i];

		v = bk_asprintf("%s %lld %s", t->entry ? t->entry->file : "referenced.sql",
				t->rows, t->qname);
		bk_manifest_meta_add(&m, "table", v);
		free(v);
	}
	for (size_t i = 0; i < x->nt; i++) {
		const struct table *t = &x->t[i];
		size_t e = t->entry ? (size_t)(t->entry - s->entries) : 0;

		if (!t->entry || !x->cutoffs[e])
			continue;
		v = bk_asprintf("%s %s >= %s", t->entry->file, t->since, x->cutoffs[e]);
		bk_manifest_meta_add(&m, "window", v);
		free(v);
	}
	for (size_t i = 0; i < x->nt; i++) {
		if (x->t[i].entry)
			continue;
		v = bk_asprintf("%s referenced by %s", x->t[i].qname, x->t[x->t[i].referrer].qname);
		bk_manifest_meta_add(&m, "added", v);
		free(v);
	}
	for (size_t i = 0; i < x->nw; i++)
		bk_manifest_meta_add(&m, "warning", x->warnings[i]);
	for (size_t i = 0; i < x->nm; i++)
		if (bk_manifest_add(&m, x->members[i].sha256, x->members[i].bytes,
				    x->members[i].rows, x->members[i].name) < 0)
			goto out;
	text = bk_manifest_format(&m);
	path = bk_path_join(x->dir, BK_MANIFEST_NAME);
	ret = bk_write_file_atomic(path, text, strlen(text), 0600);
	free(path);
	free(text);
out:
	bk_manifest_free(&m);
	return ret;
}

/* ---- the whole export ---- */

static void cleanup(struct export *x, int ok)
{
	sigset_t all, old;

	stop_dumps(x);
	stop_workers(x);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if (cancel_handles[0]) {
		PGcancel *c = cancel_handles[0];

		cancel_handles[0] = NULL;
		PQfreeCancel(c);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	bk_pg_close(x->conn);
	if (!ok && x->dir) {
		if (x->made_dir) {
			if (bk_rm_rf(x->dir) < 0)
				bk_warn("%s", bk_err());
		} else {
			for (size_t i = 0; i < x->n_created; i++)
				if (unlink(x->created[i]) < 0 && errno != ENOENT)
					bk_warn("cannot remove %s: %s", x->created[i], strerror(errno));
		}
	}
	for (size_t i = 0; i < x->n_created; i++)
		free(x->created[i]);
	free(x->created);
	for (size_t i = 0; i < x->nt; i++) {
		struct table *t = &x->t[i];

		free(t->qname);
		free(t->sqlname);
		free(t->cols);
		free(t->sqlcols);
		free(t->since);
		free(t->since_sql);
		free(t->seqs);
	}
	free(x->t);
	for (size_t i = 0; i < x->nj; i++) {
		free(x->jobs[i].tables);
		free(x->jobs[i].seqs);
	}
	free(x->jobs);
	free(x->order);
	free(x->fail_msg);
	free(x->fail_hint);
	for (size_t i = 0; i < x->ns; i++) {
		free(x->seqs[i].qname);
		free(x->seqs[i].sqlname);
		free(x->seqs[i].last_value);
	}
	free(x->seqs);
	for (size_t i = 0; i < x->nm; i++)
		free(x->members[i].name);
	free(x->members);
	for (size_t i = 0; x->cutoffs && i < x->o->scope->n_entries; i++)
		free(x->cutoffs[i]);
	free(x->cutoffs);
	for (size_t i = 0; i < x->nw; i++)
		free(x->warnings[i]);
	free(x->warnings);
	free(x->snapshot);
	free(x->created_at);
}

static int run(struct export *x)
{
	long long rows = 0;
	unsigned long long bytes = 0;
	const char *version;
	int r;

	if (setup_dir(x) < 0)
		return -1;
	x->conn = bk_pg_connect("bk-export");
	if (!x->conn)
		return -1;
	cancel_handles[0] = PQgetCancel(x->conn);
	version = PQparameterStatus(x->conn, "server_version");
	bk_info("connected to %s, database %s, server %s", bk_pg_target(), PQdb(x->conn),
		version ? version : "?");
	if (session_setup(x->conn) < 0)
		return -1;
	if ((r = resolve_scope(x)) < 0)
		return r;
	if (add_referenced(x) < 0 || begin(x) < 0)
		return -1;
	bk_info("snapshot %s at %s: %zu tables from %s", x->snapshot, x->created_at, x->nt,
		x->o->scope->name);
	if ((r = describe(x)) < 0)
		return r;
	plan_jobs(x);
	/* The schema first: a pg_dump that cannot work fails the export before the
	 * data is read. post-data runs while the data streams. The workers join
	 * the snapshot while pre-data runs. */
	if (start_dump(x, &x->dump[0], "pre-data", "schema.sql") < 0 ||
	    start_dump(x, &x->dump[1], "post-data", "schema-post.sql") < 0 ||
	    start_workers(x) < 0 || finish_dump(x, &x->dump[0]) < 0)
		return -1;
	if (interrupted())
		return interrupted_error();
	if (x->nworkers)
		bk_info("data: %zu files on %d connections in snapshot %s", x->nj, x->nworkers,
			x->snapshot);
	if (write_data(x) < 0)
		return -1;
	/* Only now may the snapshot go: every worker is done with it. */
	stop_workers(x);
	if (finish_dump(x, &x->dump[1]) < 0)
		return -1;
	if (command(x, "COMMIT", "cannot end the transaction") < 0)
		return -1;
	if (interrupted())
		return interrupted_error();
	if (write_manifest(x) < 0)
		return -1;
	for (size_t i = 0; i < x->nm; i++) {
		bytes += x->members[i].bytes;
		if (x->members[i].rows > 0)
			rows += x->members[i].rows;
	}
	bk_info("export done: %zu files, %lld rows, %llu bytes in %.2f s: %s", x->nm, rows, bytes,
		bk_monotonic() - x->start, x->dir);
	return 0;
}

int bk_export(const struct bk_export_opts *o, char **dir_out)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa, old[3];
	struct export x;
	int ret;

	memset(&x, 0, sizeof(x));
	x.o = o;
	x.start = bk_monotonic();
	pthread_mutex_init(&x.mu, NULL);
	*dir_out = NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: waits return to look at the flag */
	sigemptyset(&sa.sa_mask);
	__atomic_store_n(&interrupted_sig, 0, __ATOMIC_RELAXED);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	ret = run(&x);
	if (ret == 0 && interrupted())
		ret = interrupted_error();
	progress_clear(&x);
	if (ret == 0)
		*dir_out = bk_xstrdup(x.dir);
	else
		ret = ret == BK_EXPORT_SCOPE ? BK_EXPORT_SCOPE : BK_EXPORT_FAIL;
	{
		/* cleanup must not overwrite the error being reported */
		char *msg = bk_xstrdup(bk_err()), *hint = bk_xstrdup(bk_err_hint_text());

		cleanup(&x, ret == 0);
		if (ret != 0) {
			bk_err_set("%s", msg);
			if (*hint)
				bk_err_hint("%s", hint);
		}
		free(msg);
		free(hint);
	}
	free(x.dir);
	pthread_mutex_destroy(&x.mu);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	return ret;
}
