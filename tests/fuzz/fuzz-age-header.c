/* libFuzzer: the age decryptor on arbitrary input (header parser, stanza
 * rules, MAC, payload framing), fed whole and in 3-byte pieces; both runs must
 * agree. The identity is fixed so seeds encrypted to it reach the payload. */
#include <stdlib.h>
#include <string.h>

#include "age.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* age-keygen output used for the seed corpus (tests/fuzz/corpus/age-header/). */
#define FUZZ_ID "AGE-SECRET-KEY-1MYD9JYG4GXNVFV2RNARPS8L30GDZL7T7YMWG6HKYSCDZJD4HMQFQ9XA5PS"

static int count_sink(void *arg, const void *buf, size_t len)
{
	(void)buf;
	*(size_t *)arg += len;
	return 0;
}

static int run(const struct bk_age_identity *id, const unsigned char *data, size_t size,
	       size_t step, size_t *out)
{
	struct bk_age_dec *d = bk_age_dec_new(id, 1, count_sink, out);
	size_t i;
	int ret = 0;

	*out = 0;
	for (i = 0; i < size && ret == 0; i += step)
		ret = bk_age_dec_update(d, data + i, size - i < step ? size - i : step);
	if (ret == 0)
		ret = bk_age_dec_final(d);
	bk_age_dec_free(d);
	return ret;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct bk_age_identity id;
	size_t a, b;

	if (bk_age_identity_parse(&id, FUZZ_ID, strlen(FUZZ_ID)) < 0)
		abort();
	if (run(&id, data, size, size ? size : 1, &a) != run(&id, data, size, 3, &b) ||
	    a != b)
		abort();
	return 0;
}
