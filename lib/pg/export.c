/*
 * bk-export (see export.h): every table classified (export_catalog.c), the
 * backed-up ones locked, then one REPEATABLE READ READ ONLY snapshot shared
 * with pg_dump for the schema (export_dump.c) and with worker connections
 * that stream the rows with COPY (export_data.c). MANIFEST last
 * (export_manifest.c), after the comparison with the previous archive.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "cli.h"
#include "dump_version.h"
#include "err.h"
#include "export_int.h"
#include "fs.h"
#include "log.h"
#include "manifest.h"
#include "pg.h"
#include "progress.h"
#include "size.h"

static int interrupted_sig;	/* atomic: the workers read it too */
PGcancel *volatile ex_cancel_handles[1 + EX_MAX_WORKERS];
volatile pid_t ex_dump_pids[2];

static void on_signal(int sig)
{
	char errbuf[256];
	int saved = errno;

	__atomic_store_n(&interrupted_sig, sig, __ATOMIC_RELAXED);
	for (int i = 0; i < 1 + EX_MAX_WORKERS; i++) {
		PGcancel *c = ex_cancel_handles[i];

		if (c)
			PQcancel(c, errbuf, sizeof(errbuf));
	}
	for (int i = 0; i < 2; i++)
		if (ex_dump_pids[i] > 0)
			kill(ex_dump_pids[i], SIGTERM);
	errno = saved;
}

int ex_interrupted(void)
{
	return __atomic_load_n(&interrupted_sig, __ATOMIC_RELAXED);
}

int ex_interrupted_error(void)
{
	int sig = ex_interrupted();

	return bk_err_set("export interrupted by signal %d (%s)", sig, strsignal(sig));
}

void *ex_realloc(void *p, size_t n, size_t size)
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

int ex_pg_fail(PGconn *conn, PGresult *res, const char *fmt, ...)
{
	char what[1024], why[1024];
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	va_list ap;

	if (ex_interrupted()) {
		PQclear(res);
		return ex_interrupted_error();
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

PGresult *ex_query(struct export *x, const char *sql, int n, const char *const *params,
		       const char *what)
{
	PGresult *res;

	if (ex_interrupted()) {
		ex_interrupted_error();
		return NULL;
	}
	res = PQexecParams(x->conn, sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		ex_pg_fail(x->conn, res, "%s", what);
		return NULL;
	}
	return res;
}

int ex_conn_command(PGconn *conn, const char *sql, const char *what)
{
	PGresult *res;

	if (ex_interrupted())
		return ex_interrupted_error();
	res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return ex_pg_fail(conn, res, "%s", what);
	PQclear(res);
	return 0;
}

char *ex_ident(struct export *x, const char *name)
{
	char *q = PQescapeIdentifier(x->conn, name, strlen(name)), *copy;

	if (!q) {
		ex_pg_fail(x->conn, NULL, "cannot quote identifier");
		return NULL;
	}
	copy = bk_xstrdup(q);
	PQfreemem(q);
	return copy;
}

char *ex_qualified(struct export *x, const char *nsp, const char *rel)
{
	char *a = ex_ident(x, nsp), *b = a ? ex_ident(x, rel) : NULL, *s = NULL;

	if (a && b)
		s = bk_asprintf("%s.%s", a, b);
	free(a);
	free(b);
	return s;
}

void ex_warning(struct export *x, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	bk_log_mask(s, strlen(s) + 1);
	bk_warn("%s", s);
	x->warnings = ex_realloc(x->warnings, x->nw + 1, sizeof(*x->warnings));
	x->warnings[x->nw++] = s;
}

void ex_created(struct export *x, const char *path)
{
	pthread_mutex_lock(&x->mu);
	x->created = ex_realloc(x->created, x->n_created + 1, sizeof(*x->created));
	x->created[x->n_created++] = bk_xstrdup(path);
	pthread_mutex_unlock(&x->mu);
}

void ex_add_member(struct export *x, const char *name, long long rows,
		       unsigned long long bytes, const char *sha256)
{
	struct member *m;

	x->members = ex_realloc(x->members, x->nm + 1, sizeof(*x->members));
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
	return 0;
}

/* Into an existing directory: every file the export will write must be new. */
static int check_files(struct export *x)
{
	static const char *const own[] = { "schema.sql", "schema-post.sql", BK_MANIFEST_NAME, NULL };

	if (x->made_dir)
		return 0;
	for (const char *const *g = own; *g; g++)
		if (check_free(x, *g) < 0)
			return -1;
	for (size_t i = 0; i < x->nj; i++)
		if (check_free(x, x->jobs[i].name) < 0)
			return -1;
	return 0;
}

/* ---- progress ---- */

void ex_progress_clear(struct export *x)
{
	static const char clear[] = "\r\033[K";

	pthread_mutex_lock(&x->mu);
	if (x->o->progress && x->shown > 0 && write(STDERR_FILENO, clear, sizeof(clear) - 1) < 0) {
		/* stderr gone: nothing to clear */
	}
	x->shown = 0;
	pthread_mutex_unlock(&x->mu);
}

/* A child of bk-run on a terminal sends the whole export's figures. With
 * wait 0 a worker skips it while another one sends. */
void ex_progress_total(struct export *x, int wait)
{
	if (!x->o->progress || isatty(STDERR_FILENO))
		return;
	if (wait)
		pthread_mutex_lock(&x->mu);
	else if (pthread_mutex_trylock(&x->mu) != 0)
		return;
	bk_progress_update(__atomic_load_n(&x->bytes_done, __ATOMIC_RELAXED), x->bytes_estimate,
			   __atomic_load_n(&x->jobs_done, __ATOMIC_RELAXED), x->nj, "files");
	pthread_mutex_unlock(&x->mu);
}

void ex_progress(struct export *x, const char *file, const struct table *t,
		     long long rows, unsigned long long bytes, double start)
{
	double now = bk_monotonic(), secs = now - start;
	char line[512], size[BK_SIZE_BUF], rate[BK_SIZE_BUF];
	int n;

	if (!isatty(STDERR_FILENO)) {
		ex_progress_total(x, 0);
		return;
	}
	if (pthread_mutex_trylock(&x->mu) != 0)
		return;		/* another worker is drawing it */
	if (now - x->shown < 0.25) {
		pthread_mutex_unlock(&x->mu);
		return;
	}
	x->shown = now;
	n = snprintf(line, sizeof(line), "\r\033[K%s: %s %lld rows, %s, %s", file, t->qname, rows,
		     bk_format_size(bytes, size, sizeof(size)),
		     bk_format_rate(secs > 0 ? (double)bytes / secs : 0, rate, sizeof(rate)));
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n
									 : sizeof(line) - 1) < 0)
		x->shown = 0;
	pthread_mutex_unlock(&x->mu);
}

