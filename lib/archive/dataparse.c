/*
 * COPY-block and CSV checkers (see dataparse.h): byte state machines with a
 * table-driven fast path over ordinary bytes, since these see every byte of
 * the data and bk-verify's speed is mostly theirs and inflate's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "dataparse.h"
#include "err.h"
#include "fs.h"

#define LINE_MAX_BYTES (1 << 20)	/* a COPY header line (column list) */
#define NAME_SHOWN 300	/* a schema-qualified name, quotes doubled */

enum copy_state {
	CP_LINE,		/* outside a block: collecting a line */
	CP_FIELD,		/* in a row */
	CP_ESC,			/* after a backslash */
	CP_OCT,			/* \ddd */
	CP_HEX,			/* \xhh */
	CP_AFTER_NULL,		/* after \N: the field must end */
	CP_END_MARK,		/* after \. at a row start: the line must end */
};

enum csv_state {
	CSV_FIELD_START,
	CSV_UNQUOTED,
	CSV_QUOTED,
	CSV_QUOTE_SEEN,		/* a quote inside a quoted field: end or "" */
	CSV_CR,			/* a carriage return: a newline must follow */
};

struct bk_dp {
	enum bk_dp_kind kind;
	int state;
	unsigned long long line;	/* 1-based number of the current line */
	unsigned long long rows;
	unsigned long long block_rows;	/* COPY: rows of the current block */
	void (*on_block)(const char *table, unsigned long long rows, void *ctx);
	void *on_block_ctx;
	long ncols;			/* -1: unknown (CSV before its header; COPY without list) */
	long fields;			/* fields of the current row so far (>= 1) */
	int field_empty;		/* nothing in the current field yet */
	int digits;			/* of an octal or hex escape */
	int in_record;			/* CSV: bytes of a record seen */
	unsigned long long quote_line;	/* CSV: where the open quoted field began */
	unsigned long long block_line;	/* COPY: line of the COPY header */
	char *linebuf;			/* COPY: the current line outside a block */
	size_t line_len, line_cap;
	int line_long;			/* it did not fit: only its start is kept */
	char table[NAME_SHOWN + 1];	/* COPY: the current block's table, for messages */
	char err[512];
};

/* Bytes that end the fast path in each state. */
static unsigned char copy_special[256], csv_unquoted_special[256], csv_quoted_special[256];

static void init_tables(void)
{
	static int done;

	if (done)
		return;
	copy_special['\t'] = copy_special['\n'] = copy_special['\\'] = 1;
	copy_special['\r'] = copy_special['\0'] = 1;
	csv_unquoted_special[','] = csv_unquoted_special['\n'] = 1;
	csv_unquoted_special['\r'] = csv_unquoted_special['"'] = csv_unquoted_special['\0'] = 1;
	csv_quoted_special['"'] = csv_quoted_special['\n'] = csv_quoted_special['\0'] = 1;
	done = 1;
}

/*
 * Skip ordinary bytes: the first byte at or after s that table marks, or end.
 * With SSE2, 16 bytes at a time against the (up to five) special bytes c[].
 */
#ifdef __SSE2__
static const unsigned char *skip_plain(const unsigned char *s, const unsigned char *end,
				       const unsigned char *table, const char c[5])
{
	const __m128i c0 = _mm_set1_epi8(c[0]), c1 = _mm_set1_epi8(c[1]),
		      c2 = _mm_set1_epi8(c[2]), c3 = _mm_set1_epi8(c[3]),
		      c4 = _mm_set1_epi8(c[4]);

	while (end - s >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, c0), _mm_cmpeq_epi8(v, c1)),
					 _mm_or_si128(_mm_cmpeq_epi8(v, c2), _mm_cmpeq_epi8(v, c3)));
		int bits = _mm_movemask_epi8(_mm_or_si128(m, _mm_cmpeq_epi8(v, c4)));

		if (bits)
			return s + __builtin_ctz((unsigned)bits);
		s += 16;
	}
	while (s < end && !table[*s])
		s++;
	return s;
}
#else
static const unsigned char *skip_plain(const unsigned char *s, const unsigned char *end,
				       const unsigned char *table, const char c[5])
{
	(void)c;
	while (s < end && !table[*s])
		s++;
	return s;
}
#endif

/* The special bytes of each table, for skip_plain (repeats fill unused places). */
static const char copy_chars[5] = { '\t', '\n', '\\', '\r', '\0' };
static const char csv_unquoted_chars[5] = { ',', '\n', '\r', '"', '\0' };
static const char csv_quoted_chars[5] = { '"', '\n', '\0', '\0', '\0' };

static int fail(struct bk_dp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct bk_dp *p, const char *fmt, ...)
{
	va_list ap;
	char msg[400];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, sizeof(p->err), "line %llu: %s", p->line, msg);
	return bk_err_set("%s", p->err);
}

