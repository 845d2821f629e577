/*
 * Statement boundaries of a pg_dump script (see sqllex.h), by the rules of
 * psql's lexer (src/fe_utils/psqlscan.l): a ';' outside quotes, comments and
 * parentheses ends a statement, except inside the BEGIN ... END of a
 * CREATE [OR REPLACE] FUNCTION|PROCEDURE (SQL-standard bodies). Quotes:
 * '...' ('' inside), E'...' (backslash escapes too), "...", $tag$...$tag$;
 * comments: -- to the end of the line, nested slash-star. The text is read
 * as standard_conforming_strings = on, which pg_dump sets.
 */
#include <string.h>

#include "sqllex.h"

enum {
	S_NORMAL,
	S_DASH,			/* after '-': a comment if another follows */
	S_SLASH,		/* after '/': a comment if '*' follows */
	S_SQUOTE,		/* in '...' */
	S_SQUOTE_END,		/* after its closing quote: '' goes on */
	S_SQUOTE_ESC,		/* after a backslash in E'...' */
	S_DQUOTE,		/* in "..." */
	S_DQUOTE_END,
	S_DOLLAR_TAG,		/* after '$': reading a tag up to the next '$' */
	S_DOLLAR,		/* in $tag$...$tag$ */
	S_LINE_COMMENT,
	S_BLOCK_COMMENT,	/* comment_depth deep */
	S_BLOCK_SLASH,		/* in a comment, after '/' */
	S_BLOCK_STAR		/* in a comment, after '*' */
};

static int ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static int ident_cont(unsigned char c)
{
	return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

void bk_sql_lexer_init(struct bk_sql_lexer *lx)
{
	memset(lx, 0, sizeof(*lx));
	lx->prev = '\n';
	lx->line = 1;
}

/* A word ended: psql's heuristic for BEGIN ... END in function bodies. */
static void word_end(struct bk_sql_lexer *lx)
{
	const char *w = lx->word;
	int is_fn;

	if (!lx->word_len)
		return;
	if (lx->word_len >= sizeof(lx->word))
		w = "";		/* longer than any word we look for */
	if (lx->n_words == 0)
		memset(lx->words, 0, sizeof(lx->words));
	if (!strcmp(w, "create") || !strcmp(w, "function") || !strcmp(w, "procedure") ||
	    !strcmp(w, "or") || !strcmp(w, "replace")) {
		if ((size_t)lx->n_words < sizeof(lx->words))
			lx->words[lx->n_words] = w[0];
	}
	lx->n_words++;
	is_fn = lx->words[0] == 'c' &&
		(lx->words[1] == 'f' || lx->words[1] == 'p' ||
		 (lx->words[1] == 'o' && lx->words[2] == 'r' &&
		  (lx->words[3] == 'f' || lx->words[3] == 'p')));
	if (is_fn && lx->paren_depth == 0) {
		if (!strcmp(w, "begin"))
			lx->begin_depth++;
		else if (!strcmp(w, "case") && lx->begin_depth >= 1)
			lx->begin_depth++;	/* CASE ends with END too */
		else if (!strcmp(w, "end") && lx->begin_depth > 0)
			lx->begin_depth--;
	}
	lx->word_len = 0;
	lx->word[0] = '\0';
}

static void word_add(struct bk_sql_lexer *lx, unsigned char c)
{
	if (lx->word_len + 1 < sizeof(lx->word)) {
		lx->word[lx->word_len] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		lx->word[lx->word_len + 1] = '\0';
	}
	if (lx->word_len < sizeof(lx->word))
		lx->word_len++;
}

/* A byte outside quotes and comments. 1: a statement ends after it,
 * 2: a backslash (not consumed), 0: else. */
static int normal(struct bk_sql_lexer *lx, unsigned char c)
{
	int e_quote = c == '\'' && lx->word_len == 1 && lx->word[0] == 'e';

	if (lx->word_len && !ident_cont(c)) {
		if (e_quote)
			lx->word_len = 0;	/* E'...' is a string, not a word */
		else
			word_end(lx);
	} else if (!lx->word_len && ident_start(c) && !ident_cont(lx->prev)) {
		word_add(lx, c);
		lx->in_statement = 1;
		return 0;
	} else if (lx->word_len) {
		word_add(lx, c);
		return 0;
	}
	if (c == '\\')
		return 2;
	if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '-' && c != '/')
		lx->in_statement = 1;
	switch (c) {
	case '\'':
		lx->state = S_SQUOTE;
		lx->e_string = e_quote;
		lx->quote_line = lx->line;
		break;
	case '"':
		lx->state = S_DQUOTE;
		lx->quote_line = lx->line;
		break;
	case '$':
		if (!ident_cont(lx->prev)) {
			lx->state = S_DOLLAR_TAG;
			lx->tag_len = 0;
			lx->quote_line = lx->line;
		}
		break;
	case '-':
		lx->state = S_DASH;
		break;
	case '/':
		lx->state = S_SLASH;
		break;
	case '(':
		lx->paren_depth++;
		break;
	case ')':
		if (lx->paren_depth > 0)
			lx->paren_depth--;
		break;
	case ';':
		if (lx->paren_depth == 0 && lx->begin_depth == 0) {
			lx->n_words = 0;
			lx->in_statement = 0;
			return 1;
		}
		break;
	default:
		break;
	}
	return 0;
}

