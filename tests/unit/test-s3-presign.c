/* Presigned S3 GET URLs against AWS's documented example ("Authenticating
 * Requests: Using Query Parameters"), path style, key encoding, bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "s3.h"
#include "s3_presign.h"
#include "tap.h"

/* 2013-05-24T00:00:00Z */
#define AWS_EXAMPLE_NOW 1369353600LL

static struct bk_s3 aws_example(void)
{
	struct bk_s3 s = {
		.endpoint = "https://s3.amazonaws.com",
		.region = "us-east-1",
		.bucket = "examplebucket",
		.prefix = "",
		.access_key = "AKIAIOSFODNN7EXAMPLE",
		.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	};
	return s;
}

int main(void)
{
	struct bk_s3 s = aws_example();
	char *url;

	url = bk_s3_presign_get(&s, "test.txt", AWS_EXAMPLE_NOW, 86400);
	ok(url && !strcmp(url, "https://examplebucket.s3.amazonaws.com/test.txt"
			  "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
			  "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
			  "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
			  "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"),
	   "AWS's example: the documented URL and signature (got %s)", url ? url : bk_err());
	free(url);

	s.path_style = 1;
	s.endpoint = "http://127.0.0.1:9000";
	url = bk_s3_presign_get(&s, "test.txt", AWS_EXAMPLE_NOW, 86400);
	ok(url && !strncmp(url, "http://127.0.0.1:9000/examplebucket/test.txt?X-Amz-", 51),
	   "path style: endpoint/bucket/key with the port kept (%s)", url ? url : bk_err());
	ok(url && strstr(url, "&X-Amz-Signature=") && !strstr(url, "aeeed9bb"),
	   "path style signs another host and path");
	free(url);

	url = bk_s3_presign_get(&s, "host a/critical_backup_20260101_020000.tar.gz.age",
				AWS_EXAMPLE_NOW, 86400);
	ok(url && strstr(url, "/examplebucket/host%20a/critical_backup_20260101_020000.tar.gz.age?"),
	   "a key's prefix keeps its '/', other bytes are %%-encoded");
	free(url);

	s = aws_example();
	url = bk_s3_presign_get(&s, "test.txt", AWS_EXAMPLE_NOW, BK_S3_PRESIGN_MAX_SECONDS + 1);
	ok(!url && strstr(bk_err(), "604800"), "more than 7 days is refused: %s", bk_err());
	ok(!bk_s3_presign_get(&s, "test.txt", AWS_EXAMPLE_NOW, 0), "0 seconds is refused");
	url = bk_s3_presign_get(&s, "test.txt", AWS_EXAMPLE_NOW, BK_S3_PRESIGN_MAX_SECONDS);
	ok(url && strstr(url, "X-Amz-Expires=604800&"), "exactly 7 days is allowed");
	free(url);

	s.bucket = "Not_A_Host";
	ok(!bk_s3_presign_get(&s, "test.txt", AWS_EXAMPLE_NOW, 60) && strstr(bk_err(), "Not_A_Host"),
	   "virtual-host style with a bucket that is no host label: %s", bk_err());
	return done_testing();
}
