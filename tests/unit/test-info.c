/* Unit tests for BACKUP_INFO.txt's coverage (lib/archive/info.c): every table
 * in one class from the MANIFEST lines of the contract; old manifests as before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "info.h"
#include "manifest.h"
#include "tap.h"

#define D1 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static const char newer[] =
	"# format: bk 1\n"
	"# created: 2026-11-30T02:00:03+00:00\n"
	"# database: smart_ai_hub\n"
	"# scope: built-in scope\n"
	"# table: users.sql 200 public.users\n"
	"# table: users.sql 1 public.\"ApiKey\"\n"
	"# table: credit_transactions.csv 612 public.credit_transactions\n"
	"# table: referenced.sql 4 public.plans\n"
	"# window: credit_transactions.csv created_at >= 2026-09-01 08:17:09.123456\n"
	"# window-rows: credit_transactions.csv 600 1000 12 UTC\n"
	"# added: public.plans referenced by public.users\n"
	"# omitted: public.sessions 50 omit sessions (built-in scope line 3)\n"
	"# omitted: public.\"Audit Logs\" 0 omit *_logs (built-in scope line 4)\n"
	"# warning: drift: new table public.\"ApiKey\" since critical_backup_20261129_020000.tar.gz: backed up in full\n"
	D1 " 10 200 users.sql\n"
	D1 " 10 612 credit_transactions.csv\n"
	D1 " 10 4 referenced.sql\n";

static const char older[] =
	"# format: bk 1\n"
	"# table: users.sql 2 public.users\n"
	"# table: credit_transactions.csv 3 public.credit_transactions\n"
	"# window: credit_transactions.csv created_at >= 2026-08-25 02:00:01+00\n"
	"# added: public.organizations referenced by public.users\n"
	D1 " 10 2 users.sql\n"
	D1 " 10 3 credit_transactions.csv\n";

/* The lines of text from the one starting with from up to (without) the
 * first empty line after to's, or "" when from is not there. Caller frees. */
static char *section(const char *text, const char *from, const char *to)
{
	const char *s = strstr(text, from), *e;
	char *out;

	if (!s)
		return strdup("");
	e = strstr(s, to);
	e = e ? strstr(e, "\n\n") : NULL;
	if (!e)
		e = s + strlen(s);
	out = strndup(s, (size_t)(e - s) + 1);
	return out;
}

static void same(const char *got, const char *want, const char *title)
{
	ok(!strcmp(got, want), "%s", title);
	if (strcmp(got, want))
		printf("# want:\n%s# got:\n%s", want, got);
}

static void parse(struct bk_manifest *m, const char *text)
{
	bk_manifest_init(m);
	if (bk_manifest_parse(m, text, strlen(text)) < 0)
		abort();
}

static void test_qname(void)
{
	ok(bk_info_qname_len("public.users referenced by x") == 12, "plain qname");
	ok(bk_info_qname_len("public.\"Api Key\" 5 rule") == 16, "quoted qname with a space");
	ok(bk_info_qname_len("\"a\"\"b\".\"c.d\" x") == 12, "doubled quotes and a dot inside");
	ok(bk_info_qname_len("public.\"open") == 0, "an unclosed quote is no qname");
	ok(bk_info_qname_len(" x") == 0, "nothing before the space");
}