struct bk_dp *bk_dp_new(enum bk_dp_kind kind)
{
	struct bk_dp *p = calloc(1, sizeof(*p));

	if (!p)
		abort();
	init_tables();
	p->kind = kind;
	p->line = 1;
	p->ncols = -1;
	p->fields = 1;
	p->field_empty = 1;
	p->state = kind == BK_DP_COPY ? CP_LINE : CSV_FIELD_START;
	return p;
}

void bk_dp_free(struct bk_dp *p)
{
	if (!p)
		return;
	free(p->linebuf);
	free(p);
}

void bk_dp_on_block(struct bk_dp *p,
		    void (*cb)(const char *table, unsigned long long rows, void *ctx), void *ctx)
{
	p->on_block = cb;
	p->on_block_ctx = ctx;
}

unsigned long long bk_dp_rows(const struct bk_dp *p)
{
	return p->rows;
}

const char *bk_dp_error(const struct bk_dp *p)
{
	return p->err;
}

/* ---- COPY ---- */

/* Skip an identifier at s (quoted with "" escapes, or bare); NULL if malformed. */
static const char *skip_ident(const char *s, const char *end)
{
	if (s < end && *s == '"') {
		for (s++; s < end; s++) {
			if (*s != '"')
				continue;
			if (s + 1 < end && s[1] == '"') {
				s++;
				continue;
			}
			return s + 1;
		}
		return NULL;
	}
	const char *start = s;

	while (s < end && *s != ' ' && *s != '.' && *s != '(' && *s != ')' && *s != ',' &&
	       *s != '"')
		s++;
	return s > start ? s : NULL;
}

/* "COPY name [(col, ...)] FROM stdin;": the column count (-1 without a list). */
static int parse_copy_header(struct bk_dp *p, const char *s, size_t len)
{
	const char *end = s + len, *name, *q;
	long ncols = -1;
	static const char tail[] = "FROM stdin;";

	name = s += 5;
	for (;;) {
		if (!(s = skip_ident(s, end)))
			return fail(p, "cannot parse the table name of a COPY line");
		if (s < end && *s == '.') {
			s++;
			continue;
		}
		break;
	}
	snprintf(p->table, sizeof(p->table), "%.*s",
		 (int)((size_t)(s - name) < NAME_SHOWN ? s - name : NAME_SHOWN), name);
	while (s < end && *s == ' ')
		s++;
	if (s < end && *s == '(') {
		ncols = 1;
		for (q = s + 1; ; ) {
			while (q < end && *q == ' ')
				q++;
			if (!(q = skip_ident(q, end)))
				return fail(p, "cannot parse the column list of COPY %s", p->table);
			while (q < end && *q == ' ')
				q++;
			if (q < end && *q == ',') {
				ncols++;
				q++;
				continue;
			}
			if (q < end && *q == ')')
				break;
			return fail(p, "cannot parse the column list of COPY %s", p->table);
		}
		s = q + 1;
		while (s < end && *s == ' ')
			s++;
	}
	if ((size_t)(end - s) != sizeof(tail) - 1 || memcmp(s, tail, sizeof(tail) - 1) != 0)
		return fail(p, "COPY %s: expected '%s' at the end of the line", p->table, tail);
	p->ncols = ncols;
	return 0;
}

/* A whole line outside a block (without its newline). */
static int copy_line(struct bk_dp *p)
{
	const char *s = p->linebuf ? p->linebuf : "";
	size_t n = p->line_len;

	if (n >= 5 && !memcmp(s, "COPY ", 5)) {
		if (p->line_long)
			return fail(p, "COPY line longer than %d bytes", LINE_MAX_BYTES);
		if (parse_copy_header(p, s, n) < 0)
			return -1;
		p->state = CP_FIELD;
		p->fields = 1;
		p->field_empty = 1;
		p->block_line = p->line;
		p->block_rows = 0;
	} else if (n >= 1 && s[0] == '\\') {
		/* pg_dump 15.14+ fences its scripts with \restrict/\unrestrict. */
		if ((n >= 10 && !memcmp(s, "\\restrict ", 10)) ||
		    (n >= 12 && !memcmp(s, "\\unrestrict ", 12)))
			;
		else if (n == 2 && s[1] == '.')
			return fail(p, "'\\.' outside a COPY block");
		else
			return fail(p, "psql meta-command outside a COPY block");
	}
	p->line_len = 0;
	p->line_long = 0;
	return 0;
}

static int copy_row_end(struct bk_dp *p)
{
	if (p->ncols >= 0 && p->fields != p->ncols)
		return fail(p, "row has %ld field%s, COPY %s lists %ld column%s", p->fields,
			    p->fields == 1 ? "" : "s", p->table, p->ncols, p->ncols == 1 ? "" : "s");
	p->rows++;
	p->block_rows++;
	p->line++;
	p->fields = 1;
	p->field_empty = 1;
	return 0;
}

