/* age v1 with X25519 recipients over libcrypto: a text header that wraps a
 * 16-byte file key for each recipient and is authenticated with HMAC-SHA-256,
 * then a 16-byte nonce and the payload as ChaCha20-Poly1305 STREAM chunks. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "age.h"
#include "b64.h"
#include "bech32.h"
#include "err.h"
#include "fs.h"
#include "prim.h"

#define VERSION_LINE "age-encryption.org/v1"
#define X25519_INFO "age-encryption.org/v1/X25519"
#define TAG 16
#define ENC_CHUNK (BK_AGE_CHUNK + TAG)
#define HEADER_MAX (1 << 20)
#define KEY_FILE_MAX (1 << 20)

/* Keys and lists */

int bk_age_recipient_parse(struct bk_age_recipient *r, const char *s, size_t len)
{
	size_t n;

	if (bk_bech32_decode(s, len, "age", r->pk, sizeof(r->pk), &n) < 0 || n != 32)
		return bk_err_set("not an age X25519 recipient (age1...)");
	return 0;
}

char *bk_age_recipient_format(const struct bk_age_recipient *r)
{
	return bk_bech32_encode("age", r->pk, sizeof(r->pk), 0);
}

int bk_age_identity_parse(struct bk_age_identity *id, const char *s, size_t len)
{
	size_t n;

	if (bk_bech32_decode(s, len, "age-secret-key-", id->sk, sizeof(id->sk), &n) < 0 ||
	    n != 32) {
		bk_wipe(id, sizeof(*id));
		return bk_err_set("not an age X25519 identity (AGE-SECRET-KEY-1...)");
	}
	return bk_x25519_base(id->pk, id->sk);
}

char *bk_age_identity_format(const struct bk_age_identity *id)
{
	return bk_bech32_encode("age-secret-key-", id->sk, sizeof(id->sk), 1);
}

int bk_age_identity_generate(struct bk_age_identity *id)
{
	if (bk_random(id->sk, sizeof(id->sk)) < 0)
		return -1;
	return bk_x25519_base(id->pk, id->sk);
}

static int is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int bk_age_recipients_parse(const char *text, size_t len, struct bk_age_recipient **out,
			    size_t *n)
{
	size_t i = 0, cap = 0, count = 0, start;
	struct bk_age_recipient *list = NULL;
	int line_start = 1;

	while (i < len) {
		if (text[i] == '\n')
			line_start = 1;
		if (is_sep(text[i])) {
			i++;
			continue;
		}
		if (line_start && text[i] == '#') {
			while (i < len && text[i] != '\n')
				i++;
			continue;
		}
		line_start = 0;
		for (start = i; i < len && !is_sep(text[i]); i++)
			;
		if (count == cap) {
			cap = cap ? 2 * cap : 4;
			list = realloc(list, cap * sizeof(*list));
			if (!list)
				abort();
		}
		if (i - start >= 15 && strncasecmp(text + start, "AGE-SECRET-KEY-", 15) == 0) {
			free(list);
			bk_err_set("recipient %zu: a secret key (AGE-SECRET-KEY-...), not a recipient",
				   count + 1);
			bk_err_hint("give its public key: age-keygen -y KEY.txt; and replace that key");
			return -1;
		}
		if (bk_age_recipient_parse(&list[count], text + start, i - start) < 0) {
			free(list);
			return bk_err_prefix("recipient '%.*s'", (int)(i - start > 80 ? 80 : i - start),
					     text + start);
		}
		count++;
	}
	if (count == 0) {
		free(list);
		return bk_err_set("no age recipients given");
	}
	*out = list;
	*n = count;
	return 0;
}

int bk_age_recipients_load(const char *path, struct bk_age_recipient **out, size_t *n)
{
	char *text;
	size_t len;
	int ret;

	if (bk_read_file(path, KEY_FILE_MAX, &text, &len) < 0)
		return -1;
	ret = bk_age_recipients_parse(text, len, out, n);
	free(text);
	if (ret < 0)
		bk_err_prefix("%s", path);
	return ret;
}

