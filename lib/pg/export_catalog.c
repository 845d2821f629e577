/*
 * bk-export's catalog work: every table of the database in one class (full,
 * window, added, omitted) by the scope's FILE lines and rules, a file for
 * each backed-up table, and the queries that give a window its older rows
 * that backed-up rows reference (the foreign-key closure), so that every
 * archive that verifies also restores with all its constraints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "export_int.h"
#include "fs.h"
#include "log.h"

/* A window query longer than this is a schema we do not follow: full instead. */
#define WHERE_MAX (256 * 1024)
/* Omitted tables up to this many pages are counted, not estimated. */
#define COUNT_PAGES 1280

static const char *const generated_files[] = {
	"schema.sql", "schema-post.sql", "referenced.sql", "sequences.sql", "MANIFEST",
	"MANIFEST.minisig", "BACKUP_INFO.txt", NULL
};

/* Every table bk can back up: not a partition (its root holds its rows), not
 * temporary, not in a system schema. Leaves' pages and row estimates summed. */
static const char q_tables[] =
	"SELECT c.oid, c.relkind, n.nspname, c.relname,"
	" pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname),"
	/* the catalog only: a lock held on a table must not stop us before the
	 * snapshot; pg_partition_tree lists nothing for a plain table */
	" CASE WHEN c.relkind = 'r' THEN GREATEST(c.relpages, 0)::pg_catalog.int8"
	" ELSE (SELECT COALESCE(pg_catalog.sum(GREATEST(p.relpages, 0)), 0)::pg_catalog.int8"
	"  FROM pg_catalog.pg_partition_tree(c.oid) t JOIN pg_catalog.pg_class p ON p.oid = t.relid)"
	" END,"
	" CASE WHEN c.relkind = 'r' THEN c.reltuples::pg_catalog.int8"
	" ELSE (SELECT CASE WHEN pg_catalog.bool_or(p.reltuples < 0) THEN -1"
	"  ELSE COALESCE(pg_catalog.sum(p.reltuples), 0) END::pg_catalog.int8"
	"  FROM pg_catalog.pg_partition_tree(c.oid) t JOIN pg_catalog.pg_class p ON p.oid = t.relid"
	"  WHERE p.relkind = 'r') END,"
	" (SELECT e.extname FROM pg_catalog.pg_depend d"
	"  JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid"
	"  WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid"
	"  AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e'"
	"  LIMIT 1)"
	" FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
	" WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence <> 't'"
	" AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'"
	" ORDER BY n.nspname, c.relname";

/* A FILE line's name, the way the server resolves it (search_path). */
static const char q_resolve[] =
	"SELECT c.oid, c.relkind, c.relispartition FROM pg_catalog.pg_class c"
	" WHERE c.oid = pg_catalog.to_regclass(COALESCE(pg_catalog.quote_ident($1) || '.', '')"
	" || pg_catalog.quote_ident($2))";

/* The same name written in another case: "ApiKey" for apikey. */
static const char q_other_case[] =
	"SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)"
	" FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
	" WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
	" AND pg_catalog.lower(c.relname) = pg_catalog.lower($2) AND c.relname <> $2"
	" AND ($1::pg_catalog.text IS NULL OR pg_catalog.lower(n.nspname) = pg_catalog.lower($1))"
	" ORDER BY 1 LIMIT 3";

static const char q_since[] =
	"SELECT pg_catalog.quote_ident(a.attname),"
	" CASE a.atttypid WHEN 'pg_catalog.timestamptz'::pg_catalog.regtype THEN 'z'"
	" WHEN 'pg_catalog.timestamp'::pg_catalog.regtype THEN 't'"
	" WHEN 'pg_catalog.date'::pg_catalog.regtype THEN 'd' ELSE '' END,"
	" pg_catalog.format_type(a.atttypid, a.atttypmod)"
	" FROM pg_catalog.pg_attribute a"
	" WHERE a.attrelid = $1 AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped";

/* Foreign keys, one row per column pair, ends mapped to their partition root. */
static const char q_fks[] =
	"SELECT k.oid, COALESCE(pg_catalog.pg_partition_root(k.conrelid)::pg_catalog.oid, k.conrelid),"
	" COALESCE(pg_catalog.pg_partition_root(k.confrelid)::pg_catalog.oid, k.confrelid),"
	" a.attname, b.attname"
	" FROM pg_catalog.pg_constraint k CROSS JOIN"
	" LATERAL ROWS FROM (pg_catalog.unnest(k.conkey), pg_catalog.unnest(k.confkey))"
	" WITH ORDINALITY u(f, r, i)"
	" JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.f"
	" JOIN pg_catalog.pg_attribute b ON b.attrelid = k.confrelid AND b.attnum = u.r"
	" WHERE k.contype = 'f' AND k.conparentid = 0"
	" ORDER BY k.oid, u.i";

