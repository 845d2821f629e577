/*
 * Strict base64 (RFC 4648, standard alphabet) for minisign (padded) and age
 * (unpadded): decoders accept only the canonical encoding.
 */
#ifndef BK_B64_H
#define BK_B64_H

#include <stddef.h>

/* Characters needed for n bytes, without the NUL. */
size_t bk_b64_len(size_t n, int pad);
/* Encode n bytes into out (bk_b64_len(n, pad) + 1 bytes), NUL-terminated. */
void bk_b64_encode(char *out, const void *in, size_t n, int pad);
/* Decode len characters into out (room for max bytes); padding required when pad,
 * forbidden otherwise; non-canonical input, bad characters or more than max
 * bytes give -1 (no message: the caller names the thing). */
int bk_b64_decode(void *out, size_t max, size_t *outlen, const char *in, size_t len, int pad);

#endif
