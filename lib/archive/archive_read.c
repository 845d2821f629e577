/*
 * Archive reader (see archive_read.h). libarchive 3.6 reads gzip without
 * checking the CRC-32/length trailer and stops at the tar end marker, so a
 * flipped trailer byte or a cut after the last member would pass unnoticed:
 * we inflate with zlib ourselves (which checks the trailer), read the file to
 * its end, and hand libarchive plain tar (format tar only, no filters).
 * Inflating runs on a thread of its own, a few buffers ahead of the caller,
 * so that decompression overlaps with what the caller does with the data
 * (bk-verify: sha256 and parsing): nearly twice as fast on two cores.
 * Where ISA-L is built in (BK_HAVE_ISAL), isal_inflate does the inflating
 * (gzip mode: it parses the header and checks the CRC-32 and length trailer),
 * about four times as fast as zlib; zlib remains the fallback.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#ifdef BK_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "age.h"
#include "archive_read.h"
#include "config.h"
#include "err.h"
#include "fs.h"

#define IN_SIZE (256 * 1024)
#define OUT_SIZE (256 * 1024)
#define NBUF 4			/* decompressed buffers in flight */
#if (NBUF + 2) * OUT_SIZE > BK_AR_READAHEAD
#error "BK_AR_READAHEAD too small"
#endif

enum gz_state { GZ_START, GZ_MEMBER, GZ_BETWEEN, GZ_DONE };

struct bk_ar_reader {
	struct archive *a;
	char *path;
	int fd;
#ifdef BK_HAVE_ISAL
	struct inflate_state *is;
#else
	z_stream z;
	int z_live;
#endif
	enum gz_state gz;
	int in_eof;
	unsigned char *in;
	unsigned char *next_in;		/* input not yet handed to the inflater */
	size_t avail_in;
	/* Atomic: written by the inflating thread, read by the caller's. */
	unsigned long long bytes_in, bytes_out, limit;
	unsigned long long taken;	/* bytes the reading side has taken (its thread only) */
	char take_err[160];	/* why the reading side stopped (its thread only) */
	char gz_err[512];		/* set when the gzip layer failed */

	/* The ring of decompressed buffers between the two threads. */
	pthread_t thread;
	int thread_live;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned char *buf[NBUF];
	ssize_t len[NBUF];		/* bytes; 0 end of stream; -1 error (gz_err) */
	int next_fill, next_take, n_filled, n_held, stop;
	int final;			/* the end or an error has been taken: it sticks */
	int ended;			/* bk_ar_next returned 0 */
	char *dir_path;			/* a directory's path without its final '/' */
	unsigned long long headers;	/* member headers read so far */
	char *sig;			/* MANIFEST.minisig, set aside (see bk_ar_signature) */
	size_t sig_len;
	locale_t utf8;			/* C.UTF-8 for libarchive's name conversions, or 0 */

	/* An age-encrypted archive: the file is read through the decrypter,
	 * which is handed first the bytes read before the format was known. */
	struct bk_age_reader *age;
	unsigned char *age_head;
	size_t age_head_len, age_head_off;
};

/* The identities for .age archives (bk_ar_set_identities). */
static struct bk_age_identity *age_ids;
static size_t n_age_ids;

static int gz_fail(struct bk_ar_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int gz_fail(struct bk_ar_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->gz_err, sizeof(r->gz_err), fmt, ap);
	va_end(ap);
	return -1;
}

static int fill_input(struct bk_ar_reader *r)
{
	ssize_t n;

	if (r->in_eof || r->avail_in)
		return 0;
	if (r->age) {
		/* bk_age_read returns 0 only at the authenticated end of the file */
		if ((n = bk_age_read(r->age, r->in, IN_SIZE)) < 0)
			return gz_fail(r, "cannot decrypt %s: %s", r->path, bk_err());
		r->next_in = r->in;
		r->avail_in = (size_t)n;
		r->in_eof = n == 0;
		return 0;
	}
	do
		n = read(r->fd, r->in, IN_SIZE);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return gz_fail(r, "cannot read %s: %s", r->path, strerror(errno));
	if (n == 0)
		r->in_eof = 1;
	r->next_in = r->in;
	r->avail_in = (size_t)n;
	__atomic_add_fetch(&r->bytes_in, (unsigned long long)n, __ATOMIC_RELAXED);
	return 0;
}

