/*
 * Restore into PostgreSQL (see restore.h). Every file is read through the
 * descriptor the extraction kept. Data files are checked whole first (they
 * may hold only what bk-export writes), then streamed: a .sql file's COPY
 * blocks go to the server in large chunks with PQputCopyData, its SET and
 * setval lines run as they come; a .csv file is one COPY ... (FORMAT csv)
 * whose column list is its header line. Schema files go in batches that end
 * where statements end.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "pg.h"
#include "progress.h"
#include "reader.h"
#include "restore.h"
#include "sqllex.h"

#define CHUNK BK_READER_CHUNK
#define MAX_LINE (1024UL * 1024 * 1024)	/* PostgreSQL's limit for a row */
#define MAX_STMT (1024UL * 1024 * 1024)	/* and for a query: one schema statement */
#define SQL_BATCH (1024 * 1024)	/* schema text sent at once (then to the next ';') */
#define MAX_SQL_LINE (1024UL * 1024)	/* a line of a data file outside COPY blocks */
#define MAX_HEADER BK_READER_MAX_HEADER
#define SHOWN 60		/* bytes of a refused line quoted in the message */

/* ---- names ---- */

static const char *parse_ident(const char *s, char **out)
{
	char *buf = bk_xmalloc(strlen(s) + 1), *o = buf;

	if (*s == '"') {
		for (s++;; s++) {
			if (!*s)
				goto bad;
			if (*s == '"') {
				if (s[1] != '"')
					break;
				s++;
			}
			*o++ = *s;
		}
		s++;
		if (o == buf)
			goto bad;
	} else {
		/* What quote_ident leaves unquoted: lower-case ASCII, digits, '_'. */
		if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
			goto bad;
		while ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '$')
			*o++ = *s++;
	}
	*o = '\0';
	*out = buf;
	return s;
bad:
	free(buf);
	return NULL;
}

int bk_restore_parse_qname(const char *qname, char **schema, char **name)
{
	const char *s;

	*schema = *name = NULL;
	if (!(s = parse_ident(qname, schema)))
		return -1;
	if (*s != '.' || !(s = parse_ident(s + 1, name)) || *s) {
		free(*schema);
		free(*name);
		*schema = *name = NULL;
		return -1;
	}
	return 0;
}

/* "schema"."name" quoted by libpq; caller frees. */
static char *quote_qname(PGconn *conn, const struct bk_restore_table *t)
{
	char *s = PQescapeIdentifier(conn, t->schema, strlen(t->schema));
	char *n = PQescapeIdentifier(conn, t->name, strlen(t->name));
	char *q = s && n ? bk_asprintf("%s.%s", s, n) : NULL;

	PQfreemem(s);
	PQfreemem(n);
	if (!q)
		bk_err_set("cannot quote %s: %s", t->qname, PQerrorMessage(conn));
	return q;
}

/* ---- the plan ---- */

/* The table whose rows are in the file that starts v (up to a space). */
static struct bk_restore_table *table_of_file(struct bk_restore_plan *p, const char *v)
{
	size_t len = strcspn(v, " ");

	for (size_t k = 0; k < p->n_tables; k++)
		if (strlen(p->tables[k].file) == len && !strncmp(p->tables[k].file, v, len))
			return &p->tables[k];
	return NULL;
}

/* "COL >= CUTOFF": COL as quote_ident writes it (or plain), into t. */
static int parse_window(struct bk_restore_table *t, const char *w)
{
	const char *op = strstr(w, " >= "), *end;

	if (!op || op == w || !op[4])
		return -1;
	end = parse_ident(w, &t->window_col);
	if (end != op) {
		free(t->window_col);
		t->window_col = bk_asprintf("%.*s", (int)(op - w), w);
	}
	t->cutoff = bk_xstrdup(op + 4);
	t->window = bk_xstrdup(w);
	return 0;
}

/* "# window: FILE COL >= CUTOFF" and "# window-rows: FILE WINDOW TOTAL
 * CLOSURE ZONE" (newer archives only) of the tables in p. */
static int windows_init(struct bk_restore_plan *p, const struct bk_manifest *m)
{
	const char *v;
	size_t i = 0;

	while ((v = bk_manifest_meta_next(m, "window", &i)) != NULL) {
		struct bk_restore_table *t = table_of_file(p, v);
		const char *sp = strchr(v, ' ');

		if (!t || t->window)
			continue;
		if (!sp || parse_window(t, sp + 1) < 0)
			return bk_err_set("MANIFEST: malformed line '# window: %.200s' "
					  "(expected FILE COLUMN >= CUTOFF)", v);
	}
	i = 0;
	while ((v = bk_manifest_meta_next(m, "window-rows", &i)) != NULL) {
		struct bk_restore_table *t = table_of_file(p, v);
		long long n[3];
		char zone[256];
		int used = 0;

		if (!t || !t->window || t->closure >= 0)
			continue;
		if (sscanf(v + strcspn(v, " "), " %lld %lld %lld %255s %n", &n[0], &n[1], &n[2],
			   zone, &used) != 4 || v[strcspn(v, " ") + (size_t)used] || n[2] < 0)
			return bk_err_set("MANIFEST: malformed line '# window-rows: %.200s' "
					  "(expected FILE WINDOW TOTAL CLOSURE ZONE)", v);
		t->closure = n[2];
		if (strcmp(zone, "-"))
			t->zone = bk_xstrdup(zone);
	}
	return 0;
}

