/* One size formatter for people (see size.h). */
#include <stdio.h>
#include <string.h>

#include "size.h"

const char *bk_format_size(unsigned long long bytes, char *buf, size_t len)
{
	static const char *const units[] = { "KB", "MB", "GB", "TB", "PB", "EB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%llu B", bytes);
		return buf;
	}
	v /= 1024.0;
	/* step up when rounding would print 1024 of this unit */
	while (u + 1 < sizeof(units) / sizeof(units[0]) && v >= 1023.5) {
		v /= 1024.0;
		u++;
	}
	if (v < 9.95)
		snprintf(buf, len, "%.1f %s", v, units[u]);
	else
		snprintf(buf, len, "%.0f %s", v, units[u]);
	return buf;
}

const char *bk_format_rate(double bytes_per_second, char *buf, size_t len)
{
	size_t n;

	if (!(bytes_per_second > 0))	/* NaN too */
		bytes_per_second = 0;
	if (bytes_per_second > 1e18)
		bytes_per_second = 1e18;
	bk_format_size((unsigned long long)(bytes_per_second + 0.5), buf, len);
	n = strlen(buf);
	if (n + 3 <= len)
		memcpy(buf + n, "/s", 3);
	return buf;
}

const char *bk_format_span(long long secs, char *buf, size_t len)
{
	if (secs < 3600)
		snprintf(buf, len, "%lld min", secs < 60 ? 1 : secs / 60);
	else if (secs < 48 * 3600 && secs % 3600 >= 60)
		snprintf(buf, len, "%lld h %lld min", secs / 3600, secs % 3600 / 60);
	else if (secs < 48 * 3600)
		snprintf(buf, len, "%lld h", secs / 3600);
	else
		snprintf(buf, len, "%lld days %lld h", secs / 86400, secs % 86400 / 3600);
	return buf;
}
