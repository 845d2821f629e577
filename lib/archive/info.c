/* BACKUP_INFO.txt (see info.h). The restore commands are generated from the
 * MANIFEST so they name the real files and tables; they are meant to be
 * copied into a shell as they are, and a test does exactly that. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive_write.h"
#include "extract.h"
#include "fs.h"
#include "info.h"
#include "log.h"

/* A table line "# table: FILE ROWS QNAME" split up (pointers into a copy). */
struct table {
	char *file;
	char *rows;
	char *qname;
	size_t next;		/* next table of the same file: index + 1, 0 = none */
};

/* What is looked up per member, found in one pass over the metadata: a
 * MANIFEST may list tens of thousands of members and tables. */
struct member_meta {
	const char *window;	/* "# window: FILE REST": REST of the first one */
	const char *window_rows;
	size_t first_table, last_table;	/* index + 1 into ctx.tables, 0 = none */
	int is_config;
};

struct ctx {
	const struct bk_info *in;
	struct table *tables;
	size_t n_tables;
	char *table_text;
	struct member_meta *mm;
	struct bk_info_coverage cov;
};

/* The member line FILE names in "FILE REST", or -1; *rest after the space. */
static long member_of(const struct bk_manifest *m, const char *v, const char **rest)
{
	size_t n = strcspn(v, " ");
	char *file = bk_xmalloc(n + 1);
	const struct bk_manifest_entry *e;

	memcpy(file, v, n);
	file[n] = '\0';
	e = bk_manifest_find(m, file);
	free(file);
	if (rest)
		*rest = v[n] ? v + n + 1 : v + n;
	return e && v[n] == ' ' ? (long)(e - m->entries) : -1;
}

static struct member_meta *member_meta_read(const struct bk_manifest *m)
{
	struct member_meta *mm = calloc(m->n_entries + 1, sizeof(*mm));
	const struct bk_manifest_entry *e;

	if (!mm)
		abort();
	for (size_t i = 0; i < m->n_meta; i++) {
		const char *k = m->meta[i].key, *v = m->meta[i].value, *rest;
		long at;

		if (!strcmp(k, "config")) {
			if ((e = bk_manifest_find(m, v)))
				mm[e - m->entries].is_config = 1;
		} else if (!strcmp(k, "window") || !strcmp(k, "window-rows")) {
			const char **slot;

			if ((at = member_of(m, v, &rest)) < 0)
				continue;
			slot = k[6] ? &mm[at].window_rows : &mm[at].window;
			if (!*slot)
				*slot = rest;
		}
	}
	return mm;
}

