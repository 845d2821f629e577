/* minisign's key and signature formats over libcrypto's Ed25519 and BLAKE2b-512:
 * a key is "Ed" || key ID (8) || key material, a signature is "ED" or "Ed" ||
 * key ID || Ed25519 signature, then a trusted comment signed with it. */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b64.h"
#include "err.h"
#include "fs.h"
#include "minisign.h"
#include "prim.h"

#define UNTRUSTED "untrusted comment: "
#define TRUSTED "trusted comment: "
#define PUB_BYTES 42			/* "Ed" id pk */
#define SEC_BYTES 158			/* "Ed" kdf chk salt(32) ops(8) mem(8) id sk(64) chk(32) */
#define SIG_BYTES 74			/* alg id sig */
#define KEY_FILE_MAX 65536

struct cursor {
	const char *p, *end;
};

/* The next line without its LF (and a CR before it); 0 at the end of the text. */
static int next_line(struct cursor *c, const char **line, size_t *len)
{
	const char *nl;

	if (c->p >= c->end)
		return 0;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	*line = c->p;
	*len = (size_t)((nl ? nl : c->end) - c->p);
	c->p = nl ? nl + 1 : c->end;
	if (*len && (*line)[*len - 1] == '\r')
		(*len)--;
	return 1;
}

static int has_prefix(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(line, prefix, n) == 0;
}

static int only_blank_lines(struct cursor *c)
{
	const char *line;
	size_t len;

	while (next_line(c, &line, &len))
		if (len)
			return 0;
	return 1;
}

/* The base64 line of a key: after an optional untrusted comment, trailing spaces cut. */
static int key_line(const char *text, size_t len, const char **b64, size_t *b64_len)
{
	struct cursor c = { text, text + len };
	const char *line;
	size_t n;

	do {
		if (!next_line(&c, &line, &n))
			return -1;
	} while (n == 0);
	if (has_prefix(line, n, UNTRUSTED) && !next_line(&c, &line, &n))
		return -1;
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	if (!only_blank_lines(&c))
		return -1;
	*b64 = line;
	*b64_len = n;
	return 0;
}

void bk_minisign_id_hex(const unsigned char id[8], char out[BK_MINISIGN_ID_HEX])
{
	static const char hex[] = "0123456789ABCDEF";
	int i;

	size_t skip;

	/* minisign prints the ID as a little-endian 64-bit number, "%" PRIX64:
	 * without leading zeros, so that the ID reads as in its .pub file. */
	for (i = 0; i < 8; i++) {
		out[2 * i] = hex[id[7 - i] >> 4];
		out[2 * i + 1] = hex[id[7 - i] & 15];
	}
	out[16] = '\0';
	skip = strspn(out, "0");
	if (skip == 16)
		skip = 15;
	memmove(out, out + skip, 17 - skip);
}

int bk_minisign_pub_parse(struct bk_minisign_pub *pk, const char *text, size_t len)
{
	unsigned char raw[PUB_BYTES];
	const char *b64;
	size_t b64_len, n;

	if (key_line(text, len, &b64, &b64_len) < 0)
		return bk_err_set("public key: not a minisign public key (one base64 line, "
				  "after an optional untrusted comment)");
	if (bk_b64_decode(raw, sizeof(raw), &n, b64, b64_len, 1) < 0 || n != PUB_BYTES)
		return bk_err_set("public key: not a minisign public key (bad base64 or length)");
	if (memcmp(raw, "Ed", 2) != 0)
		return bk_err_set("public key: unsupported signature algorithm (not Ed25519)");
	memcpy(pk->id, raw + 2, 8);
	memcpy(pk->pk, raw + 10, 32);
	return 0;
}

int bk_minisign_pub_load(struct bk_minisign_pub *pk, const char *path)
{
	char *text;
	size_t len;
	int ret;

	if (bk_read_file(path, KEY_FILE_MAX, &text, &len) < 0)
		return -1;
	ret = bk_minisign_pub_parse(pk, text, len);
	free(text);
	if (ret < 0)
		bk_err_prefix("%s", path);
	return ret;
}

char *bk_minisign_pub_format(const struct bk_minisign_pub *pk)
{
	unsigned char raw[PUB_BYTES];
	char b64[64], id[BK_MINISIGN_ID_HEX];

	memcpy(raw, "Ed", 2);
	memcpy(raw + 2, pk->id, 8);
	memcpy(raw + 10, pk->pk, 32);
	bk_b64_encode(b64, raw, sizeof(raw), 1);
	bk_minisign_id_hex(pk->id, id);
	return bk_asprintf(UNTRUSTED "minisign public key %s\n%s\n", id, b64);
}

