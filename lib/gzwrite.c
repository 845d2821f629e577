/*
 * gzip writer (see gzwrite.h) that compresses on several threads the way pigz
 * does: the input is cut into blocks, each deflated on its own by a worker,
 * primed with the 32 KiB before it and ended on a byte boundary, and the pieces
 * are written in order between one gzip header and trailer. One thread means
 * one plain zlib stream and no workers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "err.h"
#include "fs.h"
#include "gzwrite.h"

/*
 * 256 KiB blocks: big enough that the sync marker (5 bytes) and the restarted
 * Huffman statistics cost well under 0.1%, small enough that a few blocks per
 * thread keep memory flat at a few megabytes.
 */
#define BLOCK (256 * 1024)
#define DICT 32768
#define MAX_THREADS 64
#define SINGLE_OUT (1 << 18)

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
	int failed;		/* no memory to grow out */
	enum job_state state;	/* under mu once queued */
};

struct worker {
	struct bk_gz *gz;
	z_stream zs;
	pthread_t tid;
};

struct bk_gz {
	int fd, level;
	int failed;			/* a write failed: refuse more */
	unsigned long long out_bytes;

	/* one thread: a plain zlib gzip stream */
	int single;
	z_stream zs;
	unsigned char *zout;

	/* several threads: jobs in a ring, numbered; slot = number % njobs */
	struct worker *workers;
	int nworkers;			/* threads running */
	int nstreams;			/* deflate streams to end */
	struct job *jobs;
	unsigned njobs;
	unsigned long long head;	/* oldest job not yet written (owner only) */
	unsigned long long next;	/* job being filled (owner only) */
	unsigned long crc;		/* of the input written so far (owner only) */
	unsigned long long in_bytes;	/* ditto */

	pthread_mutex_t mu;
	pthread_cond_t work;		/* a job was queued, or stop */
	pthread_cond_t done;		/* a job is done */
	unsigned long long queued;	/* jobs below this number are queued (mu) */
	unsigned long long taken;	/* next job a worker takes (mu) */
	int stop;			/* mu */
};

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

static int refuse(void)
{
	return bk_err_set("cannot write the archive after an earlier error");
}

/* ---- one thread ---- */

