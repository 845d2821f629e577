/* bk-export: the data files, streamed with COPY by worker connections that
 * share the export's snapshot (pg_dump -j's way), whole files per worker,
 * largest first; their contents are decided before any is written. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "export_int.h"
#include "fs.h"
#include "log.h"
#include "pg.h"

static int stopping(struct worker *w)
{
	return ex_interrupted() || __atomic_load_n(&w->x->failed, __ATOMIC_RELAXED);
}

static int stopped_error(void)
{
	if (ex_interrupted())
		return ex_interrupted_error();
	return bk_err_set("stopped after another worker's error");
}

static int file_open(struct worker *w, const char *name)
{
	char *path = bk_path_join(w->x->dir, name);
	int ret = bk_xfile_open(&w->file, path, w->buf, EX_BUF_SIZE, w->sha);

	if (ret == 0) {
		ex_created(w->x, path);
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
	__atomic_add_fetch(&w->x->jobs_done, 1, __ATOMIC_RELAXED);
	ex_progress_total(w->x, 1);
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
	unsigned long long bytes0 = bk_xfile_size(&w->file), counted = 0;
	long long msgs = 0;
	PGresult *res;
	char *row;
	int n;

	if (stopping(w))
		return stopped_error();
	res = PQexec(w->conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_OUT)
		return ex_pg_fail(w->conn, res, "cannot read table %s", t->qname);
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
		if (x->o->progress) {
			unsigned long long b = bk_xfile_size(&w->file) - bytes0;

			__atomic_add_fetch(&x->bytes_done, b - counted, __ATOMIC_RELAXED);
			counted = b;
			ex_progress(x, file, t, msgs, b, start);
		}
	}
	__atomic_add_fetch(&x->bytes_done, bk_xfile_size(&w->file) - bytes0 - counted,
			   __ATOMIC_RELAXED);
	if (n == -2)
		return ex_pg_fail(w->conn, NULL, "cannot read table %s", t->qname);
	res = PQgetResult(w->conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return ex_pg_fail(w->conn, res, "cannot read table %s", t->qname);
	t->rows = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	while ((res = PQgetResult(w->conn)) != NULL)
		PQclear(res);
	ex_progress_clear(x);
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

/* A window's figures, in the same snapshot: rows in the window, rows in all.
 * A table no backed-up row can reference has only its window in the file,
 * and a plain count(*) may be answered from an index. */
static int count_window(struct worker *w, struct table *t)
{
	const char *only = t->relkind == 'p' ? "" : "ONLY ";
	char *sql = t->referenced ?
		bk_asprintf("SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE %s >= %s"
			    " OR %s IS NULL) FROM %s%s t", t->since_sql, t->cutoff_sql,
			    t->since_sql, only, t->sqlname) :
		bk_asprintf("SELECT pg_catalog.count(*) FROM %s%s", only, t->sqlname);
	PGresult *res = PQexec(w->conn, sql);

	free(sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return ex_pg_fail(w->conn, res, "cannot count the rows of %s", t->qname);
	t->total_rows = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	t->window_rows = t->referenced ? strtoll(PQgetvalue(res, 0, 1), NULL, 10) : t->rows;
	PQclear(res);
	return 0;
}

static int write_csv(struct worker *w, struct job *j)
{
	struct table *t = j->tables[0];
	char *sqlcols = paren(t->sqlcols), *sql;
	int ret;

	if (t->where)
		sql = bk_asprintf("COPY (SELECT %s FROM %s%s t WHERE %s) TO STDOUT WITH (FORMAT csv, HEADER)",
				  t->sqlcols, t->relkind == 'p' ? "" : "ONLY ", t->sqlname, t->where);
	else if (t->relkind == 'p')
		sql = bk_asprintf("COPY (SELECT %s FROM %s) TO STDOUT WITH (FORMAT csv, HEADER)",
				  t->sqlcols, t->sqlname);
	else
		sql = bk_asprintf("COPY %s%s TO STDOUT WITH (FORMAT csv, HEADER)", t->sqlname, sqlcols);
	free(sqlcols);
	ret = file_open(w, j->name);
	if (ret == 0)
		ret = copy_out(w, j->name, t, sql);
	free(sql);
	if (ret == 0 && t->cls == EX_WINDOW)
		ret = count_window(w, t);
	if (ret == 0)
		ret = file_close(w, j, t->rows);
	return ret;
}

static struct job *new_job(struct export *x, const char *name)
{
	struct job *j;

	x->jobs = ex_realloc(x->jobs, x->nj + 1, sizeof(*x->jobs));
	j = &x->jobs[x->nj++];
	memset(j, 0, sizeof(*j));
	j->name = name;
	return j;
}

static void job_add_table(struct job *j, struct table *t)
{
	j->tables = ex_realloc(j->tables, j->n + 1, sizeof(*j->tables));
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
			j->seqs = ex_realloc(j->seqs, j->n_seqs + 1, sizeof(*j->seqs));
			j->seqs[j->n_seqs++] = t->seqs[k];
		}
	}
}

static struct job *find_job(struct export *x, const char *name)
{
	for (size_t i = 0; i < x->nj; i++)
		if (!strcmp(x->jobs[i].name, name))
			return &x->jobs[i];
	return NULL;
}

/* Rank of a table's file in MANIFEST: the scope's FILE lines in their order,
 * then the other tables' own files, then referenced.sql. */
static size_t file_rank(const struct export *x, const struct table *t)
{
	if (t->entry)
		return (size_t)(t->entry - x->o->scope->entries);
	return t->cls == EX_ADDED ? SIZE_MAX : SIZE_MAX - 1;
}

