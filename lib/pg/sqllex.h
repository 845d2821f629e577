/*
 * Where the statements of a pg_dump script end, found as psql finds them, so
 * a schema file of any size can be sent to the server in pieces that end at
 * statement boundaries. Fed bytes in chunks of any size, constant memory.
 */
#ifndef BK_SQLLEX_H
#define BK_SQLLEX_H

#include <stddef.h>

/* What stopped bk_sql_lex(). */
enum bk_sql_event {
	BK_SQL_MORE,		/* the bytes given are used up */
	BK_SQL_END,		/* just past a statement's final ';' */
	BK_SQL_BACKSLASH	/* at a '\' outside quotes and comments: psql would
				 * read a meta-command there */
};

struct bk_sql_lexer {
	int state;		/* where in the text: see sqllex.c */
	int e_string;		/* the quote is E'...' (backslash escapes) */
	int paren_depth;	/* ( ) outside quotes */
	int begin_depth;	/* BEGIN ... END in CREATE FUNCTION/PROCEDURE */
	int n_words;		/* words of the statement so far */
	char words[4];		/* first letters of its first words, for CREATE
				 * [OR REPLACE] FUNCTION|PROCEDURE */
	char word[16];		/* the word being read (lower case, cut) */
	size_t word_len;
	char tag[64];		/* tag of the dollar quote we are in */
	size_t tag_len, tag_match;
	int tag_matching;	/* inside: tag_match bytes of "$tag$" seen */
	int comment_depth;	/* slash-star comments nest */
	unsigned char prev;	/* the previous byte ('\n' at the start) */
	long line;		/* of the next byte, 1-based */
	long quote_line;	/* where the open quote or comment started */
	int in_statement;	/* something but blanks and comments since the last end */
};

void bk_sql_lexer_init(struct bk_sql_lexer *lx);

/*
 * Read buf from *pos up to len: stops just past the ';' that ends a
 * statement (BK_SQL_END), on a backslash outside quotes and comments
 * (BK_SQL_BACKSLASH, *pos at it; skip it and call again to go on), or at
 * len (BK_SQL_MORE). *pos is where it stopped.
 */
enum bk_sql_event bk_sql_lex(struct bk_sql_lexer *lx, const char *buf, size_t len, size_t *pos);

/* Inside a quoted string, quoted name, dollar quote or comment? Then its
 * kind for a message ("a quoted string", ...); NULL when not. */
const char *bk_sql_lexer_open(const struct bk_sql_lexer *lx);

/* Is the lexer at the start of a line? */
int bk_sql_lexer_at_line_start(const struct bk_sql_lexer *lx);

#endif
