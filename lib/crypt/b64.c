/* Strict, canonical base64: what minisign and age write, nothing looser. */
#include <string.h>

#include "b64.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t bk_b64_len(size_t n, int pad)
{
	if (pad)
		return (n + 2) / 3 * 4;
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

void bk_b64_encode(char *out, const void *in, size_t n, int pad)
{
	const unsigned char *p = in;
	size_t i;
	char *o = out;

	for (i = 0; i + 3 <= n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];

		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = alphabet[(v >> 6) & 63];
		*o++ = alphabet[v & 63];
	}
	if (n - i == 1) {
		*o++ = alphabet[p[i] >> 2];
		*o++ = alphabet[(p[i] & 3) << 4];
		if (pad) {
			*o++ = '=';
			*o++ = '=';
		}
	} else if (n - i == 2) {
		unsigned v = (unsigned)p[i] << 8 | p[i + 1];

		*o++ = alphabet[v >> 10];
		*o++ = alphabet[(v >> 4) & 63];
		*o++ = alphabet[(v & 15) << 2];
		if (pad)
			*o++ = '=';
	}
	*o = '\0';
}

static int value(char c)
{
	const char *p;

	if (c == '\0' || !(p = strchr(alphabet, c)))
		return -1;
	return (int)(p - alphabet);
}

int bk_b64_decode(void *out, size_t max, size_t *outlen, const char *in, size_t len, int pad)
{
	unsigned char *o = out;
	size_t n = 0, i, tail;
	unsigned acc = 0;
	int bits = 0, v;

	if (pad) {
		if (len % 4)
			return -1;
		tail = 0;
		while (tail < 2 && len > 0 && in[len - 1] == '=') {
			len--;
			tail++;
		}
	} else if (len % 4 == 1) {
		return -1;
	}
	for (i = 0; i < len; i++) {
		if ((v = value(in[i])) < 0)
			return -1;
		acc = (acc << 6 | (unsigned)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= max)
				return -1;
			o[n++] = (unsigned char)(acc >> bits);
		}
	}
	/* Canonical: the bits left over are zero. */
	if (bits && (acc & ((1u << bits) - 1)))
		return -1;
	*outlen = n;
	return 0;
}
