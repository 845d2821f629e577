/* The scope parser: the default scope, names in every form PostgreSQL allows, and
 * a "FILE:LINE: reason" error for anything else, injection attempts included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "scope.h"
#include "tap.h"

static struct bk_scope sc;

static int parses(const char *text)
{
	bk_scope_free(&sc);
	if (bk_scope_parse(&sc, "scope.txt", text, strlen(text)) < 0) {
		printf("# error: %s\n", bk_err());
		return 0;
	}
	return 1;
}

static int fails_with(const char *text, const char *msg)
{
	bk_scope_free(&sc);
	if (bk_scope_parse(&sc, "scope.txt", text, strlen(text)) == 0) {
		printf("# parsed: %s\n", text);
		bk_scope_free(&sc);
		return 0;
	}
	if (strcmp(bk_err(), msg))
		printf("# message: %s\n", bk_err());
	return !strcmp(bk_err(), msg) && sc.n_entries == 0 && sc.entries == NULL;
}

static int table_is(size_t entry, size_t i, const char *schema, const char *name)
{
	const struct bk_scope_table *t;

	if (entry >= sc.n_entries || i >= sc.entries[entry].n_tables)
		return 0;
	t = &sc.entries[entry].tables[i];
	if (!schema != !t->schema || (schema && strcmp(schema, t->schema)) ||
	    strcmp(name, t->name)) {
		printf("# got %s.%s\n", t->schema ? t->schema : "(none)", t->name);
		return 0;
	}
	return 1;
}

static void default_scope(void)
{
	static const char *files[] = { "users.sql", "organization.sql", "config.sql",
		"credit_transactions.csv", "point_transactions.csv", "purchases.csv",
		"transfers.csv" };
	char iv[32];
	int good = 1;

	ok(bk_scope_load(&sc, NULL) == 0, "the built-in scope parses");
	ok(sc.n_entries == 7, "seven files");
	for (size_t i = 0; i < 7 && i < sc.n_entries; i++)
		good &= !strcmp(sc.entries[i].file, files[i]);
	ok(good, "files in the spec's order");
	ok(table_is(0, 0, NULL, "users") && table_is(0, 1, NULL, "user_roles") &&
	   sc.entries[0].n_tables == 2 && !sc.entries[0].csv && !sc.entries[0].since_column,
	   "users.sql: users, user_roles, whole tables");
	ok(table_is(1, 2, NULL, "referrals") && table_is(2, 1, NULL, "system_settings"),
	   "organization.sql and config.sql tables");
	bk_scope_interval(&sc.entries[3], iv, sizeof(iv));
	ok(sc.entries[3].csv && !strcmp(sc.entries[3].since_column, "created_at") &&
	   !strcmp(iv, "3 months"), "credit_transactions.csv: 3-month window on created_at");
	bk_scope_interval(&sc.entries[0], iv, sizeof(iv));
	ok(!strcmp(iv, ""), "no interval without a window");
	good = 1;
	for (size_t i = 0; i < sc.n_entries; i++)
		for (size_t j = 0; j < sc.entries[i].n_tables; j++) {
			const char *n = sc.entries[i].tables[j].name;

			good &= strcmp(n, "sessions") && strcmp(n, "logs") && strcmp(n, "audit_logs");
		}
	ok(good, "no sessions, logs or audit_logs in the default scope");
}

static void names(void)
{
	ok(parses("# comment\n\n  \t\na.sql users , \"UserProfile\",Public.Mixed\r\n"
		  "b.csv \"ข้อมูล\"  since=\"createdAt\":1 year # trailing\n"
		  "c.sql ข้อมูล2,\"a \"\"quoted\"\" name\",s.\"T.x\"#c\n"),
	   "comments, blank lines, CRLF, quoted, Thai, qualified names");
	ok(sc.n_entries == 3 && sc.entries[0].line == 4 && sc.entries[2].line == 6,
	   "entries remember their lines");
	ok(table_is(0, 0, NULL, "users") && table_is(0, 1, NULL, "UserProfile") &&
	   table_is(0, 2, "public", "mixed"), "unquoted names fold to lower case, quoted keep case");
	ok(table_is(1, 0, NULL, "ข้อมูล") && !strcmp(sc.entries[1].since_column, "createdAt") &&
	   !strcmp(sc.entries[1].since_unit, "years") && sc.entries[1].since_n == 1,
	   "quoted Thai table, quoted window column, singular unit");
	ok(table_is(2, 0, NULL, "ข้อมูล2") && table_is(2, 1, NULL, "a \"quoted\" name") &&
	   table_is(2, 2, "s", "T.x"), "unquoted Thai, doubled quotes, a dot inside quotes");
	ok(!strcmp(sc.entries[0].tables[1].text, "\"UserProfile\"") &&
	   !strcmp(sc.entries[0].tables[2].text, "Public.Mixed"), "the written form is kept");
	ok(parses("x.csv t since=c:2 weeks\ny.csv u since=c:10 days\nz.csv v since=c:6months\n"),
	   "weeks, days, no space before the unit");
	ok(sc.n_entries == 3 && !strcmp(sc.entries[2].since_unit, "months"), "6months");
	ok(parses("x_1-2.sql a$b, _c9\n"), "file names with _ and -, identifiers with $ and digits");
	ok(parses("a.sql \"x\"\"; DROP TABLE users; --\"\n") &&
	   table_is(0, 0, NULL, "x\"; DROP TABLE users; --"),
	   "a quoted name may hold anything printable: it is a name, never SQL");
}

static void errors(void)
{
	ok(fails_with("", "scope.txt: lists no files and no rules"), "empty file");
	ok(fails_with("# only a comment\n", "scope.txt: lists no files and no rules"), "only comments");
	ok(fails_with("a.sql users\nb.txt logs\n", "scope.txt:2: 'b.txt' is not a .sql or .csv file name"),
	   "wrong extension names file and line");
	ok(fails_with("../x.sql users\n",
		      "scope.txt:1: '../x.sql': a file name is letters, digits, '.', '_' and '-'"),
	   "no path in a file name");
	ok(fails_with("/etc/x.sql users\n",
		      "scope.txt:1: '/etc/x.sql': a file name is letters, digits, '.', '_' and '-'"),
	   "no absolute path");
	ok(fails_with(".x.sql users\n", "scope.txt:1: '.x.sql': a file name cannot start with '.'"),
	   "no hidden file");
	ok(fails_with(".sql users\n", "scope.txt:1: '.sql': a file name cannot start with '.'"),
	   "no bare extension");
	ok(fails_with("schema.sql users\n", "scope.txt:1: schema.sql is a name the export uses itself"),
	   "reserved name");
	ok(fails_with("Referenced.SQL users\n",
		      "scope.txt:1: 'Referenced.SQL' is not a .sql or .csv file name"),
	   "extension is lower case");
	ok(fails_with("a.sql users\nA.sql x\n", "scope.txt:2: A.sql is listed twice (first on line 1)"),
	   "duplicate file (case-insensitive)");
	ok(fails_with("a.sql users\nb.sql USERS\n",
		      "scope.txt:2: table USERS is listed twice (first on line 1)"), "duplicate table");
	ok(fails_with("a.sql users,\"users\"\n", "scope.txt:1: table \"users\" is listed twice"),
	   "duplicate table on one line");
	ok(parses("a.sql users\nb.sql public.users\n"),
	   "qualified and unqualified are told apart only by the server");
	ok(fails_with("a.sql\n", "scope.txt:1: a.sql: no tables listed"), "no tables");
	ok(fails_with("a.sql # none\n", "scope.txt:1: a.sql: no tables listed"), "comment, no tables");
	ok(fails_with("a.csv x,y\n", "scope.txt:1: a.csv: a .csv file holds exactly one table"),
	   "csv with two tables");
	ok(fails_with("a.sql x since=created_at:3 months\n",
		      "scope.txt:1: a.sql: since= applies to .csv files only"), "since on .sql");
	ok(fails_with("a.sql users;DROP TABLE users\n",
		      "scope.txt:1: unexpected ';DROP' after table name users"), "semicolon");
	ok(fails_with("a.sql users user_roles\n",
		      "scope.txt:1: unexpected 'user_roles' (tables are separated by commas, "
		      "then an optional since=COLUMN:N UNIT)"), "missing comma");
	ok(fails_with("a.sql users,\n", "scope.txt:1: table name expected"), "trailing comma");
	ok(fails_with("a.sql 1users\n", "scope.txt:1: '1users' is not a valid table name"),
	   "leading digit");
	ok(fails_with("a.sql us'ers\n", "scope.txt:1: unexpected ''ers' after table name us"),
	   "single quote");
	ok(fails_with("a.sql \"open\n", "scope.txt:1: unterminated quoted table name"),
	   "unterminated quote");
	ok(fails_with("a.sql \"\"\n", "scope.txt:1: empty quoted table name"), "empty quotes");
	ok(fails_with("a.sql \"a\tb\"\n", "scope.txt:1: control character in table name"),
	   "tab inside quotes");
	ok(fails_with("a.sql a.b.c\n", "scope.txt:1: a table name is TABLE or SCHEMA.TABLE"),
	   "three-part name");
	ok(fails_with("a.sql a.\n", "scope.txt:1: table name expected"), "dangling dot");
	ok(fails_with("a.sql abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd\n",
		      "scope.txt:1: table name longer than 63 bytes"), "64-byte name");
	ok(parses("a.sql abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc\n"),
	   "63-byte name");
	ok(fails_with("a.sql \xff\xfe\n", "scope.txt:1: not valid UTF-8"), "invalid UTF-8");
	ok(fails_with("a.sql users\n\nb.csv t since=c 3 months\n",
		      "scope.txt:3: expected ':' after the column in since=COLUMN:N UNIT"),
	   "since without colon");
	ok(fails_with("b.csv t since=c:x months\n",
		      "scope.txt:1: expected a number after ':' in since=COLUMN:N UNIT"),
	   "since without number");
	ok(fails_with("b.csv t since=c:0 days\n", "scope.txt:1: window of since= must be at least 1"),
	   "zero window");
	ok(fails_with("b.csv t since=c:3 fortnights\n",
		      "scope.txt:1: unknown unit 'fortnights' in since= (months, weeks, days or years)"),
	   "unknown unit");
	ok(fails_with("b.csv t since=c:3 months; DROP TABLE t\n",
		      "scope.txt:1: unexpected ';' at the end of the line"),
	   "junk glued to the unit");
	ok(fails_with("b.csv t since=c:3 months DROP\n",
		      "scope.txt:1: unexpected 'DROP' at the end of the line"), "junk after the unit");
	ok(fails_with("b.csv t since=c);--:3 months\n",
		      "scope.txt:1: expected ':' after the column in since=COLUMN:N UNIT"),
	   "injection in the column");
	ok(fails_with("b.csv t sinc=c:3 months\n",
		      "scope.txt:1: unexpected 'sinc=c:3' (tables are separated by commas, "
		      "then an optional since=COLUMN:N UNIT)"), "misspelt since");
	bk_scope_free(&sc);
	ok(bk_scope_parse(&sc, "scope.txt", "a.sql x\0y\n", 10) < 0 &&
	   !strcmp(bk_err(), "scope.txt: contains a NUL byte"), "a NUL byte is refused");
}

static void load(void)
{
	char path[] = "/tmp/test-scope.XXXXXX";
	int fd = mkstemp(path);

	ok(fd >= 0 && write(fd, "t.sql x\n", 8) == 8, "scratch file");
	close(fd);
	bk_scope_free(&sc);
	ok(bk_scope_load(&sc, path) == 0 && sc.n_entries == 1 && !strcmp(sc.name, path),
	   "loads a file by path");
	unlink(path);
	bk_scope_free(&sc);
	ok(bk_scope_load(&sc, path) < 0 && !strncmp(bk_err(), "BACKUP_SCOPE: cannot read ", 26),
	   "a missing file names BACKUP_SCOPE");
}

/* The rule that classifies schema.name, as "omit *_logs (...)", or "full". */
static int classifies(const char *schema, const char *name, const char *want)
{
	const struct bk_scope_pattern *p;
	const struct bk_scope_rule *r = bk_scope_match(&sc, schema, name, &p);
	char *got = r ? bk_scope_rule_text(r, p) : strdup("full");
	int same = !strcmp(got, want);

	if (!same)
		printf("# %s.%s: got %s\n", schema, name, got);
	free(got);
	return same;
}

