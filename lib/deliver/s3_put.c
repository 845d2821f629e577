/*
 * Uploads (see bk_s3_put_file in s3.h): one pass over the file computes its
 * SHA-256 and each part's, then one PUT or a multipart upload streams it
 * from the file, BK_S3_PARALLEL parts at a time, and HEAD confirms what the
 * store holds. Memory is bounded by the number of workers (each streams its
 * part by pread) and of parts (at most 10,000 digests and ETags), not the size.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "b64.h"
#include "cli.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "s3_int.h"
#include "sha256.h"

struct upload {
	const struct bk_s3 *s;
	const char *key;
	int fd;
	unsigned long long size, part;	/* part: every part's size but the last */
	unsigned n;			/* number of parts (1: a single PUT) */
	unsigned char (*digest)[32];	/* each part's SHA-256 */
	unsigned char whole[32];
	char whole_hex[BK_SHA256_HEX];
	char **etag;			/* multipart: each part's ETag */
	char *upload_id;
	bk_s3_progress_fn progress;
	void *ctx;
	double t0;

	/* multipart: what the part workers share, under mu */
	pthread_mutex_t mu;
	pthread_cond_t changed;		/* a part is done, or a worker stopped */
	unsigned next;			/* the next part to send */
	unsigned running;		/* workers not stopped yet */
	unsigned long long sent;	/* bytes of the parts done */
	char *fail_msg, *fail_hint;	/* the first failed part's error: the upload's */
};

