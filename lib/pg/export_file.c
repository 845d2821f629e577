/* Buffered, hashed, exclusive output files for bk-export (see export_file.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "export_file.h"
#include "fs.h"

int bk_xfile_open(struct bk_xfile *f, const char *path, char *buf, size_t cap,
		  struct bk_sha256 *sha)
{
	memset(f, 0, sizeof(*f));
	f->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f->fd < 0)
		return bk_err_errno("cannot create %s", path);
	f->path = bk_xstrdup(path);
	f->buf = buf;
	f->cap = cap;
	f->sha = sha;
	return 0;
}

static int put(struct bk_xfile *f, const void *data, size_t len)
{
	bk_sha256_update(f->sha, data, len);
	if (bk_write_all(f->fd, data, len) < 0) {
		if (errno == ENOSPC || errno == EDQUOT)
			return bk_err_set("cannot write %s: disk full", f->path);
		return bk_err_errno("cannot write %s", f->path);
	}
	f->bytes += len;
	return 0;
}

int bk_xfile_flush(struct bk_xfile *f)
{
	int ret = 0;

	if (f->len)
		ret = put(f, f->buf, f->len);
	f->len = 0;
	return ret;
}

int bk_xfile_write_slow(struct bk_xfile *f, const void *data, size_t len)
{
	if (bk_xfile_flush(f) < 0)
		return -1;
	if (len >= f->cap)
		return put(f, data, len);
	memcpy(f->buf, data, len);
	f->len = len;
	return 0;
}

int bk_xfile_puts(struct bk_xfile *f, const char *s)
{
	return bk_xfile_write(f, s, strlen(s));
}

int bk_xfile_printf(struct bk_xfile *f, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n, ret;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fputs("out of memory\n", stderr);
		abort();
	}
	ret = bk_xfile_write(f, s, (size_t)n);
	free(s);
	return ret;
}

int bk_xfile_close(struct bk_xfile *f)
{
	int fd = f->fd;

	if (bk_xfile_flush(f) < 0) {
		bk_xfile_abort(f);
		return -1;
	}
	f->fd = -1;
	/* MANIFEST, written after this, must never describe data still in flight. */
	if (fdatasync(fd) < 0 && errno != EINVAL) {
		bk_err_errno("cannot write %s", f->path);
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return bk_err_errno("cannot write %s", f->path);
	bk_sha256_final(f->sha, f->sha256);
	return 0;
}

void bk_xfile_abort(struct bk_xfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->len = 0;
}
