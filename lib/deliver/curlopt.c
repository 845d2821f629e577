/* libcurl settings every bk transfer shares (curlopt.h). */
#include "curlopt.h"

void bk_curl_protocols(CURL *h, const char *names, long mask)
{
#if LIBCURL_VERSION_NUM >= 0x075500
	(void)mask;
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, names);
#else
	(void)names;
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, mask);
#endif
}
