/*
 * The bk archives in a bucket: objects whose last name component is
 * critical_backup_YYYYMMDD_HHMMSS.tar.gz, or that with .age, for bk-fetch
 * and the bucket's retention. Anything else stored (foreign objects, names
 * with invalid digits, deeper keys) is counted, never listed, so nothing but
 * a bk archive is ever downloaded or deleted on the strength of its name.
 */
#ifndef BK_S3_ARCHIVES_H
#define BK_S3_ARCHIVES_H

#include <stddef.h>
#include <time.h>

struct bk_s3;

struct bk_s3_archive {
	char *key;		/* the full key */
	const char *name;	/* its last component, inside key */
	size_t prefix_len;	/* key's first prefix_len bytes are its prefix */
	unsigned long long size;
	time_t mtime;		/* LastModified, 0 when unknown */
	long long t;		/* the time the name says (local time, TZ) */
	int encrypted;		/* the name ends in .age */
};

struct bk_s3_archives {
	struct bk_s3_archive *v;	/* newest first (see bk_s3_archives_list) */
	size_t n, cap;
	size_t n_other;		/* objects listed that are no archive of this listing */
};

/*
 * List the archives directly under the installation's prefix (s->prefix),
 * or with all, under every prefix of the bucket. Order: by prefix, then
 * newest first (the time in the name); of NAME.tar.gz and NAME.tar.gz.age
 * the plain one first. 0, or -1 with the store's error in the slot.
 */
int bk_s3_archives_list(const struct bk_s3 *s, int all, struct bk_s3_archives *out);
void bk_s3_archives_free(struct bk_s3_archives *a);

/* The archive called name (a base name, with or without .age: then the
 * plain one first, else NAME.age), or NULL. */
const struct bk_s3_archive *bk_s3_archives_find(const struct bk_s3_archives *a,
						const char *name);

#endif
