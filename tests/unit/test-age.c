/* Unit tests for lib/crypt/age.c: keys (the spec's vector), lists, files made
 * by the real age 1.1 decrypt, round trips at the chunk-size edges fed in odd
 * pieces, every bit flip and truncation refused, and files built here from the
 * spec's formulas for the rules age itself never breaks (final-chunk rule,
 * malformed stanzas, unknown stanzas ignored). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "age.h"
#include "b64.h"
#include "err.h"
#include "fs.h"
#include "prim.h"
#include "tap.h"

#define SPEC_ID "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
#define SPEC_R "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"

/* age-keygen -o id.txt; age -r age10mf... -o hello.age (and empty.age from /dev/null) */
static const char id_file[] =
	"# created: 2026-12-01T09:07:22Z\n"
	"# public key: age10mflec9urhp2l5neqraav9h35p4sknk8jsmxw3sjmk539fs74yasv3flsg\n"
	"AGE-SECRET-KEY-1MYD9JYG4GXNVFV2RNARPS8L30GDZL7T7YMWG6HKYSCDZJD4HMQFQ9XA5PS\n";
static const char hello_age[] =
	"YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSB4WmttNnlwUThCQ2xKL3VCSkRhYkZSWENMTkZ0a1A3K1FaaGRueC8yY2hJCmF1eFJmRy9Pdi9pQStNSDNjNkQzcDgyNVY3MmFQNEpFL1RxVmhLd05rUEkKLS0tIDJGQllnYy83VUZtcHBzTWFta1pnUERaampCTlovQ1dYMmNJK2dwbjBCYWsKRfPIR/E3SmXKHJW++Bj/p/evi+lMkEvf/UObkYjJotsU+hi2dUKPVkHleaySfuY=";
static const char empty_age[] =
	"YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBsNGdPa0pQNlNQV3ppLzdJd0svTjYyMGkrV0d0eGV4VWV3MkRLL3dCT2pRCjRSc244bHFQaGJRTUZhMFk5QXVZeHhhZUVMbTBMVVhtbllBSkd3WnJ0WW8KLS0tIHdDT09tMVlNQmpTdXFXbEhqU3NtVERpTDZuVnp2L2o0ekxkSmNtK2l2Vk0KyCu9il4nVEOGrAF5UukVKt4qWNaTGz6IH5swMTrr/PY=";

/* A growing byte buffer, used as a sink. */
struct buf {
	unsigned char *p;
	size_t len, cap;
};