/* pg_partition_tree lists nothing for a table that is not partitioned: its
 * own size is added (a partitioned table's own is 0). */
static const char q_describe[] =
	"SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname),"
	" ((SELECT COALESCE(pg_catalog.sum(pg_catalog.pg_relation_size(t.relid)), 0)::pg_catalog.int8"
	"  FROM pg_catalog.pg_partition_tree(c.oid) t)"
	"  + CASE WHEN c.relkind = 'p' THEN 0 ELSE pg_catalog.pg_relation_size(c.oid) END) / 8192"
	" FROM pg_catalog.pg_class c"
	" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1";

static const char q_columns[] =
	"SELECT pg_catalog.quote_ident(a.attname), a.attname FROM pg_catalog.pg_attribute a"
	" WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''"
	" ORDER BY a.attnum";

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

const char *ex_class_name(enum ex_class c)
{
	static const char *const names[] = { "full", "window", "added", "omitted" };

	return names[c];
}

int ex_backed_up(const struct table *t)
{
	return t->cls != EX_OMITTED;
}

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

static unsigned int oid_of(const char *s)
{
	return (unsigned int)strtoul(s, NULL, 10);
}

/*
 * MANIFEST, the dumps' checks and the restore read one name per line: a table
 * or column name with a control character (a line break above all) would
 * make every backup fail verification. Refused, naming it, before the export
 * writes anything. (Issue 13 item 4; the one check of this kind here.)
 */
static const char q_control_columns[] =
	"SELECT a.attrelid, a.attname FROM pg_catalog.pg_attribute a"
	" WHERE a.attrelid = ANY ($1::pg_catalog.oid[]) AND a.attnum > 0"
	" AND NOT a.attisdropped AND a.attname ~ '[\\x01-\\x1f\\x7f]'"
	" ORDER BY a.attrelid, a.attnum LIMIT 1";

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int refuse_control_names(struct export *x)
{
	static const char why[] = "the name has a control character (line break, tab, ...), "
				  "which bk's line-based MANIFEST and checks cannot carry";
	char shown[512], col[256], *oids = bk_xmalloc(x->nt * 11 + 3);
	const char *params[1] = { oids };
	size_t len = 0;
	PGresult *res;
	int ret = -1;

	oids[len++] = '{';
	for (size_t i = 0; i < x->nt; i++) {
		len += (size_t)sprintf(oids + len, "%s%u", i ? "," : "", x->t[i].oid);
		if (!has_control(x->t[i].schema) && !has_control(x->t[i].name))
			continue;
		bk_escape_controls(x->t[i].qname, shown, sizeof(shown));
		bk_err_set("table %s: %s", shown, why);
		bk_err_hint("rename the table (ALTER TABLE ... RENAME TO ...)");
		goto out;
	}
	strcpy(oids + len, "}");
	res = ex_query(x, q_control_columns, 1, params, "cannot read the column names");
	if (!res)
		goto out;
	if (PQntuples(res) > 0) {
		const struct table *t = find_oid(x, oid_of(PQgetvalue(res, 0, 0)));

		bk_escape_controls(t ? t->qname : "?", shown, sizeof(shown));
		bk_escape_controls(PQgetvalue(res, 0, 1), col, sizeof(col));
		bk_err_set("table %s: column \"%s\": %s", shown, col, why);
		bk_err_hint("rename the column (ALTER TABLE ... RENAME COLUMN ...)");
		PQclear(res);
		goto out;
	}
	PQclear(res);
	ret = 0;
out:
	free(oids);
	return ret;
}

static int list_tables(struct export *x)
{
	PGresult *res = ex_query(x, q_tables, 0, NULL, "cannot list the tables");

	if (!res)
		return -1;
	x->t = calloc((size_t)PQntuples(res) + 1, sizeof(*x->t));
	if (!x->t)
		abort();
	for (int r = 0; r < PQntuples(res); r++) {
		struct table *t = &x->t[x->nt++];

		t->oid = oid_of(PQgetvalue(res, r, 0));
		t->relkind = PQgetvalue(res, r, 1)[0];
		t->schema = bk_xstrdup(PQgetvalue(res, r, 2));
		t->name = bk_xstrdup(PQgetvalue(res, r, 3));
		t->qname = bk_xstrdup(PQgetvalue(res, r, 4));
		t->pages = strtoll(PQgetvalue(res, r, 5), NULL, 10);
		t->estimate = strtoll(PQgetvalue(res, r, 6), NULL, 10);
		if (!PQgetisnull(res, r, 7))
			t->extension = bk_xstrdup(PQgetvalue(res, r, 7));
		t->sqlname = ex_qualified(x, t->schema, t->name);
		if (!t->sqlname) {
			PQclear(res);
			return -1;
		}
	}
	PQclear(res);
	return refuse_control_names(x);
}

