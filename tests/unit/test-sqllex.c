/* Unit tests for lib/pg/sqllex.c: where psql would end each statement of a
 * pg_dump script, and the backslashes it would read as meta-commands, fed
 * whole and one byte at a time (where a chunk ends never matters). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqllex.h"
#include "tap.h"

/* The statements of text, each followed by '|', backslashes marked '!'
 * (and skipped), as fed in chunks of chunk bytes; then "open:KIND" if the
 * text ends inside a quote or comment. Caller frees. */
static char *split(const char *text, size_t chunk)
{
	struct bk_sql_lexer lx;
	size_t len = strlen(text), start = 0, done = 0;
	char *out = calloc(1, 3 * len + 64);
	size_t o = 0;

	bk_sql_lexer_init(&lx);
	while (done < len) {
		size_t end = done + chunk < len ? done + chunk : len;
		size_t pos = done;
		enum bk_sql_event ev;

		while ((ev = bk_sql_lex(&lx, text, end, &pos)) != BK_SQL_MORE) {
			if (ev == BK_SQL_END) {
				memcpy(out + o, text + start, pos - start);
				o += pos - start;
				out[o++] = '|';
				start = pos;
			} else {
				memcpy(out + o, text + start, pos - start);
				o += pos - start;
				out[o++] = '!';
				start = ++pos;
			}
		}
		done = end;
	}
	memcpy(out + o, text + start, len - start);
	o += len - start;
	if (bk_sql_lexer_open(&lx))
		o += (size_t)sprintf(out + o, "open:%s", bk_sql_lexer_open(&lx));
	out[o] = '\0';
	return out;
}

static void splits(const char *text, const char *want, const char *name)
{
	char *whole = split(text, strlen(text) + 1), *bytes = split(text, 1);
	char *threes = split(text, 3);
	int good = !strcmp(whole, want) && !strcmp(bytes, want) && !strcmp(threes, want);

	ok(good, "%s", name);
	if (!good)
		printf("# want  %s\n# whole %s\n# bytes %s\n# threes %s\n", want, whole, bytes,
		       threes);
	free(whole);
	free(bytes);
	free(threes);
}

int main(void)
{
	splits("SELECT 1;\nSELECT 2;\n", "SELECT 1;|\nSELECT 2;|\n", "plain statements");
	splits("SELECT 'a;\nb'';c';\n", "SELECT 'a;\nb'';c';|\n", "';' in a string, '' inside");
	splits("SELECT E'it\\'s;';x;", "SELECT E'it\\'s;';|x;|", "E'' strings: backslash escapes a quote");
	splits("SELECT 'it\\';x';", "SELECT 'it\\';|x';open:a quoted string",
	       "plain strings: a backslash escapes nothing");
	splits("SELECT some'x;';", "SELECT some'x;';|", "a word ending in e is not E''");
	splits("CREATE TABLE \"a;b\"\"\" (x int);\n", "CREATE TABLE \"a;b\"\"\" (x int);|\n",
	       "';' and '\"\"' in a quoted name");
	splits("CREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$;\nSELECT 1;",
	       "CREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$;|\nSELECT 1;|",
	       "a $$ body with ';' at the ends of lines");
	splits("DO $body$ x $$ y; $b $bod $body $bodyx$ $body$;z;",
	       "DO $body$ x $$ y; $b $bod $body $bodyx$ $body$;|z;|",
	       "a tagged dollar quote ends only at its own tag");
	splits("SELECT $a$$$a$;", "SELECT $a$$$a$;|", "$$ inside $a$");
	splits("SELECT $1; SELECT a$b$;c;", "SELECT $1;| SELECT a$b$;|c;|",
	       "$1 and a$b$ are not dollar quotes");
	splits("-- a; comment\nSELECT 1; /* x; /* nested; */ y; */ SELECT 2;",
	       "-- a; comment\nSELECT 1;| /* x; /* nested; */ y; */ SELECT 2;|", "comments");
	splits("SELECT 1 - -1; SELECT 4/2;", "SELECT 1 - -1;| SELECT 4/2;|", "- and / alone");
	splits("CREATE RULE r AS ON INSERT TO t DO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\nx;",
	       "CREATE RULE r AS ON INSERT TO t DO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));|\nx;|",
	       "';' inside parentheses");
	splits("CREATE FUNCTION public.f() RETURNS integer\n    LANGUAGE sql\n    BEGIN ATOMIC\n"
	       " SELECT CASE WHEN true THEN 1 ELSE 2 END;\n SELECT 2;\nEND;\nSELECT 3;",
	       "CREATE FUNCTION public.f() RETURNS integer\n    LANGUAGE sql\n    BEGIN ATOMIC\n"
	       " SELECT CASE WHEN true THEN 1 ELSE 2 END;\n SELECT 2;\nEND;|\nSELECT 3;|",
	       "BEGIN ATOMIC ... END in CREATE FUNCTION, CASE ... END inside");
	splits("CREATE OR REPLACE PROCEDURE p() BEGIN ATOMIC SELECT 1; END; BEGIN; END;",
	       "CREATE OR REPLACE PROCEDURE p() BEGIN ATOMIC SELECT 1; END;| BEGIN;| END;|",
	       "CREATE OR REPLACE PROCEDURE; a later BEGIN is a statement");
	splits("\\restrict abc\nSELECT 1; \\! id\nSELECT '\\!'; $$\\!$$; -- \\!\n",
	       "!restrict abc\nSELECT 1;| !! id\nSELECT '\\!';| $$\\!$$;| -- \\!\n",
	       "backslashes outside quotes and comments are reported");
	splits("SELECT 1;\nSELECT 'never closed;\n", "SELECT 1;|\nSELECT 'never closed;\nopen:a quoted string",
	       "the end inside a string is reported");
	splits("SELECT $x$ never;", "SELECT $x$ never;open:a dollar-quoted string",
	       "the end inside a dollar quote is reported");
	splits("/* never", "/* neveropen:a comment", "the end inside a comment is reported");
	{
		struct bk_sql_lexer lx;
		const char *t = "SELECT 1;\n\\x";
		size_t pos = 0;

		bk_sql_lexer_init(&lx);
		ok(bk_sql_lexer_at_line_start(&lx), "at the start of a line at first");
		ok(bk_sql_lex(&lx, t, strlen(t), &pos) == BK_SQL_END && pos == 9 && lx.line == 1 &&
		   !bk_sql_lexer_at_line_start(&lx), "after SELECT 1;");
		ok(bk_sql_lex(&lx, t, strlen(t), &pos) == BK_SQL_BACKSLASH && pos == 10 &&
		   lx.line == 2 && bk_sql_lexer_at_line_start(&lx), "a backslash at the start of line 2");
	}
	return done_testing();
}
