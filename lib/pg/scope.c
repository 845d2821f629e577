/* The backup scope: the built-in default and the BACKUP_SCOPE file parser (see scope.h).
 * Table and column names are parsed the way PostgreSQL's lexer reads identifiers, so
 * what reaches the exporter is a catalog name, and anything else is refused here. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "fs.h"
#include "scope.h"
#include "utf8.h"

#define NAME_MAX_BYTES 63	/* NAMEDATALEN - 1: longer names would be truncated */
#define FILE_MAX_BYTES 100

const char bk_scope_default_text[] =
	"# The built-in scope: every table of the database, in full, unless a rule\n"
	"# says otherwise (the first rule that matches a table wins).\n"
	"#\n"
	"# Session data, logs and audit logs: schema only.\n"
	"omit    session, sessions, *_session, *_sessions, \"*Session\", \"*Sessions\"\n"
	"omit    log, logs, *_log, *_logs, \"*Log\", \"*Logs\"\n"
	"omit    audit, audits, *_audit, *_audits, \"*Audit\", \"*Audits\"\n"
	"# Transactions: the last 3 months, and every older row a backed-up row references.\n"
	"window  transaction, transactions, *_transaction, *_transactions, \"*Transaction\", \\\n"
	"        \"*Transactions\", transfers, *_transfers, \"*Transfer\", \"*Transfers\", \\\n"
	"        purchases, *_purchases, \"*Purchase\", \"*Purchases\" \\\n"
	"        since=created_at|\"createdAt\":3 months\n"
	"#\n"
	"# The spec's file names, for those of its tables that exist.\n"
	"users.sql                users,user_roles\n"
	"organization.sql         organizations,agencies,referrals\n"
	"config.sql               exchange_rates,system_settings\n"
	"credit_transactions.csv  credit_transactions   since=created_at:3 months\n"
	"point_transactions.csv   point_transactions    since=created_at:3 months\n"
	"purchases.csv            purchases             since=created_at:3 months\n"
	"transfers.csv            transfers             since=created_at:3 months\n";

#define BUILTIN_NAME "built-in scope"

/* Members the exporter writes itself, or bk-pack adds. */
static const char *const reserved[] = {
	"schema.sql", "schema-post.sql", "referenced.sql", "sequences.sql", NULL
};

static const struct {
	const char *word, *unit;
} units[] = {
	{ "year", "years" }, { "years", "years" }, { "month", "months" },
	{ "months", "months" }, { "week", "weeks" }, { "weeks", "weeks" },
	{ "day", "days" }, { "days", "days" }, { NULL, NULL }
};

struct parser {
	const char *name;
	int line;
};