/* ---- the window column ---- */

/* 1: col is the table's date or timestamp column (t->since set); 0: no such
 * column, or *bad_type set to its type when it is not a date or timestamp. */
static int find_since(struct export *x, struct table *t, const char *col, char **bad_type)
{
	char oid[16];
	const char *params[2] = { oid, col };
	PGresult *res;

	snprintf(oid, sizeof(oid), "%u", t->oid);
	res = ex_query(x, q_since, 2, params, "cannot read columns");
	if (!res)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	if (!PQgetvalue(res, 0, 1)[0]) {
		if (bad_type)
			*bad_type = bk_xstrdup(PQgetvalue(res, 0, 2));
		PQclear(res);
		return 0;
	}
	t->since = bk_xstrdup(PQgetvalue(res, 0, 0));
	t->since_type = PQgetvalue(res, 0, 1)[0];
	PQclear(res);
	t->since_sql = ex_ident(x, col);
	return t->since_sql ? 1 : -1;
}

static void set_window(struct table *t, int n, const char *unit)
{
	char iv[64];

	snprintf(iv, sizeof(iv), "%d %s", n, unit);
	t->interval = bk_xstrdup(iv);
	t->cls = EX_WINDOW;
}

/* A FILE line's window: the column must be there (else a scope error, but
 * the built-in scope's lines only place what fits and leave the rest to the rules). */
static int entry_window(struct export *x, struct table *t)
{
	const struct bk_scope_entry *e = t->entry;
	char *bad = NULL;
	int r = find_since(x, t, e->since_column, &bad);

	if (r < 0)
		return -1;
	if (r == 1) {
		set_window(t, e->since_n, e->since_unit);
		return 1;
	}
	if (x->o->scope->builtin) {
		free(bad);
		return 0;
	}
	if (bad)
		bk_err_set("%s:%d: since=%s: column %s of %s is %s, not a date or timestamp",
			   x->o->scope->name, e->line, e->since_text, e->since_text, t->qname, bad);
	else
		bk_err_set("%s:%d: table %s has no column %s for since=", x->o->scope->name,
			   e->line, t->qname, e->since_text);
	free(bad);
	return BK_EXPORT_SCOPE;
}

/* A window rule's column: the first of its columns the table has. */
static int rule_window(struct export *x, struct table *t, const struct bk_scope_rule *r)
{
	for (size_t i = 0; i < r->n_since; i++) {
		int found = find_since(x, t, r->since_columns[i], NULL);

		if (found != 0)
			return found;
	}
	return 0;
}

/* ---- FILE lines ---- */

/* " (did you mean public."ApiKey"? ...)" when the name exists in another case. */
static char *other_case(struct export *x, const struct bk_scope_table *st)
{
	const char *params[2] = { st->schema, st->name };
	PGresult *res = ex_query(x, q_other_case, 2, params, "cannot look up tables");
	char *s;

	if (!res)
		return NULL;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return bk_xstrdup("");
	}
	s = bk_asprintf("; did you mean %s? a name in capitals must be quoted in BACKUP_SCOPE, "
			"as the table's name in that line shows", PQgetvalue(res, 0, 0));
	PQclear(res);
	return s;
}

struct missing {
	char *text;
	size_t n;
};

static int add_missing(struct export *x, struct missing *m, const struct bk_scope_entry *e,
		       const struct bk_scope_table *st, const char *why)
{
	char *hint = other_case(x, st), *all;

	if (!hint)
		return -1;
	if (!x->o->strict) {
		ex_warning(x, "%s:%d: table %s (%s) %s%s; not backed up", x->o->scope->name, e->line,
			   st->text, e->file, why, hint);
	} else {
		all = bk_asprintf("%s%s%s (%s, line %d) %s%s", m->text ? m->text : "",
				  m->text ? "; " : "", st->text, e->file, e->line, why, hint);
		free(m->text);
		m->text = all;
		m->n++;
	}
	free(hint);
	return 0;
}

