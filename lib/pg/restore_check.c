/* Post-data and sequence checks of a restored database (see restore_check.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fs.h"
#include "pg.h"
#include "reader.h"
#include "restore_check.h"

#define MAX_POST_LINE (64UL * 1024 * 1024)

/* A text[] literal of names, built as they come: {"a","b"}. */
struct names {
	char *s;
	size_t len, cap;
	long n;
};

static void names_add(struct names *a, const char *name, size_t len)
{
	size_t need = a->len + 2 * len + 8;

	if (need > a->cap) {
		a->cap = need * 2;
		a->s = realloc(a->s, a->cap);
		if (!a->s)
			abort();
	}
	a->s[a->len++] = a->n++ ? ',' : '{';
	a->s[a->len++] = '"';
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '"' || name[i] == '\\')
			a->s[a->len++] = '\\';
		a->s[a->len++] = name[i];
	}
	a->s[a->len++] = '"';
	a->s[a->len] = '\0';
}

/* The literal, "{}" when empty (not owned by the caller). */
static const char *names_literal(struct names *a)
{
	if (!a->n)
		return "{}";
	a->s[a->len] = '}';
	a->s[a->len + 1] = '\0';
	return a->s;
}

/* The identifier at s (pg_dump's: quoted with "" inside, or plain), unquoted
 * into name; 0, or -1 if there is none. */
static int ident_at(const char *s, const char *end, char *name, size_t size)
{
	size_t n = 0;

	if (s < end && *s == '"') {
		for (s++; s < end && n + 1 < size; s++) {
			if (*s == '"' && !(s + 1 < end && s[1] == '"'))
				break;
			if (*s == '"')
				s++;
			name[n++] = *s;
		}
	} else {
		for (; s < end && n + 1 < size && !strchr(" ;(\n\r\t", *s); s++)
			name[n++] = *s;
	}
	name[n] = '\0';
	return n ? 0 : -1;
}

/* Sort one line of schema-post.sql into the constraint or index lists. */
static void post_line(const char *line, size_t len, struct names *valid, struct names *any,
		      struct names *indexes)
{
	static const char *const kw[] = { "ADD CONSTRAINT ", "CREATE INDEX ", "CREATE UNIQUE INDEX " };
	const char *end = line + len, *p = line;
	char name[256];

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (size_t k = 0; k < 3; k++) {
		size_t kl = strlen(kw[k]);

		if ((size_t)(end - p) <= kl || memcmp(p, kw[k], kl) ||
		    ident_at(p + kl, end, name, sizeof(name)) < 0)
			continue;
		if (k > 0)
			names_add(indexes, name, strlen(name));
		else if (memmem(line, len, " NOT VALID", 10))
			names_add(any, name, strlen(name));
		else
			names_add(valid, name, strlen(name));
		return;
	}
}

