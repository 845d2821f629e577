/* Archive names: critical_backup_YYYYMMDD_HHMMSS.tar.gz (see prune.h). Apart
 * from prune.c so that bk-monitor can use it without linking the archive
 * reader and libarchive: it must start fast. */
#include <string.h>
#include <time.h>

#include "prune.h"

static int digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int num(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

int bk_archive_name_time(const char *name, long long *t)
{
	size_t pl = strlen(BK_ARCHIVE_PREFIX);
	const char *s = name + pl;
	struct tm tm = { 0 };
	time_t tt;

	/* critical_backup_ YYYYMMDD _ HHMMSS .tar.gz */
	if (strncmp(name, BK_ARCHIVE_PREFIX, pl) || strlen(s) != 15 + strlen(BK_ARCHIVE_SUFFIX) ||
	    !digits(s, 8) || s[8] != '_' || !digits(s + 9, 6) || strcmp(s + 15, BK_ARCHIVE_SUFFIX))
		return 0;
	tm.tm_year = num(s, 4) - 1900;
	tm.tm_mon = num(s + 4, 2) - 1;
	tm.tm_mday = num(s + 6, 2);
	tm.tm_hour = num(s + 9, 2);
	tm.tm_min = num(s + 11, 2);
	tm.tm_sec = num(s + 13, 2);
	tm.tm_isdst = -1;
	if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return 2;
	tt = mktime(&tm);
	/* mktime normalises 31 February into March: a changed day means invalid */
	if (tt == (time_t)-1 || tm.tm_mday != num(s + 6, 2) || tm.tm_mon != num(s + 4, 2) - 1)
		return 2;
	*t = (long long)tt;
	return 1;
}