static int place(struct export *x, struct table *t, const struct bk_scope_entry *e,
		 const struct bk_scope_table *st)
{
	int r;

	if (t->entry) {
		bk_err_set("%s:%d: table %s is already listed on line %d (as %s)", x->o->scope->name,
			   e->line, st->text, t->entry->line, t->listed->text);
		return BK_EXPORT_SCOPE;
	}
	t->entry = e;
	t->listed = st;
	t->file = bk_xstrdup(e->file);
	t->csv = e->csv;
	t->cls = EX_FULL;
	if (!e->since_column)
		return 0;
	r = entry_window(x, t);
	if (r == 0) {		/* the built-in line does not fit: the rules decide */
		t->entry = NULL;
		t->listed = NULL;
		free(t->file);
		t->file = NULL;
	}
	return r < 0 ? r : 0;
}

static int place_one(struct export *x, struct missing *m, const struct bk_scope_entry *e,
		     const struct bk_scope_table *st)
{
	const char *params[2] = { st->schema, st->name };
	PGresult *res = ex_query(x, q_resolve, 2, params, "cannot look up tables");
	struct table *t;
	char why[96];

	if (!res)
		return -1;
	if (PQntuples(res) == 0)
		snprintf(why, sizeof(why), "does not exist");
	else if (!strchr("rp", PQgetvalue(res, 0, 1)[0]))
		snprintf(why, sizeof(why), "is %s", kind_name(PQgetvalue(res, 0, 1)[0]));
	else if (!strcmp(PQgetvalue(res, 0, 2), "t"))
		snprintf(why, sizeof(why), "is a partition: name its partitioned table, "
			 "which holds the rows of all its partitions");
	else
		why[0] = '\0';
	t = why[0] ? NULL : find_oid(x, oid_of(PQgetvalue(res, 0, 0)));
	PQclear(res);
	if (!why[0] && !t)
		snprintf(why, sizeof(why), "is in a system schema");
	if (t)
		return place(x, t, e, st);
	if (x->o->scope->builtin)
		return 0;
	return add_missing(x, m, e, st, why);
}

static int place_listed(struct export *x)
{
	const struct bk_scope *s = x->o->scope;
	struct missing m = { NULL, 0 };
	int r = 0;

	for (size_t i = 0; r == 0 && i < s->n_entries; i++)
		for (size_t j = 0; r == 0 && j < s->entries[i].n_tables; j++)
			r = place_one(x, &m, &s->entries[i], &s->entries[i].tables[j]);
	if (r == 0 && m.n) {
		bk_err_set("%s: %zu listed table%s not found: %s", s->name, m.n,
			   m.n == 1 ? " is" : "s are", m.text);
		bk_err_hint("BACKUP_STRICT=1 makes this an error; fix BACKUP_SCOPE or the database");
		r = BK_EXPORT_FAIL;
	}
	free(m.text);
	return r;
}

/* ---- the rules ---- */

static int classify_by_rule(struct export *x, struct table *t)
{
	const struct bk_scope_pattern *p;
	const struct bk_scope_rule *r;
	int found;

	if (t->extension) {
		t->cls = EX_OMITTED;
		t->why = bk_asprintf("extension %s (its CREATE EXTENSION makes it)", t->extension);
		return 0;
	}
	r = bk_scope_match(x->o->scope, t->schema, t->name, &p);
	t->rule = r;
	t->cls = EX_FULL;
	if (!r)
		return 0;
	if (r->action == BK_SCOPE_OMIT) {
		t->cls = EX_OMITTED;
		t->why = bk_scope_rule_text(r, p);
	} else if (r->action == BK_SCOPE_WINDOW) {
		found = rule_window(x, t, r);
		if (found < 0)
			return -1;
		if (found) {
			set_window(t, r->since_n, r->since_unit);
			t->why = bk_scope_rule_text(r, p);
		} else {
			bk_info("%s matches %s:%d but has no date or timestamp column %s: "
				"backed up in full", t->qname, r->origin, r->line, r->since_text);
		}
	}
	return 0;
}

/* ---- foreign keys ---- */

static struct fk *new_fk(struct export *x, size_t from, size_t to)
{
	struct fk *f;

	x->fks = ex_realloc(x->fks, x->nfk + 1, sizeof(*x->fks));
	f = &x->fks[x->nfk++];
	memset(f, 0, sizeof(*f));
	f->from = from;
	f->to = to;
	return f;
}