static int is_config(const struct ctx *c, const char *path)
{
	const struct bk_manifest_entry *e = bk_manifest_find(c->in->manifest, path);

	return e && c->mm[e - c->in->manifest->entries].is_config;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

static int is_data(const struct ctx *c, const char *path)
{
	return strcmp(path, BK_INFO_NAME) != 0 && !is_config(c, path);
}

static void parse_tables(struct ctx *c)
{
	const struct bk_manifest *m = c->in->manifest;
	size_t i = 0, len = 0;
	const char *v;
	char *p;

	while ((v = bk_manifest_meta_next(m, "table", &i)) != NULL)
		len += strlen(v) + 1;
	c->table_text = p = bk_xmalloc(len + 1);
	c->tables = bk_xmalloc((len / 2 + 1) * sizeof(*c->tables));
	i = 0;
	while ((v = bk_manifest_meta_next(m, "table", &i)) != NULL) {
		struct table *t = &c->tables[c->n_tables];
		char *sp1, *sp2;

		strcpy(p, v);
		sp1 = strchr(p, ' ');
		sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
		if (sp2) {
			long at = member_of(m, p, NULL);

			*sp1 = *sp2 = '\0';
			t->file = p;
			t->rows = sp1 + 1;
			t->qname = sp2 + 1;
			t->next = 0;
			c->n_tables++;
			if (at >= 0 && c->mm[at].last_table)
				c->tables[c->mm[at].last_table - 1].next = c->n_tables;
			else if (at >= 0)
				c->mm[at].first_table = c->n_tables;
			if (at >= 0)
				c->mm[at].last_table = c->n_tables;
		}
		p += strlen(v) + 1;
	}
}

/* The first table recorded for the member line i, or NULL. */
static const char *table_of(const struct ctx *c, size_t i)
{
	return c->mm[i].first_table ? c->tables[c->mm[i].first_table - 1].qname : NULL;
}

static const char *what_is(const char *path)
{
	if (!strcmp(path, "schema.sql"))
		return "schema (load first)";
	if (!strcmp(path, "schema-post.sql"))
		return "keys, indexes (load last)";
	if (!strcmp(path, "sequences.sql"))
		return "sequence values";
	if (!strcmp(path, "referenced.sql"))
		return "referenced tables";
	if (ends_with(path, ".sql"))
		return "data, COPY blocks";
	if (ends_with(path, ".csv"))
		return "data, CSV with header";
	return "";
}

/* A word for a POSIX shell: as is when it is plain, else in single quotes. */
static void sh_word(FILE *f, const char *s)
{
	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789._-/+=:@%,") == strlen(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/*
 * psql ends COPY data at a line "\." (or "\.\r") even inside a quoted CSV
 * value, so a .csv file is loaded through this filter: inside quoted fields
 * it writes '\' as "\\" and '""' as '\"' (for ESCAPE '\'), which leaves no
 * such line. It splits each line at '"', so it is linear in the line length.
 */
#define CSV_FILTER "csv-escape.awk"
static const char csv_filter[] =
	"{ n = split($0, a, \"\\\"\"); for (k = 1; k <= n; k++) { if (q) gsub(/\\\\/, \"&&\", a[k]);"
	" printf \"%s\", a[k]; if (k == n) break; if (q && k + 1 < n && a[k + 1] == \"\")"
	" { printf \"%s\", \"\\\\\\\"\"; k++ } else { printf \"%s\", \"\\\"\"; q = !q } } print \"\" }";

/* The line that writes the filter, in the directory of the files. */
static void csv_filter_command(FILE *f)
{
	fprintf(f, "    $ printf '%%s\\n' '%s' >%s\n", csv_filter, CSV_FILTER);
}

/* A word for a POSIX shell, in a new string. */
static char *sh_word_str(const char *s)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		abort();
	sh_word(f, s);
	if (fclose(f) != 0)
		abort();
	return out;
}

/*
 * psql -c "\copy ... FROM PROGRAM 'awk ...'" for a CSV file: shell quoting
 * for the program's file name, psql quoting around the program, then all of
 * it inside shell double quotes.
 */
static void copy_command(FILE *f, const char *qname, const char *file)
{
	char *word = sh_word_str(file);
	char *prog = bk_asprintf("LC_ALL=C awk -f " CSV_FILTER " %s", word);
	char *meta, *p;
	size_t cap = strlen(qname) + 2 * strlen(prog) + 96;

	meta = p = bk_xmalloc(cap);
	p += sprintf(p, "\\copy %s FROM PROGRAM '", qname);
	for (const char *s = prog; *s; s++) {
		if (*s == '\'')
			*p++ = '\'';
		*p++ = *s;
	}
	strcpy(p, "' WITH (FORMAT csv, HEADER, ESCAPE '\\')");
	fputs("    $ psql -v ON_ERROR_STOP=1 -c \"", f);
	/* inside "...", a backslash is literal unless it precedes $ ` " \ */
	for (p = meta; *p; p++) {
		if (strchr("\"$`", *p) || (*p == '\\' && (!p[1] || strchr("\\\"$`", p[1]))))
			fputc('\\', f);
		fputc(*p, f);
	}
	fputs("\"\n", f);
	free(meta);
	free(prog);
	free(word);
}

static void psql_file(FILE *f, const char *file)
{
	fputs("    $ psql -v ON_ERROR_STOP=1 -1 -f ", f);
	sh_word(f, file);
	fputc('\n', f);
}

static void print_meta_list(FILE *f, const struct bk_manifest *m, const char *key,
			    const char *title)
{
	size_t i = 0;
	const char *v;
	int first = 1;

	while ((v = bk_manifest_meta_next(m, key, &i)) != NULL) {
		if (first)
			fprintf(f, "\n%s\n", title);
		first = 0;
		fprintf(f, "    %s\n", v);
	}
}

/* "# window: FILE COLUMN >= TIMESTAMP" */
static void print_windows(FILE *f, const struct bk_manifest *m)
{
	size_t i = 0;
	const char *v;
	int first = 1;

	while ((v = bk_manifest_meta_next(m, "window", &i)) != NULL) {
		int n = (int)strcspn(v, " ");

		if (first)
			fprintf(f, "\nOnly recent rows (older rows are not in this backup)\n");
		first = 0;
		fprintf(f, "    %.*s: %s\n", n, v, v[n] ? v + n + 1 : "");
	}
}

/* ---- coverage ---- */

size_t bk_info_qname_len(const char *s)
{
	const char *p = s;

	for (;;) {
		if (*p == '"') {
			for (p++; *p != '"' || p[1] == '"'; p += *p == '"' ? 2 : 1)
				if (!*p)
					return 0;
			p++;
		} else {
			size_t n = strcspn(p, " .\"");

			if (n == 0)
				return 0;
			p += n;
		}
		if (*p != '.')
			return (size_t)(p - s);
		p++;
	}
}

/* A whole decimal number, possibly negative, ending at ' ' or the end: its
 * length, or 0. */
static size_t number(const char *s, long long *out)
{
	char *end;

	if (!(*s == '-' || (*s >= '0' && *s <= '9')))
		return 0;
	*out = strtoll(s, &end, 10);
	if (end == s || (*end && *end != ' '))
		return 0;
	return (size_t)(end - s);
}

/* The value of the first key line "FILE REST" for file: REST, or NULL. */
static const char *for_file(const struct bk_manifest *m, const char *key, const char *file)
{
	size_t i = 0, n = strlen(file);
	const char *v;

	while ((v = bk_manifest_meta_next(m, key, &i)) != NULL)
		if (!strncmp(v, file, n) && v[n] == ' ')
			return v + n + 1;
	return NULL;
}

static struct bk_info_table *cover_new(struct bk_info_coverage *c, size_t *cap,
				       enum bk_info_class cls, const char *qname, size_t qlen)
{
	struct bk_info_table *t;

	if (c->n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		c->tables = realloc(c->tables, *cap * sizeof(*c->tables));
		if (!c->tables)
			abort();
	}
	t = &c->tables[c->n++];
	memset(t, 0, sizeof(*t));
	t->cls = cls;
	t->qname = bk_xmalloc(qlen + 1);
	memcpy(t->qname, qname, qlen);
	t->qname[qlen] = '\0';
	t->rows = t->in_window = t->total = t->closure = -1;
	return t;
}

/* The covers of "# table:" lines sorted by name, to find an added table's. */
struct by_name {
	const char *qname;
	size_t at;
};

static int cmp_by_name(const void *a, const void *b)
{
	const struct by_name *x = a, *y = b;
	int r = strcmp(x->qname, y->qname);

	return r ? r : (x->at > y->at) - (x->at < y->at);
}

/* Negative, 0 or positive as the stored name s sorts before, equals or after key. */
static int cmp_key(const char *s, const char *key, size_t klen)
{
	int r = strncmp(s, key, klen);

	return r ? r : s[klen] != '\0';
}

static struct bk_info_table *cover_find(struct bk_info_coverage *c, const struct by_name *ix,
					size_t n_ix, const char *qname, size_t qlen)
{
	size_t lo = 0, hi = n_ix;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_key(ix[mid].qname, qname, qlen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n_ix && !cmp_key(ix[lo].qname, qname, qlen))
		return &c->tables[ix[lo].at];
	/* tables only "# added:" lines name: few */
	for (size_t i = n_ix; i < c->n; i++)
		if (!cmp_key(c->tables[i].qname, qname, qlen))
			return &c->tables[i];
	return NULL;
}

/* "# window-rows: FILE WINDOW TOTAL CLOSURE ZONE" after FILE. */
static void window_rows(struct bk_info_table *t, const char *v)
{
	long long w, total, closure;
	size_t n;

	if (!(n = number(v, &w)) || v[n] != ' ')
		return;
	v += n + 1;
	if (!(n = number(v, &total)) || v[n] != ' ')
		return;
	v += n + 1;
	if (!(n = number(v, &closure)))
		return;
	v += n;
	t->in_window = w;
	t->total = total;
	t->closure = closure;
	if (*v == ' ' && v[1] && strcmp(v + 1, "-"))
		t->zone = bk_xstrdup(v + 1);
}

/* "# table: FILE ROWS QNAME" lines, windowed when their file has a window line. */
static void cover_tables(struct bk_info_coverage *c, size_t *cap, const struct bk_manifest *m)
{
	struct member_meta *mm = member_meta_read(m);
	size_t i = 0;
	const char *v;

	while ((v = bk_manifest_meta_next(m, "table", &i)) != NULL) {
		size_t fl = strcspn(v, " "), n;
		const char *w, *q;
		struct bk_info_table *t;
		long long rows;
		char *file;
		long at;

		if (!v[fl] || !(n = number(v + fl + 1, &rows)) || v[fl + 1 + n] != ' ')
			continue;
		q = v + fl + 1 + n + 1;
		t = cover_new(c, cap, BK_CLASS_FULL, q, strlen(q));
		t->rows = rows;
		file = t->file = bk_xmalloc(fl + 1);
		memcpy(file, v, fl);
		file[fl] = '\0';
		at = member_of(m, v, NULL);
		if ((w = at >= 0 ? mm[at].window : for_file(m, "window", file)) != NULL) {
			t->cls = BK_CLASS_WINDOW;
			t->window = bk_xstrdup(w);
			w = at >= 0 ? mm[at].window_rows : for_file(m, "window-rows", file);
			if (w)
				window_rows(t, w);
		}
	}
	free(mm);
}

/* "# added: QNAME referenced by QNAME" and "# omitted: QNAME ESTIMATE RULE". */
static void cover_others(struct bk_info_coverage *c, size_t *cap, const struct bk_manifest *m)
{
	size_t i = 0, q, n, n_ix = c->n;
	struct by_name *ix = bk_xmalloc((n_ix + 1) * sizeof(*ix));
	const char *v;
	struct bk_info_table *t;
	long long rows;

	for (size_t k = 0; k < n_ix; k++)
		ix[k] = (struct by_name){ c->tables[k].qname, k };
	if (n_ix)
		qsort(ix, n_ix, sizeof(*ix), cmp_by_name);
	while ((v = bk_manifest_meta_next(m, "added", &i)) != NULL) {
		if (!(q = bk_info_qname_len(v)))
			continue;
		if (!(t = cover_find(c, ix, n_ix, v, q)))
			t = cover_new(c, cap, BK_CLASS_ADDED, v, q);
		t->cls = BK_CLASS_ADDED;
		free(t->detail);
		t->detail = bk_xstrdup(v[q] ? v + q + 1 : "");
	}
	free(ix);
	i = 0;
	while ((v = bk_manifest_meta_next(m, "omitted", &i)) != NULL) {
		c->complete = 1;
		if (!(q = bk_info_qname_len(v)) || v[q] != ' ' || !(n = number(v + q + 1, &rows)))
			continue;
		t = cover_new(c, cap, BK_CLASS_OMITTED, v, q);
		t->rows = rows;
		t->detail = bk_xstrdup(v[q + 1 + n] ? v + q + 1 + n + 1 : "");
	}
	if (bk_manifest_meta_get(m, "window-rows"))
		c->complete = 1;
}

static int by_class_name(const void *a, const void *b)
{
	const struct bk_info_table *x = a, *y = b;

	if (x->cls != y->cls)
		return (int)x->cls - (int)y->cls;
	return strcmp(x->qname, y->qname);
}

void bk_info_coverage_read(struct bk_info_coverage *c, const struct bk_manifest *m)
{
	size_t cap = 0;

	memset(c, 0, sizeof(*c));
	cover_tables(c, &cap, m);
	cover_others(c, &cap, m);
	if (c->n)
		qsort(c->tables, c->n, sizeof(*c->tables), by_class_name);
	for (size_t i = 0; i < c->n; i++)
		c->count[c->tables[i].cls]++;
}

void bk_info_coverage_free(struct bk_info_coverage *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct bk_info_table *t = &c->tables[i];

		free(t->qname);
		free(t->file);
		free(t->window);
		free(t->zone);
		free(t->detail);
	}
	free(c->tables);
	memset(c, 0, sizeof(*c));
}

