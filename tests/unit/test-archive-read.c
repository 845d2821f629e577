/* Unit tests for lib/archive_read.c: member types and data, the gzip trailer,
 * truncation, non-archives, the decompression limit. Archives are built here
 * with libarchive (tar) and zlib (gzip), so the test needs nothing else. */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "archive_read.h"
#include "err.h"
#include "fs.h"
#include "manifest.h"
#include "tap.h"


struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void add_member(struct archive *a, const char *path, int type, const char *data,
		       size_t len, const char *link)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, (unsigned)type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0700 : 0600);
	if (type == AE_IFLNK)
		archive_entry_set_symlink(e, link);
	if (type == AE_IFREG && link) {
		archive_entry_set_hardlink(e, link);
		len = 0;
	}
	archive_entry_set_size(e, type == AE_IFREG ? (la_int64_t)len : 0);
	archive_write_header(a, e);
	if (type == AE_IFREG && len)
		archive_write_data(a, data, len);
	archive_entry_free(e);
}

/* A plain tar in memory with the given members. */
static size_t make_tar(unsigned char *out, size_t cap, int hostile)
{
	struct archive *a = archive_write_new();
	size_t used = 0;
	static char big[300000];
	const char *manifest = "# format: bk 1\n"
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 0 - empty.txt\n";

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + (i * 7919 % 26));
	archive_write_set_format_pax_restricted(a);
	archive_write_open_memory(a, out, cap, &used);
	add_member(a, "MANIFEST", AE_IFREG, manifest, strlen(manifest), NULL);
	add_member(a, "BACKUP_INFO.txt", AE_IFREG, "info\n", 5, NULL);
	add_member(a, "big.sql", AE_IFREG, big, sizeof(big), NULL);
	add_member(a, "ssl", AE_IFDIR, NULL, 0, NULL);
	add_member(a, "ssl/cert.pem", AE_IFREG, "cert\n", 5, NULL);
	if (hostile) {
		add_member(a, "link", AE_IFLNK, NULL, 0, "/etc/passwd");
		add_member(a, "hard", AE_IFREG, NULL, 0, "big.sql");
		add_member(a, "fifo", AE_IFIFO, NULL, 0, NULL);
	}
	archive_write_close(a);
	archive_write_free(a);
	return used;
}

static void gzip_into(struct buf *b, const unsigned char *data, size_t len)
{
	z_stream z;
	unsigned char out[65536];
	int ret;

	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)data;
	z.avail_in = (uInt)len;
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		ret = deflate(&z, Z_FINISH);
		buf_add(b, out, sizeof(out) - z.avail_out);
	} while (ret != Z_STREAM_END);
	deflateEnd(&z);
}

static char dir[] = "/tmp/bk-test-ar.XXXXXX";

static const char *write_file(const char *name, const void *data, size_t len)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (bk_write_file_atomic(path, data, len, 0600) < 0)
		abort();
	return path;
}

/* Read every member to the end: 0 ok, -1 error (slot set); counts members. */
static int read_through(const char *path, int *members, unsigned long long limit)
{
	struct bk_ar_reader *r = bk_ar_open(path);
	struct bk_ar_member m;
	char chunk[4096];
	int got, ret = -1;

	*members = 0;
	if (!r)
		return -1;
	bk_ar_set_limit(r, limit);
	while ((got = bk_ar_next(r, &m)) == 1) {
		ssize_t n;

		(*members)++;
		while ((n = bk_ar_read(r, chunk, sizeof(chunk))) > 0)
			;
		if (n < 0)
			goto out;
	}
	ret = got;
out:
	bk_ar_close(r);
	return ret;
}

static void test_good(const struct buf *gz)
{
	const char *path = write_file("good.tar.gz", gz->p, gz->len);
	struct bk_ar_reader *r = bk_ar_open(path);
	struct bk_ar_member m;
	struct bk_manifest man;
	char *info = NULL, data[1000];
	int got, n = 0, types_ok = 1;
	unsigned long long big = 0;
	static const struct { const char *path; enum bk_ar_type type; const char *link; } want[] = {
		{ "MANIFEST", BK_AR_REG, NULL }, { "BACKUP_INFO.txt", BK_AR_REG, NULL },
		{ "big.sql", BK_AR_REG, NULL }, { "ssl", BK_AR_DIR, NULL },
		{ "ssl/cert.pem", BK_AR_REG, NULL }, { "link", BK_AR_SYMLINK, "/etc/passwd" },
		{ "hard", BK_AR_HARDLINK, "big.sql" }, { "fifo", BK_AR_OTHER, NULL },
	};

	ok(r != NULL, "open a good archive");
	if (!r)
		return;
	while ((got = bk_ar_next(r, &m)) == 1) {
		ssize_t k;

		if (n >= 8 || strcmp(m.path, want[n].path) || m.type != want[n].type ||
		    (want[n].link ? !m.link || strcmp(m.link, want[n].link) : m.link != NULL)) {
			printf("# member %d: %s type %d\n", n, m.path, m.type);
			types_ok = 0;
		}
		while ((k = bk_ar_read(r, data, sizeof(data))) > 0)
			if (!strcmp(m.path, "big.sql"))
				big += (unsigned long long)k;
		if (!strcmp(m.path, "big.sql") && m.size != 300000)
			types_ok = 0;
		n++;
	}
	ok(got == 0 && n == 8, "all members read, end reported");
	ok(types_ok, "paths, types and link targets as stored");
	ok(big == 300000, "a member's data read in chunks has its full size");
	ok(bk_ar_next(r, &m) == 0, "next after the end stays at the end");
	ok(bk_ar_bytes_in(r) == gz->len, "the whole file was read");
	bk_ar_close(r);

	ok(bk_ar_read_manifest(path, &man, &info) == 0 && man.n_entries == 1 &&
	   !strcmp(man.entries[0].path, "empty.txt") && info && !strcmp(info, "info\n"),
	   "read_manifest returns MANIFEST and BACKUP_INFO.txt");
	bk_manifest_free(&man);
	free(info);
}