static int single_open(struct bk_gz *gz)
{
	gz->single = 1;
	gz->zout = bk_xmalloc(SINGLE_OUT);
	/* windowBits 15 + 16: zlib writes the gzip header and trailer */
	if (deflateInit2(&gz->zs, gz->level, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		free(gz->zout);
		gz->zout = NULL;
		return bk_err_set("cannot start gzip compression: out of memory");
	}
	return 0;
}

static int single_pump(struct bk_gz *gz, int flush)
{
	int rc;

	do {
		gz->zs.next_out = gz->zout;
		gz->zs.avail_out = SINGLE_OUT;
		rc = deflate(&gz->zs, flush);
		if (rc == Z_STREAM_ERROR)
			return bk_err_set("gzip compression failed");
		if (write_out(gz, gz->zout, SINGLE_OUT - gz->zs.avail_out) < 0)
			return -1;
	} while (gz->zs.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
	return 0;
}

static int single_write(struct bk_gz *gz, const unsigned char *p, size_t len)
{
	while (len) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

		gz->zs.next_in = (unsigned char *)p;
		gz->zs.avail_in = n;
		if (single_pump(gz, Z_NO_FLUSH) < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* ---- workers ---- */

static void compress_job(z_stream *zs, struct job *j)
{
	int flush = j->last ? Z_FINISH : Z_SYNC_FLUSH;
	int rc;

	j->crc = crc32(0, j->in, (uInt)j->in_len);
	(void)deflateReset(zs);
	if (j->dict_len)
		(void)deflateSetDictionary(zs, j->dict, (uInt)j->dict_len);
	zs->next_in = j->in;
	zs->avail_in = (uInt)j->in_len;
	j->out_len = 0;
	for (;;) {
		if (j->out_cap - j->out_len < 64) {
			/* deflateBound was not enough (cannot happen with zlib's own
			 * bound, but the loop must not depend on it) */
			unsigned char *o = realloc(j->out, j->out_cap * 2);

			if (!o) {
				j->failed = 1;
				return;
			}
			j->out = o;
			j->out_cap *= 2;
		}
		zs->next_out = j->out + j->out_len;
		zs->avail_out = (uInt)(j->out_cap - j->out_len);
		rc = deflate(zs, flush);
		j->out_len = j->out_cap - zs->avail_out;
		if (rc == Z_STREAM_ERROR) {
			j->failed = 1;
			return;
		}
		if (flush == Z_FINISH ? rc == Z_STREAM_END : zs->avail_out != 0)
			return;
	}
}

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

		compress_job(&w->zs, j);

		pthread_mutex_lock(&gz->mu);
		j->state = JOB_DONE;
		pthread_cond_signal(&gz->done);
	}
	pthread_mutex_unlock(&gz->mu);
	return NULL;
}

/* ---- several threads: the owner's side ---- */

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

static void free_threaded(struct bk_gz *gz)
{
	unsigned i;
	int k;

	for (k = 0; k < gz->nstreams; k++)
		deflateEnd(&gz->workers[k].zs);
	gz->nstreams = 0;
	free(gz->workers);
	gz->workers = NULL;
	for (i = 0; gz->jobs && i < gz->njobs; i++) {
		free(gz->jobs[i].in);
		free(gz->jobs[i].out);
	}
	free(gz->jobs);
	gz->jobs = NULL;
	pthread_mutex_destroy(&gz->mu);
	pthread_cond_destroy(&gz->work);
	pthread_cond_destroy(&gz->done);
}

/* 0, or -1 when the workers cannot be had (the caller falls back to one thread). */
static int threaded_open(struct bk_gz *gz, int nthreads)
{
	uLong bound;
	unsigned i;
	int k;

	pthread_mutex_init(&gz->mu, NULL);
	pthread_cond_init(&gz->work, NULL);
	pthread_cond_init(&gz->done, NULL);
	gz->workers = calloc((size_t)nthreads, sizeof(*gz->workers));
	/* two jobs per worker keep every worker busy while the owner fills and writes */
	gz->njobs = 2 * (unsigned)nthreads + 2;
	gz->jobs = calloc(gz->njobs, sizeof(*gz->jobs));
	if (!gz->workers || !gz->jobs)
		goto fail;
	for (k = 0; k < nthreads; k++) {
		gz->workers[k].gz = gz;
		if (deflateInit2(&gz->workers[k].zs, gz->level, Z_DEFLATED, -15, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK)
			goto fail;
		gz->nstreams++;
	}
	/* room for a whole block even if it does not compress, plus the flush marker */
	bound = deflateBound(&gz->workers[0].zs, BLOCK) + 64;
	for (i = 0; i < gz->njobs; i++) {
		gz->jobs[i].in = malloc(BLOCK);
		gz->jobs[i].out = malloc(bound);
		gz->jobs[i].out_cap = bound;
		if (!gz->jobs[i].in || !gz->jobs[i].out)
			goto fail;
	}
	for (k = 0; k < nthreads; k++) {
		if (pthread_create(&gz->workers[k].tid, NULL, worker_main, &gz->workers[k]))
			break;
		gz->nworkers++;
	}
	if (gz->nworkers == 0)
		goto fail;
	return 0;
fail:
	free_threaded(gz);
	return -1;
}

/* Write the oldest job once a worker is done with it. */
static int write_head(struct bk_gz *gz)
{
	static const unsigned char header[10] = {
		0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3	/* deflate, no name, no time, Unix */
	};
	struct job *j = &gz->jobs[gz->head % gz->njobs];
	unsigned char hdr[10];

	pthread_mutex_lock(&gz->mu);
	while (j->state != JOB_DONE)
		pthread_cond_wait(&gz->done, &gz->mu);
	pthread_mutex_unlock(&gz->mu);

	if (j->failed) {
		gz->failed = 1;
		return bk_err_set("gzip compression failed: out of memory");
	}
	if (gz->head == 0) {
		memcpy(hdr, header, sizeof(hdr));
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

/* Hand the job being filled to the workers and start the next one. */
static int submit(struct bk_gz *gz, int last)
{
	struct job *j = &gz->jobs[gz->next % gz->njobs], *nj;

	j->last = last;
	pthread_mutex_lock(&gz->mu);
	j->state = JOB_QUEUED;
	gz->queued = gz->next + 1;
	pthread_cond_signal(&gz->work);
	pthread_mutex_unlock(&gz->mu);
	gz->next++;
	if (last)
		return 0;

	/* write what is ready; wait only when every slot is in use */
	while (gz->head < gz->next && job_done(gz, gz->head))
		if (write_head(gz) < 0)
			return -1;
	if (gz->next - gz->head >= gz->njobs && write_head(gz) < 0)
		return -1;

	/* the next block is primed with the end of this one */
	nj = &gz->jobs[gz->next % gz->njobs];
	nj->dict_len = j->in_len < DICT ? j->in_len : DICT;
	memcpy(nj->dict, j->in + j->in_len - nj->dict_len, nj->dict_len);
	return 0;
}

static int threaded_write(struct bk_gz *gz, const unsigned char *p, size_t len)
{
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

static int threaded_close(struct bk_gz *gz)
{
	unsigned char trailer[8];
	int i;

	if (submit(gz, 1) < 0)
		return -1;
	while (gz->head < gz->next)
		if (write_head(gz) < 0)
			return -1;
	for (i = 0; i < 4; i++) {
		trailer[i] = (unsigned char)(gz->crc >> (8 * i));
		trailer[4 + i] = (unsigned char)(gz->in_bytes >> (8 * i));
	}
	return write_out(gz, trailer, sizeof(trailer));
}

/* ---- the API ---- */

struct bk_gz *bk_gz_open(int fd, int level, int threads)
{
	struct bk_gz *gz;

	if (level < 1 || level > 9) {
		bk_err_set("gzip level %d is out of range 1..9", level);
		return NULL;
	}
	gz = calloc(1, sizeof(*gz));
	if (!gz)
		abort();
	gz->fd = fd;
	gz->level = level;
	if (threads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 ? (int)n : 1;
	}
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	gz->crc = crc32(0, NULL, 0);
	if (threads > 1 && threaded_open(gz, threads) == 0)
		return gz;
	/* one thread asked for, or no threads to be had: compress inline */
	if (single_open(gz) < 0) {
		free(gz);
		return NULL;
	}
	return gz;
}

int bk_gz_write(struct bk_gz *gz, const void *buf, size_t len)
{
	if (gz->failed)
		return refuse();
	return gz->single ? single_write(gz, buf, len) : threaded_write(gz, buf, len);
}

int bk_gz_close(struct bk_gz *gz)
{
	int ret;

	if (gz->failed)
		ret = refuse();
	else
		ret = gz->single ? single_pump(gz, Z_FINISH) : threaded_close(gz);
	bk_gz_abort(gz);
	return ret;
}

void bk_gz_abort(struct bk_gz *gz)
{
	if (!gz)
		return;
	if (gz->single) {
		deflateEnd(&gz->zs);
		free(gz->zout);
	} else {
		stop_workers(gz);
		free_threaded(gz);
	}
	free(gz);
}

unsigned long long bk_gz_out_bytes(const struct bk_gz *gz)
{
	return gz->out_bytes;
}