static int buf_sink(void *arg, const void *data, size_t len)
{
	struct buf *b = arg;

	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

static void buf_add(struct buf *b, const void *data, size_t len)
{
	buf_sink(b, data, len);
}

static struct bk_age_identity ident(const char *s)
{
	struct bk_age_identity id;

	if (bk_age_identity_parse(&id, s, strlen(s)) < 0)
		abort();
	return id;
}

static struct bk_age_recipient recip_of(const struct bk_age_identity *id)
{
	struct bk_age_recipient r;

	memcpy(r.pk, id->pk, 32);
	return r;
}

/* Encrypt len bytes of data fed in pieces of step bytes. */
static struct buf encrypt(const struct bk_age_recipient *r, size_t n, const unsigned char *data,
			  size_t len, size_t step)
{
	struct buf out = { 0 };
	struct bk_age_enc *e = bk_age_enc_new(r, n, buf_sink, &out);
	size_t i;

	for (i = 0; i < len; i += step)
		bk_age_enc_update(e, data + i, len - i < step ? len - i : step);
	if (bk_age_enc_final(e) < 0)
		abort();
	bk_age_enc_free(e);
	return out;
}

/* Decrypt fed in pieces of step bytes: 0 and *out, or -1. */
static int decrypt(const struct bk_age_identity *ids, size_t n, const unsigned char *data,
		   size_t len, size_t step, struct buf *out)
{
	struct bk_age_dec *d = bk_age_dec_new(ids, n, buf_sink, out);
	size_t i;
	int ret = 0;

	out->len = 0;
	for (i = 0; i < len && ret == 0; i += step)
		ret = bk_age_dec_update(d, data + i, len - i < step ? len - i : step);
	if (ret == 0)
		ret = bk_age_dec_final(d);
	bk_age_dec_free(d);
	return ret;
}

static struct buf from_b64(const char *s)
{
	struct buf b = { 0 };

	b.cap = strlen(s);
	b.p = malloc(b.cap);
	if (bk_b64_decode(b.p, b.cap, &b.len, s, strlen(s), 1) < 0)
		abort();
	return b;
}

static void test_keys(void)
{
	struct bk_age_identity id, *ids;
	struct bk_age_recipient r, *rs;
	char *s;
	size_t n;

	ok(bk_age_identity_parse(&id, SPEC_ID, strlen(SPEC_ID)) == 0, "the spec's identity parses");
	r = recip_of(&id);
	s = bk_age_recipient_format(&r);
	ok(!strcmp(s, SPEC_R), "its recipient is the spec's");
	free(s);
	s = bk_age_identity_format(&id);
	ok(!strcmp(s, SPEC_ID), "formatting the identity gives it back");
	free(s);
	ok(bk_age_recipient_parse(&r, SPEC_R, strlen(SPEC_R)) == 0 && !memcmp(r.pk, id.pk, 32),
	   "the spec's recipient parses to the same key");
	ok(bk_age_recipient_parse(&r, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwk",
				  62) == -1 && strstr(bk_err(), "not an age X25519 recipient"),
	   "a bad checksum is refused");
	ok(bk_age_recipient_parse(&r, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwJ",
				  62) == -1, "mixed case is refused");
	ok(bk_age_recipient_parse(&r, SPEC_ID, strlen(SPEC_ID)) == -1, "an identity is not a recipient");
	ok(bk_age_identity_parse(&id, SPEC_R, strlen(SPEC_R)) == -1, "a recipient is not an identity");

	ok(bk_age_recipients_parse(SPEC_R ", age10mflec9urhp2l5neqraav9h35p4sknk8jsmxw3sjmk539fs74yasv3flsg",
				   strlen(SPEC_R) + 64, &rs, &n) == 0 && n == 2,
	   "a comma-separated list of two recipients");
	free(rs);
	s = "# age -R file\n\n" SPEC_R "\n  # another comment\n" SPEC_R "\n";
	ok(bk_age_recipients_parse(s, strlen(s), &rs, &n) == 0 && n == 2,
	   "an age -R file: comments and blank lines");
	free(rs);
	ok(bk_age_recipients_parse(" ,\n# only\n", 10, &rs, &n) == -1 &&
	   strstr(bk_err(), "no age recipients"), "an empty list is refused");
	s = SPEC_R " ssh-ed25519";
	ok(bk_age_recipients_parse(s, strlen(s), &rs, &n) == -1 &&
	   !strcmp(bk_err(), "recipient 'ssh-ed25519': not an age X25519 recipient (age1...)"),
	   "another kind of recipient is named");
	s = SPEC_R "," SPEC_ID;
	ok(bk_age_recipients_parse(s, strlen(s), &rs, &n) == -1 &&
	   strstr(bk_err(), "recipient 2: a secret key") && !strstr(bk_err(), "GFPYY"),
	   "a secret key among recipients is refused without echoing it");

	ok(bk_age_identities_parse(id_file, strlen(id_file), &ids, &n) == 0 && n == 1,
	   "an age-keygen file parses");
	r = recip_of(&ids[0]);
	s = bk_age_recipient_format(&r);
	ok(!strcmp(s, "age10mflec9urhp2l5neqraav9h35p4sknk8jsmxw3sjmk539fs74yasv3flsg"),
	   "its recipient is the one age-keygen printed");
	free(s);
	bk_age_identities_free(ids, n);
	s = "# c\n" SPEC_ID "\nAGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEY\n";
	ok(bk_age_identities_parse(s, strlen(s), &ids, &n) == -1 &&
	   !strncmp(bk_err(), "line 3: ", 8) && !strstr(bk_err(), "GFPYY"),
	   "a bad identity line is named by number, never shown");
	ok(bk_age_identities_parse("# nothing\n", 10, &ids, &n) == -1 &&
	   strstr(bk_err(), "no age identity"), "a file without identities is refused");
}

static void test_age_files(void)
{
	struct bk_age_identity *ids;
	struct buf f = from_b64(hello_age), e = from_b64(empty_age), out = { 0 };
	size_t n;

	bk_age_identities_parse(id_file, strlen(id_file), &ids, &n);
	ok(decrypt(ids, n, f.p, f.len, f.len, &out) == 0 && out.len == 15 &&
	   !memcmp(out.p, "hello from age\n", 15), "a file age encrypted decrypts");
	ok(decrypt(ids, n, f.p, f.len, 1, &out) == 0 && out.len == 15,
	   "the same, fed one byte at a time");
	ok(decrypt(ids, n, e.p, e.len, 7, &out) == 0 && out.len == 0,
	   "an empty file age encrypted decrypts to nothing");
	bk_age_identities_free(ids, n);
	free(f.p);
	free(e.p);
	free(out.p);
}

static void test_round_trips(void)
{
	static const size_t sizes[] = { 0, 1, 65535, 65536, 65537, 131072, 200000 };
	struct bk_age_identity ids[3];
	struct bk_age_recipient rs[3];
	struct buf c, out = { 0 };
	unsigned char *data = malloc(200000);
	size_t i, k;
	int good;

	for (i = 0; i < 3; i++) {
		bk_age_identity_generate(&ids[i]);
		rs[i] = recip_of(&ids[i]);
	}
	bk_random(data, 200000);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t chunks = sizes[i] ? (sizes[i] + 65535) / 65536 : 1;

		c = encrypt(rs, 2, data, sizes[i], 7777);
		good = decrypt(&ids[0], 1, c.p, c.len, 4096, &out) == 0 && out.len == sizes[i] &&
		       (!sizes[i] || !memcmp(out.p, data, sizes[i]));
		good = good && decrypt(&ids[1], 1, c.p, c.len, 65552, &out) == 0 &&
		       out.len == sizes[i] && (!sizes[i] || !memcmp(out.p, data, sizes[i]));
		ok(good, "%zu bytes: both recipients decrypt it", sizes[i]);
		/* header, 16-byte nonce, a 16-byte tag per chunk */
		for (k = 0; k + 4 < c.len && memcmp(c.p + k, "\n--- ", 5); k++)
			;
		ok(c.len == k + 1 + 48 + 16 + sizes[i] + 16 * chunks,
		   "%zu bytes: %zu chunk(s), as age writes them", sizes[i], chunks);
		ok(decrypt(&ids[2], 1, c.p, c.len, 100000, &out) == -1 &&
		   strstr(bk_err(), "no identity matches"), "%zu bytes: a third identity is refused",
		   sizes[i]);
		ok(decrypt(ids, 3, c.p, c.len, 100000, &out) == 0 && out.len == sizes[i],
		   "%zu bytes: a list of identities finds the matching one", sizes[i]);
		free(c.p);
	}
	free(data);
	free(out.p);
}

