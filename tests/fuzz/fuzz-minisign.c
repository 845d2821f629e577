/* libFuzzer: the minisign parsers (public key, secret key, signature) and
 * verification on arbitrary text; a signature that parses formats no wider than
 * its input. The first byte picks the parser so one corpus covers all three. */
#include <stdlib.h>
#include <string.h>

#include "minisign.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* The key of the seed corpus (tests/fuzz/corpus/minisign/). */
static const char pub[] = "RWTCN9j23pHPPVN73fhn7Td3+r2JurmY4MZwtISc6QVVZJmUgb7yz0bI";

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct bk_minisign_pub pk;
	struct bk_minisign_sec sk;
	struct bk_minisign_sig sig;
	const char *text = (const char *)data + 1;
	char id[BK_MINISIGN_ID_HEX], *tc;

	if (size == 0)
		return 0;
	size--;
	switch (data[0] % 3) {
	case 0:
		bk_minisign_pub_parse(&pk, text, size);
		break;
	case 1:
		if (bk_minisign_sec_parse(&sk, text, size) == 0)
			bk_minisign_sec_wipe(&sk);
		break;
	default:
		if (bk_minisign_sig_parse(&sig, text, size) == 0) {
			if (strlen(sig.trusted_comment) > size)
				abort();
			bk_minisign_sig_free(&sig);
		}
		if (bk_minisign_pub_parse(&pk, pub, strlen(pub)) < 0)
			abort();
		if (bk_minisign_verify(&pk, "bk fixture message\n", 19, text, size, id, &tc) == 0)
			free(tc);
	}
	return 0;
}
