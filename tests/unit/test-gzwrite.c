/*
 * bk_gz: what goes in comes back out of zlib's gzip reader byte for byte, as
 * one gzip member, with one thread and with workers; write errors surface.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "err.h"
#include "gzwrite.h"

static int test_no;
static int failures;

static void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++test_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		failures++;
}

static unsigned long long rng = 88172645463325252ULL;

static unsigned char next_byte(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned char)rng;
}

/* Incompressible bytes, or rows that look like a COPY dump (compressible). */
static unsigned char *make_input(size_t len, int compressible)
{
	unsigned char *p = malloc(len ? len : 1);
	size_t i = 0;

	if (!p)
		abort();
	while (i < len) {
		if (compressible) {
			char row[128];
			int n = snprintf(row, sizeof(row),
					 "%llu\tuser%u@example.com\t2026-%02u-%02u 12:00:00+00\t%u\n",
					 (unsigned long long)i, next_byte() * 7u,
					 next_byte() % 12u + 1, next_byte() % 28u + 1,
					 next_byte() % 3u);
			size_t m = (size_t)n < len - i ? (size_t)n : len - i;

			memcpy(p + i, row, m);
			i += m;
		} else {
			p[i++] = next_byte();
		}
	}
	return p;
}

static char *tmp_path(void)
{
	const char *dir = getenv("TMPDIR");
	char *path = malloc(4096);
	int fd;

	snprintf(path, 4096, "%s/test-gzwrite.XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0 || !path) {
		perror("mkstemp");
		exit(1);
	}
	close(fd);
	return path;
}

/*
 * Inflate the whole file as gzip. Returns 0 when it is exactly one member whose
 * content equals want; a message in why otherwise.
 */
static int check_file(const char *path, const unsigned char *want, size_t want_len,
		      char *why, size_t why_size)
{
	FILE *f = fopen(path, "rb");
	unsigned char *gz = NULL, *out = NULL;
	size_t gz_len = 0, cap = 1 << 20;
	z_stream zs;
	int rc, ret = -1;

	memset(&zs, 0, sizeof(zs));
	gz = malloc(cap);
	while (f && gz) {
		size_t n = fread(gz + gz_len, 1, cap - gz_len, f);

		gz_len += n;
		if (gz_len < cap)
			break;
		cap *= 2;
		gz = realloc(gz, cap);
	}
	if (f)
		fclose(f);
	if (!f || !gz) {
		snprintf(why, why_size, "cannot read %s", path);
		goto out;
	}
	if (gz_len < 18 || gz[0] != 0x1f || gz[1] != 0x8b || gz[2] != 8) {
		snprintf(why, why_size, "no gzip header (%zu bytes)", gz_len);
		goto out;
	}
	out = malloc(want_len + 1);
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		abort();
	zs.next_in = gz;
	zs.avail_in = (uInt)gz_len;
	zs.next_out = out;
	zs.avail_out = (uInt)want_len + 1;	/* one byte more: catch extra output */
	rc = inflate(&zs, Z_FINISH);
	if (rc != Z_STREAM_END) {
		snprintf(why, why_size, "inflate: %d (%s)", rc, zs.msg ? zs.msg : "no message");
		goto out;
	}
	if (zs.avail_in != 0) {
		snprintf(why, why_size, "%u bytes after the first gzip member", zs.avail_in);
		goto out;
	}
	if (zs.total_out != want_len || memcmp(out, want, want_len) != 0) {
		snprintf(why, why_size, "content differs (%lu bytes out, %zu in)",
			 zs.total_out, want_len);
		goto out;
	}
	ret = 0;
out:
	inflateEnd(&zs);
	free(gz);
	free(out);
	return ret;
}

