/* Single-threaded gzip writer with zlib (see gzwrite.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "err.h"
#include "fs.h"
#include "gzwrite.h"

#define OUT_SIZE (1 << 18)

struct bk_gz {
	int fd;
	z_stream zs;
	unsigned char *out;
	unsigned long long out_bytes;
};

static int write_out(struct bk_gz *gz, size_t n)
{
	if (bk_write_all(gz->fd, gz->out, n) < 0)
		return errno == ENOSPC ? bk_err_set("disk full while writing the archive")
				       : bk_err_errno("cannot write the archive");
	gz->out_bytes += n;
	return 0;
}

struct bk_gz *bk_gz_open(int fd, int level, int threads)
{
	struct bk_gz *gz = calloc(1, sizeof(*gz));

	(void)threads;
	if (!gz)
		abort();
	gz->fd = fd;
	gz->out = bk_xmalloc(OUT_SIZE);
	/* windowBits 15 + 16: a gzip header and trailer instead of zlib's */
	if (deflateInit2(&gz->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(gz->out);
		free(gz);
		bk_err_set("cannot start gzip compression");
		return NULL;
	}
	return gz;
}

static int pump(struct bk_gz *gz, int flush)
{
	int rc;

	do {
		gz->zs.next_out = gz->out;
		gz->zs.avail_out = OUT_SIZE;
		rc = deflate(&gz->zs, flush);
		if (rc == Z_STREAM_ERROR)
			return bk_err_set("gzip compression failed");
		if (write_out(gz, OUT_SIZE - gz->zs.avail_out) < 0)
			return -1;
	} while (gz->zs.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
	return 0;
}

int bk_gz_write(struct bk_gz *gz, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		gz->zs.next_in = (unsigned char *)p;
		gz->zs.avail_in = n;
		if (pump(gz, Z_NO_FLUSH) < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int bk_gz_close(struct bk_gz *gz)
{
	int ret = pump(gz, Z_FINISH);

	bk_gz_abort(gz);
	return ret;
}

void bk_gz_abort(struct bk_gz *gz)
{
	if (!gz)
		return;
	deflateEnd(&gz->zs);
	free(gz->out);
	free(gz);
}

unsigned long long bk_gz_out_bytes(const struct bk_gz *gz)
{
	return gz->out_bytes;
}
