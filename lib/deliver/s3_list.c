/* ListObjectsV2 with continuation tokens (see s3.h): a page of at most 1,000
 * keys at a time, so memory stays bounded however many objects there are. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fs.h"
#include "s3_int.h"

/* The canonical query of one page: names sorted, values encoded. */
static char *page_query(const char *prefix, const char *token)
{
	char *p = bk_s3_uri_encode(prefix, 0), *t = NULL, *q;

	if (token && *token) {
		t = bk_s3_uri_encode(token, 0);
		q = bk_asprintf("continuation-token=%s&list-type=2&prefix=%s", t, p);
	} else {
		q = bk_asprintf("list-type=2&prefix=%s", p);
	}
	free(p);
	free(t);
	return q;
}

/* Call each() for every <Contents> of the page; -1 when it says stop. */
static int each_object(const char *xml, size_t len,
		       int (*each)(const struct bk_s3_object *o, void *ctx), void *ctx)
{
	size_t pos = 0, start, end;
	char key[BK_S3_MAX_KEY + 1], size[32], mod[64], etag[80];

	while (s3_xml_elem(xml, len, &pos, "Contents", &start, &end) == 0) {
		const char *c = xml + start;
		size_t n = end - start, p = 0;
		struct bk_s3_object o = { .key = key, .etag = etag };

		if (s3_xml_next(c, n, &p, "Key", key, sizeof(key)) < 0)
			return bk_err_set("ListObjectsV2: an entry without a key (or one over "
					  "%d bytes)", BK_S3_MAX_KEY);
		p = 0;
		size[0] = mod[0] = etag[0] = '\0';
		s3_xml_next(c, n, &p, "Size", size, sizeof(size));
		p = 0;
		s3_xml_next(c, n, &p, "LastModified", mod, sizeof(mod));
		p = 0;
		s3_xml_next(c, n, &p, "ETag", etag, sizeof(etag));
		o.size = strtoull(size, NULL, 10);
		o.mtime = (time_t)s3_parse_time(mod);
		if (each(&o, ctx) < 0)
			return -1;
	}
	return 0;
}

int bk_s3_list(const struct bk_s3 *s, const char *prefix,
	       int (*each)(const struct bk_s3_object *o, void *ctx), void *ctx)
{
	char token[2048] = "", truncated[16];
	int ret = -1;

	for (;;) {
		struct s3_req r;
		char *q = page_query(prefix ? prefix : "", token);

		s3_req_init(&r, "GET", NULL, q);
		if (s3_request(s, &r) < 0 || !r.resp) {
			if (!r.resp && r.status)
				bk_err_set("ListObjectsV2 s3://%s/: an empty answer", s->bucket);
			s3_req_done(&r);
			free(q);
			goto out;
		}
		free(q);
		if (each_object(r.resp, r.resp_len, each, ctx) < 0) {
			s3_req_done(&r);
			goto out;
		}
		s3_xml_get(r.resp, "IsTruncated", truncated, sizeof(truncated));
		if (strcmp(truncated, "true")) {
			s3_req_done(&r);
			break;
		}
		if (s3_xml_get(r.resp, "NextContinuationToken", token, sizeof(token)) < 0 ||
		    !token[0]) {
			s3_req_done(&r);
			bk_err_set("ListObjectsV2 s3://%s/: truncated without a continuation token",
				   s->bucket);
			goto out;
		}
		s3_req_done(&r);
	}
	ret = 0;
out:
	return ret;
}
