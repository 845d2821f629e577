/* S3 requests through libcurl's SigV4 (see s3.h): set-up, URLs, one request
 * with retries and the store's error as a message, HEAD, GET, DELETE. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "s3_int.h"
#include "curlopt.h"
#include "prim.h"

#define S3_CONNECT_TIMEOUT 20L
#define S3_LOW_SPEED_TIME 120L	/* a transfer stalled this long (< 1 KB/s) fails */

int bk_s3_configured(void)
{
	return bk_config.s3_url != NULL;
}

int bk_s3_config_check(void)
{
	const struct bk_config *c = &bk_config;

	if (!c->s3_url)
		return 0;
	if (!c->s3_access_key)
		return bk_err_set("AWS_ACCESS_KEY_ID: not set (BACKUP_S3_URL needs a key)");
	if (!c->s3_secret_key)
		return bk_err_set("AWS_SECRET_ACCESS_KEY: not set (BACKUP_S3_URL needs a key)");
	return 0;
}

int bk_s3_open(struct bk_s3 *s)
{
	static int curl_ready;
	const struct bk_config *c = &bk_config;
	const char *knob = getenv("BK_S3_PART_SIZE");	/* tests: bytes */

	memset(s, 0, sizeof(*s));
	if (!c->s3_url)
		return bk_err_set("off-site copies are not configured (BACKUP_S3_URL is not set)");
	if (bk_s3_config_check() < 0)
		return -1;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return bk_err_set("cannot initialise libcurl");
		curl_ready = 1;
	}
	s->endpoint = bk_xstrdup(c->s3_endpoint);
	s->bucket = bk_xstrdup(c->s3_bucket);
	s->prefix = bk_xstrdup(c->s3_prefix);
	s->region = c->s3_region;
	s->access_key = c->s3_access_key;
	s->secret_key = c->s3_secret_key;
	s->session_token = c->s3_session_token;
	s->ca_file = c->s3_ca_file;
	s->path_style = c->s3_path_style;
	s->part_size = (unsigned long long)c->s3_part_size_mb << 20;
	if (knob && atoll(knob) > 0)
		s->part_size = (unsigned long long)atoll(knob);
	return 0;
}

void bk_s3_close(struct bk_s3 *s)
{
	free(s->endpoint);
	free(s->bucket);
	free(s->prefix);
	memset(s, 0, sizeof(*s));
}

char *bk_s3_key(const struct bk_s3 *s, const char *name)
{
	return bk_asprintf("%s%s", s->prefix, name);
}

char *bk_s3_uri_encode(const char *in, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = bk_xmalloc(3 * strlen(in) + 1), *o = out;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' ||
		    *p == '~' || (keep_slash && *p == '/')) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

/* "https://" or "http://" and what follows it. */
static const char *after_scheme(const char *endpoint, size_t *scheme_len)
{
	const char *p = strstr(endpoint, "://");

	*scheme_len = p ? (size_t)(p - endpoint) + 3 : 0;
	return endpoint + *scheme_len;
}

char *bk_s3_host(const struct bk_s3 *s)
{
	size_t n;
	const char *host = after_scheme(s->endpoint, &n);

	if (s->path_style)
		return bk_xstrdup(host);
	return bk_asprintf("%s.%s", s->bucket, host);
}

char *bk_s3_url(const struct bk_s3 *s, const char *key, const char *query)
{
	size_t n;
	const char *host = after_scheme(s->endpoint, &n);
	char *k = bk_s3_uri_encode(key ? key : "", 1), *url;

	if (s->path_style)
		url = bk_asprintf("%s/%s/%s%s%s", s->endpoint, s->bucket, k, query ? "?" : "",
				  query ? query : "");
	else
		url = bk_asprintf("%.*s%s.%s/%s%s%s", (int)n, s->endpoint, s->bucket, host, k,
				  query ? "?" : "", query ? query : "");
	free(k);
	return url;
}

char *bk_s3_display(const struct bk_s3 *s, const char *key)
{
	char esc[2 * BK_S3_MAX_KEY];

	bk_escape_controls(key ? key : "", esc, sizeof(esc));
	return bk_asprintf("s3://%s/%s", s->bucket, esc);
}

void s3_req_init(struct s3_req *r, const char *method, const char *key, const char *query)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->key = key;
	r->query = query;
	r->body_fd = -1;
	r->out_fd = -1;
}

void s3_req_done(struct s3_req *r)
{
	free(r->resp);
	r->resp = NULL;
	r->resp_len = 0;
}

