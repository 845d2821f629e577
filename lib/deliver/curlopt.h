/*
 * libcurl settings every bk transfer shares.
 */
#ifndef BK_CURLOPT_H
#define BK_CURLOPT_H

#include <curl/curl.h>

/* Allow only these protocols: names ("http,https") for libcurl >= 7.85,
 * mask (CURLPROTO_HTTP | CURLPROTO_HTTPS) for older ones, which lack the
 * string option. Redirects to anything else (file://, ...) are refused. */
void bk_curl_protocols(CURL *h, const char *names, long mask);

#endif