__attribute__((format(printf, 2, 3)))
static int perr(const struct parser *ps, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bk_err_set("%s:%d: %s", ps->name, ps->line, msg);
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_ws(const char *p)
{
	while (is_ws(*p))
		p++;
	return p;
}

static int at_end(const char *p)
{
	return *p == '\0' || *p == '#';
}

/* The next word of p for a message: up to white space, printable, at most 40 bytes. */
static void show(const char *p, char *buf, size_t size)
{
	size_t n = 0;

	for (; *p && !is_ws(*p) && n + 5 < size && n < 40; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
		else
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
}

/* PostgreSQL's ident_start and ident_cont (scan.l); bytes >= 0x80 are letters. */
static int ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (unsigned char)c >= 0x80;
}

static int ident_cont(char c)
{
	return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

/*
 * One identifier at *pp, quoted ("Mixed ""Case""") or not (folded to lower case
 * like the server does for ASCII letters). Returns its catalog form.
 */
static char *parse_ident(const struct parser *ps, const char **pp, const char *what)
{
	const char *p = *pp;
	char buf[4 * NAME_MAX_BYTES + 8], word[64];
	size_t n = 0;

	if (*p == '"') {
		for (p++;; p++) {
			if (!*p) {
				perr(ps, "unterminated quoted %s", what);
				return NULL;
			}
			if (*p == '"' && p[1] != '"')
				break;
			if (*p == '"')
				p++;
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				perr(ps, "control character in %s", what);
				return NULL;
			}
			if (n == sizeof(buf) - 1) {
				perr(ps, "%s longer than %d bytes", what, NAME_MAX_BYTES);
				return NULL;
			}
			buf[n++] = *p;
		}
		p++;
		if (n == 0) {
			perr(ps, "empty quoted %s", what);
			return NULL;
		}
	} else {
		if (!ident_start(*p)) {
			show(p, word, sizeof(word));
			if (at_end(p) || is_ws(*p))
				perr(ps, "%s expected", what);
			else
				perr(ps, "'%s' is not a valid %s", word, what);
			return NULL;
		}
		for (; ident_cont(*p); p++) {
			if (n == sizeof(buf) - 1) {
				perr(ps, "%s longer than %d bytes", what, NAME_MAX_BYTES);
				return NULL;
			}
			buf[n++] = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
		}
	}
	buf[n] = '\0';
	if (n > NAME_MAX_BYTES) {
		perr(ps, "%s longer than %d bytes", what, NAME_MAX_BYTES);
		return NULL;
	}
	if (!bk_utf8_valid(buf, n)) {
		perr(ps, "%s is not valid UTF-8", what);
		return NULL;
	}
	*pp = p;
	return bk_xstrdup(buf);
}

static void table_free(struct bk_scope_table *t)
{
	free(t->schema);
	free(t->name);
	free(t->text);
}

static void entry_free(struct bk_scope_entry *e)
{
	for (size_t i = 0; i < e->n_tables; i++)
		table_free(&e->tables[i]);
	free(e->tables);
	free(e->file);
	free(e->since_column);
	free(e->since_text);
}

static void rule_free(struct bk_scope_rule *r)
{
	for (size_t i = 0; i < r->n_patterns; i++) {
		free(r->patterns[i].schema);
		free(r->patterns[i].name);
		free(r->patterns[i].text);
	}
	free(r->patterns);
	for (size_t i = 0; i < r->n_since; i++)
		free(r->since_columns[i]);
	free(r->since_columns);
	free(r->since_text);
}

void bk_scope_free(struct bk_scope *s)
{
	for (size_t i = 0; i < s->n_entries; i++)
		entry_free(&s->entries[i]);
	free(s->entries);
	for (size_t i = 0; i < s->n_rules; i++)
		rule_free(&s->rules[i]);
	free(s->rules);
	free(s->name);
	memset(s, 0, sizeof(*s));
}

static int file_name_ok(const struct parser *ps, const char *f, size_t n)
{
	char word[64];
	size_t i;

	show(f, word, sizeof(word));
	for (i = 0; i < n; i++) {
		char c = f[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return perr(ps, "'%s': a file name is letters, digits, '.', '_' and '-'",
				    word);
	}
	if (f[0] == '.' || f[0] == '-')
		return perr(ps, "'%s': a file name cannot start with '%c'", word, f[0]);
	if (n > FILE_MAX_BYTES)
		return perr(ps, "file name longer than %d bytes", FILE_MAX_BYTES);
	if (n <= 4 || (strncmp(f + n - 4, ".sql", 4) && strncmp(f + n - 4, ".csv", 4)))
		return perr(ps, "'%s' is not a .sql or .csv file name", word);
	for (const char *const *r = reserved; *r; r++)
		if (strlen(*r) == n && !strncasecmp(*r, f, n))
			return perr(ps, "%s is a name the export uses itself", *r);
	return 0;
}

static int same_table(const struct bk_scope_table *a, const struct bk_scope_table *b)
{
	if (strcmp(a->name, b->name))
		return 0;
	if (!a->schema || !b->schema)
		return !a->schema && !b->schema;
	return !strcmp(a->schema, b->schema);
}

static int check_duplicates(const struct parser *ps, const struct bk_scope *s,
			    const struct bk_scope_entry *e)
{
	for (size_t i = 0; i < s->n_entries; i++) {
		const struct bk_scope_entry *o = &s->entries[i];

		if (!strcasecmp(o->file, e->file))
			return perr(ps, "%s is listed twice (first on line %d)", e->file, o->line);
		for (size_t j = 0; j < o->n_tables; j++)
			for (size_t k = 0; k < e->n_tables; k++)
				if (same_table(&o->tables[j], &e->tables[k]))
					return perr(ps, "table %s is listed twice (first on line %d)",
						    e->tables[k].text, o->line);
	}
	for (size_t j = 0; j < e->n_tables; j++)
		for (size_t k = j + 1; k < e->n_tables; k++)
			if (same_table(&e->tables[j], &e->tables[k]))
				return perr(ps, "table %s is listed twice", e->tables[k].text);
	return 0;
}

/* ":N UNIT" and the end of the line at p. */
static int parse_window(const struct parser *ps, const char *p, int *n_out, const char **unit)
{
	char word[64];
	long n = 0;
	size_t len;

	if (*p != ':')
		return perr(ps, "expected ':' after the column in since=COLUMN:N UNIT");
	p++;
	if (*p < '0' || *p > '9')
		return perr(ps, "expected a number after ':' in since=COLUMN:N UNIT");
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (*p - '0');
		if (n > 100000)
			return perr(ps, "window of since= is too long");
	}
	if (n == 0)
		return perr(ps, "window of since= must be at least 1");
	*n_out = (int)n;
	p = skip_ws(p);
	len = strspn(p, "abcdefghijklmnopqrstuvwxyz");
	*unit = NULL;
	for (int i = 0; units[i].word; i++)
		if (strlen(units[i].word) == len && !strncmp(units[i].word, p, len)) {
			*unit = units[i].unit;
			break;
		}
	if (!*unit) {
		show(p, word, sizeof(word));
		return perr(ps, "unknown unit '%s' in since= (months, weeks, days or years)", word);
	}
	p = skip_ws(p + len);
	if (!at_end(p)) {
		show(p, word, sizeof(word));
		return perr(ps, "unexpected '%s' at the end of the line", word);
	}
	return 0;
}

static char *copy_span(const char *start, const char *end)
{
	char *s = bk_xmalloc((size_t)(end - start) + 1);

	memcpy(s, start, (size_t)(end - start));
	s[end - start] = '\0';
	return s;
}

/* "since=COLUMN:N UNIT" at p (after "since="). */
static int parse_since(const struct parser *ps, const char *p, struct bk_scope_entry *e)
{
	const char *start = p;

	e->since_column = parse_ident(ps, &p, "column name");
	if (!e->since_column)
		return -1;
	e->since_text = copy_span(start, p);
	return parse_window(ps, p, &e->since_n, &e->since_unit);
}

/* "since=COLUMN[|COLUMN...]:N UNIT" of a window rule at p (after "since="). */
static int parse_rule_since(const struct parser *ps, const char *p, struct bk_scope_rule *r)
{
	const char *start = p;

	for (;;) {
		char *col;

		if (r->n_since >= 16)
			return perr(ps, "too many columns in since=");
		col = parse_ident(ps, &p, "column name");
		if (!col)
			return -1;
		r->since_columns = realloc(r->since_columns, (r->n_since + 1) * sizeof(char *));
		if (!r->since_columns)
			abort();
		r->since_columns[r->n_since++] = col;
		if (*p != '|')
			break;
		p++;
	}
	r->since_text = copy_span(start, p);
	return parse_window(ps, p, &r->since_n, &r->since_unit);
}

/* One table name, optionally schema-qualified, at *pp. */
static int parse_table(const struct parser *ps, const char **pp, struct bk_scope_table *t)
{
	const char *p = *pp, *start = *pp;
	char *first, *second;

	first = parse_ident(ps, &p, "table name");
	if (!first)
		return -1;
	if (*p == '.') {
		p++;
		second = parse_ident(ps, &p, "table name");
		if (!second) {
			free(first);
			return -1;
		}
		if (*p == '.') {
			free(first);
			free(second);
			return perr(ps, "a table name is TABLE or SCHEMA.TABLE");
		}
		t->schema = first;
		t->name = second;
	} else {
		t->schema = NULL;
		t->name = first;
	}
	t->text = copy_span(start, p);
	*pp = p;
	return 0;
}

/* One part of a pattern: "Quoted*" (exact) or unquoted* (folded, matched without case). */
static char *parse_pattern_part(const struct parser *ps, const char **pp, int *fold)
{
	const char *p = *pp;
	char buf[4 * NAME_MAX_BYTES + 8], word[64];
	size_t n = 0;

	if (*p == '"') {
		const char *q = p;
		char *id = parse_ident(ps, &q, "table pattern");

		if (!id)
			return NULL;
		*fold = 0;
		*pp = q;
		return id;
	}
	if (!ident_start(*p) && *p != '*' && *p != '?') {
		show(p, word, sizeof(word));
		if (at_end(p) || is_ws(*p))
			return perr(ps, "table pattern expected"), NULL;
		return perr(ps, "'%s' is not a valid table pattern", word), NULL;
	}
	for (; ident_cont(*p) || *p == '*' || *p == '?'; p++) {
		if (n == sizeof(buf) - 1)
			return perr(ps, "table pattern longer than %d bytes", NAME_MAX_BYTES), NULL;
		buf[n++] = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
	}
	buf[n] = '\0';
	if (!bk_utf8_valid(buf, n))
		return perr(ps, "table pattern is not valid UTF-8"), NULL;
	*fold = 1;
	*pp = p;
	return bk_xstrdup(buf);
}

static int parse_pattern(const struct parser *ps, const char **pp, struct bk_scope_pattern *t)
{
	const char *p = *pp, *start = *pp;
	int fold;
	char *first = parse_pattern_part(ps, &p, &fold);

	if (!first)
		return -1;
	if (*p == '.') {
		int fold2;
		char *second;

		p++;
		second = parse_pattern_part(ps, &p, &fold2);
		if (!second) {
			free(first);
			return -1;
		}
		t->schema = first;
		t->schema_fold = fold;
		t->name = second;
		t->name_fold = fold2;
	} else {
		t->name = first;
		t->name_fold = fold;
	}
	if (*p == '.')
		return perr(ps, "a table pattern is NAME or SCHEMA.NAME");
	t->text = copy_span(start, p);
	*pp = p;
	return 0;
}

static const struct {
	const char *word;
	enum bk_scope_action action;
} actions[] = {
	{ "omit", BK_SCOPE_OMIT }, { "window", BK_SCOPE_WINDOW }, { "full", BK_SCOPE_FULL },
	{ NULL, BK_SCOPE_FULL }
};

/* The rule keyword starting line, or -1 when it is a FILE line. */
static int rule_action(const char *line)
{
	const char *p = skip_ws(line);
	size_t n = strcspn(p, " \t#");

	for (int i = 0; actions[i].word; i++)
		if (strlen(actions[i].word) == n && !strncmp(actions[i].word, p, n))
			return (int)actions[i].action;
	return -1;
}

/* "omit|window|full PATTERN[,PATTERN...] [since=...]" */
static int parse_rule(const struct parser *ps, const char *line, struct bk_scope_rule *r)
{
	const char *p = skip_ws(line);
	const char *word0 = p;
	char word[64];

	r->action = (enum bk_scope_action)rule_action(line);
	p = skip_ws(p + strcspn(p, " \t#"));
	if (at_end(p))
		return perr(ps, "%.*s: no table patterns", (int)strcspn(word0, " \t#"), word0);
	for (;;) {
		const char *q;

		if (r->n_patterns >= 1000)
			return perr(ps, "too many patterns on one line");
		r->patterns = realloc(r->patterns, (r->n_patterns + 1) * sizeof(*r->patterns));
		if (!r->patterns)
			abort();
		memset(&r->patterns[r->n_patterns], 0, sizeof(*r->patterns));
		r->n_patterns++;
		if (parse_pattern(ps, &p, &r->patterns[r->n_patterns - 1]) < 0)
			return -1;
		q = skip_ws(p);
		if (*q != ',') {
			if (!at_end(p) && !is_ws(*p)) {
				show(p, word, sizeof(word));
				return perr(ps, "unexpected '%s' after pattern %s", word,
					    r->patterns[r->n_patterns - 1].text);
			}
			p = q;
			break;
		}
		p = skip_ws(q + 1);
	}
	if (at_end(p)) {
		if (r->action == BK_SCOPE_WINDOW)
			return perr(ps, "window needs since=COLUMN:N UNIT");
		return 0;
	}
	if (strncmp(p, "since=", 6)) {
		show(p, word, sizeof(word));
		return perr(ps, "unexpected '%s' (patterns are separated by commas%s)", word,
			    r->action == BK_SCOPE_WINDOW ? ", then since=COLUMN:N UNIT" : "");
	}
	if (r->action != BK_SCOPE_WINDOW)
		return perr(ps, "since= applies to window rules only");
	return parse_rule_since(ps, p + 6, r);
}

static int parse_line(const struct parser *ps, const char *line, struct bk_scope_entry *e)
{
	const char *p = skip_ws(line), *f;
	char word[64];
	size_t n;

	f = p;
	n = strcspn(p, " \t#");
	if (file_name_ok(ps, f, n) < 0)
		return -1;
	e->file = bk_xmalloc(n + 1);
	memcpy(e->file, f, n);
	e->file[n] = '\0';
	e->csv = !strcmp(e->file + n - 4, ".csv");
	p = skip_ws(p + n);
	if (at_end(p))
		return perr(ps, "%s: no tables listed", e->file);
	for (;;) {
		const char *q;

		if (e->n_tables >= 1000)
			return perr(ps, "too many tables on one line");
		e->tables = realloc(e->tables, (e->n_tables + 1) * sizeof(*e->tables));
		if (!e->tables)
			abort();
		memset(&e->tables[e->n_tables], 0, sizeof(*e->tables));
		if (parse_table(ps, &p, &e->tables[e->n_tables]) < 0)
			return -1;
		e->n_tables++;
		q = skip_ws(p);
		if (*q != ',') {
			if (!at_end(p) && !is_ws(*p)) {
				show(p, word, sizeof(word));
				return perr(ps, "unexpected '%s' after table name %s", word,
					    e->tables[e->n_tables - 1].text);
			}
			p = q;
			break;
		}
		p = skip_ws(q + 1);
	}
	if (e->csv && e->n_tables != 1)
		return perr(ps, "%s: a .csv file holds exactly one table", e->file);
	if (at_end(p))
		return 0;
	if (strncmp(p, "since=", 6)) {
		show(p, word, sizeof(word));
		return perr(ps, "unexpected '%s' (tables are separated by commas, "
			    "then an optional since=COLUMN:N UNIT)", word);
	}
	if (!e->csv)
		return perr(ps, "%s: since= applies to .csv files only", e->file);
	return parse_since(ps, p + 6, e);
}

int bk_scope_parse(struct bk_scope *s, const char *name, const char *text, size_t len)
{
	struct parser ps = { name, 0 };
	char *copy, *line, *next;
	int ret = -1;

	memset(s, 0, sizeof(*s));
	s->name = bk_xstrdup(name);
	if (memchr(text, '\0', len)) {
		bk_err_set("%s: contains a NUL byte", name);
		goto out_free;
	}
	copy = bk_xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = copy; line; line = next) {
		struct bk_scope_entry e;
		size_t n;
		int first = ps.line + 1, last;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else if (!*line)
			break;
		ps.line++;
		n = strlen(line);
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		/* A final '\' continues the line: join the next one to it. */
		while (n && line[n - 1] == '\\' && next) {
			char *after = strchr(next, '\n');

			line[n - 1] = ' ';
			memmove(line + n, next, strlen(next) + 1);
			ps.line++;
			next = after ? line + n + (after - next) : NULL;
			if (next)
				*next++ = '\0';
			n = strlen(line);
			if (n && line[n - 1] == '\r')
				line[--n] = '\0';
		}
		if (!bk_utf8_valid(line, n)) {
			perr(&ps, "not valid UTF-8");
			goto out;
		}
		if (at_end(skip_ws(line)))
			continue;
		if (rule_action(line) >= 0) {
			struct bk_scope_rule r;

			last = ps.line;
			memset(&r, 0, sizeof(r));
			r.line = first;
			r.origin = s->name;
			ps.line = first;
			if (parse_rule(&ps, line, &r) < 0) {
				rule_free(&r);
				goto out;
			}
			ps.line = last;
			s->rules = realloc(s->rules, (s->n_rules + 1) * sizeof(*s->rules));
			if (!s->rules)
				abort();
			s->rules[s->n_rules++] = r;
			continue;
		}
		memset(&e, 0, sizeof(e));
		e.line = first;
		last = ps.line;
		ps.line = first;	/* a continued line is reported at its start */
		if (parse_line(&ps, line, &e) < 0 || check_duplicates(&ps, s, &e) < 0) {
			entry_free(&e);
			goto out;
		}
		ps.line = last;
		s->entries = realloc(s->entries, (s->n_entries + 1) * sizeof(*s->entries));
		if (!s->entries)
			abort();
		s->entries[s->n_entries++] = e;
	}
	if (!s->n_entries && !s->n_rules) {
		bk_err_set("%s: lists no files and no rules", name);
		goto out;
	}
	ret = 0;
out:
	free(copy);
out_free:
	if (ret < 0) {
		char *keep = bk_xstrdup(bk_err());

		bk_scope_free(s);
		bk_err_set("%s", keep);
		free(keep);
	}
	return ret;
}

