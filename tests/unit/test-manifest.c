/* Unit tests for the MANIFEST parser and writer (lib/manifest.c): good text,
 * truncation, bad digests and numbers, unsafe paths, duplicates, round trip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "manifest.h"
#include "tap.h"

#define D1 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define D2 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char good[] =
	"# format: bk 1\n"
	"# created: 2026-11-25T02:00:03+07:00\n"
	"# table: users.sql 2 public.users\n"
	"# table: users.sql 0 public.\"UserRole\"\n"
	"# warning: table public.missing does not exist\n"
	"#a plain comment\n"
	D1 " 1234 2 users.sql\n"
	D2 " 0 - BACKUP_INFO.txt\n"
	D1 " 99 - ssl/cert file.pem\n";

static int parse(const char *text, size_t len)
{
	struct bk_manifest m;
	int ret;

	bk_manifest_init(&m);
	ret = bk_manifest_parse(&m, text, len);
	bk_manifest_free(&m);
	return ret;
}

/* Parsing must fail with a message containing want. */
static void bad(const char *text, const char *want, const char *title)
{
	int ret = parse(text, strlen(text));

	ok(ret == -1 && strstr(bk_err(), want) != NULL, "%s", title);
	if (ret != -1 || !strstr(bk_err(), want))
		printf("# want '%s', got %d '%s'\n", want, ret, ret ? bk_err() : "");
}

static void test_good(void)
{
	struct bk_manifest m, m2;
	const struct bk_manifest_entry *e;
	char *text;
	size_t i = 0;

	bk_manifest_init(&m);
	ok(bk_manifest_parse(&m, good, strlen(good)) == 0, "a good MANIFEST parses");
	ok(m.n_entries == 3, "three members");
	e = bk_manifest_find(&m, "users.sql");
	ok(e && e->bytes == 1234 && e->rows == 2 && !strcmp(e->sha256, D1),
	   "sha256, bytes and rows of a data file");
	e = bk_manifest_find(&m, "BACKUP_INFO.txt");
	ok(e && e->rows == -1 && e->bytes == 0, "'-' rows is -1");
	ok(bk_manifest_find(&m, "ssl/cert file.pem") != NULL, "a path with a space and a directory");
	ok(bk_manifest_find(&m, "nope") == NULL, "find of an unlisted path is NULL");
	ok(!strcmp(bk_manifest_meta_get(&m, "format"), "bk 1"), "metadata value");
	ok(!strcmp(bk_manifest_meta_next(&m, "table", &i), "users.sql 2 public.users") &&
	   !strcmp(bk_manifest_meta_next(&m, "table", &i), "users.sql 0 public.\"UserRole\"") &&
	   bk_manifest_meta_next(&m, "table", &i) == NULL, "repeated metadata keys in order");
	ok(bk_manifest_meta_get(&m, "a plain comment") == NULL &&
	   bk_manifest_meta_get(&m, "missing") == NULL, "plain comments are not metadata");

	text = bk_manifest_format(&m);
	bk_manifest_init(&m2);
	ok(bk_manifest_parse(&m2, text, strlen(text)) == 0 && m2.n_entries == 3 &&
	   m2.n_meta == m.n_meta && bk_manifest_find(&m2, "users.sql")->rows == 2,
	   "format then parse gives the same manifest");
	free(text);
	bk_manifest_free(&m2);
	bk_manifest_free(&m);
}

