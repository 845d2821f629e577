/* libFuzzer: the COPY-block and CSV checkers; the first byte picks the kind
 * and a chunk size, and the result must not depend on the chunking. */
#include <stdlib.h>

#include "dataparse.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int run(enum bk_dp_kind kind, const unsigned char *d, size_t n, size_t chunk,
	       unsigned long long *rows)
{
	struct bk_dp *p = bk_dp_new(kind);
	int r = 0;

	for (size_t off = 0; off < n && r == 0; off += chunk)
		r = bk_dp_feed(p, d + off, n - off < chunk ? n - off : chunk);
	if (r == 0)
		r = bk_dp_finish(p);
	*rows = bk_dp_rows(p);
	bk_dp_free(p);
	return r;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	enum bk_dp_kind kind;
	unsigned long long rows_whole, rows_chunked;
	size_t chunk;
	int a, b;

	if (size < 1)
		return 0;
	kind = (data[0] & 1) ? BK_DP_CSV : BK_DP_COPY;
	chunk = (size_t)(data[0] >> 1) + 1;
	a = run(kind, data + 1, size - 1, size, &rows_whole);
	b = run(kind, data + 1, size - 1, chunk, &rows_chunked);
	if (a != b || (a == 0 && rows_whole != rows_chunked))
		abort();
	return 0;
}
