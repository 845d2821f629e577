/*
 * MIME message builder (see mime.h). Everything but the attachment is built
 * in memory at bk_mime_finish(); the attachment is base64-encoded from its
 * file while the message is read, so its size is computed, not measured.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "fs.h"
#include "mime.h"

#define LINE_RAW 57			/* bytes per base64 line of 76 characters */
#define CHUNK_LINES 512
#define MAX_HEADER_TEXT 900		/* bytes of a subject or display name */

enum stage { ST_HEAD, ST_ATTACH, ST_TAIL, ST_END };

struct bk_mime {
	char *from, *subject;		/* complete header lines, CRLF-terminated */
	struct bk_mime_buf to;		/* "To: a, b" being built, without CRLF */
	char *text, *html;
	char *att_path, *att_name, *att_type;
	unsigned long long att_size;
	long long date;
	int finished;

	struct bk_mime_buf head;	/* everything before the attachment's base64 */
	char tail[128];
	size_t tail_len;
	char msgid[360];

	enum stage stage;
	size_t off;
	int fd;
	unsigned long long att_read;
	unsigned char raw[LINE_RAW * CHUNK_LINES];
	char enc[(76 + 2) * CHUNK_LINES];
	size_t enc_len;
};

/* ---- strings ---- */

void bk_mime_buf_addn(struct bk_mime_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (b->len + n + 1 > cap)
			cap *= 2;
		b->s = realloc(b->s, cap);
		if (!b->s) {
			fputs("out of memory\n", stderr);
			abort();
		}
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void bk_mime_buf_add(struct bk_mime_buf *b, const char *s)
{
	bk_mime_buf_addn(b, s, strlen(s));
}

void bk_mime_buf_addf(struct bk_mime_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = bk_vasprintf(fmt, ap);
	va_end(ap);
	bk_mime_buf_add(b, s);
	free(s);
}

void bk_mime_buf_add_html(struct bk_mime_buf *b, const char *s)
{
	for (; *s; s++) {
		size_t n = strcspn(s, "&<>\"'");

		bk_mime_buf_addn(b, s, n);
		s += n;
		switch (*s) {
		case '&': bk_mime_buf_add(b, "&amp;"); break;
		case '<': bk_mime_buf_add(b, "&lt;"); break;
		case '>': bk_mime_buf_add(b, "&gt;"); break;
		case '"': bk_mime_buf_add(b, "&quot;"); break;
		case '\'': bk_mime_buf_add(b, "&#39;"); break;
		default: return;
		}
	}
}

const char *bk_mime_buf_str(const struct bk_mime_buf *b)
{
	return b->s ? b->s : "";
}

void bk_mime_buf_free(struct bk_mime_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

/* ---- addresses and names ---- */

static int is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_atext(int c)
{
	return is_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Letters, digits, hyphens; labels 1..63 not starting or ending with '-'. */
static int hostname_ok(const char *d, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (d[i] == '.') {
			if (label == 0 || d[i - 1] == '-')
				return 0;
			label = 0;
		} else if (is_alnum(d[i]) || d[i] == '-') {
			if (label == 0 && d[i] == '-')
				return 0;
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label > 0 && d[len - 1] != '-';
}

int bk_mime_addr_ok(const char *addr)
{
	const char *at = strchr(addr, '@');
	size_t local;

	if (!at)
		return 0;
	local = (size_t)(at - addr);
	if (local == 0 || local > 64 || addr[0] == '.' || at[-1] == '.')
		return 0;
	for (size_t i = 0; i < local; i++) {
		if (addr[i] == '.' ? addr[i + 1] == '.' : !is_atext((unsigned char)addr[i]))
			return 0;
	}
	return hostname_ok(at + 1, strlen(at + 1));
}

int bk_mime_addr_list(const char *list, const char *var, char ***out, size_t *n)
{
	const char *p = list;
	char **v = NULL;
	size_t cnt = 0;

	*out = NULL;
	*n = 0;
	for (;;) {
		const char *start, *end;
		char *a;
		int dup = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		p += strcspn(p, ",");
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		a = bk_xmalloc((size_t)(end - start) + 1);
		memcpy(a, start, (size_t)(end - start));
		a[end - start] = '\0';
		if (!*a || !bk_mime_addr_ok(a)) {
			char shown[201];

			if (!*a)
				bk_err_set("%s: empty address in the list '%s'", var,
					   bk_mime_printable(shown, sizeof(shown), list));
			else
				bk_err_set("%s: '%s' is not a valid e-mail address", var,
					   bk_mime_printable(shown, sizeof(shown), a));
			free(a);
			bk_mime_addr_list_free(v, cnt);
			return -1;
		}
		for (size_t i = 0; i < cnt; i++)
			dup |= !strcasecmp(v[i], a);
		if (dup) {
			free(a);
		} else {
			v = realloc(v, (cnt + 1) * sizeof(*v));
			if (!v)
				abort();
			v[cnt++] = a;
		}
		if (!*p)
			break;
		p++;
	}
	*out = v;
	*n = cnt;
	return 0;
}

void bk_mime_addr_list_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

char *bk_mime_printable(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < size && src[i]; i++)
		dst[i] = (unsigned char)src[i] < 32 || src[i] == 127 ? '?' : src[i];
	dst[i] = '\0';
	return dst;
}

const char *bk_mime_hostname(void)
{
	static char name[256];

	if (!name[0]) {
		if (gethostname(name, sizeof(name) - 1) < 0 || !hostname_ok(name, strlen(name)))
			snprintf(name, sizeof(name), "localhost");
	}
	return name;
}

/* ---- encodings ---- */

size_t bk_mime_base64(const void *in, size_t n, char *out, int url)
{
	static const char std[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char safe[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *a = url ? safe : std;
	const unsigned char *p = in;
	size_t o = 0, i;

	for (i = 0; i + 3 <= n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = a[(v >> 6) & 63];
		else if (!url)
			out[o++] = '=';
		if (!url)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

unsigned long long bk_mime_base64_size(unsigned long long n)
{
	unsigned long long chars = 4 * ((n + 2) / 3);

	return chars + 2 * ((chars + 75) / 76);
}

/*
 * Quoted-printable (RFC 2045 6.7): lines of at most 76 characters with soft
 * breaks, "\n" becomes CRLF. A '.' starting a line is encoded as well, so no
 * transport ever has to dot-stuff or mistake it for the end of the data.
 */
static void qp_encode(struct bk_mime_buf *out, const char *text)
{
	const char *p = text;

	while (*p) {
		const char *eol = p + strcspn(p, "\n"), *end = eol;
		int col = 0;

		if (end > p && end[-1] == '\r')
			end--;
		for (const char *q = p; q < end; q++) {
			unsigned char c = (unsigned char)*q;
			int enc = c == '=' || (c < 32 && c != '\t') || c > 126 ||
				  ((c == ' ' || c == '\t') && q + 1 == end);
			char piece[4];

			if (col + (enc || (c == '.' && col == 0) ? 3 : 1) > 75) {
				bk_mime_buf_add(out, "=\r\n");
				col = 0;
			}
			if (c == '.' && col == 0)
				enc = 1;
			if (enc)
				snprintf(piece, sizeof(piece), "=%02X", c);
			else
				piece[0] = (char)c, piece[1] = '\0';
			bk_mime_buf_add(out, piece);
			col += enc ? 3 : 1;
		}
		bk_mime_buf_add(out, "\r\n");
		p = *eol ? eol + 1 : eol;
	}
}

/* Refuse what would break a header line; 1 when s needs an encoded-word. */
static int header_text_check(const char *what, const char *s)
{
	int non_ascii = 0;

	if (strlen(s) > MAX_HEADER_TEXT)
		return bk_err_set("%s is longer than %d bytes", what, MAX_HEADER_TEXT);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\r' || *p == '\n')
			return bk_err_set("%s contains a line break", what);
		if (*p < 32 || *p == 127)
			return bk_err_set("%s contains a control character", what);
		non_ascii |= *p > 127;
	}
	return non_ascii || strstr(s, "=?") != NULL;
}

/*
 * RFC 2047 B encoded-words of at most 39 bytes of UTF-8 each (64 characters),
 * never splitting a character, folded onto continuation lines.
 */
static void add_encoded_words(struct bk_mime_buf *b, const char *s)
{
	size_t n = strlen(s), i = 0;
	int first = 1;

	while (i < n) {
		size_t take = n - i < 39 ? n - i : 39;
		char enc[64];

		while (take > 1 && i + take < n && ((unsigned char)s[i + take] & 0xC0) == 0x80)
			take--;
		bk_mime_base64(s + i, take, enc, 0);
		bk_mime_buf_addf(b, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", enc);
		first = 0;
		i += take;
	}
}

/* An unstructured header: "Name: value" folded at spaces near 78 columns. */
static char *unstructured_header(const char *name, const char *value)
{
	struct bk_mime_buf b = { 0 };
	int r = header_text_check(name, value);
	size_t col;

	if (r < 0)
		return NULL;
	bk_mime_buf_addf(&b, "%s: ", name);
	if (r == 1) {
		add_encoded_words(&b, value);
	} else {
		col = b.len;
		for (const char *p = value; *p;) {
			size_t w = strcspn(p + 1, " ") + 1;	/* a space and its word */

			if (col + w > 78 && col > strlen(name) + 2 && *p == ' ') {
				bk_mime_buf_add(&b, "\r\n");
				col = 0;
			}
			bk_mime_buf_addn(&b, p, w);
			col += w;
			p += w;
		}
	}
	bk_mime_buf_add(&b, "\r\n");
	return b.s;
}

static void random_hex(char *out, size_t bytes)
{
	unsigned char r[32];

	if (bytes > sizeof(r))
		bytes = sizeof(r);
	if (getentropy(r, bytes) < 0) {
		/* no entropy source: uniqueness still matters more than secrecy here */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		for (size_t i = 0; i < bytes; i++)
			r[i] = (unsigned char)((ts.tv_nsec >> (i % 4 * 8)) ^ (getpid() >> (i % 2 * 8)) ^ i);
	}
	for (size_t i = 0; i < bytes; i++)
		sprintf(out + 2 * i, "%02x", r[i]);
}

/* RFC 5322 date-time, English names whatever the locale. */
static void rfc5322_date(long long t, char *buf, size_t size)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;
	char zone[8];

	localtime_r(&tt, &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d %s", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, zone);
}

/* A MIME parameter value: quoted-string, or RFC 2231 for non-ASCII. */
static void add_param(struct bk_mime_buf *b, const char *name, const char *value)
{
	int ascii = 1;

	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		ascii &= *p >= 32 && *p < 127;
	if (ascii) {
		bk_mime_buf_addf(b, ";\r\n %s=\"", name);
		for (const char *p = value; *p; p++) {
			if (*p == '"' || *p == '\\')
				bk_mime_buf_add(b, "\\");
			bk_mime_buf_addn(b, p, 1);
		}
		bk_mime_buf_add(b, "\"");
		return;
	}
	bk_mime_buf_addf(b, ";\r\n %s*=UTF-8''", name);
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (is_alnum(*p) || strchr("!#$&+-.^_`|~", *p))
			bk_mime_buf_addn(b, (const char *)p, 1);
		else
			bk_mime_buf_addf(b, "%%%02X", *p);
	}
}

/* ---- the message ---- */

struct bk_mime *bk_mime_new(void)
{
	struct bk_mime *m = calloc(1, sizeof(*m));

	if (!m)
		abort();
	m->fd = -1;
	m->date = -1;
	return m;
}

void bk_mime_free(struct bk_mime *m)
{
	if (!m)
		return;
	if (m->fd >= 0)
		close(m->fd);
	free(m->from);
	free(m->subject);
	bk_mime_buf_free(&m->to);
	free(m->text);
	free(m->html);
	free(m->att_path);
	free(m->att_name);
	free(m->att_type);
	bk_mime_buf_free(&m->head);
	free(m);
}

int bk_mime_set_from(struct bk_mime *m, const char *display_name, const char *addr)
{
	struct bk_mime_buf b = { 0 };

	char shown[201];

	if (!bk_mime_addr_ok(addr))
		return bk_err_set("sender '%s' is not a valid e-mail address",
				  bk_mime_printable(shown, sizeof(shown), addr));
	bk_mime_buf_add(&b, "From: ");
	if (display_name && *display_name) {
		int r = header_text_check("sender name", display_name);

		if (r < 0) {
			bk_mime_buf_free(&b);
			return -1;
		}
		if (r == 1) {
			add_encoded_words(&b, display_name);
		} else {
			bk_mime_buf_add(&b, "\"");
			for (const char *p = display_name; *p; p++) {
				if (*p == '"' || *p == '\\')
					bk_mime_buf_add(&b, "\\");
				bk_mime_buf_addn(&b, p, 1);
			}
			bk_mime_buf_add(&b, "\"");
		}
		bk_mime_buf_add(&b, " ");
	}
	bk_mime_buf_addf(&b, "<%s>\r\n", addr);
	free(m->from);
	m->from = b.s;
	return 0;
}

int bk_mime_add_to(struct bk_mime *m, const char *addr)
{
	const char *line;

	char shown[201];

	if (!bk_mime_addr_ok(addr))
		return bk_err_set("recipient '%s' is not a valid e-mail address",
				  bk_mime_printable(shown, sizeof(shown), addr));
	if (!m->to.len) {
		bk_mime_buf_addf(&m->to, "To: %s", addr);
		return 0;
	}
	line = strrchr(m->to.s, '\n');
	line = line ? line + 1 : m->to.s;
	if (strlen(line) + 2 + strlen(addr) > 78)
		bk_mime_buf_addf(&m->to, ",\r\n %s", addr);
	else
		bk_mime_buf_addf(&m->to, ", %s", addr);
	return 0;
}

int bk_mime_set_subject(struct bk_mime *m, const char *subject)
{
	char *h = unstructured_header("Subject", subject);

	if (!h)
		return -1;
	free(m->subject);
	m->subject = h;
	return 0;
}

void bk_mime_set_date(struct bk_mime *m, long long when)
{
	m->date = when;
}

void bk_mime_set_body(struct bk_mime *m, const char *text, const char *html)
{
	free(m->text);
	free(m->html);
	m->text = bk_xstrdup(text);
	m->html = bk_xstrdup(html);
}

int bk_mime_attach(struct bk_mime *m, const char *path, const char *name,
		   const char *content_type)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return bk_err_errno("cannot attach %s", path);
	if (!S_ISREG(st.st_mode))
		return bk_err_set("cannot attach %s: not a regular file", path);
	if (access(path, R_OK) < 0)
		return bk_err_errno("cannot attach %s", path);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 32 || *p == 127)
			return bk_err_set("cannot attach %s: control character in its name", path);
	free(m->att_path);
	free(m->att_name);
	free(m->att_type);
	m->att_path = bk_xstrdup(path);
	m->att_name = bk_xstrdup(name);
	m->att_type = bk_xstrdup(content_type);
	m->att_size = (unsigned long long)st.st_size;
	return 0;
}

int bk_mime_finish(struct bk_mime *m)
{
	struct bk_mime_buf *h = &m->head;
	char mixed[96], alt[96], rnd[72], date[64];

	if (!m->from || !m->to.len || !m->subject || !m->text)
		return bk_err_set("message without sender, recipient, subject or body");
	/* "=_" cannot occur in quoted-printable or base64 text, so the
	 * boundaries never collide with content. */
	random_hex(rnd, 12);
	snprintf(mixed, sizeof(mixed), "=_bk_mixed_%s", rnd);
	snprintf(alt, sizeof(alt), "=_bk_alt_%s", rnd);
	random_hex(rnd, 16);
	snprintf(m->msgid, sizeof(m->msgid), "<%s@%s>", rnd, bk_mime_hostname());
	rfc5322_date(m->date >= 0 ? m->date : (long long)time(NULL), date, sizeof(date));

	bk_mime_buf_free(h);
	bk_mime_buf_add(h, m->from);
	bk_mime_buf_addf(h, "%s\r\n", m->to.s);
	bk_mime_buf_add(h, m->subject);
	bk_mime_buf_addf(h, "Date: %s\r\n", date);
	bk_mime_buf_addf(h, "Message-ID: %s\r\n", m->msgid);
	bk_mime_buf_add(h, "MIME-Version: 1.0\r\n");
	bk_mime_buf_add(h, "Auto-Submitted: auto-generated\r\n");
	bk_mime_buf_add(h, "X-Mailer: bk-mail " BK_VERSION "\r\n");
	bk_mime_buf_addf(h, "Content-Type: multipart/mixed;\r\n boundary=\"%s\"\r\n\r\n", mixed);
	bk_mime_buf_add(h, "This is a multi-part message in MIME format.\r\n");
	bk_mime_buf_addf(h, "--%s\r\n", mixed);
	bk_mime_buf_addf(h, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n",
			 alt);
	bk_mime_buf_addf(h, "--%s\r\n", alt);
	bk_mime_buf_add(h, "Content-Type: text/plain; charset=UTF-8\r\n"
			"Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	qp_encode(h, m->text);
	bk_mime_buf_addf(h, "--%s\r\n", alt);
	bk_mime_buf_add(h, "Content-Type: text/html; charset=UTF-8\r\n"
			"Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	qp_encode(h, m->html);
	bk_mime_buf_addf(h, "--%s--\r\n", alt);
	if (m->att_path) {
		bk_mime_buf_addf(h, "--%s\r\n", mixed);
		bk_mime_buf_addf(h, "Content-Type: %s", m->att_type);
		add_param(h, "name", m->att_name);
		bk_mime_buf_add(h, "\r\nContent-Disposition: attachment");
		add_param(h, "filename", m->att_name);
		bk_mime_buf_add(h, "\r\nContent-Transfer-Encoding: base64\r\n\r\n");
	}
	m->tail_len = (size_t)snprintf(m->tail, sizeof(m->tail), "--%s--\r\n", mixed);
	m->finished = 1;
	return bk_mime_rewind(m);
}

unsigned long long bk_mime_size(const struct bk_mime *m)
{
	return m->head.len + (m->att_path ? bk_mime_base64_size(m->att_size) : 0) + m->tail_len;
}

const char *bk_mime_message_id(const struct bk_mime *m)
{
	return m->msgid;
}

int bk_mime_rewind(struct bk_mime *m)
{
	m->stage = ST_HEAD;
	m->off = 0;
	m->att_read = 0;
	m->enc_len = 0;
	if (m->fd >= 0) {
		close(m->fd);
		m->fd = -1;
	}
	return 0;
}

/* Read and encode the next chunk of the attachment into m->enc. */
static int refill(struct bk_mime *m)
{
	size_t want, got = 0;

	if (m->fd < 0) {
		m->fd = open(m->att_path, O_RDONLY | O_CLOEXEC);
		if (m->fd < 0)
			return bk_err_errno("cannot read %s", m->att_path);
	}
	want = m->att_size - m->att_read < sizeof(m->raw) ? (size_t)(m->att_size - m->att_read)
							   : sizeof(m->raw);
	while (got < want) {
		ssize_t n = read(m->fd, m->raw + got, want - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return bk_err_errno("cannot read %s", m->att_path);
		if (n == 0)
			return bk_err_set("%s shrank while it was being sent", m->att_path);
		got += (size_t)n;
	}
	m->att_read += got;
	if (m->att_read == m->att_size) {
		char c;
		ssize_t n;

		while ((n = read(m->fd, &c, 1)) < 0 && errno == EINTR)
			;
		if (n != 0)
			return bk_err_set("%s grew while it was being sent", m->att_path);
	}
	m->enc_len = 0;
	for (size_t i = 0; i < got; i += LINE_RAW) {
		size_t n = got - i < LINE_RAW ? got - i : LINE_RAW;

		m->enc_len += bk_mime_base64(m->raw + i, n, m->enc + m->enc_len, 0);
		memcpy(m->enc + m->enc_len, "\r\n", 2);
		m->enc_len += 2;
	}
	m->off = 0;
	return 0;
}

ssize_t bk_mime_read(struct bk_mime *m, void *buf, size_t len)
{
	char *out = buf;
	size_t done = 0;

	while (done < len && m->stage != ST_END) {
		const char *src;
		size_t avail;

		switch (m->stage) {
		case ST_HEAD:
			src = m->head.s;
			avail = m->head.len - m->off;
			break;
		case ST_ATTACH:
			if (m->off == m->enc_len) {
				if (m->att_read == m->att_size) {
					m->stage = ST_TAIL;
					m->off = 0;
					continue;
				}
				if (refill(m) < 0)
					return -1;
			}
			src = m->enc;
			avail = m->enc_len - m->off;
			break;
		default:
			src = m->tail;
			avail = m->tail_len - m->off;
			break;
		}
		if (avail == 0) {
			m->stage = m->stage == ST_HEAD && m->att_path ? ST_ATTACH
				 : m->stage == ST_HEAD ? ST_TAIL : ST_END;
			m->off = 0;
			m->enc_len = 0;
			continue;
		}
		if (avail > len - done)
			avail = len - done;
		memcpy(out + done, src + m->off, avail);
		m->off += avail;
		done += avail;
	}
	return (ssize_t)done;
}

int bk_mime_write_fd(struct bk_mime *m, int fd)
{
	char buf[65536];
	unsigned long long total = 0;
	ssize_t n;

	if (bk_mime_rewind(m) < 0)
		return -1;
	while ((n = bk_mime_read(m, buf, sizeof(buf))) > 0) {
		if (bk_write_all(fd, buf, (size_t)n) < 0)
			return bk_err_errno("cannot write the message");
		total += (unsigned long long)n;
	}
	if (n < 0)
		return -1;
	if (total != bk_mime_size(m))
		return bk_err_set("message is %llu bytes, expected %llu", total, bk_mime_size(m));
	return 0;
}
