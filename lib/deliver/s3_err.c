/* What went wrong with an S3 request, as the message and hint bk shows:
 * the store's XML <Code> and HTTP status, or libcurl's error and the endpoint;
 * and whether trying again may help. */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "log.h"
#include "s3_int.h"

static const char *hint_for_code(const char *code)
{
	static const struct {
		const char *code, *hint;
	} hints[] = {
		{ "SignatureDoesNotMatch", "check AWS_SECRET_ACCESS_KEY" },
		{ "InvalidAccessKeyId", "check AWS_ACCESS_KEY_ID" },
		{ "NoSuchBucket", "check the bucket in BACKUP_S3_URL (and BACKUP_S3_ENDPOINT)" },
		{ "AccessDenied", "the key may not do this here: check its policy for the "
				  "bucket and prefix of BACKUP_S3_URL" },
		{ "AuthorizationHeaderMalformed", "check BACKUP_S3_REGION" },
		{ "PermanentRedirect", "the bucket is in another region: check BACKUP_S3_REGION "
				       "and BACKUP_S3_ENDPOINT" },
		{ "RequestTimeTooSkewed", "check this host's clock (NTP)" },
		{ "XAmzContentSHA256Mismatch", "the bytes changed on the way: check the network "
					       "or a proxy between" },
		{ "BadDigest", "the bytes changed on the way: check the network" },
		{ "InvalidBucketName", "check the bucket in BACKUP_S3_URL" },
		{ "ExpiredToken", "the temporary credentials expired: renew AWS_ACCESS_KEY_ID, "
				  "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN" },
		{ "InvalidToken", "check AWS_SESSION_TOKEN (it belongs with the temporary keys)" },
	};

	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (!strcmp(code, hints[i].code))
			return hints[i].hint;
	return NULL;
}

static const char *hint_for_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
		return "the store's certificate is not trusted or does not match the host; for a "
		       "private CA set BACKUP_S3_CA_FILE";
	case CURLE_READ_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
		return "the local file changed or could not be read during the upload";
	default:
		return "check BACKUP_S3_ENDPOINT and that the store is reachable from this host";
	}
}

int s3_transient(int rc, long status, const char *code)
{
	if (rc == CURLE_WRITE_ERROR || rc == CURLE_READ_ERROR || rc == CURLE_ABORTED_BY_CALLBACK ||
	    rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_PEER_FAILED_VERIFICATION ||
	    rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
		return 0;
	if (rc != CURLE_OK)
		return 1;
	return status >= 500 || status == 429 || status == 408 || !strcmp(code, "RequestTimeout") ||
	       !strcmp(code, "SlowDown");
}

void s3_describe(const struct bk_s3 *s, const struct s3_req *r, int rc,
		     const char *errbuf, char *why, size_t size, const char **hint)
{
	char raw_code[64] = "", raw_msg[128] = "", code[128], msg[256];

	if (rc != CURLE_OK) {
		if (r->failed_write)
			snprintf(why, size, "cannot write the download: %s", strerror(r->failed_write));
		else
			snprintf(why, size, "cannot reach S3 endpoint %s: %s", s->endpoint,
				 errbuf[0] ? errbuf : curl_easy_strerror(rc));
		*hint = r->failed_write ? NULL : hint_for_curl(rc);
		return;
	}
	if (r->resp) {
		s3_xml_get(r->resp, "Code", raw_code, sizeof(raw_code));
		s3_xml_get(r->resp, "Message", raw_msg, sizeof(raw_msg));
	}
	bk_escape_controls(raw_code, code, sizeof(code));
	bk_escape_controls(raw_msg, msg, sizeof(msg));
	*hint = code[0] ? hint_for_code(code) : NULL;
	if (!code[0] && r->status == 403)
		*hint = "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
	if (!code[0] && r->status == 404)
		*hint = "check the bucket in BACKUP_S3_URL";
	snprintf(why, size, "%ld %s%s%s%s%s", r->status, code[0] ? code : "(no error code)",
		 msg[0] ? " (" : "", msg, msg[0] ? ")" : "",
		 *hint ? ": " : "");
	if (*hint)
		snprintf(why + strlen(why), size - strlen(why), "%s", *hint);
}
