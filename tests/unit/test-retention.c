/* The retention decision: kept sets computed by hand for several policies
 * over two years of archives with gaps, duplicates and damaged ones; which
 * archives are asked whether they are good; DST, month, year and ISO week
 * boundaries in local time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "retention.h"
#include "tap.h"

static void zone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* "YYYY-MM-DD HH:MM" in local time (TZ), as bk-pack names an archive. */
static long long at(const char *s)
{
	struct tm tm = { .tm_isdst = -1 };

	if (!strptime(s, "%Y-%m-%d %H:%M", &tm)) {
		printf("# bad time %s\n", s);
		exit(1);
	}
	return (long long)mktime(&tm);
}

static long long utc(const char *s)
{
	struct tm tm = { 0 };

	if (!strptime(s, "%Y-%m-%d %H:%M", &tm)) {
		printf("# bad time %s\n", s);
		exit(1);
	}
	return (long long)timegm(&tm);
}

/* The archives, newest first; a letter names each, '*' marks damaged. */
struct arch {
	const char *when;
	int damaged;
};

static const struct arch two_years[] = {
	{ "2026-12-01 02:00", 0 },	/* a: today */
	{ "2026-11-30 23:00", 1 },	/* b: three on one day, the newest damaged */
	{ "2026-11-30 02:00", 0 },	/* c */
	{ "2026-11-30 01:00", 0 },	/* d */
	{ "2026-11-29 02:00", 0 },	/* e: Sunday, W48 */
	{ "2026-11-27 02:00", 0 },	/* f: no backup on the 28th */
	{ "2026-11-26 02:00", 1 },	/* g: the day's only one, damaged */
	{ "2026-11-23 02:00", 0 },	/* h: Monday, W48 */
	{ "2026-11-22 02:00", 0 },	/* i: Sunday, W47 */
	{ "2026-11-16 02:00", 0 },	/* j: Monday, W47 */
	{ "2026-11-01 02:00", 0 },	/* k: Sunday, W44 */
	{ "2026-10-31 02:00", 0 },	/* l */
	{ "2026-10-15 02:00", 0 },	/* m */
	{ "2026-09-30 02:00", 1 },	/* n: September's newest, damaged */
	{ "2026-09-10 02:00", 0 },	/* o */
	{ "2026-07-01 02:00", 0 },	/* p: no backup in August */
	{ "2026-01-01 02:00", 0 },	/* q: 2026-W01 */
	{ "2025-12-31 02:00", 0 },	/* r: 2026-W01 too */
	{ "2025-12-28 02:00", 0 },	/* s: 2025-W52 */
	{ "2025-06-15 02:00", 0 },	/* t */
	{ "2025-01-05 02:00", 0 },	/* u: 2025-W01 */
	{ "2024-12-30 02:00", 0 },	/* v: 2025-W01 too */
	{ "2024-12-15 02:00", 1 },	/* w: the oldest, damaged */
};
#define N_TWO_YEARS (sizeof(two_years) / sizeof(two_years[0]))

struct run {
	const struct arch *a;
	size_t n;
	int *asked;
	size_t calls;
};

static int is_good(size_t i, void *ctx)
{
	struct run *r = ctx;

	r->asked[i]++;
	r->calls++;
	return !r->a[i].damaged;
}

static struct bk_retention_item items[64];
static int asked[64];
static struct bk_retention_summary sum;

static struct run decide(const struct arch *a, size_t n, const char *now,
			 struct bk_retention_policy p)
{
	struct run r = { a, n, asked, 0 };

	memset(asked, 0, sizeof(asked));
	for (size_t i = 0; i < n; i++)
		items[i].t = at(a[i].when);
	if (bk_retention_decide(items, n, at(now), &p, is_good, &r, &sum) < 0)
		printf("# %s\n", bk_err());
	return r;
}

/* The kept ones as letters, 'a' for the first. */
static const char *kept(size_t n)
{
	static char buf[65];
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		if (items[i].reasons)
			buf[len++] = (char)('a' + i);
	buf[len] = '\0';
	return buf;
}

static int kept_is(size_t n, const char *expect, const char *what)
{
	const char *got = kept(n);

	if (!ok(!strcmp(got, expect), "%s: kept %s", what, expect))
		printf("# got      %s\n", got);
	return 0;
}

static int asked_once(const struct run *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->asked[i] > 1)
			return 0;
	return 1;
}

