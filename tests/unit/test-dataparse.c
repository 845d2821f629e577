/* Unit tests for lib/dataparse.c: COPY blocks and CSV, good and bad input,
 * each fed in one piece, byte by byte and in odd chunks with the same outcome. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataparse.h"
#include "err.h"
#include "tap.h"

struct outcome {
	int ret;
	unsigned long long rows;
	char err[512];
};

static void run(enum bk_dp_kind kind, const char *text, size_t len, size_t chunk,
		struct outcome *o)
{
	struct bk_dp *p = bk_dp_new(kind);
	size_t off = 0;

	o->ret = 0;
	while (off < len && o->ret == 0) {
		size_t n = len - off < chunk ? len - off : chunk;

		o->ret = bk_dp_feed(p, text + off, n);
		off += n;
	}
	if (o->ret == 0)
		o->ret = bk_dp_finish(p);
	o->rows = bk_dp_rows(p);
	snprintf(o->err, sizeof(o->err), "%s", o->ret < 0 ? bk_err() : "");
	if (o->ret < 0 && strcmp(o->err, bk_dp_error(p)) != 0)
		o->ret = -2;	/* the slot and the parser disagree */
	bk_dp_free(p);
}

/* Expect rows (when want_err is NULL) or an error containing want_err, the
 * same whichever way the text is cut. */
static void check(enum bk_dp_kind kind, const char *text, unsigned long long want_rows,
		  const char *want_err, const char *title)
{
	static const size_t chunks[] = { 1, 2, 3, 7, 64, 4096, (size_t)-1 };
	size_t len = strlen(text);
	struct outcome first, o;
	int same = 1;

	run(kind, text, len, chunks[0], &first);
	for (size_t i = 1; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		run(kind, text, len, chunks[i], &o);
		if (o.ret != first.ret || strcmp(o.err, first.err) != 0 ||
		    (o.ret == 0 && o.rows != first.rows)) {
			printf("# chunk %zu: ret %d rows %llu '%s' vs ret %d rows %llu '%s'\n",
			       chunks[i], o.ret, o.rows, o.err, first.ret, first.rows, first.err);
			same = 0;
		}
	}
	if (want_err) {
		ok(same && first.ret == -1 && strstr(first.err, want_err) != NULL, "%s", title);
		if (first.ret != -1 || !strstr(first.err, want_err))
			printf("# want error '%s', got ret %d '%s'\n", want_err, first.ret, first.err);
	} else {
		ok(same && first.ret == 0 && first.rows == want_rows, "%s", title);
		if (first.ret != 0 || first.rows != want_rows)
			printf("# want %llu rows, got ret %d rows %llu '%s'\n", want_rows, first.ret,
			       first.rows, first.err);
	}
}

#define COPY_HEAD "--\n-- PostgreSQL database dump\n--\n\nSET client_encoding = 'UTF8';\n\n"