#ifdef BK_HAVE_ISAL
static int engine_start(struct bk_ar_reader *r)
{
	r->is = bk_xmalloc(sizeof(*r->is));
	isal_inflate_init(r->is);
	r->is->crc_flag = ISAL_GZIP;
	return 0;
}

static int engine_reset(struct bk_ar_reader *r)
{
	isal_inflate_reset(r->is);
	r->is->crc_flag = ISAL_GZIP;
	return 0;
}

/*
 * ISA-L reports a bad CRC-32 and a bad length alike; tell them apart as zlib
 * does, from the trailer just consumed (read again from the file: this is the
 * failure path only) and the CRC-32 ISA-L computed.
 */
static int isal_checksum_fail(struct bk_ar_reader *r)
{
	struct inflate_state *s = r->is;
	unsigned char t[8];
	unsigned long long end = __atomic_load_n(&r->bytes_in, __ATOMIC_RELAXED) - r->avail_in;
	uint32_t crc;

	/* Only the trailer check leaves the member finished; else the header's CRC-16. */
	if (s->block_state != ISAL_BLOCK_FINISH)
		return gz_fail(r, "archive is corrupt: gzip: header crc mismatch");
	if (r->age || end < 8 || pread(r->fd, t, 8, (off_t)(end - 8)) != 8)
		return gz_fail(r, "archive is corrupt: gzip CRC-32 or length mismatch");
	crc = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
	if (crc != s->crc)
		return gz_fail(r, "archive is corrupt: gzip CRC-32 mismatch");
	return gz_fail(r, "archive is corrupt: gzip length mismatch");
}

/* Inflate what input there is into *out: 1 at the end of a gzip member (its
 * trailer checked), 0 to go on, -1 with r->gz_err set. */
static int engine_inflate(struct bk_ar_reader *r, unsigned char **out, size_t *avail_out)
{
	struct inflate_state *s = r->is;
	int ret;

	s->next_in = r->next_in;
	s->avail_in = (uint32_t)r->avail_in;
	s->next_out = *out;
	s->avail_out = (uint32_t)*avail_out;
	ret = isal_inflate(s);
	r->next_in = s->next_in;
	r->avail_in = s->avail_in;
	*out = s->next_out;
	*avail_out = s->avail_out;
	switch (ret) {
	case ISAL_DECOMP_OK:
	case ISAL_END_INPUT:
	case ISAL_OUT_OVERFLOW:
		return s->block_state == ISAL_BLOCK_FINISH;
	case ISAL_INCORRECT_CHECKSUM:
		return isal_checksum_fail(r);
	case ISAL_UNSUPPORTED_METHOD:
		return gz_fail(r, "archive is corrupt: gzip: unknown compression method");
	case ISAL_INVALID_WRAPPER:
		return gz_fail(r, "archive is corrupt: gzip: incorrect header check");
	case ISAL_INVALID_BLOCK:
		return gz_fail(r, "archive is corrupt: gzip: invalid block");
	case ISAL_INVALID_SYMBOL:
		return gz_fail(r, "archive is corrupt: gzip: invalid code");
	case ISAL_INVALID_LOOKBACK:
		return gz_fail(r, "archive is corrupt: gzip: invalid distance too far back");
	default:
		return gz_fail(r, "archive is corrupt: gzip: data error (%d)", ret);
	}
}

static void engine_end(struct bk_ar_reader *r)
{
	free(r->is);
	r->is = NULL;
}
#else
static int engine_start(struct bk_ar_reader *r)
{
	if (inflateInit2(&r->z, 15 + 16) != Z_OK)
		return -1;
	r->z_live = 1;
	return 0;
}

static int engine_reset(struct bk_ar_reader *r)
{
	return inflateReset(&r->z) == Z_OK ? 0 : -1;
}

