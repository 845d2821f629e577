/*
 * SMTP delivery through libcurl: STARTTLS (smtp://, 587) or implicit TLS
 * (smtps://, 465) with the certificate and host name always verified, or no
 * TLS to a server on loopback only; AUTH with SMTP_USER/SMTP_PASS. The
 * message is streamed (constant memory); 3 attempts with growing pauses,
 * each logged, each bounded in time so delivery ends within 5 minutes. A
 * permanent error (login refused, certificate, 5xx) is not retried.
 */
#ifndef BK_SMTP_H
#define BK_SMTP_H

#include <stddef.h>

#include "mime.h"

#define BK_SMTP_ATTEMPTS 3
#define BK_SMTP_TIMEOUT 85		/* seconds per attempt: 3 x 85 + 10 + 20 < 300 */
#define BK_SMTP_CONNECT_TIMEOUT 20

/* Is host a loopback address (127.0.0.0/8, ::1) or "localhost"? */
int bk_smtp_host_is_loopback(const char *host);

/* SMTP_PORT and SMTP_TLS that cannot work together (465 with starttls, 587
 * with tls): -1 with the fix in the hint. */
int bk_smtp_config_check(void);

/*
 * Send msg (finished) from `from` to the n addresses in rcpt using the SMTP_*
 * settings of bk_config. 0 once the server accepted it, or -1 after the last
 * attempt with "cannot send mail via HOST:PORT after N attempts: <curl error>
 * (server said: <last reply>)" in the error slot.
 */
int bk_smtp_send(struct bk_mime *msg, const char *from, char *const *rcpt, size_t n);

/*
 * One session with the SMTP_* settings, as a delivery would open it
 * (greeting, EHLO, TLS, AUTH), then NOOP and QUIT: nothing is sent. 0, or -1
 * with "SMTP HOST:PORT: why" and a hint in the error slot. No retries.
 */
int bk_smtp_probe(void);

#endif
