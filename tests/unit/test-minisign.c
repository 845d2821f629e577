/* Unit tests for lib/crypt/minisign.c against fixtures made with the real
 * minisign 0.11 (`minisign -G -W`, `-S`, `-S -l`): key parsing, signatures
 * minisign made verify, bk's signatures equal minisign's (Ed25519 is
 * deterministic), and every kind of bad key or signature is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "err.h"
#include "minisign.h"
#include "tap.h"

/* minisign -G -W -p k.pub -s k.key */
#define PUB_B64 "RWTCN9j23pHPPVN73fhn7Td3+r2JurmY4MZwtISc6QVVZJmUgb7yz0bI"
static const char pub_file[] =
	"untrusted comment: minisign public key 3DCF91DEF6D837C2\n" PUB_B64 "\n";
#define SEC_B64 "RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAwjfY9t6Rzz1DXWKKWNnACyoCYqX3w6TLZFWB1FPf4tVyUB5qKdBMA1N73fhn7Td3+r2JurmY4MZwtISc6QVVZJmUgb7yz0bIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
static const char sec_file[] = "untrusted comment: minisign encrypted secret key\n" SEC_B64 "\n";
static const char msg[] = "bk fixture message\n";
/* minisign -Sm msg -s k.key -t 'fixed trusted comment' */
#define ED_SIG "RUTCN9j23pHPPb5vDPTgp4WYTnF9jZ60Wo7p7gFYicOY6QIfTnPIe1AqaTwuzwKqTHt5sJ8Uo/kneiugzngaIpwfBvDBhxihvAc="
#define ED_GLOBAL "xVHFHCL72AcZ5cRB2+d/rFumeGeFaaU/5WNyK165PJIZm0Qe45G5JCTSPrx/wMXcns7gg/VJDBWKqiKf3j10Aw=="
static const char ed_sig[] =
	"untrusted comment: signature from minisign secret key\n" ED_SIG "\n"
	"trusted comment: fixed trusted comment\n" ED_GLOBAL "\n";
/* minisign -Sl -m msg -s k.key -t 'legacy comment' */
static const char legacy_sig[] =
	"untrusted comment: signature from minisign secret key\n"
	"RWTCN9j23pHPPeGj9u9S9CozPQUqCDtYbgTR37HhIFl9r2ND9L077Ir/B5g3LOonjebyH4A0FRyKH3vbS8NBws2xTtnsUrmkLAY=\n"
	"trusted comment: legacy comment\n"
	"2JdxRRUT5AySUPZ8dw3CtuN+eVYuOWpxRXu3nYu3P2agvJyOHe8NH24d2Qa3i7jWBIkLCiZ/WKkEfFofwxX+Cw==\n";

static int verify(const struct bk_minisign_pub *pk, const char *data, const char *sig)
{
	return bk_minisign_verify(pk, data, strlen(data), sig, strlen(sig), NULL, NULL);
}

/* Verification must fail with a message containing want. */
static void bad_sig(const struct bk_minisign_pub *pk, const char *data, const char *sig,
		    const char *want, const char *title)
{
	int ret = verify(pk, data, sig);

	ok(ret == -1 && strstr(bk_err(), want), "%s", title);
	if (ret != -1 || !strstr(bk_err(), want))
		printf("# want '%s', got %d '%s'\n", want, ret, ret ? bk_err() : "");
}

static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t n = strlen(s) + strlen(to) + 1;
	char *r = malloc(n);

	if (!at)
		abort();	/* a test that changes nothing would pass for nothing */
	snprintf(r, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	return r;
}

