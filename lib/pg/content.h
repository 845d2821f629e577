/*
 * Does a restored database hold what the archive holds, row for row? Each
 * table's rows get an order-independent digest twice: from the archive's
 * data member (the lines of its COPY block, the records of its CSV) and
 * from the database (COPY ... TO STDOUT in the same format and session
 * settings as bk-export's). The same rows give the same bytes, so the same
 * digest; a changed, missing or extra row changes it.
 */
#ifndef BK_CONTENT_H
#define BK_CONTENT_H

#include <libpq-fe.h>

#include "extract.h"
#include "restore.h"

/* A multiset hash: the SHA-256 of every row (with its final newline), added
 * up as four 64-bit lanes; the order of the rows does not matter. */
struct bk_content_digest {
	unsigned long long lane[4];
	long long rows;
};

struct bk_content_table {
	const struct bk_restore_table *t;
	int csv;		/* its member is a CSV file (with a header) */
	char *cols;		/* quoted column list "(a, b)" as the archive has it */
	char *header;		/* the CSV header record as in the archive */
	struct bk_content_digest archive, db;
	char *db_header;
};

struct bk_content {
	struct bk_content_table *tables;
	size_t n;
};

/* Digest every table of plan from the kept data files. 0, or -1. */
int bk_content_read_archive(struct bk_content *c, const struct bk_restore_plan *plan,
			    const struct bk_extract_files *files, PGconn *conn);
/* Digest every table from conn's database: its session gets bk-export's
 * output settings, and TimeZone and lc_monetary when not NULL (those of the
 * backed-up server). 0, or -1. */
int bk_content_read_database(struct bk_content *c, PGconn *conn, const char *timezone,
			     const char *lc_monetary);
/* 0 when both sides agree for every table and the rows equal MANIFEST's,
 * else -1 with the first difference in the error slot. */
int bk_content_compare(const struct bk_content *c);
void bk_content_free(struct bk_content *c);

#endif
