/* Unit tests for bk_format_size (lib/core/size.c): the one size format of
 * mails and log lines, at each unit's edges, and bk_format_rate's rates. */
#include <string.h>

#include "size.h"
#include "tap.h"

static void is_size(unsigned long long bytes, const char *want)
{
	char buf[BK_SIZE_BUF];

	bk_format_size(bytes, buf, sizeof(buf));
	ok(!strcmp(buf, want), "%llu bytes: '%s' (want '%s')", bytes, buf, want);
}

static void is_rate(double rate, const char *want)
{
	char buf[BK_SIZE_BUF];

	bk_format_rate(rate, buf, sizeof(buf));
	ok(!strcmp(buf, want), "%.1f bytes/s: '%s' (want '%s')", rate, buf, want);
}

int main(void)
{
	is_size(0, "0 B");
	is_size(3, "3 B");
	is_size(1023, "1023 B");
	is_size(1024, "1.0 KB");
	is_size(1536, "1.5 KB");
	is_size(10137, "9.9 KB");
	is_size(10200, "10 KB");
	is_size(812 * 1024, "812 KB");
	is_size(1048575, "1.0 MB");
	is_size(1468006, "1.4 MB");
	is_size(27ULL << 20, "27 MB");
	is_size((3ULL << 30) + (1ULL << 28), "3.2 GB");
	is_size(~0ULL, "16 EB");
	{
		char small[6];

		bk_format_size(1468006, small, sizeof(small));
		ok(!strcmp(small, "1.4 M"), "a short buffer is cut, not overrun: '%s'", small);
	}
	{
		char buf[64];

		ok(!strcmp(bk_format_span(5, buf, sizeof(buf)), "1 min"), "5 s: '%s'", buf);
		ok(!strcmp(bk_format_span(754, buf, sizeof(buf)), "12 min"), "754 s: '%s'", buf);
		ok(!strcmp(bk_format_span(3 * 3600 + 300, buf, sizeof(buf)), "3 h 5 min"),
		   "3 h 5 min: '%s'", buf);
		ok(!strcmp(bk_format_span(3 * 3600 + 30, buf, sizeof(buf)), "3 h"), "3 h: '%s'", buf);
		ok(!strcmp(bk_format_span(51 * 3600, buf, sizeof(buf)), "2 days 3 h"),
		   "51 h: '%s'", buf);
	}
	is_rate(0, "0 B/s");
	is_rate(-5, "0 B/s");
	is_rate(0.0 / 0.0, "0 B/s");
	is_rate(88.4 * 1048576, "88 MB/s");
	is_rate(1.25 * 1048576, "1.2 MB/s");
	is_rate(1e300, "888 PB/s");
	{
		char small[7];

		bk_format_rate(88.0 * 1048576, small, sizeof(small));
		ok(!strcmp(small, "88 MB"), "a short buffer drops the unit's /s, not overruns: '%s'",
		   small);
	}
	return done_testing();
}
