/* Cron expressions: parsing and the next matching minute (see cron.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cron.h"
#include "err.h"

struct field {
	const char *name;
	int min, max;
	const char *const *names;	/* names[i] is value min + i, or NULL */
};

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const dow_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day-of-month", 1, 31, NULL },
	{ "month", 1, 12, month_names },
	{ "day-of-week", 0, 7, dow_names },	/* 7 is Sunday too */
};

/* A number or a name at *pp; advances *pp. */
static int parse_value(const struct field *f, const char **pp, int *out)
{
	const char *p = *pp;
	long v = 0;

	if (isdigit((unsigned char)*p)) {
		while (isdigit((unsigned char)*p)) {
			v = v * 10 + (*p++ - '0');
			if (v > 1000)
				break;
		}
	} else if (f->names && isalpha((unsigned char)p[0]) && isalpha((unsigned char)p[1]) &&
		   isalpha((unsigned char)p[2]) && !isalpha((unsigned char)p[3])) {
		int i;

		for (i = 0; f->names[i]; i++)
			if (!strncasecmp(p, f->names[i], 3))
				break;
		if (!f->names[i])
			return bk_err_set("%s: unknown name '%.3s'", f->name, p);
		v = f->min + i;
		p += 3;
	} else {
		return bk_err_set("%s: expected a number%s at '%s'", f->name,
				  f->names ? " or a name" : "", p);
	}
	if (v < f->min || v > f->max)
		return bk_err_set("%s: %ld is out of range (%d-%d)", f->name, v, f->min, f->max);
	*pp = p;
	*out = (int)v;
	return 0;
}

/* One comma-separated field into bits (bit n = value n). */
static int parse_field(const struct field *f, const char *text, unsigned long long *bits,
		       int *star)
{
	const char *p = text;

	*bits = 0;
	*star = *p == '*';
	for (;;) {
		int lo, hi, step = 1, ranged = 0;

		if (*p == '*') {
			lo = f->min;
			hi = f->max == 7 ? 6 : f->max;
			p++;
			ranged = 1;
		} else {
			if (parse_value(f, &p, &lo) < 0)
				return -1;
			hi = lo;
			if (*p == '-') {
				p++;
				if (parse_value(f, &p, &hi) < 0)
					return -1;
				if (hi < lo)
					return bk_err_set("%s: range %d-%d goes backwards", f->name,
							  lo, hi);
				ranged = 1;
			}
		}
		if (*p == '/') {
			const char *s = ++p;
			long v = 0;

			if (!ranged)
				return bk_err_set("%s: a step needs a range or '*' before '/'",
						  f->name);
			while (isdigit((unsigned char)*p) && v <= 1000)
				v = v * 10 + (*p++ - '0');
			if (p == s || v < 1 || v > f->max || (*p && *p != ','))
				return bk_err_set("%s: step '%.*s' is not a number from 1 to %d",
						  f->name, (int)strcspn(s, ","), s, f->max);
			step = (int)v;
		}
		for (int v = lo; v <= hi; v += step)
			*bits |= 1ULL << (v == 7 && f->max == 7 ? 0 : v);
		if (*p == '\0')
			return 0;
		if (*p != ',')
			return bk_err_set("%s: unexpected '%c' in '%s'", f->name, *p, text);
		p++;
	}
}

int bk_cron_parse(struct bk_cron *c, const char *expr)
{
	char buf[256], *word[6], *save = NULL;
	unsigned long long bits[5];
	int star[5], n = 0;

	memset(c, 0, sizeof(*c));
	if (strlen(expr) >= sizeof(buf))
		return bk_err_set("too long");
	strcpy(buf, expr);
	for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == 6)
			break;
		word[n++] = w;
	}
	if (n != 5)
		return bk_err_set("expected 5 fields (minute hour day-of-month month day-of-week), "
				  "found %s%d", n == 6 ? "more than " : "", n == 6 ? 5 : n);
	for (int i = 0; i < 5; i++)
		if (parse_field(&fields[i], word[i], &bits[i], &star[i]) < 0)
			return -1;
	c->minute = bits[0];
	c->hour = (unsigned long)bits[1];
	c->dom = (unsigned long)bits[2];
	c->month = (unsigned long)bits[3];
	c->dow = (unsigned long)bits[4];
	c->dom_star = star[2];
	c->dow_star = star[4];
	return 0;
}

static int day_matches(const struct bk_cron *c, const struct tm *tm)
{
	int dom = (c->dom >> tm->tm_mday) & 1, dow = (c->dow >> tm->tm_wday) & 1;

	if (!((c->month >> (tm->tm_mon + 1)) & 1))
		return 0;
	/* crontab(5): if both day fields are restricted, either one will do */
	if (c->dom_star || c->dow_star)
		return dom && dow;
	return dom || dow;
}

long long bk_cron_next(const struct bk_cron *c, long long after)
{
	time_t t = (time_t)after;
	struct tm start;

	if (!localtime_r(&t, &start))
		return -1;
	/* 28 years: the calendar repeats, so a date that never comes is found out */
	for (int d = 0; d <= 28 * 366; d++) {
		struct tm day = { .tm_year = start.tm_year, .tm_mon = start.tm_mon,
				  .tm_mday = start.tm_mday + d, .tm_hour = 12, .tm_isdst = -1 };

		/* noon: a daylight saving change never moves it to another day */
		if (mktime(&day) == (time_t)-1)
			return -1;
		if (!day_matches(c, &day))
			continue;
		for (int h = 0; h < 24; h++) {
			if (!((c->hour >> h) & 1))
				continue;
			for (int m = 0; m < 60; m++) {
				struct tm tm = { .tm_year = day.tm_year, .tm_mon = day.tm_mon,
						 .tm_mday = day.tm_mday, .tm_hour = h, .tm_min = m,
						 .tm_isdst = -1 };
				time_t when;

				if (!((c->minute >> m) & 1))
					continue;
				/* a time skipped by a clock change runs when the clock has moved on */
				when = mktime(&tm);
				if (when != (time_t)-1 && when > t)
					return (long long)when;
			}
		}
	}
	return -1;
}
