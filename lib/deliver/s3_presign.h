/*
 * S3 presigned GET URLs (AWS Signature Version 4 in the query string), so a
 * mail can carry a link to the off-site copy that outlives the host that sent
 * it. Signed with HMAC-SHA-256 from libcrypto; only the host header is signed
 * and the payload is UNSIGNED-PAYLOAD, as S3 requires for query signing.
 */
#ifndef BK_S3_PRESIGN_H
#define BK_S3_PRESIGN_H

/* S3 refuses X-Amz-Expires above seven days. */
#define BK_S3_PRESIGN_MAX_SECONDS 604800L

struct bk_s3_presign {
	const char *endpoint;	/* "https://host[:port]" or "http://...", no path */
	const char *region;	/* "us-east-1" */
	const char *bucket;
	const char *key;	/* the object key as stored, not encoded */
	const char *access_key;
	const char *secret_key;
	int path_style;		/* 1: endpoint/bucket/key; 0: bucket.host/key */
	long long now;		/* unix seconds: X-Amz-Date */
	long expires;		/* seconds the link works, 1..BK_S3_PRESIGN_MAX_SECONDS */
};

/*
 * The presigned GET URL of p->key. Caller frees; NULL with the error slot set
 * (an endpoint that is not http(s)://host, an expiry out of range, a bucket
 * name unusable as a host name label without path style).
 */
char *bk_s3_presign_get(const struct bk_s3_presign *p);

/*
 * RFC 3986 encoding as SigV4 wants it: every byte but A-Z a-z 0-9 - . _ ~
 * becomes %XX (upper case); '/' is kept when keep_slash. Caller frees.
 */
char *bk_s3_uri_encode(const char *s, int keep_slash);

#endif
