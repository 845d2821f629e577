/* The content check of the restore test (see content.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "err.h"
#include "fs.h"
#include "pg.h"
#include "reader.h"
#include "content.h"

#define MAX_ROW (1024UL * 1024 * 1024)	/* PostgreSQL's limit for a row */

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

static void digest_add(struct bk_content_digest *d, const unsigned char md[32])
{
	for (int i = 0; i < 4; i++) {
		unsigned long long v = 0;

		for (int k = 0; k < 8; k++)
			v = v << 8 | md[i * 8 + k];
		d->lane[i] += v;
	}
	d->rows++;
}

/* One row, given whole. */
static int digest_row(EVP_MD_CTX *ctx, struct bk_content_digest *d, const void *row, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];

	if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) || !EVP_DigestUpdate(ctx, row, len) ||
	    !EVP_DigestFinal_ex(ctx, md, NULL))
		return bk_err_set("SHA-256 failed");
	digest_add(d, md);
	return 0;
}

/* ---- the archive's side ---- */

static struct bk_content_table *copy_table(struct bk_content *c, const char *file,
					   const char *line, size_t len)
{
	for (size_t i = 0; i < c->n; i++) {
		struct bk_content_table *ct = &c->tables[i];
		size_t ql = strlen(ct->t->qname);
		const char *rest = line + 5 + ql, *end;

		if (strcmp(ct->t->file, file) || len <= 5 + ql || memcmp(line + 5, ct->t->qname, ql) ||
		    *rest != ' ')
			continue;
		rest++;
		end = strstr(rest, " FROM stdin;");
		if (!ct->cols)
			ct->cols = *rest == '(' && end ? bk_asprintf("%.*s", (int)(end - rest), rest)
						       : bk_xstrdup("");
		return ct;
	}
	return NULL;
}

static int is_end_line(const char *line, size_t len)
{
	return (len == 3 && !memcmp(line, "\\.\n", 3)) || (len == 2 && !memcmp(line, "\\.", 2));
}

/* A .sql data file: the lines of its COPY blocks are rows. */
static int read_sql(struct bk_content *c, const char *file, const struct bk_extract_files *files,
		    EVP_MD_CTX *ctx)
{
	struct bk_content_table *cur = NULL;
	struct bk_reader r;
	int ret = -1;

	if (bk_reader_open(&r, files, file) < 0)
		return -1;
	for (;;) {
		ssize_t len = bk_reader_line(&r, MAX_ROW);
		const char *line = r.buf + r.start;

		if (len < 0)
			goto out;
		if (len == 0)
			break;
		if (cur) {
			if (is_end_line(line, (size_t)len))
				cur = NULL;
			else if (digest_row(ctx, &cur->archive, line, (size_t)len) < 0)
				goto out;
		} else if (len > 5 && !memcmp(line, "COPY ", 5)) {
			if (!(cur = copy_table(c, file, line, (size_t)len))) {
				bk_err_set("%s line %ld: a COPY into a table MANIFEST does not list "
					   "in this file", file, r.lineno);
				goto out;
			}
		}
		r.start += (size_t)len;
		r.lineno++;
	}
	if (cur) {
		bk_err_set("%s: the COPY block of %s has no end line", file, cur->t->qname);
		goto out;
	}
	ret = 0;
out:
	bk_reader_close(&r);
	return ret;
}

static size_t count_quotes(const char *s, size_t len)
{
	size_t n = 0;

	for (const char *p = s; (p = memchr(p, '"', len - (size_t)(p - s))) != NULL; p++)
		n++;
	return n;
}

/* A .csv file: its header, then records (a quoted field may hold newlines:
 * a record ends at a newline outside quotes; "" inside quotes toggles twice). */