/* A scope without rules gets the built-in ones: no table is left out unseen. */
static int add_builtin_rules(struct bk_scope *s)
{
	struct bk_scope b;

	if (bk_scope_parse(&b, BUILTIN_NAME, bk_scope_default_text,
			   strlen(bk_scope_default_text)) < 0)
		return -1;
	s->rules = realloc(s->rules, (s->n_rules + b.n_rules) * sizeof(*s->rules) + 1);
	if (!s->rules)
		abort();
	for (size_t i = 0; i < b.n_rules; i++) {
		s->rules[s->n_rules] = b.rules[i];
		s->rules[s->n_rules++].origin = BUILTIN_NAME;
	}
	b.n_rules = 0;
	bk_scope_free(&b);
	return 0;
}

int bk_scope_load(struct bk_scope *s, const char *path)
{
	char *text;
	size_t len;
	int ret;

	if (!path) {
		ret = bk_scope_parse(s, BUILTIN_NAME, bk_scope_default_text,
				     strlen(bk_scope_default_text));
		s->builtin = 1;
		for (size_t i = 0; ret == 0 && i < s->n_rules; i++)
			s->rules[i].origin = BUILTIN_NAME;
		return ret;
	}
	memset(s, 0, sizeof(*s));
	if (bk_read_file(path, BK_SCOPE_MAX, &text, &len) < 0)
		return bk_err_prefix("BACKUP_SCOPE");
	ret = bk_scope_parse(s, path, text, len);
	free(text);
	if (ret == 0 && !s->n_rules && add_builtin_rules(s) < 0) {
		bk_scope_free(s);
		return -1;
	}
	return ret;
}