static int read_fks(struct export *x)
{
	PGresult *res = ex_query(x, q_fks, 0, NULL, "cannot read foreign keys");
	const char *last = "";
	struct fk *f = NULL;

	if (!res)
		return -1;
	for (int r = 0; r < PQntuples(res); r++) {
		struct table *from = find_oid(x, oid_of(PQgetvalue(res, r, 1)));
		struct table *to = find_oid(x, oid_of(PQgetvalue(res, r, 2)));
		char *a, *b;

		if (!from || !to)
			continue;
		if (strcmp(last, PQgetvalue(res, r, 0)))
			f = new_fk(x, (size_t)(from - x->t), (size_t)(to - x->t));
		last = PQgetvalue(res, r, 0);
		a = ex_ident(x, PQgetvalue(res, r, 3));
		b = a ? ex_ident(x, PQgetvalue(res, r, 4)) : NULL;
		if (!b) {
			free(a);
			PQclear(res);
			return -1;
		}
		f->from_cols = ex_realloc(f->from_cols, f->ncols + 1, sizeof(char *));
		f->to_cols = ex_realloc(f->to_cols, f->ncols + 1, sizeof(char *));
		f->from_cols[f->ncols] = a;
		f->to_cols[f->ncols++] = b;
	}
	PQclear(res);
	return 0;
}

/* A rule leaves out a table that a backed-up table references: without it the
 * archive would not restore, so it is backed up in full (to a fixed point).
 * MANIFEST's "# added:" lines say so; not a warning, as "omit *" after a
 * list of tables (round 1's meaning) relies on it every night. */
static void add_referenced(struct export *x)
{
	int changed = 1;

	while (changed) {
		changed = 0;
		for (size_t i = 0; i < x->nfk; i++) {
			struct table *from = &x->t[x->fks[i].from], *to = &x->t[x->fks[i].to];

			if (!ex_backed_up(from) || to->cls != EX_OMITTED || to->extension)
				continue;
			bk_info("%s is left out by %s but %s references it: backed up in full",
				to->qname, to->why, from->qname);
			free(to->why);
			to->why = bk_asprintf("referenced by %s", from->qname);
			to->cls = EX_ADDED;
			to->referrer = x->fks[i].from;
			changed = 1;
		}
	}
}

/* Windows that reference each other through other windows (a -> b -> a): the
 * closure follows a table's references to itself, not such cycles; one of
 * them is backed up in full instead, which is always safe. */
static int find_cycle(struct export *x, size_t at, char *state)
{
	state[at] = 1;
	for (size_t i = 0; i < x->nfk; i++) {
		const struct fk *f = &x->fks[i];
		size_t to = f->to;

		if (f->from != at || to == at || x->t[to].cls != EX_WINDOW)
			continue;
		if (state[to] == 1) {
			ex_warning(x, "%s and %s reference each other through their windows: "
				   "%s is backed up in full", x->t[at].qname, x->t[to].qname,
				   x->t[to].qname);
			x->t[to].cls = EX_FULL;
			return 1;
		}
		if (state[to] == 0 && find_cycle(x, to, state))
			return 1;
	}
	state[at] = 2;
	return 0;
}

static void break_cycles(struct export *x)
{
	char *state = bk_xmalloc(x->nt + 1);
	int again = 1;

	while (again) {
		again = 0;
		memset(state, 0, x->nt + 1);
		for (size_t i = 0; i < x->nt && !again; i++)
			if (x->t[i].cls == EX_WINDOW && !state[i])
				again = find_cycle(x, i, state);
	}
	free(state);
}

/* ---- file names ---- */

static int name_taken(const struct export *x, const char *name)
{
	for (const char *const *g = generated_files; *g; g++)
		if (!strcasecmp(*g, name))
			return 1;
	for (size_t i = 0; i < x->o->scope->n_entries; i++)
		if (!strcasecmp(x->o->scope->entries[i].file, name))
			return 1;
	for (size_t i = 0; i < x->nt; i++)
		if (x->t[i].file && !strcasecmp(x->t[i].file, name))
			return 1;
	return 0;
}

/* users.sql, billing.invoices.sql, ApiKey.sql, ข้อมูล.sql: what is in the
 * file, in the characters a member name may have (letters of any script,
 * digits, '_', '-', '.'; others become '_'); a clash gets -2, -3, ... */
static char *file_name(const struct export *x, const struct table *t)
{
	char *base = strcmp(t->schema, "public") ? bk_asprintf("%s.%s", t->schema, t->name)
						  : bk_xstrdup(t->name);
	const char *ext = t->csv ? ".csv" : ".sql";
	int alnum = 0;
	char *name = NULL;

	for (char *p = base; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c >= 0x80)
			alnum = 1;
		else if (c != '_' && c != '-' && c != '.')
			*p = '_';
	}
	if (!alnum || base[0] == '.' || base[0] == '-' || strlen(base) > 90) {
		struct bk_sha256 *h = bk_sha256_new();
		char hex[BK_SHA256_HEX];

		if (!h)
			abort();
		bk_sha256_update(h, t->qname, strlen(t->qname));
		bk_sha256_final(h, hex);
		bk_sha256_free(h);
		free(base);
		base = bk_asprintf("table-%.12s", hex);
	}
	for (int n = 1; !name; n++) {
		name = n == 1 ? bk_asprintf("%s%s", base, ext) : bk_asprintf("%s-%d%s", base, n, ext);
		if (name_taken(x, name)) {
			free(name);
			name = NULL;
		}
	}
	free(base);
	return name;
}

