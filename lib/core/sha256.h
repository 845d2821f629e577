/* SHA-256 over streams (OpenSSL libcrypto), hex output for MANIFEST. */
#ifndef BK_SHA256_H
#define BK_SHA256_H

#include <stddef.h>

#define BK_SHA256_HEX 65	/* 64 hex digits + NUL */

struct bk_sha256;
struct bk_sha256 *bk_sha256_new(void);	/* NULL with the error slot set */
void bk_sha256_update(struct bk_sha256 *h, const void *data, size_t len);
/* Write the hex digest and reset for reuse. */
void bk_sha256_final(struct bk_sha256 *h, char hex[BK_SHA256_HEX]);
void bk_sha256_free(struct bk_sha256 *h);
/* Digest of a whole file; also its size. */
int bk_sha256_file(const char *path, char hex[BK_SHA256_HEX], unsigned long long *size);

#endif
