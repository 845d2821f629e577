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

struct bk_s3;

/*
 * The presigned GET URL of key in s's bucket (bk_s3_url's form, path or
 * virtual-host style), signed at now (unix seconds: X-Amz-Date) and valid for
 * expires seconds (1..BK_S3_PRESIGN_MAX_SECONDS). Caller frees; NULL with the
 * error slot set (an expiry out of range, a bucket name unusable as a host
 * name label without path style).
 */
char *bk_s3_presign_get(const struct bk_s3 *s, const char *key, long long now, long expires);

#endif
