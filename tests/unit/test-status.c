/* Unit tests for the run history (lib/ops/status.c): an ok run's reason with
 * warnings is one TSV field, cut at a character boundary, read back as is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "status.h"
#include "tap.h"

int main(void)
{
	char dir[] = "/tmp/bk-test-status.XXXXXX", reason[700], *p;
	struct bk_history_entry *h = NULL;
	size_t n = 0;

	if (!mkdtemp(dir))
		return 1;
	ok(bk_status_record_success(dir, 1000, 2048, 1.5, "/x/a.tar.gz", NULL) == 0,
	   "an ok run without warnings");
	ok(bk_status_record_success(dir, 1001, 2048, 1.5, "/x/b.tar.gz",
				    "2 warnings: drift: public.\"a\tb\" fell\r\nto 0") == 0,
	   "an ok run with warnings");
	/* 'e' then "ก" (3 bytes) repeated: the field's 511 bytes end inside one */
	p = reason + sprintf(reason, "1 warning: !");
	while (p + 4 < reason + sizeof(reason)) {
		memcpy(p, "e\xe0\xb8\x81", 4);
		p += 4;
	}
	*p = '\0';
	ok(bk_status_record_success(dir, 1002, 2048, 1.5, "/x/c.tar.gz", reason) == 0,
	   "an ok run with a long reason");
	ok(bk_history_read(dir, 10, &h, &n) == 0 && n == 3, "three lines read back");
	if (n == 3) {
		size_t len = strlen(h[2].reason);

		ok(h[0].ok && !strcmp(h[0].reason, "-"), "no warnings: '-'");
		ok(h[1].ok && !strcmp(h[1].reason, "2 warnings: drift: public.\"a b\" fell  to 0"),
		   "tabs and line ends are spaces: '%s'", h[1].reason);
		ok(len > 400 && len <= 511 && !strncmp(h[2].reason, reason, len) &&
		   (len - strlen("1 warning: !")) % 4 == 1, "cut at a character boundary (%zu)",
		   len);
	}
	free(h);
	bk_rm_rf(dir);
	return done_testing();
}