int bk_minisign_sec_parse(struct bk_minisign_sec *sk, const char *text, size_t len)
{
	unsigned char raw[SEC_BYTES], pk[32];
	const char *b64;
	size_t b64_len, n;
	int ret = -1;

	if (key_line(text, len, &b64, &b64_len) < 0 ||
	    bk_b64_decode(raw, sizeof(raw), &n, b64, b64_len, 1) < 0 || n != SEC_BYTES) {
		bk_err_set("secret key: not a minisign secret key");
		goto out;
	}
	if (memcmp(raw, "Ed", 2) != 0) {
		bk_err_set("secret key: unsupported signature algorithm (not Ed25519)");
		goto out;
	}
	if (memcmp(raw + 2, "Sc", 2) == 0) {
		bk_err_set("secret key: the key is encrypted with a password");
		bk_err_hint("remove the password with: minisign -C -W -s KEY "
			    "(or make a key with: minisign -G -W)");
		goto out;
	}
	if (memcmp(raw + 2, "\0\0", 2) != 0 || memcmp(raw + 4, "B2", 2) != 0) {
		bk_err_set("secret key: unsupported key derivation or checksum algorithm");
		goto out;
	}
	memcpy(sk->id, raw + 54, 8);
	memcpy(sk->seed, raw + 62, 32);
	memcpy(sk->pk, raw + 94, 32);
	if (bk_ed25519_public(pk, sk->seed) < 0)
		goto out;
	if (memcmp(pk, sk->pk, 32) != 0) {
		bk_err_set("secret key: damaged (its public half does not match its secret half)");
		goto out;
	}
	ret = 0;
out:
	bk_wipe(raw, sizeof(raw));
	if (ret < 0)
		bk_minisign_sec_wipe(sk);
	return ret;
}

int bk_minisign_sec_load(struct bk_minisign_sec *sk, const char *path)
{
	char *text;
	size_t len;
	int ret;

	if (bk_read_file(path, KEY_FILE_MAX, &text, &len) < 0)
		return -1;
	ret = bk_minisign_sec_parse(sk, text, len);
	bk_wipe(text, len);
	free(text);
	if (ret < 0)
		bk_err_prefix("%s", path);
	return ret;
}

void bk_minisign_sec_wipe(struct bk_minisign_sec *sk)
{
	bk_wipe(sk, sizeof(*sk));
}

void bk_minisign_pub_of(struct bk_minisign_pub *pk, const struct bk_minisign_sec *sk)
{
	memcpy(pk->id, sk->id, 8);
	memcpy(pk->pk, sk->pk, 32);
}

static int comment_ok(const char *s, size_t len)
{
	return len <= BK_MINISIGN_COMMENT_MAX && !memchr(s, '\n', len) && !memchr(s, '\r', len) &&
	       !memchr(s, '\0', len);
}

int bk_minisign_sign(const struct bk_minisign_sec *sk, const void *data, size_t len,
		     const char *trusted_comment, char **sig_text)
{
	unsigned char hash[64], raw[SIG_BYTES], global[64], *both = NULL;
	char sig_b64[128], global_b64[128], id[BK_MINISIGN_ID_HEX], *tc = NULL;
	size_t tc_len;
	int ret = -1;

	*sig_text = NULL;
	tc = trusted_comment ? bk_xstrdup(trusted_comment)
			     : bk_asprintf("timestamp:%" PRIdMAX, (intmax_t)time(NULL));
	tc_len = strlen(tc);
	if (!comment_ok(tc, tc_len)) {
		bk_err_set("trusted comment: must be one line of at most %d bytes",
			   BK_MINISIGN_COMMENT_MAX);
		goto out;
	}
	memcpy(raw, "ED", 2);
	memcpy(raw + 2, sk->id, 8);
	if (bk_blake2b512(hash, data, len) < 0 || bk_ed25519_sign(raw + 10, sk->seed, hash, 64) < 0)
		goto out;
	both = bk_xmalloc(64 + tc_len);
	memcpy(both, raw + 10, 64);
	memcpy(both + 64, tc, tc_len);
	if (bk_ed25519_sign(global, sk->seed, both, 64 + tc_len) < 0)
		goto out;
	bk_b64_encode(sig_b64, raw, sizeof(raw), 1);
	bk_b64_encode(global_b64, global, sizeof(global), 1);
	bk_minisign_id_hex(sk->id, id);
	*sig_text = bk_asprintf(UNTRUSTED "signature from minisign secret key %s\n%s\n"
				TRUSTED "%s\n%s\n", id, sig_b64, tc, global_b64);
	ret = 0;
out:
	free(both);
	free(tc);
	return ret;
}

