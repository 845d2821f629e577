/* SMTP delivery with libcurl (see smtp.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "cli.h"
#include "config.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "smtp.h"
#include "curlopt.h"

struct attempt {
	struct bk_mime *msg;
	char reply[512];	/* the server's last reply line */
	char bad_reply[512];	/* its last 4xx/5xx reply line */
	char read_err[512];	/* why the message could not be read */
};

static size_t read_cb(char *buf, size_t size, size_t nitems, void *data)
{
	struct attempt *a = data;
	ssize_t n = bk_mime_read(a->msg, buf, size * nitems);

	if (n < 0) {
		snprintf(a->read_err, sizeof(a->read_err), "%s", bk_err());
		return CURL_READFUNC_ABORT;
	}
	return (size_t)n;
}

/* Keep the server's replies (only those: what we send may hold the password). */
static int debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *user)
{
	struct attempt *a = user;
	size_t n = size;

	(void)h;
	if (type != CURLINFO_HEADER_IN)
		return 0;
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		n--;
	if (n >= sizeof(a->reply))
		n = sizeof(a->reply) - 1;
	for (size_t i = 0; i < n; i++)
		a->reply[i] = (unsigned char)data[i] < 32 ? ' ' : data[i];
	a->reply[n] = '\0';
	if (n > 0 && (data[0] == '4' || data[0] == '5'))
		memcpy(a->bad_reply, a->reply, n + 1);
	return 0;
}

int bk_smtp_host_is_loopback(const char *host)
{
	unsigned char addr[16];
	char buf[64];
	size_t n = strlen(host);

	if (!strcasecmp(host, "localhost") || !strcasecmp(host, "localhost."))
		return 1;
	if (inet_pton(AF_INET, host, addr) == 1)
		return addr[0] == 127;
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(buf)) {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		host = buf;
	}
	if (inet_pton(AF_INET6, host, addr) == 1) {
		static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		if (!memcmp(addr, in6addr_loopback.s6_addr, 16))
			return 1;
		return !memcmp(addr, v4mapped, 12) && addr[12] == 127;
	}
	return 0;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Pause before attempt i+1 (i = 1, 2): 10 s, 20 s; tests shrink it. */
static long delay_ms(int i)
{
	const char *knob = getenv("BK_MAIL_RETRY_DELAY_MS");

	if (knob && *knob)
		return atol(knob) * i;
	return 10000L * i;
}

/* Time allowed for one attempt: BK_SMTP_TIMEOUT; tests shrink it too. */
static long timeout_ms(void)
{
	const char *knob = getenv("BK_MAIL_TIMEOUT_MS");

	if (knob && *knob && atol(knob) > 0)
		return atol(knob);
	return BK_SMTP_TIMEOUT * 1000L;
}

static const char *hint_for(CURLcode rc)
{
	switch (rc) {
	case CURLE_LOGIN_DENIED:
		return "check SMTP_USER and SMTP_PASS (an app password for Gmail)";
	case CURLE_PEER_FAILED_VERIFICATION:
#if LIBCURL_VERSION_NUM < 0x073e00
	case CURLE_SSL_CACERT:
#endif
		return "the server's certificate is not trusted or does not match SMTP_HOST; "
		       "for a private CA set SMTP_CA_FILE";
	case CURLE_USE_SSL_FAILED:
		return "the server does not offer STARTTLS; try SMTP_TLS=tls and SMTP_PORT=465";
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
		return "check SMTP_HOST and SMTP_PORT, and that the server is reachable";
	case CURLE_SSL_CONNECT_ERROR:
		return "check SMTP_TLS: starttls for port 587, tls for port 465";
	default:
		return "check the SMTP settings with: bk-mail --test";
	}
}

/*
 * Will another attempt fail the same way? A refused login, an untrusted
 * certificate, a server without STARTTLS, a 5xx reply (the message or a
 * recipient refused for good) or a message we cannot read: yes. A server
 * that is down, slow, or says 4xx (try later): no, retry.
 */