static void test_keys(void)
{
	struct bk_minisign_pub pk, pk2;
	struct bk_minisign_sec sk;
	char id[BK_MINISIGN_ID_HEX], *text, *s;

	ok(bk_minisign_pub_parse(&pk, pub_file, strlen(pub_file)) == 0, "a .pub file parses");
	bk_minisign_id_hex(pk.id, id);
	ok(!strcmp(id, "3DCF91DEF6D837C2"), "its key ID reads as minisign prints it");
	{
		/* minisign prints "%" PRIX64: an ID with leading zero digits loses them */
		unsigned char small[8] = { 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x03, 0x00 };
		unsigned char zero[8] = { 0 };

		bk_minisign_id_hex(small, id);
		ok(!strcmp(id, "3456789ABCDEF"), "a key ID has no leading zeros (as minisign's)");
		bk_minisign_id_hex(zero, id);
		ok(!strcmp(id, "0"), "key ID 0 is 0");
	}
	ok(bk_minisign_pub_parse(&pk2, PUB_B64, strlen(PUB_B64)) == 0 &&
	   !memcmp(&pk, &pk2, sizeof(pk)), "the base64 line alone (minisign -P) parses the same");
	ok(bk_minisign_pub_parse(&pk2, PUB_B64 "\r\n\n", strlen(PUB_B64) + 3) == 0,
	   "CRLF and a blank line after it are fine");
	text = bk_minisign_pub_format(&pk);
	ok(!strcmp(text, pub_file), "formatting gives minisign's .pub text");
	free(text);
	ok(bk_minisign_pub_parse(&pk2, "RWTCN9j23pHP", 12) == -1 &&
	   strstr(bk_err(), "not a minisign public key"), "a short key is refused");
	s = replace(PUB_B64, "RWT", "RDT");
	ok(bk_minisign_pub_parse(&pk2, s, strlen(s)) == -1 &&
	   strstr(bk_err(), "unsupported signature algorithm"), "another algorithm is refused");
	free(s);
	ok(bk_minisign_pub_parse(&pk2, "untrusted comment: x\n", 21) == -1,
	   "a comment without a key is refused");

	ok(bk_minisign_sec_parse(&sk, sec_file, strlen(sec_file)) == 0,
	   "a secret key from minisign -G -W parses (zero checksum)");
	bk_minisign_pub_of(&pk2, &sk);
	ok(!memcmp(&pk, &pk2, sizeof(pk)), "its public key is the .pub file's");
	ok(bk_minisign_sec_parse(&sk, SEC_B64, strlen(SEC_B64)) == 0,
	   "the secret key's base64 line alone parses");
	s = replace(sec_file, "RWQAAEIy", "RWRTY0Iy");
	ok(bk_minisign_sec_parse(&sk, s, strlen(s)) == -1 &&
	   strstr(bk_err(), "encrypted with a password") &&
	   strstr(bk_err_hint_text(), "minisign -C -W"),
	   "a password-protected key is refused with a hint");
	free(s);
	s = replace(sec_file, "LZFWB1FPf", "LZFWB1FPg");
	ok(bk_minisign_sec_parse(&sk, s, strlen(s)) == -1 && strstr(bk_err(), "damaged"),
	   "a key whose halves do not match is refused");
	free(s);
	ok(bk_minisign_sec_parse(&sk, pub_file, strlen(pub_file)) == -1 &&
	   strstr(bk_err(), "not a minisign secret key"), "a public key is not a secret key");
	bk_minisign_sec_wipe(&sk);
}

