/* Unit tests for lib/restore.c without a server: quoted, schema-qualified
 * names from MANIFEST (the only part of it that reaches SQL text, re-quoted
 * by libpq) and the "# table:" lines that make the plan. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "manifest.h"
#include "restore.h"
#include "tap.h"

static void qname_ok(const char *q, const char *want_schema, const char *want_name)
{
	char *s, *n;
	int rc = bk_restore_parse_qname(q, &s, &n);

	ok(rc == 0 && !strcmp(s, want_schema) && !strcmp(n, want_name), "qname %s -> %s | %s",
	   q, rc == 0 ? s : "(error)", rc == 0 ? n : "");
	if (rc == 0) {
		free(s);
		free(n);
	}
}

static void qname_bad(const char *q)
{
	char *s = (char *)"x", *n = (char *)"x";

	ok(bk_restore_parse_qname(q, &s, &n) == -1 && !s && !n, "qname refused: %s", q);
}

static const char *manifest_text =
	"# format: bk 1\n"
	"# table: users.sql 200 public.users\n"
	"# table: users.sql 206 public.user_roles\n"
	"# table: thai.csv 5 public.\"ข้อมูล\"\n"
	"# window: thai.csv created_at >= 2026-08-25 03:00:00+00\n"
	"0000000000000000000000000000000000000000000000000000000000000000 10 406 users.sql\n"
	"0000000000000000000000000000000000000000000000000000000000000000 10 5 thai.csv\n";

static int plan_of(const char *extra, struct bk_restore_plan *p)
{
	struct bk_manifest m;
	char *text = malloc(strlen(manifest_text) + strlen(extra) + 1);
	int rc;

	strcpy(text, extra);
	strcat(text, manifest_text);
	bk_manifest_init(&m);
	if (bk_manifest_parse(&m, text, strlen(text)) < 0) {
		printf("# manifest: %s\n", bk_err());
		abort();
	}
	rc = bk_restore_plan_init(p, &m);
	bk_manifest_free(&m);
	free(text);
	return rc;
}

int main(void)
{
	struct bk_restore_plan p;

	qname_ok("public.users", "public", "users");
	qname_ok("public.\"UserProfile\"", "public", "UserProfile");
	qname_ok("\"Other Schema\".\"Mixed Case\"", "Other Schema", "Mixed Case");
	qname_ok("public.\"ข้อมูล\"", "public", "ข้อมูล");
	qname_ok("public.\"evil\"\"; DROP TABLE users; --\"", "public", "evil\"; DROP TABLE users; --");
	qname_ok("public.\"a.b\"", "public", "a.b");
	qname_ok("s_1.t$2", "s_1", "t$2");
	qname_bad("users");
	qname_bad("public.users; DROP TABLE users");
	qname_bad("public.users ");
	qname_bad("public.Users");
	qname_bad("public.\"unterminated");
	qname_bad("public.\"\"");
	qname_bad("a.b.c");
	qname_bad("public.");
	qname_bad(".users");
	qname_bad("1abc.users");
	qname_bad("");

	ok(plan_of("", &p) == 0 && p.n_tables == 3, "plan: three tables");
	ok(!strcmp(p.tables[0].file, "users.sql") && p.tables[0].rows == 200 &&
	   !strcmp(p.tables[0].qname, "public.users") && !p.tables[0].window,
	   "plan: file, rows, name");
	ok(!strcmp(p.tables[2].name, "ข้อมูล") && p.tables[2].window &&
	   !strcmp(p.tables[2].window, "created_at >= 2026-08-25 03:00:00+00"),
	   "plan: the window of a CSV table");
	bk_restore_plan_free(&p);

	ok(plan_of("# table: users.sql x public.t\n", &p) == -1 && strstr(bk_err(), "malformed"),
	   "plan: a row count that is not a number is refused");
	ok(plan_of("# table: users.sql 1 public.t; DROP TABLE x\n", &p) == -1 &&
	   strstr(bk_err(), "malformed"), "plan: a name that is not a name is refused");
	ok(plan_of("# table: nosuch.sql 1 public.t\n", &p) == -1 &&
	   strstr(bk_err(), "not a member"), "plan: a file not in MANIFEST is refused");
	ok(plan_of("# table: users.sql 1 public.users\n", &p) == -1 &&
	   strstr(bk_err(), "listed twice"), "plan: a table listed twice is refused");
	{
		struct bk_manifest m;
		const char *t = "# format: bk 1\n";

		bk_manifest_init(&m);
		bk_manifest_parse(&m, t, strlen(t));
		ok(bk_restore_plan_init(&p, &m) == -1 && strstr(bk_err(), "no table"),
		   "plan: a MANIFEST without tables is refused");
		bk_manifest_free(&m);
	}
	return done_testing();
}
