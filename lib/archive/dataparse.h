/*
 * Streaming checks of the data files of a backup, fed in chunks of any size
 * with constant memory: pg_dump-style COPY blocks in .sql files, and CSV with
 * a header line. Each counts the rows it sees; bk-verify compares them with
 * MANIFEST. Where a chunk ends never changes the outcome.
 */
#ifndef BK_DATAPARSE_H
#define BK_DATAPARSE_H

#include <stddef.h>

enum bk_dp_kind {
	/*
	 * SQL text: "COPY name (col, ...) FROM stdin;" then rows of tab-separated
	 * fields (as many as the column list names, COPY text escapes only) up to
	 * a "\." line. Other lines (comments, SET, SELECT pg_catalog.setval, ...)
	 * are allowed; psql meta-commands ("\!", "\connect") outside a block are not.
	 */
	BK_DP_COPY,
	/* RFC 4180 CSV: a header record, then records with as many fields; rows
	 * exclude the header. Quoted fields may hold commas, quotes and newlines. */
	BK_DP_CSV,
};

struct bk_dp;

struct bk_dp *bk_dp_new(enum bk_dp_kind kind);
/* Feed the next bytes: 0, or -1 with "line N: reason" in the error slot (and
 * every later call fails the same way). */
int bk_dp_feed(struct bk_dp *p, const void *buf, size_t len);
/* End of input: -1 when it ends inside a COPY block or a quoted field, or a
 * CSV has no header. */
int bk_dp_finish(struct bk_dp *p);
/* COPY: call cb(table as written after COPY, rows of the block, ctx) at each
 * block's end line. */
void bk_dp_on_block(struct bk_dp *p,
		    void (*cb)(const char *table, unsigned long long rows, void *ctx), void *ctx);
/* Data rows seen so far (COPY rows of every block, or CSV records after the header). */
unsigned long long bk_dp_rows(const struct bk_dp *p);
/* The reason for the first failure, "" when none. */
const char *bk_dp_error(const struct bk_dp *p);
void bk_dp_free(struct bk_dp *p);

#endif