/* One byte: as normal(), with -1 when c must be read again in the new state. */
static int step(struct bk_sql_lexer *lx, unsigned char c)
{
	switch (lx->state) {
	case S_NORMAL:
		return normal(lx, c);
	case S_DASH:
		lx->state = S_NORMAL;
		if (c == '-') {
			lx->state = S_LINE_COMMENT;
			lx->quote_line = lx->line;
			return 0;
		}
		lx->in_statement = 1;
		return -1;
	case S_SLASH:
		lx->state = S_NORMAL;
		if (c == '*') {
			lx->state = S_BLOCK_COMMENT;
			lx->comment_depth = 1;
			lx->quote_line = lx->line;
			return 0;
		}
		lx->in_statement = 1;
		return -1;
	case S_SQUOTE:
		if (c == '\'')
			lx->state = S_SQUOTE_END;
		else if (c == '\\' && lx->e_string)
			lx->state = S_SQUOTE_ESC;
		return 0;
	case S_SQUOTE_ESC:
		lx->state = S_SQUOTE;
		return 0;
	case S_SQUOTE_END:
		lx->state = c == '\'' ? S_SQUOTE : S_NORMAL;
		return c == '\'' ? 0 : -1;
	case S_DQUOTE:
		if (c == '"')
			lx->state = S_DQUOTE_END;
		return 0;
	case S_DQUOTE_END:
		lx->state = c == '"' ? S_DQUOTE : S_NORMAL;
		return c == '"' ? 0 : -1;
	case S_DOLLAR_TAG:
		if (c == '$') {
			lx->state = S_DOLLAR;
			lx->tag_matching = 0;
			return 0;
		}
		if ((lx->tag_len ? ident_cont(c) && c != '$' : ident_start(c)) &&
		    lx->tag_len < sizeof(lx->tag)) {
			lx->tag[lx->tag_len++] = (char)c;
			return 0;
		}
		/* "$1", "$" alone: not a quote; what was read is plain text. */
		lx->state = S_NORMAL;
		return -1;
	case S_DOLLAR:
		if (lx->tag_matching) {
			if (lx->tag_match < lx->tag_len && c == (unsigned char)lx->tag[lx->tag_match]) {
				lx->tag_match++;
				return 0;
			}
			if (lx->tag_match == lx->tag_len && c == '$') {
				lx->state = S_NORMAL;
				lx->tag_matching = 0;
				lx->tag_match = 0;
				return 0;
			}
			lx->tag_matching = 0;
		}
		if (c == '$') {
			lx->tag_matching = 1;
			lx->tag_match = 0;
		}
		return 0;
	case S_LINE_COMMENT:
		if (c == '\n' || c == '\r')
			lx->state = S_NORMAL;
		return 0;
	case S_BLOCK_COMMENT:
		if (c == '*')
			lx->state = S_BLOCK_STAR;
		else if (c == '/')
			lx->state = S_BLOCK_SLASH;
		return 0;
	case S_BLOCK_STAR:
		lx->state = S_BLOCK_COMMENT;
		if (c == '/') {
			if (--lx->comment_depth == 0)
				lx->state = S_NORMAL;
			return 0;
		}
		return -1;
	case S_BLOCK_SLASH:
		lx->state = S_BLOCK_COMMENT;
		if (c == '*') {
			lx->comment_depth++;
			return 0;
		}
		return -1;
	default:
		return 0;
	}
}

enum bk_sql_event bk_sql_lex(struct bk_sql_lexer *lx, const char *buf, size_t len, size_t *pos)
{
	size_t p = *pos;

	while (p < len) {
		unsigned char c = (unsigned char)buf[p];
		int r;

		while ((r = step(lx, c)) < 0)
			;
		if (r == 2) {
			*pos = p;
			return BK_SQL_BACKSLASH;
		}
		lx->prev = c;
		if (c == '\n')
			lx->line++;
		p++;
		if (r == 1) {
			*pos = p;
			return BK_SQL_END;
		}
	}
	*pos = p;
	return BK_SQL_MORE;
}

const char *bk_sql_lexer_open(const struct bk_sql_lexer *lx)
{
	switch (lx->state) {
	case S_SQUOTE:
	case S_SQUOTE_ESC:
		return "a quoted string";
	case S_DQUOTE:
		return "a quoted name";
	case S_DOLLAR:
		return "a dollar-quoted string";
	case S_BLOCK_COMMENT:
	case S_BLOCK_STAR:
	case S_BLOCK_SLASH:
		return "a comment";
	default:
		return NULL;
	}
}

int bk_sql_lexer_at_line_start(const struct bk_sql_lexer *lx)
{
	return lx->prev == '\n' && lx->state == S_NORMAL && !lx->word_len;
}