int bk_age_identities_parse(const char *text, size_t len, struct bk_age_identity **out,
			    size_t *n)
{
	const char *p = text, *end = text + len, *nl, *s, *e;
	struct bk_age_identity *list = NULL;
	size_t cap = 0, count = 0, line = 0;

	for (; p < end; p = nl ? nl + 1 : end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		line++;
		for (s = p, e = nl ? nl : end; s < e && isspace((unsigned char)*s); s++)
			;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (s == e || *s == '#')
			continue;
		if (count == cap) {
			struct bk_age_identity *bigger;

			cap = cap ? 2 * cap : 2;
			bigger = calloc(cap, sizeof(*bigger));
			if (!bigger)
				abort();
			if (list)
				memcpy(bigger, list, count * sizeof(*list));
			bk_age_identities_free(list, count);
			list = bigger;
		}
		if (bk_age_identity_parse(&list[count], s, (size_t)(e - s)) < 0) {
			bk_age_identities_free(list, count);
			return bk_err_prefix("line %zu", line);
		}
		count++;
	}
	if (count == 0) {
		bk_age_identities_free(list, 0);
		return bk_err_set("no age identity (AGE-SECRET-KEY-1...) found");
	}
	*out = list;
	*n = count;
	return 0;
}

int bk_age_identities_load(const char *path, struct bk_age_identity **out, size_t *n)
{
	char *text;
	size_t len;
	int ret;

	if (bk_read_file(path, KEY_FILE_MAX, &text, &len) < 0)
		return -1;
	ret = bk_age_identities_parse(text, len, out, n);
	bk_wipe(text, len);
	free(text);
	if (ret < 0)
		bk_err_prefix("%s", path);
	return ret;
}

void bk_age_identities_free(struct bk_age_identity *ids, size_t n)
{
	if (!ids)
		return;
	bk_wipe(ids, n * sizeof(*ids));
	free(ids);
}

int bk_age_sink_fd(void *arg, const void *buf, size_t len)
{
	if (bk_write_all(*(int *)arg, buf, len) < 0)
		return bk_err_errno("write");
	return 0;
}

/* The STREAM nonce: 11-byte big-endian chunk counter, then the last-chunk flag. */
static void chunk_nonce(unsigned char nonce[12], uint64_t counter, int last)
{
	int i;

	memset(nonce, 0, 12);
	for (i = 0; i < 8; i++)
		nonce[10 - i] = (unsigned char)(counter >> (8 * i));
	nonce[11] = last ? 1 : 0;
}

static int wrap_key(unsigned char key[32], const unsigned char shared[32],
		    const unsigned char share[32], const unsigned char recipient[32])
{
	unsigned char salt[64];

	memcpy(salt, share, 32);
	memcpy(salt + 32, recipient, 32);
	return bk_hkdf_sha256(key, shared, 32, salt, sizeof(salt), X25519_INFO);
}

/* One-shot ChaCha20-Poly1305 under the all-zero nonce (the stanza body). */
static int body_crypt(const unsigned char key[32], const unsigned char *in, size_t len,
		      unsigned char *out, int seal)
{
	static const unsigned char zero[12];
	struct bk_aead *a = bk_aead_new(key);
	int ret;

	if (!a)
		return -1;
	ret = seal ? bk_aead_seal(a, zero, in, len, out) : bk_aead_open(a, zero, in, len, out);
	bk_aead_free(a);
	return ret;
}

/* Encryption */

struct bk_age_enc {
	bk_age_sink sink;
	void *arg;
	struct bk_aead *aead;
	unsigned char *buf, *out;	/* a plaintext chunk, its ciphertext */
	size_t buf_len;
	uint64_t counter;
	int failed, done;
};

/* "-> X25519 SHARE\nBODY\n" for one recipient. */
static char *stanza(const struct bk_age_recipient *r, const unsigned char file_key[16])
{
	unsigned char eph[32], share[32], shared[32], key[32], body[32];
	char share_b64[48], body_b64[48], *s = NULL;

	if (bk_random(eph, sizeof(eph)) < 0 || bk_x25519_base(share, eph) < 0 ||
	    bk_x25519(shared, eph, r->pk) < 0 || wrap_key(key, shared, share, r->pk) < 0 ||
	    body_crypt(key, file_key, 16, body, 1) < 0)
		goto out;
	bk_b64_encode(share_b64, share, 32, 0);
	bk_b64_encode(body_b64, body, 32, 0);
	s = bk_asprintf("-> X25519 %s\n%s\n", share_b64, body_b64);
out:
	bk_wipe(eph, sizeof(eph));
	bk_wipe(shared, sizeof(shared));
	bk_wipe(key, sizeof(key));
	return s;
}

