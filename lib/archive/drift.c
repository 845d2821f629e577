/*
 * Drift between two MANIFESTs (see drift.h). Each manifest's table lines are
 * read into one list of tables with their class and counts, sorted by QNAME
 * for lookups; malformed lines of an old archive are skipped, not fatal.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive_read.h"
#include "drift.h"
#include "err.h"
#include "fs.h"
#include "prune.h"

/* quote_ident of a 63-byte name is at most 128 bytes: two such parts and a dot, with room. */
#define QNAME_MAX 512
#define RULE_MAX 200		/* bytes of an omitted line's rule quoted in a sentence */
#define FEW_ROWS 10		/* below this, only a fall to 0 is drift */

enum cls { FULL, WINDOW, ADDED, OMITTED };

struct tab {
	char *qname;
	char *file;		/* NULL for an omitted table */
	char *detail;		/* the rule (omitted), the referrer (added), else NULL */
	enum cls cls;
	long long rows;		/* ROWS of the table line; the estimate when omitted (-1 unknown) */
	long long total;	/* window tables: TOTAL of window-rows, -1 unknown */
	size_t order;		/* position in the manifest */
	int dup;		/* listed again: only the first counts */
};

struct tabset {
	struct tab *t;		/* manifest order */
	size_t n, cap;
	struct tab **sorted;	/* by qname, then order */
	int has_omitted;	/* any "# omitted:" line at all */
};

/* ---- names and numbers ---- */

/* Length of one quote_ident-style identifier at s ("a_b", "\"My ""x\"\""), 0 if none. */
static size_t ident_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	if (*p == '"') {
		for (n = 1;; n++) {
			if (p[n] < 0x20 || p[n] == 0x7f)
				return 0;	/* unterminated, or a control character */
			if (p[n] == '"') {
				if (p[n + 1] != '"')
					break;
				n++;
			}
		}
		return n == 1 ? 0 : n + 1;
	}
	while (p[n] > 0x20 && p[n] != 0x7f && p[n] != '.' && p[n] != '"')
		n++;
	return n;
}

/* Length of SCHEMA.NAME at s, 0 if s does not start with one. */
static size_t qname_len(const char *s)
{
	size_t a = ident_len(s), b;

	if (!a || s[a] != '.' || !(b = ident_len(s + a + 1)) || a + 1 + b > QNAME_MAX)
		return 0;
	return a + 1 + b;
}

/* A count of at most 18 digits (a leading '-' allowed when neg_ok, read as -1), ending
 * at a space or the end; *end is then set after it. -1 when malformed. */
static int parse_count(const char *s, int neg_ok, long long *out, const char **end)
{
	long long v = 0;
	size_t n = 0;
	int neg = 0;

	if (neg_ok && *s == '-') {
		neg = 1;
		s++;
	}
	for (; s[n] >= '0' && s[n] <= '9'; n++) {
		if (n == 18)
			return -1;
		v = v * 10 + (s[n] - '0');
	}
	if (n == 0 || (s[n] != ' ' && s[n] != '\0'))
		return -1;
	*out = neg ? -1 : v;
	*end = s + n;
	return 0;
}

/* ---- one manifest's tables ---- */

static struct tab *tab_add(struct tabset *ts, const char *qname, size_t qlen, enum cls cls,
			   long long rows)
{
	struct tab *t;

	if (ts->n == ts->cap) {
		ts->cap = ts->cap ? ts->cap * 2 : 32;
		ts->t = realloc(ts->t, ts->cap * sizeof(*ts->t));
		if (!ts->t)
			abort();
	}
	t = &ts->t[ts->n];
	memset(t, 0, sizeof(*t));
	t->qname = bk_asprintf("%.*s", (int)qlen, qname);
	t->cls = cls;
	t->rows = rows;
	t->total = -1;
	t->order = ts->n++;
	return t;
}