static const char *plural(long long n)
{
	return n == 1 ? "" : "s";
}

static const char *const class_titles[BK_CLASSES] = {
	"Full: every row",
	"Window: recent rows only",
	"Added: every row, because backed-up tables reference them",
	"Not in this backup (schema only: the restore creates them empty)",
};

/* One table of the coverage section: name, rows, what and why. */
static void print_cover_table(FILE *f, const struct bk_info_table *t, int width)
{
	char rows[48];

	if (t->rows < 0)
		snprintf(rows, sizeof(rows), "? rows");
	else
		snprintf(rows, sizeof(rows), "%s%lld row%s", t->cls == BK_CLASS_OMITTED ? "~" : "",
			 t->rows, plural(t->rows));
	fprintf(f, "        %-*s %14s  ", width, t->qname, rows);
	switch (t->cls) {
	case BK_CLASS_FULL:
		fprintf(f, "%s\n", t->file);
		break;
	case BK_CLASS_WINDOW:
		fprintf(f, "%s, %s%s%s%s\n", t->file, t->window, t->zone ? " (" : "",
			t->zone ? t->zone : "", t->zone ? ")" : "");
		if (t->in_window < 0)
			break;
		fprintf(f, "        %-*s %14s  %lld of %lld in the window", width, "", "",
			t->in_window, t->total);
		if (t->closure > 0)
			fprintf(f, " + %lld older row%s that backed-up rows reference", t->closure,
				plural(t->closure));
		fputc('\n', f);
		break;
	case BK_CLASS_ADDED:
		fprintf(f, "%s%s%s\n", t->file ? t->file : "", t->file && *t->detail ? ", " : "",
			t->detail);
		break;
	case BK_CLASS_OMITTED:
		fprintf(f, "%s\n", t->detail);
		break;
	}
}