static int is_permanent(CURLcode rc, const struct attempt *a)
{
	if (a->read_err[0])
		return 1;
	switch (rc) {
	case CURLE_LOGIN_DENIED:
	case CURLE_PEER_FAILED_VERIFICATION:
#if LIBCURL_VERSION_NUM < 0x073e00
	case CURLE_SSL_CACERT:
#endif
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_USE_SSL_FAILED:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_OUT_OF_MEMORY:
		return 1;
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return 0;
	default:
		return a->bad_reply[0] == '5';
	}
}

int bk_smtp_config_check(void)
{
	const struct bk_config *c = &bk_config;

	if (c->smtp_port == 465 && !strcmp(c->smtp_tls, "starttls")) {
		bk_err_set("SMTP_PORT 465 is implicit TLS (smtps), but SMTP_TLS is starttls: "
			   "the connection would wait for a greeting that never comes");
		bk_err_hint("set SMTP_TLS=tls for port 465, or SMTP_PORT=587 for starttls");
		return -1;
	}
	if (c->smtp_port == 587 && !strcmp(c->smtp_tls, "tls")) {
		bk_err_set("SMTP_PORT 587 is STARTTLS (submission), but SMTP_TLS is tls: "
			   "the server answers the TLS handshake in clear text");
		bk_err_hint("set SMTP_TLS=starttls for port 587, or SMTP_PORT=465 for tls");
		return -1;
	}
	return 0;
}

/* The session up to the first command: TLS as SMTP_TLS says, AUTH. */
static void set_session(CURL *h, const char *url, struct attempt *a, char *errbuf)
{
	const struct bk_config *c = &bk_config;

	curl_easy_setopt(h, CURLOPT_URL, url);
	bk_curl_protocols(h, "smtp,smtps", (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, a);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms());
	/* With libcurl 7.88, CURLOPT_TIMEOUT did not end the wait for the reply
	 * to the end of DATA: a server stalling there held the attempt until it
	 * answered (tests/t1030). Bound each reply's wait as well. */
	curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, (timeout_ms() + 999) / 1000);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)BK_SMTP_CONNECT_TIMEOUT);
	if (!strcmp(c->smtp_tls, "starttls"))
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (c->smtp_ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->smtp_ca_file);
	if (c->smtp_user) {
		curl_easy_setopt(h, CURLOPT_USERNAME, c->smtp_user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->smtp_pass ? c->smtp_pass : "");
	}
	a->reply[0] = a->bad_reply[0] = a->read_err[0] = '\0';
}

/* One delivery attempt; 0, or -1 with *rc and a->... describing why. */
static int attempt_once(struct attempt *a, const char *url, const char *from,
			struct curl_slist *rcpts, CURLcode *rc, char *errbuf)
{
	CURL *h = curl_easy_init();

	errbuf[0] = '\0';
	if (!h) {
		*rc = CURLE_OUT_OF_MEMORY;
		return -1;
	}
	bk_mime_rewind(a->msg);
	set_session(h, url, a, errbuf);
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_READDATA, a);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)bk_mime_size(a->msg));
	*rc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	return *rc == CURLE_OK ? 0 : -1;
}

/* libcurl once per process, and the server's URL (EHLO names this host). */
static int smtp_url(char *url, size_t size)
{
	static int curl_ready;
	const struct bk_config *c = &bk_config;
	int tls = !strcmp(c->smtp_tls, "tls");

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return bk_err_set("cannot initialise libcurl");
		curl_ready = 1;
	}
	snprintf(url, size, "%s://%s%s%s:%d/%s", tls ? "smtps" : "smtp",
		 strchr(c->smtp_host, ':') ? "[" : "", c->smtp_host,
		 strchr(c->smtp_host, ':') ? "]" : "", c->smtp_port, bk_mime_hostname());
	return 0;
}

