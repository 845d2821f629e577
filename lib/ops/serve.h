/*
 * bk-monitor --serve: the health of the backups over HTTP (libmicrohttpd),
 * read-only, and the node_exporter textfile kept fresh while it runs.
 */
#ifndef BK_SERVE_H
#define BK_SERVE_H

#include <sys/socket.h>

#define BK_SERVE_MAX_CONNECTIONS 16	/* more wait in the kernel's queue */
#define BK_SERVE_TIMEOUT_SECONDS 10	/* a connection idle this long is closed */
#define BK_SERVE_TEXTFILE_SECONDS 60	/* how often --prometheus FILE is rewritten */

/*
 * "[ADDR:]PORT": PORT alone listens on 127.0.0.1; ADDR is an IPv4 address or an
 * IPv6 one in brackets ("[::1]:9187"). 0, or -1 with "NAME: 'SPEC': why" in the
 * slot (name is the option or variable it came from).
 */
int bk_serve_parse_addr(const char *name, const char *spec, struct sockaddr_storage *ss,
			socklen_t *len);

/*
 * Until SIGTERM or SIGINT: answer GET and HEAD of /health (200 healthy, 503
 * not, JSON), /metrics (Prometheus text) and /status (bk-monitor --json),
 * each computed from the status files in dir at the request; when prom_file
 * is not NULL, write it at start and every BK_SERVE_TEXTFILE_SECONDS. With
 * listen NULL, only the textfile. Returns 0 after the signal, 1 when the
 * socket cannot be opened (message in the slot).
 */
int bk_serve(const char *dir, const char *listen, const char *prom_file);

/* For the container's entrypoint, at its configuration check: 0 when
 * BACKUP_HTTP_ADDR is unset or a valid [ADDR:]PORT, else -1 naming it. */
int bk_serve_check(void);
/*
 * For the container's entrypoint: when BACKUP_HTTP_ADDR or BACKUP_PROMETHEUS_FILE
 * is set, start `bk-monitor --serve ... --prometheus ...` as a child with only
 * the variables bk-monitor reads (no secrets). Returns its pid, 0 when neither
 * variable is set, -1 when it cannot start (logged). bk_serve_stop() sends it
 * SIGTERM and waits for it; the child also gets SIGTERM if the parent dies.
 */
int bk_serve_start(void);
void bk_serve_stop(int pid);

#endif
