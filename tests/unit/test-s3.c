/* Unit tests for lib/deliver/s3*.c without a store: SigV4 URI encoding, the
 * two URL styles, the part plan (equal parts, at most 10,000, growing for
 * huge files), the store's XML (entities, missing tags), its times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_int.h"
#include "tap.h"

static void test_encode(void)
{
	char *e = bk_s3_uri_encode("a b/c+d~e_f.g-h%", 1);

	ok(!strcmp(e, "a%20b/c%2Bd~e_f.g-h%25"), "uri encode keeps unreserved and '/': %s", e);
	free(e);
	e = bk_s3_uri_encode("db/x=y&z", 0);
	ok(!strcmp(e, "db%2Fx%3Dy%26z"), "uri encode of a query value encodes '/': %s", e);
	free(e);
	e = bk_s3_uri_encode("\xe0\xb8\x82", 1);
	ok(!strcmp(e, "%E0%B8%82"), "UTF-8 bytes as upper-case %%XX: %s", e);
	free(e);
}

static void test_urls(void)
{
	struct bk_s3 s = { .endpoint = "https://s3.eu-central-1.amazonaws.com", .bucket = "bk",
			   .prefix = "p/" };
	char *u = bk_s3_url(&s, "p/a b.tar.gz", NULL), *h = bk_s3_host(&s);

	ok(!strcmp(u, "https://bk.s3.eu-central-1.amazonaws.com/p/a%20b.tar.gz"),
	   "virtual-host style: %s", u);
	ok(!strcmp(h, "bk.s3.eu-central-1.amazonaws.com"), "its host: %s", h);
	free(u);
	free(h);
	s.path_style = 1;
	s.endpoint = "http://127.0.0.1:9000";
	u = bk_s3_url(&s, NULL, "list-type=2&prefix=p%2F");
	h = bk_s3_host(&s);
	ok(!strcmp(u, "http://127.0.0.1:9000/bk/?list-type=2&prefix=p%2F"), "path style, bucket: %s",
	   u);
	ok(!strcmp(h, "127.0.0.1:9000"), "its host: %s", h);
	free(u);
	free(h);
	u = bk_s3_key(&s, "critical_backup_1.tar.gz");
	ok(!strcmp(u, "p/critical_backup_1.tar.gz"), "key = prefix + name");
	free(u);
}

static void test_parts(void)
{
	unsigned long long part;
	unsigned n;

	s3_plan_parts(1000, 16ULL << 20, &part, &n);
	ok(n == 1 && part == 1000, "a small file is one PUT");
	s3_plan_parts(16ULL << 20, 16ULL << 20, &part, &n);
	ok(n == 1, "exactly the part size is one PUT");
	s3_plan_parts((48ULL << 20) + 1, 16ULL << 20, &part, &n);
	ok(n == 4 && part == 16ULL << 20, "48 MiB + 1 byte: 4 parts of 16 MiB (last 1 byte)");
	s3_plan_parts(1ULL << 40, 16ULL << 20, &part, &n);
	ok(n <= BK_S3_MAX_PARTS && part % (1ULL << 20) == 0 &&
	   (unsigned long long)n * part >= 1ULL << 40 &&
	   (unsigned long long)(n - 1) * part < 1ULL << 40,
	   "1 TiB: %u parts of %llu MiB (<= 10,000, whole MiB, covering the file)", n, part >> 20);
	s3_plan_parts(5ULL << 40, 5ULL << 20, &part, &n);
	ok(n <= BK_S3_MAX_PARTS, "5 TiB (S3's largest object): %u parts", n);
}

static void test_xml(void)
{
	const char *x = "<Error><Code>NoSuchBucket</Code><Message>a &lt;b&gt; &amp; &quot;c&quot;"
			"</Message><Empty></Empty></Error>";
	const char *l = "<R><Contents><Key>a</Key></Contents><Contents><Key>b&amp;c</Key>"
			"</Contents></R>";
	char out[64];
	size_t pos = 0;

	ok(s3_xml_get(x, "Code", out, sizeof(out)) == 0 && !strcmp(out, "NoSuchBucket"), "Code");
	ok(s3_xml_get(x, "Message", out, sizeof(out)) == 0 && !strcmp(out, "a <b> & \"c\""),
	   "entities decoded: %s", out);
	ok(s3_xml_get(x, "Empty", out, sizeof(out)) == 0 && !out[0], "an empty element");
	ok(s3_xml_get(x, "Nope", out, sizeof(out)) < 0 && !out[0], "a missing tag");
	ok(s3_xml_get(x, "Message", out, 4) < 0, "a value too long for the buffer is absent");
	ok(s3_xml_next(l, strlen(l), &pos, "Key", out, sizeof(out)) == 0 && !strcmp(out, "a") &&
	   s3_xml_next(l, strlen(l), &pos, "Key", out, sizeof(out)) == 0 && !strcmp(out, "b&c") &&
	   s3_xml_next(l, strlen(l), &pos, "Key", out, sizeof(out)) < 0, "keys one after another");
}

static void test_time(void)
{
	ok(s3_parse_time("2026-12-01T11:28:01.831Z") == 1796124481LL, "ListObjectsV2 time");
	ok(s3_parse_time("Tue, 01 Dec 2026 11:28:05 GMT") == 1796124485LL, "HTTP date");
	ok(s3_parse_time("yesterday") == 0, "not a time: 0");
}

int main(void)
{
	test_encode();
	test_urls();
	test_parts();
	test_xml();
	test_time();
	return done_testing();
}