static int engine_inflate(struct bk_ar_reader *r, unsigned char **out, size_t *avail_out)
{
	int ret;

	r->z.next_in = r->next_in;
	r->z.avail_in = (uInt)r->avail_in;
	r->z.next_out = *out;
	r->z.avail_out = (uInt)*avail_out;
	ret = inflate(&r->z, Z_NO_FLUSH);
	r->next_in = r->z.next_in;
	r->avail_in = r->z.avail_in;
	*out = r->z.next_out;
	*avail_out = r->z.avail_out;
	if (ret == Z_STREAM_END)
		return 1;	/* zlib has checked CRC-32 and length */
	if (ret == Z_OK || ret == Z_BUF_ERROR)
		return 0;	/* Z_BUF_ERROR: wants more input */
	if (ret == Z_MEM_ERROR)
		return gz_fail(r, "out of memory while decompressing %s", r->path);
	{
		const char *msg = r->z.msg ? r->z.msg : "data error";

		if (!strcmp(msg, "incorrect data check"))
			return gz_fail(r, "archive is corrupt: gzip CRC-32 mismatch");
		if (!strcmp(msg, "incorrect length check"))
			return gz_fail(r, "archive is corrupt: gzip length mismatch");
		return gz_fail(r, "archive is corrupt: gzip: %s", msg);
	}
}

static void engine_end(struct bk_ar_reader *r)
{
	if (r->z_live)
		inflateEnd(&r->z);
	r->z_live = 0;
}
#endif

/*
 * Decompress the next chunk into out: bytes produced, 0 once the file has
 * ended after a complete gzip member, -1 with r->gz_err set. Concatenated
 * gzip members are read as one stream (as gzip(1) does); anything else after
 * the last member is an error.
 */
static ssize_t gz_fill(struct bk_ar_reader *r, unsigned char *out)
{
	unsigned long long total, limit;
	unsigned char *next_out = out;
	size_t avail_out = OUT_SIZE, produced;

	while (avail_out == OUT_SIZE && r->gz != GZ_DONE) {
		int ret;

		if (fill_input(r) < 0)
			return -1;
		if (!r->avail_in) {
			if (r->gz == GZ_BETWEEN) {
				r->gz = GZ_DONE;
				break;
			}
			return gz_fail(r, "archive is truncated: the gzip stream ends early");
		}
		if (r->gz == GZ_BETWEEN) {
			if (r->next_in[0] != 0x1f)
				return gz_fail(r, "archive is corrupt: data after the end of the gzip stream");
			if (engine_reset(r) < 0)
				return gz_fail(r, "archive is corrupt: cannot restart gzip");
			r->gz = GZ_MEMBER;
		}
		ret = engine_inflate(r, &next_out, &avail_out);
		if (ret < 0)
			return -1;
		if (ret == 1)
			r->gz = GZ_BETWEEN;
	}
	produced = OUT_SIZE - avail_out;
	total = __atomic_add_fetch(&r->bytes_out, produced, __ATOMIC_RELAXED);
	limit = __atomic_load_n(&r->limit, __ATOMIC_RELAXED);
	if (limit && total > limit)
		return gz_fail(r, "archive unpacks to more than %llu bytes, more than its "
			       "MANIFEST accounts for (gzip bomb?)", limit);
	return (ssize_t)produced;
}

/* The inflating thread: fill free buffers in ring order until the end or an error. */
static void *inflater(void *arg)
{
	struct bk_ar_reader *r = arg;

	for (;;) {
		int slot;
		ssize_t n;

		pthread_mutex_lock(&r->mu);
		while (!r->stop && r->n_filled + r->n_held == NBUF)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop) {
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		slot = r->next_fill;
		pthread_mutex_unlock(&r->mu);

		n = gz_fill(r, r->buf[slot]);

		pthread_mutex_lock(&r->mu);
		r->len[slot] = n;
		r->next_fill = (slot + 1) % NBUF;
		r->n_filled++;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		if (n <= 0)
			return NULL;
	}
}

