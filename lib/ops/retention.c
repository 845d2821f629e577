/* The retention decision (see retention.h): rules over a list of archive
 * times, goodness asked through the caller's callback, no I/O here. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "retention.h"

struct slot {
	long long t;
	size_t i;		/* index into the caller's array */
};

struct decision {
	struct bk_retention_item *v;
	struct slot *order;	/* newest first */
	size_t n;
	int (*is_good)(size_t i, void *ctx);
	void *ctx;
	size_t good, damaged;
};

static int newest_first(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? 1 : -1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Asked once per archive: bk-verify reads the whole file. */
static int ask(struct decision *d, size_t i)
{
	struct bk_retention_item *it = &d->v[i];

	if (it->good == BK_GOOD_UNKNOWN) {
		it->good = d->is_good(i, d->ctx) ? BK_GOOD_YES : BK_GOOD_NO;
		if (it->good == BK_GOOD_YES)
			d->good++;
		else
			d->damaged++;
	}
	return it->good == BK_GOOD_YES;
}

struct rule {
	unsigned bit;
	size_t off;		/* where the item keeps its period's name */
};

static const struct rule rules[] = {
	{ BK_KEEP_DAILY, offsetof(struct bk_retention_item, day) },
	{ BK_KEEP_WEEKLY, offsetof(struct bk_retention_item, week) },
	{ BK_KEEP_MONTHLY, offsetof(struct bk_retention_item, month) },
};

#define PERIOD_MAX sizeof(((struct bk_retention_item *)0)->day)

/* The local-time period t falls in, ISO 8601 week-year for weeks; "" when
 * it has none (out of range). */
static void period_of(long long t, unsigned bit, char *out)
{
	time_t tt = (time_t)t;
	struct tm tm;
	size_t len = 0;

	if ((long long)tt == t && localtime_r(&tt, &tm)) {
		if (bit == BK_KEEP_DAILY)
			len = strftime(out, PERIOD_MAX, "%Y-%m-%d", &tm);
		else if (bit == BK_KEEP_WEEKLY)
			len = strftime(out, PERIOD_MAX, "%G-W%V", &tm);
		else
			len = strftime(out, PERIOD_MAX, "%Y-%m", &tm);
	}
	out[len] = '\0';
}

static int seen(char (*picked)[PERIOD_MAX], size_t n, const char *p)
{
	for (size_t k = 0; k < n; k++)
		if (!strcmp(picked[k], p))
			return 1;
	return 0;
}

/*
 * The newest good archive of each of the newest `want` periods that have
 * one. Periods are remembered as a set, not as "the last one": where a
 * zone's clock goes back across midnight, times newest first are not
 * periods newest first.
 */
static void keep_periods(struct decision *d, const struct rule *r, int want)
{
	size_t cap = (size_t)want < d->n ? (size_t)want : d->n;
	char (*picked)[PERIOD_MAX] = calloc(cap ? cap : 1, PERIOD_MAX);
	size_t got = 0;

	if (!picked)
		abort();
	for (size_t k = 0; k < d->n && got < cap; k++) {
		struct bk_retention_item *it = &d->v[d->order[k].i];
		char p[PERIOD_MAX];

		period_of(it->t, r->bit, p);
		if (!p[0] || seen(picked, got, p) || !ask(d, d->order[k].i))
			continue;
		memcpy(picked[got++], p, PERIOD_MAX);
		it->reasons |= r->bit;
		memcpy((char *)it + r->off, p, PERIOD_MAX);
	}
	free(picked);
}

static void keep_newest_good(struct decision *d, int keep_min)
{
	size_t got = 0;

	for (size_t k = 0; k < d->n && got < (size_t)keep_min; k++) {
		if (!ask(d, d->order[k].i))
			continue;
		d->v[d->order[k].i].reasons |= BK_KEEP_MIN;
		got++;
	}
}

/* Never fewer than keep_min archives: the newest of the others stay too.
 * Those are all known damaged: fewer than keep_min good ones means every
 * archive was asked. */
static void keep_damaged(struct decision *d, int keep_min)
{
	size_t kept = 0;

	for (size_t i = 0; i < d->n; i++)
		kept += d->v[i].reasons != 0;
	for (size_t k = 0; k < d->n && kept < (size_t)keep_min; k++) {
		struct bk_retention_item *it = &d->v[d->order[k].i];

		if (it->reasons)
			continue;
		it->reasons = BK_KEEP_DAMAGED;
		kept++;
	}
}

static int check_policy(const struct bk_retention_policy *p)
{
	if (p->retention_days < 0)
		return bk_err_set("retention: %d days is negative", p->retention_days);
	if (p->keep_min < 1)
		return bk_err_set("retention: keep-min %d is less than 1", p->keep_min);
	if (p->keep_daily < 0 || p->keep_weekly < 0 || p->keep_monthly < 0)
		return bk_err_set("retention: a daily, weekly or monthly count is negative");
	return 0;
}

/* Whole days, like find -mtime +N: an archive from exactly N days ago stays. */
static size_t keep_young(struct decision *d, long long now, int days)
{
	size_t expired = 0;

	for (size_t i = 0; i < d->n; i++) {
		long long age = now - d->v[i].t;

		if (age < 0 || age / 86400 <= days)
			d->v[i].reasons = BK_KEEP_RETENTION;
		else
			expired++;
	}
	return expired;
}

static void summarise(const struct decision *d, const struct bk_retention_policy *p,
		      struct bk_retention_summary *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].reasons)
			sum->kept++;
		else
			sum->removed++;
	}
	sum->good = d->good;
	sum->damaged = d->damaged;
	sum->short_of_min = d->damaged && d->good < (size_t)p->keep_min;
}

