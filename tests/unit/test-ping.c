/* bk_ping against the local HTTP server tests/t0520-ping.sh starts: the right
 * paths, failures (HTTP 500, nobody listening, a refused scheme) returned as
 * -1 for logging only, nothing at all without BACKUP_PING_URL. */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "ping.h"
#include "tap.h"

static void use_url(const char *url)
{
	if (url)
		setenv("BACKUP_PING_URL", url, 1);
	else
		unsetenv("BACKUP_PING_URL");
	if (bk_config_load(NULL) < 0) {
		printf("Bail out! configuration: %s\n", bk_err());
		exit(1);
	}
}

int main(void)
{
	const char *base = getenv("BK_TEST_PING_URL");
	const char *dead = getenv("BK_TEST_PING_DEAD_URL");
	char *url;

	if (!base || !dead) {
		printf("1..0 # SKIP BK_TEST_PING_URL and BK_TEST_PING_DEAD_URL unset "
		       "(tests/t0520-ping.sh sets them)\n");
		return 0;
	}
	bk_log_open("test-ping", NULL);

	use_url(NULL);
	ok(bk_ping("start") == 0, "no BACKUP_PING_URL: nothing to do, no failure");

	url = bk_asprintf("%s/check-tok3n", base);
	use_url(url);
	ok(bk_ping("start") == 0, "start");
	ok(bk_ping("success") == 0, "success");
	ok(bk_ping("fail") == 0, "fail");
	free(url);

	url = bk_asprintf("%s/slash/", base);
	use_url(url);
	ok(bk_ping("start") == 0, "a trailing slash in the URL is not doubled");
	free(url);

	url = bk_asprintf("%s/broken-tok3n", base);
	use_url(url);
	ok(bk_ping("success") == -1, "HTTP 500 is a failure (reported for logging only)");
	free(url);

	use_url(dead);
	ok(bk_ping("start") == -1, "nobody listening: a failure, and bk_ping returns");

	use_url("ftp://127.0.0.1/x");
	ok(bk_ping("start") == -1, "only http and https are used");
	return done_testing();
}