void s3_retry_pause(int i)
{
	const char *knob = getenv("BK_S3_RETRY_DELAY_MS");
	long ms = knob && *knob ? atol(knob) * i : 5000L * i;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- one attempt ---- */

static size_t read_cb(char *buf, size_t size, size_t nitems, void *data)
{
	struct s3_req *r = data;
	unsigned long long left = r->body_len - r->pos;
	size_t n = size * nitems;
	ssize_t got;

	if (n > left)
		n = (size_t)left;
	if (!n)
		return 0;
	if (r->body_fd < 0) {
		memcpy(buf, r->body_mem + r->pos, n);
		r->pos += n;
		return n;
	}
	do
		got = pread(r->body_fd, buf, n, (off_t)(r->body_off + r->pos));
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return CURL_READFUNC_ABORT;	/* the file shrank or cannot be read */
	r->pos += (unsigned long long)got;
	return (size_t)got;
}

/* The body goes to out_fd only for a 2xx answer; an error's XML is kept. */
static size_t write_cb(char *data, size_t size, size_t nmemb, void *user)
{
	struct s3_req *r = user;
	size_t n = size * nmemb;

	if (r->out_fd >= 0 && r->status >= 200 && r->status < 300) {
		if (bk_write_all(r->out_fd, data, n) < 0) {
			r->failed_write = errno ? errno : EIO;
			return 0;
		}
		r->written += n;
		return n;
	}
	if (r->resp_len + n > S3_RESP_MAX)
		return 0;
	r->resp = realloc(r->resp, r->resp_len + n + 1);
	if (!r->resp)
		return 0;
	memcpy(r->resp + r->resp_len, data, n);
	r->resp_len += n;
	r->resp[r->resp_len] = '\0';
	return n;
}

/* Copy the value of header "name:" from line into out, trimmed. */
static int header_value(const char *line, size_t n, const char *name, char *out, size_t size)
{
	size_t k = strlen(name), v;

	if (n <= k || strncasecmp(line, name, k) || line[k] != ':')
		return 0;
	line += k + 1;
	n -= k + 1;
	while (n > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n' || line[n - 1] == ' '))
		n--;
	v = n < size - 1 ? n : size - 1;
	memcpy(out, line, v);
	out[v] = '\0';
	return 1;
}

static size_t header_cb(char *line, size_t size, size_t nitems, void *user)
{
	struct s3_req *r = user;
	size_t n = size * nitems;
	char num[32];

	if (n > 5 && !strncmp(line, "HTTP/", 5)) {
		const char *sp = memchr(line, ' ', n);

		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		r->etag[0] = r->meta_sha256[0] = r->last_modified[0] = '\0';
		return n;
	}
	if (header_value(line, n, "Content-Length", num, sizeof(num)))
		r->length = strtoull(num, NULL, 10);
	else if (!header_value(line, n, "ETag", r->etag, sizeof(r->etag)) &&
		 !header_value(line, n, "x-amz-meta-sha256", r->meta_sha256,
			       sizeof(r->meta_sha256)))
		header_value(line, n, "Last-Modified", r->last_modified, sizeof(r->last_modified));
	return n;
}

static struct curl_slist *request_headers(const struct s3_req *r, const char *token)
{
	struct curl_slist *h = NULL, *t;
	char line[128];

	snprintf(line, sizeof(line), "x-amz-content-sha256: %s",
		 r->sha256 ? r->sha256 : S3_EMPTY_SHA256);
	if (!(h = curl_slist_append(h, line)))
		return NULL;
	/* (no "Expect:" line to save the 100-continue round trip: libcurl 7.88
	 * signs every header it is given, also one it then leaves out) */
	for (int i = 0; i < 6 && r->headers[i]; i++) {
		if (!(t = curl_slist_append(h, r->headers[i])))
			goto oom;
		h = t;
	}
	if (token) {	/* temporary credentials: signed with the rest (x-amz-*) */
		char *tl = bk_asprintf("x-amz-security-token: %s", token);

		t = curl_slist_append(h, tl);
		bk_wipe(tl, strlen(tl));
		free(tl);
		if (!t)
			goto oom;
		h = t;
	}
	return h;
oom:
	curl_slist_free_all(h);
	return NULL;
}

static void set_body(CURL *h, struct s3_req *r)
{
	r->pos = 0;
	if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(r->method, "PUT")) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
	} else if (!strcmp(r->method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_READDATA, r);
}

static CURLcode attempt(const struct bk_s3 *s, struct s3_req *r, char *errbuf)
{
	char sigv4[80];
	char *url = bk_s3_url(s, r->key, r->query);
	struct curl_slist *hdrs = request_headers(r, s->session_token);
	CURL *h = r->curl ? r->curl : curl_easy_init();
	CURLcode rc = CURLE_OUT_OF_MEMORY;

	errbuf[0] = '\0';
	r->status = 0;
	r->written = 0;
	r->failed_write = 0;
	r->length = 0;
	s3_req_done(r);
	if (!h || !hdrs)
		goto out;
	snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", s->region);
	curl_easy_setopt(h, CURLOPT_URL, url);
	bk_curl_protocols(h, "http,https", (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
	curl_easy_setopt(h, CURLOPT_USERNAME, s->access_key);
	curl_easy_setopt(h, CURLOPT_PASSWORD, s->secret_key);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (s->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, s->ca_file);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, S3_CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, S3_LOW_SPEED_TIME);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	set_body(h, r);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
out:
	/* a kept handle forgets the options (pointers into this frame), not
	 * its open connection */
	if (h && h == r->curl)
		curl_easy_reset(h);
	else
		curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	free(url);
	return rc;
}

static int attempt_ok(const struct s3_req *r, CURLcode rc)
{
	return rc == CURLE_OK && r->status >= 200 && r->status < 300;
}

int s3_request(const struct bk_s3 *s, struct s3_req *r)
{
	char errbuf[CURL_ERROR_SIZE + 1], why[1024], code[128];
	const char *hint = NULL;
	char *where = bk_s3_display(s, r->key);
	CURLcode rc = CURLE_OK;
	int ret = -1;

	for (int i = 1; i <= BK_S3_ATTEMPTS; i++) {
		rc = attempt(s, r, errbuf);
		if (attempt_ok(r, rc)) {
			ret = 0;
			break;
		}
		/* HEAD of a missing object: an answer, not a failure to retry */
		if (rc == CURLE_OK && r->status == 404 && !strcmp(r->method, "HEAD"))
			break;
		code[0] = '\0';
		if (r->resp)
			s3_xml_get(r->resp, "Code", code, sizeof(code));
		s3_describe(s, r, rc, errbuf, why, sizeof(why), &hint);
		if (i == BK_S3_ATTEMPTS || !s3_transient(rc, r->status, code) ||
		    (r->out_fd >= 0 && r->written > 0)) {
			if (i > 1)
				snprintf(why + strlen(why), sizeof(why) - strlen(why),
					 " (attempt %d of %d)", i, BK_S3_ATTEMPTS);
			break;
		}
		bk_warn("%s %s: attempt %d of %d failed: %s; trying again", r->method, where, i,
			BK_S3_ATTEMPTS, why);
		s3_retry_pause(i);
	}
	if (ret < 0 && !(rc == CURLE_OK && r->status == 404 && !strcmp(r->method, "HEAD"))) {
		bk_err_set("%s %s: %s", r->method, where, why);
		if (hint && rc != CURLE_OK)
			bk_err_hint("%s", hint);
	}
	free(where);
	return ret;
}

/* ---- HEAD, GET, DELETE ---- */

int bk_s3_head(const struct bk_s3 *s, const char *key, struct bk_s3_stat *out)
{
	struct s3_req r;
	int ret;

	s3_req_init(&r, "HEAD", key, NULL);
	ret = s3_request(s, &r);
	if (ret < 0 && r.status == 404 && !strcmp(r.method, "HEAD")) {
		s3_req_done(&r);
		return 1;
	}
	if (ret == 0 && out) {
		memset(out, 0, sizeof(*out));
		out->size = r.length;
		snprintf(out->sha256, sizeof(out->sha256), "%s", r.meta_sha256);
		snprintf(out->etag, sizeof(out->etag), "%s", r.etag);
		out->mtime = (time_t)s3_parse_time(r.last_modified);
	}
	s3_req_done(&r);
	return ret;
}

int bk_s3_get(const struct bk_s3 *s, const char *key, int fd, unsigned long long *bytes)
{
	struct s3_req r;
	int ret;

	s3_req_init(&r, "GET", key, NULL);
	r.out_fd = fd;
	ret = s3_request(s, &r);
	if (ret == 0 && r.length && r.written != r.length)
		ret = bk_err_set("GET s3://%s/%s: %llu of %llu bytes arrived", s->bucket, key,
				 r.written, r.length);
	if (bytes)
		*bytes = r.written;
	s3_req_done(&r);
	return ret;
}

int bk_s3_delete(const struct bk_s3 *s, const char *key)
{
	struct s3_req r;
	int ret;

	s3_req_init(&r, "DELETE", key, NULL);
	ret = s3_request(s, &r);
	s3_req_done(&r);
	return ret;
}