static void copy_block_end(struct bk_dp *p)
{
	p->state = CP_LINE;
	p->ncols = -1;
	if (p->on_block)
		p->on_block(p->table, p->block_rows, p->on_block_ctx);
}

static int copy_feed(struct bk_dp *p, const unsigned char *s, const unsigned char *end)
{
	while (s < end) {
		unsigned char c;

		switch (p->state) {
		case CP_LINE: {
			const unsigned char *nl = memchr(s, '\n', (size_t)(end - s));
			size_t take = (size_t)((nl ? nl : end) - s);

			if (memchr(s, '\0', take))
				return fail(p, "NUL byte");
			if (p->line_len + take > LINE_MAX_BYTES) {
				p->line_long = 1;
				take = LINE_MAX_BYTES - p->line_len;
			}
			if (p->line_len + take > p->line_cap) {
				p->line_cap = p->line_len + take < 256 ? 256 : (p->line_len + take) * 2;
				if (p->line_cap > LINE_MAX_BYTES)
					p->line_cap = LINE_MAX_BYTES;
				p->linebuf = realloc(p->linebuf, p->line_cap);
				if (!p->linebuf)
					abort();
			}
			if (take)	/* linebuf may still be NULL */
				memcpy(p->linebuf + p->line_len, s, take);
			p->line_len += take;
			if (!nl)
				return 0;
			s = nl + 1;
			if (copy_line(p) < 0)
				return -1;
			p->line++;
			continue;
		}
		case CP_FIELD: {
			/* The hot path: rows of plain fields, with the counters in locals. */
			long fields = p->fields;
			int empty = p->field_empty;

			while (s < end) {
				if (!copy_special[*s]) {
					s = skip_plain(s + 1, end, copy_special, copy_chars);
					empty = 0;
				} else if (*s == '\t') {
					s++;
					fields++;
					empty = 1;
				} else if (*s == '\n') {
					s++;
					p->fields = fields;
					if (copy_row_end(p) < 0)
						return -1;
					fields = 1;
					empty = 1;
				} else {
					break;
				}
			}
			p->fields = fields;
			p->field_empty = empty;
			if (s == end)
				return 0;
			c = *s++;
			if (c == '\\') {
				p->state = CP_ESC;
			} else if (c == '\r') {
				return fail(p, "literal carriage return in COPY data of %s", p->table);
			} else {
				return fail(p, "NUL byte in COPY data of %s", p->table);
			}
			continue;
		}
		case CP_ESC:
			c = *s++;
			p->state = CP_FIELD;
			switch (c) {
			case 'b': case 'f': case 'n': case 'r': case 't': case 'v': case '\\':
				p->field_empty = 0;
				break;
			case 'N':
				if (!p->field_empty)
					return fail(p, "\\N inside a field of COPY %s", p->table);
				p->state = CP_AFTER_NULL;
				break;
			case '.':
				if (!p->field_empty || p->fields != 1)
					return fail(p, "'\\.' inside a row of COPY %s", p->table);
				p->state = CP_END_MARK;
				break;
			case 'x':
				p->state = CP_HEX;
				p->digits = 0;
				p->field_empty = 0;
				break;
			default:
				if (c >= '0' && c <= '7') {
					p->state = CP_OCT;
					p->digits = 1;
					p->field_empty = 0;
					break;
				}
				if (c >= 0x20 && c < 0x7f)
					return fail(p, "invalid escape '\\%c' in COPY data of %s", c, p->table);
				return fail(p, "invalid escape (backslash and byte 0x%02x) in COPY data of %s",
					    c, p->table);
			}
			continue;
		case CP_OCT:
			if (*s >= '0' && *s <= '7' && p->digits < 3) {
				p->digits++;
				s++;
			} else {
				p->state = CP_FIELD;
			}
			continue;
		case CP_HEX:
			if (p->digits < 2 && ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
					      (*s >= 'A' && *s <= 'F'))) {
				p->digits++;
				s++;
			} else if (p->digits == 0) {
				return fail(p, "'\\x' without hex digits in COPY data of %s", p->table);
			} else {
				p->state = CP_FIELD;
			}
			continue;
		case CP_AFTER_NULL:
			if (*s != '\t' && *s != '\n')
				return fail(p, "\\N inside a field of COPY %s", p->table);
			p->field_empty = 0;
			p->state = CP_FIELD;
			continue;
		case CP_END_MARK:
			if (*s != '\n')
				return fail(p, "junk after '\\.' ending COPY %s", p->table);
			s++;
			p->line++;
			copy_block_end(p);
			continue;
		}
	}
	return 0;
}