static void test_bad(void)
{
	char big[100];

	bad("", "MANIFEST is empty", "an empty MANIFEST");
	bad("# format: bk 1\n" D1 " 12 3 users.sql", "line 2: missing final newline (truncated?)",
	    "a MANIFEST cut in its last line");
	bad("# format: bk 1\n" D1 " 12", "line 2: missing final newline",
	    "a MANIFEST cut inside a member line");
	bad(D1 " 12 3\n", "line 1: expected 'sha256 bytes rows path'", "a line without a path");
	bad("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0 1 - x\n",
	    "line 1: bad sha256", "a digest one digit short");
	bad("9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08 1 - x\n",
	    "line 1: bad sha256", "an upper-case digest");
	bad("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g 1 - x\n",
	    "line 1: bad sha256", "a digest with a non-hex digit");
	bad(D1 " 12a 3 x\n", "line 1: bad size", "a size that is not a number");
	bad(D1 " -1 3 x\n", "line 1: bad size", "a negative size");
	bad(D1 " 99999999999999999999 3 x\n", "line 1: bad size", "a size that overflows");
	bad(D1 " 12 x3 y\n", "line 1: bad row count", "a bad row count");
	bad(D1 " 12 3 ../etc/passwd\n", "line 1: unsafe member path", "a path with ..");
	bad(D1 " 12 3 a/../../b\n", "line 1: unsafe member path", "a path with .. inside");
	bad(D1 " 12 3 /etc/passwd\n", "line 1: unsafe member path", "an absolute path");
	bad(D1 " 12 3 a//b\n", "line 1: unsafe member path", "a path with //");
	bad(D1 " 12 3 ./a\n", "line 1: unsafe member path", "a path with .");
	bad(D1 " 12 3 a\\b\n", "line 1: unsafe member path", "a path with a backslash");
	bad(D1 " 12 3 a\tb\n", "line 1: unsafe member path", "a path with a tab");
	bad(D1 " 12 3 a\rb\n", "line 1: unsafe member path", "a path with a carriage return");
	bad(D1 " 12 3 \n", "line 1: unsafe member path", "an empty path");
	bad(D1 " 1 - a.sql\n" D2 " 2 - b.sql\n" D1 " 1 - a.sql\n",
	    "line 3: member a.sql listed twice", "a path listed twice");
	bad("# format: bk 1\n#key-without-space\n# bad meta line\n",
	    "line 3: expected '# key: value'", "a metadata line without ': '");
	ok(parse("# a: b\0\n", 8) == -1 && strstr(bk_err(), "NUL byte"), "a NUL byte");
	{
		size_t n = BK_MANIFEST_MAX + 1;
		char *huge = malloc(n);

		memset(huge, '#', n);
		ok(parse(huge, n) == -1 && strstr(bk_err(), "larger than"), "a MANIFEST over the limit");
		free(huge);
	}
	ok(bk_manifest_path_ok("users.sql") && bk_manifest_path_ok("ssl/a.pem") &&
	   bk_manifest_path_ok(".env.production") && bk_manifest_path_ok("..x") &&
	   !bk_manifest_path_ok("a/") && !bk_manifest_path_ok("..") &&
	   !bk_manifest_path_ok("a/.") && !bk_manifest_path_ok("a/.."),
	   "bk_manifest_path_ok on edge cases");
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	{
		char *p = malloc(300);

		memset(p, 'a', 299);
		p[299] = '\0';
		ok(!bk_manifest_path_ok(p) && bk_manifest_path_ok(big), "a path over 255 bytes is unsafe");
		free(p);
	}
}

static void test_add(void)
{
	struct bk_manifest m;

	bk_manifest_init(&m);
	ok(bk_manifest_add(&m, D1, 1, 2, "a.sql") == 0, "add a member");
	ok(bk_manifest_add(&m, D1, 1, 2, "a.sql") == -1 && strstr(bk_err(), "listed twice"),
	   "add refuses a duplicate");
	ok(bk_manifest_add(&m, D1, 1, 2, "../a.sql") == -1 && strstr(bk_err(), "unsafe"),
	   "add refuses an unsafe path");
	bk_manifest_meta_add(&m, "warning", "two\nlines");
	ok(!strcmp(bk_manifest_meta_get(&m, "warning"), "two lines"),
	   "a metadata value stays on one line");
	bk_manifest_free(&m);
}

/* 50,000 members: every one found by path, none that is not there, duplicates
 * refused; the lookup is by hash, so this is fast at any size. */
static void test_many(void)
{
	struct bk_manifest m;
	char path[64];
	int all = 1, dup = 1;

	bk_manifest_init(&m);
	ok(bk_manifest_find(&m, "a.sql") == NULL, "find in an empty manifest");
	for (int i = 0; i < 50000 && all; i++) {
		snprintf(path, sizeof(path), "t_%d.sql", i);
		all = bk_manifest_add(&m, D1, 1, i, path) == 0;
	}
	ok(all && m.n_entries == 50000, "50000 members added");
	for (int i = 0; i < 50000 && all; i++) {
		const struct bk_manifest_entry *e;

		snprintf(path, sizeof(path), "t_%d.sql", i);
		e = bk_manifest_find(&m, path);
		all = e && e == &m.entries[i] && !strcmp(e->path, path) && e->rows == i;
	}
	ok(all, "each found by its path");
	ok(!bk_manifest_find(&m, "t_50000.sql") && !bk_manifest_find(&m, "t_1.sq") &&
	   !bk_manifest_find(&m, ""), "paths not listed are not found");
	for (int i = 0; i < 50000 && dup; i += 997) {
		snprintf(path, sizeof(path), "t_%d.sql", i);
		dup = bk_manifest_add(&m, D1, 1, 2, path) == -1 && strstr(bk_err(), "listed twice");
	}
	ok(dup && m.n_entries == 50000, "a duplicate among many is refused");
	bk_manifest_free(&m);
}

int main(void)
{
	test_good();
	test_bad();
	test_add();
	test_many();
	return done_testing();
}