static void test_copy(void)
{
	check(BK_DP_COPY,
	      COPY_HEAD
	      "COPY public.users (id, name, \"Note\") FROM stdin;\n"
	      "1\tAlice\t\\N\n"
	      "2\tB\\\\ob\tline\\nnext\\ttab \\x41\\101 \xe0\xb8\x97\xe0\xb8\xa2\n"
	      "3\t\t\n"
	      "\\.\n\n"
	      "SELECT pg_catalog.setval('public.users_id_seq', 3, true);\n"
	      "COPY public.\"User\"\"Profile\" (\"a,b\", \"c (d)\") FROM stdin;\n"
	      "1\t2\n"
	      "\\.\n",
	      4, NULL, "copy: two blocks, escapes, NULL, empty fields, setval, quoted names");
	check(BK_DP_COPY, "", 0, NULL, "copy: an empty file has no rows");
	check(BK_DP_COPY, "COPY public.t (a) FROM stdin;\n\\.\n", 0, NULL,
	      "copy: an empty block");
	check(BK_DP_COPY, "COPY public.t (a) FROM stdin;\n\\N\n\n\\.", 2, NULL,
	      "copy: one-column rows, \\. at the very end without newline");
	check(BK_DP_COPY, "COPY public.empty  FROM stdin;\n\n\\.\n", 1, NULL,
	      "copy: a table without columns (no column list)");
	check(BK_DP_COPY, "SET x = 1;\nSELECT 1;", 0, NULL, "copy: a last line without newline");
	check(BK_DP_COPY, "\\restrict abc\nCOPY t (a) FROM stdin;\n1\n\\.\n\\unrestrict abc\n", 1,
	      NULL, "copy: pg_dump's \\restrict fences are allowed");

	check(BK_DP_COPY, COPY_HEAD "COPY public.users (id, name, note) FROM stdin;\n1\tAlice\t\n2\tBob\n\\.\n",
	      0, "line 9: row has 2 fields, COPY public.users lists 3 columns",
	      "copy: a row with too few fields");
	check(BK_DP_COPY, "COPY public.users (id) FROM stdin;\n1\t2\n\\.\n",
	      0, "line 2: row has 2 fields, COPY public.users lists 1 column",
	      "copy: a row with too many fields");
	check(BK_DP_COPY, COPY_HEAD "COPY public.users (id, name) FROM stdin;\n1\tAlice\n2\tBob\n",
	      0, "unterminated COPY block for public.users (started on line 7",
	      "copy: an unterminated block");
	check(BK_DP_COPY, "COPY public.users (id, name) FROM stdin;\n1\tAli",
	      0, "unterminated COPY block", "copy: a block cut inside a row");
	check(BK_DP_COPY, "COPY public.users (id, name) FROM stdin;\n",
	      0, "unterminated COPY block", "copy: a header and nothing else");
	check(BK_DP_COPY, "COPY t (a) FROM stdin;\nab\\qc\n\\.\n", 0,
	      "line 2: invalid escape '\\q' in COPY data of t", "copy: an invalid escape");
	check(BK_DP_COPY, "COPY t (a) FROM stdin;\nab\\", 0, "unterminated COPY block",
	      "copy: a backslash at the end of the input");
	check(BK_DP_COPY, "COPY t (a) FROM stdin;\nab\\\n\\.\n", 0,
	      "invalid escape (backslash and byte 0x0a)", "copy: a backslash before the newline");
	check(BK_DP_COPY, "COPY t (a, b) FROM stdin;\nx\\N\t1\n\\.\n", 0,
	      "line 2: \\N inside a field of COPY t", "copy: \\N after other bytes");
	check(BK_DP_COPY, "COPY t (a, b) FROM stdin;\n\\Nx\t1\n\\.\n", 0,
	      "line 2: \\N inside a field of COPY t", "copy: \\N followed by bytes");
	check(BK_DP_COPY, "COPY t (a) FROM stdin;\n\\xg\n\\.\n", 0,
	      "'\\x' without hex digits", "copy: \\x without hex digits");
	check(BK_DP_COPY, "COPY t (a) FROM stdin;\na\rb\n\\.\n", 0,
	      "literal carriage return", "copy: a raw carriage return in data");
	check(BK_DP_COPY, "COPY t (a, b) FROM stdin;\n1\t\\.\n\\.\n", 0,
	      "'\\.' inside a row", "copy: \\. inside a row");
	check(BK_DP_COPY, "COPY t (a) FROM stdin;\n\\.x\n", 0, "junk after '\\.'",
	      "copy: junk after \\.");
	check(BK_DP_COPY, "SET x = 1;\n\\.\n", 0, "line 2: '\\.' outside a COPY block",
	      "copy: \\. outside a block");
	check(BK_DP_COPY, "SELECT 1;\n\\! rm -rf /\n", 0,
	      "line 2: psql meta-command outside a COPY block", "copy: a psql meta-command");
	check(BK_DP_COPY, "COPY t (a FROM stdin;\n1\n\\.\n", 0,
	      "line 1: cannot parse the column list of COPY t", "copy: a broken column list");
	check(BK_DP_COPY, "COPY t (a) FROM '/etc/passwd';\n", 0,
	      "line 1: COPY t: expected 'FROM stdin;'", "copy: COPY from a file");
	check(BK_DP_COPY, "COPY \"unterminated (a) FROM stdin;\n", 0,
	      "cannot parse the table name", "copy: an unterminated quoted name");
}

static void test_copy_binary(void)
{
	static const char text[] = "COPY t (a) FROM stdin;\na\0b\n\\.\n";
	struct outcome o;

	run(BK_DP_COPY, text, sizeof(text) - 1, 1, &o);
	ok(o.ret == -1 && strstr(o.err, "line 2: NUL byte in COPY data of t"),
	   "copy: a NUL byte in data (byte by byte)");
	run(BK_DP_COPY, text, sizeof(text) - 1, 100, &o);
	ok(o.ret == -1 && strstr(o.err, "line 2: NUL byte in COPY data of t"),
	   "copy: a NUL byte in data (one piece)");
	run(BK_DP_COPY, "SET \0x;\n", 8, 100, &o);
	ok(o.ret == -1 && strstr(o.err, "line 1: NUL byte"), "copy: a NUL byte outside a block");
}

static void test_copy_long_line(void)
{
	size_t n = (2 << 20) + 10;
	char *text = malloc(n + 1);
	struct outcome o;

	/* A very long SQL line outside a block is fine, a very long COPY line is not. */
	memset(text, 'x', n);
	memcpy(text, "SELECT '", 8);
	text[n - 1] = '\n';
	text[n] = '\0';
	run(BK_DP_COPY, text, n, 65536, &o);
	ok(o.ret == 0, "copy: a 2 MB line outside a block is read in constant memory");
	memcpy(text, "COPY t (", 8);
	run(BK_DP_COPY, text, n, 65536, &o);
	ok(o.ret == -1 && strstr(o.err, "COPY line longer than"), "copy: a 2 MB COPY line fails");
	free(text);
}