/* "# table: FILE ROWS QNAME" */
static void parse_table(struct tabset *ts, const char *v)
{
	const char *sp = strchr(v, ' '), *q;
	long long rows;
	struct tab *t;

	if (!sp || sp == v || parse_count(sp + 1, 0, &rows, &q) < 0 || *q != ' ')
		return;
	q++;
	if (qname_len(q) != strlen(q))
		return;
	t = tab_add(ts, q, strlen(q), FULL, rows);
	t->file = bk_asprintf("%.*s", (int)(sp - v), v);
}

/* "# omitted: QNAME ROWS_ESTIMATE RULE" */
static void parse_omitted(struct tabset *ts, const char *v)
{
	size_t ql = qname_len(v);
	const char *rule;
	long long est;
	struct tab *t;

	ts->has_omitted = 1;
	if (!ql || v[ql] != ' ' || parse_count(v + ql + 1, 1, &est, &rule) < 0)
		return;
	if (*rule == ' ')
		rule++;
	t = tab_add(ts, v, ql, OMITTED, est);
	t->detail = bk_asprintf("%.*s", RULE_MAX, *rule ? rule : "no rule named");
}

static int by_qname(const void *a, const void *b)
{
	const struct tab *x = *(const struct tab *const *)a, *y = *(const struct tab *const *)b;
	int c = strcmp(x->qname, y->qname);

	return c ? c : (x->order > y->order) - (x->order < y->order);
}

static struct tab *tab_find(const struct tabset *ts, const char *qname, size_t qlen)
{
	size_t lo = 0, hi = ts->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct tab *t = ts->sorted[mid];
		int c = strncmp(t->qname, qname, qlen);

		if (!c && t->qname[qlen])
			c = 1;
		if (c < 0) {
			lo = mid + 1;
		} else if (c > 0) {
			hi = mid;
		} else {
			/* the first listed of equal names (sorted by order among them) */
			while (mid > 0 && !strcmp(ts->sorted[mid - 1]->qname, t->qname))
				mid--;
			return ts->sorted[mid];
		}
	}
	return NULL;
}

/* Mark the tables held by file with cls (window) or with the window's TOTAL. */
static void by_file(struct tabset *ts, const char *v, int set_total)
{
	size_t fl = strcspn(v, " ");
	const char *rest = v + fl;
	long long n = -1;

	if (!fl || !*rest)
		return;
	if (set_total) {
		/* WINDOW TOTAL CLOSURE ZONE: TOTAL is the second */
		if (parse_count(rest + 1, 0, &n, &rest) < 0 || *rest != ' ' ||
		    parse_count(rest + 1, 0, &n, &rest) < 0)
			return;
	}
	for (size_t i = 0; i < ts->n; i++) {
		struct tab *t = &ts->t[i];

		if (!t->file || strlen(t->file) != fl || strncmp(t->file, v, fl))
			continue;
		if (!set_total && t->cls == FULL)
			t->cls = WINDOW;
		else if (set_total && t->cls == WINDOW && t->total < 0)
			t->total = n;
	}
}

/* "# added: QNAME referenced by QNAME" */
static void parse_added(struct tabset *ts, const char *v)
{
	static const char by[] = " referenced by ";
	size_t ql = qname_len(v);
	struct tab *t;

	if (!ql || strncmp(v + ql, by, sizeof(by) - 1) || !(t = tab_find(ts, v, ql)) ||
	    t->cls != FULL)
		return;
	t->cls = ADDED;
	t->detail = bk_asprintf("%.*s", QNAME_MAX, v + ql + sizeof(by) - 1);
}

