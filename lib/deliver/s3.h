/*
 * S3-compatible object storage (AWS S3, Cloudflare R2, Backblaze B2, MinIO,
 * Ceph RGW...) through libcurl's AWS Signature V4 (CURLOPT_AWS_SIGV4). Every
 * request carries x-amz-content-sha256 = the hex SHA-256 of its body (never
 * UNSIGNED-PAYLOAD), so the store refuses altered bytes; uploads also carry
 * x-amz-checksum-sha256 (base64) and the whole file's digest as metadata
 * x-amz-meta-sha256, which bk_s3_head() reads back. TLS is always verified
 * (BACKUP_S3_CA_FILE for a private CA); plain http only to a loopback endpoint.
 * Bodies are streamed from and to file descriptors: constant memory.
 *
 * Errors: -1 with "STATUS Code: what to check" in the error slot, e.g.
 *   "PUT s3://bucket/key: 403 SignatureDoesNotMatch: check AWS_SECRET_ACCESS_KEY"
 *   "cannot connect to S3 endpoint http://127.0.0.1:9000: Couldn't connect to server"
 * Transient failures (connection, timeouts, 5xx, 429, RequestTimeout) are
 * retried BK_S3_ATTEMPTS times with growing pauses; 4xx answers are not.
 * Secrets (AWS_SECRET_ACCESS_KEY) never reach a message or the log.
 */
#ifndef BK_S3_H
#define BK_S3_H

#include <time.h>

#define BK_S3_ATTEMPTS 3
#define BK_S3_MAX_PARTS 10000
#define BK_S3_PARALLEL 4	/* parts of a multipart upload sent at a time */
#define BK_S3_MIN_PART (5ULL << 20)	/* S3's smallest part but the last */
#define BK_S3_MAX_KEY 1024

/* A multipart upload begins (started 1: its parts are billed until it
 * completes or is aborted) or is over, completed or aborted (started 0). A
 * caller remembers it, so that what a killed run leaves can be aborted. */
typedef void (*bk_s3_multipart_fn)(const char *key, const char *upload_id, int started,
				   void *ctx);

/* Where and how to talk to the store; filled by bk_s3_open(). */
struct bk_s3 {
	char *endpoint;		/* scheme://host[:port], no trailing slash */
	char *bucket;
	char *prefix;		/* "" or "some/dir/" (always ending in '/') */
	const char *region;
	const char *access_key, *secret_key;	/* owned by the config */
	const char *session_token;	/* AWS_SESSION_TOKEN (temporary credentials) or NULL */
	const char *ca_file;	/* NULL: the system's CAs */
	int path_style;		/* 1: ENDPOINT/BUCKET/KEY; 0: BUCKET.HOST/KEY */
	unsigned long long part_size;	/* bytes; multipart above this size */
	bk_s3_multipart_fn multipart_note;	/* NULL, or told of each multipart upload */
	void *multipart_ctx;
};

/* What HEAD says about an object (and what a put confirmed). */
struct bk_s3_stat {
	unsigned long long size;
	char sha256[65];	/* x-amz-meta-sha256 (hex), "" when the object has none */
	char etag[80];
	time_t mtime;		/* 0 when unknown */
};

/* One object of a listing: key is the full key (prefix included). */
struct bk_s3_object {
	const char *key;
	unsigned long long size;
	time_t mtime;		/* LastModified, 0 when unknown */
	const char *etag;
};

/* Upload progress: called in the caller's thread as parts are done (and
 * once for a single PUT); done only grows. */
typedef void (*bk_s3_progress_fn)(unsigned long long done, unsigned long long total,
				  double seconds, void *ctx);

/* Is S3 configured (BACKUP_S3_URL set)? */
int bk_s3_configured(void);
/* With BACKUP_S3_URL set, are both keys there? 0, or -1 naming the missing
 * variable (a configuration error: exit 2). bk_s3_open() checks it too. */
int bk_s3_config_check(void);
/* Fill s from bk_config (BACKUP_S3_*, AWS_*); -1 with the slot set when S3 is
 * not configured or libcurl cannot start. bk_s3_close() frees what it holds. */
int bk_s3_open(struct bk_s3 *s);
void bk_s3_close(struct bk_s3 *s);

/* prefix + name: the key an archive called name has (caller frees). */
char *bk_s3_key(const struct bk_s3 *s, const char *name);
/* The URL of key (percent-encoded per RFC 3986 as SigV4 wants, '/' kept),
 * path-style or virtual-host style; query appended after '?' when not NULL
 * (it must already be canonical: sorted, encoded). Caller frees. */
char *bk_s3_url(const struct bk_s3 *s, const char *key, const char *query);
/* The Host header value the URL above implies (caller frees): for presigning. */
char *bk_s3_host(const struct bk_s3 *s);
/* Percent-encode s as SigV4 wants (unreserved kept; '/' kept when keep_slash). */
char *bk_s3_uri_encode(const char *s, int keep_slash);
/* "s3://bucket/key" for messages (caller frees). */
char *bk_s3_display(const struct bk_s3 *s, const char *key);

/*
 * Upload the file at path to key: one PUT up to s->part_size, multipart above
 * (equal parts but the last, at most 10,000: the part size grows for huge
 * files; BK_S3_PARALLEL parts at a time, each on its own connection; each
 * part retried; the upload aborted on any failure so no parts remain, the
 * error the first failed part's). Then HEAD confirms size and SHA-256; *out
 * (may be NULL) gets it.
 * progress may be NULL.
 */
int bk_s3_put_file(const struct bk_s3 *s, const char *key, const char *path,
		   bk_s3_progress_fn progress, void *ctx, struct bk_s3_stat *out);
/* AbortMultipartUpload of upload_id on key: 0 (also when the store knows no
 * such upload any more), or -1 with the store's error in the slot. */
int bk_s3_abort_multipart(const struct bk_s3 *s, const char *key, const char *upload_id);
/* HEAD key: 0 and *out filled, 1 when there is no such object, -1 error. */
int bk_s3_head(const struct bk_s3 *s, const char *key, struct bk_s3_stat *out);
/* GET key into fd (from its current position); *bytes (may be NULL) = written. */
int bk_s3_get(const struct bk_s3 *s, const char *key, int fd, unsigned long long *bytes);
/* ListObjectsV2 of every key under prefix (continuation tokens followed): each()
 * for every object, in the store's (lexical) order; each() returning -1 stops
 * the listing and makes it return -1 (its message kept). */
int bk_s3_list(const struct bk_s3 *s, const char *prefix,
	       int (*each)(const struct bk_s3_object *o, void *ctx), void *ctx);
/* DELETE key (no error when it does not exist: S3 answers 204 either way). */
int bk_s3_delete(const struct bk_s3 *s, const char *key);

#endif