static void test_csv(void)
{
	check(BK_DP_CSV,
	      "id,name,note\n"
	      "1,Alice,\"hello, world\"\n"
	      "2,\"Bob \"\"the\"\" builder\",\"multi\nline\n\"\n"
	      "3,,\n"
	      "4,\xe0\xb8\x97\xe0\xb8\xa2,\"\"\n",
	      4, NULL, "csv: quotes, commas and newlines in fields, empty fields");
	check(BK_DP_CSV, "a,b\r\n1,2\r\n\"x\r\ny\",3\r\n", 2, NULL, "csv: CRLF records");
	check(BK_DP_CSV, "a,b\n1,2\n3,4", 2, NULL, "csv: a last record without newline");
	check(BK_DP_CSV, "a,b\n1,2\n3,\"4\"", 2, NULL, "csv: a last quoted field without newline");
	check(BK_DP_CSV, "id,name\n", 0, NULL, "csv: a header only");
	check(BK_DP_CSV, "id\n\n1\n", 2, NULL, "csv: one column with an empty (NULL) value");

	check(BK_DP_CSV, "", 0, "no header line", "csv: an empty file");
	check(BK_DP_CSV, "a,b,c\n1,2,3\n4,5\n", 0,
	      "line 3: record has 2 fields, the header has 3", "csv: a record with too few fields");
	check(BK_DP_CSV, "a,b\n1,\"2\nx\",3\n", 0,
	      "line 3: record has 3 fields, the header has 2",
	      "csv: too many fields, counted lines include quoted newlines");
	check(BK_DP_CSV, "a,b\n1,\"open\n2,3\n", 0,
	      "unterminated quoted field (opened on line 2)", "csv: an unterminated quote");
	check(BK_DP_CSV, "a,b\n1,x\"y\n", 0, "line 2: quote inside an unquoted field",
	      "csv: a quote inside an unquoted field");
	check(BK_DP_CSV, "a,b\n1,\"x\"y\n", 0, "line 2: character after the closing quote",
	      "csv: bytes after a closing quote");
	check(BK_DP_CSV, "a,b\n1,x\ry\n", 0, "line 2: carriage return not followed by a newline",
	      "csv: a bare carriage return");
	check(BK_DP_CSV, "a,b\n1,2\n\n", 0, "line 3: record has 1 field, the header has 2",
	      "csv: an empty line in a two-column file");
}

static void test_big(void)
{
	/* Many rows through the fast path, fed in 64 KiB chunks. */
	size_t rows = 200000, cap = rows * 40 + 100, n = 0;
	char *text = malloc(cap);
	struct outcome o;

	n += (size_t)sprintf(text + n, "COPY public.t (id, v, w) FROM stdin;\n");
	for (size_t i = 0; i < rows; i++)
		n += (size_t)sprintf(text + n, "%zu\tvalue %zu\t\\N\n", i, i * 31);
	n += (size_t)sprintf(text + n, "\\.\n");
	run(BK_DP_COPY, text, n, 65536, &o);
	ok(o.ret == 0 && o.rows == rows, "copy: 200000 rows counted");
	n = (size_t)sprintf(text, "id,v\n");
	for (size_t i = 0; i < rows; i++)
		n += (size_t)sprintf(text + n, "%zu,\"v,%zu\"\n", i, i);
	run(BK_DP_CSV, text, n, 65536, &o);
	ok(o.ret == 0 && o.rows == rows, "csv: 200000 records counted");
	free(text);
}

static void collect(const char *table, unsigned long long rows, void *ctx)
{
	char *out = ctx;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%s=%llu;", table, rows);
}

static void test_blocks(void)
{
	static const char text[] =
		"COPY public.users (a) FROM stdin;\n1\n2\n\\.\n"
		"SELECT 1;\n"
		"COPY public.\"User\"\"Profile\" (a, b) FROM stdin;\n\\.\n"
		"COPY s.t (a) FROM stdin;\n\\N\n\\.";
	static const size_t chunks[] = { 1, 5, sizeof(text) };

	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct bk_dp *p = bk_dp_new(BK_DP_COPY);
		char seen[512] = "";
		int ret = 0;

		bk_dp_on_block(p, collect, seen);
		for (size_t off = 0; off < sizeof(text) - 1 && ret == 0; off += chunks[i])
			ret = bk_dp_feed(p, text + off, sizeof(text) - 1 - off < chunks[i]
						       ? sizeof(text) - 1 - off : chunks[i]);
		if (ret == 0)
			ret = bk_dp_finish(p);
		ok(ret == 0 && !strcmp(seen, "public.users=2;public.\"User\"\"Profile\"=0;s.t=1;"),
		   "copy: each block's table and rows reported (chunks of %zu): %s", chunks[i], seen);
		bk_dp_free(p);
	}
}

int main(void)
{
	test_blocks();
	test_copy();
	test_copy_binary();
	test_copy_long_line();
	test_csv();
	test_big();
	return done_testing();
}
