/* Secret masking (ends for every secret, hides every covered byte) and the log
 * writer's escaping of control characters (one record, one line). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "log.h"
#include "tap.h"

/* text masked with the given secrets (NULL-terminated). */
static const char *masked(const char *text, const char *const *secrets)
{
	static char buf[512];

	bk_log_forget_secrets();
	for (; *secrets; secrets++)
		bk_log_secret(*secrets);
	snprintf(buf, sizeof(buf), "%s", text);
	bk_log_mask(buf, sizeof(buf));
	return buf;
}

static void mask_case(const char *text, const char *const *secrets, const char *want,
		      const char *what)
{
	const char *got = masked(text, secrets);

	if (!ok(!strcmp(got, want), "mask: %s", what))
		printf("#   got  '%s'\n#   want '%s'\n", got, want);
}

static char *strrstr_last(char *text)
{
	char *hit = NULL;

	for (char *p = text; (p = strstr(p, "]: ")) != NULL; p++)
		hit = p;
	return hit;
}

/* The message part of the last line bk_log wrote to path. */
static const char *last_message(const char *path)
{
	static char buf[4096];
	char *text = NULL, *msg;
	size_t len;

	buf[0] = '\0';
	if (bk_read_file(path, 1 << 20, &text, &len) < 0)
		return "(unreadable)";
	msg = strrstr_last(text);
	snprintf(buf, sizeof(buf), "%s", msg ? msg + 3 : text);
	free(text);
	return buf;
}

int main(void)
{
	char path[] = "/tmp/bk-test-log.XXXXXX";
	int fd = mkstemp(path);
	const char *got;

	mask_case("pw=hunter2 and hunter2.", (const char *const[]){ "hunter2", NULL },
		  "pw=*** and ***.", "every occurrence");
	mask_case("a *** b ***", (const char *const[]){ "***", NULL }, "a *** b ***",
		  "a secret equal to the mask ends");
	mask_case("x**** ****y", (const char *const[]){ "**", "****", NULL }, "x*** ***y",
		  "a secret holding the mask ends");
	mask_case("xabcdefx", (const char *const[]){ "abcd", "cdef", NULL }, "x***x",
		  "overlapping secrets: every covered byte hidden");
	mask_case("abcabcabc!", (const char *const[]){ "abc", NULL }, "***!",
		  "adjacent occurrences are one mask");
	mask_case("ab and abc", (const char *const[]){ "ab", NULL }, "ab and abc",
		  "secrets shorter than 3 bytes are not registered");
	mask_case("", (const char *const[]){ "abc", NULL }, "", "empty text");
	{
		char small[6] = "abcab";

		bk_log_forget_secrets();
		bk_log_secret("cab");
		bk_log_mask(small, 4);	/* only "abc" is looked at */
		ok(!strcmp(small, "abc"), "mask: at most size bytes, NUL-terminated (%s)", small);
	}
	bk_log_forget_secrets();

	if (fd < 0)
		return 1;
	close(fd);
	bk_log_set_stderr(0);
	bk_log_open("test-log", path);
	bk_info("bad\nname\ttab\rcr\033esc\x7f" "del \\x0a stays");
	got = last_message(path);
	ok(!strcmp(got, "bad\\nname\\ttab\\rcr\\x1besc\\x7fdel \\x0a stays\n"),
	   "log: control characters escaped, backslash kept (%s)", got);
	bk_log_secret("pa\nss");
	bk_info("secret pa\nss here");
	got = last_message(path);
	ok(!strcmp(got, "secret *** here\n"), "log: a secret with a newline is masked (%s)", got);
	bk_log_close();
	unlink(path);
	return done_testing();
}
