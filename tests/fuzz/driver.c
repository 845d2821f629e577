/* Runs a libFuzzer harness over files without libFuzzer, so make check can
 * replay the corpus (seeds and regressions) with any compiler and sanitizer. */
#include <stdio.h>
#include <stdlib.h>

#include "fs.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *buf;
		size_t len;

		if (bk_read_file(argv[i], 1 << 24, &buf, &len) < 0) {
			fprintf(stderr, "cannot read %s\n", argv[i]);
			return 2;
		}
		LLVMFuzzerTestOneInput((const unsigned char *)buf, len);
		free(buf);
	}
	return 0;
}
