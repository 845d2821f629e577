/* libFuzzer: secret masking and the log writer. Input: secrets, one a line,
 * up to the first empty line; the rest is the text. Masking must end, only
 * shrink the text, and leave no secret in it (one with a '*' may be rebuilt
 * from the mask itself: not checked). */
#include <stdlib.h>
#include <string.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *copy = malloc(size + 1), *text, *secret[9];
	size_t n = 0, len;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	bk_log_forget_secrets();
	text = copy;
	while (n < 9 && *text && *text != '\n') {
		char *eol = strchr(text, '\n');

		if (!eol)
			break;
		*eol = '\0';
		secret[n++] = text;
		bk_log_secret(text);
		text = eol + 1;
	}
	if (*text == '\n')
		text++;
	len = strlen(text);
	bk_log_set_stderr(0);
	bk_info("%s", text);
	bk_log_mask(text, len + 1);
	if (strlen(text) > len)
		abort();
	for (size_t i = 0; i < n && i < 8; i++)
		if (strlen(secret[i]) >= 3 && !strchr(secret[i], '*') && strstr(text, secret[i]))
			abort();
	free(copy);
	return 0;
}
