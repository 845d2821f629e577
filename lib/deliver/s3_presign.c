/* S3 presigned GET URLs: SigV4 query-string signing (see s3_presign.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "fs.h"
#include "prim.h"
#include "s3.h"
#include "s3_presign.h"
#include "sha256.h"

/* A bucket that can be the first label of a host name (virtual-host style). */
static int dns_bucket(const char *b)
{
	size_t n = strlen(b);

	if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
		return 0;
	for (const char *p = b; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
	return 1;
}

static void hex(const unsigned char *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* The SigV4 signing key: HMAC chain over date, region, "s3", "aws4_request". */
static int signing_key(unsigned char key[32], const char *secret, const char *day,
		       const char *region)
{
	char *k0 = bk_asprintf("AWS4%s", secret);
	int ret = -1;

	if (bk_hmac_sha256(key, k0, strlen(k0), day, strlen(day)) < 0 ||
	    bk_hmac_sha256(key, key, 32, region, strlen(region)) < 0 ||
	    bk_hmac_sha256(key, key, 32, "s3", 2) < 0 ||
	    bk_hmac_sha256(key, key, 32, "aws4_request", 12) < 0)
		goto out;
	ret = 0;
out:
	bk_wipe(k0, strlen(k0));
	free(k0);
	return ret;
}

static void sha256_hex(const char *s, char out[BK_SHA256_HEX])
{
	struct bk_sha256 *h = bk_sha256_new();

	if (!h) {
		out[0] = '\0';
		return;
	}
	bk_sha256_update(h, s, strlen(s));
	bk_sha256_final(h, out);
	bk_sha256_free(h);
}

char *bk_s3_presign_get(const struct bk_s3 *s, const char *key, long long now, long expires)
{
	char amz_date[17], day[9], hash[BK_SHA256_HEX], sig_hex[65];
	char *host = NULL, *path = NULL, *enc_key = NULL, *cred = NULL, *query = NULL;
	char *canon = NULL, *to_sign = NULL, *signed_query = NULL, *url = NULL, *token = NULL;
	unsigned char key_mac[32], sig[32];
	time_t t = (time_t)now;
	struct tm tm;

	if (expires < 1 || expires > BK_S3_PRESIGN_MAX_SECONDS) {
		bk_err_set("a presigned link must expire within 1..%ld seconds (not %ld)",
			   BK_S3_PRESIGN_MAX_SECONDS, expires);
		return NULL;
	}
	if (!s->path_style && !dns_bucket(s->bucket)) {
		bk_err_set("bucket '%s' cannot be a host name: virtual-host style needs "
			   "3..63 of a-z 0-9 -", s->bucket);
		bk_err_hint("set BACKUP_S3_PATH_STYLE=1");
		return NULL;
	}
	gmtime_r(&t, &tm);
	strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
	memcpy(day, amz_date, 8);
	day[8] = '\0';

	/* The path and host bk_s3_url() puts in the URL. */
	host = bk_s3_host(s);
	enc_key = bk_s3_uri_encode(key, 1);
	if (s->path_style)
		path = bk_asprintf("/%s/%s", s->bucket, enc_key);
	else
		path = bk_asprintf("/%s", enc_key);
	{
		char *c = bk_asprintf("%s/%s/%s/s3/aws4_request", s->access_key, day, s->region);

		cred = bk_s3_uri_encode(c, 0);
		free(c);
	}
	/* Parameters in byte order of their names, as the canonical form wants;
	 * temporary credentials add their token (signed with the rest). */
	if (s->session_token)
		token = bk_s3_uri_encode(s->session_token, 0);
	query = bk_asprintf("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s"
			    "&X-Amz-Date=%s&X-Amz-Expires=%ld%s%s&X-Amz-SignedHeaders=host",
			    cred, amz_date, expires, token ? "&X-Amz-Security-Token=" : "",
			    token ? token : "");
	canon = bk_asprintf("GET\n%s\n%s\nhost:%s\n\nhost\nUNSIGNED-PAYLOAD", path, query, host);
	sha256_hex(canon, hash);
	to_sign = bk_asprintf("AWS4-HMAC-SHA256\n%s\n%s/%s/s3/aws4_request\n%s", amz_date, day,
			      s->region, hash);
	if (!hash[0] || signing_key(key_mac, s->secret_key, day, s->region) < 0 ||
	    bk_hmac_sha256(sig, key_mac, sizeof(key_mac), to_sign, strlen(to_sign)) < 0) {
		bk_err_prefix("cannot sign the S3 link");
		goto out;
	}
	hex(sig, sizeof(sig), sig_hex);
	signed_query = bk_asprintf("%s&X-Amz-Signature=%s", query, sig_hex);
	url = bk_s3_url(s, key, signed_query);
out:
	bk_wipe(key_mac, sizeof(key_mac));
	free(host);
	free(path);
	free(enc_key);
	free(cred);
	free(token);
	free(query);
	free(canon);
	free(to_sign);
	free(signed_query);
	return url;
}
