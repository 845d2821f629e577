/* Unit tests for bk_format_size (lib/core/size.c): the one size format of
 * mails and log lines, at each unit's edges. */
#include <string.h>

#include "size.h"
#include "tap.h"

static void is_size(unsigned long long bytes, const char *want)
{
	char buf[BK_SIZE_BUF];

	bk_format_size(bytes, buf, sizeof(buf));
	ok(!strcmp(buf, want), "%llu bytes: '%s' (want '%s')", bytes, buf, want);
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
	return done_testing();
}
