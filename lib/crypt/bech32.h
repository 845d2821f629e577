/*
 * Bech32 (BIP 173) as age uses it: no length limit, all lower or all upper
 * case, checksum over the lower-case string.
 */
#ifndef BK_BECH32_H
#define BK_BECH32_H

#include <stddef.h>

/* Decode s (len bytes) whose human-readable part must be hrp (lower case, compared
 * case-insensitively) into out (room for max bytes); -1 with the error slot set. */
int bk_bech32_decode(const char *s, size_t len, const char *hrp, unsigned char *out,
		     size_t max, size_t *outlen);
/* Encode data under hrp (lower case); upper: the whole string in upper case. Caller frees. */
char *bk_bech32_encode(const char *hrp, const unsigned char *data, size_t len, int upper);

#endif
