/*
 * gzip writer (see gzwrite.h) that compresses on several threads the way pigz
 * does: the input is cut into blocks, each deflated on its own, primed with
 * the 32 KiB before it and ended on a byte boundary, and the pieces are written
 * in order between one gzip header and trailer. One thread compresses the
 * blocks inline, with no workers.
 *
 * The deflate engine: where ISA-L is built in (BK_HAVE_ISAL), levels 1-6 use
 * its igzip, which on the backup's data deflates about five times faster than
 * zlib for an archive a few percent larger (bench/README.md has the figures);
 * levels 7-9, or a build without ISA-L, use zlib. Both write ordinary deflate.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#ifdef BK_HAVE_ISAL
#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#endif

#include "err.h"
#include "fs.h"
#include "gzwrite.h"

/*
 * 256 KiB blocks: big enough that the flush marker (5 bytes) and the restarted
 * Huffman statistics cost about 0.1%, small enough that a few blocks per
 * thread keep memory flat at a few megabytes.
 */
#define BLOCK (256 * 1024)
#define DICT 32768
#define MAX_THREADS 64

enum job_state { JOB_FILLING, JOB_QUEUED, JOB_DONE };

struct job {
	unsigned char *in;
	size_t in_len;
	unsigned char dict[DICT];
	size_t dict_len;
	unsigned char *out;
	size_t out_len, out_cap;
	unsigned long crc;
	int last;
	int failed;		/* no memory to grow out, or the engine refused */
	enum job_state state;	/* under mu once queued */
};

/* One deflate engine's state; each worker (or the owner, inline) has one. */
struct deflater {
	int isal_level;		/* 1..3: ISA-L; 0: zlib */
	z_stream zs;
	int zs_ready;
#ifdef BK_HAVE_ISAL
	struct isal_zstream *is;
	unsigned char *level_buf;
	size_t level_buf_size;
#endif
};

struct worker {
	struct bk_gz *gz;
	struct deflater d;
	pthread_t tid;
};

struct bk_gz {
	int fd, level;
	int failed;			/* a write failed: refuse more */
	unsigned long long out_bytes;

	/* jobs in a ring, numbered; slot = number % njobs */
	struct job *jobs;
	unsigned njobs;
	unsigned long long head;	/* oldest job not yet written (owner only) */
	unsigned long long next;	/* job being filled (owner only) */
	unsigned long crc;		/* of the input written so far (owner only) */
	unsigned long long in_bytes;	/* ditto */

	unsigned char dict[DICT];	/* end of the last block submitted (owner only) */
	size_t dict_len;

	/* no workers: the owner compresses with this */
	struct deflater inline_d;
	int inline_ready;

	struct worker *workers;
	int nworkers;			/* threads running */
	int nready;			/* workers whose deflater is set up */
	pthread_mutex_t mu;
	pthread_cond_t work;		/* a job was queued, or stop */
	pthread_cond_t done;		/* a job is done */
	unsigned long long queued;	/* jobs below this number are queued (mu) */
	unsigned long long taken;	/* next job a worker takes (mu) */
	int stop;			/* mu */
};

/* ---- the deflate engines ---- */

/* The ISA-L level standing in for a gzip level, 0 for zlib. */
static int isal_level_for(int level)
{
#ifdef BK_HAVE_ISAL
	if (level <= 3)
		return 1;
	if (level == 4)
		return 2;
	if (level <= 6)
		return 3;
#endif
	(void)level;
	return 0;
}

