/*
 * Reading the files an extraction kept open (extract.h), line by line in
 * constant memory (a line is kept whole: PostgreSQL bounds a row), for the
 * restore and the restore test's content check.
 */
#ifndef BK_READER_H
#define BK_READER_H

#include <libpq-fe.h>
#include <sys/types.h>

#include "extract.h"

#define BK_READER_CHUNK (1024 * 1024)
#define BK_READER_MAX_HEADER (1024 * 1024)	/* a CSV header line */

struct bk_reader {
	const char *name;
	int fd;
	off_t off;
	char *buf;
	size_t cap, start, end;	/* unconsumed bytes: buf[start..end) */
	int eof;
	long lineno;		/* of the line at start */
};

/* Open the kept file name of files: 0, or -1 (not kept). */
int bk_reader_open(struct bk_reader *r, const struct bk_extract_files *files, const char *name);
void bk_reader_close(struct bk_reader *r);
/* Read more: keep the unconsumed bytes, grow up to max_line when they fill
 * the buffer. 0, or -1. At the end of the file r->eof is set. */
int bk_reader_fill(struct bk_reader *r, size_t max_line);
/* The next line (with its '\n', if any) at r->buf + r->start: its length,
 * 0 at the end of the file, -1 on error. Consumed by the caller. */
ssize_t bk_reader_line(struct bk_reader *r, size_t max_line);
/* The first CSV record of r as a quoted column list "(a, b)" in *cols
 * (caller frees); consumes it. -1 if it is not a complete, sane header. */
int bk_reader_csv_header(PGconn *conn, struct bk_reader *r, char **cols);

#endif
