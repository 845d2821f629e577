/* nginx secure_link download links (see link.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "config.h"
#include "err.h"
#include "fs.h"
#include "link.h"
#include "mime.h"
#include "s3.h"
#include "s3_presign.h"

static int unreserved(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* Start of the path in an http(s) URL, or NULL when it is not one we accept. */
static const char *url_path(const char *base)
{
	const char *host, *p;

	if (!strncmp(base, "https://", 8))
		host = base + 8;
	else if (!strncmp(base, "http://", 7))
		host = base + 7;
	else
		return NULL;
	p = host + strcspn(host, "/");
	if (p == host)
		return NULL;
	for (const char *q = host; q < p; q++)
		if (!(unreserved((unsigned char)*q) || *q == ':' || *q == '[' || *q == ']'))
			return NULL;
	return p;
}

int bk_link_check(const char *base, const char *secret, const char *base_var,
		  const char *secret_var)
{
	const char *path = url_path(base);
	char shown[201];
	size_t n;

	if (!path) {
		bk_err_set("%s: '%s' is not an http:// or https:// URL with a host name",
			   base_var, bk_mime_printable(shown, sizeof(shown), base));
		bk_err_hint("for example %s=https://backup.example.com/backups/", base_var);
		return -1;
	}
	for (const char *p = path; *p; p++) {
		if (!(unreserved((unsigned char)*p) || *p == '/'))
			return bk_err_set("%s: the path may only hold letters, digits and - . _ ~ /",
					  base_var);
	}
	if (strstr(path, "//") || strstr(path, "/./") || strstr(path, "/../"))
		return bk_err_set("%s: the path must be in normal form (no //, ./ or ../)", base_var);
	if (!secret) {
		bk_err_set("%s is not set, but %s is", secret_var, base_var);
		bk_err_hint("generate one with: openssl rand -hex 32; and put it in the nginx "
			    "secure_link_md5 line too");
		return -1;
	}
	n = strlen(secret);
	for (const char *p = secret; *p; p++) {
		if (!(unreserved((unsigned char)*p) || *p == '+' || *p == '/' || *p == '=')) {
			bk_err_set("%s: only letters, digits and . _ ~ + / = - may be used", secret_var);
			bk_err_hint("generate one with: openssl rand -hex 32");
			return -1;
		}
	}
	if (n < 16 || n > 256) {
		bk_err_set("%s: must be 16 to 256 characters long (it is %zu)", secret_var, n);
		bk_err_hint("generate one with: openssl rand -hex 32");
		return -1;
	}
	return 0;
}

char *bk_link_make(const char *base, const char *secret, const char *name, long long expires)
{
	const char *path = url_path(base);
	const char *sep = base[strlen(base) - 1] == '/' ? "" : "/";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char md_b64[32], *uri, *input, *url, *enc, *e;

	if (!path || !*name || strchr(name, '/')) {
		bk_err_set("cannot make a link to '%s' under '%s'", name, base);
		return NULL;
	}
	/* nginx's $uri is the decoded path: the name as it is. */
	uri = bk_asprintf("%s%s%s", path, sep, name);
	input = bk_asprintf("%lld%s %s", expires, uri, secret);
	if (!EVP_Digest(input, strlen(input), md, &md_len, EVP_md5(), NULL)) {
		bk_err_set("cannot compute MD5 for the download link");
		explicit_bzero(input, strlen(input));
		free(input);
		free(uri);
		return NULL;
	}
	explicit_bzero(input, strlen(input));
	free(input);
	bk_mime_base64(md, md_len, md_b64, 1);

	enc = e = bk_xmalloc(3 * strlen(name) + 1);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (unreserved(*p))
			*e++ = (char)*p;
		else
			e += sprintf(e, "%%%02X", *p);
	}
	*e = '\0';
	url = bk_asprintf("%s%s%s?md5=%s&expires=%lld", base, sep, enc, md_b64, expires);
	free(enc);
	free(uri);
	return url;
}

int bk_link_configured(void)
{
	return bk_s3_configured() || bk_config.link_base != NULL;
}

/* A presigned link lives BACKUP_LINK_TTL_HOURS, at most S3's 7 days. */
static long s3_ttl(void)
{
	long ttl = (long)bk_config.link_ttl_hours * 3600;

	return ttl > BK_S3_PRESIGN_MAX_SECONDS ? BK_S3_PRESIGN_MAX_SECONDS : ttl;
}

static char *s3_link(const char *name, long long now, long long *expires)
{
	long ttl = s3_ttl();
	struct bk_s3 s;
	char *key, *url;

	if (bk_s3_open(&s) < 0)
		return NULL;
	key = bk_s3_key(&s, name);
	url = bk_s3_presign_get(&s, key, now, ttl);
	*expires = now + ttl;
	free(key);
	bk_s3_close(&s);
	return url;
}

char *bk_link_describe(void)
{
	struct bk_s3 s;
	char *where, *text;

	if (!bk_s3_configured())
		return bk_config.link_base ?
		       bk_asprintf("link under %s (valid %d h)", bk_config.link_base,
				   bk_config.link_ttl_hours) :
		       bk_xstrdup("path on the backup host (BACKUP_S3_URL and BACKUP_LINK_BASE "
				  "not set)");
	if (bk_s3_open(&s) < 0)
		return bk_asprintf("presigned S3 link (%s)", bk_err());
	where = bk_s3_display(&s, s.prefix);
	text = bk_asprintf("presigned S3 link to %s (valid %ld h)", where, s3_ttl() / 3600);
	free(where);
	bk_s3_close(&s);
	return text;
}

char *bk_link_for(const char *name, long long now, long long *expires)
{
	if (bk_s3_configured())
		return s3_link(name, now, expires);
	*expires = now + (long long)bk_config.link_ttl_hours * 3600;
	return bk_link_make(bk_config.link_base, bk_config.link_secret, name, *expires);
}