int bk_smtp_probe(void)
{
	const struct bk_config *c = &bk_config;
	struct attempt a = { 0 };
	char url[600], errbuf[CURL_ERROR_SIZE + 1];
	CURL *h;
	CURLcode rc;

	if (smtp_url(url, sizeof(url)) < 0)
		return -1;
	if (!(h = curl_easy_init()))
		return bk_err_set("out of memory");
	errbuf[0] = '\0';
	set_session(h, url, &a, errbuf);
	/* no recipient, no upload: libcurl sends this command alone */
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "NOOP");
	curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	rc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	if (rc == CURLE_OK)
		return 0;
	bk_err_set("SMTP %s:%d: %s%s%s%s", c->smtp_host, c->smtp_port,
		   errbuf[0] ? errbuf : curl_easy_strerror(rc), a.bad_reply[0] ? " (server said: " : "",
		   a.bad_reply, a.bad_reply[0] ? ")" : "");
	bk_err_hint("%s", hint_for(rc));
	return -1;
}

int bk_smtp_send(struct bk_mime *msg, const char *from, char *const *rcpt, size_t n)
{
	const struct bk_config *c = &bk_config;
	struct curl_slist *rcpts = NULL;
	struct attempt a = { .msg = msg };
	char url[600], env_from[320], errbuf[CURL_ERROR_SIZE + 1], why[1200];
	CURLcode rc = CURLE_OK;
	int ret = -1, tried = 0;

	if (smtp_url(url, sizeof(url)) < 0)
		return -1;
	snprintf(env_from, sizeof(env_from), "<%s>", from);
	for (size_t i = 0; i < n; i++) {
		char *r = bk_asprintf("<%s>", rcpt[i]);
		struct curl_slist *t = curl_slist_append(rcpts, r);

		free(r);
		if (!t) {
			curl_slist_free_all(rcpts);
			return bk_err_set("out of memory");
		}
		rcpts = t;
	}

	for (int i = 1; i <= BK_SMTP_ATTEMPTS; i++) {
		double t0 = bk_monotonic();

		tried = i;
		bk_info("mail attempt %d of %d: %s:%d (%s%s%s) from %s to %zu recipient%s, "
			"%llu bytes", i, BK_SMTP_ATTEMPTS, c->smtp_host, c->smtp_port, c->smtp_tls,
			c->smtp_user ? ", user " : "", c->smtp_user ? c->smtp_user : "", from, n,
			n == 1 ? "" : "s", bk_mime_size(msg));
		if (attempt_once(&a, url, env_from, rcpts, &rc, errbuf) == 0) {
			bk_info("mail attempt %d of %d: accepted in %.1f s%s%s", i,
				BK_SMTP_ATTEMPTS, bk_monotonic() - t0, a.reply[0] ? ": " : "",
				a.reply);
			ret = 0;
			break;
		}
		if (a.read_err[0])
			snprintf(why, sizeof(why), "%s", a.read_err);
		else
			snprintf(why, sizeof(why), "%s%s%s%s", errbuf[0] ? errbuf : curl_easy_strerror(rc),
				 a.bad_reply[0] ? " (server said: " : "", a.bad_reply,
				 a.bad_reply[0] ? ")" : "");
		if (is_permanent(rc, &a)) {
			bk_warn("mail attempt %d of %d failed after %.1f s: %s; not retried: "
				"the same error would come again", i, BK_SMTP_ATTEMPTS,
				bk_monotonic() - t0, why);
			break;
		}
		if (i < BK_SMTP_ATTEMPTS) {
			long ms = delay_ms(i);

			bk_warn("mail attempt %d of %d failed after %.1f s: %s; next attempt in %.1f s",
				i, BK_SMTP_ATTEMPTS, bk_monotonic() - t0, why, (double)ms / 1000.0);
			pause_ms(ms);
		} else {
			bk_warn("mail attempt %d of %d failed after %.1f s: %s", i, BK_SMTP_ATTEMPTS,
				bk_monotonic() - t0, why);
		}
	}
	if (ret < 0) {
		bk_err_set("cannot send mail via %s:%d after %d attempt%s: %s", c->smtp_host,
			   c->smtp_port, tried, tried == 1 ? "" : "s", why);
		bk_err_hint("%s", hint_for(rc));
	}
	curl_slist_free_all(rcpts);
	return ret;
}