static void interval_text(int n, const char *unit, char *buf, size_t size)
{
	/* "1 months" reads badly in messages; the server takes either. */
	size_t len = strlen(unit);

	if (n == 1)
		snprintf(buf, size, "1 %.*s", (int)(len - 1), unit);
	else
		snprintf(buf, size, "%d %s", n, unit);
}

void bk_scope_interval(const struct bk_scope_entry *e, char *buf, size_t size)
{
	if (!e->since_column)
		snprintf(buf, size, "%s", "");
	else
		interval_text(e->since_n, e->since_unit, buf, size);
}

void bk_scope_rule_interval(const struct bk_scope_rule *r, char *buf, size_t size)
{
	if (r->action != BK_SCOPE_WINDOW)
		snprintf(buf, size, "%s", "");
	else
		interval_text(r->since_n, r->since_unit, buf, size);
}

static int fold_eq(char a, char b, int fold)
{
	if (fold) {
		a = a >= 'A' && a <= 'Z' ? (char)(a - 'A' + 'a') : a;
		b = b >= 'A' && b <= 'Z' ? (char)(b - 'A' + 'a') : b;
	}
	return a == b;
}

/* Iterative glob with one backtrack point per '*' (as fnmatch does). '?' is
 * one byte: names are matched as the catalog stores them. */
