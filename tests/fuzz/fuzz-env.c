/* libFuzzer: the .env parser (text is NUL-terminated by its callers). */
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int ignore(const char *key, const char *value, void *ctx)
{
	(void)value;
	(void)ctx;
	return key[0] ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	bk_env_parse(text, "fuzz.env", ignore, NULL);
	free(text);
	return 0;
}