/* Every single-bit flip and every truncation of a small file is refused. */
static void test_tamper_small(void)
{
	struct bk_age_identity id;
	struct bk_age_recipient r;
	struct buf c, out = { 0 };
	size_t i, bit, flips_ok = 0, flips = 0, cuts_ok = 0;

	bk_age_identity_generate(&id);
	r = recip_of(&id);
	c = encrypt(&r, 1, (const unsigned char *)"a small secret", 14, 14);
	for (i = 0; i < c.len; i++)
		for (bit = 0; bit < 8; bit++) {
			c.p[i] ^= (unsigned char)(1 << bit);
			flips++;
			flips_ok += decrypt(&id, 1, c.p, c.len, c.len, &out) == -1;
			c.p[i] ^= (unsigned char)(1 << bit);
		}
	ok(flips_ok == flips, "all %zu single-bit flips are refused", flips);
	for (i = 0; i < c.len; i++)
		cuts_ok += decrypt(&id, 1, c.p, i, 5, &out) == -1;
	ok(cuts_ok == c.len, "all %zu truncations are refused", c.len);
	ok(decrypt(&id, 1, c.p, c.len, c.len, &out) == 0, "the file itself still decrypts");
	buf_add(&c, "", 1);
	ok(decrypt(&id, 1, c.p, c.len, c.len, &out) == -1, "a byte appended is refused");
	free(c.p);
	free(out.p);
}