static char *header(const struct bk_age_recipient *r, size_t n, const unsigned char file_key[16])
{
	unsigned char mac_key[32], mac[32];
	char *text = bk_xstrdup(VERSION_LINE "\n"), *s, *t;
	char mac_b64[48];
	size_t i;

	for (i = 0; i < n; i++) {
		if (!(s = stanza(&r[i], file_key))) {
			free(text);
			return NULL;
		}
		t = bk_asprintf("%s%s", text, s);
		free(text);
		free(s);
		text = t;
	}
	t = bk_asprintf("%s---", text);
	free(text);
	text = t;
	if (bk_hkdf_sha256(mac_key, file_key, 16, NULL, 0, "header") < 0 ||
	    bk_hmac_sha256(mac, mac_key, 32, text, strlen(text)) < 0) {
		free(text);
		return NULL;
	}
	bk_b64_encode(mac_b64, mac, 32, 0);
	t = bk_asprintf("%s %s\n", text, mac_b64);
	free(text);
	bk_wipe(mac_key, sizeof(mac_key));
	return t;
}

struct bk_age_enc *bk_age_enc_new(const struct bk_age_recipient *r, size_t n,
				  bk_age_sink sink, void *arg)
{
	unsigned char file_key[16], nonce[16], payload_key[32];
	struct bk_age_enc *e = NULL;
	char *hdr = NULL;

	if (n == 0) {
		bk_err_set("age: no recipients");
		return NULL;
	}
	if (bk_random(file_key, sizeof(file_key)) < 0 || bk_random(nonce, sizeof(nonce)) < 0 ||
	    !(hdr = header(r, n, file_key)) ||
	    bk_hkdf_sha256(payload_key, file_key, 16, nonce, 16, "payload") < 0)
		goto fail;
	e = calloc(1, sizeof(*e));
	if (!e)
		abort();
	e->sink = sink;
	e->arg = arg;
	e->buf = bk_xmalloc(BK_AGE_CHUNK);
	e->out = bk_xmalloc(ENC_CHUNK);
	if (!(e->aead = bk_aead_new(payload_key)) || sink(arg, hdr, strlen(hdr)) < 0 ||
	    sink(arg, nonce, sizeof(nonce)) < 0)
		goto fail;
	free(hdr);
	bk_wipe(file_key, sizeof(file_key));
	bk_wipe(payload_key, sizeof(payload_key));
	return e;
fail:
	free(hdr);
	bk_wipe(file_key, sizeof(file_key));
	bk_wipe(payload_key, sizeof(payload_key));
	bk_age_enc_free(e);
	return NULL;
}

static int enc_flush(struct bk_age_enc *e, int last)
{
	unsigned char nonce[12];

	chunk_nonce(nonce, e->counter, last);
	if (bk_aead_seal(e->aead, nonce, e->buf, e->buf_len, e->out) < 0 ||
	    e->sink(e->arg, e->out, e->buf_len + TAG) < 0) {
		e->failed = 1;
		return -1;
	}
	e->counter++;
	e->buf_len = 0;
	return 0;
}

int bk_age_enc_update(struct bk_age_enc *e, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t take;

	if (e->failed || e->done)
		return bk_err_set("age: the encryption stream is %s", e->done ? "closed" : "broken");
	while (len) {
		/* A full chunk is flushed only once more data follows: the last
		 * chunk, full or not, must carry the final flag. */
		if (e->buf_len == BK_AGE_CHUNK && enc_flush(e, 0) < 0)
			return -1;
		take = BK_AGE_CHUNK - e->buf_len < len ? BK_AGE_CHUNK - e->buf_len : len;
		memcpy(e->buf + e->buf_len, p, take);
		e->buf_len += take;
		p += take;
		len -= take;
	}
	return 0;
}

int bk_age_enc_final(struct bk_age_enc *e)
{
	if (e->failed || e->done)
		return bk_err_set("age: the encryption stream is %s", e->done ? "closed" : "broken");
	if (enc_flush(e, 1) < 0)
		return -1;
	e->done = 1;
	return 0;
}