static void test_defaults(void)
{
	struct bk_retention_policy p = { .retention_days = 30, .keep_min = 3 };
	struct run r;

	zone("UTC");
	r = decide(two_years, N_TWO_YEARS, "2026-12-01 12:00", p);
	kept_is(N_TWO_YEARS, "abcdefghijk", "defaults: 30 days, the newest 3 good");
	ok(items[0].reasons == (BK_KEEP_RETENTION | BK_KEEP_MIN) &&
	   items[1].reasons == BK_KEEP_RETENTION && items[2].reasons == (BK_KEEP_RETENTION | BK_KEEP_MIN) &&
	   items[3].reasons == (BK_KEEP_RETENTION | BK_KEEP_MIN) && items[4].reasons == BK_KEEP_RETENTION,
	   "defaults: keep-min is the newest 3 good, the damaged one skipped");
	ok(r.calls == 4 && items[4].good == BK_GOOD_UNKNOWN,
	   "defaults: only the newest four are asked (%zu)", r.calls);
	ok(sum.kept == 11 && sum.removed == 12 && sum.good == 3 && sum.damaged == 1 &&
	   !sum.short_of_min, "defaults: the summary counts");

	r = decide(two_years, 11, "2026-12-01 12:00", p);
	ok(r.calls == 0 && !strcmp(kept(11), "abcdefghijk"),
	   "nothing past retention: all kept, none asked");
}

static const char *const p2_notes[N_TWO_YEARS] = {
	"retention, keep-min, daily 2026-12-01, weekly 2026-W49, monthly 2026-12",
	"retention, damaged",
	"retention, keep-min, daily 2026-11-30, monthly 2026-11",
	"retention, keep-min",
	"retention, daily 2026-11-29, weekly 2026-W48",
	"retention, daily 2026-11-27",
	"retention, damaged",
	"daily 2026-11-23",
	"daily 2026-11-22, weekly 2026-W47",
	"daily 2026-11-16",
	"weekly 2026-W44",
	"monthly 2026-10",
	"expired",
	"expired, damaged",
	"monthly 2026-09",
	"monthly 2026-07",
	"monthly 2026-01",
	"monthly 2025-12",
	"expired",
	"monthly 2025-06",
	"monthly 2025-01",
	"monthly 2024-12",
	"expired",
};

static void test_gfs(void)
{
	struct bk_retention_policy p = { .retention_days = 7, .keep_min = 3, .keep_daily = 7,
					 .keep_weekly = 4, .keep_monthly = 12 };
	char buf[BK_RETENTION_NOTES_MAX];
	struct run r;
	int same = 1;

	zone("UTC");
	r = decide(two_years, N_TWO_YEARS, "2026-12-01 12:00", p);
	kept_is(N_TWO_YEARS, "abcdefghijklopqrtuv", "7 days, 7 daily, 4 weekly, 12 monthly");
	for (size_t i = 0; i < N_TWO_YEARS; i++) {
		bk_retention_describe(&items[i], buf);
		if (strcmp(buf, p2_notes[i])) {
			printf("# %c: got '%s', expected '%s'\n", (char)('a' + i), buf, p2_notes[i]);
			same = 0;
		}
	}
	ok(same, "7/7/4/12: every archive's reasons");
	ok(r.calls == 20 && asked_once(&r) && !r.asked[12] && !r.asked[18] && !r.asked[22],
	   "7/7/4/12: asked once each, not those an older period's pick makes moot (%zu)",
	   r.calls);

	/* in any order: the same verdicts */
	{
		struct arch rev[N_TWO_YEARS];
		int match = 1;

		for (size_t i = 0; i < N_TWO_YEARS; i++)
			rev[i] = two_years[N_TWO_YEARS - 1 - i];
		decide(rev, N_TWO_YEARS, "2026-12-01 12:00", p);
		for (size_t i = 0; i < N_TWO_YEARS; i++)
			if (strcmp(bk_retention_describe(&items[N_TWO_YEARS - 1 - i], buf), p2_notes[i]))
				match = 0;
		ok(match, "7/7/4/12: oldest first in, the same verdicts out");
	}
}

static void test_weekly_all(void)
{
	struct bk_retention_policy p = { .retention_days = 1, .keep_min = 1, .keep_weekly = 60 };

	zone("UTC");
	decide(two_years, N_TWO_YEARS, "2026-12-01 12:00", p);
	kept_is(N_TWO_YEARS, "abcdeikmopqstu",
		"1 day, keep-min 1, 60 weekly: one per ISO week, across week-years");
	ok(!strcmp(items[16].week, "2026-W01") && !(items[17].reasons & BK_KEEP_WEEKLY) &&
	   !strcmp(items[18].week, "2025-W52") && !strcmp(items[20].week, "2025-W01") &&
	   !items[21].reasons, "2025-12-31 is in 2026-W01, 2024-12-30 in 2025-W01");
	ok(items[1].good == BK_GOOD_UNKNOWN && items[13].good == BK_GOOD_NO &&
	   items[22].good == BK_GOOD_NO && !items[22].reasons,
	   "a damaged week's only archive is asked and removed");
}