/* The first name of the list the query (with $1 the list) returns, if any. */
static int first_missing(PGconn *conn, const char *sql, struct names *list, const char *what)
{
	const char *params[1] = { names_literal(list) };
	PGresult *res;
	int ret = 0;

	if (!list->n)
		return 0;
	if (!(res = bk_pg_query_params(conn, sql, 1, params)))
		return bk_err_prefix("cannot check the %ss", what);
	if (PQntuples(res) > 0)
		ret = bk_err_set("%s %s of schema-post.sql is %s in the restored database", what,
				 PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	PQclear(res);
	return ret;
}

int bk_restore_check_post(PGconn *conn, const struct bk_extract_files *files, long *n_checked)
{
	struct names valid = { 0 }, any = { 0 }, indexes = { 0 };
	struct bk_reader r;
	int ret = -1;

	*n_checked = 0;
	if (bk_reader_open(&r, files, "schema-post.sql") < 0)
		return -1;
	for (;;) {
		ssize_t len = bk_reader_line(&r, MAX_POST_LINE);

		if (len < 0)
			goto out;
		if (len == 0)
			break;
		post_line(r.buf + r.start, (size_t)len, &valid, &any, &indexes);
		r.start += (size_t)len;
	}
	if (first_missing(conn, "SELECT n, CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c"
			  " WHERE c.conname = n) THEN 'not validated' ELSE 'missing' END"
			  " FROM pg_catalog.unnest($1::text[]) n WHERE NOT EXISTS (SELECT 1 FROM"
			  " pg_catalog.pg_constraint c WHERE c.conname = n AND c.convalidated)"
			  " LIMIT 1", &valid, "constraint") < 0 ||
	    first_missing(conn, "SELECT n, 'missing' FROM pg_catalog.unnest($1::text[]) n"
			  " WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c"
			  " WHERE c.conname = n) LIMIT 1", &any, "constraint") < 0 ||
	    first_missing(conn, "SELECT n, CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_class i"
			  " WHERE i.relname = n AND i.relkind IN ('i', 'I')) THEN 'not valid'"
			  " ELSE 'missing' END FROM pg_catalog.unnest($1::text[]) n"
			  " WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class i JOIN"
			  " pg_catalog.pg_index x ON x.indexrelid = i.oid WHERE i.relname = n AND"
			  " x.indisvalid AND x.indisready) LIMIT 1", &indexes, "index") < 0)
		goto out;
	*n_checked = valid.n + any.n + indexes.n;
	ret = 0;
out:
	bk_reader_close(&r);
	free(valid.s);
	free(any.s);
	free(indexes.s);
	return ret;
}

/* The sequences owned by integer columns: sequence, table, column, increment. */
static const char q_owned[] =
	"SELECT pg_catalog.format('%I.%I', sn.nspname, sc.relname),"
	" pg_catalog.format('%I.%I', tn.nspname, tc.relname), pg_catalog.quote_ident(a.attname),"
	" s.seqincrement"
	" FROM pg_catalog.pg_sequence s"
	" JOIN pg_catalog.pg_class sc ON sc.oid = s.seqrelid"
	" JOIN pg_catalog.pg_namespace sn ON sn.oid = sc.relnamespace"
	" JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
	"  AND d.objid = s.seqrelid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass"
	"  AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')"
	" JOIN pg_catalog.pg_class tc ON tc.oid = d.refobjid"
	" JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace"
	" JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
	" WHERE a.atttypid IN ('pg_catalog.int2'::pg_catalog.regtype,"
	"  'pg_catalog.int4'::pg_catalog.regtype, 'pg_catalog.int8'::pg_catalog.regtype)"
	" ORDER BY 1";

static int sequence_ahead(PGconn *conn, const char *seq, const char *table, const char *col,
			  const char *inc)
{
	int up = inc[0] != '-';
	char *sql = bk_asprintf("SELECT m IS NULL OR nx %s m, nx, m FROM (SELECT (SELECT %s(%s)::"
				"pg_catalog.numeric FROM %s) m, (SELECT CASE WHEN is_called THEN"
				" last_value::pg_catalog.numeric + %s ELSE last_value END FROM %s)"
				" nx) q", up ? ">" : "<", up ? "max" : "min", col, table, inc, seq);
	PGresult *res = bk_pg_query(conn, sql);
	int ret = 0;

	free(sql);
	if (!res)
		return bk_err_prefix("cannot check sequence %s", seq);
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "t"))
		ret = bk_err_set("sequence %s is behind %s.%s: its next value %s, the column's %s "
				 "value %s", seq, table, col, PQgetvalue(res, 0, 1),
				 up ? "highest" : "lowest", PQgetvalue(res, 0, 2));
	PQclear(res);
	return ret;
}

int bk_restore_check_sequences(PGconn *conn, long *n_checked)
{
	PGresult *res = bk_pg_query(conn, q_owned);
	int ret = 0;

	*n_checked = 0;
	if (!res)
		return bk_err_prefix("cannot list the sequences");
	for (int i = 0; i < PQntuples(res) && ret == 0; i++) {
		ret = sequence_ahead(conn, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
				     PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
		++*n_checked;
	}
	PQclear(res);
	return ret;
}