static int read_csv(struct bk_content_table *ct, const struct bk_extract_files *files,
		    PGconn *conn, EVP_MD_CTX *ctx)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	struct bk_reader r;
	size_t start;
	int ret = -1, quoted = 0, open = 0;

	if (bk_reader_open(&r, files, ct->t->file) < 0)
		return -1;
	if (bk_reader_fill(&r, BK_READER_CHUNK) < 0)
		goto out;
	start = r.start;
	free(ct->cols);
	if (bk_reader_csv_header(conn, &r, &ct->cols) < 0)
		goto out;
	ct->header = bk_asprintf("%.*s", (int)(r.start - start), r.buf + start);
	for (;;) {
		ssize_t len = bk_reader_line(&r, MAX_ROW);
		const char *line = r.buf + r.start;

		if (len < 0)
			goto out;
		if (len == 0)
			break;
		if (!open && !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
			goto sha;
		open = 1;
		if (!EVP_DigestUpdate(ctx, line, (size_t)len))
			goto sha;
		quoted ^= (int)(count_quotes(line, (size_t)len) & 1);
		if (!quoted) {
			if (!EVP_DigestFinal_ex(ctx, md, NULL))
				goto sha;
			digest_add(&ct->archive, md);
			open = 0;
		}
		r.start += (size_t)len;
		r.lineno++;
	}
	if (open) {
		bk_err_set("%s: the last record is not terminated", ct->t->file);
		goto out;
	}
	ret = 0;
	goto out;
sha:
	bk_err_set("SHA-256 failed");
out:
	bk_reader_close(&r);
	return ret;
}

int bk_content_read_archive(struct bk_content *c, const struct bk_restore_plan *plan,
			    const struct bk_extract_files *files, PGconn *conn)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ret = -1;

	memset(c, 0, sizeof(*c));
	if (!ctx)
		return bk_err_set("out of memory");
	c->n = plan->n_tables;
	c->tables = calloc(c->n ? c->n : 1, sizeof(*c->tables));
	if (!c->tables)
		abort();
	for (size_t i = 0; i < c->n; i++) {
		c->tables[i].t = &plan->tables[i];
		c->tables[i].csv = ends_with(plan->tables[i].file, ".csv");
	}
	for (size_t i = 0; i < c->n; i++) {
		const char *file = c->tables[i].t->file;
		int seen = 0;

		/* each .sql file once: at its first table */
		for (size_t k = 0; k < i && !seen; k++)
			seen = !strcmp(c->tables[k].t->file, file);
		if (seen)
			continue;
		if (c->tables[i].csv ? read_csv(&c->tables[i], files, conn, ctx) < 0
				     : read_sql(c, file, files, ctx) < 0)
			goto out;
	}
	ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	return ret;
}

/* ---- the database's side ---- */

/* bk-export's output settings (export.c ex_session_setup), and the zone and
 * money format of the backed-up server. */
static int session_setup(PGconn *conn, const char *timezone, const char *lc_monetary)
{
	const char *const params[2] = { timezone, lc_monetary };
	PGresult *res;

	if (PQsetClientEncoding(conn, "UTF8") != 0)
		return bk_err_set("cannot set the client encoding: %s", PQerrorMessage(conn));
	if (bk_pg_exec(conn, "SET DateStyle = ISO; SET IntervalStyle = postgres;"
		       " SET extra_float_digits = 3; SET statement_timeout = 0") < 0)
		return -1;
	if (timezone) {
		res = bk_pg_query_params(conn, "SELECT pg_catalog.set_config('TimeZone', $1, false)",
					 1, params);
		if (!res)
			return -1;
		PQclear(res);
	}
	if (lc_monetary) {
		res = bk_pg_query_params(conn, "SELECT pg_catalog.set_config('lc_monetary', $1, false)",
					 1, params + 1);
		if (!res)
			return -1;
		PQclear(res);
	}
	return 0;
}

/* "ONLY " unless the table is partitioned (COPY of its parent reads them
 * all); NULL with the slot set when it is not in the database. */
static const char *only_of(PGconn *conn, const char *qname)
{
	const char *const params[1] = { qname };
	PGresult *res = bk_pg_query_params(conn, "SELECT c.relkind FROM pg_catalog.pg_class c"
					   " WHERE c.oid = pg_catalog.to_regclass($1)", 1, params);
	const char *only = NULL;

	if (!res)
		return NULL;
	if (PQntuples(res) != 1)
		bk_err_set("table %s is missing from the restored database", qname);
	else
		only = PQgetvalue(res, 0, 0)[0] == 'p' ? "" : "ONLY ";
	PQclear(res);
	return only;
}