static void test_monthly_counts_periods_with_backups(void)
{
	struct bk_retention_policy p = { .retention_days = 1, .keep_min = 1, .keep_monthly = 3 };

	zone("UTC");
	decide(two_years, N_TWO_YEARS, "2026-12-01 12:00", p);
	/* 2026-12 a, 2026-11 c (b damaged), 2026-10 l; August has none and is
	 * not counted, so September is not reached */
	kept_is(N_TWO_YEARS, "abcdl", "3 monthly: the last 3 months that have a backup");
	p.keep_monthly = 5;
	decide(two_years, N_TWO_YEARS, "2026-12-01 12:00", p);
	kept_is(N_TWO_YEARS, "abcdlop", "5 monthly: September's damaged newest skipped, July next");
	p.keep_monthly = 0;
	p.keep_daily = 3;
	decide(two_years, N_TWO_YEARS, "2026-12-01 12:00", p);
	kept_is(N_TWO_YEARS, "abcde", "3 daily: one a day, the duplicates' newest good");
}

static const struct arch all_old[] = {
	{ "2026-01-10 02:00", 1 },
	{ "2026-01-09 02:00", 0 },
	{ "2026-01-08 02:00", 1 },
	{ "2026-01-07 02:00", 1 },
	{ "2026-01-06 02:00", 0 },
};

static void test_damaged(void)
{
	struct bk_retention_policy p = { .retention_days = 30, .keep_min = 3 };
	char buf[BK_RETENTION_NOTES_MAX];
	struct run r;

	zone("UTC");
	r = decide(all_old, 5, "2026-12-01 12:00", p);
	kept_is(5, "abe", "too few good: the newest damaged one stays too");
	ok(!strcmp(bk_retention_describe(&items[0], buf), "keep-min-damaged, damaged") &&
	   !strcmp(bk_retention_describe(&items[1], buf), "keep-min") &&
	   !strcmp(bk_retention_describe(&items[2], buf), "expired, damaged"),
	   "too few good: the notes say so");
	ok(sum.short_of_min && sum.good == 2 && sum.damaged == 3 && r.calls == 5,
	   "too few good: short of keep-min, every archive asked");

	p.keep_min = 2;
	decide(all_old, 5, "2026-12-01 12:00", p);
	ok(!strcmp(kept(5), "be") && !sum.short_of_min, "enough good: the damaged go");

	p.keep_daily = 10;
	decide(all_old, 5, "2026-12-01 12:00", p);
	ok(!strcmp(kept(5), "be") && !(items[0].reasons & BK_KEEP_DAILY),
	   "a day whose only archive is damaged gets no daily");
}

static const struct arch berlin[] = {
	{ "2026-11-01 00:30", 0 },	/* a: November in Berlin, October in UTC */
	{ "2026-10-31 23:30", 0 },	/* b */
	{ "2026-10-26 00:30", 0 },	/* c */
	/* d, e: 02:30 twice on 2026-10-25 (filled in as UTC below) */
	{ "2026-10-25 02:30", 0 },	/* d: CET, the second */
	{ "2026-10-25 02:30", 0 },	/* e: CEST, the first */
	{ "2026-10-24 23:30", 0 },	/* f */
	{ "2026-03-29 23:30", 0 },	/* g: CEST, 21:30 UTC */
	{ "2026-03-29 02:30", 0 },	/* h: does not exist: mktime moves it */
	{ "2026-03-29 00:30", 0 },	/* i: CET, 03-28 in UTC */
	{ "2026-03-28 12:00", 0 },	/* j */
};