void bk_minisign_sig_free(struct bk_minisign_sig *sig)
{
	free(sig->trusted_comment);
	sig->trusted_comment = NULL;
}

int bk_minisign_sig_parse(struct bk_minisign_sig *sig, const char *text, size_t len)
{
	struct cursor c = { text, text + len };
	const char *line;
	unsigned char raw[SIG_BYTES];
	const char *tc;
	size_t n, got, tc_len;

	memset(sig, 0, sizeof(*sig));
	if (!next_line(&c, &line, &n) || !has_prefix(line, n, UNTRUSTED))
		return bk_err_set("signature: the first line is not an untrusted comment");
	if (!next_line(&c, &line, &n) ||
	    bk_b64_decode(raw, sizeof(raw), &got, line, n, 1) < 0 || got != SIG_BYTES)
		return bk_err_set("signature: the second line is not a minisign signature");
	if (memcmp(raw, "ED", 2) == 0)
		sig->prehashed = 1;
	else if (memcmp(raw, "Ed", 2) != 0)
		return bk_err_set("signature: unsupported signature algorithm");
	memcpy(sig->id, raw + 2, 8);
	memcpy(sig->sig, raw + 10, 64);
	if (!next_line(&c, &line, &n) || !has_prefix(line, n, TRUSTED))
		return bk_err_set("signature: the third line is not a trusted comment");
	tc = line + strlen(TRUSTED);
	tc_len = n - strlen(TRUSTED);
	if (!comment_ok(tc, tc_len))
		return bk_err_set("signature: the trusted comment is too long or holds a NUL");
	if (!next_line(&c, &line, &n) ||
	    bk_b64_decode(sig->global_sig, 64, &got, line, n, 1) < 0 || got != 64)
		return bk_err_set("signature: the fourth line is not a minisign signature");
	if (!only_blank_lines(&c))
		return bk_err_set("signature: text after the fourth line");
	sig->trusted_comment = bk_xmalloc(tc_len + 1);
	memcpy(sig->trusted_comment, tc, tc_len);
	sig->trusted_comment[tc_len] = '\0';
	return 0;
}

int bk_minisign_verify(const struct bk_minisign_pub *pk, const void *data, size_t len,
		       const char *sig_text, size_t sig_len, char id_out[BK_MINISIGN_ID_HEX],
		       char **trusted_comment)
{
	struct bk_minisign_sig sig;
	unsigned char hash[64], *both = NULL;
	char got[BK_MINISIGN_ID_HEX], want[BK_MINISIGN_ID_HEX];
	size_t tc_len;
	int ret = -1;

	if (trusted_comment)
		*trusted_comment = NULL;
	if (bk_minisign_sig_parse(&sig, sig_text, sig_len) < 0)
		return -1;
	bk_minisign_id_hex(sig.id, got);
	if (id_out)
		memcpy(id_out, got, BK_MINISIGN_ID_HEX);
	if (memcmp(sig.id, pk->id, 8) != 0) {
		bk_minisign_id_hex(pk->id, want);
		bk_err_set("signature: made by key %s, not by the verify key %s", got, want);
		goto out;
	}
	if (sig.prehashed ? bk_blake2b512(hash, data, len) < 0 ||
			    bk_ed25519_verify(sig.sig, pk->pk, hash, 64) < 0
			  : bk_ed25519_verify(sig.sig, pk->pk, data, len) < 0) {
		bk_err_set("signature: bad signature: the data does not match");
		goto out;
	}
	tc_len = strlen(sig.trusted_comment);
	both = bk_xmalloc(64 + tc_len);
	memcpy(both, sig.sig, 64);
	memcpy(both + 64, sig.trusted_comment, tc_len);
	if (bk_ed25519_verify(sig.global_sig, pk->pk, both, 64 + tc_len) < 0) {
		bk_err_set("signature: bad signature of the trusted comment");
		goto out;
	}
	if (trusted_comment) {
		*trusted_comment = sig.trusted_comment;
		sig.trusted_comment = NULL;
	}
	ret = 0;
out:
	free(both);
	bk_minisign_sig_free(&sig);
	return ret;
}