static void tabset_read(struct tabset *ts, const struct bk_manifest *m)
{
	const char *v;
	size_t i;

	memset(ts, 0, sizeof(*ts));
	for (i = 0; (v = bk_manifest_meta_next(m, "table", &i));)
		parse_table(ts, v);
	for (i = 0; (v = bk_manifest_meta_next(m, "omitted", &i));)
		parse_omitted(ts, v);
	ts->sorted = bk_xmalloc((ts->n ? ts->n : 1) * sizeof(*ts->sorted));
	for (i = 0; i < ts->n; i++)
		ts->sorted[i] = &ts->t[i];
	qsort(ts->sorted, ts->n, sizeof(*ts->sorted), by_qname);
	for (i = 1; i < ts->n; i++)
		if (!strcmp(ts->sorted[i]->qname, ts->sorted[i - 1]->qname))
			ts->sorted[i]->dup = 1;
	for (i = 0; (v = bk_manifest_meta_next(m, "added", &i));)
		parse_added(ts, v);
	for (i = 0; (v = bk_manifest_meta_next(m, "window", &i));)
		by_file(ts, v, 0);
	for (i = 0; (v = bk_manifest_meta_next(m, "window-rows", &i));)
		by_file(ts, v, 1);
}

static void tabset_free(struct tabset *ts)
{
	for (size_t i = 0; i < ts->n; i++) {
		free(ts->t[i].qname);
		free(ts->t[i].file);
		free(ts->t[i].detail);
	}
	free(ts->t);
	free(ts->sorted);
	memset(ts, 0, sizeof(*ts));
}

/* Rows of the whole table when the manifest knows them, else -1. */
static long long table_rows(const struct tab *t)
{
	switch (t->cls) {
	case FULL:
	case ADDED:
		return t->rows;
	case WINDOW:
		return t->total;
	case OMITTED:
		break;
	}
	return -1;
}

/* ---- the sentences ---- */

