/* Dead man's switch pings over HTTP(S) with libcurl (see ping.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "fs.h"
#include "log.h"
#include "ping.h"

#define PING_TIMEOUT 10L	/* seconds per attempt */
#define PING_ATTEMPTS 2

static size_t discard(char *data, size_t size, size_t nmemb, void *ctx)
{
	(void)data;
	(void)ctx;
	return size * nmemb;
}

/* The URL's path usually holds the check's secret token: logs get the host only. */
static char *url_host(const char *url)
{
	const char *p = strstr(url, "://"), *at;
	size_t n;

	p = p ? p + 3 : url;
	n = strcspn(p, "/?#");
	at = memchr(p, '@', n);		/* user:password@host */
	if (at) {
		n -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	return bk_asprintf("%.*s", (int)n, p);
}

static int ping_once(const char *url, char *why, size_t size)
{
	CURL *c = curl_easy_init();
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	long status = 0;

	if (!c) {
		snprintf(why, size, "cannot initialise libcurl");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, PING_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, PING_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "bk/" BK_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		snprintf(why, size, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return -1;
	}
	if (status >= 400) {
		snprintf(why, size, "HTTP status %ld", status);
		return -1;
	}
	return 0;
}

int bk_ping(const char *what)
{
	const char *base = bk_config.ping_url;
	const char *suffix;
	char why[CURL_ERROR_SIZE + 64] = "";
	char *url, *host;
	size_t len;
	int ret = -1;

	if (!base)
		return 0;
	if (!strcmp(what, "start"))
		suffix = "/start";
	else if (!strcmp(what, "fail"))
		suffix = "/fail";
	else
		suffix = "";
	len = strlen(base);
	if (len && base[len - 1] == '/')
		len--;
	url = bk_asprintf("%.*s%s", (int)len, base, suffix);
	host = url_host(url);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		bk_warn("ping %s to %s not sent: cannot initialise libcurl", what, host);
		goto out;
	}
	for (int i = 0; i < PING_ATTEMPTS && ret < 0; i++) {
		if (i > 0)
			sleep(1);
		ret = ping_once(url, why, sizeof(why));
	}
	curl_global_cleanup();
	if (ret < 0)
		bk_warn("ping %s to %s failed after %d attempts: %s; the backup goes on", what,
			host, PING_ATTEMPTS, why);
	else
		bk_debug("ping %s sent to %s", what, host);
out:
	free(host);
	free(url);
	return ret;
}
