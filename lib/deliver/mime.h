/*
 * MIME messages for bk-mail: multipart/mixed holding a multipart/alternative
 * (text/plain + text/html, UTF-8, quoted-printable) and optionally one file
 * attached in base64, streamed from disk. The exact size of the encoded
 * message is known before a byte of it is produced, so the caller can choose
 * between attaching and linking, and SMTP can stream it in constant memory.
 */
#ifndef BK_MIME_H
#define BK_MIME_H

#include <stddef.h>
#include <sys/types.h>

/* A growing string (always NUL-terminated once anything was added). */
struct bk_mime_buf {
	char *s;
	size_t len, cap;
};

void bk_mime_buf_add(struct bk_mime_buf *b, const char *s);
void bk_mime_buf_addn(struct bk_mime_buf *b, const char *s, size_t n);
void bk_mime_buf_addf(struct bk_mime_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Add s with & < > " ' escaped for HTML. */
void bk_mime_buf_add_html(struct bk_mime_buf *b, const char *s);
/* The text so far ("" when empty); stays owned by b. */
const char *bk_mime_buf_str(const struct bk_mime_buf *b);
void bk_mime_buf_free(struct bk_mime_buf *b);

/*
 * A conservative addr-spec check: local part a dot-atom of RFC 5322 atext
 * (at most 64 bytes), domain a host name of letters, digits and hyphens
 * (labels of 1..63, at most 253 bytes), nothing else (no display names,
 * comments, quoted local parts or non-ASCII). 1 if acceptable, else 0.
 */
int bk_mime_addr_ok(const char *addr);
/*
 * Split a comma-separated list (spaces around commas allowed) into checked
 * addresses, duplicates dropped. -1 with "VAR: 'x' is not a valid e-mail
 * address" (var names the variable for the message).
 */
int bk_mime_addr_list(const char *list, const char *var, char ***out, size_t *n);
void bk_mime_addr_list_free(char **v, size_t n);

/* Copy src into dst (size bytes, truncated, NUL-terminated) with control
 * characters as '?': for quoting a configured value in a log line. Returns dst. */
char *bk_mime_printable(char *dst, size_t size, const char *src);

/* This machine's name if it is a valid host name (for Message-ID, EHLO and
 * the mail text), else "localhost". */
const char *bk_mime_hostname(void);

/* base64 of n bytes into out (room for 4 * ((n + 2) / 3) + 1); url: the
 * URL-safe alphabet without padding (RFC 4648 section 5). Returns the length. */
size_t bk_mime_base64(const void *in, size_t n, char *out, int url);

/* Bytes of base64 with CRLF after every 76 characters for a file of n bytes. */
unsigned long long bk_mime_base64_size(unsigned long long n);

struct bk_mime;

struct bk_mime *bk_mime_new(void);
void bk_mime_free(struct bk_mime *m);

/*
 * Header fields. Values with CR, LF or other control characters are refused
 * (-1, error slot set); non-ASCII text becomes RFC 2047 encoded-words.
 */
int bk_mime_set_from(struct bk_mime *m, const char *display_name, const char *addr);
int bk_mime_add_to(struct bk_mime *m, const char *addr);
int bk_mime_set_subject(struct bk_mime *m, const char *subject);
/* Message date (unix seconds); default: when bk_mime_finish() runs. */
void bk_mime_set_date(struct bk_mime *m, long long when);

/* The two alternatives; text uses "\n" line ends (turned into CRLF). */
void bk_mime_set_body(struct bk_mime *m, const char *text, const char *html);
/* Attach the file at path as name with content_type, base64, read when the
 * message is produced; its size is taken now. -1 when it cannot be read. */
int bk_mime_attach(struct bk_mime *m, const char *path, const char *name,
		   const char *content_type);

/* Build headers and body; after this the size, id and reading are available.
 * -1 when From, To or Subject is missing. */
int bk_mime_finish(struct bk_mime *m);
/* Exact bytes the message will have, attachment included. */
unsigned long long bk_mime_size(const struct bk_mime *m);
/* "<random@host>" as in the Message-ID field. */
const char *bk_mime_message_id(const struct bk_mime *m);

/* Next bytes of the message: count, 0 at the end, -1 on a read error or a
 * file that changed size since bk_mime_attach (error slot set). */
ssize_t bk_mime_read(struct bk_mime *m, void *buf, size_t len);
/* Start again from the first byte (for a new delivery attempt). */
int bk_mime_rewind(struct bk_mime *m);
/* The whole message to fd. */
int bk_mime_write_fd(struct bk_mime *m, int fd);

#endif