static void add_to_job(struct export *x, struct table *t)
{
	/* a file named after its table holds only it: no search (many tables) */
	struct job *j = t->entry || t->cls == EX_ADDED ? find_job(x, t->file) : NULL;

	if (!j) {
		j = new_job(x, t->file);
		j->csv = t->csv;
	}
	job_add_table(j, t);
}

/* A FILE line's tables in the order the line names them. */
static void add_entry_jobs(struct export *x, size_t e)
{
	const struct bk_scope_entry *entry = &x->o->scope->entries[e];

	for (size_t k = 0; k < entry->n_tables; k++)
		for (size_t i = 0; i < x->nt; i++)
			if (x->t[i].listed == &entry->tables[k])
				add_to_job(x, &x->t[i]);
}

static void add_jobs_of_rank(struct export *x, size_t rank)
{
	for (size_t i = 0; i < x->nt; i++) {
		struct table *t = &x->t[i];

		if (t->file && file_rank(x, t) == rank)
			add_to_job(x, t);
	}
}

/* The data files in MANIFEST order, with their contents decided up front so
 * that the order the workers happen to finish in changes no byte. */
void ex_plan_jobs(struct export *x)
{
	int *written = calloc(x->ns + 1, sizeof(*written));
	struct job *j = NULL;

	if (!written)
		abort();
	for (size_t e = 0; e < x->o->scope->n_entries; e++)
		add_entry_jobs(x, e);
	add_jobs_of_rank(x, SIZE_MAX - 1);
	add_jobs_of_rank(x, SIZE_MAX);
	/* find_job's pointers are stable only now that every job is made */
	for (size_t i = 0; i < x->nj; i++)
		if (!x->jobs[i].csv)
			job_take_seqs(&x->jobs[i], written);
	for (size_t i = 0; i < x->nt; i++)
		for (size_t k = 0; x->t[i].file && k < x->t[i].n_seqs; k++) {
			size_t q = x->t[i].seqs[k];

			if (written[q])
				continue;
			written[q] = 1;
			if (!j)
				j = new_job(x, "sequences.sql");
			j->seqs = ex_realloc(j->seqs, j->n_seqs + 1, sizeof(*j->seqs));
			j->seqs[j->n_seqs++] = q;
		}
	free(written);
}

void ex_jobs_free(struct export *x)
{
	for (size_t i = 0; i < x->nj; i++) {
		free(x->jobs[i].tables);
		free(x->jobs[i].seqs);
	}
	free(x->jobs);
	free(x->order);
	x->jobs = NULL;
	x->order = NULL;
	x->nj = 0;
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
			PGcancel *c = ex_cancel_handles[1 + i];

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
		ex_pg_fail(conn, NULL, "cannot quote the snapshot");
		bk_pg_close(conn);
		return NULL;
	}
	sql = bk_asprintf("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"
			  " SET TRANSACTION SNAPSHOT %s", lit);
	PQfreemem(lit);
	ret = ex_session_setup(conn);
	if (ret == 0)
		ret = ex_conn_command(conn, sql, "cannot use the exported snapshot");
	if (ret == 0)
		ret = ex_conn_command(conn, "SET search_path = ''", "cannot set search_path");
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
	if (n > EX_MAX_WORKERS)
		n = EX_MAX_WORKERS;
	if ((size_t)n > nj)
		n = (long)nj;
	return (int)n;
}

/* Connect the workers; one that cannot connect (no free connection slot)
 * leaves the work to the others, as long as there is one. */
int ex_start_workers(struct export *x)
{
	int want = count_workers(x->nj);

	for (int i = 0; i < want; i++) {
		struct worker *w = &x->workers[i];
		sigset_t all, old;

		w->x = x;
		w->conn = worker_connect(x);
		if (!w->conn) {
			if (i == 0 || ex_interrupted())
				return -1;
			bk_warn("%s; exporting on %d connection%s", bk_err(), i, i > 1 ? "s" : "");
			break;
		}
		x->nworkers = i + 1;
		w->buf = bk_xmalloc(EX_BUF_SIZE);
		w->sha = bk_sha256_new();
		if (!w->sha)
			return -1;
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, &old);
		ex_cancel_handles[1 + i] = PQgetCancel(w->conn);
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

int ex_write_data(struct export *x)
{
	sigset_t all, old;
	int ret = 0;

	if (!x->nj)
		return 0;
	x->order = ex_realloc(NULL, x->nj, sizeof(*x->order));
	for (size_t i = 0; i < x->nj; i++)
		x->order[i] = i;
	qsort_r(x->order, x->nj, sizeof(*x->order), cmp_pages_desc, x->jobs);
	if (ex_interrupted())
		return ex_interrupted_error();
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
	if (ex_interrupted())
		return ex_interrupted_error();
	if (x->failed) {
		bk_err_set("%s", x->fail_msg);
		if (*x->fail_hint)
			bk_err_hint("%s", x->fail_hint);
		return -1;
	}
	if (ret < 0)
		return -1;
	for (size_t i = 0; i < x->nj; i++)
		ex_add_member(x, x->jobs[i].name, x->jobs[i].rows, x->jobs[i].bytes, x->jobs[i].sha256);
	return 0;
}

void ex_stop_workers(struct export *x)
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
		if (ex_cancel_handles[1 + i]) {
			PGcancel *c = ex_cancel_handles[1 + i];

			ex_cancel_handles[1 + i] = NULL;
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