int bk_retention_decide(struct bk_retention_item *v, size_t n, long long now,
			const struct bk_retention_policy *p,
			int (*is_good)(size_t i, void *ctx), void *ctx,
			struct bk_retention_summary *sum)
{
	struct decision d = { .v = v, .n = n, .is_good = is_good, .ctx = ctx };
	const int want[] = { p->keep_daily, p->keep_weekly, p->keep_monthly };

	if (check_policy(p) < 0)
		return -1;
	d.order = calloc(n ? n : 1, sizeof(*d.order));
	if (!d.order)
		abort();
	for (size_t i = 0; i < n; i++) {
		v[i].reasons = 0;
		v[i].good = BK_GOOD_UNKNOWN;
		v[i].day[0] = v[i].week[0] = v[i].month[0] = '\0';
		d.order[i].t = v[i].t;
		d.order[i].i = i;
	}
	qsort(d.order, n, sizeof(*d.order), newest_first);
	if (keep_young(&d, now, p->retention_days)) {
		keep_newest_good(&d, p->keep_min);
		for (size_t r = 0; r < sizeof(rules) / sizeof(rules[0]); r++)
			if (want[r])
				keep_periods(&d, &rules[r], want[r]);
		keep_damaged(&d, p->keep_min);
	}
	if (sum)
		summarise(&d, p, sum);
	free(d.order);
	return 0;
}

static void note(char *buf, const char *s)
{
	size_t len = strlen(buf);

	snprintf(buf + len, BK_RETENTION_NOTES_MAX - len, "%s%s", len ? ", " : "", s);
}

char *bk_retention_describe(const struct bk_retention_item *it, char *buf)
{
	char p[PERIOD_MAX + 8];

	buf[0] = '\0';
	if (!it->reasons)
		note(buf, "expired");
	if (it->reasons & BK_KEEP_RETENTION)
		note(buf, "retention");
	if (it->reasons & BK_KEEP_MIN)
		note(buf, "keep-min");
	if (it->reasons & BK_KEEP_DAILY) {
		snprintf(p, sizeof(p), "daily %s", it->day);
		note(buf, p);
	}
	if (it->reasons & BK_KEEP_WEEKLY) {
		snprintf(p, sizeof(p), "weekly %s", it->week);
		note(buf, p);
	}
	if (it->reasons & BK_KEEP_MONTHLY) {
		snprintf(p, sizeof(p), "monthly %s", it->month);
		note(buf, p);
	}
	if (it->reasons & BK_KEEP_DAMAGED)
		note(buf, "keep-min-damaged");
	if (it->good == BK_GOOD_NO)
		note(buf, "damaged");
	return buf;
}