/* Chunk-level tampering on a 3-chunk file. */
static void test_tamper_chunks(void)
{
	struct bk_age_identity id;
	struct bk_age_recipient r;
	struct buf c, t = { 0 }, out = { 0 };
	unsigned char *data = calloc(1, 150000);
	size_t p, C = 65552;

	bk_age_identity_generate(&id);
	r = recip_of(&id);
	c = encrypt(&r, 1, data, 150000, 150000);
	p = c.len - (150000 + 3 * 16);	/* payload start */
	ok(decrypt(&id, 1, c.p, p + 2 * C, 9999, &out) == -1 &&
	   strstr(bk_err(), "truncated: the file ends after chunk 2"),
	   "cut after two full chunks: truncated");
	ok(decrypt(&id, 1, c.p, p + C + 100, 9999, &out) == -1 &&
	   strstr(bk_err(), "chunk 2: authentication failed"), "cut inside a chunk: refused");
	ok(decrypt(&id, 1, c.p, p, 9999, &out) == -1 &&
	   strstr(bk_err(), "before its first chunk"), "only header and nonce: truncated");
	ok(decrypt(&id, 1, c.p, p - 5, 9999, &out) == -1 &&
	   strstr(bk_err(), "before its payload"), "cut in the nonce: truncated");
	buf_add(&t, c.p, p);
	buf_add(&t, c.p + p + C, C);
	buf_add(&t, c.p + p, C);
	buf_add(&t, c.p + p + 2 * C, c.len - p - 2 * C);
	ok(decrypt(&id, 1, t.p, t.len, 9999, &out) == -1 &&
	   strstr(bk_err(), "chunk 1: authentication failed"), "two chunks swapped: refused");
	t.len = 0;
	buf_add(&t, c.p, p + C);
	buf_add(&t, c.p + p + 2 * C, c.len - p - 2 * C);
	ok(decrypt(&id, 1, t.p, t.len, 9999, &out) == -1 &&
	   strstr(bk_err(), "chunk 2: authentication failed"), "a chunk dropped: refused");
	ok(out.len == 65536, "only verified chunks reached the sink");
	free(c.p);
	free(t.p);
	free(out.p);
	free(data);
}

/* Files built from the spec's formulas: a header from the given stanza lines
 * (with "%s" standing for a real X25519 stanza to id), then chunks of the given
 * plaintext sizes, with flags. */
struct chunk {
	size_t len;
	int last;
};