void bk_age_enc_free(struct bk_age_enc *e)
{
	if (!e)
		return;
	bk_aead_free(e->aead);
	if (e->buf)
		bk_wipe(e->buf, BK_AGE_CHUNK);
	free(e->buf);
	free(e->out);
	free(e);
}

/* Decryption */

enum { D_HEADER, D_NONCE, D_PAYLOAD, D_DONE, D_FAILED };

struct bk_age_dec {
	struct bk_age_identity *ids;
	size_t n_ids;
	bk_age_sink sink;
	void *arg;
	int state;
	char *hdr;			/* the header read so far */
	size_t hdr_len, hdr_cap, line_start;
	unsigned char file_key[16];
	unsigned char nonce[16];
	size_t nonce_len;
	struct bk_aead *aead;
	unsigned char *buf, *out;	/* a ciphertext chunk, its plaintext */
	size_t buf_len;
	uint64_t counter;
};

static int dec_fail(struct bk_age_dec *d)
{
	d->state = D_FAILED;
	return -1;
}

static int is_b64char(char c)
{
	return isalnum((unsigned char)c) || c == '+' || c == '/';
}

/* Split "-> a b c" into arguments (pointers into line, NUL-terminated in place). */
static int stanza_args(char *line, char **args, int max)
{
	int n = 0;
	char *p = line + 3;

	for (;;) {
		char *s = p;

		while (*p > 0x20 && *p < 0x7f)
			p++;
		if (p == s || n == max)
			return -1;
		args[n++] = s;
		if (*p == '\0')
			return n;
		if (*p != ' ')
			return -1;
		*p++ = '\0';
	}
}

/* Try the identities on one X25519 stanza; 1 when one unwrapped the file key. */
static int try_x25519(struct bk_age_dec *d, char **args, int nargs, const char *body_b64,
		      size_t body_len)
{
	unsigned char share[32], body[48], shared[32], key[32];
	size_t n, i;
	int found = 0;

	if (nargs != 2 || bk_b64_decode(share, sizeof(share), &n, args[1], strlen(args[1]), 0) < 0 ||
	    n != 32)
		return bk_err_set("age header: malformed X25519 stanza");
	if (bk_b64_decode(body, sizeof(body), &n, body_b64, body_len, 0) < 0 || n != 32)
		return bk_err_set("age header: malformed X25519 stanza body");
	for (i = 0; i < d->n_ids && !found; i++) {
		if (bk_x25519(shared, d->ids[i].sk, share) < 0)
			return bk_err_set("age header: X25519 stanza with a low-order share");
		if (wrap_key(key, shared, share, d->ids[i].pk) < 0)
			return -1;
		found = body_crypt(key, body, 32, d->file_key, 0) == 0;
	}
	bk_wipe(shared, sizeof(shared));
	bk_wipe(key, sizeof(key));
	return found;
}

/* The whole header is in d->hdr (ending with the "--- MAC" line): check its
 * syntax, find the file key, check the MAC. */
