/*
 * The primitives minisign and age are built from, over OpenSSL 3's libcrypto:
 * Ed25519, X25519, HKDF-SHA-256, HMAC-SHA-256, ChaCha20-Poly1305, BLAKE2b-512.
 * Each returns 0 or -1 with the error slot set.
 */
#ifndef BK_PRIM_H
#define BK_PRIM_H

#include <stddef.h>

int bk_random(void *buf, size_t n);
/* Zero memory the compiler may not optimize away. */
void bk_wipe(void *buf, size_t n);
/* Constant-time comparison: 0 when equal. */
int bk_ct_cmp(const void *a, const void *b, size_t n);

int bk_ed25519_public(unsigned char pk[32], const unsigned char seed[32]);
int bk_ed25519_sign(unsigned char sig[64], const unsigned char seed[32],
		    const void *msg, size_t len);
/* 0 when sig is pk's signature of msg, -1 otherwise (message "bad signature"). */
int bk_ed25519_verify(const unsigned char sig[64], const unsigned char pk[32],
		      const void *msg, size_t len);
int bk_blake2b512(unsigned char out[64], const void *data, size_t len);

int bk_x25519_base(unsigned char pub[32], const unsigned char sk[32]);
/* Fails on an all-zero shared secret (a low-order point), as age requires. */
int bk_x25519(unsigned char shared[32], const unsigned char sk[32], const unsigned char peer[32]);

/* HKDF-SHA-256 with a 32-byte output; salt may be empty. */
int bk_hkdf_sha256(unsigned char out[32], const void *ikm, size_t ikm_len,
		   const void *salt, size_t salt_len, const char *info);
int bk_hmac_sha256(unsigned char out[32], const void *key, size_t key_len,
		   const void *data, size_t len);

/* ChaCha20-Poly1305 (RFC 7539) with no associated data. A context keeps the
 * cipher set up between the chunks of a stream. */
struct bk_aead;
struct bk_aead *bk_aead_new(const unsigned char key[32]);
void bk_aead_free(struct bk_aead *a);
/* out: len + 16 bytes (ciphertext then tag). */
int bk_aead_seal(struct bk_aead *a, const unsigned char nonce[12], const void *in, size_t len,
		 unsigned char *out);
/* in: len bytes including the 16-byte tag (len >= 16); out: len - 16 bytes.
 * -1 when the tag does not match (message "authentication failed"). */
int bk_aead_open(struct bk_aead *a, const unsigned char nonce[12], const void *in, size_t len,
		 unsigned char *out);

#endif
