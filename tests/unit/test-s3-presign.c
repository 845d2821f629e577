/* Presigned S3 GET URLs against AWS's documented example ("Authenticating
 * Requests: Using Query Parameters"), path style, key encoding, bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "s3_presign.h"
#include "tap.h"

/* 2013-05-24T00:00:00Z */
#define AWS_EXAMPLE_NOW 1369353600LL

static struct bk_s3_presign aws_example(void)
{
	struct bk_s3_presign p = {
		.endpoint = "https://s3.amazonaws.com",
		.region = "us-east-1",
		.bucket = "examplebucket",
		.key = "test.txt",
		.access_key = "AKIAIOSFODNN7EXAMPLE",
		.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		.now = AWS_EXAMPLE_NOW,
		.expires = 86400,
	};
	return p;
}

int main(void)
{
	struct bk_s3_presign p = aws_example();
	char *url, *enc;

	url = bk_s3_presign_get(&p);
	ok(url && !strcmp(url, "https://examplebucket.s3.amazonaws.com/test.txt"
			  "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
			  "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
			  "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
			  "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"),
	   "AWS's example: the documented URL and signature (got %s)", url ? url : bk_err());
	free(url);

	p.path_style = 1;
	p.endpoint = "http://127.0.0.1:9000";
	url = bk_s3_presign_get(&p);
	ok(url && !strncmp(url, "http://127.0.0.1:9000/examplebucket/test.txt?X-Amz-", 51),
	   "path style: endpoint/bucket/key with the port kept (%s)", url ? url : bk_err());
	ok(url && strstr(url, "&X-Amz-Signature=") && !strstr(url, "aeeed9bb"),
	   "path style signs another host and path");
	free(url);

	p.key = "host a/critical_backup_20260101_020000.tar.gz.age";
	url = bk_s3_presign_get(&p);
	ok(url && strstr(url, "/examplebucket/host%20a/critical_backup_20260101_020000.tar.gz.age?"),
	   "a key's prefix keeps its '/', other bytes are %%-encoded");
	free(url);

	enc = bk_s3_uri_encode("a+b=c/d~e é", 0);
	ok(!strcmp(enc, "a%2Bb%3Dc%2Fd~e%20%C3%A9"), "uri encoding of + = / ~ space UTF-8: %s", enc);
	free(enc);

	p = aws_example();
	p.expires = BK_S3_PRESIGN_MAX_SECONDS + 1;
	url = bk_s3_presign_get(&p);
	ok(!url && strstr(bk_err(), "604800"), "more than 7 days is refused: %s", bk_err());
	p.expires = 0;
	ok(!bk_s3_presign_get(&p), "0 seconds is refused");
	p.expires = BK_S3_PRESIGN_MAX_SECONDS;
	url = bk_s3_presign_get(&p);
	ok(url && strstr(url, "X-Amz-Expires=604800&"), "exactly 7 days is allowed");
	free(url);

	p = aws_example();
	p.bucket = "Not_A_Host";
	ok(!bk_s3_presign_get(&p) && strstr(bk_err(), "Not_A_Host"),
	   "virtual-host style with a bucket that is no host label: %s", bk_err());
	p = aws_example();
	p.endpoint = "s3.amazonaws.com";
	ok(!bk_s3_presign_get(&p) && strstr(bk_err(), "s3.amazonaws.com"),
	   "an endpoint without http(s):// is refused: %s", bk_err());
	p.endpoint = "https://s3.amazonaws.com/path";
	ok(!bk_s3_presign_get(&p), "an endpoint with a path is refused");
	return done_testing();
}