/*
 * The next decompressed buffer, in order: its length, 0 at the end, -1 with
 * r->gz_err set. The buffer stays ours until the next call (libarchive's rule
 * for read callbacks), then goes back to the inflating thread.
 */
static ssize_t take(struct bk_ar_reader *r, const void **out)
{
	ssize_t n;

	pthread_mutex_lock(&r->mu);
	if (r->n_held) {
		r->n_held = 0;
		pthread_cond_broadcast(&r->cv);
	}
	if (r->final) {
		n = r->final;
		pthread_mutex_unlock(&r->mu);
		return n < 0 ? -1 : 0;
	}
	while (!r->n_filled)
		pthread_cond_wait(&r->cv, &r->mu);
	n = r->len[r->next_take];
	*out = r->buf[r->next_take];
	r->next_take = (r->next_take + 1) % NBUF;
	r->n_filled--;
	if (n > 0)
		r->n_held = 1;
	else
		r->final = n < 0 ? -1 : 1;
	pthread_mutex_unlock(&r->mu);
	return n;
}

static la_ssize_t read_cb(struct archive *a, void *ctx, const void **buf)
{
	struct bk_ar_reader *r = ctx;
	ssize_t n = take(r, buf);
	unsigned long long limit = __atomic_load_n(&r->limit, __ATOMIC_RELAXED);

	if (n < 0) {
		archive_set_error(a, EIO, "%s", r->gz_err);
		return -1;
	}
	/* The inflater may have run ahead of a limit set late (a stream shorter
	 * than the read-ahead): the bytes taken are checked here as well. */
	r->taken += (unsigned long long)n;
	if (limit && r->taken > limit) {
		snprintf(r->take_err, sizeof(r->take_err), "archive unpacks to more than %llu "
			 "bytes, more than its MANIFEST accounts for (gzip bomb?)", limit);
		archive_set_error(a, EIO, "%s", r->take_err);
		return -1;
	}
	return n;
}

/* Put the reason for a libarchive failure in the error slot; returns -1. */
static int ar_fail(struct bk_ar_reader *r)
{
	if (r->take_err[0])	/* the limit, checked on the reading side */
		return bk_err_set("%s", r->take_err);
	if (r->final < 0)	/* our callback failed: gz_err is complete */
		return bk_err_set("%s", r->gz_err);
	return bk_err_set("archive is truncated or corrupt: %s",
			  archive_error_string(r->a) ? archive_error_string(r->a)
						     : "unknown libarchive error");
}