/* Write input through bk_gz in pieces of chunk bytes; 0 or -1. */
static int gz_file(const char *path, const unsigned char *in, size_t len, size_t chunk,
		   int threads, int level)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	struct bk_gz *gz;
	size_t off = 0;
	int ret = -1;

	if (fd < 0)
		return -1;
	gz = bk_gz_open(fd, level, threads);
	if (!gz)
		goto out;
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;

		if (bk_gz_write(gz, in + off, n) < 0) {
			bk_gz_abort(gz);
			goto out;
		}
		off += n;
	}
	ret = bk_gz_close(gz);
out:
	close(fd);
	return ret;
}

static void roundtrip(const char *path, size_t len, int compressible, size_t chunk,
		      int threads)
{
	unsigned char *in = make_input(len, compressible);
	char why[256] = "write failed";
	int good = gz_file(path, in, len, chunk, threads, 6) == 0 &&
		   check_file(path, in, len, why, sizeof(why)) == 0;

	ok(good, "%zu %s bytes in pieces of %zu, %d thread%s: one gzip member, same bytes",
	   len, compressible ? "compressible" : "random", chunk, threads,
	   threads == 1 ? "" : "s");
	if (!good)
		printf("# %s; %s\n", why, bk_err());
	free(in);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0) {
		rewind(f);
		p = malloc((size_t)n + 1);
		if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
			free(p);
			p = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return p;
}

/*
 * Every block is primed with the 32 KiB before it, whatever the threads: the
 * output is the same for 1, 2 and 3 threads, and a 16 KiB random pattern
 * repeated over 10 MiB costs about one pattern plus 10 MiB of long matches
 * (under 200 KB), not one pattern per 256 KiB block (over 640 KB). Fast
 * levels may miss matches 16 KiB back; only the bytes are compared there.
 */
static void dictionary(const char *path, int level, int check_size)
{
	size_t len = 10 << 20, i, n1 = 0, n;
	unsigned char *pat = make_input(16384, 0), *in = malloc(len), *first = NULL, *other;
	int t, same = 1;

	for (i = 0; i < len; i++)
		in[i] = pat[i % 16384];
	for (t = 1; t <= 3; t++) {
		if (gz_file(path, in, len, 100000, t, level) < 0 || !(other = slurp(path, &n))) {
			same = 0;
			break;
		}
		if (!first) {
			first = other;
			n1 = n;
		} else {
			same = same && n == n1 && memcmp(first, other, n) == 0;
			free(other);
		}
	}
	ok(same, "level %d: the same bytes with 1, 2 and 3 threads", level);
	if (check_size)
		ok(first && n1 < 200000,
		   "level %d: blocks primed with the previous 32 KiB (%zu bytes for 10 MiB of a 16 KiB pattern)",
		   level, n1);
	free(first);
	free(pat);
	free(in);
}

/* /dev/full answers every write with ENOSPC. */
static void disk_full(int threads, size_t len)
{
	int fd = open("/dev/full", O_WRONLY);
	unsigned char *in;
	struct bk_gz *gz;
	int rc;

	if (fd < 0) {
		printf("ok %d # skip /dev/full: %s\n", ++test_no, strerror(errno));
		return;
	}
	in = make_input(len, 0);
	bk_err_clear();
	gz = bk_gz_open(fd, 6, threads);
	rc = gz ? bk_gz_write(gz, in, len) : -1;
	if (rc == 0)
		rc = bk_gz_close(gz);
	else if (gz)
		bk_gz_abort(gz);
	ok(rc < 0 && strcmp(bk_err(), "disk full while writing the archive") == 0,
	   "%zu bytes, %d thread%s to a full disk: \"disk full\" (got \"%s\")", len,
	   threads, threads == 1 ? "" : "s", bk_err());
	close(fd);
	free(in);
}

/* Stop in the middle of a stream: no leak, no hang (ASan/LSan check the rest). */
static void abort_midway(const char *path, int threads)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	unsigned char *in = make_input(3 << 20, 1);
	struct bk_gz *gz = bk_gz_open(fd, 6, threads);
	int rc = gz ? bk_gz_write(gz, in, 3 << 20) : -1;

	if (gz)
		bk_gz_abort(gz);
	ok(rc == 0, "abort after 3 MiB with %d threads", threads);
	close(fd);
	free(in);
}

