/* The bk archives in a bucket (see s3_archives.h). */
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "prune.h"
#include "s3.h"
#include "s3_archives.h"

#define AGE_SUFFIX ".age"

struct listing {
	struct bk_s3_archives *out;
	size_t strip;		/* length of the prefix listed */
	int all;
};

/* Does name (a last component) name an archive? Sets *t and *encrypted. */
static int archive_name(const char *name, long long *t, int *encrypted)
{
	size_t n = strlen(name), sl = strlen(AGE_SUFFIX);
	char plain[64];

	*encrypted = n > sl && !strcmp(name + n - sl, AGE_SUFFIX);
	if (*encrypted)
		n -= sl;
	if (n >= sizeof(plain))
		return 0;
	memcpy(plain, name, n);
	plain[n] = '\0';
	return bk_archive_name_time(plain, t) == 1;
}

static int add(const struct bk_s3_object *o, void *ctx)
{
	struct listing *l = ctx;
	struct bk_s3_archives *a = l->out;
	const char *rest = o->key + l->strip, *slash = strrchr(rest, '/');
	const char *name = slash ? slash + 1 : rest;
	struct bk_s3_archive *e;
	long long t;
	int enc;

	if ((slash && !l->all) || !archive_name(name, &t, &enc)) {
		a->n_other++;
		return 0;
	}
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 64;
		a->v = realloc(a->v, a->cap * sizeof(*a->v));
		if (!a->v)
			abort();
	}
	e = &a->v[a->n++];
	e->key = bk_xstrdup(o->key);
	e->name = e->key + (name - o->key);
	e->prefix_len = (size_t)(name - o->key);
	e->size = o->size;
	e->mtime = o->mtime;
	e->t = t;
	e->encrypted = enc;
	return 0;
}

static int by_prefix_newest_first(const void *pa, const void *pb)
{
	const struct bk_s3_archive *a = pa, *b = pb;
	size_t n = a->prefix_len < b->prefix_len ? a->prefix_len : b->prefix_len;
	int c = memcmp(a->key, b->key, n);

	if (c || a->prefix_len != b->prefix_len)
		return c ? c : (a->prefix_len < b->prefix_len ? -1 : 1);
	if (a->t != b->t)
		return a->t < b->t ? 1 : -1;
	if (strcmp(a->name, b->name) != 0)	/* same time, other names: stable order */
		return -strcmp(a->name, b->name);
	return a->encrypted - b->encrypted;
}

int bk_s3_archives_list(const struct bk_s3 *s, int all, struct bk_s3_archives *out)
{
	const char *prefix = all ? "" : s->prefix;
	struct listing l = { .out = out, .strip = strlen(prefix), .all = all };

	memset(out, 0, sizeof(*out));
	if (bk_s3_list(s, prefix, add, &l) < 0)
		return -1;
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), by_prefix_newest_first);
	return 0;
}

void bk_s3_archives_free(struct bk_s3_archives *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].key);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

const struct bk_s3_archive *bk_s3_archives_find(const struct bk_s3_archives *a,
						const char *name)
{
	const struct bk_s3_archive *age = NULL;
	size_t n = strlen(name);

	for (size_t i = 0; i < a->n; i++) {
		const char *have = a->v[i].name;

		if (!strcmp(have, name))
			return &a->v[i];
		if (!age && !strncmp(have, name, n) && !strcmp(have + n, AGE_SUFFIX))
			age = &a->v[i];
	}
	return age;
}
