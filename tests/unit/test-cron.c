/* Cron expressions for BACKUP_SCHEDULE: what parses, the messages, next run times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"
#include "err.h"
#include "tap.h"

/* Local time "YYYY-MM-DD HH:MM" of t, in the current TZ. */
static const char *fmt(long long t)
{
	static char buf[64];
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0)
		return "never";
	localtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm);
	return buf;
}

static long long at(const char *s)
{
	struct tm tm = { .tm_isdst = -1 };

	if (!strptime(s, "%Y-%m-%d %H:%M:%S", &tm)) {
		printf("# bad time %s\n", s);
		exit(1);
	}
	return (long long)mktime(&tm);
}

static int next_is(const char *expr, const char *from, const char *expect)
{
	struct bk_cron c;
	const char *got;

	if (bk_cron_parse(&c, expr) < 0) {
		printf("# %s: %s\n", expr, bk_err());
		return 0;
	}
	got = fmt(bk_cron_next(&c, at(from)));
	if (strcmp(got, expect))
		printf("# %s after %s: got %s, want %s\n", expr, from, got, expect);
	return !strcmp(got, expect);
}

static int fails_with(const char *expr, const char *msg)
{
	struct bk_cron c;

	bk_err_clear();
	if (bk_cron_parse(&c, expr) == 0) {
		printf("# '%s' parsed\n", expr);
		return 0;
	}
	if (strcmp(bk_err(), msg))
		printf("# '%s': %s\n", expr, bk_err());
	return !strcmp(bk_err(), msg);
}

int main(void)
{
	struct bk_cron c;

	setenv("TZ", "UTC", 1);
	tzset();
	ok(next_is("0 2 * * *", "2026-11-25 01:59:59", "2026-11-25 02:00"), "daily at 02:00, same day");
	ok(next_is("0 2 * * *", "2026-11-25 02:00:00", "2026-11-26 02:00"),
	   "strictly after: the run that starts now is not next");
	ok(next_is("* * * * *", "2026-11-25 02:00:30", "2026-11-25 02:01"), "every minute");
	ok(next_is("*/15 * * * *", "2026-11-25 02:16:00", "2026-11-25 02:30"), "step on *");
	ok(next_is("10-40/20 3 * * *", "2026-11-25 03:11:00", "2026-11-25 03:30"), "step on a range");
	ok(next_is("5,35 */6 * * *", "2026-11-25 06:36:00", "2026-11-25 12:05"), "lists");
	ok(next_is("0 0 1 jan *", "2026-11-25 00:00:00", "2027-01-01 00:00"), "month name, new year");
	ok(next_is("0 9 * * MON-fri", "2026-11-28 00:00:00", "2026-11-30 09:00"),
	   "weekday names, case-insensitive: Saturday to Monday");
	ok(next_is("0 9 * * 7", "2026-11-25 00:00:00", "2026-11-29 09:00"), "7 is Sunday");
	ok(next_is("0 9 * * 0", "2026-11-25 00:00:00", "2026-11-29 09:00"), "0 is Sunday");
	ok(next_is("0 0 13 * 5", "2026-11-25 00:00:00", "2026-11-27 00:00"),
	   "both day fields restricted: either matches (Friday 27th)");
	ok(next_is("0 0 */10 * 5", "2026-11-25 00:00:00", "2026-12-11 00:00"),
	   "a day field starting with * (*/10) counts as unrestricted: both must match");
	ok(next_is("0 0 1 * */2", "2026-11-25 00:00:00", "2026-12-01 00:00"),
	   "day of week */2 and the 1st: both must match");
	ok(next_is("0 12 29 2 *", "2026-03-01 00:00:00", "2028-02-29 12:00"), "29 February: leap year");
	ok(next_is("0 2 31 * *", "2026-11-01 00:00:00", "2026-12-31 02:00"), "31st skips November");

	setenv("TZ", "Asia/Bangkok", 1);
	tzset();
	{
		long long t;

		ok(next_is("0 2 * * *", "2026-11-25 01:00:00", "2026-11-25 02:00"),
		   "Asia/Bangkok: 02:00 local");
		bk_cron_parse(&c, "0 2 * * *");
		t = bk_cron_next(&c, at("2026-11-25 01:00:00"));
		setenv("TZ", "UTC", 1);
		tzset();
		ok(!strcmp(fmt(t), "2026-11-24 19:00"), "which is 19:00 UTC the day before");
	}
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	ok(next_is("30 2 * * *", "2026-03-29 01:00:00", "2026-03-29 03:30"),
	   "a time the clock skips (DST) runs after the jump");
	ok(next_is("30 2 * * *", "2026-03-29 04:00:00", "2026-03-30 02:30"),
	   "and the next day as usual");
	setenv("TZ", "UTC", 1);
	tzset();

	ok(bk_cron_parse(&c, "0 0 30 2 *") == 0 && bk_cron_next(&c, at("2026-01-01 00:00:00")) == -1,
	   "30 February parses but never comes");
	ok(bk_cron_parse(&c, "  0\t2 * *   * ") == 0, "blanks and tabs around fields");

	ok(fails_with("bad", "expected 5 fields (minute hour day-of-month month day-of-week), found 1"),
	   "one word");
	ok(fails_with("", "expected 5 fields (minute hour day-of-month month day-of-week), found 0"),
	   "empty");
	ok(fails_with("* * * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), "
		      "found more than 5"), "six fields");
	ok(fails_with("60 * * * *", "minute: 60 is out of range (0-59)"), "minute 60");
	ok(fails_with("0 24 * * *", "hour: 24 is out of range (0-23)"), "hour 24");
	ok(fails_with("0 0 0 * *", "day-of-month: 0 is out of range (1-31)"), "day 0");
	ok(fails_with("0 0 * 13 *", "month: 13 is out of range (1-12)"), "month 13");
	ok(fails_with("0 0 * * 8", "day-of-week: 8 is out of range (0-7)"), "weekday 8");
	ok(fails_with("0 0 * foo *", "month: unknown name 'foo'"), "unknown month name");
	ok(fails_with("x 0 * * *", "minute: expected a number at 'x'"), "letters in minute");
	ok(fails_with("0 mon * * *", "hour: expected a number at 'mon'"), "names only where they fit");
	ok(fails_with("5-3 * * * *", "minute: range 5-3 goes backwards"), "backwards range");
	ok(fails_with("5/10 * * * *", "minute: a step needs a range or '*' before '/'"),
	   "N/step is ambiguous between crons: refused");
	ok(fails_with("*/0 * * * *", "minute: step '0' is not a number from 1 to 59"), "step 0");
	ok(fails_with("*/x * * * *", "minute: step 'x' is not a number from 1 to 59"), "step x");
	ok(fails_with("1,,2 * * * *", "minute: expected a number at ',2'"), "empty list item");
	ok(fails_with("1; * * * *", "minute: unexpected ';' in '1;'"), "stray character");
	ok(fails_with("@daily", "expected 5 fields (minute hour day-of-month month day-of-week), found 1"),
	   "@daily is not a 5-field expression");
	return done_testing();
}
