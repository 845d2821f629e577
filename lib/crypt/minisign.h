/*
 * minisign keys and signatures (https://jedisct1.github.io/minisign/), so that
 * `minisign -Vm FILE -p KEY.pub` verifies what bk signs and bk verifies what
 * minisign signs. Ed25519 only; secret keys must be unencrypted (minisign -G -W).
 */
#ifndef BK_MINISIGN_H
#define BK_MINISIGN_H

#include <stddef.h>

#define BK_MINISIGN_ID_HEX 17		/* 16 hex digits, as minisign prints a key ID, + NUL */
#define BK_MINISIGN_COMMENT_MAX 8173	/* longest trusted comment minisign reads back */

struct bk_minisign_pub {
	unsigned char id[8];		/* key ID, in file order (little-endian number) */
	unsigned char pk[32];		/* Ed25519 public key */
};

struct bk_minisign_sec {
	unsigned char id[8];
	unsigned char seed[32];		/* Ed25519 secret seed */
	unsigned char pk[32];		/* checked to be the seed's public key */
};

/* A parsed .minisig text. */
struct bk_minisign_sig {
	int prehashed;			/* 1: "ED" (Ed25519 of BLAKE2b-512(data)), 0: legacy "Ed" */
	unsigned char id[8];
	unsigned char sig[64];
	char *trusted_comment;		/* without "trusted comment: ", NUL-terminated; malloc'd */
	unsigned char global_sig[64];	/* over sig || trusted_comment */
};

/* Public key: a .pub file's text ("untrusted comment: ..." line optional) or its
 * base64 line alone (what minisign -P takes). 0 or -1 with the error slot set. */
int bk_minisign_pub_parse(struct bk_minisign_pub *pk, const char *text, size_t len);
int bk_minisign_pub_load(struct bk_minisign_pub *pk, const char *path);
/* The .pub file text minisign writes ("untrusted comment: minisign public key ID\nBASE64\n"). Caller frees. */
char *bk_minisign_pub_format(const struct bk_minisign_pub *pk);

/* Secret key: the text `minisign -G -W` writes (comment line optional). An
 * encrypted key (kdf "Sc") is refused with a hint to remove its password. The
 * checksum is not checked (minisign -W writes zeros there); instead the stored
 * public half must match the seed. */
int bk_minisign_sec_parse(struct bk_minisign_sec *sk, const char *text, size_t len);
int bk_minisign_sec_load(struct bk_minisign_sec *sk, const char *path);
void bk_minisign_sec_wipe(struct bk_minisign_sec *sk);
/* The public key of a secret key. */
void bk_minisign_pub_of(struct bk_minisign_pub *pk, const struct bk_minisign_sec *sk);

/* "79E7D326BA310C6B": the key ID the way minisign prints it (hex, no leading zeros). */
void bk_minisign_id_hex(const unsigned char id[8], char out[BK_MINISIGN_ID_HEX]);

/* Sign data in the prehashed form ("ED", minisign 0.10+'s default). trusted_comment:
 * one line (no CR/LF), at most BK_MINISIGN_COMMENT_MAX bytes; NULL gives
 * "timestamp:<unix time>". *sig_text: the whole .minisig text, four lines
 * each ending in LF; caller frees. */
int bk_minisign_sign(const struct bk_minisign_sec *sk, const void *data, size_t len,
		     const char *trusted_comment, char **sig_text);

/* Parse a .minisig text (four lines; trailing empty lines allowed). */
int bk_minisign_sig_parse(struct bk_minisign_sig *sig, const char *text, size_t len);
void bk_minisign_sig_free(struct bk_minisign_sig *sig);

/* Verify sig_text over data with pk: 0 when the signature and the trusted comment
 * are pk's; -1 with the error slot saying why ("signature: made by key X, not by
 * the verify key Y", "signature: bad signature: the data does not match",
 * "signature: bad signature of the trusted comment", or a format error).
 * id_out (may be NULL) gets the signature's key ID in hex whenever the text parsed,
 * even on a bad signature; trusted_comment (may be NULL) gets a malloc'd copy
 * on success only. Both "ED" and legacy "Ed" signatures are accepted. */
int bk_minisign_verify(const struct bk_minisign_pub *pk, const void *data, size_t len,
		       const char *sig_text, size_t sig_len, char id_out[BK_MINISIGN_ID_HEX],
		       char **trusted_comment);

#endif