static int deflater_init(struct deflater *d, int level)
{
	d->isal_level = isal_level_for(level);
#ifdef BK_HAVE_ISAL
	if (d->isal_level) {
		d->level_buf_size = d->isal_level == 1 ? ISAL_DEF_LVL1_DEFAULT :
				    d->isal_level == 2 ? ISAL_DEF_LVL2_DEFAULT :
							 ISAL_DEF_LVL3_DEFAULT;
		d->is = malloc(sizeof(*d->is));
		d->level_buf = malloc(d->level_buf_size);
		if (!d->is || !d->level_buf) {
			free(d->is);
			free(d->level_buf);
			d->is = NULL;
			d->level_buf = NULL;
			return -1;
		}
		isal_deflate_init(d->is);
		return 0;
	}
#endif
	memset(&d->zs, 0, sizeof(d->zs));
	/* raw deflate (-15): the gzip header and trailer are ours */
	if (deflateInit2(&d->zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	d->zs_ready = 1;
	return 0;
}

static void deflater_end(struct deflater *d)
{
	if (d->zs_ready)
		deflateEnd(&d->zs);
	d->zs_ready = 0;
#ifdef BK_HAVE_ISAL
	free(d->is);
	free(d->level_buf);
	d->is = NULL;
	d->level_buf = NULL;
#endif
}

/* Make room for more output; 0 or -1 (out of memory). */
static int grow_out(struct job *j)
{
	unsigned char *o;

	if (j->out_cap - j->out_len >= 64)
		return 0;
	/* the bound was not enough: cannot happen with the engines' own bounds,
	 * but the loops must not depend on it */
	o = realloc(j->out, j->out_cap * 2);
	if (!o)
		return -1;
	j->out = o;
	j->out_cap *= 2;
	return 0;
}

static void deflate_zlib(z_stream *zs, struct job *j)
{
	int flush = j->last ? Z_FINISH : Z_SYNC_FLUSH;
	int rc;

	(void)deflateReset(zs);
	if (j->dict_len)
		(void)deflateSetDictionary(zs, j->dict, (uInt)j->dict_len);
	zs->next_in = j->in;
	zs->avail_in = (uInt)j->in_len;
	for (;;) {
		if (grow_out(j) < 0) {
			j->failed = 1;
			return;
		}
		zs->next_out = j->out + j->out_len;
		zs->avail_out = (uInt)(j->out_cap - j->out_len);
		rc = deflate(zs, flush);
		j->out_len = j->out_cap - zs->avail_out;
		if (rc == Z_STREAM_ERROR) {
			j->failed = 1;
			return;
		}
		/* done: the end of the stream, or everything flushed with room to spare */
		if (flush == Z_FINISH ? rc == Z_STREAM_END : zs->avail_out != 0)
			return;
	}
}

#ifdef BK_HAVE_ISAL
static void deflate_isal(struct deflater *d, struct job *j)
{
	struct isal_zstream *s = d->is;

	isal_deflate_init(s);
	s->level = (uint32_t)d->isal_level;
	s->level_buf = d->level_buf;
	s->level_buf_size = (uint32_t)d->level_buf_size;
	s->gzip_flag = IGZIP_DEFLATE;
	s->end_of_stream = (uint16_t)j->last;
	s->flush = j->last ? NO_FLUSH : SYNC_FLUSH;
	if (j->dict_len && isal_deflate_set_dict(s, j->dict, (uint32_t)j->dict_len) != COMP_OK) {
		j->failed = 1;
		return;
	}
	s->next_in = j->in;
	s->avail_in = (uint32_t)j->in_len;
	for (;;) {
		if (grow_out(j) < 0) {
			j->failed = 1;
			return;
		}
		s->next_out = j->out + j->out_len;
		s->avail_out = (uint32_t)(j->out_cap - j->out_len);
		if (isal_deflate(s) != COMP_OK) {
			j->failed = 1;
			return;
		}
		j->out_len = (size_t)(s->next_out - j->out);
		/* done: the end of the stream, or all input flushed with room to spare */
		if (j->last ? s->internal_state.state == ZSTATE_END
			    : s->avail_in == 0 && s->avail_out != 0)
			return;
	}
}
#endif

static void compress_job(struct deflater *d, struct job *j)
{
#ifdef BK_HAVE_ISAL
	/* the same CRC-32 as zlib's, with carry-less multiplication: 3x faster */
	j->crc = crc32_gzip_refl(0, j->in, j->in_len);
#else
	j->crc = crc32(0, j->in, (uInt)j->in_len);
#endif
	j->out_len = 0;
#ifdef BK_HAVE_ISAL
	if (d->isal_level) {
		deflate_isal(d, j);
		return;
	}
#endif
	deflate_zlib(&d->zs, j);
}

/* ---- workers ---- */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct bk_gz *gz = w->gz;
	struct job *j;

	pthread_mutex_lock(&gz->mu);
	for (;;) {
		while (!gz->stop && gz->taken == gz->queued)
			pthread_cond_wait(&gz->work, &gz->mu);
		if (gz->stop)
			break;
		j = &gz->jobs[gz->taken % gz->njobs];
		gz->taken++;
		pthread_mutex_unlock(&gz->mu);

		compress_job(&w->d, j);

		pthread_mutex_lock(&gz->mu);
		j->state = JOB_DONE;
		pthread_cond_signal(&gz->done);
	}
	pthread_mutex_unlock(&gz->mu);
	return NULL;
}

static void stop_workers(struct bk_gz *gz)
{
	int i;

	pthread_mutex_lock(&gz->mu);
	gz->stop = 1;
	pthread_cond_broadcast(&gz->work);
	pthread_mutex_unlock(&gz->mu);
	for (i = 0; i < gz->nworkers; i++)
		pthread_join(gz->workers[i].tid, NULL);
	gz->nworkers = 0;
}

/* Start up to n workers; 0 when at least one runs. */
static int start_workers(struct bk_gz *gz, int n)
{
	int k;

	gz->workers = calloc((size_t)n, sizeof(*gz->workers));
	if (!gz->workers)
		return -1;
	for (k = 0; k < n; k++) {
		gz->workers[k].gz = gz;
		if (deflater_init(&gz->workers[k].d, gz->level) < 0)
			break;
		gz->nready++;
	}
	for (k = 0; k < gz->nready; k++) {
		if (pthread_create(&gz->workers[k].tid, NULL, worker_main, &gz->workers[k]))
			break;
		gz->nworkers++;
	}
	return gz->nworkers > 0 ? 0 : -1;
}

static void free_all(struct bk_gz *gz)
{
	unsigned i;
	int k;

	stop_workers(gz);
	for (k = 0; k < gz->nready; k++)
		deflater_end(&gz->workers[k].d);
	free(gz->workers);
	if (gz->inline_ready)
		deflater_end(&gz->inline_d);
	for (i = 0; gz->jobs && i < gz->njobs; i++) {
		free(gz->jobs[i].in);
		free(gz->jobs[i].out);
	}
	free(gz->jobs);
	pthread_mutex_destroy(&gz->mu);
	pthread_cond_destroy(&gz->work);
	pthread_cond_destroy(&gz->done);
	free(gz);
}

/* ---- the owner's side ---- */

static int write_out(struct bk_gz *gz, const void *buf, size_t n)
{
	if (bk_write_all(gz->fd, buf, n) < 0) {
		gz->failed = 1;
		if (errno == ENOSPC || errno == EDQUOT)
			return bk_err_set("disk full while writing the archive");
		return bk_err_errno("cannot write the archive");
	}
	gz->out_bytes += n;
	return 0;
}

/* Write the oldest job once it is compressed. */
static int write_head(struct bk_gz *gz)
{
	struct job *j = &gz->jobs[gz->head % gz->njobs];
	unsigned char hdr[10] = {
		0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3	/* deflate, no name, no time, Unix */
	};

	pthread_mutex_lock(&gz->mu);
	while (j->state != JOB_DONE)
		pthread_cond_wait(&gz->done, &gz->mu);
	pthread_mutex_unlock(&gz->mu);

	if (j->failed) {
		gz->failed = 1;
		return bk_err_set("gzip compression failed: out of memory");
	}
	if (gz->head == 0) {
		hdr[8] = gz->level >= 9 ? 2 : gz->level == 1 ? 4 : 0;
		if (write_out(gz, hdr, sizeof(hdr)) < 0)
			return -1;
	}
	if (write_out(gz, j->out, j->out_len) < 0)
		return -1;
	gz->crc = crc32_combine(gz->crc, j->crc, (z_off_t)j->in_len);
	gz->in_bytes += j->in_len;
	j->in_len = 0;
	j->dict_len = 0;
	j->last = 0;
	j->state = JOB_FILLING;
	gz->head++;
	return 0;
}

static int job_done(struct bk_gz *gz, unsigned long long n)
{
	int ret;

	pthread_mutex_lock(&gz->mu);
	ret = gz->jobs[n % gz->njobs].state == JOB_DONE;
	pthread_mutex_unlock(&gz->mu);
	return ret;
}

/* Hand the job being filled to the workers (or compress it here) and start the next. */
static int submit(struct bk_gz *gz, int last)
{
	struct job *j = &gz->jobs[gz->next % gz->njobs], *nj;

	j->last = last;
	/* the next block is primed with the end of this one: keep it now, as
	 * this job may be written and its slot refilled before the next starts */
	gz->dict_len = j->in_len < DICT ? j->in_len : DICT;
	memcpy(gz->dict, j->in + j->in_len - gz->dict_len, gz->dict_len);
	if (gz->nworkers == 0) {
		compress_job(&gz->inline_d, j);
		j->state = JOB_DONE;
	} else {
		pthread_mutex_lock(&gz->mu);
		j->state = JOB_QUEUED;
		gz->queued = gz->next + 1;
		pthread_cond_signal(&gz->work);
		pthread_mutex_unlock(&gz->mu);
	}
	gz->next++;
	if (last)
		return 0;

	/* write what is ready; wait only when every slot is in use */
	while (gz->head < gz->next && job_done(gz, gz->head))
		if (write_head(gz) < 0)
			return -1;
	if (gz->next - gz->head >= gz->njobs && write_head(gz) < 0)
		return -1;

	nj = &gz->jobs[gz->next % gz->njobs];
	memcpy(nj->dict, gz->dict, gz->dict_len);
	nj->dict_len = gz->dict_len;
	return 0;
}

/* ---- the API ---- */

struct bk_gz *bk_gz_open(int fd, int level, int threads)
{
	struct bk_gz *gz;
	size_t bound;
	unsigned i;

	if (level < 1 || level > 9) {
		bk_err_set("gzip level %d is out of range 1..9", level);
		return NULL;
	}
	if (threads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 ? (int)n : 1;
	}
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;

	gz = calloc(1, sizeof(*gz));
	if (!gz)
		abort();
	gz->fd = fd;
	gz->level = level;
	gz->crc = crc32(0, NULL, 0);
	pthread_mutex_init(&gz->mu, NULL);
	pthread_cond_init(&gz->work, NULL);
	pthread_cond_init(&gz->done, NULL);

	/* two jobs per worker keep every worker busy while the owner fills and writes */
	gz->njobs = threads > 1 ? 2 * (unsigned)threads + 2 : 2;
	gz->jobs = calloc(gz->njobs, sizeof(*gz->jobs));
	if (!gz->jobs)
		goto nomem;
	/* a block that does not compress, stored, plus the flush marker */
	bound = BLOCK + BLOCK / 1000 * 5 + 1024;
	for (i = 0; i < gz->njobs; i++) {
		gz->jobs[i].in = malloc(BLOCK);
		gz->jobs[i].out = malloc(bound);
		gz->jobs[i].out_cap = bound;
		if (!gz->jobs[i].in || !gz->jobs[i].out)
			goto nomem;
	}
	/* no threads to be had: compress inline all the same */
	if (threads > 1 && start_workers(gz, threads) == 0)
		return gz;
	if (deflater_init(&gz->inline_d, level) < 0)
		goto nomem;
	gz->inline_ready = 1;
	return gz;
nomem:
	free_all(gz);
	bk_err_set("cannot start gzip compression: out of memory");
	return NULL;
}

int bk_gz_write(struct bk_gz *gz, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (gz->failed)
		return bk_err_set("cannot write the archive after an earlier error");
	while (len) {
		struct job *j = &gz->jobs[gz->next % gz->njobs];
		size_t n;

		/* a full block goes out only when more input shows it is not the last */
		if (j->in_len == BLOCK) {
			if (submit(gz, 0) < 0)
				return -1;
			continue;
		}
		n = BLOCK - j->in_len;
		if (n > len)
			n = len;
		memcpy(j->in + j->in_len, p, n);
		j->in_len += n;
		p += n;
		len -= n;
	}
	return 0;
}

int bk_gz_close(struct bk_gz *gz)
{
	unsigned char trailer[8];
	int i, ret = -1;

	if (gz->failed) {
		bk_err_set("cannot write the archive after an earlier error");
		goto out;
	}
	if (submit(gz, 1) < 0)
		goto out;
	while (gz->head < gz->next)
		if (write_head(gz) < 0)
			goto out;
	for (i = 0; i < 4; i++) {
		trailer[i] = (unsigned char)(gz->crc >> (8 * i));
		trailer[4 + i] = (unsigned char)(gz->in_bytes >> (8 * i));
	}
	ret = write_out(gz, trailer, sizeof(trailer));
out:
	free_all(gz);
	return ret;
}

void bk_gz_abort(struct bk_gz *gz)
{
	if (gz)
		free_all(gz);
}

unsigned long long bk_gz_out_bytes(const struct bk_gz *gz)
{
	return gz->out_bytes;
}
