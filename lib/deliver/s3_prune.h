/*
 * Retention in the bucket: the archives directly under the installation's
 * prefix (s3_archives.h) past BACKUP_S3_RETENTION_DAYS are deleted, by the
 * same decision as bk-prune's (retention.h: keep-min, GFS). Nothing but a bk
 * archive's name under that prefix is ever deleted: not foreign objects, not
 * other prefixes (other installations), not deeper keys. An archive and its
 * .age copy are one backup, kept or deleted together.
 */
#ifndef BK_S3_PRUNE_H
#define BK_S3_PRUNE_H

#include "retention.h"

struct bk_s3;

struct bk_s3_prune_opts {
	int dry_run;		/* say what would go, delete nothing */
	long long now;		/* unix seconds to measure ages from */
	struct bk_retention_policy policy;
};

/*
 * Prune the bucket. verdict(url, keep, notes, ctx) is called for every
 * archive object, newest first: url is "s3://bucket/key", keep 1 or 0, notes
 * why (bk_retention_describe). With dry_run nothing is deleted; otherwise a
 * removed object is reported after it was deleted. "Good" is an object the
 * store holds with a size above zero (it was confirmed by HEAD after its
 * upload; reading every archive back would cost its egress each night).
 * Returns 0, or -1 when the listing failed or some object could not be
 * deleted (each logged; the others are still handled).
 */
int bk_s3_prune(const struct bk_s3 *s, const struct bk_s3_prune_opts *o,
		void (*verdict)(const char *url, int keep, const char *notes, void *ctx),
		void *ctx);

#endif