static void rules(void)
{
	char iv[32];

	ok(bk_scope_load(&sc, NULL) == 0 && sc.builtin && sc.n_rules == 4,
	   "the built-in scope has its four rules");
	ok(classifies("public", "sessions", "omit sessions (built-in scope line 5)") &&
	   classifies("public", "user_sessions", "omit *_sessions (built-in scope line 5)") &&
	   classifies("public", "UserSession", "omit \"*Session\" (built-in scope line 5)") &&
	   classifies("public", "User_Sessions", "omit *_sessions (built-in scope line 5)") &&
	   classifies("public", "api_request_logs", "omit *_logs (built-in scope line 6)") &&
	   classifies("public", "AuditLog", "omit \"*Log\" (built-in scope line 6)") &&
	   classifies("public", "audit_logs", "omit *_logs (built-in scope line 6)"),
	   "built-in: session data and logs are left out, whatever the case");
	ok(classifies("public", "possession", "full") && classifies("public", "catalog", "full") &&
	   classifies("public", "Catalog", "full") && classifies("public", "blogs", "full") &&
	   classifies("public", "credit_accounts", "full") &&
	   classifies("public", "_prisma_migrations", "full") &&
	   classifies("public", "role_permissions", "full") &&
	   classifies("public", "ApiKey", "full"),
	   "built-in: balances, RBAC, migrations and look-alike names are kept in full");
	ok(classifies("public", "credit_transactions",
		      "window *_transactions (built-in scope line 9)") &&
	   classifies("public", "CreditTransaction",
		      "window \"*Transaction\" (built-in scope line 9)") &&
	   classifies("billing", "transfers", "window transfers (built-in scope line 9)"),
	   "built-in: transactions are windowed, in any schema");
	bk_scope_rule_interval(&sc.rules[3], iv, sizeof(iv));
	ok(sc.rules[3].n_since == 2 && !strcmp(sc.rules[3].since_columns[0], "created_at") &&
	   !strcmp(sc.rules[3].since_columns[1], "createdAt") && !strcmp(iv, "3 months"),
	   "built-in window: created_at or \"createdAt\", 3 months (continued lines)");

	ok(parses("users.sql users\n"
		  "full   keep_logs, billing.*\n"
		  "omit   *_logs, \"Tmp?\" , stats.*\n"
		  "window events, *_events  since=at|\"OccurredAt\":30 days\n"
		  "omit   *\n") && sc.n_entries == 1 && sc.n_rules == 4,
	   "rules and FILE lines together");
	ok(classifies("public", "keep_logs", "full keep_logs (scope.txt line 2)") &&
	   classifies("billing", "invoice_logs", "full billing.* (scope.txt line 2)") &&
	   classifies("public", "invoice_logs", "omit *_logs (scope.txt line 3)") &&
	   classifies("public", "Tmp1", "omit \"Tmp?\" (scope.txt line 3)") &&
	   classifies("public", "tmp1", "omit * (scope.txt line 5)") &&
	   classifies("Stats", "x", "omit stats.* (scope.txt line 3)") &&
	   classifies("public", "page_events", "window *_events (scope.txt line 4)") &&
	   classifies("public", "users", "omit * (scope.txt line 5)"),
	   "the first rule that matches wins; quoted patterns keep their case");
	ok(bk_scope_glob("a*b*c", "axxbyyc", 0) && !bk_scope_glob("a*b*c", "axxbyy", 0) &&
	   bk_scope_glob("*", "", 0) && bk_scope_glob("?x", "ยx", 0) == 0 &&
	   bk_scope_glob("**_logs", "a_logs", 1) && bk_scope_glob("A?C", "abc", 1) &&
	   !bk_scope_glob("A?C", "abc", 0),
	   "globs: stars backtrack, '?' is one byte, fold ignores ASCII case");
	ok(fails_with("omit\n", "scope.txt:1: omit: no table patterns"), "a rule without patterns");
	ok(fails_with("window x_events\n", "scope.txt:1: window needs since=COLUMN:N UNIT"),
	   "a window rule without since=");
	ok(fails_with("omit x_logs since=at:3 days\n",
		      "scope.txt:1: since= applies to window rules only"), "since= on omit");
	ok(fails_with("omit a.b.c\n", "scope.txt:1: a table pattern is NAME or SCHEMA.NAME"),
	   "three-part pattern");
	ok(fails_with("omit x;DROP\n", "scope.txt:1: unexpected ';DROP' after pattern x"),
	   "SQL in a pattern");
	ok(fails_with("window e since=a|:3 days\n", "scope.txt:1: ':3' is not a valid column name"),
	   "an empty column alternative");
	ok(fails_with("a.sql users \\\n  ,  \n", "scope.txt:1: table name expected"),
	   "a continued line is one line, reported at its first");
	ok(parses("a.sql users, \\\n  orders\nb.sql x\n") && sc.n_entries == 2 &&
	   table_is(0, 1, NULL, "orders") && sc.entries[1].line == 3,
	   "a continued FILE line; the next line keeps its number");
	bk_scope_free(&sc);
	ok(bk_scope_parse(&sc, "s", "a.sql x\n", 7) == 0 && sc.n_rules == 0,
	   "parsing alone adds no rules");
}

static void list_only_gets_builtin_rules(void)
{
	char path[] = "/tmp/test-scope.XXXXXX";
	int fd = mkstemp(path);
	const char text[] = "users.sql users\n";

	if (fd < 0 || write(fd, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1)) {
		ok(0, "cannot write a scope file");
		return;
	}
	close(fd);
	bk_scope_free(&sc);
	ok(bk_scope_load(&sc, path) == 0 && !sc.builtin && sc.n_rules == 4 &&
	   !strcmp(sc.rules[0].origin, "built-in scope") &&
	   classifies("public", "sessions", "omit sessions (built-in scope line 5)"),
	   "a scope file of FILE lines only gets the built-in rules");
	unlink(path);
}

int main(void)
{
	default_scope();
	names();
	errors();
	load();
	rules();
	list_only_gets_builtin_rules();
	bk_scope_free(&sc);
	return done_testing();
}