static int copy_rows(PGconn *conn, struct bk_content_table *ct, const char *sql, EVP_MD_CTX *ctx)
{
	PGresult *res = PQexec(conn, sql);
	char *row;
	int n, ret = 0, first = ct->csv;

	if (PQresultStatus(res) != PGRES_COPY_OUT) {
		bk_err_set("cannot read %s back: %s", ct->t->qname, PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	while ((n = PQgetCopyData(conn, &row, 0)) > 0) {
		if (first)
			ct->db_header = bk_asprintf("%.*s", n, row);
		else if (ret == 0)
			ret = digest_row(ctx, &ct->db, row, (size_t)n);
		first = 0;
		PQfreemem(row);
	}
	if (n == -2)
		ret = bk_err_set("cannot read %s back: %s", ct->t->qname, PQerrorMessage(conn));
	while ((res = PQgetResult(conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && ret == 0)
			ret = bk_err_set("cannot read %s back: %s", ct->t->qname,
					 PQresultErrorMessage(res));
		PQclear(res);
	}
	return ret;
}

static char *unparen(const char *cols)
{
	size_t n = strlen(cols);

	if (n >= 2 && cols[0] == '(' && cols[n - 1] == ')')
		return bk_asprintf("%.*s", (int)(n - 2), cols + 1);
	return bk_xstrdup(cols);
}

int bk_content_read_database(struct bk_content *c, PGconn *conn, const char *timezone,
			     const char *lc_monetary)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ret = -1;

	if (!ctx)
		return bk_err_set("out of memory");
	if (session_setup(conn, timezone, lc_monetary) < 0)
		goto out;
	for (size_t i = 0; i < c->n; i++) {
		struct bk_content_table *ct = &c->tables[i];
		char *schema = bk_pg_ident(conn, ct->t->schema), *name = bk_pg_ident(conn, ct->t->name);
		char *cols = unparen(ct->cols ? ct->cols : ""), *sql = NULL;
		const char *only = schema && name ? only_of(conn, ct->t->qname) : NULL;
		int rc = -1;

		if (only) {
			sql = bk_asprintf("COPY (SELECT %s FROM %s%s.%s) TO STDOUT%s", cols, only,
					  schema, name, ct->csv ? " WITH (FORMAT csv, HEADER)" : "");
			rc = copy_rows(conn, ct, sql, ctx);
		}
		free(schema);
		free(name);
		free(cols);
		free(sql);
		if (rc < 0)
			goto out;
	}
	ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	return ret;
}

int bk_content_compare(const struct bk_content *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct bk_content_table *ct = &c->tables[i];
		const char *q = ct->t->qname;

		if (ct->archive.rows != ct->t->rows)
			return bk_err_set("%s: %s holds %lld rows of it, MANIFEST says %lld", q,
					  ct->t->file, ct->archive.rows, ct->t->rows);
		if (ct->db.rows != ct->t->rows)
			return bk_err_set("%s: %lld rows restored, MANIFEST says %lld", q,
					  ct->db.rows, ct->t->rows);
		if (ct->csv && (!ct->db_header || strcmp(ct->header, ct->db_header)))
			return bk_err_set("%s: the restored columns differ from the header of %s", q,
					  ct->t->file);
		if (memcmp(ct->archive.lane, ct->db.lane, sizeof(ct->db.lane)))
			return bk_err_set("%s: the restored rows differ from those of %s (same "
					  "count, %lld, different content digest)", q, ct->t->file,
					  ct->db.rows);
	}
	return 0;
}

void bk_content_free(struct bk_content *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->tables[i].cols);
		free(c->tables[i].header);
		free(c->tables[i].db_header);
	}
	free(c->tables);
	memset(c, 0, sizeof(*c));
}