static void test_verify(void)
{
	struct bk_minisign_pub pk, other;
	char id[BK_MINISIGN_ID_HEX] = "", *tc = NULL, *s;

	bk_minisign_pub_parse(&pk, pub_file, strlen(pub_file));
	ok(bk_minisign_verify(&pk, msg, strlen(msg), ed_sig, strlen(ed_sig), id, &tc) == 0,
	   "minisign's prehashed signature verifies");
	ok(!strcmp(id, "3DCF91DEF6D837C2") && tc && !strcmp(tc, "fixed trusted comment"),
	   "key ID and trusted comment are returned");
	free(tc);
	ok(verify(&pk, msg, legacy_sig) == 0, "minisign's legacy (Ed) signature verifies");
	bad_sig(&pk, "bk fixture message!\n", ed_sig, "bad signature: the data does not match",
		"other data: bad signature");
	bad_sig(&pk, "bk fixture message!\n", legacy_sig, "the data does not match",
		"other data, legacy signature: bad signature");
	s = replace(ed_sig, "fixed trusted", "fixed untrusted");
	bad_sig(&pk, msg, s, "bad signature of the trusted comment", "an altered trusted comment");
	free(s);
	s = replace(ed_sig, "minisign secret key", "someone else");
	ok(verify(&pk, msg, s) == 0, "the untrusted comment may change");
	free(s);
	other = pk;
	other.id[0] ^= 1;
	bk_err_clear();
	ok(bk_minisign_verify(&other, msg, strlen(msg), ed_sig, strlen(ed_sig), id, NULL) == -1 &&
	   strstr(bk_err(), "made by key 3DCF91DEF6D837C2, not by the verify key 3DCF91DEF6D837C3") &&
	   !strcmp(id, "3DCF91DEF6D837C2"), "another key ID: names both keys");
	other = pk;
	other.pk[5] ^= 1;
	bad_sig(&other, msg, ed_sig, "bad signature", "same key ID, other key: bad signature");
	s = replace(ed_sig, "RUTCN9j23pHPPb5v", "RUTCN9j23pHPPb5w");
	bad_sig(&pk, msg, s, "bad signature", "a flipped signature bit");
	free(s);
	s = replace(ed_sig, "RUT", "RXT");
	bad_sig(&pk, msg, s, "unsupported signature algorithm", "an unknown algorithm");
	free(s);
	s = replace(ed_sig, "untrusted comment: ", "");
	bad_sig(&pk, msg, s, "not an untrusted comment", "no untrusted comment line");
	free(s);
	s = replace(ed_sig, "trusted comment: fixed", "fixed");
	bad_sig(&pk, msg, s, "not a trusted comment", "no trusted comment line");
	free(s);
	s = replace(ed_sig, "Aw==\n", "Aw==\nmore\n");
	bad_sig(&pk, msg, s, "text after the fourth line", "text after the signature");
	free(s);
	s = replace(ed_sig, "Aw==\n", "");
	bad_sig(&pk, msg, s, "fourth line", "a cut global signature");
	free(s);
	s = replace(ed_sig, "vAc=", "vAc");
	bad_sig(&pk, msg, s, "second line", "unpadded base64 is not minisign's");
	free(s);
	bad_sig(&pk, msg, "", "untrusted comment", "an empty signature");
}

static void test_sign(void)
{
	struct bk_minisign_sec sk;
	struct bk_minisign_pub pk;
	char *sig = NULL, *tc = NULL;
	const char *body;

	bk_minisign_sec_parse(&sk, sec_file, strlen(sec_file));
	bk_minisign_pub_of(&pk, &sk);
	ok(bk_minisign_sign(&sk, msg, strlen(msg), "fixed trusted comment", &sig) == 0,
	   "signing succeeds");
	ok(!strncmp(sig, "untrusted comment: signature from minisign secret key 3DCF91DEF6D837C2\n",
		    71), "the untrusted comment names the key ID");
	body = strchr(ed_sig, '\n') + 1;
	ok(strchr(sig, '\n') && !strcmp(strchr(sig, '\n') + 1, body),
	   "signature and trusted-comment signature equal minisign's, byte for byte");
	free(sig);
	ok(bk_minisign_sign(&sk, "", 0, NULL, &sig) == 0 && verify(&pk, "", sig) == 0,
	   "an empty message signs and verifies");
	ok(bk_minisign_verify(&pk, "", 0, sig, strlen(sig), NULL, &tc) == 0 &&
	   !strncmp(tc, "timestamp:", 10), "no trusted comment gives timestamp:N");
	free(tc);
	free(sig);
	sig = (char *)1;
	ok(bk_minisign_sign(&sk, msg, 1, "two\nlines", &sig) == -1 && !sig &&
	   strstr(bk_err(), "one line"), "a trusted comment with a newline is refused");
	bk_minisign_sec_wipe(&sk);
}

int main(void)
{
	test_keys();
	test_verify();
	test_sign();
	return done_testing();
}