/* The decrypter's source: the bytes read to detect the format, then the file. */
static ssize_t age_source(void *arg, void *buf, size_t len)
{
	struct bk_ar_reader *r = arg;
	ssize_t n;

	if (r->age_head_off < r->age_head_len) {
		n = (ssize_t)(r->age_head_len - r->age_head_off < len
			      ? r->age_head_len - r->age_head_off : len);
		memcpy(buf, r->age_head + r->age_head_off, (size_t)n);
		r->age_head_off += (size_t)n;
		return n;
	}
	do
		n = read(r->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return bk_err_errno("cannot read %s", r->path);
	__atomic_add_fetch(&r->bytes_in, (unsigned long long)n, __ATOMIC_RELAXED);
	return n;
}

/*
 * The first bytes of the file (in r->in) start an age file: read the rest
 * through the decrypter, whose header is read here, so that a wrong identity
 * or a damaged header fails the open. 0, or -1 with the error slot set.
 */
static int open_age(struct bk_ar_reader *r)
{
	if (!n_age_ids) {
		/* one line: bk-verify's report keeps the message, not the hint */
		return bk_err_set("%s is encrypted (age): no identity to decrypt it (give the "
				  "identity file with -i FILE or BACKUP_AGE_IDENTITY_FILE)", r->path);
	}
	r->age_head = bk_xmalloc(r->avail_in);
	memcpy(r->age_head, r->in, r->avail_in);
	r->age_head_len = r->avail_in;
	r->avail_in = 0;
	r->in_eof = 0;
	if (!(r->age = bk_age_reader_new(age_ids, n_age_ids, age_source, r)))
		return -1;
	if (fill_input(r) < 0) {
		bk_err_set("%s", r->gz_err);
		return -1;
	}
	if (r->avail_in == 0)
		return bk_err_set("%s holds an empty file, not a backup archive", r->path);
	return 0;
}

static int is_age(const unsigned char *p, size_t n)
{
	static const char magic[] = "age-encryption.org/";

	return n >= sizeof(magic) - 1 && !memcmp(p, magic, sizeof(magic) - 1);
}

int bk_ar_set_identities(const struct bk_age_identity *ids, size_t n)
{
	bk_age_identities_free(age_ids, n_age_ids);
	age_ids = NULL;
	n_age_ids = 0;
	if (!n)
		return 0;
	age_ids = calloc(n, sizeof(*ids));
	if (!age_ids)
		abort();
	memcpy(age_ids, ids, n * sizeof(*ids));
	n_age_ids = n;
	return 0;
}

int bk_ar_load_identities(const char *path)
{
	struct bk_age_identity *ids = NULL;
	size_t n = 0;

	if (bk_age_identities_load(path, &ids, &n) < 0)
		return -1;
	bk_ar_set_identities(ids, n);
	bk_age_identities_free(ids, n);
	return 0;
}

int bk_ar_use_identity(const char *option_path)
{
	const char *path = option_path ? option_path : bk_config.age_identity_file;

	if (!path)
		return 0;
	if (bk_ar_load_identities(path) < 0)
		return bk_err_prefix("%s", option_path ? "--identity" : "BACKUP_AGE_IDENTITY_FILE");
	return 0;
}

struct bk_ar_reader *bk_ar_open(const char *path)
{
	struct bk_ar_reader *r = calloc(1, sizeof(*r));

	if (!r)
		abort();
	r->fd = -1;
	r->path = bk_xstrdup(path);
	r->in = bk_xmalloc(IN_SIZE);
	for (int i = 0; i < NBUF; i++)
		r->buf[i] = bk_xmalloc(OUT_SIZE);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		bk_err_errno("cannot read %s", path);
		goto fail;
	}
	if (engine_start(r) < 0) {
		bk_err_set("cannot start zlib");
		goto fail;
	}
	if (fill_input(r) < 0) {
		bk_err_set("%s", r->gz_err);
		goto fail;
	}
	if (r->avail_in == 0) {
		bk_err_set("%s is empty, not a backup archive", path);
		goto fail;
	}
	if (is_age(r->in, r->avail_in) && open_age(r) < 0)
		goto fail;
	if (r->avail_in < 2 || r->in[0] != 0x1f || r->in[1] != 0x8b) {
		bk_err_set(r->age ? "%s: what it decrypts to is not a gzip file"
				  : "%s is not a gzip file", path);
		goto fail;
	}
	r->gz = GZ_MEMBER;
	if (pthread_create(&r->thread, NULL, inflater, r) != 0) {
		bk_err_set("cannot start a thread to decompress %s", path);
		goto fail;
	}
	r->thread_live = 1;
	r->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	r->a = archive_read_new();
	if (!r->a) {
		bk_err_set("cannot start libarchive");
		goto fail;
	}
	archive_read_support_format_tar(r->a);
	if (archive_read_open(r->a, r, NULL, read_cb, NULL) != ARCHIVE_OK) {
		if (r->final < 0)
			bk_err_set("%s", r->gz_err);
		else
			bk_err_set("%s is not a tar.gz archive: %s", path,
				   archive_error_string(r->a) ? archive_error_string(r->a) : "?");
		goto fail;
	}
	return r;
fail:
	bk_ar_close(r);
	return NULL;
}

/* MANIFEST.minisig as the second member: the signature, not a member. */
static int is_signature(const struct bk_ar_reader *r, const struct bk_ar_member *m)
{
	return r->headers == 2 && m->type == BK_AR_REG && m->size <= BK_MANIFEST_SIG_MAX &&
	       !strcmp(m->path, BK_MANIFEST_SIG_NAME);
}