int bk_restore_plan_init(struct bk_restore_plan *p, const struct bk_manifest *m)
{
	const char *v;
	size_t i = 0;

	memset(p, 0, sizeof(*p));
	while ((v = bk_manifest_meta_next(m, "table", &i)) != NULL) {
		struct bk_restore_table *t;
		const char *sp1 = strchr(v, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
		char *end;
		long long rows;

		if (!sp1 || !sp2 || sp2 == sp1 + 1)
			goto bad;
		errno = 0;
		rows = strtoll(sp1 + 1, &end, 10);
		if (end != sp2 || rows < 0 || errno)
			goto bad;
		p->tables = realloc(p->tables, (p->n_tables + 1) * sizeof(*p->tables));
		if (!p->tables)
			abort();
		t = &p->tables[p->n_tables];
		memset(t, 0, sizeof(*t));
		t->closure = -1;
		if (bk_restore_parse_qname(sp2 + 1, &t->schema, &t->name) < 0)
			goto bad;
		p->n_tables++;
		t->file = bk_asprintf("%.*s", (int)(sp1 - v), v);
		t->qname = bk_xstrdup(sp2 + 1);
		t->rows = rows;
		if (!bk_manifest_find(m, t->file)) {
			bk_err_set("MANIFEST: table %s is in %s, which is not a member", t->qname,
				   t->file);
			goto fail;
		}
		for (size_t k = 0; k + 1 < p->n_tables; k++)
			if (!strcmp(p->tables[k].schema, t->schema) &&
			    !strcmp(p->tables[k].name, t->name)) {
				bk_err_set("MANIFEST: table %s is listed twice", t->qname);
				goto fail;
			}
	}
	if (windows_init(p, m) < 0)
		goto fail;
	if (p->n_tables == 0) {
		bk_err_set("MANIFEST lists no table: nothing to restore");
		goto fail;
	}
	return 0;
bad:
	bk_err_set("MANIFEST: malformed line '# table: %.200s' (expected FILE ROWS SCHEMA.TABLE)", v);
fail:
	bk_restore_plan_free(p);
	return -1;
}

void bk_restore_plan_free(struct bk_restore_plan *p)
{
	for (size_t i = 0; i < p->n_tables; i++) {
		free(p->tables[i].qname);
		free(p->tables[i].schema);
		free(p->tables[i].name);
		free(p->tables[i].file);
		free(p->tables[i].window);
		free(p->tables[i].window_col);
		free(p->tables[i].cutoff);
		free(p->tables[i].zone);
	}
	free(p->tables);
	memset(p, 0, sizeof(*p));
}

/* "the window's condition" on t, with the cutoff as $1: the server reads it
 * as a literal of the column's type. Caller frees. */
static char *window_cond(PGconn *conn, const struct bk_restore_table *t)
{
	char *c = PQescapeIdentifier(conn, t->window_col, strlen(t->window_col));
	char *cond = c ? bk_asprintf("(%s >= $1 OR %s IS NULL)", c, c) : NULL;

	PQfreemem(c);
	if (!cond)
		bk_err_set("cannot quote %s: %s", t->window_col, PQerrorMessage(conn));
	return cond;
}

/* t->target_rows, and t->target_window for a windowed table. */
static int count_rows(PGconn *conn, struct bk_restore_table *t)
{
	const char *params[1] = { t->cutoff };
	char *q = quote_qname(conn, t), *cond = NULL, *sql;
	PGresult *res;

	if (!q)
		return -1;
	if (t->window && !(cond = window_cond(conn, t))) {
		free(q);
		return -1;
	}
	if (cond)
		sql = bk_asprintf("SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE %s) "
				  "FROM %s", cond, q);
	else
		sql = bk_asprintf("SELECT pg_catalog.count(*), 0 FROM %s", q);
	res = cond ? bk_pg_query_params(conn, sql, 1, params) : bk_pg_query(conn, sql);
	free(q);
	free(cond);
	free(sql);
	if (!res) {
		bk_err_prefix("cannot count the rows of %s", t->qname);
		return -1;
	}
	t->target_rows = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	t->target_window = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	return 0;
}

int bk_restore_probe(struct bk_restore_plan *p, PGconn *conn)
{
	int own = PQtransactionStatus(conn) == PQTRANS_IDLE;
	int ret = -1;

	if (own && bk_pg_exec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") < 0)
		return -1;
	p->n_existing = p->n_populated = 0;
	for (size_t i = 0; i < p->n_tables; i++) {
		struct bk_restore_table *t = &p->tables[i];
		const char *params[2] = { t->schema, t->name };
		PGresult *res;

		res = bk_pg_query_params(conn,
			"SELECT c.oid FROM pg_catalog.pg_class c "
			"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
			"WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
			2, params);
		if (!res)
			goto out;
		t->oid = PQntuples(res) ? (unsigned)strtoul(PQgetvalue(res, 0, 0), NULL, 10) : 0;
		PQclear(res);
		t->target_rows = t->target_window = 0;
		if (!t->oid)
			continue;
		p->n_existing++;
		if (count_rows(conn, t) < 0)
			goto out;
		if (t->target_rows > 0)
			p->n_populated++;
	}
	if (p->n_existing == 0) {
		p->mode = BK_RESTORE_FULL;
	} else if ((size_t)p->n_existing == p->n_tables) {
		p->mode = BK_RESTORE_DATA;
	} else {
		char *missing = NULL;

		for (size_t i = 0; i < p->n_tables; i++) {
			char *next;

			if (p->tables[i].oid)
				continue;
			next = missing ? bk_asprintf("%s, %s", missing, p->tables[i].qname)
				       : bk_xstrdup(p->tables[i].qname);
			free(missing);
			missing = next;
		}
		bk_err_set("the database has %d of the %zu backed-up tables; missing: %s",
			   p->n_existing, p->n_tables, missing);
		bk_err_hint("restore into an empty database, or create the missing tables");
		free(missing);
		goto out;
	}
	ret = 0;
out:
	if (own) {
		PGresult *res = PQexec(conn, "ROLLBACK");

		PQclear(res);
	}
	return ret;
}

/* ---- running SQL from the backup ---- */

/* Line (1-based) of the pos'th character (1-based, as the server counts). */
static long line_of(const char *text, long pos)
{
	long line = 1, ch = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if ((*p & 0xc0) != 0x80 && ++ch >= pos)
			break;
		if (*p == '\n')
			line++;
	}
	return line;
}

/* Error slot from a failed result: "what line N: primary message", N
 * counted from first_line at the start of text. */
static int sql_error_at(PGconn *conn, PGresult *res, const char *what, const char *text,
			long first_line)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *pos = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
	char msg[1024];

	snprintf(msg, sizeof(msg), "%s", primary ? primary
		 : res && *PQresultErrorMessage(res) ? PQresultErrorMessage(res)
		 : PQerrorMessage(conn));
	msg[strcspn(msg, "\n")] = '\0';
	bk_log_mask(msg, sizeof(msg));
	if (PQstatus(conn) == CONNECTION_BAD && !primary)
		bk_err_set("%s: lost the connection to the server: %s", what,
			   msg[0] ? msg : "no reason given");
	else if (pos && text)
		bk_err_set("%s line %ld: %s", what, line_of(text, atol(pos)) + first_line - 1, msg);
	else
		bk_err_set("%s: %s", what, msg[0] ? msg : "server error");
	/* 42501 insufficient_privilege: a read-only (backup) role, most often */
	if (res && PQresultErrorField(res, PG_DIAG_SQLSTATE) &&
	    !strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501"))
		bk_err_hint("restore as the database's owner (the application's role) or a "
			    "superuser: role %s may not create or change what the backup holds; "
			    "set POSTGRES_USER and its password (POSTGRES_PASSWORD_FILE)",
			    PQuser(conn));
	PQclear(res);
	return -1;
}

static int sql_error(PGconn *conn, PGresult *res, const char *what, const char *text)
{
	return sql_error_at(conn, res, what, text, 1);
}

/* After SQL from the archive: are we still inside our transaction? */
static int still_in_transaction(PGconn *conn, const char *what)
{
	switch (PQtransactionStatus(conn)) {
	case PQTRANS_INTRANS:
		return 0;
	case PQTRANS_IDLE:
		return bk_err_set("%s ended the restore's transaction (COMMIT or ROLLBACK "
				  "in it): refusing to go on", what);
	default:
		return bk_err_set("%s: lost the connection to the server", what);
	}
}

/* Run text (any number of statements, from line first_line of what) as one
 * simple query; we must still be in our transaction after it. */
static int run_sql(PGconn *conn, const char *text, const char *what, long first_line)
{
	PGresult *res = PQexec(conn, text);
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
		PQclear(res);
		/* A COPY we did not see coming: end it and fail. */
		PQputCopyEnd(conn, "unexpected COPY");
		while ((res = PQgetResult(conn)) != NULL)
			PQclear(res);
		return bk_err_set("%s: COPY in a place where it cannot be streamed", what);
	}
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
		return sql_error_at(conn, res, what, text, first_line);
	PQclear(res);
	return still_in_transaction(conn, what);
}

/* pg_dump >= 15.14 brackets its output with "\restrict KEY" and
 * "\unrestrict KEY" lines for psql; they are not SQL. */
