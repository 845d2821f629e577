/* The status endpoint (see serve.h). libmicrohttpd's one internal thread polls
 * every connection, so a slow client holds one slot, not the server; the main
 * thread only waits for the stop signal and rewrites the textfile. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "err.h"
#include "fs.h"
#include "log.h"
#include "monitor.h"
#include "serve.h"

/* bk_monitor_check is called from both threads; one at a time keeps the
 * answers consistent with each other and the code free of surprises. */
static pthread_mutex_t check_lock = PTHREAD_MUTEX_INITIALIZER;

static void check_now(const char *dir, struct bk_health *h)
{
	pthread_mutex_lock(&check_lock);
	bk_monitor_check(dir, (long long)time(NULL), h);
	pthread_mutex_unlock(&check_lock);
}

int bk_serve_parse_addr(const char *name, const char *spec, struct sockaddr_storage *ss,
			socklen_t *len)
{
	const char *colon = strrchr(spec, ':'), *port_s = colon ? colon + 1 : spec;
	char host[64] = "127.0.0.1", *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	errno = 0;
	port = strtol(port_s, &end, 10);
	if (!*port_s || *end || errno || port < 1 || port > 65535 || *port_s == '+' ||
	    *port_s == '-' || *port_s == ' ')
		return bk_err_set("%s: '%s': not [ADDR:]PORT with a port 1..65535", name, spec);
	if (colon) {
		size_t n = (size_t)(colon - spec);

		const char *h = spec;
		int bracketed = n >= 2 && spec[0] == '[' && spec[n - 1] == ']';

		if (bracketed) {
			h++;
			n -= 2;
		}
		if (n == 0 || n >= sizeof(host))
			return bk_err_set("%s: '%s': no address before the port", name, spec);
		memcpy(host, h, n);
		host[n] = '\0';
		if (!bracketed && strchr(host, ':'))
			return bk_err_set("%s: '%s': an IPv6 address goes in brackets: "
					  "[ADDR]:PORT", name, spec);
	}
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons((unsigned short)port);
		*len = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)port);
		*len = sizeof(*in6);
		return 0;
	}
	return bk_err_set("%s: '%s': '%s' is not an IPv4 address or an IPv6 address in "
			  "brackets", name, spec, host);
}

/* "127.0.0.1:9187" or "[::1]:9187", for the log. */
static void fmt_addr(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(in->sin_port));
	}
}

static int open_listener(const char *listen_spec, char *shown, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (bk_serve_parse_addr("--serve", listen_spec, &ss, &len) < 0)
		return -1;
	fmt_addr(&ss, shown, size);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return bk_err_errno("--serve %s: socket", listen_spec);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0) {
		bk_err_errno("--serve %s: cannot listen", listen_spec);
		close(fd);
		return -1;
	}
	return fd;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, const char *type,
			     char *body)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer_with_free_callback(strlen(body), body, free);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

#define JSON "application/json"
#define TEXT "text/plain; charset=utf-8"

/* Every request is answered at its first call, before any body is read: no
 * endpoint takes input, so an upload is never buffered. HEAD gets the GET
 * answer without its body (libmicrohttpd leaves the body out). */
static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version,
			      const char *upload_data, size_t *upload_size, void **req)
{
	const char *dir = cls;
	struct bk_health h;

	(void)version;
	(void)upload_data;
	(void)upload_size;
	(void)req;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT,
			     bk_xstrdup("method not allowed: only GET and HEAD\n"));
	if (strcmp(url, "/health") && strcmp(url, "/metrics") && strcmp(url, "/status"))
		return reply(c, MHD_HTTP_NOT_FOUND, TEXT,
			     bk_xstrdup("not found: /health, /metrics or /status\n"));
	check_now(dir, &h);
	if (!strcmp(url, "/health"))
		return reply(c, h.healthy ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, JSON,
			     bk_monitor_health_json(&h));
	if (!strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
			     bk_monitor_prometheus(&h));
	return reply(c, MHD_HTTP_OK, JSON, bk_monitor_json(&h));
}

static void write_textfile(const char *dir, const char *path)
{
	struct bk_health h;
	char *text;

	check_now(dir, &h);
	text = bk_monitor_prometheus(&h);
	if (bk_write_file_atomic(path, text, strlen(text), 0644) < 0)
		bk_log_err();
	free(text);
}

static struct MHD_Daemon *start_daemon(const char *dir, const char *listen_spec)
{
	struct MHD_Daemon *d;
	char shown[80];
	int fd = open_listener(listen_spec, shown, sizeof(shown));

	if (fd < 0)
		return NULL;
	d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, answer,
			     (void *)dir,
			     MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)BK_SERVE_MAX_CONNECTIONS,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)BK_SERVE_TIMEOUT_SECONDS,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
			     MHD_OPTION_END);
	if (!d) {
		bk_err_set("--serve %s: cannot start the HTTP server", listen_spec);
		close(fd);
		return NULL;
	}
	bk_info("serving http://%s/health, /metrics and /status (read-only)", shown);
	return d;
}

int bk_serve(const char *dir, const char *listen_spec, const char *prom_file)
{
	struct MHD_Daemon *d = NULL;
	struct timespec tick = { BK_SERVE_TEXTFILE_SECONDS, 0 };
	sigset_t stop;
	int sig;

	/* blocked before the server's thread starts, so it inherits the mask and
	 * the signals reach only sigtimedwait below */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	if (listen_spec) {
		d = start_daemon(dir, listen_spec);
		if (!d)
			return 1;
	}
	for (;;) {
		if (prom_file)
			write_textfile(dir, prom_file);
		sig = sigtimedwait(&stop, NULL, prom_file ? &tick : NULL);
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	bk_info("%s: stopping", strsignal(sig));
	if (d)
		MHD_stop_daemon(d);	/* closes the listening socket too */
	return 0;
}
