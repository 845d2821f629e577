/* The little XML the S3 API answers with: a tag's text, entities decoded,
 * found by plain search (the store's documents are flat and well-formed; a
 * value that does not fit or is missing is simply absent). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "s3_int.h"

int s3_xml_elem(const char *xml, size_t len, size_t *pos, const char *tag, size_t *start,
		size_t *end)
{
	char open[80], close[82];
	const char *p, *q;
	size_t on, cn;

	on = (size_t)snprintf(open, sizeof(open), "<%s>", tag);
	cn = (size_t)snprintf(close, sizeof(close), "</%s>", tag);
	if (*pos >= len || !(p = memmem(xml + *pos, len - *pos, open, on)))
		return -1;
	p += on;
	if (!(q = memmem(p, len - (size_t)(p - xml), close, cn)))
		return -1;
	*start = (size_t)(p - xml);
	*end = (size_t)(q - xml);
	*pos = *end + cn;
	return 0;
}

static const struct {
	const char *ent;
	char c;
} entities[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
		 { "&apos;", '\'' } };

int s3_xml_next(const char *xml, size_t len, size_t *pos, const char *tag, char *out,
		size_t size)
{
	size_t start, end, o = 0;

	if (s3_xml_elem(xml, len, pos, tag, &start, &end) < 0)
		return -1;
	for (size_t i = start; i < end; i++) {
		char c = xml[i];

		if (c == '&') {
			size_t k, n = sizeof(entities) / sizeof(entities[0]);

			for (k = 0; k < n; k++) {
				size_t el = strlen(entities[k].ent);

				if (end - i >= el && !memcmp(xml + i, entities[k].ent, el)) {
					c = entities[k].c;
					i += el - 1;
					break;
				}
			}
		}
		if (o + 1 >= size)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int s3_xml_get(const char *xml, const char *tag, char *out, size_t size)
{
	size_t pos = 0;

	out[0] = '\0';
	if (s3_xml_next(xml, strlen(xml), &pos, tag, out, size) < 0) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

long long s3_parse_time(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) && (*end == '.' || *end == 'Z'))
		return (long long)timegm(&tm);
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm)) && !*end)
		return (long long)timegm(&tm);
	return 0;
}