static void test_classes(void)
{
	struct bk_manifest m;
	struct bk_info_coverage c;
	const struct bk_info_table *t;

	parse(&m, newer);
	bk_info_coverage_read(&c, &m);
	ok(c.complete && c.n == 6, "six tables, complete");
	ok(c.count[BK_CLASS_FULL] == 2 && c.count[BK_CLASS_WINDOW] == 1 &&
	   c.count[BK_CLASS_ADDED] == 1 && c.count[BK_CLASS_OMITTED] == 2, "counted by class");
	t = &c.tables[0];
	ok(t->cls == BK_CLASS_FULL && !strcmp(t->qname, "public.\"ApiKey\"") && t->rows == 1,
	   "sorted by class, then name");
	t = &c.tables[2];
	ok(t->cls == BK_CLASS_WINDOW && t->rows == 612 && t->in_window == 600 &&
	   t->total == 1000 && t->closure == 12 && t->zone && !strcmp(t->zone, "UTC") &&
	   !strcmp(t->window, "created_at >= 2026-09-01 08:17:09.123456"), "window and its rows");
	t = &c.tables[3];
	ok(t->cls == BK_CLASS_ADDED && !strcmp(t->detail, "referenced by public.users") &&
	   !strcmp(t->file, "referenced.sql"), "added table");
	t = &c.tables[4];
	ok(t->cls == BK_CLASS_OMITTED && !strcmp(t->qname, "public.\"Audit Logs\"") &&
	   t->rows == 0 && !strcmp(t->detail, "omit *_logs (built-in scope line 4)") && !t->file,
	   "omitted, quoted name");
	bk_info_coverage_free(&c);
	bk_manifest_free(&m);

	parse(&m, older);
	bk_info_coverage_read(&c, &m);
	ok(!c.complete && c.n == 3, "an old MANIFEST is not complete");
	t = &c.tables[1];
	ok(t->cls == BK_CLASS_WINDOW && t->in_window == -1 && !t->zone, "window rows unknown");
	t = &c.tables[2];
	ok(t->cls == BK_CLASS_ADDED && t->rows == -1 && !t->file, "added without a table line");
	bk_info_coverage_free(&c);
	bk_manifest_free(&m);
}

static void test_text(void)
{
	struct bk_manifest m;
	struct bk_info in = { .manifest = &m, .archive_name = "a.tar.gz", .packed_at = 1 };
	char *text, *got;

	parse(&m, newer);
	text = bk_info_format(&in);
	got = section(text, "Coverage", "Not in this backup");
	same(got,
	     "Coverage: every table of the database, in one class\n"
	     "    6 tables: 2 full, 1 window, 1 added, 2 not in this backup\n"
	     "\n"
	     "    Full: every row\n"
	     "        public.\"ApiKey\"                     1 row  users.sql\n"
	     "        public.users                     200 rows  users.sql\n"
	     "\n"
	     "    Window: recent rows only\n"
	     "        public.credit_transactions       612 rows  credit_transactions.csv, "
	     "created_at >= 2026-09-01 08:17:09.123456 (UTC)\n"
	     "                                                   600 of 1000 in the window + 12 "
	     "older rows that backed-up rows reference\n"
	     "\n"
	     "    Added: every row, because backed-up tables reference them\n"
	     "        public.plans                       4 rows  referenced.sql, "
	     "referenced by public.users\n"
	     "\n"
	     "    Not in this backup (schema only: the restore creates them empty)\n"
	     "        public.\"Audit Logs\"               ~0 rows  omit *_logs (built-in scope line 4)\n"
	     "        public.sessions                  ~50 rows  omit sessions (built-in scope line 3)\n",
	     "BACKUP_INFO.txt: coverage section");
	free(got);
	ok(!strstr(text, "Only recent rows") && !strstr(text, "Tables added because"),
	   "no old-style window or added lists");
	got = section(text, "Warnings", "Warnings");
	same(got, "Warnings\n    drift: new table public.\"ApiKey\" since "
	     "critical_backup_20261129_020000.tar.gz: backed up in full\n", "warnings listed");
	free(got);
	free(text);
	bk_manifest_free(&m);

	parse(&m, older);
	text = bk_info_format(&in);
	ok(!strstr(text, "Coverage"), "old MANIFEST: no coverage section");
	got = section(text, "Only recent rows", "Tables added because");
	same(got, "Only recent rows (older rows are not in this backup)\n"
	     "    credit_transactions.csv: created_at >= 2026-08-25 02:00:01+00\n\n"
	     "Tables added because backed-up tables reference them\n"
	     "    public.organizations referenced by public.users\n",
	     "old MANIFEST: windows and added tables as before");
	free(got);
	free(text);
	bk_manifest_free(&m);
}

int main(void)
{
	test_qname();
	test_classes();
	test_text();
	return done_testing();
}