static int parse_header(struct bk_age_dec *d, char *work)
{
	char *p = work, *end = work + d->hdr_len, *line, *nl, *args[64];
	unsigned char mac_key[32], mac[32], want[32];
	int nargs, found = 0, stanzas = 0, r;
	size_t n, lineno = 1;

	p += strlen(VERSION_LINE) + 1;
	for (;;) {
		line = p;
		nl = memchr(p, '\n', (size_t)(end - p));
		*nl = '\0';
		p = nl + 1;
		lineno++;
		if (strncmp(line, "---", 3) == 0)
			break;
		if (strncmp(line, "-> ", 3) != 0 || (nargs = stanza_args(line, args, 64)) < 0)
			return bk_err_set("age header: line %zu: malformed", lineno);
		/* The body: full 64-column lines, then one shorter line (maybe empty). */
		{
			char *body = p, *w = p;
			size_t len;

			do {
				nl = memchr(p, '\n', (size_t)(end - p));
				len = (size_t)(nl - p);
				lineno++;
				if (len > 64)
					return bk_err_set("age header: line %zu: stanza line longer "
							  "than 64 columns", lineno);
				for (n = 0; n < len; n++)
					if (!is_b64char(p[n]))
						return bk_err_set("age header: line %zu: malformed",
								  lineno);
				memmove(w, p, len);
				w += len;
				p = nl + 1;
			} while (len == 64 && p < end);
			if (len == 64)
				return bk_err_set("age header: unterminated stanza");
			stanzas++;
			if (strcmp(args[0], "X25519") == 0 && !found) {
				if ((r = try_x25519(d, args, nargs, body, (size_t)(w - body))) < 0)
					return -1;
				found = r;
			} else if (strcmp(args[0], "X25519") == 0 &&
				   (nargs != 2 || w - body != 43)) {
				return bk_err_set("age header: malformed X25519 stanza");
			}
		}
	}
	if (stanzas == 0)
		return bk_err_set("age header: no recipient stanza");
	if (strlen(line) != 4 + 43 || line[3] != ' ' ||
	    bk_b64_decode(want, sizeof(want), &n, line + 4, 43, 0) < 0 || n != 32)
		return bk_err_set("age header: malformed MAC line");
	if (!found) {
		bk_err_set("age: no identity matches: the file was encrypted to other recipients");
		bk_err_hint("decrypt with the identity of one of its recipients");
		return -1;
	}
	if (bk_hkdf_sha256(mac_key, d->file_key, 16, NULL, 0, "header") < 0 ||
	    bk_hmac_sha256(mac, mac_key, 32, d->hdr, (size_t)(line + 3 - work)) < 0)
		return -1;
	bk_wipe(mac_key, sizeof(mac_key));
	if (bk_ct_cmp(mac, want, 32) != 0)
		return bk_err_set("age header: bad MAC: the header was altered");
	return 0;
}

/* A complete header line was added at d->line_start. */
static int header_line(struct bk_age_dec *d)
{
	const char *line = d->hdr + d->line_start;
	size_t len = d->hdr_len - d->line_start - 1;

	if (d->line_start == 0) {
		if (len == strlen(VERSION_LINE) && memcmp(line, VERSION_LINE, len) == 0)
			return 0;
		if (len >= 10 && memcmp(line, "-----BEGIN", 10) == 0)
			return bk_err_set("age: armored (PEM) age files are not supported");
		if (len >= 19 && memcmp(line, "age-encryption.org/", 19) == 0)
			return bk_err_set("age: unsupported version %.*s", (int)(len > 40 ? 40 : len),
					  line);
		return bk_err_set("age: not an age file");
	}
	if (memchr(line, '\0', len))
		return bk_err_set("age header: NUL byte");
	return len >= 3 && memcmp(line, "---", 3) == 0;
}

/* Take header bytes; returns how many were consumed, -1 on error. */
static ssize_t dec_header(struct bk_age_dec *d, const unsigned char *p, size_t len)
{
	size_t i;
	int r;

	for (i = 0; i < len; i++) {
		if (d->hdr_len + 1 >= d->hdr_cap) {
			if (d->hdr_cap >= HEADER_MAX)
				return bk_err_set(d->line_start == 0 ? "age: not an age file"
								     : "age header: too long");
			d->hdr_cap = d->hdr_cap ? 2 * d->hdr_cap : 1024;
			if (!(d->hdr = realloc(d->hdr, d->hdr_cap)))
				abort();
		}
		d->hdr[d->hdr_len++] = (char)p[i];
		/* Not an age file (a plain .tar.gz): say so without reading on. */
		if (d->line_start == 0 && p[i] != '\n' &&
		    (p[i] < 0x20 || p[i] > 0x7e || d->hdr_len > 256))
			return bk_err_set("age: not an age file");
		if (p[i] != '\n')
			continue;
		if ((r = header_line(d)) < 0)
			return -1;
		d->line_start = d->hdr_len;
		if (r == 1) {
			char *work = bk_xmalloc(d->hdr_len);

			memcpy(work, d->hdr, d->hdr_len);
			r = parse_header(d, work);
			free(work);
			if (r < 0)
				return -1;
			d->state = D_NONCE;
			return (ssize_t)(i + 1);
		}
	}
	return (ssize_t)len;
}

