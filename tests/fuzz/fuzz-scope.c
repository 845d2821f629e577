/* libFuzzer: the BACKUP_SCOPE file parser. */
#include "scope.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct bk_scope s;

	if (bk_scope_parse(&s, "fuzz", (const char *)data, size) == 0)
		bk_scope_free(&s);
	return 0;
}