static struct buf craft(const struct bk_age_identity *id, const char *stanzas,
			const struct chunk *chunks, size_t n)
{
	unsigned char file_key[16], nonce[16], eph[32], share[32], shared[32], key[32], body[32];
	unsigned char mac_key[32], mac[32], salt[64], cn[12], plain[65536], sealed[65552];
	char share_b64[48], body_b64[48], mac_b64[48], *x, *hdr, *signed_part;
	struct bk_aead *a;
	struct buf f = { 0 };
	size_t i;

	memset(file_key, 7, 16);
	memset(nonce, 9, 16);
	memset(plain, 'p', sizeof(plain));
	bk_random(eph, 32);
	bk_x25519_base(share, eph);
	bk_x25519(shared, eph, id->pk);
	memcpy(salt, share, 32);
	memcpy(salt + 32, id->pk, 32);
	bk_hkdf_sha256(key, shared, 32, salt, 64, "age-encryption.org/v1/X25519");
	a = bk_aead_new(key);
	memset(cn, 0, 12);
	bk_aead_seal(a, cn, file_key, 16, body);
	bk_aead_free(a);
	bk_b64_encode(share_b64, share, 32, 0);
	bk_b64_encode(body_b64, body, 32, 0);
	x = bk_asprintf("-> X25519 %s\n%s\n", share_b64, body_b64);
	{
		const char *at = strstr(stanzas, "%s");

		hdr = at ? bk_asprintf("%.*s%s%s", (int)(at - stanzas), stanzas, x, at + 2)
			 : bk_xstrdup(stanzas);
	}
	signed_part = bk_asprintf("age-encryption.org/v1\n%s---", hdr);
	bk_hkdf_sha256(mac_key, file_key, 16, NULL, 0, "header");
	bk_hmac_sha256(mac, mac_key, 32, signed_part, strlen(signed_part));
	bk_b64_encode(mac_b64, mac, 32, 0);
	buf_add(&f, signed_part, strlen(signed_part));
	buf_add(&f, " ", 1);
	buf_add(&f, mac_b64, strlen(mac_b64));
	buf_add(&f, "\n", 1);
	buf_add(&f, nonce, 16);
	bk_hkdf_sha256(key, file_key, 16, nonce, 16, "payload");
	a = bk_aead_new(key);
	for (i = 0; i < n; i++) {
		memset(cn, 0, 12);
		cn[10] = (unsigned char)i;
		cn[11] = (unsigned char)chunks[i].last;
		bk_aead_seal(a, cn, plain, chunks[i].len, sealed);
		buf_add(&f, sealed, chunks[i].len + 16);
	}
	bk_aead_free(a);
	free(x);
	free(hdr);
	free(signed_part);
	return f;
}

static void crafted(const struct bk_age_identity *id, const char *stanzas,
		    const struct chunk *chunks, size_t n, const char *want, const char *title)
{
	struct buf f = craft(id, stanzas, chunks, n), out = { 0 };
	int ret = decrypt(id, 1, f.p, f.len, 3000, &out);

	if (!want)
		ok(ret == 0, "%s", title);
	else
		ok(ret == -1 && strstr(bk_err(), want), "%s", title);
	if (want ? ret != -1 || !strstr(bk_err(), want) : ret != 0)
		printf("# want '%s', got %d '%s'\n", want ? want : "success", ret, bk_err());
	free(f.p);
	free(out.p);
}

static void test_crafted(void)
{
	struct bk_age_identity id = ident(SPEC_ID);
	const struct chunk one[] = { { 10, 1 } }, empty[] = { { 0, 1 } },
			   full_last[] = { { 65536, 1 } },
			   empty_after[] = { { 65536, 0 }, { 0, 1 } },
			   no_final[] = { { 65536, 0 } },
			   after_final[] = { { 65536, 1 }, { 10, 1 } },
			   short_mid[] = { { 10, 0 }, { 10, 1 } };
	char long_body[200];

	crafted(&id, "%s", one, 1, NULL, "a file built from the spec decrypts");
	crafted(&id, "%s", empty, 1, NULL, "an empty payload is one empty final chunk");
	crafted(&id, "%s", full_last, 1, NULL, "a full 64 KiB final chunk is allowed");
	crafted(&id, "%s", empty_after, 2, "the final chunk is empty",
		"an empty final chunk after data is refused");
	crafted(&id, "%s", no_final, 1, "truncated", "a file without a final chunk is refused");
	crafted(&id, "%s", after_final, 2, "authentication failed",
		"a chunk after the final chunk is refused");
	crafted(&id, "%s", short_mid, 2, "authentication failed",
		"a short chunk that is not the last is refused");
	memset(long_body, 'A', 64);
	strcpy(long_body + 64, "\nAAAA\n");
	{
		char *s = bk_asprintf("-> 5@-grease x y\n%s-> other.example/thing\n\n%%s", long_body);

		crafted(&id, s, one, 1, NULL, "unknown stanzas (one with a two-line body) are ignored");
		free(s);
	}
	crafted(&id, "-> X25519 abc\nAAAA\n%s", one, 1, "malformed X25519 stanza",
		"an X25519 stanza with a bad share is refused");
	crafted(&id, "%s-> X25519 a b\nAAAA\n", one, 1, "malformed X25519 stanza",
		"an X25519 stanza with three arguments is refused (even after a match)");
	crafted(&id, "->  x\n\n%s", one, 1, "malformed", "an empty argument is refused");
	crafted(&id, "-> x\nA=\n%s", one, 1, "malformed", "padding in a stanza body is refused");
	crafted(&id, "", one, 1, "no recipient stanza", "a header without stanzas is refused");
	{
		memset(long_body, 'A', 65);
		strcpy(long_body + 65, "\n");
		char *s = bk_asprintf("-> x\n%s%%s", long_body);

		crafted(&id, s, one, 1, "longer than 64 columns", "a 65-column body line is refused");
		free(s);
	}
}