static void out_bytes(const char *path)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	unsigned char *in = make_input(8 << 20, 0);
	struct bk_gz *gz = bk_gz_open(fd, 6, 2);
	unsigned long long n = 0;
	off_t size = -1;

	if (gz && bk_gz_write(gz, in, 8 << 20) == 0) {
		n = bk_gz_out_bytes(gz);
		size = lseek(fd, 0, SEEK_CUR);
	}
	ok(gz && n > 0 && (off_t)n == size,
	   "out bytes match what reached the file (%llu, %lld)", n, (long long)size);
	bk_gz_abort(gz);
	close(fd);
	free(in);
}

/*
 * test-gzwrite --compress THREADS LEVEL <in >out.gz: a gzip filter for the
 * shell tests (t0800) and the benchmark, so they need no compiler.
 */
static int filter(int threads, int level)
{
	static unsigned char buf[1 << 16];
	struct bk_gz *gz = bk_gz_open(1, level, threads);
	ssize_t n;

	if (!gz)
		goto fail;
	while ((n = read(0, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bk_err_errno("cannot read stdin");
			bk_gz_abort(gz);
			goto fail;
		}
		if (bk_gz_write(gz, buf, (size_t)n) < 0) {
			bk_gz_abort(gz);
			goto fail;
		}
	}
	if (bk_gz_close(gz) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "test-gzwrite: %s\n", bk_err());
	return 1;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = {
		0, 1, 32768, 128 << 10, 256 << 10, (256 << 10) + 1, 1 << 20,
		(5 << 20) + 12345,
	};
	static const int threads[] = { 1, 2, 3 };
	char *path;
	size_t i, t;
	int c;

	if (argc == 4 && strcmp(argv[1], "--compress") == 0) {
		return filter(atoi(argv[2]), atoi(argv[3]));
	}
	path = tmp_path();
	for (t = 0; t < sizeof(threads) / sizeof(threads[0]); t++)
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			for (c = 0; c <= 1; c++)
				roundtrip(path, sizes[i], c, 65536, threads[t]);
	/* odd write sizes straddle the block boundaries */
	roundtrip(path, (3 << 20) + 7, 1, 1, 2);
	roundtrip(path, (3 << 20) + 7, 1, 10240, 2);
	roundtrip(path, (3 << 20) + 7, 0, 7777, 2);
	roundtrip(path, 20 << 20, 1, 20 << 20, 2);
	roundtrip(path, 2 << 20, 1, 1000, 0);

	for (c = 1; c <= 9; c++) {
		unsigned char *in = make_input((2 << 20) + 99, c % 2);
		char why[256] = "write failed";
		int good = gz_file(path, in, (2 << 20) + 99, 4096, 2, c) == 0 &&
			   check_file(path, in, (2 << 20) + 99, why, sizeof(why)) == 0 &&
			   gz_file(path, in, (2 << 20) + 99, 4096, 1, c) == 0 &&
			   check_file(path, in, (2 << 20) + 99, why, sizeof(why)) == 0;

		ok(good, "level %d with 1 and 2 threads", c);
		if (!good)
			printf("# %s\n", why);
		free(in);
	}
	dictionary(path, 1, 0);
	dictionary(path, 6, 1);
	dictionary(path, 9, 1);
	ok(bk_gz_open(1, 0, 1) == NULL && bk_gz_open(1, 10, 2) == NULL,
	   "levels outside 1..9 refused");

	disk_full(1, 100);
	disk_full(2, 100);
	disk_full(2, 10 << 20);
	disk_full(1, 10 << 20);
	abort_midway(path, 2);
	abort_midway(path, 1);
	out_bytes(path);

	unlink(path);
	free(path);
	printf("1..%d\n", test_no);
	return failures ? 1 : 0;
}