int bk_scope_glob(const char *pat, const char *s, int fold)
{
	const char *star = NULL, *mark = NULL;

	while (*s) {
		if (*pat == '*') {
			star = ++pat;
			mark = s;
		} else if (*pat == '?' || (*pat && fold_eq(*pat, *s, fold))) {
			pat++;
			s++;
		} else if (star) {
			pat = star;
			s = ++mark;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static int pattern_matches(const struct bk_scope_pattern *p, const char *schema, const char *name)
{
	if (p->schema && !bk_scope_glob(p->schema, schema, p->schema_fold))
		return 0;
	return bk_scope_glob(p->name, name, p->name_fold);
}

const struct bk_scope_rule *bk_scope_match(const struct bk_scope *s, const char *schema,
					   const char *name,
					   const struct bk_scope_pattern **which)
{
	for (size_t i = 0; i < s->n_rules; i++)
		for (size_t k = 0; k < s->rules[i].n_patterns; k++)
			if (pattern_matches(&s->rules[i].patterns[k], schema, name)) {
				if (which)
					*which = &s->rules[i].patterns[k];
				return &s->rules[i];
			}
	if (which)
		*which = NULL;
	return NULL;
}

char *bk_scope_rule_text(const struct bk_scope_rule *r, const struct bk_scope_pattern *p)
{
	static const char *const words[] = { "omit", "window", "full" };

	return bk_asprintf("%s %s (%s line %d)", words[r->action], p ? p->text : "*", r->origin,
			   r->line);
}