static void test_not_age(void)
{
	struct bk_age_identity id = ident(SPEC_ID);
	struct buf out = { 0 };
	const char *s;

	s = "\x1f\x8b\x08\x00 gzip";
	ok(decrypt(&id, 1, (const unsigned char *)s, strlen(s), 100, &out) == -1 &&
	   !strcmp(bk_err(), "age: not an age file"), "a gzip file is not an age file");
	s = "age-encryption.org/v2\n-> x\n\n--- AAAA\n";
	ok(decrypt(&id, 1, (const unsigned char *)s, strlen(s), 100, &out) == -1 &&
	   strstr(bk_err(), "unsupported version age-encryption.org/v2"), "another version is refused");
	s = "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n";
	ok(decrypt(&id, 1, (const unsigned char *)s, strlen(s), 100, &out) == -1 &&
	   strstr(bk_err(), "armored"), "an armored file is refused by name");
	ok(decrypt(&id, 1, (const unsigned char *)"", 0, 100, &out) == -1 &&
	   strstr(bk_err(), "empty file"), "an empty file is refused");
	s = "age-encryption.org/v1\n-> X25519 x";
	ok(decrypt(&id, 1, (const unsigned char *)s, strlen(s), 100, &out) == -1 &&
	   strstr(bk_err(), "ends in its header"), "a file cut in its header is truncated");
	free(out.p);
}

/* A source handing out a buffer in pieces of at most 333 bytes. */
struct mem_src {
	const unsigned char *p;
	size_t len, off;
};

static ssize_t mem_read(void *arg, void *buf, size_t len)
{
	struct mem_src *m = arg;
	size_t n = m->len - m->off;

	if (n > len)
		n = len;
	if (n > 333)
		n = 333;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

static void test_reader(void)
{
	struct bk_age_identity id;
	struct bk_age_recipient r;
	unsigned char *data = malloc(140000), got[1000];
	struct buf c, out = { 0 };
	struct mem_src src;
	struct bk_age_reader *rd;
	ssize_t n;

	bk_age_identity_generate(&id);
	r = recip_of(&id);
	bk_random(data, 140000);
	c = encrypt(&r, 1, data, 140000, 140000);
	src = (struct mem_src){ c.p, c.len, 0 };
	rd = bk_age_reader_new(&id, 1, mem_read, &src);
	while ((n = bk_age_read(rd, got, sizeof(got))) > 0)
		buf_add(&out, got, (size_t)n);
	ok(n == 0 && out.len == 140000 && !memcmp(out.p, data, 140000),
	   "the pull reader gives the plaintext, then 0 at the verified end");
	bk_age_reader_free(rd);
	src = (struct mem_src){ c.p, c.len - 1, 0 };
	rd = bk_age_reader_new(&id, 1, mem_read, &src);
	while ((n = bk_age_read(rd, got, sizeof(got))) > 0)
		;
	ok(n == -1 && strstr(bk_err(), "authentication failed"),
	   "the pull reader refuses a truncated file with -1");
	ok(bk_age_read(rd, got, sizeof(got)) == -1, "and keeps refusing");
	bk_age_reader_free(rd);
	free(c.p);
	free(data);
	free(out.p);
}

int main(void)
{
	test_keys();
	test_age_files();
	test_round_trips();
	test_tamper_small();
	test_tamper_chunks();
	test_crafted();
	test_not_age();
	test_reader();
	return done_testing();
}