static void expect_fail(const char *name, const void *data, size_t len, const char *msg,
			const char *title)
{
	const char *path = write_file(name, data, len);
	int members;
	int ret = read_through(path, &members, 0);

	ok(ret < 0 && strstr(bk_err(), msg) != NULL, "%s", title);
	if (ret >= 0 || !strstr(bk_err(), msg))
		printf("# expected '%s', got ret %d '%s'\n", msg, ret, ret < 0 ? bk_err() : "");
}

int main(void)
{
	static unsigned char tar[1 << 20];
	size_t tlen = make_tar(tar, sizeof(tar), 1);
	struct buf gz = { 0 }, two = { 0 }, tmp = { 0 };
	int members;
	char title[128];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	gzip_into(&gz, tar, tlen);
	test_good(&gz);

	/* The same tar as two concatenated gzip members is one stream. */
	gzip_into(&two, tar, tlen / 2);
	gzip_into(&two, tar + tlen / 2, tlen - tlen / 2);
	ok(read_through(write_file("two.tar.gz", two.p, two.len), &members, 0) == 0 &&
	   members == 8, "%s", "concatenated gzip members read as one stream");

	for (int i = 1; i <= 8; i++) {
		memcpy(tar, gz.p, gz.len);	/* reuse tar[] as scratch */
		tar[gz.len - (size_t)i] ^= 0x01;
		snprintf(title, sizeof(title), "a flipped bit %d bytes from the end is detected", i);
		expect_fail("flip.tar.gz", tar, gz.len, i > 4 ? "gzip CRC-32 mismatch"
							 : "gzip length mismatch", title);
	}
	memcpy(tar, gz.p, gz.len);
	tar[gz.len / 2] ^= 0x10;
	{
		const char *path = write_file("mid.tar.gz", tar, gz.len);

		ok(read_through(path, &members, 0) < 0 && strstr(bk_err(), "archive is corrupt"),
		   "a flipped bit in the middle is detected");
	}
	{
		size_t cuts[] = { 1, 2, 10, 100, gz.len / 2, gz.len - 9, gz.len - 8, gz.len - 1 };

		for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
			snprintf(title, sizeof(title), "cut to %zu of %zu bytes: truncated", cuts[i],
				 gz.len);
			expect_fail("cut.tar.gz", gz.p, cuts[i],
				    cuts[i] < 2 ? "not a gzip file" : "archive is truncated", title);
		}
	}
	buf_add(&tmp, gz.p, gz.len);
	buf_add(&tmp, "junk", 4);
	expect_fail("junk.tar.gz", tmp.p, tmp.len, "data after the end of the gzip stream",
		    "data after the gzip stream is an error");
	expect_fail("empty.tar.gz", "", 0, "is empty", "an empty file");
	expect_fail("text.tar.gz", "hello world\n", 12, "is not a gzip file", "a text file");
	tmp.len = 0;
	gzip_into(&tmp, (const unsigned char *)"hello world, not tar\n", 21);
	expect_fail("notar.tar.gz", tmp.p, tmp.len, "is not a tar.gz archive",
		    "gzip of something else than tar");
	{
		const char *path = write_file("good.tar.gz", gz.p, gz.len);

		ok(read_through(path, &members, 100000) < 0 && strstr(bk_err(), "gzip bomb"),
		   "the decompression limit stops the read");
	}
	{
		struct bk_manifest man;

		tlen = make_tar((unsigned char *)tar, sizeof(tar), 0);
		tmp.len = 0;
		/* MANIFEST not first: move it by building an archive without it. */
		struct archive *a = archive_write_new();
		size_t used = 0;

		archive_write_set_format_pax_restricted(a);
		archive_write_open_memory(a, tar, sizeof(tar), &used);
		add_member(a, "BACKUP_INFO.txt", AE_IFREG, "info\n", 5, NULL);
		add_member(a, "MANIFEST", AE_IFREG, "# a: b\n", 7, NULL);
		archive_write_close(a);
		archive_write_free(a);
		gzip_into(&tmp, tar, used);
		ok(bk_ar_read_manifest(write_file("order.tar.gz", tmp.p, tmp.len), &man, NULL) < 0 &&
		   strstr(bk_err(), "MANIFEST is not the first member"),
		   "read_manifest: MANIFEST must be first");
	}
	bk_rm_rf(dir);
	free(gz.p);
	free(two.p);
	free(tmp.p);
	return done_testing();
}
