/*
 * Output files of the export: written through one big buffer, hashed
 * (SHA-256) and counted on the way, created exclusively (never over an
 * existing file) with mode 0600.
 */
#ifndef BK_EXPORT_FILE_H
#define BK_EXPORT_FILE_H

#include <stddef.h>
#include <string.h>

#include "sha256.h"

struct bk_xfile {
	char *path;
	int fd;
	char *buf;		/* shared, not owned */
	size_t len, cap;
	struct bk_sha256 *sha;	/* shared, not owned */
	unsigned long long bytes;
	char sha256[BK_SHA256_HEX];	/* set by close */
};

/* Create path (O_EXCL, 0600) writing through buf/cap and sha; -1 on error. */
int bk_xfile_open(struct bk_xfile *f, const char *path, char *buf, size_t cap,
		  struct bk_sha256 *sha);
/* Hash and write out what is buffered. */
int bk_xfile_flush(struct bk_xfile *f);
int bk_xfile_write_slow(struct bk_xfile *f, const void *data, size_t len);

static inline int bk_xfile_write(struct bk_xfile *f, const void *data, size_t len)
{
	if (len <= f->cap - f->len) {
		memcpy(f->buf + f->len, data, len);
		f->len += len;
		return 0;
	}
	return bk_xfile_write_slow(f, data, len);
}

int bk_xfile_puts(struct bk_xfile *f, const char *s);
int bk_xfile_printf(struct bk_xfile *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Flush, fdatasync and close; fills f->sha256. The path stays (caller frees). */
int bk_xfile_close(struct bk_xfile *f);
/* Close without finishing (after an error); the file stays for the caller to remove. */
void bk_xfile_abort(struct bk_xfile *f);
/* Bytes written so far, buffered ones included. */
static inline unsigned long long bk_xfile_size(const struct bk_xfile *f)
{
	return f->bytes + f->len;
}

#endif