static void test_dst(void)
{
	struct bk_retention_policy p = { .retention_days = 1, .keep_min = 1, .keep_daily = 30,
					 .keep_monthly = 30 };
	struct bk_retention_item *v = items;
	struct run r = { berlin, 10, asked, 0 };

	if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) ||
	    access("/usr/share/zoneinfo/America/New_York", R_OK)) {
		ok(1, "# SKIP DST: no tzdata");
		return;
	}
	zone("Europe/Berlin");
	for (size_t i = 0; i < 10; i++)
		v[i].t = at(berlin[i].when);
	v[3].t = utc("2026-10-25 01:30");
	v[4].t = utc("2026-10-25 00:30");
	bk_retention_decide(v, 10, at("2026-12-01 12:00"), &p, is_good, &r, &sum);
	ok(!strcmp(v[0].day, "2026-11-01") && !strcmp(v[0].month, "2026-11") &&
	   !strcmp(v[1].day, "2026-10-31") && !strcmp(v[1].month, "2026-10"),
	   "Berlin: 00:30 on 1 November is November, 23:30 the day before October");
	ok(!strcmp(v[3].day, "2026-10-25") && !(v[4].reasons & BK_KEEP_DAILY) && !v[4].reasons,
	   "Berlin: 02:30 twice on the day the clocks go back: one day, the later kept");
	ok(!strcmp(v[6].day, "2026-03-29") && !(v[7].reasons) && !(v[8].reasons) &&
	   !strcmp(v[9].day, "2026-03-28"),
	   "Berlin: 23:30 and 00:30 on the day the clocks go forward are one day");
	ok(!strcmp(kept(10), "abcdfgj"), "Berlin: one per local day");

	zone("America/New_York");
	v[0].t = at("2026-03-08 23:30");	/* EDT: 03:30 UTC on the 9th */
	v[1].t = at("2026-03-08 02:30");	/* does not exist */
	v[2].t = at("2026-03-08 00:30");	/* EST */
	v[3].t = at("2026-03-07 23:30");
	bk_retention_decide(v, 4, at("2026-06-01 12:00"), &p, is_good, &r, &sum);
	ok(!strcmp(v[0].day, "2026-03-08") && !v[1].reasons && !v[2].reasons &&
	   !strcmp(v[3].day, "2026-03-07"),
	   "New York: the day the clocks go forward is one day from 00:30 to 23:30");
}

static const struct arch week53[] = {
	{ "2027-01-04 02:00", 0 },	/* a: Monday, 2027-W01 */
	{ "2027-01-03 02:00", 0 },	/* b: Sunday, 2026-W53 */
	{ "2027-01-01 02:00", 0 },	/* c: 2026-W53 */
	{ "2026-12-31 02:00", 0 },	/* d: 2026-W53, December */
	{ "2026-12-27 02:00", 0 },	/* e: Sunday, 2026-W52 */
};

static void test_week53(void)
{
	struct bk_retention_policy p = { .retention_days = 1, .keep_min = 1, .keep_weekly = 3,
					 .keep_monthly = 2 };

	zone("UTC");
	decide(week53, 5, "2027-06-01 12:00", p);
	ok(!strcmp(items[0].week, "2027-W01") && !strcmp(items[1].week, "2026-W53") &&
	   !strcmp(items[4].week, "2026-W52"), "2027-01-03 is in 2026-W53, 2027-01-04 in 2027-W01");
	ok(!strcmp(items[0].month, "2027-01") && !strcmp(items[3].month, "2026-12") &&
	   !(items[2].reasons & (BK_KEEP_WEEKLY | BK_KEEP_MONTHLY)),
	   "2027-01-01 is in 2026-W53 and January; 2026-12-31 is December's");
	kept_is(5, "abde", "3 weekly, 2 monthly across the year");
	p.keep_weekly = 1;
	p.keep_monthly = 0;
	decide(week53 + 2, 2, "2027-06-01 12:00", p);
	ok(!strcmp(items[0].week, "2026-W53") && !items[1].reasons,
	   "2026-12-31 and 2027-01-01 are one ISO week");
}

static void test_ties_and_bad_policy(void)
{
	struct bk_retention_policy p = { .retention_days = 1, .keep_min = 1, .keep_daily = 5 };
	struct bk_retention_item v[2] = { { .t = 1000000 }, { .t = 1000000 } };
	struct run r = { all_old + 1, 2, asked, 0 };
	int ret;

	zone("UTC");
	bk_retention_decide(v, 2, 1000000 + 40 * 86400LL, &p, is_good, &r, &sum);
	ok(v[0].reasons == (BK_KEEP_MIN | BK_KEEP_DAILY) && !v[1].reasons,
	   "two archives with one time: the first in the list counts as newer");
	p.keep_min = 0;
	ret = bk_retention_decide(v, 2, 0, &p, is_good, &r, NULL);
	ok(ret == -1 && strstr(bk_err(), "keep-min"), "keep-min 0 is refused: %s", bk_err());
	p.keep_min = 1;
	p.keep_weekly = -1;
	ok(bk_retention_decide(v, 2, 0, &p, is_good, &r, NULL) == -1, "a negative count is refused");
	p.keep_weekly = 0;
	ok(bk_retention_decide(NULL, 0, 0, &p, is_good, &r, &sum) == 0 && sum.kept == 0 &&
	   sum.removed == 0, "no archives: nothing to do");
}

int main(void)
{
	test_defaults();
	test_gfs();
	test_weekly_all();
	test_monthly_counts_periods_with_backups();
	test_damaged();
	test_dst();
	test_week53();
	test_ties_and_bad_policy();
	return done_testing();
}
