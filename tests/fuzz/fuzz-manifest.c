/* libFuzzer: the MANIFEST parser, and format(parse(x)) parses to the same. */
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct bk_manifest m, again;
	char *text;

	bk_manifest_init(&m);
	if (bk_manifest_parse(&m, (const char *)data, size) == 0) {
		text = bk_manifest_format(&m);
		bk_manifest_init(&again);
		if (bk_manifest_parse(&again, text, strlen(text)) != 0 ||
		    again.n_entries != m.n_entries)
			abort();
		bk_manifest_free(&again);
		free(text);
	}
	bk_manifest_free(&m);
	return 0;
}