/* Every table in one class; only for a MANIFEST that lists them all. */
static void print_coverage(FILE *f, const struct bk_info_coverage *cov)
{
	static const char *const words[BK_CLASSES] = { "full", "window", "added",
						       "not in this backup" };
	int width = 24;
	size_t k = 0;

	for (size_t i = 0; i < cov->n; i++)
		if ((int)strlen(cov->tables[i].qname) > width)
			width = (int)strlen(cov->tables[i].qname);
	fprintf(f, "\nCoverage: every table of the database, in one class\n    %zu table%s:",
		cov->n, plural((long long)cov->n));
	for (int c = 0; c < BK_CLASSES; c++)
		fprintf(f, "%s %zu %s", c ? "," : "", cov->count[c], words[c]);
	fputc('\n', f);
	for (int c = 0; c < BK_CLASSES; c++) {
		if (!cov->count[c] && c != BK_CLASS_OMITTED)
			continue;
		fprintf(f, "\n    %s\n", class_titles[c]);
		if (!cov->count[c])
			fprintf(f, "        none: every table of the database is backed up\n");
		for (; k < cov->n && (int)cov->tables[k].cls == c; k++)
			print_cover_table(f, &cov->tables[k], width);
	}
}

static void print_summary(FILE *f, const struct ctx *c)
{
	const struct bk_info *in = c->in;
	const struct bk_manifest *m = in->manifest;
	const char *created = bk_manifest_meta_get(m, "created");
	const char *host = bk_manifest_meta_get(m, "host");
	const char *db = bk_manifest_meta_get(m, "database");
	const char *ver = bk_manifest_meta_get(m, "server_version");
	char packed[40];
	int width = 24;

	if (!ver)
		ver = bk_manifest_meta_get(m, "server");
	bk_iso_time(in->packed_at, packed, sizeof(packed));
	fprintf(f, "BACKUP INFORMATION\n==================\n\n");
	fprintf(f, "Archive          %s\n", in->archive_name);
	fprintf(f, "Data exported    %s (one consistent snapshot)\n", created ? created : "unknown");
	fprintf(f, "Packed           %s\n", packed);
	fprintf(f, "Database         %s\n", db ? db : "unknown");
	fprintf(f, "Server           %s\n", host ? host : "unknown");
	fprintf(f, "Server version   PostgreSQL %s\n", ver ? ver : "unknown");
	fprintf(f, "Made by          bk %s (bk-export, bk-pack)\n", BK_VERSION);

	for (size_t i = 0; i < m->n_entries; i++)
		if (is_data(c, m->entries[i].path) && (int)strlen(m->entries[i].path) > width)
			width = (int)strlen(m->entries[i].path);
	fprintf(f, "\nFiles\n    %-*s %12s %10s  %s\n", width, "FILE", "BYTES", "ROWS", "WHAT");
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct bk_manifest_entry *e = &m->entries[i];
		char rows[32];

		if (!is_data(c, e->path))
			continue;
		if (e->rows < 0)
			snprintf(rows, sizeof(rows), "-");
		else
			snprintf(rows, sizeof(rows), "%lld", e->rows);
		fprintf(f, "    %-*s %12llu %10s  %s\n", width, e->path, e->bytes, rows,
			what_is(e->path));
		for (size_t t = c->mm[i].first_table; t; t = c->tables[t - 1].next)
			fprintf(f, "        %s: %s rows\n", c->tables[t - 1].qname,
				c->tables[t - 1].rows);
	}

	if (c->cov.complete) {
		print_coverage(f, &c->cov);
	} else {
		print_windows(f, m);
		print_meta_list(f, m, "added",
				"Tables added because backed-up tables reference them");
	}
	print_meta_list(f, m, "warning", "Warnings");

	fprintf(f, "\nConfiguration files (from %s)\n", in->config_dir ? in->config_dir : "?");
	{
		int any = 0;

		for (size_t i = 0; i < m->n_entries; i++) {
			const struct bk_manifest_entry *e = &m->entries[i];

			if (!is_config(c, e->path))
				continue;
			fprintf(f, "    %-*s %12llu bytes\n", width, e->path, e->bytes);
			any = 1;
		}
		if (!any)
			fprintf(f, "    none\n");
	}
}