__attribute__((format(printf, 2, 3)))
static void warn(struct bk_drift *d, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = bk_vasprintf(fmt, ap);
	va_end(ap);
	/* one line for "# warning:", the log and the mail, whatever an old archive held */
	for (unsigned char *p = (unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	d->warnings = realloc(d->warnings, (d->n + 1) * sizeof(*d->warnings));
	if (!d->warnings)
		abort();
	d->warnings[d->n++] = s;
}

static const char *rows_word(long long n)
{
	return n == 1 ? "row" : "rows";
}

static void report_new(struct bk_drift *d, const struct tab *t, const char *since)
{
	switch (t->cls) {
	case FULL:
		warn(d, "drift: new table %s since %s: backed up in full", t->qname, since);
		break;
	case WINDOW:
		warn(d, "drift: new table %s since %s: in the window", t->qname, since);
		break;
	case ADDED:
		warn(d, "drift: new table %s since %s: added because %s references it", t->qname,
		     since, t->detail);
		break;
	case OMITTED:
		warn(d, "drift: new table %s since %s: not backed up (%s)", t->qname, since,
		     t->detail);
		break;
	}
}

static void report_gone(struct bk_drift *d, const struct tab *t, const char *since)
{
	long long n = table_rows(t);

	if (n >= 0)
		warn(d, "drift: table %s is gone since %s (it had %lld %s)", t->qname, since, n,
		     rows_word(n));
	else if (t->cls == WINDOW)
		warn(d, "drift: table %s is gone since %s (%lld %s of it were backed up)",
		     t->qname, since, t->rows, rows_word(t->rows));
	else if (t->rows >= 0)
		warn(d, "drift: table %s is gone since %s (it had about %lld %s)", t->qname,
		     since, t->rows, rows_word(t->rows));
	else
		warn(d, "drift: table %s is gone since %s", t->qname, since);
}

static void report_fall(struct bk_drift *d, const struct tab *p, const struct tab *t,
			const char *since, int drop_percent)
{
	long long a = table_rows(p), b = table_rows(t);
	double fall;

	if (a <= 0 || b < 0 || b >= a)
		return;
	if (b == 0) {
		warn(d, "drift: %s has 0 rows, %lld in %s", t->qname, a, since);
		return;
	}
	fall = 100.0 * (double)(a - b) / (double)a;
	if (a >= FEW_ROWS && fall > drop_percent)
		warn(d, "drift: %s fell from %lld to %lld %s (-%d%%) since %s", t->qname, a, b,
		     rows_word(b), (int)fall, since);
}

/* Backed up last time, left out now: rows that were safe no longer are. */
static void report_left_out(struct bk_drift *d, const struct tab *p, const struct tab *t,
			    const char *since)
{
	if (p->cls == OMITTED || t->cls != OMITTED)
		return;
	warn(d, "drift: %s was backed up in %s and is now left out (%s)", t->qname, since,
	     t->detail);
}

void bk_drift_compare(const struct bk_manifest *prev, const char *prev_name,
		      const struct bk_manifest *cur, int drop_percent, struct bk_drift *out)
{
	struct tabset p, c;
	const char *since = prev_name ? prev_name : "the previous archive";

	memset(out, 0, sizeof(*out));
	if (drop_percent < 1)
		drop_percent = 1;
	if (drop_percent > 100)
		drop_percent = 100;
	tabset_read(&p, prev);
	tabset_read(&c, cur);
	if (p.n == 0)
		goto out;	/* nothing known about the tables then: nothing to compare */
	for (size_t i = 0; i < c.n; i++) {
		const struct tab *t = &c.t[i];

		if (t->dup || tab_find(&p, t->qname, strlen(t->qname)))
			continue;
		/* a round-1 archive named only what it backed up: omitted ones were unlisted */
		if (t->cls == OMITTED && !p.has_omitted)
			continue;
		report_new(out, t, since);
	}
	for (size_t i = 0; i < p.n; i++)
		if (!p.t[i].dup && !tab_find(&c, p.t[i].qname, strlen(p.t[i].qname)))
			report_gone(out, &p.t[i], since);
	for (size_t i = 0; i < c.n; i++) {
		const struct tab *t = &c.t[i], *pt;

		if (!t->dup && (pt = tab_find(&p, t->qname, strlen(t->qname)))) {
			report_left_out(out, pt, t, since);
			report_fall(out, pt, t, since, drop_percent);
		}
	}
out:
	tabset_free(&p);
	tabset_free(&c);
}

void bk_drift_free(struct bk_drift *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->warnings[i]);
	free(d->warnings);
	memset(d, 0, sizeof(*d));
}

/* ---- the previous archive ---- */

/* The newest archive name in dir: 1 and *best, 0 none, -1 on a read error. */
static int newest_archive(const char *dir, char **best)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	long long t;
	int ret = -1;

	*best = NULL;
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return bk_err_errno("cannot read %s", dir);
	}
	for (;;) {
		errno = 0;
		if (!(e = readdir(d))) {
			if (errno) {
				bk_err_errno("cannot read %s", dir);
				goto out;
			}
			break;
		}
		/* the fixed-width name sorts as its time does */
		if (bk_archive_name_time(e->d_name, &t) != 1 || (*best && strcmp(e->d_name, *best) <= 0))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		free(*best);
		*best = bk_xstrdup(e->d_name);
	}
	ret = *best ? 1 : 0;
out:
	closedir(d);
	if (ret < 0) {
		free(*best);
		*best = NULL;
	}
	return ret;
}

int bk_drift_load_previous(const char *dir, struct bk_manifest *prev, char **name)
{
	char *best = NULL, *path = NULL;
	int ret;

	bk_manifest_init(prev);
	*name = NULL;
	if ((ret = newest_archive(dir, &best)) <= 0)
		return ret;
	path = bk_path_join(dir, best);
	if (!path)
		abort();
	if (bk_ar_read_manifest(path, prev, NULL) < 0) {
		if (!strstr(bk_err(), path))
			bk_err_prefix("%s", path);
		bk_manifest_init(prev);
		ret = -1;
		goto out;
	}
	*name = best;
	best = NULL;
	ret = 1;
out:
	free(best);
	free(path);
	return ret;
}