static void name_files(struct export *x)
{
	for (size_t i = 0; i < x->nt; i++) {
		struct table *t = &x->t[i];

		if (t->file || t->cls == EX_OMITTED)
			continue;
		if (t->cls == EX_ADDED) {
			t->file = bk_xstrdup("referenced.sql");
			continue;
		}
		t->csv = t->cls == EX_WINDOW;
		t->file = file_name(x, t);
	}
}

/* Rows of a table for the plan and the report: counted when small or not
 * analyzed yet, else the planner's estimate. */
int ex_estimate(struct export *x, struct table *t)
{
	char *sql;
	PGresult *res;

	if (t->pages > COUNT_PAGES && t->estimate >= 0)
		return 0;
	sql = bk_asprintf("SELECT pg_catalog.count(*) FROM %s", t->sqlname);
	res = ex_query(x, sql, 0, NULL, "cannot count rows");
	free(sql);
	if (!res)
		return bk_err_prefix("%s", t->qname);
	t->estimate = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

int ex_classify(struct export *x)
{
	size_t n[4] = { 0 };
	int r;

	if (list_tables(x) < 0)
		return -1;
	if ((r = place_listed(x)) < 0)
		return r;
	for (size_t i = 0; i < x->nt; i++)
		if (!x->t[i].entry && classify_by_rule(x, &x->t[i]) < 0)
			return -1;
	if (read_fks(x) < 0)
		return -1;
	add_referenced(x);
	break_cycles(x);
	name_files(x);
	for (size_t i = 0; i < x->nt; i++)
		n[x->t[i].cls]++;
	bk_info("scope %s: %zu tables: %zu full, %zu window, %zu added, %zu omitted",
		x->o->scope->name, x->nt, n[EX_FULL], n[EX_WINDOW], n[EX_ADDED], n[EX_OMITTED]);
	return 0;
}

/* ---- in the snapshot ---- */

static int describe_columns(struct export *x, struct table *t, const char *oid)
{
	const char *params[1] = { oid };
	PGresult *res = ex_query(x, q_columns, 1, params, "cannot read columns");
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
		char *q = ex_ident(x, PQgetvalue(res, r, 1));

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

static int read_sequence(struct export *x, struct seq *s)
{
	char *sql = bk_asprintf("SELECT last_value, is_called FROM %s", s->sqlname);
	PGresult *res = ex_query(x, sql, 0, NULL, "cannot read sequence");

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
	PGresult *res = ex_query(x, q_sequences, 1, params, "cannot read sequences");

	if (!res)
		return -1;
	for (int r = 0; r < PQntuples(res); r++) {
		unsigned int soid = oid_of(PQgetvalue(res, r, 0));
		size_t k;

		for (k = 0; k < x->ns && x->seqs[k].oid != soid; k++)
			;
		if (k == x->ns) {
			struct seq *s;

			x->seqs = ex_realloc(x->seqs, x->ns + 1, sizeof(*x->seqs));
			s = &x->seqs[x->ns];
			memset(s, 0, sizeof(*s));
			s->oid = soid;
			s->qname = bk_xstrdup(PQgetvalue(res, r, 1));
			s->sqlname = ex_qualified(x, PQgetvalue(res, r, 2), PQgetvalue(res, r, 3));
			x->ns++;
			if (!s->sqlname || read_sequence(x, s) < 0) {
				PQclear(res);
				return -1;
			}
		}
		t->seqs = ex_realloc(t->seqs, t->n_seqs + 1, sizeof(*t->seqs));
		t->seqs[t->n_seqs++] = k;
	}
	PQclear(res);
	return 0;
}

/* The cutoff, from the server's clock at the snapshot (now() is the start of
 * the transaction), as a literal of the column's type: a timestamp without
 * time zone in BACKUP_WINDOW_TIMEZONE (UTC: what Prisma stores). */
static int compute_cutoff(struct export *x, struct table *t)
{
	const char *zone = x->o->window_timezone ? x->o->window_timezone : "UTC";
	const char *params[2] = { t->interval, zone };
	const char *sql, *cast;
	PGresult *res;
	char *lit;

	switch (t->since_type) {
	case 'z':
		sql = "SELECT (pg_catalog.now() - $1::pg_catalog.interval)::pg_catalog.text";
		cast = "pg_catalog.timestamptz";
		break;
	case 't':
		sql = "SELECT ((pg_catalog.now() AT TIME ZONE $2) - $1::pg_catalog.interval)"
		      "::pg_catalog.text";
		cast = "pg_catalog.timestamp";
		break;
	default:
		sql = "SELECT ((pg_catalog.now() AT TIME ZONE $2) - $1::pg_catalog.interval)"
		      "::pg_catalog.date::pg_catalog.text";
		cast = "pg_catalog.date";
	}
	res = ex_query(x, sql, t->since_type == 'z' ? 1 : 2, params, "cannot compute the window");
	if (!res) {
		if (t->since_type != 'z')
			bk_err_hint("check BACKUP_WINDOW_TIMEZONE (a time zone name the server knows)");
		return -1;
	}
	t->cutoff = bk_xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	lit = PQescapeLiteral(x->conn, t->cutoff, strlen(t->cutoff));
	if (!lit)
		return ex_pg_fail(x->conn, NULL, "cannot quote the window");
	t->cutoff_sql = bk_asprintf("%s::%s", lit, cast);
	PQfreemem(lit);
	return 0;
}

/* ---- the window queries ---- */

static char *join_cols(const char *alias, char *const *cols, size_t n, const char *sep,
		       const char *suffix)
{
	char *s = bk_xstrdup("");

	for (size_t i = 0; i < n; i++) {
		char *next = bk_asprintf("%s%s%s.%s%s", s, i ? sep : "", alias, cols[i], suffix);

		free(s);
		s = next;
	}
	return s;
}

static char *append(char *s, const char *more)
{
	char *next = bk_asprintf("%s%s", s, more);

	free(s);
	return next;
}

static const char *only(const struct table *t)
{
	return t->relkind == 'p' ? "" : "ONLY ";
}

static char *in_backup(struct export *x, size_t ti, const char *alias);

/* The rows of window ti that are in the backup before its references to
 * itself are followed: in the window, or referenced by a backed-up row of another table. */
static char *seed(struct export *x, size_t ti, const char *alias)
{
	const struct table *t = &x->t[ti];
	char *s = bk_asprintf("(%s.%s >= %s OR %s.%s IS NULL", alias, t->since_sql, t->cutoff_sql,
			      alias, t->since_sql);

	for (size_t i = 0; i < x->nfk; i++) {
		const struct fk *f = &x->fks[i];
		const struct table *from = &x->t[f->from];
		char r[16], *mine, *theirs, *notnull, *cond, *sub;

		if (f->to != ti || f->from == ti || !ex_backed_up(from))
			continue;
		snprintf(r, sizeof(r), "r%d", ++x->aliases);
		mine = join_cols(alias, f->to_cols, f->ncols, ", ", "");
		theirs = join_cols(r, f->from_cols, f->ncols, ", ", "");
		notnull = join_cols(r, f->from_cols, f->ncols, " AND ", " IS NOT NULL");
		cond = in_backup(x, f->from, r);
		sub = bk_asprintf(" OR (%s) IN (SELECT %s FROM %s%s %s WHERE %s%s%s%s)", mine, theirs,
				  only(from), from->sqlname, r, notnull, cond ? " AND (" : "",
				  cond ? cond : "", cond ? ")" : "");
		s = append(s, sub);
		free(mine);
		free(theirs);
		free(notnull);
		free(cond);
		free(sub);
	}
	return append(s, ")");
}

/* Window ti with references to itself: its rows reached from the seed by
 * following them, to a fixed point (UNION drops rows already found). */
static char *closure_rows(struct export *x, size_t ti)
{
	const struct table *t = &x->t[ti];
	int id = ++x->aliases;
	char a[16], b[16], c[16];
	char *cols = bk_xstrdup(""), *acols = bk_xstrdup(""), *bcols = bk_xstrdup("");
	char *join = bk_xstrdup(""), *sd, *s;
	size_t k = 0;

	snprintf(a, sizeof(a), "a%d", id);
	snprintf(b, sizeof(b), "b%d", id);
	snprintf(c, sizeof(c), "c%d", id);
	for (size_t i = 0; i < x->nfk; i++) {
		const struct fk *f = &x->fks[i];
		char *mine, *theirs, *part;

		if (f->from != ti || f->to != ti)
			continue;
		theirs = bk_xstrdup("");
		for (size_t j = 0; j < f->ncols; j++) {
			char *next = bk_asprintf("%s%s%s.f%zu", theirs, j ? ", " : "", c, k + j);
			char *more = bk_asprintf(", f%zu", k + j);

			free(theirs);
			theirs = next;
			cols = append(cols, more);
			free(more);
			more = bk_asprintf(", %s.%s", a, f->from_cols[j]);
			acols = append(acols, more);
			free(more);
			more = bk_asprintf(", %s.%s", b, f->from_cols[j]);
			bcols = append(bcols, more);
			free(more);
		}
		k += f->ncols;
		mine = join_cols(b, f->to_cols, f->ncols, ", ", "");
		part = bk_asprintf("%s(%s) = (%s)", *join ? " OR " : "", mine, theirs);
		join = append(join, part);
		free(part);
		free(mine);
		free(theirs);
	}
	sd = seed(x, ti, a);
	s = bk_asprintf("WITH RECURSIVE %s(bk_rel, bk_tid%s) AS ("
			"SELECT %s.tableoid, %s.ctid%s FROM %s%s %s WHERE %s"
			" UNION SELECT %s.tableoid, %s.ctid%s FROM %s%s %s JOIN %s ON %s"
			") SELECT %s.bk_rel, %s.bk_tid FROM %s",
			c, cols, a, a, acols, only(t), t->sqlname, a, sd,
			b, b, bcols, only(t), t->sqlname, b, c, join, c, c, c);
	free(cols);
	free(acols);
	free(bcols);
	free(join);
	free(sd);
	return s;
}

/* SQL that is true for the rows of table ti (as alias) in the backup; NULL: all of them. */
static char *in_backup(struct export *x, size_t ti, const char *alias)
{
	const struct table *t = &x->t[ti];
	char *rows, *s;

	if (t->cls != EX_WINDOW)
		return NULL;
	if (!t->self_ref)
		return seed(x, ti, alias);
	rows = closure_rows(x, ti);
	s = bk_asprintf("(%s.tableoid, %s.ctid) IN (%s)", alias, alias, rows);
	free(rows);
	return s;
}

static void window_queries(struct export *x)
{
	for (size_t i = 0; i < x->nfk; i++) {
		if (x->fks[i].from == x->fks[i].to)
			x->t[x->fks[i].from].self_ref = 1;
		if (ex_backed_up(&x->t[x->fks[i].from]))
			x->t[x->fks[i].to].referenced = 1;
	}
	for (size_t i = 0; i < x->nt; i++) {
		struct table *t = &x->t[i];

		if (t->cls != EX_WINDOW)
			continue;
		x->aliases = 0;
		t->where = in_backup(x, i, "t");
		if (strlen(t->where) > WHERE_MAX)
			bk_warn("%s: the query for its window's referenced rows is %zu bytes",
				t->qname, strlen(t->where));
	}
}

static int describe_table(struct export *x, struct table *t)
{
	const char *params[1];
	char oid[16];
	PGresult *res;

	snprintf(oid, sizeof(oid), "%u", t->oid);
	params[0] = oid;
	res = ex_query(x, q_describe, 1, params, "cannot read the catalog");
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
	return t->cls == EX_WINDOW ? compute_cutoff(x, t) : 0;
}

int ex_describe(struct export *x)
{
	for (size_t i = 0; i < x->nt; i++) {
		struct table *t = &x->t[i];

		if (ex_backed_up(t) && describe_table(x, t) < 0)
			return -1;
	}
	window_queries(x);
	return 0;
}

void ex_catalog_free(struct export *x)
{
	for (size_t i = 0; i < x->nt; i++) {
		struct table *t = &x->t[i];

		free(t->schema);
		free(t->name);
		free(t->qname);
		free(t->sqlname);
		free(t->cols);
		free(t->sqlcols);
		free(t->why);
		free(t->file);
		free(t->extension);
		free(t->interval);
		free(t->since);
		free(t->since_sql);
		free(t->cutoff);
		free(t->cutoff_sql);
		free(t->where);
		free(t->seqs);
	}
	free(x->t);
	x->t = NULL;
	x->nt = 0;
	for (size_t i = 0; i < x->nfk; i++) {
		for (size_t j = 0; j < x->fks[i].ncols; j++) {
			free(x->fks[i].from_cols[j]);
			free(x->fks[i].to_cols[j]);
		}
		free(x->fks[i].from_cols);
		free(x->fks[i].to_cols);
	}
	free(x->fks);
	x->fks = NULL;
	x->nfk = 0;
	for (size_t i = 0; i < x->ns; i++) {
		free(x->seqs[i].qname);
		free(x->seqs[i].sqlname);
		free(x->seqs[i].last_value);
	}
	free(x->seqs);
	x->seqs = NULL;
	x->ns = 0;
}
