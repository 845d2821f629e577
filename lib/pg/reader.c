/* Line reading of kept files, and CSV headers (see reader.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fs.h"
#include "reader.h"

#define CHUNK BK_READER_CHUNK
#define MAX_HEADER BK_READER_MAX_HEADER

int bk_reader_open(struct bk_reader *r, const struct bk_extract_files *files, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->lineno = 1;
	r->fd = bk_extract_files_fd(files, name);
	if (r->fd < 0)
		return bk_err_set("%s was not kept open at extraction: cannot read it", name);
	r->cap = CHUNK;
	r->buf = bk_xmalloc(r->cap + 1);
	return 0;
}

void bk_reader_close(struct bk_reader *r)
{
	free(r->buf);
	r->fd = -1;
	r->buf = NULL;
}

int bk_reader_fill(struct bk_reader *r, size_t max_line)
{
	ssize_t n;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		if (r->cap >= max_line)
			return bk_err_set("%s line %ld: longer than %zu bytes", r->name, r->lineno,
					  max_line);
		r->cap = r->cap * 2 < max_line ? r->cap * 2 : max_line;
		r->buf = realloc(r->buf, r->cap + 1);
		if (!r->buf)
			abort();
	}
	do
		n = pread(r->fd, r->buf + r->end, r->cap - r->end, r->off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return bk_err_errno("cannot read %s", r->name);
	if (n == 0)
		r->eof = 1;
	r->off += n;
	r->end += (size_t)n;
	return 0;
}

ssize_t bk_reader_line(struct bk_reader *r, size_t max_line)
{
	size_t scanned = 0;

	for (;;) {
		char *nl = memchr(r->buf + r->start + scanned, '\n', r->end - r->start - scanned);

		if (nl)
			return nl + 1 - (r->buf + r->start);
		if (r->eof)
			return (ssize_t)(r->end - r->start);
		scanned = r->end - r->start;
		if (bk_reader_fill(r, max_line) < 0)
			return -1;
	}
}

int bk_reader_csv_header(PGconn *conn, struct bk_reader *r, char **cols)
{
	char *field = bk_xmalloc(MAX_HEADER + 1), *list = bk_xstrdup("");
	size_t flen = 0, p;
	int quoted, ret = -1, nfields = 0;

	*cols = NULL;
	for (;;) {
		int complete = 0;

		/* Parse from the start each time: the header is small. */
		p = r->start;
		flen = 0;
		quoted = 0;
		free(list);
		list = bk_xstrdup("");
		nfields = 0;
		while (p < r->end) {
			char c = r->buf[p++];

			if (quoted) {
				if (c == '"') {
					if (p < r->end && r->buf[p] == '"') {
						field[flen++] = '"';
						p++;
					} else if (p == r->end && !r->eof) {
						break;	/* need more to decide */
					} else {
						quoted = 0;
					}
				} else {
					field[flen++] = c;
				}
			} else if (c == '"' && flen == 0) {
				quoted = 1;
			} else if (c == ',' || c == '\n' || (c == '\r' && p < r->end && r->buf[p] == '\n')) {
				char *id, *next;

				if (c == '\r')
					p++;
				field[flen] = '\0';
				if (flen == 0 || memchr(field, '\0', flen))
					goto bad;
				id = PQescapeIdentifier(conn, field, flen);
				if (!id) {
					bk_err_set("%s: cannot quote column name: %s", r->name,
						   PQerrorMessage(conn));
					goto out;
				}
				next = bk_asprintf("%s%s%s", list, nfields ? ", " : "", id);
				PQfreemem(id);
				free(list);
				list = next;
				nfields++;
				flen = 0;
				if (c != ',') {
					complete = 1;
					break;
				}
			} else {
				field[flen++] = c;
			}
			if (flen >= MAX_HEADER)
				goto bad;
		}
		if (complete)
			break;
		if (r->eof) {
			if (r->end == r->start)
				bk_err_set("%s is empty: a CSV file must start with its header line",
					   r->name);
			else
				bk_err_set("%s: the header line is not terminated", r->name);
			goto out;
		}
		if (r->end - r->start >= MAX_HEADER)
			goto bad;
		if (bk_reader_fill(r, MAX_HEADER * 2) < 0)
			goto out;
	}
	r->start = p;
	r->lineno++;
	*cols = bk_asprintf("(%s)", list);
	ret = 0;
	goto out;
bad:
	bk_err_set("%s: the first line is not a CSV header of column names", r->name);
out:
	free(field);
	free(list);
	return ret;
}

