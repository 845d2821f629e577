/* Retention in the bucket (see s3_prune.h). */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fs.h"
#include "log.h"
#include "s3.h"
#include "s3_archives.h"
#include "s3_prune.h"

/* One backup: consecutive archives of the listing with one plain name. */
struct group {
	size_t first, n;
};

static int same_backup(const struct bk_s3_archive *a, const struct bk_s3_archive *b)
{
	size_t n = strlen(a->name) < strlen(b->name) ? strlen(a->name) : strlen(b->name);

	return a->t == b->t && !strncmp(a->name, b->name, n);
}

struct goodness {
	const struct bk_s3_archives *a;
	const struct group *g;
};

static int is_good(size_t i, void *ctx)
{
	const struct goodness *q = ctx;

	for (size_t k = 0; k < q->g[i].n; k++)
		if (q->a->v[q->g[i].first + k].size > 0)
			return 1;
	return 0;
}

typedef void verdict_fn(const char *url, int keep, const char *notes, void *ctx);

/* Report every object of a backup; delete those of a removed one. */
static int judge_group(const struct bk_s3 *s, const struct bk_s3_archives *a,
		       const struct group *g, const struct bk_retention_item *it,
		       const struct bk_s3_prune_opts *o, verdict_fn *verdict, void *ctx)
{
	char notes[BK_RETENTION_NOTES_MAX];
	int keep = it->reasons != 0, ret = 0;

	bk_retention_describe(it, notes);
	for (size_t k = 0; k < g->n; k++) {
		const struct bk_s3_archive *e = &a->v[g->first + k];
		char *url = bk_s3_display(s, e->key);

		if (!keep && !o->dry_run && bk_s3_delete(s, e->key) < 0) {
			bk_log_err();
			ret = -1;
		} else {
			if (!keep && !o->dry_run)
				bk_info("deleted %s (%s)", url, notes);
			verdict(url, keep, notes, ctx);
		}
		free(url);
	}
	return ret;
}

int bk_s3_prune(const struct bk_s3 *s, const struct bk_s3_prune_opts *o,
		verdict_fn *verdict, void *ctx)
{
	struct bk_s3_archives a;
	struct bk_retention_item *items = NULL;
	struct group *g = NULL;
	struct bk_retention_summary sum;
	struct goodness q;
	size_t n = 0;
	int ret = -1;

	if (bk_s3_archives_list(s, 0, &a) < 0)
		return -1;
	g = bk_xmalloc((a.n ? a.n : 1) * sizeof(*g));
	items = calloc(a.n ? a.n : 1, sizeof(*items));
	if (!items)
		abort();
	for (size_t i = 0; i < a.n; i++) {
		if (n && same_backup(&a.v[g[n - 1].first], &a.v[i])) {
			g[n - 1].n++;
			continue;
		}
		g[n].first = i;
		g[n].n = 1;
		items[n++].t = a.v[i].t;
	}
	q.a = &a;
	q.g = g;
	if (bk_retention_decide(items, n, o->now, &o->policy, is_good, &q, &sum) < 0)
		goto out;
	ret = 0;
	for (size_t i = 0; i < n; i++)
		if (judge_group(s, &a, &g[i], &items[i], o, verdict, ctx) < 0)
			ret = -1;
	bk_info("bucket retention: %zu backups under the prefix, %zu kept, %zu %s; "
		"%zu other objects left alone", n, sum.kept, sum.removed,
		o->dry_run ? "would be deleted" : "deleted", a.n_other);
	if (ret < 0)
		bk_err_set("some archives in the bucket could not be deleted (see the log)");
out:
	free(items);
	free(g);
	bk_s3_archives_free(&a);
	return ret;
}
