/* Thin wrappers over libcrypto's EVP interface, so minisign.c and age.c read
 * like their specifications. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "err.h"
#include "prim.h"

int bk_random(void *buf, size_t n)
{
	if (RAND_bytes(buf, (int)n) != 1)
		return bk_err_set("random: the system random generator failed");
	return 0;
}

void bk_wipe(void *buf, size_t n)
{
	OPENSSL_cleanse(buf, n);
}

int bk_ct_cmp(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) != 0;
}

/* The 32-byte public key of a 32-byte raw private key of type (Ed25519, X25519). */
static int raw_public(int type, const char *what, unsigned char pub[32],
		      const unsigned char priv[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(type, NULL, priv, 32);
	size_t n = 32;
	int ret = -1;

	if (!k || EVP_PKEY_get_raw_public_key(k, pub, &n) != 1 || n != 32) {
		bk_err_set("%s: cannot derive the public key", what);
		goto out;
	}
	ret = 0;
out:
	EVP_PKEY_free(k);
	return ret;
}

int bk_ed25519_public(unsigned char pk[32], const unsigned char seed[32])
{
	return raw_public(EVP_PKEY_ED25519, "ed25519", pk, seed);
}

int bk_ed25519_sign(unsigned char sig[64], const unsigned char seed[32],
		    const void *msg, size_t len)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t n = 64;
	int ret = -1;

	if (!k || !md || EVP_DigestSignInit(md, NULL, NULL, NULL, k) != 1 ||
	    EVP_DigestSign(md, sig, &n, msg, len) != 1 || n != 64) {
		bk_err_set("ed25519: signing failed");
		goto out;
	}
	ret = 0;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return ret;
}

int bk_ed25519_verify(const unsigned char sig[64], const unsigned char pk[32],
		      const void *msg, size_t len)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ret = -1;

	if (!k || !md || EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) != 1 ||
	    EVP_DigestVerify(md, sig, 64, msg, len) != 1) {
		bk_err_set("bad signature");
		goto out;
	}
	ret = 0;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return ret;
}

int bk_blake2b512(unsigned char out[64], const void *data, size_t len)
{
	unsigned n = 0;

	if (EVP_Digest(data, len, out, &n, EVP_blake2b512(), NULL) != 1 || n != 64)
		return bk_err_set("blake2b: hashing failed");
	return 0;
}

int bk_x25519_base(unsigned char pub[32], const unsigned char sk[32])
{
	return raw_public(EVP_PKEY_X25519, "x25519", pub, sk);
}

int bk_x25519(unsigned char shared[32], const unsigned char sk[32], const unsigned char peer[32])
{
	static const unsigned char zero[32];
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, 32);
	EVP_PKEY *p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, 32);
	EVP_PKEY_CTX *ctx = k ? EVP_PKEY_CTX_new(k, NULL) : NULL;
	size_t n = 32;
	int ret = -1;

	if (!k || !p || !ctx || EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, p) != 1 ||
	    EVP_PKEY_derive(ctx, shared, &n) != 1 || n != 32 ||
	    CRYPTO_memcmp(shared, zero, 32) == 0) {
		bk_err_set("x25519: key agreement failed (a low-order point)");
		goto out;
	}
	ret = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(p);
	EVP_PKEY_free(k);
	return ret;
}

int bk_hkdf_sha256(unsigned char out[32], const void *ikm, size_t ikm_len,
		   const void *salt, size_t salt_len, const char *info)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5], *p = params;
	int ret = -1;

	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
	if (salt_len)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
							 salt_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info,
						 strlen(info));
	*p = OSSL_PARAM_construct_end();
	if (!ctx || EVP_KDF_derive(ctx, out, 32, params) != 1) {
		bk_err_set("hkdf: key derivation failed");
		goto out;
	}
	ret = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ret;
}

int bk_hmac_sha256(unsigned char out[32], const void *key, size_t key_len,
		   const void *data, size_t len)
{
	unsigned n = 0;

	if (!HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n) || n != 32)
		return bk_err_set("hmac: failed");
	return 0;
}

struct bk_aead {
	EVP_CIPHER_CTX *ctx;
	unsigned char key[32];
};

struct bk_aead *bk_aead_new(const unsigned char key[32])
{
	struct bk_aead *a = OPENSSL_zalloc(sizeof(*a));

	if (!a || !(a->ctx = EVP_CIPHER_CTX_new())) {
		OPENSSL_free(a);
		bk_err_set("chacha20-poly1305: out of memory");
		return NULL;
	}
	memcpy(a->key, key, 32);
	return a;
}

void bk_aead_free(struct bk_aead *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->ctx);
	OPENSSL_clear_free(a, sizeof(*a));
}

int bk_aead_seal(struct bk_aead *a, const unsigned char nonce[12], const void *in, size_t len,
		 unsigned char *out)
{
	int n = 0, m = 0;

	if (len > (size_t)1 << 30 ||
	    EVP_EncryptInit_ex(a->ctx, EVP_chacha20_poly1305(), NULL, a->key, nonce) != 1 ||
	    EVP_EncryptUpdate(a->ctx, out, &n, in, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(a->ctx, out + n, &m) != 1 || (size_t)(n + m) != len ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + len) != 1)
		return bk_err_set("chacha20-poly1305: encryption failed");
	return 0;
}

int bk_aead_open(struct bk_aead *a, const unsigned char nonce[12], const void *in, size_t len,
		 unsigned char *out)
{
	const unsigned char *c = in;
	int n = 0, m = 0;

	if (len < 16 || len > (size_t)1 << 30)
		return bk_err_set("authentication failed");
	if (EVP_DecryptInit_ex(a->ctx, EVP_chacha20_poly1305(), NULL, a->key, nonce) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG, 16,
				(void *)(c + len - 16)) != 1 ||
	    EVP_DecryptUpdate(a->ctx, out, &n, c, (int)(len - 16)) != 1 ||
	    EVP_DecryptFinal_ex(a->ctx, out + n, &m) != 1) {
		bk_wipe(out, len - 16);
		return bk_err_set("authentication failed");
	}
	return 0;
}