static int next_member(struct bk_ar_reader *r, struct bk_ar_member *m);

int bk_ar_next(struct bk_ar_reader *r, struct bk_ar_member *m)
{
	int got = next_member(r, m);

	if (got == 1 && is_signature(r, m)) {
		if (bk_ar_read_all(r, m, BK_MANIFEST_SIG_MAX, &r->sig, &r->sig_len) < 0)
			return -1;
		got = next_member(r, m);
	}
	return got;
}

const char *bk_ar_signature(const struct bk_ar_reader *r, size_t *len)
{
	*len = r->sig ? r->sig_len : 0;
	return r->sig;
}

static int next_member(struct bk_ar_reader *r, struct bk_ar_member *m)
{
	struct archive_entry *e;
	const char *path;
	locale_t saved = (locale_t)0;
	int ret;

	memset(m, 0, sizeof(*m));
	if (r->ended)
		return 0;
	/* pax names are UTF-8: read them in a UTF-8 locale so that libarchive
	 * does not try (and fail) to convert them to the C locale's ASCII. */
	if (r->utf8)
		saved = uselocale(r->utf8);
	ret = archive_read_next_header(r->a, &e);
	if (r->utf8)
		uselocale(saved);
	if (ret == ARCHIVE_EOF) {
		const void *rest;
		ssize_t n;

		/* The rest of the stream (tar padding) must still be sound gzip. */
		while ((n = take(r, &rest)) > 0)
			;
		if (n < 0)
			return bk_err_set("%s", r->gz_err);
		r->ended = 1;
		return 0;
	}
	/*
	 * A warning leaves a usable entry: typically a name that could not be
	 * converted to the locale's charset, in which case libarchive keeps its
	 * bytes as they are stored (UTF-8 in pax headers), which is what we want.
	 */
	if (ret != ARCHIVE_OK && ret != ARCHIVE_WARN)
		return ar_fail(r);
	r->headers++;
	path = archive_entry_pathname_utf8(e);
	if (!path)
		path = archive_entry_pathname(e);
	if (!path)
		return bk_err_set("archive is corrupt: a member has no name");
	m->path = path;
	m->size = archive_entry_size_is_set(e) && archive_entry_size(e) > 0
		  ? (unsigned long long)archive_entry_size(e) : 0;
	m->mode = (unsigned)archive_entry_perm(e);
	if (archive_entry_hardlink(e)) {
		m->type = BK_AR_HARDLINK;
		m->link = archive_entry_hardlink(e);
		return 1;
	}
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
		/* A sparse member would unpack to more than it stores. */
		m->type = archive_entry_sparse_count(e) > 0 ? BK_AR_OTHER : BK_AR_REG;
		break;
	case AE_IFDIR:
		m->type = BK_AR_DIR;
		if (strlen(path) > 1 && path[strlen(path) - 1] == '/') {
			free(r->dir_path);
			r->dir_path = bk_xstrdup(path);
			r->dir_path[strlen(path) - 1] = '\0';
			m->path = r->dir_path;
		}
		break;
	case AE_IFLNK:
		m->type = BK_AR_SYMLINK;
		m->link = archive_entry_symlink(e);
		break;
	default:
		m->type = BK_AR_OTHER;
		break;
	}
	return 1;
}

ssize_t bk_ar_read(struct bk_ar_reader *r, void *buf, size_t len)
{
	la_ssize_t n;

	if (r->ended)
		return 0;
	n = archive_read_data(r->a, buf, len);
	if (n < 0)
		return ar_fail(r);
	return n;
}

void bk_ar_set_limit(struct bk_ar_reader *r, unsigned long long limit)
{
	__atomic_store_n(&r->limit, limit, __ATOMIC_RELAXED);
}

unsigned long long bk_ar_bytes_in(const struct bk_ar_reader *r)
{
	return __atomic_load_n(&r->bytes_in, __ATOMIC_RELAXED);
}

unsigned long long bk_ar_bytes_out(const struct bk_ar_reader *r)
{
	return __atomic_load_n(&r->bytes_out, __ATOMIC_RELAXED);
}