static void print_restore(FILE *f, const struct ctx *c)
{
	const struct bk_info *in = c->in;
	const struct bk_manifest *m = in->manifest;
	const char *db = bk_manifest_meta_get(m, "database");
	char *target = bk_asprintf("%s_restore", db && *db ? db : "bk");
	int has_seq = 0, has_post = 0, has_schema = 0, any_config = 0, n_csv = 0;

	fprintf(f, "\n\nHOW TO RESTORE\n==============\n\n");
	fprintf(f,
		"A. With bk, one command\n\n"
		"   bk-unpack checks the archive, then loads it into an empty database in\n"
		"   one transaction (the database named by POSTGRES_DB or DATABASE_URL):\n\n");
	fprintf(f, "    $ bk-unpack --restore ");
	sh_word(f, in->archive_name);
	fprintf(f, "\n\n"
		"   --replace replaces the backed-up tables of a database that holds them\n"
		"   (a windowed table keeps its rows older than the window; --replace-all\n"
		"   empties it too); --config-to DIR puts the configuration files back.\n"
		"   A signed archive is checked with --verify-key bk.pub (your copy of the\n"
		"   public key, kept off the backup host) or BACKUP_VERIFY_KEY; an unsigned\n"
		"   one restores only with --unsigned. See bk-unpack(1).\n\n");

	fprintf(f,
		"B. By hand, with psql\n\n"
		"   Needs psql and createdb (PostgreSQL 15 or newer). Set PGHOST, PGPORT,\n"
		"   PGUSER and PGPASSWORD for the target server, then run these commands\n"
		"   in order, in a directory that holds only the archive. Each command\n"
		"   stops at the first error. The database %s must not\n"
		"   exist yet; use another name in both lines if you like. psql runs\n"
		"   schema.sql as it is: first check where the archive comes from, after\n"
		"   tar and before any psql, with minisign -Vm MANIFEST -p bk.pub (your\n"
		"   copy of the public key; bk-verify checks every file against MANIFEST).\n\n",
		target);
	fprintf(f, "    $ tar -xzf ");
	sh_word(f, in->archive_name);
	fprintf(f, "\n    $ createdb -T template0 ");
	sh_word(f, target);
	fprintf(f, "\n    $ export PGDATABASE=");
	sh_word(f, target);
	fputc('\n', f);
	for (size_t i = 0; i < m->n_entries; i++) {
		const char *p = m->entries[i].path;

		has_schema |= !strcmp(p, "schema.sql");
		has_seq |= !strcmp(p, "sequences.sql");
		has_post |= !strcmp(p, "schema-post.sql");
	}
	if (has_schema)
		psql_file(f, "schema.sql");
	for (size_t i = 0; i < m->n_entries; i++) {
		const char *p = m->entries[i].path;
		const char *qname;

		if (!is_data(c, p) || !strcmp(p, "schema.sql") || !strcmp(p, "schema-post.sql") ||
		    !strcmp(p, "sequences.sql"))
			continue;
		if (ends_with(p, ".sql"))
			psql_file(f, p);
		else if (ends_with(p, ".csv") && (qname = table_of(c, i)) != NULL) {
			if (!n_csv++)
				csv_filter_command(f);
			copy_command(f, qname, p);
		}
	}
	if (has_seq)
		psql_file(f, "sequences.sql");
	if (has_post)
		psql_file(f, "schema-post.sql");
	fprintf(f, "\n"
		"   schema.sql creates the tables without keys or indexes, so the data\n"
		"   files load in any order; schema-post.sql then adds the keys, indexes,\n"
		"   foreign keys and triggers, and checks the data against them.\n");
	if (n_csv)
		fprintf(f,
			"   The .csv files go in through " CSV_FILTER " (the printf line): psql\n"
			"   would stop at a line \\. inside a quoted value, so the filter writes\n"
			"   \\\\ and \\\" for \\ and \"\" inside quoted values (hence ESCAPE '\\').\n");
	fprintf(f,
		"   Compare the row counts with the list above%s", c->n_tables ? ", for example:\n     psql -c " : ".\n");
	if (c->n_tables) {
		char *sql = bk_asprintf("SELECT count(*) FROM %s", c->tables[0].qname);

		sh_word(f, sql);
		fputc('\n', f);
		free(sql);
	}
	fprintf(f,
		"   When it is right, point the application at the restored database or\n"
		"   rename it: ALTER DATABASE ... RENAME TO ... (no one connected).\n");

	fprintf(f, "\nC. Configuration files\n\n");
	for (size_t i = 0; i < m->n_entries; i++)
		any_config |= is_config(c, m->entries[i].path);
	if (!any_config) {
		fprintf(f, "   This backup holds no configuration files.\n");
		free(target);
		return;
	}
	fprintf(f,
		"   They came from %s. From the directory where the archive was\n"
		"   extracted (step B), put them back with:\n\n", in->config_dir);
	for (size_t i = 0; i < m->n_entries; i++) {
		const char *p = m->entries[i].path;
		char *dest;

		if (!is_config(c, p))
			continue;
		dest = bk_path_join(in->config_dir, p);
		fprintf(f, "    $ install -D -m %04o ", (unsigned)bk_extract_config_mode(m, p, 0777));
		sh_word(f, p);
		fputc(' ', f);
		sh_word(f, dest);
		fputc('\n', f);
		free(dest);
	}
	fprintf(f, "\n"
		"   Each gets the mode it had when packed. Its owner then is on its\n"
		"   \"# config-mode:\" line in MANIFEST: run install as root with -o OWNER\n"
		"   where a service needs it (nginx must read ssl/), then restart the stack:\n"
		"     docker compose -f docker-compose.prod.yml up -d\n");
	free(target);
}

char *bk_info_format(const struct bk_info *in)
{
	struct ctx c = { .in = in };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		abort();
	c.mm = member_meta_read(in->manifest);
	parse_tables(&c);
	bk_info_coverage_read(&c.cov, in->manifest);
	print_summary(f, &c);
	print_restore(f, &c);
	if (fclose(f) != 0)
		abort();
	free(c.tables);
	free(c.table_text);
	free(c.mm);
	bk_info_coverage_free(&c.cov);
	return out;
}