static int is_restrict_line(const char *line, size_t len)
{
	size_t n;

	if (len > 10 && !strncmp(line, "\\restrict ", 10))
		n = 10;
	else if (len > 12 && !strncmp(line, "\\unrestrict ", 12))
		n = 12;
	else
		return 0;
	while (n < len && line[n] != '\n' && line[n] != '\r') {
		char c = line[n++];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

/* ---- the restore's state ---- */

/* A foreign key dropped for a data-only load, to be added back. */
struct fk {
	char *table, *name, *def;
};

/* A user trigger disabled for a data-only load. */
struct trig {
	char *table, *name;
	char enabled;		/* pg_trigger.tgenabled: O, R or A */
};

/* A sequence of a windowed table whose rows are kept, and its column. */
struct seq {
	char *seq, *col;
	const struct bk_restore_table *table;
};

struct job {
	PGconn *conn;
	const struct bk_extract_files *files;
	const struct bk_manifest *m;
	struct bk_restore_plan *plan;
	enum bk_restore_replace replace;
	struct fk *fks;
	size_t n_fks;
	struct trig *trigs;
	size_t n_trigs;
	struct seq *seqs;
	size_t n_seqs;
	/* the progress line: tables loaded, bytes of their files, of all */
	size_t tables_done;
	unsigned long long bytes_done, bytes_all;
};

static void job_free(struct job *j)
{
	for (size_t i = 0; i < j->n_fks; i++) {
		free(j->fks[i].table);
		free(j->fks[i].name);
		free(j->fks[i].def);
	}
	for (size_t i = 0; i < j->n_trigs; i++) {
		free(j->trigs[i].table);
		free(j->trigs[i].name);
	}
	for (size_t i = 0; i < j->n_seqs; i++) {
		free(j->seqs[i].seq);
		free(j->seqs[i].col);
	}
	free(j->fks);
	free(j->trigs);
	free(j->seqs);
}

static const struct bk_restore_table *table_of_copy(const struct job *j, const char *file,
						     const char *target)
{
	for (size_t i = 0; i < j->plan->n_tables; i++)
		if (!strcmp(j->plan->tables[i].file, file) && !strcmp(j->plan->tables[i].qname, target))
			return &j->plan->tables[i];
	return NULL;
}

/* Does t keep its rows older than the window (loaded through a stage)? */
static int keeps_old_rows(const struct job *j, const struct bk_restore_table *t)
{
	return t->window && j->plan->mode == BK_RESTORE_DATA && j->replace != BK_REPLACE_ALL;
}

static int exec_fmt(PGconn *conn, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int exec_fmt(PGconn *conn, const char *what, const char *fmt, ...)
{
	va_list ap;
	char *sql;
	PGresult *res;

	va_start(ap, fmt);
	if (vasprintf(&sql, fmt, ap) < 0)
		abort();
	va_end(ap);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		sql_error(conn, res, what, NULL);
		free(sql);
		return -1;
	}
	PQclear(res);
	free(sql);
	return 0;
}


/* Run sql (with params): the rows it affected, or -1. */
static long long exec_count(PGconn *conn, const char *what, const char *sql, int n,
			    const char *const *params)
{
	PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	long long rows;

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		return sql_error(conn, res, what, NULL);
	rows = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return rows;
}

/* ---- windowed tables: loaded through a stage ---- */

/*
 * A windowed table keeps the rows older than its cutoff, which exist nowhere
 * else. Its rows from the backup go first into a temporary table of the same
 * columns (the file's), then replace the live rows in the window and the
 * live rows with the same primary key (older rows the backup holds because
 * a backed-up row refers to them), and are inserted with their own ids.
 */
#define STAGE "pg_temp.bk_restore_stage"

/* "(a, b)" -> "a, b", in a new string. */
static char *unparen(const char *cols)
{
	size_t len = strlen(cols);

	if (len >= 2 && cols[0] == '(' && cols[len - 1] == ')')
		return bk_asprintf("%.*s", (int)(len - 2), cols + 1);
	return bk_xstrdup(cols);
}

/* The stage for t's columns cols ("(a, b)"), empty. */
static int stage_begin(struct job *j, const struct bk_restore_table *t, const char *cols)
{
	char *q = quote_qname(j->conn, t), *list = unparen(cols);
	int ret = -1;

	if (q)
		ret = exec_fmt(j->conn, t->qname, "CREATE TEMPORARY TABLE " STAGE " ON COMMIT DROP "
			       "AS SELECT %s FROM %s WITH NO DATA", list, q);
	free(q);
	free(list);
	return ret;
}

/* "bk_t.a = bk_s.a AND ..." over t's primary key; "" without one. */
static char *key_match(struct job *j, const struct bk_restore_table *t)
{
	char oid[16];
	const char *params[1] = { oid };
	PGresult *res;
	char *s;

	snprintf(oid, sizeof(oid), "%u", t->oid);
	res = bk_pg_query_params(j->conn,
		"SELECT pg_catalog.quote_ident(a.attname) FROM pg_catalog.pg_index i "
		"JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid "
		"AND a.attnum = ANY (i.indkey) "
		"WHERE i.indrelid = $1 AND i.indisprimary ORDER BY a.attnum", 1, params);
	if (!res) {
		bk_err_prefix("cannot read the primary key of %s", t->qname);
		return NULL;
	}
	s = bk_xstrdup("");
	for (int r = 0; r < PQntuples(res); r++) {
		const char *c = PQgetvalue(res, r, 0);
		char *next = bk_asprintf("%s%sbk_t.%s = bk_s.%s", s, r ? " AND " : "", c, c);

		free(s);
		s = next;
	}
	PQclear(res);
	return s;
}

/* Put the stage's rows (loaded: how many) into t in place of the rows they
 * replace; the stage is dropped. 0, or -1. */
static int stage_merge(struct job *j, const struct bk_restore_table *t, const char *cols,
		       long long loaded)
{
	const char *params[1] = { t->cutoff };
	char *q = quote_qname(j->conn, t), *cond = NULL, *keys = NULL, *list = unparen(cols);
	char *sql = NULL;
	long long in_window, by_key = 0, inserted;
	int ret = -1;

	if (!q || !(cond = window_cond(j->conn, t)) || !(keys = key_match(j, t)))
		goto out;
	sql = bk_asprintf("DELETE FROM %s WHERE %s", q, cond);
	if ((in_window = exec_count(j->conn, t->qname, sql, 1, params)) < 0)
		goto out;
	if (*keys) {
		free(sql);
		sql = bk_asprintf("DELETE FROM %s AS bk_t USING " STAGE " AS bk_s WHERE %s", q, keys);
		if ((by_key = exec_count(j->conn, t->qname, sql, 0, NULL)) < 0)
			goto out;
	} else if (t->closure > 0) {
		bk_warn("%s has no primary key: only its rows in the window are replaced",
			t->qname);
	}
	free(sql);
	sql = bk_asprintf("INSERT INTO %s %s OVERRIDING SYSTEM VALUE SELECT %s FROM " STAGE,
			  q, cols, list);
	if ((inserted = exec_count(j->conn, t->qname, sql, 0, NULL)) < 0)
		goto out;
	if (inserted != loaded) {
		bk_err_set("%s: %lld rows inserted of the %lld loaded", t->qname, inserted, loaded);
		goto out;
	}
	if (exec_fmt(j->conn, t->qname, "DROP TABLE " STAGE) < 0)
		goto out;
	bk_info("%s: replaced %lld rows in the window (%s) and %lld older rows the backup "
		"holds; kept %lld older rows", t->qname, in_window, t->window, by_key,
		t->target_rows - in_window - by_key);
	ret = 0;
out:
	free(q);
	free(cond);
	free(keys);
	free(list);
	free(sql);
	return ret;
}

/* ---- streaming a data file ---- */

/* A file read from the start through its kept descriptor (not ours to
 * close); buf has a spare byte past cap for a terminating NUL. */
/* Abort a COPY in progress (the transaction fails with it). */
static void copy_abort(PGconn *conn, const char *why)
{
	PGresult *res;

	PQputCopyEnd(conn, why);
	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
}

static int put(PGconn *conn, const char *data, size_t len, const char *what)
{
	while (len) {
		int n = len > INT_MAX / 2 ? INT_MAX / 2 : (int)len;

		if (PQputCopyData(conn, data, n) != 1)
			return sql_error(conn, NULL, what, NULL);
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* End a COPY: rows loaded, or -1. */
static long long copy_end(PGconn *conn, const char *what)
{
	PGresult *res;
	long long rows = -1;
	int failed = 0;

	if (PQputCopyEnd(conn, NULL) != 1)
		return sql_error(conn, NULL, what, NULL);
	/* Drain to the final NULL, keeping the first failure. */
	while ((res = PQgetResult(conn)) != NULL) {
		if (failed) {
			PQclear(res);
		} else if (PQresultStatus(res) == PGRES_COMMAND_OK && rows < 0) {
			rows = strtoll(PQcmdTuples(res), NULL, 10);
			PQclear(res);
		} else {
			sql_error(conn, res, what, NULL);
			failed = 1;
		}
	}
	if (!failed && rows < 0)
		return sql_error(conn, NULL, what, NULL);
	return failed ? -1 : rows;
}

/* Is line (len bytes, without its '\n') the "\." that ends a COPY block?
 * The check and the load must split a file alike: one rule for both. */
static int is_end_line(const char *line, size_t len)
{
	return (len == 2 || (len == 3 && line[2] == '\r')) && line[0] == '\\' && line[1] == '.';
}

/* Stream one COPY block (the lines up to "\."): rows loaded, or -1. */
static long long copy_block(PGconn *conn, struct bk_reader *r, const char *what)
{
	for (;;) {
		size_t p = r->start;
		int done = 0;

		while (p < r->end) {
			char *line = r->buf + p;
			char *nl = memchr(line, '\n', r->end - p);
			size_t len;

			if (!nl)
				break;
			len = (size_t)(nl - line);
			if (is_end_line(line, len)) {
				done = 1;
				break;
			}
			p += len + 1;
			r->lineno++;
		}
		if (p > r->start && put(conn, r->buf + r->start, p - r->start, what) < 0)
			return -1;
		r->start = p;
		if (done) {
			r->start += (r->buf[p + 2] == '\r') ? 4 : 3;
			r->lineno++;
			return copy_end(conn, what);
		}
		if (r->eof) {
			if (is_end_line(r->buf + r->start, r->end - r->start)) {
				r->start = r->end;
				return copy_end(conn, what);
			}
			copy_abort(conn, "bk-unpack: COPY data not terminated");
			return bk_err_set("%s line %ld: the file ends inside a COPY block "
					  "(no \\. line)", r->name, r->lineno);
		}
		if (bk_reader_fill(r, MAX_LINE) < 0) {
			copy_abort(conn, "bk-unpack: cannot read the data");
			return -1;
		}
	}
}

/* "COPY <target> (...) FROM stdin;" -- the <target> text, in a new string. */
static char *copy_target(const char *line, size_t len)
{
	const char *start = line + 5, *end = start;

	while (end < line + len && *end != ' ')
		end++;
	/* A quoted name may hold spaces: walk quotes. */
	if (memchr(start, '"', (size_t)(end - start)) || *start == '"') {
		int in_quote = 0;

		for (end = start; end < line + len; end++) {
			if (*end == '"')
				in_quote = !in_quote;
			else if (*end == ' ' && !in_quote)
				break;
		}
	}
	return bk_asprintf("%.*s", (int)(end - start), start);
}

struct loaded {
	char *target;		/* COPY target as written */
	long long rows;
};

struct load_result {
	struct loaded *copies;
	size_t n;
	long long rows;		/* all of them */
};

/* One COPY loaded: its target (taken over) and rows. */
static void load_result_add(struct load_result *lr, char *target, long long rows)
{
	lr->copies = realloc(lr->copies, (lr->n + 1) * sizeof(*lr->copies));
	if (!lr->copies)
		abort();
	lr->copies[lr->n].target = target;
	lr->copies[lr->n].rows = rows;
	lr->n++;
	lr->rows += rows;
}

static void load_result_free(struct load_result *lr)
{
	for (size_t i = 0; i < lr->n; i++)
		free(lr->copies[i].target);
	free(lr->copies);
	memset(lr, 0, sizeof(*lr));
}

/* ---- what a data file may hold ---- */

/* What was found, for a message: at most SHOWN bytes of line (cut where a
 * character starts, "..." after), control characters as '?'. */
static void show_line(char out[SHOWN + 4], const char *line, size_t len)
{
	size_t n = len;

	if (n > SHOWN) {
		n = SHOWN;
		while (n > 0 && ((unsigned char)line[n] & 0xc0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)line[i] < 0x20 || line[i] == 0x7f ? '?' : line[i];
	strcpy(out + n, n < len ? "..." : "");
}

/* s + its length if s starts with prefix, else NULL. */
static const char *skip(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) ? NULL : s + n;
}

/* "schema.name" as quote_ident writes each part: past it, or NULL. */
static const char *skip_qname(const char *s)
{
	char *part;

	if (!(s = parse_ident(s, &part)))
		return NULL;
	free(part);
	if (*s != '.' || !(s = parse_ident(s + 1, &part)))
		return NULL;
	free(part);
	return s;
}

/* "(a, "B c", d)": past it, or NULL. */
static const char *skip_columns(const char *s)
{
	char *col;

	if (*s++ != '(')
		return NULL;
	for (;;) {
		if (!(s = parse_ident(s, &col)))
			return NULL;
		free(col);
		if (*s == ')')
			return s + 1;
		if (!(s = skip(s, ", ")))
			return NULL;
	}
}

/* SELECT pg_catalog.setval('public.t_id_seq', 42, true); as setvals() in
 * export_data.c writes it: a sequence name, an integer, true or false. */
static int is_setval(const char *s)
{
	char *name = bk_xmalloc(strlen(s) + 1), *o = name, *sch, *rel;
	int digits = 0, ok = 0;

	if (!(s = skip(s, "SELECT pg_catalog.setval('")))
		goto out;
	for (; *s && (*s != '\'' || s[1] == '\''); s++) {
		if (*s == '\'')
			s++;
		*o++ = *s;
	}
	*o = '\0';
	if (!(s = skip(s, "', ")) || bk_restore_parse_qname(name, &sch, &rel) < 0)
		goto out;
	free(sch);
	free(rel);
	if (*s == '-')
		s++;
	for (; *s >= '0' && *s <= '9'; s++)
		digits++;
	if (digits < 1 || digits > 19 || !(s = skip(s, ", ")))
		goto out;
	ok = !strcmp(s, "true);") || !strcmp(s, "false);");
out:
	free(name);
	return ok;
}

/* Does s start with a word that controls transactions? */
static int is_transaction_control(const char *s)
{
	static const char *const words[] = {
		"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "START", "END", "ABORT",
		"PREPARE", "SET TRANSACTION", "SET SESSION CHARACTERISTICS", NULL
	};

	s += strspn(s, " \t");
	for (int i = 0; words[i]; i++) {
		size_t n = strlen(words[i]);

		if (!strncasecmp(s, words[i], n) && !isalnum((unsigned char)s[n]) && s[n] != '_')
			return 1;
	}
	return 0;
}

enum { DL_SKIP, DL_SQL, DL_COPY };

/*
 * One line of data file name (len bytes from line, with its '\n' if any):
 * DL_SKIP for a blank or comment line, DL_SQL for the SET and setval lines
 * bk-export writes, DL_COPY for the "COPY qname (cols) FROM stdin;" of a
 * table MANIFEST lists in name (*t). Anything else: -1 with the error slot
 * naming the line and what it holds.
 */
static int data_line(const struct bk_restore_plan *p, const char *name, const char *line,
		     size_t len, long lineno, const struct bk_restore_table **t)
{
	char shown[SHOWN + 4], *text;
	const char *end;
	size_t blank = 0;
	int ret = -1;

	*t = NULL;
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	while (blank < len && (line[blank] == ' ' || line[blank] == '\t'))
		blank++;
	if (blank == len)
		return DL_SKIP;
	if (len >= 2 && line[0] == '-' && line[1] == '-' && !memchr(line, '\r', len))
		return DL_SKIP;
	show_line(shown, line, len);
	if (memchr(line, '\0', len))
		return bk_err_set("%s line %ld: a NUL byte outside a COPY block: refusing the "
				  "restore", name, lineno);
	text = bk_asprintf("%.*s", (int)len, line);
	if (!strcmp(text, "SET client_encoding = 'UTF8';") ||
	    !strcmp(text, "SET standard_conforming_strings = on;") || is_setval(text)) {
		ret = DL_SQL;
	} else if ((end = skip(text, "COPY ")) && (end = skip_qname(end))) {
		const char *q = text + 5, *rest = end;

		for (size_t i = 0; i < p->n_tables && !*t; i++)
			if (!strcmp(p->tables[i].file, name) && strlen(p->tables[i].qname) ==
			    (size_t)(end - q) && !strncmp(p->tables[i].qname, q, (size_t)(end - q)))
				*t = &p->tables[i];
		if (*rest == ' ' && rest[1] == '(')
			rest = skip_columns(rest + 1);
		if (!rest || strcmp(rest, " FROM stdin;"))
			bk_err_set("%s line %ld: '%s' is not what bk-export writes in a data file: "
				   "refusing the restore", name, lineno, shown);
		else if (!*t)
			bk_err_set("%s line %ld: COPY into %.*s, which MANIFEST does not list in %s: "
				   "refusing the restore", name, lineno, (int)(end - q), q, name);
		else
			ret = DL_COPY;
	} else if (text[0] == '\\') {
		bk_err_set("%s line %ld: a psql meta-command ('%s') in a data file: refusing the "
			   "restore", name, lineno, shown);
	} else if (is_transaction_control(text)) {
		bk_err_set("%s line %ld: transaction control ('%s') in a data file: refusing the "
			   "restore", name, lineno, shown);
	} else {
		bk_err_set("%s line %ld: '%s' is not what bk-export writes in a data file: "
			   "refusing the restore", name, lineno, shown);
	}
	free(text);
	return ret;
}

/* Statements collected between COPY blocks. */
struct sqlbuf {
	char *s;
	size_t len, cap;
	long first_line;
};

static void sqlbuf_add(struct sqlbuf *b, const char *line, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->s = realloc(b->s, b->cap);
		if (!b->s)
			abort();
	}
	memcpy(b->s + b->len, line, len);
	b->len += len;
	b->s[b->len] = '\0';
}

static int sqlbuf_run(PGconn *conn, struct sqlbuf *b, const char *name)
{
	int ret = 0;

	if (b->len)
		ret = run_sql(conn, b->s, name, b->first_line);
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
	return ret;
}

/*
 * A COPY line of a .sql file into a table that keeps its older rows: the
 * stage made for its columns, *stmt rewritten to load the stage, *cols the
 * column list. Other tables: NULL, nothing changed; -1 in *err on failure.
 */
static const struct bk_restore_table *copy_stage(struct job *j, const char *name, char **stmt,
						  char **cols, int *err)
{
	static const char tail[] = " FROM stdin;";
	char *target = copy_target(*stmt, strlen(*stmt)), *rest;
	const struct bk_restore_table *t = table_of_copy(j, name, target);
	size_t len;

	*cols = NULL;
	*err = 0;
	if (!t || !keeps_old_rows(j, t)) {
		free(target);
		return NULL;
	}
	rest = *stmt + 5 + strlen(target);
	free(target);
	len = strcspn(rest, "\r\n");
	if (*rest == ' ') {
		rest++;
		len--;
	}
	if (len < sizeof(tail) - 1 || *rest != '(') {
		*err = bk_err_set("%s: COPY into %s without a column list: cannot keep its "
				  "older rows", name, t->qname);
		return NULL;
	}
	*cols = bk_asprintf("%.*s", (int)(len - (sizeof(tail) - 1)), rest);
	if (stage_begin(j, t, *cols) < 0) {
		*err = -1;
		return NULL;
	}
	free(*stmt);
	*stmt = bk_asprintf("COPY " STAGE " %s FROM stdin;", *cols);
	return t;
}

/* One COPY block of a .sql file, line its "COPY ... FROM stdin;" line
 * (consumed with the block): 0, or -1. */
static int load_copy(struct job *j, struct bk_reader *r, const char *name, size_t len,
		     struct load_result *lr)
{
	char *stmt = bk_asprintf("%.*s", (int)len, r->buf + r->start);
	char *what = bk_asprintf("%s line %ld", name, r->lineno);
	char *target = copy_target(stmt, strlen(stmt)), *cols = NULL;
	const struct bk_restore_table *staged;
	PGresult *res;
	long long rows;
	int ret = -1, err;

	r->start += len;
	r->lineno++;
	staged = copy_stage(j, name, &stmt, &cols, &err);
	if (err < 0)
		goto out;
	res = PQexec(j->conn, stmt);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		sql_error(j->conn, res, what, NULL);
		goto out;
	}
	PQclear(res);
	rows = copy_block(j->conn, r, what);
	if (rows < 0 || still_in_transaction(j->conn, what) < 0 ||
	    (staged && stage_merge(j, staged, cols, rows) < 0))
		goto out;
	load_result_add(lr, target, rows);
	target = NULL;
	ret = 0;
out:
	free(stmt);
	free(what);
	free(target);
	free(cols);
	return ret;
}

/* A .sql data file (or sequences.sql): its SET and setval lines run, its
 * COPY blocks streamed; anything else refused (check_data_file() has
 * refused it already: this is the same rule, kept where the SQL is sent). */
static int load_sql(struct job *j, const char *name, struct load_result *lr)
{
	struct bk_reader r;
	struct sqlbuf sql = { 0 };
	int ret = -1;

	if (bk_reader_open(&r, j->files, name) < 0)
		return -1;
	for (;;) {
		ssize_t len = bk_reader_line(&r, MAX_SQL_LINE);
		const struct bk_restore_table *t;
		int kind;

		if (len < 0)
			goto out;
		if (len == 0)
			break;
		kind = data_line(j->plan, name, r.buf + r.start, (size_t)len, r.lineno, &t);
		if (kind < 0)
			goto out;
		if (kind == DL_COPY) {
			if (sqlbuf_run(j->conn, &sql, name) < 0 ||
			    load_copy(j, &r, name, (size_t)len, lr) < 0)
				goto out;
			continue;
		}
		if (kind == DL_SQL) {
			if (sql.len + (size_t)len > SQL_BATCH && sqlbuf_run(j->conn, &sql, name) < 0)
				goto out;
			if (!sql.len)
				sql.first_line = r.lineno;
			sqlbuf_add(&sql, r.buf + r.start, (size_t)len);
		}
		r.start += (size_t)len;
		r.lineno++;
	}
	if (sqlbuf_run(j->conn, &sql, name) < 0)
		goto out;
	ret = 0;
out:
	free(sql.s);
	bk_reader_close(&r);
	return ret;
}

/* Skip one COPY block of r, up to and with its "\." line. */
static int skip_block(struct bk_reader *r)
{
	long first = r->lineno;

	for (;;) {
		ssize_t len = bk_reader_line(r, MAX_LINE);
		const char *line = r->buf + r->start;

		if (len < 0)
			return -1;
		if (len == 0)
			return bk_err_set("%s line %ld: the file ends inside the COPY block begun "
					  "on line %ld (no \\. line)", r->name, r->lineno, first - 1);
		r->start += (size_t)len;
		r->lineno++;
		if (is_end_line(line, (size_t)len - (line[len - 1] == '\n')))
			return 0;
	}
}

/*
 * Before anything runs: a .sql data file or sequences.sql, read through,
 * holds only what bk-export writes there, each of its tables' COPY blocks
 * at most once.
 */
static int check_data_file(const struct bk_restore_plan *p, const struct bk_extract_files *files,
			   const char *name)
{
	struct bk_reader r;
	char *seen = bk_xmalloc(p->n_tables + 1);
	int ret = -1;

	memset(seen, 0, p->n_tables + 1);
	if (bk_reader_open(&r, files, name) < 0) {
		free(seen);
		return -1;
	}
	for (;;) {
		ssize_t len = bk_reader_line(&r, MAX_SQL_LINE);
		const struct bk_restore_table *t;
		int kind;

		if (len < 0)
			goto out;
		if (len == 0)
			break;
		kind = data_line(p, name, r.buf + r.start, (size_t)len, r.lineno, &t);
		if (kind < 0)
			goto out;
		r.start += (size_t)len;
		r.lineno++;
		if (kind != DL_COPY)
			continue;
		if (seen[t - p->tables]++) {
			bk_err_set("%s line %ld: a second COPY into %s: refusing the restore", name,
				   r.lineno - 1, t->qname);
			goto out;
		}
		if (skip_block(&r) < 0)
			goto out;
	}
	ret = 0;
out:
	free(seen);
	bk_reader_close(&r);
	return ret;
}

/* ---- schema files ---- */

/* The schema text sent at once; a test may lower it (BK_TEST_SQL_BATCH,
 * bytes) to make every statement its own query. */
static size_t sql_batch(void)
{
	const char *v = getenv("BK_TEST_SQL_BATCH");
	char *end;
	unsigned long n;

	if (!v || !*v)
		return SQL_BATCH;
	errno = 0;
	n = strtoul(v, &end, 10);
	return *end || errno || n == 0 || n > SQL_BATCH ? SQL_BATCH : n;
}

/* Send text[0..len) (from line first_line of name) as one query. */
/*
 * pg_dump 17 starts its output with "SET transaction_timeout = 0;", a
 * setting servers before 17 do not have (psql goes on after the error; we
 * stop): on such a server that line of the header becomes blanks, as the
 * image's pg_dump 17 backs up servers from 13 on.
 */
static void blank_newer_settings(PGconn *conn, char *text, size_t len, long first_line)
{
	static const char set[] = "SET transaction_timeout = 0;";
	size_t n = sizeof(set) - 1, head = len < 4096 ? len : 4096;
	char *p;

	if (first_line != 1 || PQserverVersion(conn) >= 170000)
		return;
	for (char *from = text; from < text + head &&
	     (p = memmem(from, (size_t)(text + head - from), set, n)); from = p + n)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\r' || !p[n]))
			memset(p, ' ', n);
}

static int send_batch(PGconn *conn, char *text, size_t len, const char *name, long first_line)
{
	char saved = text[len];
	int ret;

	text[len] = '\0';
	blank_newer_settings(conn, text, len, first_line);
	ret = run_sql(conn, text, name, first_line);
	text[len] = saved;
	return ret;
}

/* A backslash at r's buf + r->start + pos, outside quotes and comments:
 * pg_dump's own "\restrict KEY" and "\unrestrict KEY" lines become blanks
 * (psql's business, not SQL); anything else is a meta-command psql would
 * run. 0, 1 when more of the line must be read first, or -1. */
static int schema_backslash(struct bk_reader *r, const struct bk_sql_lexer *lx, size_t pos)
{
	char *line = r->buf + r->start + pos;
	size_t avail = r->end - r->start - pos;
	char *nl = memchr(line, '\n', avail);
	size_t len = nl ? (size_t)(nl - line) : avail;
	char shown[SHOWN + 4];

	if (!nl && !r->eof && avail < MAX_HEADER)
		return 1;
	if (bk_sql_lexer_at_line_start(lx) && is_restrict_line(line, len)) {
		memset(line, ' ', len);
		return 0;
	}
	show_line(shown, line, len);
	bk_err_set("%s line %ld: a psql meta-command ('%s'): bk runs the schema through libpq, "
		   "not psql: refusing the restore", r->name, lx->line, shown);
	bk_err_hint("nothing was run; pg_dump writes no meta-commands but \\restrict and "
		    "\\unrestrict lines: this archive was changed after it was made");
	return -1;
}

/* Read more of a schema file; the new bytes must hold no NUL (a query
 * string would end there). */
static int schema_more(struct bk_reader *r, const struct bk_sql_lexer *lx)
{
	size_t had = r->end - r->start;

	r->lineno = lx->line;
	if (bk_reader_fill(r, MAX_STMT) < 0)
		return -1;
	if (memchr(r->buf + r->start + had, '\0', r->end - r->start - had))
		return bk_err_set("%s: a NUL byte after line %ld: not SQL: refusing the restore",
				  r->name, lx->line);
	return 0;
}

/*
 * Run schema file name (pg_dump's output, any size) in batches of about
 * sql_batch() bytes, each ending where a statement ends; with conn NULL,
 * only read it through, keeping nothing: a meta-command, a NUL byte or an
 * end inside a quote is refused either way.
 */
static int run_schema(PGconn *conn, const struct bk_extract_files *files, const char *name)
{
	struct bk_sql_lexer lx;
	struct bk_reader r;
	size_t pos = 0, batch = sql_batch();	/* pos: from r.start */
	long first_line = 1, queries = 0;
	int ret = -1;

	if (bk_reader_open(&r, files, name) < 0)
		return -1;
	bk_sql_lexer_init(&lx);
	for (;;) {
		size_t avail = r.end - r.start;
		enum bk_sql_event ev;
		int rc = 1;

		if (pos < avail) {
			ev = bk_sql_lex(&lx, r.buf + r.start, avail, &pos);
			if (ev == BK_SQL_BACKSLASH && (rc = schema_backslash(&r, &lx, pos)) < 0)
				goto out;
			if (ev == BK_SQL_END && (!conn || pos >= batch)) {
				if (conn && send_batch(conn, r.buf + r.start, pos, name, first_line) < 0)
					goto out;
				queries += conn != NULL;
				r.start += pos;
				pos = 0;
				first_line = lx.line;
			}
			if (ev == BK_SQL_END || (ev == BK_SQL_BACKSLASH && rc == 0))
				continue;
			/* All is lexed, or a backslash's line is not all there yet. */
		}
		if (pos == avail && r.eof)
			break;
		if (!conn) {
			r.start += pos;	/* read through: forget what was lexed */
			pos = 0;
		}
		if (schema_more(&r, &lx) < 0)
			goto out;
	}
	if (bk_sql_lexer_open(&lx)) {
		bk_err_set("%s: the file ends inside %s begun on line %ld: refusing the restore",
			   name, bk_sql_lexer_open(&lx), lx.quote_line);
		goto out;
	}
	if (conn && r.end > r.start) {
		if (send_batch(conn, r.buf + r.start, r.end - r.start, name, first_line) < 0)
			goto out;
		queries++;
	}
	if (conn)
		bk_info("%s: %lld bytes, %ld lines in %ld queries", name, (long long)r.off,
			lx.line - 1, queries);
	ret = 0;
out:
	bk_reader_close(&r);
	return ret;
}

/* A .csv file: one table, its header names the columns. */
static int load_csv(struct job *j, const struct bk_restore_table *t, struct load_result *lr)
{
	PGconn *conn = j->conn;
	int staged = keeps_old_rows(j, t);
	struct bk_reader r;
	char *cols = NULL, *q = NULL, *sql = NULL;
	PGresult *res;
	long long rows;
	int ret = -1;

	if (bk_reader_open(&r, j->files, t->file) < 0)
		return -1;
	if (bk_reader_fill(&r, CHUNK) < 0 || bk_reader_csv_header(conn, &r, &cols) < 0)
		goto out;
	if (staged ? stage_begin(j, t, cols) < 0 || !(q = bk_xstrdup(STAGE))
		   : !(q = quote_qname(conn, t)))
		goto out;
	sql = bk_asprintf("COPY %s %s FROM STDIN WITH (FORMAT csv)", q, cols);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		sql_error(conn, res, t->file, NULL);
		goto out;
	}
	PQclear(res);
	/* The rest is CSV for the server to parse: send it as it comes. */
	for (;;) {
		if (r.end > r.start && put(conn, r.buf + r.start, r.end - r.start, t->file) < 0)
			goto out;
		r.start = r.end;
		if (r.eof)
			break;
		if (bk_reader_fill(&r, CHUNK) < 0) {
			copy_abort(conn, "bk-unpack: cannot read the data");
			goto out;
		}
	}
	rows = copy_end(conn, t->file);
	if (rows < 0 || still_in_transaction(conn, t->file) < 0 ||
	    (staged && stage_merge(j, t, cols, rows) < 0))
		goto out;
	load_result_add(lr, bk_xstrdup(t->qname), rows);
	ret = 0;
out:
	free(cols);
	free(q);
	free(sql);
	bk_reader_close(&r);
	return ret;
}

static void notice(void *arg, const char *message)
{
	char buf[1024];

	(void)arg;
	snprintf(buf, sizeof(buf), "%s", message);
	buf[strcspn(buf, "\n")] = '\0';
	bk_log_mask(buf, sizeof(buf));
	bk_info("server: %s", buf);
}

/* "{oid,oid,...}" of the backed-up tables, for = ANY($1::oid[]). */
static char *oid_array(const struct bk_restore_plan *p)
{
	char *s = bk_xstrdup("{");

	for (size_t i = 0; i < p->n_tables; i++) {
		char *next = bk_asprintf("%s%s%u", s, i ? "," : "", p->tables[i].oid);

		free(s);
		s = next;
	}
	s = realloc(s, strlen(s) + 2);
	if (!s)
		abort();
	strcat(s, "}");
	return s;
}

/* Sequences of the table (owned by a column, or drawn from by a column's
 * default), qualified as the search path is empty, with that column. */
static const char q_sequences[] =
	"SELECT d.objid::pg_catalog.regclass::pg_catalog.text, pg_catalog.quote_ident(a.attname)"
	" FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class s ON s.oid = d.objid"
	" JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
	" WHERE s.relkind = 'S' AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
	" AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
	" AND d.refobjid = $1 AND d.deptype IN ('a', 'i')"
	" UNION"
	" SELECT d.refobjid::pg_catalog.regclass::pg_catalog.text, pg_catalog.quote_ident(a.attname)"
	" FROM pg_catalog.pg_attrdef ad JOIN pg_catalog.pg_depend d"
	" ON d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND d.objid = ad.oid"
	" AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
	" JOIN pg_catalog.pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'"
	" JOIN pg_catalog.pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum"
	" WHERE ad.adrelid = $1 ORDER BY 1, 2";

/*
 * New storage for a sequence, at the value it has: TRUNCATE ... RESTART
 * IDENTITY does the same for the tables it empties. A setval() is never
 * rolled back, but one on storage made in this transaction goes with it.
 */
static int sequence_renew(struct job *j, const char *seq)
{
	PGresult *res;
	char *sql = bk_asprintf("SELECT last_value, is_called FROM %s", seq);
	const char *params[3] = { seq, NULL, NULL };
	int ret = -1;

	res = bk_pg_query(j->conn, sql);
	free(sql);
	if (!res)
		return bk_err_prefix("cannot read sequence %s", seq);
	params[1] = PQgetvalue(res, 0, 0);
	params[2] = PQgetvalue(res, 0, 1);
	if (exec_fmt(j->conn, seq, "ALTER SEQUENCE %s RESTART", seq) == 0 &&
	    exec_count(j->conn, seq, "SELECT pg_catalog.setval($1::pg_catalog.regclass, "
		       "$2::pg_catalog.int8, $3::pg_catalog.bool)", 3, params) >= 0)
		ret = 0;
	PQclear(res);
	return ret;
}

/* A windowed table whose older rows stay: locked as TRUNCATE would, its
 * sequences renewed and remembered for sequences_past_rows(). */
static int keep_old_rows(struct job *j, const struct bk_restore_table *t)
{
	char oid[16], *q = quote_qname(j->conn, t);
	const char *params[1] = { oid };
	PGresult *res;
	int ret = -1;

	if (!q)
		return -1;
	if (exec_fmt(j->conn, t->qname, "LOCK TABLE %s IN ACCESS EXCLUSIVE MODE", q) < 0) {
		free(q);
		return -1;
	}
	free(q);
	snprintf(oid, sizeof(oid), "%u", t->oid);
	res = bk_pg_query_params(j->conn, q_sequences, 1, params);
	if (!res)
		return bk_err_prefix("cannot read the sequences of %s", t->qname);
	j->seqs = realloc(j->seqs, (j->n_seqs + (size_t)PQntuples(res) + 1) * sizeof(*j->seqs));
	if (!j->seqs)
		abort();
	for (int r = 0; r < PQntuples(res); r++) {
		struct seq *sq = &j->seqs[j->n_seqs++];

		sq->seq = bk_xstrdup(PQgetvalue(res, r, 0));
		sq->col = bk_xstrdup(PQgetvalue(res, r, 1));
		sq->table = t;
		if (sequence_renew(j, sq->seq) < 0)
			goto out;
	}
	ret = 0;
out:
	PQclear(res);
	return ret;
}

/*
 * After sequences.sql: the sequence of a windowed table must continue past
 * the rows it kept too (rows older than the window may have ids above the
 * backup's sequence value, say inserted with explicit ids).
 */
static int sequences_past_rows(struct job *j)
{
	for (size_t i = 0; i < j->n_seqs; i++) {
		const struct seq *sq = &j->seqs[i];
		const char *params[1] = { sq->seq };
		char *q = quote_qname(j->conn, sq->table), *sql;
		PGresult *res;

		if (!q)
			return -1;
		sql = bk_asprintf(
			"SELECT pg_catalog.setval($1::pg_catalog.regclass, x.m) "
			"FROM (SELECT pg_catalog.max(%s) AS m FROM %s) x, %s s, pg_catalog.pg_sequence p "
			"WHERE p.seqrelid = $1::pg_catalog.regclass AND p.seqincrement > 0 "
			"AND (x.m > s.last_value OR (x.m = s.last_value AND NOT s.is_called))",
			sq->col, q, sq->seq);
		free(q);
		res = bk_pg_query_params(j->conn, sql, 1, params);
		free(sql);
		if (!res)
			return bk_err_prefix("cannot move sequence %s past the rows kept", sq->seq);
		if (PQntuples(res))
			bk_info("sequence %s moved to %s, past the rows of %s kept", sq->seq,
				PQgetvalue(res, 0, 0), sq->table->qname);
		PQclear(res);
	}
	return 0;
}

/*
 * Ready the existing tables for a data-only load: foreign keys from or to
 * them dropped (added back, and so checked, after the load: any load order
 * works), their user triggers disabled (a restore is not new activity), and
 * the tables emptied, their sequences with them -- but windowed tables that
 * keep their older rows only locked, their sequences renewed.
 */
static int prepare_data_load(struct job *j)
{
	char *oids = oid_array(j->plan), *list = NULL, note[96] = "";
	size_t n_kept = 0;
	const char *params[1] = { oids };
	PGresult *res = NULL;
	int ret = -1;

	/* Names and definitions come back fully qualified. */
	if (exec_fmt(j->conn, "setting search_path", "%s",
		     "SELECT pg_catalog.set_config('search_path', '', true)") < 0)
		goto out;
	res = bk_pg_query_params(j->conn,
		"SELECT c.conrelid::pg_catalog.regclass::pg_catalog.text, "
		"pg_catalog.quote_ident(c.conname), pg_catalog.pg_get_constraintdef(c.oid) "
		"FROM pg_catalog.pg_constraint c WHERE c.contype = 'f' AND c.conparentid = 0 "
		"AND (c.conrelid = ANY($1::pg_catalog.oid[]) OR c.confrelid = ANY($1::pg_catalog.oid[])) "
		"ORDER BY 1, 2", 1, params);
	if (!res)
		goto out;
	j->fks = bk_xmalloc((size_t)PQntuples(res) * sizeof(*j->fks) + 1);
	for (int i = 0; i < PQntuples(res); i++) {
		struct fk *f = &j->fks[j->n_fks++];

		f->table = bk_xstrdup(PQgetvalue(res, i, 0));
		f->name = bk_xstrdup(PQgetvalue(res, i, 1));
		f->def = bk_xstrdup(PQgetvalue(res, i, 2));
		if (exec_fmt(j->conn, "dropping a foreign key for the load",
			     "ALTER TABLE %s DROP CONSTRAINT %s", f->table, f->name) < 0)
			goto out;
	}
	PQclear(res);
	res = bk_pg_query_params(j->conn,
		"SELECT t.tgrelid::pg_catalog.regclass::pg_catalog.text, "
		"pg_catalog.quote_ident(t.tgname), t.tgenabled "
		"FROM pg_catalog.pg_trigger t WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' "
		"AND t.tgrelid = ANY($1::pg_catalog.oid[]) ORDER BY 1, 2", 1, params);
	if (!res)
		goto out;
	j->trigs = bk_xmalloc((size_t)PQntuples(res) * sizeof(*j->trigs) + 1);
	for (int i = 0; i < PQntuples(res); i++) {
		struct trig *t = &j->trigs[j->n_trigs++];

		t->table = bk_xstrdup(PQgetvalue(res, i, 0));
		t->name = bk_xstrdup(PQgetvalue(res, i, 1));
		t->enabled = PQgetvalue(res, i, 2)[0];
		if (exec_fmt(j->conn, "disabling a trigger for the load",
			     "ALTER TABLE %s DISABLE TRIGGER %s", t->table, t->name) < 0)
			goto out;
	}
	list = bk_xstrdup("");
	for (size_t i = 0; i < j->plan->n_tables; i++) {
		const struct bk_restore_table *t = &j->plan->tables[i];
		char *q, *next;

		if (keeps_old_rows(j, t)) {
			if (keep_old_rows(j, t) < 0)
				goto out;
			n_kept++;
			continue;
		}
		if (!(q = quote_qname(j->conn, t)))
			goto out;
		next = bk_asprintf("%s%s%s", list, *list ? ", " : "", q);
		free(q);
		free(list);
		list = next;
	}
	/* RESTART IDENTITY gives the owned sequences new storage in this
	 * transaction: the data files' setval() calls, which are never rolled
	 * back by themselves, then go away with a failed restore. */
	if (*list && exec_fmt(j->conn, "emptying the backed-up tables",
			      "TRUNCATE %s RESTART IDENTITY", list) < 0)
		goto out;
	if (n_kept)
		snprintf(note, sizeof(note), "; %zu windowed tables keep their rows older than "
			 "the window", n_kept);
	bk_info("dropped %zu foreign keys and disabled %zu triggers for the load; "
		"emptied %zu tables%s", j->n_fks, j->n_trigs, j->plan->n_tables - n_kept, note);
	ret = 0;
out:
	PQclear(res);
	free(oids);
	free(list);
	return ret;
}

/* Undo prepare_data_load's changes to the schema: triggers, foreign keys. */
static int finish_data_load(struct job *j)
{
	for (size_t i = 0; i < j->n_trigs; i++) {
		const struct trig *t = &j->trigs[i];

		if (exec_fmt(j->conn, "enabling a trigger again", "ALTER TABLE %s ENABLE %sTRIGGER %s",
			     t->table, t->enabled == 'R' ? "REPLICA " : t->enabled == 'A' ?
			     "ALWAYS " : "", t->name) < 0)
			return -1;
	}
	for (size_t i = 0; i < j->n_fks; i++) {
		const struct fk *f = &j->fks[i];
		char *what = bk_asprintf("foreign key %s on %s", f->name, f->table);
		int rc = exec_fmt(j->conn, what, "ALTER TABLE %s ADD CONSTRAINT %s %s",
				  f->table, f->name, f->def);

		free(what);
		if (rc < 0) {
			bk_err_hint("rows of the database that are not in the backup refer to "
				    "rows that the backup does not have; the database is unchanged");
			return -1;
		}
	}
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* Load one data file and check its rows against MANIFEST. */
static int load_file(struct job *j, const struct bk_manifest_entry *e)
{
	const struct bk_restore_table *only = NULL;
	struct load_result lr = { 0 };
	long long want = 0;
	double t0 = bk_monotonic();
	int n = 0, ret = -1;

	for (size_t i = 0; i < j->plan->n_tables; i++)
		if (!strcmp(j->plan->tables[i].file, e->path)) {
			only = &j->plan->tables[i];
			want += only->rows;
			n++;
		}
	if (ends_with(e->path, ".csv")) {
		if (n != 1)
			return bk_err_set("MANIFEST: %s must hold exactly one table, not %d", e->path, n);
		if (load_csv(j, only, &lr) < 0)
			goto out;
	} else if (ends_with(e->path, ".sql")) {
		if (load_sql(j, e->path, &lr) < 0)
			goto out;
	} else {
		return bk_err_set("%s: a data file must be .sql or .csv", e->path);
	}
	for (size_t i = 0; i < lr.n; i++) {
		const struct bk_restore_table *t = table_of_copy(j, e->path, lr.copies[i].target);

		if (t && t->rows != lr.copies[i].rows) {
			bk_err_set("%s: %lld rows loaded into %s, MANIFEST says %lld", e->path,
				   lr.copies[i].rows, t->qname, t->rows);
			goto out;
		}
	}
	if (lr.rows != want || (e->rows >= 0 && lr.rows != e->rows)) {
		bk_err_set("%s: %lld rows loaded, MANIFEST says %lld", e->path, lr.rows,
			   e->rows >= 0 ? e->rows : want);
		goto out;
	}
	bk_info("loaded %s: %lld rows in %.2f s", e->path, lr.rows, bk_monotonic() - t0);
	j->tables_done += (size_t)n;
	j->bytes_done += e->bytes;
	bk_progress_update(j->bytes_done, j->bytes_all, j->tables_done, j->plan->n_tables,
			   "tables");
	ret = 0;
out:
	load_result_free(&lr);
	return ret;
}

static int has_tables(const struct bk_restore_plan *p, const char *file)
{
	for (size_t i = 0; i < p->n_tables; i++)
		if (!strcmp(p->tables[i].file, file))
			return 1;
	return 0;
}

static int restore_in_transaction(struct job *j, struct bk_restore_times *times)
{
	struct bk_restore_plan *p = j->plan;
	double t0 = bk_monotonic(), t1;

	if (exec_fmt(j->conn, "setting up the session", "%s",
		     "SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0; "
		     "SET LOCAL idle_in_transaction_session_timeout = 0") < 0 ||
	    bk_restore_probe(p, j->conn) < 0)
		return -1;
	if (p->mode == BK_RESTORE_DATA && p->n_populated && j->replace == BK_REPLACE_NONE) {
		bk_err_set("%d of the backed-up tables in %s hold rows: refusing to restore "
			   "over them", p->n_populated, bk_pg_dbname());
		bk_err_hint("--replace replaces their rows with the backup's in one transaction "
			    "(windowed tables keep their rows older than the window), "
			    "--replace-all empties them first; or restore into an empty database");
		return BK_RESTORE_REFUSED;
	}
	if (p->mode == BK_RESTORE_FULL) {
		if (!bk_manifest_find(j->m, "schema.sql"))
			return bk_err_set("the backup has no schema.sql: cannot create the tables");
		bk_info("restoring into an empty database: schema, data, post-data");
		bk_progress_phase("schema");
		if (run_schema(j->conn, j->files, "schema.sql") < 0)
			return -1;
	} else {
		bk_info("the tables exist: loading data only%s",
			p->n_populated ? " (replacing their rows)" : "");
		if (prepare_data_load(j) < 0)
			return -1;
	}
	t1 = bk_monotonic();
	times->schema = t1 - t0;
	for (size_t i = 0; i < j->m->n_entries; i++)
		if (j->m->entries[i].rows >= 0)
			j->bytes_all += j->m->entries[i].bytes;
	bk_progress_phase("data");
	for (size_t i = 0; i < j->m->n_entries; i++)
		if (has_tables(p, j->m->entries[i].path) && load_file(j, &j->m->entries[i]) < 0)
			return -1;
	if (bk_manifest_find(j->m, "sequences.sql")) {
		struct load_result lr = { 0 };
		int rc = load_sql(j, "sequences.sql", &lr);

		load_result_free(&lr);
		if (rc < 0)
			return -1;
	}
	if (sequences_past_rows(j) < 0)
		return -1;
	t0 = bk_monotonic();
	times->data = t0 - t1;
	bk_progress_phase("post-data");
	if (p->mode == BK_RESTORE_FULL) {
		if (bk_manifest_find(j->m, "schema-post.sql") &&
		    run_schema(j->conn, j->files, "schema-post.sql") < 0)
			return -1;
	} else if (finish_data_load(j) < 0) {
		return -1;
	}
	if (exec_fmt(j->conn, "COMMIT", "%s", "COMMIT") < 0) {
		if (PQstatus(j->conn) == CONNECTION_BAD)
			bk_err_hint("the connection broke during COMMIT: check the database "
				    "before trying again");
		return -1;
	}
	times->post = bk_monotonic() - t0;
	return 0;
}

/* A .csv file: one table, a header of column names. */
static int check_csv(PGconn *conn, const struct bk_restore_plan *p,
		     const struct bk_extract_files *files, const char *name)
{
	struct bk_reader r;
	char *cols = NULL;
	int n = 0, ret;

	for (size_t i = 0; i < p->n_tables; i++)
		n += !strcmp(p->tables[i].file, name);
	if (n != 1)
		return bk_err_set("MANIFEST: %s must hold exactly one table, not %d", name, n);
	if (bk_reader_open(&r, files, name) < 0)
		return -1;
	ret = bk_reader_fill(&r, CHUNK) < 0 || bk_reader_csv_header(conn, &r, &cols) < 0 ? -1 : 0;
	free(cols);
	bk_reader_close(&r);
	return ret;
}

/*
 * Before anything runs, every file the restore may read: data files and
 * sequences.sql hold only what bk-export writes there; schema files, which
 * may hold any SQL (they are trusted through the archive's signature), no
 * psql meta-command.
 */
static int check_files(struct job *j)
{
	static const char *const schema[] = { "schema.sql", "schema-post.sql" };
	const struct bk_manifest *m = j->m;

	for (size_t i = 0; i < m->n_entries; i++) {
		const char *path = m->entries[i].path;
		int rc;

		if (!has_tables(j->plan, path) && strcmp(path, "sequences.sql"))
			continue;
		if (ends_with(path, ".csv"))
			rc = check_csv(j->conn, j->plan, j->files, path);
		else if (ends_with(path, ".sql"))
			rc = check_data_file(j->plan, j->files, path);
		else
			rc = bk_err_set("%s: a data file must be .sql or .csv", path);
		if (rc < 0) {
			if (!*bk_err_hint_text())
				bk_err_hint("nothing was run; a data file holds only COPY blocks "
					    "into its tables and bk-export's setval and SET lines: "
					    "this archive was changed after it was made");
			return -1;
		}
	}
	for (size_t i = 0; i < sizeof(schema) / sizeof(*schema); i++)
		if (bk_manifest_find(m, schema[i]) && run_schema(NULL, j->files, schema[i]) < 0) {
			if (!*bk_err_hint_text())
				bk_err_hint("nothing was run");
			return -1;
		}
	return 0;
}

int bk_restore_keep(const struct bk_manifest *m, const char *path)
{
	const char *v;
	size_t i = 0, n = strlen(path);

	if (!strcmp(path, "schema.sql") || !strcmp(path, "schema-post.sql") ||
	    !strcmp(path, "sequences.sql"))
		return 1;
	while ((v = bk_manifest_meta_next(m, "table", &i)) != NULL)
		if (!strncmp(v, path, n) && v[n] == ' ')
			return 1;
	return 0;
}

int bk_restore(PGconn *conn, const struct bk_extract_files *files, const struct bk_manifest *m,
	       enum bk_restore_replace replace, struct bk_restore_plan *plan,
	       struct bk_restore_times *times)
{
	struct job j = { 0 };
	int ret;

	memset(times, 0, sizeof(*times));
	j.conn = conn;
	j.files = files;
	j.m = m;
	j.plan = plan;
	j.replace = replace;
	PQsetNoticeProcessor(conn, notice, NULL);
	if (PQsetClientEncoding(conn, "UTF8") != 0)
		return bk_err_set("cannot set the client encoding to UTF8: %s", PQerrorMessage(conn));
	if (check_files(&j) < 0)
		return -1;
	if (exec_fmt(conn, "BEGIN", "%s", "BEGIN") < 0)
		return -1;
	ret = restore_in_transaction(&j, times);
	if (ret < 0 && PQstatus(conn) == CONNECTION_OK &&
	    PQtransactionStatus(conn) != PQTRANS_IDLE) {
		PGresult *res = PQexec(conn, "ROLLBACK");

		PQclear(res);
	}
	job_free(&j);
	return ret;
}