static void to_hex(const unsigned char d[32], char hex[BK_SHA256_HEX])
{
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

void s3_plan_parts(unsigned long long size, unsigned long long part_size,
		   unsigned long long *part, unsigned *n)
{
	unsigned long long min = (size + BK_S3_MAX_PARTS - 1) / BK_S3_MAX_PARTS;

	if (size <= part_size) {
		*part = size;
		*n = 1;
		return;
	}
	*part = part_size >= min ? part_size : (min + (1ULL << 20) - 1) & ~((1ULL << 20) - 1);
	*n = (unsigned)((size + *part - 1) / *part);
}

static unsigned long long part_len(const struct upload *u, unsigned i)
{
	return i + 1 < u->n ? u->part : u->size - (unsigned long long)i * u->part;
}

/* One read of the file: the whole digest and every part's. */
static int hash_file(struct upload *u, const char *path)
{
	EVP_MD_CTX *all = EVP_MD_CTX_new(), *one = EVP_MD_CTX_new();
	size_t bufsize = 1 << 20;
	unsigned char *buf = bk_xmalloc(bufsize);
	unsigned long long off = 0;
	unsigned i = 0;
	int ret = -1;

	if (!all || !one || !EVP_DigestInit_ex(all, EVP_sha256(), NULL) ||
	    !EVP_DigestInit_ex(one, EVP_sha256(), NULL)) {
		bk_err_set("cannot start SHA-256");
		goto out;
	}
	while (off < u->size) {
		unsigned long long end = (unsigned long long)(i + 1) * u->part;
		size_t want = bufsize;
		ssize_t got;

		if (i + 1 == u->n)
			end = u->size;
		if (end - off < want)
			want = (size_t)(end - off);
		do
			got = pread(u->fd, buf, want, (off_t)off);
		while (got < 0 && errno == EINTR);
		if (got <= 0) {
			if (got < 0)
				bk_err_errno("cannot read %s", path);
			else
				bk_err_set("cannot read %s: it shrank while being read", path);
			goto out;
		}
		EVP_DigestUpdate(all, buf, (size_t)got);
		EVP_DigestUpdate(one, buf, (size_t)got);
		off += (unsigned long long)got;
		if (off == end) {
			EVP_DigestFinal_ex(one, u->digest[i++], NULL);
			EVP_DigestInit_ex(one, EVP_sha256(), NULL);
		}
	}
	if (u->size == 0)
		EVP_DigestFinal_ex(one, u->digest[0], NULL);
	EVP_DigestFinal_ex(all, u->whole, NULL);
	to_hex(u->whole, u->whole_hex);
	ret = 0;
out:
	EVP_MD_CTX_free(all);
	EVP_MD_CTX_free(one);
	free(buf);
	return ret;
}

static void report(struct upload *u, unsigned long long done)
{
	if (u->progress)
		u->progress(done, u->size, bk_monotonic() - u->t0, u->ctx);
}

static int put_single(struct upload *u)
{
	char hex[BK_SHA256_HEX], b64[48], cs[80], meta[100];
	struct s3_req r;
	int ret;

	to_hex(u->digest[0], hex);
	bk_b64_encode(b64, u->digest[0], 32, 1);
	snprintf(cs, sizeof(cs), "x-amz-checksum-sha256: %s", b64);
	snprintf(meta, sizeof(meta), "x-amz-meta-sha256: %s", u->whole_hex);
	s3_req_init(&r, "PUT", u->key, NULL);
	r.body_fd = u->fd;
	r.body_len = u->size;
	r.sha256 = hex;
	r.headers[0] = cs;
	r.headers[1] = meta;
	r.headers[2] = "Content-Type: application/octet-stream";
	ret = s3_request(u->s, &r);
	s3_req_done(&r);
	if (ret == 0)
		report(u, u->size);
	return ret;
}

/* ---- multipart ---- */

static char *id_query(const struct upload *u, unsigned part)
{
	char *id = bk_s3_uri_encode(u->upload_id, 0), *q;

	if (part)
		q = bk_asprintf("partNumber=%u&uploadId=%s", part, id);
	else
		q = bk_asprintf("uploadId=%s", id);
	free(id);
	return q;
}

static int create_upload(struct upload *u)
{
	char meta[100], id[1024];
	struct s3_req r;
	int ret = -1;

	snprintf(meta, sizeof(meta), "x-amz-meta-sha256: %s", u->whole_hex);
	s3_req_init(&r, "POST", u->key, "uploads=");
	r.headers[0] = meta;
	r.headers[1] = "x-amz-checksum-algorithm: SHA256";
	r.headers[2] = "Content-Type: application/octet-stream";
	if (s3_request(u->s, &r) < 0)
		goto out;
	if (!r.resp || s3_xml_get(r.resp, "UploadId", id, sizeof(id)) < 0 || !id[0]) {
		bk_err_set("CreateMultipartUpload %s: the answer holds no UploadId", u->key);
		goto out;
	}
	u->upload_id = bk_xstrdup(id);
	if (u->s->multipart_note)
		u->s->multipart_note(u->key, u->upload_id, 1, u->s->multipart_ctx);
	ret = 0;
out:
	s3_req_done(&r);
	return ret;
}

static int upload_part(struct upload *u, unsigned i, CURL *curl)
{
	char hex[BK_SHA256_HEX], b64[48], cs[80];
	char *q = id_query(u, i + 1);
	struct s3_req r;
	int ret = -1;

	to_hex(u->digest[i], hex);
	bk_b64_encode(b64, u->digest[i], 32, 1);
	snprintf(cs, sizeof(cs), "x-amz-checksum-sha256: %s", b64);
	s3_req_init(&r, "PUT", u->key, q);
	r.body_fd = u->fd;
	r.body_off = (unsigned long long)i * u->part;
	r.body_len = part_len(u, i);
	r.sha256 = hex;
	r.headers[0] = cs;
	r.curl = curl;
	if (s3_request(u->s, &r) < 0) {
		bk_err_prefix("part %u of %u", i + 1, u->n);
		goto out;
	}
	if (!r.etag[0]) {
		bk_err_set("part %u of %u: the store answered without an ETag", i + 1, u->n);
		goto out;
	}
	u->etag[i] = bk_xstrdup(r.etag);
	ret = 0;
out:
	s3_req_done(&r);
	free(q);
	return ret;
}

/* The CompleteMultipartUpload document; ETags are quoted, escape them. */
static char *complete_xml(const struct upload *u)
{
	size_t cap = 128 + (size_t)u->n * 256, len = 0;
	char *x = bk_xmalloc(cap);

	len += (size_t)snprintf(x, cap, "<CompleteMultipartUpload>");
	for (unsigned i = 0; i < u->n; i++) {
		char b64[48], etag[200];
		size_t o = 0;

		bk_b64_encode(b64, u->digest[i], 32, 1);
		for (const char *p = u->etag[i]; *p && o + 7 < sizeof(etag); p++) {
			if (*p == '"') {
				memcpy(etag + o, "&quot;", 6);
				o += 6;
			} else if (*p != '<' && *p != '>' && *p != '&') {
				etag[o++] = *p;
			}
		}
		etag[o] = '\0';
		len += (size_t)snprintf(x + len, cap - len,
					"<Part><ChecksumSHA256>%s</ChecksumSHA256><ETag>%s</ETag>"
					"<PartNumber>%u</PartNumber></Part>", b64, etag, i + 1);
	}
	snprintf(x + len, cap - len, "</CompleteMultipartUpload>");
	return x;
}

static int complete_upload(struct upload *u)
{
	char *xml = complete_xml(u), *q = id_query(u, 0), hex[BK_SHA256_HEX], code[128];
	struct bk_sha256 *h = bk_sha256_new();
	struct s3_req r;
	int ret = -1;

	if (!h)
		goto out;
	bk_sha256_update(h, xml, strlen(xml));
	bk_sha256_final(h, hex);
	s3_req_init(&r, "POST", u->key, q);
	r.body_mem = xml;
	r.body_len = strlen(xml);
	r.sha256 = hex;
	r.headers[0] = "Content-Type: application/xml";
	if (s3_request(u->s, &r) < 0) {
		bk_err_prefix("CompleteMultipartUpload");
	} else if (r.resp && strstr(r.resp, "<Error>")) {
		/* S3 may answer 200 and still fail: the error is in the body */
		s3_xml_get(r.resp, "Code", code, sizeof(code));
		bk_err_set("CompleteMultipartUpload %s: %s", u->key, code[0] ? code : "failed");
	} else {
		ret = 0;
	}
	s3_req_done(&r);
out:
	bk_sha256_free(h);
	free(xml);
	free(q);
	return ret;
}

/* AbortMultipartUpload, so no parts are left to bill; the first error is kept. */
int bk_s3_abort_multipart(const struct bk_s3 *s, const char *key, const char *upload_id)
{
	char *id = bk_s3_uri_encode(upload_id, 0), *q = bk_asprintf("uploadId=%s", id);
	struct s3_req r;
	int ret;

	s3_req_init(&r, "DELETE", key, q);
	ret = s3_request(s, &r);
	/* aborted or completed already: nothing of it is left to bill */
	if (ret < 0 && r.status == 404)
		ret = 0;
	s3_req_done(&r);
	free(q);
	free(id);
	return ret;
}

static void abort_upload(struct upload *u)
{
	char *saved = bk_xstrdup(bk_err()), *hint = bk_xstrdup(bk_err_hint_text());

	if (bk_s3_abort_multipart(u->s, u->key, u->upload_id) < 0) {
		bk_warn("cannot abort the multipart upload of %s (its parts stay in the bucket "
			"until the next upload aborts it, or a lifecycle rule): %s", u->key,
			bk_err());
	} else {
		bk_info("multipart upload of %s aborted: no parts left in the bucket", u->key);
		if (u->s->multipart_note)
			u->s->multipart_note(u->key, u->upload_id, 0, u->s->multipart_ctx);
	}
	bk_err_set("%s", saved);
	if (*hint)
		bk_err_hint("%s", hint);
	free(saved);
	free(hint);
}

/* With mu held: keep this thread's error if it is the first; the others stop. */
static void part_failed(struct upload *u)
{
	if (u->fail_msg)
		return;
	u->fail_msg = bk_xstrdup(bk_err());
	u->fail_hint = bk_xstrdup(bk_err_hint_text());
}

/* A worker: the next part not taken, until none is left or one failed. Its
 * own curl handle keeps its connection from one part to the next. */
static void *part_worker(void *arg)
{
	struct upload *u = arg;
	CURL *curl = curl_easy_init();

	pthread_mutex_lock(&u->mu);
	if (!curl) {
		bk_err_set("cannot start libcurl for a part upload");
		part_failed(u);
	}
	while (!u->fail_msg && u->next < u->n) {
		unsigned i = u->next++;
		int rc;

		pthread_mutex_unlock(&u->mu);
		rc = upload_part(u, i, curl);
		pthread_mutex_lock(&u->mu);
		if (rc < 0)
			part_failed(u);
		else
			u->sent += part_len(u, i);
		pthread_cond_signal(&u->changed);
	}
	u->running--;
	pthread_cond_signal(&u->changed);
	pthread_mutex_unlock(&u->mu);
	curl_easy_cleanup(curl);
	return NULL;
}

/* BK_S3_PARALLEL, or fewer when there are fewer parts. */
static unsigned workers_for(const struct upload *u)
{
	return u->n < BK_S3_PARALLEL ? u->n : BK_S3_PARALLEL;
}

/* Start the workers, with mu held; signals stay with this thread. How many
 * run (fewer when threads are short, 0 when none could). */
static unsigned start_workers(struct upload *u, pthread_t *t)
{
	unsigned want = workers_for(u), started = 0;
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	while (started < want && pthread_create(&t[started], NULL, part_worker, u) == 0)
		started++;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	u->running = started;
	return started;
}

/*
 * Every part, BK_S3_PARALLEL at a time, in the order of their numbers. This
 * thread only waits and reports: progress comes from one thread, so the
 * bytes it shows only grow. After a failure the workers take no new part,
 * those in flight end, and the first failure is the error.
 */
static int send_parts(struct upload *u)
{
	pthread_t t[BK_S3_PARALLEL];
	unsigned long long shown = 0;
	unsigned started;

	pthread_mutex_lock(&u->mu);
	started = start_workers(u, t);
	if (!started) {
		pthread_mutex_unlock(&u->mu);
		return bk_err_set("cannot start a thread to upload the parts");
	}
	while (u->running || u->sent > shown) {
		if (u->sent > shown) {
			shown = u->sent;
			pthread_mutex_unlock(&u->mu);
			report(u, shown);
			pthread_mutex_lock(&u->mu);
		} else {
			pthread_cond_wait(&u->changed, &u->mu);
		}
	}
	pthread_mutex_unlock(&u->mu);
	for (unsigned i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	if (!u->fail_msg)
		return 0;
	bk_err_set("%s", u->fail_msg);
	if (*u->fail_hint)
		bk_err_hint("%s", u->fail_hint);
	return -1;
}

static int put_multipart(struct upload *u)
{
	u->etag = calloc(u->n, sizeof(*u->etag));
	if (!u->etag)
		return bk_err_set("out of memory");
	if (create_upload(u) < 0)
		return -1;
	bk_info("multipart upload of %s: %u parts of %llu bytes, %u at a time (upload id %s)",
		u->key, u->n, u->part, workers_for(u), u->upload_id);
	if (send_parts(u) == 0 && complete_upload(u) == 0) {
		if (u->s->multipart_note)
			u->s->multipart_note(u->key, u->upload_id, 0, u->s->multipart_ctx);
		return 0;
	}
	abort_upload(u);
	return -1;
}

/* HEAD: the store holds as many bytes as the file, with its SHA-256. */
static int confirm(struct upload *u, struct bk_s3_stat *out)
{
	struct bk_s3_stat st;
	int rc = bk_s3_head(u->s, u->key, &st);

	if (rc == 1)
		return bk_err_set("HEAD %s: the object is not there after its upload", u->key);
	if (rc < 0)
		return -1;
	if (st.size != u->size)
		return bk_err_set("HEAD %s: the store holds %llu bytes, the file has %llu", u->key,
				  st.size, u->size);
	if (!st.sha256[0])
		bk_warn("HEAD %s: the store keeps no x-amz-meta-sha256: only the size is confirmed",
			u->key);
	else if (strcmp(st.sha256, u->whole_hex))
		return bk_err_set("HEAD %s: the store records SHA-256 %s, the file has %s", u->key,
				  st.sha256, u->whole_hex);
	if (out)
		*out = st;
	return 0;
}

int bk_s3_put_file(const struct bk_s3 *s, const char *key, const char *path,
		   bk_s3_progress_fn progress, void *ctx, struct bk_s3_stat *out)
{
	struct upload u = { .s = s, .key = key, .fd = -1, .progress = progress, .ctx = ctx };
	struct stat st;
	int ret = -1;

	pthread_mutex_init(&u.mu, NULL);
	pthread_cond_init(&u.changed, NULL);

	u.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (u.fd < 0 || fstat(u.fd, &st) < 0) {
		bk_err_errno("cannot open %s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		bk_err_set("%s: not a regular file", path);
		goto out;
	}
	u.size = (unsigned long long)st.st_size;
	s3_plan_parts(u.size, s->part_size < BK_S3_MIN_PART && !getenv("BK_S3_PART_SIZE")
		      ? BK_S3_MIN_PART : s->part_size, &u.part, &u.n);
	u.digest = calloc(u.n, sizeof(*u.digest));
	if (!u.digest) {
		bk_err_set("out of memory");
		goto out;
	}
	if (hash_file(&u, path) < 0)
		goto out;
	u.t0 = bk_monotonic();	/* the rate is the upload's, not the hashing's */
	if ((u.n == 1 ? put_single(&u) : put_multipart(&u)) < 0 || confirm(&u, out) < 0)
		goto out;
	if (out)
		snprintf(out->sha256, sizeof(out->sha256), "%s", u.whole_hex);
	ret = 0;
out:
	if (u.etag)
		for (unsigned i = 0; i < u.n; i++)
			free(u.etag[i]);
	free(u.etag);
	free(u.digest);
	free(u.upload_id);
	free(u.fail_msg);
	free(u.fail_hint);
	if (u.fd >= 0)
		close(u.fd);
	pthread_cond_destroy(&u.changed);
	pthread_mutex_destroy(&u.mu);
	return ret;
}