static int copy_finish(struct bk_dp *p)
{
	if (p->state == CP_LINE) {
		if (p->line_len && copy_line(p) < 0)
			return -1;
		if (p->state == CP_LINE)
			return 0;
	}
	if (p->state == CP_END_MARK) {	/* "\." as the very last bytes, no newline */
		copy_block_end(p);
		return 0;
	}
	return fail(p, "unterminated COPY block for %s (started on line %llu, no '\\.' line)",
		    p->table, p->block_line);
}

/* ---- CSV ---- */

static int csv_record_end(struct bk_dp *p)
{
	if (p->ncols < 0) {
		p->ncols = p->fields;
	} else if (p->fields != p->ncols) {
		return fail(p, "record has %ld field%s, the header has %ld", p->fields,
			    p->fields == 1 ? "" : "s", p->ncols);
	} else {
		p->rows++;
	}
	p->line++;
	p->fields = 1;
	p->in_record = 0;
	p->state = CSV_FIELD_START;
	return 0;
}

/* The hot state lives in locals (p is written back on the way out): stores
 * through p would otherwise make the compiler reload *s after each one. */
static int csv_feed(struct bk_dp *p, const unsigned char *s, const unsigned char *end)
{
	int state = p->state, in_record = p->in_record;
	long fields = p->fields;

#define RECORD_END() do { \
		p->fields = fields; \
		if (csv_record_end(p) < 0) \
			return -1; \
		fields = 1; \
		in_record = 0; \
		state = CSV_FIELD_START; \
	} while (0)

	while (s < end) {
		unsigned char c = *s++;

		in_record = 1;
		switch (state) {
		case CSV_FIELD_START:
			if (!csv_unquoted_special[c]) {
				state = CSV_UNQUOTED;
				s = skip_plain(s, end, csv_unquoted_special, csv_unquoted_chars);
			} else if (c == '"') {
				state = CSV_QUOTED;
				p->quote_line = p->line;
				s = skip_plain(s, end, csv_quoted_special, csv_quoted_chars);
			} else if (c == ',') {
				fields++;
			} else if (c == '\n') {
				RECORD_END();
			} else if (c == '\r') {
				state = CSV_CR;
			} else {
				return fail(p, "NUL byte");
			}
			continue;
		case CSV_UNQUOTED:
			if (!csv_unquoted_special[c]) {
				s = skip_plain(s, end, csv_unquoted_special, csv_unquoted_chars);
			} else if (c == ',') {
				fields++;
				state = CSV_FIELD_START;
			} else if (c == '\n') {
				RECORD_END();
			} else if (c == '\r') {
				state = CSV_CR;
			} else if (c == '"') {
				return fail(p, "quote inside an unquoted field");
			} else {
				return fail(p, "NUL byte");
			}
			continue;
		case CSV_QUOTED:
			if (!csv_quoted_special[c])
				s = skip_plain(s, end, csv_quoted_special, csv_quoted_chars);
			else if (c == '"')
				state = CSV_QUOTE_SEEN;
			else if (c == '\n')
				p->line++;
			else
				return fail(p, "NUL byte");
			continue;
		case CSV_QUOTE_SEEN:
			if (c == '"') {
				state = CSV_QUOTED;
			} else if (c == ',') {
				fields++;
				state = CSV_FIELD_START;
			} else if (c == '\n') {
				RECORD_END();
			} else if (c == '\r') {
				state = CSV_CR;
			} else {
				return fail(p, "character after the closing quote of a field");
			}
			continue;
		case CSV_CR:
			if (c != '\n')
				return fail(p, "carriage return not followed by a newline");
			RECORD_END();
			continue;
		}
	}
#undef RECORD_END
	p->state = state;
	p->fields = fields;
	p->in_record = in_record;
	return 0;
}

static int csv_finish(struct bk_dp *p)
{
	if (p->state == CSV_QUOTED)
		return fail(p, "unterminated quoted field (opened on line %llu)", p->quote_line);
	if (p->state == CSV_CR || p->in_record) {
		if (csv_record_end(p) < 0)
			return -1;
	}
	if (p->ncols < 0)
		return fail(p, "no header line");
	return 0;
}

int bk_dp_feed(struct bk_dp *p, const void *buf, size_t len)
{
	const unsigned char *s = buf;

	if (p->err[0])
		return bk_err_set("%s", p->err);
	return p->kind == BK_DP_COPY ? copy_feed(p, s, s + len) : csv_feed(p, s, s + len);
}

int bk_dp_finish(struct bk_dp *p)
{
	if (p->err[0])
		return bk_err_set("%s", p->err);
	return p->kind == BK_DP_COPY ? copy_finish(p) : csv_finish(p);
}
