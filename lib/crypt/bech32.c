/* Bech32 strings (age1..., AGE-SECRET-KEY-1...): BIP 173 without its 90-character limit. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bech32.h"
#include "err.h"
#include "fs.h"

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod_step(uint32_t chk, unsigned v)
{
	static const uint32_t gen[5] = {
		0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3
	};
	uint32_t top = chk >> 25;
	int i;

	chk = ((chk & 0x1ffffff) << 5) ^ v;
	for (i = 0; i < 5; i++)
		if ((top >> i) & 1)
			chk ^= gen[i];
	return chk;
}

static uint32_t hrp_polymod(const char *hrp, size_t n)
{
	uint32_t chk = 1;
	size_t i;

	for (i = 0; i < n; i++)
		chk = polymod_step(chk, (unsigned)tolower((unsigned char)hrp[i]) >> 5);
	chk = polymod_step(chk, 0);
	for (i = 0; i < n; i++)
		chk = polymod_step(chk, (unsigned)tolower((unsigned char)hrp[i]) & 31);
	return chk;
}

int bk_bech32_decode(const char *s, size_t len, const char *hrp, unsigned char *out,
		     size_t max, size_t *outlen)
{
	size_t hrp_len = strlen(hrp), sep, i, n = 0;
	int lower = 0, upper = 0, bits = 0;
	uint32_t chk, acc = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 33 || c > 126)
			return bk_err_set("bech32: invalid character");
		lower |= islower(c) != 0;
		upper |= isupper(c) != 0;
	}
	if (lower && upper)
		return bk_err_set("bech32: mixed upper and lower case");
	for (sep = len; sep > 0 && s[sep - 1] != '1'; sep--)
		;
	if (sep == 0 || sep - 1 != hrp_len || strncasecmp(s, hrp, hrp_len) != 0)
		return bk_err_set("bech32: the prefix is not %s1", hrp);
	if (len - sep < 6)
		return bk_err_set("bech32: too short");
	chk = hrp_polymod(s, hrp_len);
	for (i = sep; i < len; i++) {
		const char *p = strchr(charset, tolower((unsigned char)s[i]));

		if (!p)
			return bk_err_set("bech32: invalid character");
		chk = polymod_step(chk, (unsigned)(p - charset));
		if (i >= len - 6)
			continue;
		acc = (acc << 5 | (uint32_t)(p - charset)) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (n >= max)
				return bk_err_set("bech32: too long");
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	if (chk != 1)
		return bk_err_set("bech32: bad checksum");
	if (bits >= 5 || (acc & ((1u << bits) - 1)))
		return bk_err_set("bech32: bad padding");
	*outlen = n;
	return 0;
}

char *bk_bech32_encode(const char *hrp, const unsigned char *data, size_t len, int upper)
{
	size_t hrp_len = strlen(hrp), n5 = (len * 8 + 4) / 5, i, o = 0;
	char *s = bk_xmalloc(hrp_len + 1 + n5 + 6 + 1);
	uint32_t chk = hrp_polymod(hrp, hrp_len), acc = 0;
	int bits = 0;

	memcpy(s, hrp, hrp_len);
	o = hrp_len;
	s[o++] = '1';
	for (i = 0; i < len; i++) {
		acc = (acc << 8 | data[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			chk = polymod_step(chk, (acc >> bits) & 31);
			s[o++] = charset[(acc >> bits) & 31];
		}
	}
	if (bits) {
		chk = polymod_step(chk, (acc << (5 - bits)) & 31);
		s[o++] = charset[(acc << (5 - bits)) & 31];
	}
	for (i = 0; i < 6; i++)
		chk = polymod_step(chk, 0);
	chk ^= 1;
	for (i = 0; i < 6; i++)
		s[o++] = charset[(chk >> (5 * (5 - i))) & 31];
	s[o] = '\0';
	if (upper)
		for (i = 0; i < o; i++)
			s[i] = (char)toupper((unsigned char)s[i]);
	return s;
}