static int dec_chunk(struct bk_age_dec *d, int last)
{
	unsigned char nonce[12];
	size_t plain = d->buf_len - TAG;

	chunk_nonce(nonce, d->counter, last);
	if (bk_aead_open(d->aead, nonce, d->buf, d->buf_len, d->out) < 0) {
		if (last && d->buf_len == ENC_CHUNK &&
		    (chunk_nonce(nonce, d->counter, 0),
		     bk_aead_open(d->aead, nonce, d->buf, d->buf_len, d->out) == 0))
			return bk_err_set("age: truncated: the file ends after chunk %llu, "
					  "without its final chunk",
					  (unsigned long long)d->counter + 1);
		return bk_err_set("age: chunk %llu: authentication failed: the file is "
				  "damaged, truncated or altered", (unsigned long long)d->counter + 1);
	}
	if (last && plain == 0 && d->counter > 0)
		return bk_err_set("age: the final chunk is empty");
	if (plain && d->sink(d->arg, d->out, plain) < 0)
		return -1;
	d->counter++;
	d->buf_len = 0;
	return 0;
}

struct bk_age_dec *bk_age_dec_new(const struct bk_age_identity *ids, size_t n,
				  bk_age_sink sink, void *arg)
{
	struct bk_age_dec *d;

	if (n == 0) {
		bk_err_set("age: no identities");
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		abort();
	d->ids = bk_xmalloc(n * sizeof(*ids));
	memcpy(d->ids, ids, n * sizeof(*ids));
	d->n_ids = n;
	d->sink = sink;
	d->arg = arg;
	d->buf = bk_xmalloc(ENC_CHUNK);
	d->out = bk_xmalloc(BK_AGE_CHUNK);
	return d;
}

int bk_age_dec_update(struct bk_age_dec *d, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	unsigned char key[32];
	ssize_t used;
	size_t take;

	if (d->state == D_FAILED)
		return bk_err_set("age: decryption already failed");
	while (len) {
		switch (d->state) {
		case D_HEADER:
			if ((used = dec_header(d, p, len)) < 0)
				return dec_fail(d);
			p += used;
			len -= (size_t)used;
			break;
		case D_NONCE:
			take = 16 - d->nonce_len < len ? 16 - d->nonce_len : len;
			memcpy(d->nonce + d->nonce_len, p, take);
			d->nonce_len += take;
			p += take;
			len -= take;
			if (d->nonce_len < 16)
				break;
			if (bk_hkdf_sha256(key, d->file_key, 16, d->nonce, 16, "payload") < 0 ||
			    !(d->aead = bk_aead_new(key)))
				return dec_fail(d);
			bk_wipe(key, sizeof(key));
			d->state = D_PAYLOAD;
			break;
		case D_PAYLOAD:
			/* A full chunk is not final only if more data follows. */
			if (d->buf_len == ENC_CHUNK && dec_chunk(d, 0) < 0)
				return dec_fail(d);
			take = ENC_CHUNK - d->buf_len < len ? ENC_CHUNK - d->buf_len : len;
			memcpy(d->buf + d->buf_len, p, take);
			d->buf_len += take;
			p += take;
			len -= take;
			break;
		default:
			return bk_err_set("age: data after the end of the file");
		}
	}
	return 0;
}

int bk_age_dec_final(struct bk_age_dec *d)
{
	switch (d->state) {
	case D_HEADER:
		bk_err_set(d->hdr_len ? "age: truncated: the file ends in its header"
				      : "age: empty file (not an age file)");
		return dec_fail(d);
	case D_NONCE:
		bk_err_set("age: truncated: the file ends before its payload");
		return dec_fail(d);
	case D_PAYLOAD:
		break;
	case D_DONE:
		return 0;
	default:
		return bk_err_set("age: decryption already failed");
	}
	if (d->buf_len < TAG) {
		bk_err_set("age: truncated: the file ends %s",
			   d->counter ? "without its final chunk" : "before its first chunk");
		return dec_fail(d);
	}
	if (dec_chunk(d, 1) < 0)
		return dec_fail(d);
	d->state = D_DONE;
	return 0;
}

void bk_age_dec_free(struct bk_age_dec *d)
{
	if (!d)
		return;
	bk_age_identities_free(d->ids, d->n_ids);
	bk_wipe(d->file_key, sizeof(d->file_key));
	bk_aead_free(d->aead);
	free(d->hdr);
	free(d->buf);
	if (d->out)
		bk_wipe(d->out, BK_AGE_CHUNK);
	free(d->out);
	free(d);
}

/* Pull reader */

#define READ_STEP 16384		/* < one encrypted chunk: one step yields at most one chunk */

struct bk_age_reader {
	struct bk_age_dec *dec;
	bk_age_source src;
	void *arg;
	unsigned char *out, in[READ_STEP];
	size_t out_len, out_off;
	int eof, failed;
};

static int reader_sink(void *arg, const void *buf, size_t len)
{
	struct bk_age_reader *r = arg;

	if (r->out_len + len > BK_AGE_CHUNK)
		return bk_err_set("age: internal error: reader overflow");
	memcpy(r->out + r->out_len, buf, len);
	r->out_len += len;
	return 0;
}

struct bk_age_reader *bk_age_reader_new(const struct bk_age_identity *ids, size_t n,
					bk_age_source src, void *arg)
{
	struct bk_age_reader *r = calloc(1, sizeof(*r));

	if (!r)
		abort();
	if (!(r->dec = bk_age_dec_new(ids, n, reader_sink, r))) {
		free(r);
		return NULL;
	}
	r->src = src;
	r->arg = arg;
	r->out = bk_xmalloc(BK_AGE_CHUNK);
	return r;
}

ssize_t bk_age_read(struct bk_age_reader *r, void *buf, size_t len)
{
	ssize_t got;
	size_t n;

	if (r->failed)
		return bk_err_set("age: decryption already failed");
	while (r->out_off == r->out_len && !r->eof) {
		r->out_off = r->out_len = 0;
		if ((got = r->src(r->arg, r->in, sizeof(r->in))) < 0)
			goto fail;
		if (got == 0) {
			if (bk_age_dec_final(r->dec) < 0)
				goto fail;
			r->eof = 1;
		} else if (bk_age_dec_update(r->dec, r->in, (size_t)got) < 0) {
			goto fail;
		}
	}
	n = r->out_len - r->out_off < len ? r->out_len - r->out_off : len;
	memcpy(buf, r->out + r->out_off, n);
	r->out_off += n;
	return (ssize_t)n;
fail:
	r->failed = 1;
	return -1;
}

void bk_age_reader_free(struct bk_age_reader *r)
{
	if (!r)
		return;
	bk_age_dec_free(r->dec);
	if (r->out)
		bk_wipe(r->out, BK_AGE_CHUNK);
	free(r->out);
	free(r);
}

/* File descriptors */

static ssize_t read_some(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		bk_err_errno("read");
	return n;
}

int bk_age_encrypt_fd(const struct bk_age_recipient *r, size_t n, int in_fd, int out_fd)
{
	struct bk_age_enc *e = bk_age_enc_new(r, n, bk_age_sink_fd, &out_fd);
	unsigned char *buf = bk_xmalloc(BK_AGE_CHUNK);
	ssize_t got;
	int ret = -1;

	if (!e)
		goto out;
	while ((got = read_some(in_fd, buf, BK_AGE_CHUNK)) > 0)
		if (bk_age_enc_update(e, buf, (size_t)got) < 0)
			goto out;
	if (got < 0 || bk_age_enc_final(e) < 0)
		goto out;
	ret = 0;
out:
	bk_age_enc_free(e);
	free(buf);
	return ret;
}

int bk_age_decrypt_fd(const struct bk_age_identity *ids, size_t n, int in_fd, int out_fd)
{
	struct bk_age_dec *d = bk_age_dec_new(ids, n, bk_age_sink_fd, &out_fd);
	unsigned char *buf = bk_xmalloc(BK_AGE_CHUNK);
	ssize_t got;
	int ret = -1;

	if (!d)
		goto out;
	while ((got = read_some(in_fd, buf, BK_AGE_CHUNK)) > 0)
		if (bk_age_dec_update(d, buf, (size_t)got) < 0)
			goto out;
	if (got < 0 || bk_age_dec_final(d) < 0)
		goto out;
	ret = 0;
out:
	bk_age_dec_free(d);
	free(buf);
	return ret;
}