void bk_ar_close(struct bk_ar_reader *r)
{
	if (!r)
		return;
	if (r->a)
		archive_read_free(r->a);
	if (r->thread_live) {
		pthread_mutex_lock(&r->mu);
		r->stop = 1;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->thread, NULL);
	}
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	engine_end(r);
	bk_age_reader_free(r->age);
	free(r->age_head);
	if (r->fd >= 0)
		close(r->fd);
	if (r->utf8)
		freelocale(r->utf8);
	free(r->in);
	for (int i = 0; i < NBUF; i++)
		free(r->buf[i]);
	free(r->path);
	free(r->dir_path);
	free(r->sig);
	free(r);
}

int bk_ar_read_all(struct bk_ar_reader *r, const struct bk_ar_member *m, size_t max,
		   char **out, size_t *len)
{
	size_t n = 0;
	char *buf;

	*out = NULL;
	*len = 0;
	if (m->size > max)
		return bk_err_set("member %s is larger than %zu bytes", m->path, max);
	buf = bk_xmalloc((size_t)m->size + 1);
	for (;;) {
		ssize_t got = bk_ar_read(r, buf + n, (size_t)m->size + 1 - n);

		if (got < 0) {
			free(buf);
			return -1;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > m->size) {
			free(buf);
			return bk_err_set("archive is corrupt: member %s is longer than its header says",
					  m->path);
		}
	}
	if (n != m->size) {
		free(buf);
		return bk_err_set("archive is truncated: member %s", m->path);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int bk_ar_read_manifest(const char *path, struct bk_manifest *m, char **info_text)
{
	return bk_ar_read_head(path, m, info_text, NULL);
}

int bk_ar_read_head(const char *path, struct bk_manifest *m, char **info_text, char **sig_text)
{
	struct bk_ar_reader *r;
	struct bk_ar_member mem;
	char *text = NULL;
	size_t len;
	int ret = -1, got;

	bk_manifest_init(m);
	if (info_text)
		*info_text = NULL;
	if (sig_text)
		*sig_text = NULL;
	if (!(r = bk_ar_open(path)))
		return -1;
	/* Only the head is read: a bomb further on must not be inflated here. */
	bk_ar_set_limit(r, 2 * (BK_MANIFEST_MAX + BK_INFO_MAX) + BK_AR_READAHEAD);
	got = bk_ar_next(r, &mem);
	if (got < 0)
		goto out;
	if (got == 0 || strcmp(mem.path, BK_MANIFEST_NAME) != 0 || mem.type != BK_AR_REG) {
		bk_err_set("%s: MANIFEST is not the first member", path);
		goto out;
	}
	if (mem.size > BK_MANIFEST_MAX) {
		bk_err_set("%s: MANIFEST is larger than %d bytes", path, BK_MANIFEST_MAX);
		goto out;
	}
	if (bk_ar_read_all(r, &mem, BK_MANIFEST_MAX, &text, &len) < 0 ||
	    bk_manifest_parse(m, text, len) < 0)
		goto out;
	if (info_text || sig_text) {
		size_t slen;

		got = bk_ar_next(r, &mem);	/* past the signature, if any */
		if (got < 0)
			goto out;
		if (info_text && got == 1 && !strcmp(mem.path, BK_INFO_NAME) &&
		    mem.type == BK_AR_REG) {
			size_t ilen;

			if (bk_ar_read_all(r, &mem, BK_INFO_MAX, info_text, &ilen) < 0)
				goto out;
		}
		if (sig_text && bk_ar_signature(r, &slen))
			*sig_text = bk_xstrdup(bk_ar_signature(r, &slen));
	}
	ret = 0;
out:
	if (ret < 0) {
		bk_manifest_free(m);
		if (info_text) {
			free(*info_text);
			*info_text = NULL;
		}
		if (sig_text) {
			free(*sig_text);
			*sig_text = NULL;
		}
	}
	free(text);
	bk_ar_close(r);
	return ret;
}