/* ---- the transaction ---- */

static int begin(struct export *x)
{
	char *lock = bk_xstrdup("LOCK TABLE ");
	PGresult *res;
	int ret, n = 0;
	long long epoch;

	if (ex_conn_command(x->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "cannot start a transaction") < 0) {
		free(lock);
		return -1;
	}
	/* LOCK takes no snapshot: the snapshot below comes after every lock is held,
	 * so no TRUNCATE or ALTER of a backed-up table can slip in between. */
	for (size_t i = 0; i < x->nt; i++) {
		char *l;

		if (!ex_backed_up(&x->t[i]))
			continue;
		l = bk_asprintf("%s%s%s", lock, n++ ? ", " : "", x->t[i].sqlname);
		free(lock);
		lock = l;
	}
	if (n) {
		char *l = bk_asprintf("%s IN ACCESS SHARE MODE", lock);

		free(lock);
		lock = l;
		ret = ex_conn_command(x->conn, lock, "cannot lock the tables to back up");
		if (ret < 0) {
			free(lock);
			return -1;
		}
	}
	free(lock);
	res = ex_query(x, "SELECT pg_catalog.pg_export_snapshot(), "
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
	res = ex_query(x, "SELECT pg_catalog.set_config('search_path', '', false)", 0, NULL,
		    "cannot set search_path");
	PQclear(res);
	return res ? 0 : -1;
}

/* ---- sessions ---- */

int ex_session_setup(PGconn *conn)
{
	if (PQsetClientEncoding(conn, "UTF8") != 0)
		return ex_pg_fail(conn, NULL, "cannot set client encoding");
	/* As pg_dump: output that loads back anywhere, no timeouts of ours to trip
	 * over, and an error rather than silently missing rows under row security. */
	return ex_conn_command(conn, "SET DateStyle = ISO; SET IntervalStyle = postgres;"
		       " SET extra_float_digits = 3; SET statement_timeout = 0;"
		       " SET idle_in_transaction_session_timeout = 0;"
		       " SET lock_timeout = '" EX_LOCK_WAIT "'; SET synchronize_seqscans = off;"
		       " SET row_security = off;"
		       /* our connections are the parallelism: no extra backends for a count */
		       " SET max_parallel_workers_per_gather = 0", "cannot set up the session");
}

/* ---- the whole export ---- */

static void cleanup(struct export *x, int ok)
{
	sigset_t all, old;

	ex_stop_dumps(x);
	ex_stop_workers(x);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	if (ex_cancel_handles[0]) {
		PGcancel *c = ex_cancel_handles[0];

		ex_cancel_handles[0] = NULL;
		PQfreeCancel(c);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	bk_pg_close(x->conn);
	x->conn = NULL;
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
	ex_jobs_free(x);
	ex_catalog_free(x);
	free(x->fail_msg);
	free(x->fail_hint);
	for (size_t i = 0; i < x->nm; i++)
		free(x->members[i].name);
	free(x->members);
	for (size_t i = 0; i < x->nw; i++)
		free(x->warnings[i]);
	free(x->warnings);
	free(x->snapshot);
	free(x->created_at);
}

static int connect_db(struct export *x)
{
	char version[32];

	x->conn = bk_pg_connect("bk-export");
	if (!x->conn)
		return -1;
	ex_cancel_handles[0] = PQgetCancel(x->conn);
	bk_pg_version_text(PQserverVersion(x->conn), version, sizeof(version));
	bk_info("connected to %s, database %s, server %s", bk_pg_target(), PQdb(x->conn),
		version);
	if (ex_session_setup(x->conn) < 0)
		return -1;
	/* The application's schema (a Prisma URL's schema=): where the scope's
	 * unqualified names are looked up. */
	if (bk_pg_schema()) {
		const char *params[1] = { bk_pg_schema() };
		PGresult *res = ex_query(x, "SELECT pg_catalog.set_config('search_path',"
					 " pg_catalog.quote_ident($1), false)", 1, params,
					 "cannot set search_path");

		if (!res)
			return -1;
		PQclear(res);
	}
	return 0;
}

static int run(struct export *x)
{
	long long rows = 0;
	unsigned long long bytes = 0;
	int r;

	if (setup_dir(x) < 0 || connect_db(x) < 0 || bk_pg_dump_fits(x->conn) < 0)
		return -1;
	if ((r = ex_classify(x)) < 0)
		return r;
	if (begin(x) < 0)
		return -1;
	bk_info("snapshot %s at %s", x->snapshot, x->created_at);
	if ((r = ex_describe(x)) < 0)
		return r;
	ex_plan_jobs(x);
	if (check_files(x) < 0)
		return -1;
	/* The schema first: a pg_dump that cannot work fails the export before the
	 * data is read. post-data runs while the data streams. The workers join
	 * the snapshot while pre-data runs. */
	if (ex_start_dump(x, &x->dump[0], "pre-data", "schema.sql") < 0 ||
	    ex_start_dump(x, &x->dump[1], "post-data", "schema-post.sql") < 0 ||
	    ex_start_workers(x) < 0 || ex_finish_dump(x, &x->dump[0]) < 0)
		return -1;
	if (ex_interrupted())
		return ex_interrupted_error();
	if (x->nworkers)
		bk_info("data: %zu files on %d connections in snapshot %s", x->nj, x->nworkers,
			x->snapshot);
	for (size_t i = 0; i < x->nj; i++)
		x->bytes_estimate += x->jobs[i].pages > 0 ? (unsigned long long)x->jobs[i].pages * 8192 : 0;
	bk_progress_phase("export");
	if (ex_write_data(x) < 0)
		return -1;
	for (size_t i = 0; i < x->nt; i++)
		if (!ex_backed_up(&x->t[i]) && ex_estimate(x, &x->t[i]) < 0)
			return -1;
	/* Only now may the snapshot go: every worker is done with it. */
	ex_stop_workers(x);
	if (ex_finish_dump(x, &x->dump[1]) < 0)
		return -1;
	if (ex_conn_command(x->conn, "COMMIT", "cannot end the transaction") < 0)
		return -1;
	if (ex_interrupted())
		return ex_interrupted_error();
	if (ex_write_manifest(x) < 0)
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

/* The error being reported survives the clean-up. */
static void cleanup_keeping_error(struct export *x, int ok)
{
	char *msg = bk_xstrdup(bk_err()), *hint = bk_xstrdup(bk_err_hint_text());

	cleanup(x, ok);
	if (!ok) {
		bk_err_set("%s", msg);
		if (*hint)
			bk_err_hint("%s", hint);
	}
	free(msg);
	free(hint);
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
	if (ret == 0 && ex_interrupted())
		ret = ex_interrupted_error();
	ex_progress_clear(&x);
	if (ret == 0)
		*dir_out = bk_xstrdup(x.dir);
	else
		ret = ret == BK_EXPORT_SCOPE ? BK_EXPORT_SCOPE : BK_EXPORT_FAIL;
	cleanup_keeping_error(&x, ret == 0);
	free(x.dir);
	pthread_mutex_destroy(&x.mu);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	return ret;
}

int bk_export_plan(const struct bk_export_opts *o, FILE *out)
{
	struct export x;
	int ret;

	memset(&x, 0, sizeof(x));
	x.o = o;
	pthread_mutex_init(&x.mu, NULL);
	ret = connect_db(&x);
	if (ret == 0)
		ret = ex_classify(&x);
	for (size_t i = 0; ret == 0 && i < x.nt; i++)
		ret = ex_estimate(&x, &x.t[i]);
	if (ret == 0)
		ret = ex_print_plan(&x, out);
	if (ret < 0)
		ret = ret == BK_EXPORT_SCOPE ? BK_EXPORT_SCOPE : BK_EXPORT_FAIL;
	cleanup_keeping_error(&x, 1);
	pthread_mutex_destroy(&x.mu);
	return ret;
}
