/* Retention of archives in $BACKUP_DIR (see prune.h). Safe while a backup
 * runs: bk-pack writes under a dot-name and renames, which we never match. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive_read.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "manifest.h"
#include "prune.h"
#include "sha256.h"

struct archive_file {
	char *name;
	long long t;		/* from the name, or the mtime when the name's time is invalid */
};

/*
 * Is this an archive a restore could use? The one place that decides which
 * old archives are worth keeping. Reads the whole file: gzip intact to its
 * trailer, MANIFEST first, every member it lists present with its size and
 * SHA-256. (bk_verify_archive takes over here once lib/verify lands.)
 */
static int archive_is_good(const char *path)
{
	struct bk_ar_reader *r = bk_ar_open(path);
	struct bk_sha256 *h = bk_sha256_new();
	struct bk_ar_member m;
	struct bk_manifest man;
	char *text = NULL, buf[65536];
	size_t len, seen = 0;
	int k, ret = -1;

	bk_manifest_init(&man);
	if (!r || !h)
		goto out;
	if ((k = bk_ar_next(r, &m)) <= 0 || strcmp(m.path, BK_MANIFEST_NAME)) {
		if (k >= 0)
			bk_err_set("the first member is not %s", BK_MANIFEST_NAME);
		goto out;
	}
	if (bk_ar_read_all(r, &m, BK_MANIFEST_MAX, &text, &len) < 0 ||
	    bk_manifest_parse(&man, text, len) < 0)
		goto out;
	while ((k = bk_ar_next(r, &m)) == 1) {
		const struct bk_manifest_entry *e;
		unsigned long long got = 0;
		char hex[BK_SHA256_HEX];
		ssize_t n;

		if (m.type != BK_AR_REG)
			continue;
		if (!(e = bk_manifest_find(&man, m.path))) {
			bk_err_set("%s is not in the MANIFEST", m.path);
			goto out;
		}
		while ((n = bk_ar_read(r, buf, sizeof(buf))) > 0) {
			bk_sha256_update(h, buf, (size_t)n);
			got += (unsigned long long)n;
		}
		if (n < 0)
			goto out;
		bk_sha256_final(h, hex);
		if (got != e->bytes || strcmp(hex, e->sha256)) {
			bk_err_set("%s does not match its MANIFEST line", m.path);
			goto out;
		}
		seen++;
	}
	if (k < 0)
		goto out;
	if (seen != man.n_entries) {
		bk_err_set("members listed in the MANIFEST are missing");
		goto out;
	}
	ret = 0;
out:
	free(text);
	bk_manifest_free(&man);
	if (h)
		bk_sha256_free(h);
	if (r)
		bk_ar_close(r);
	return ret;
}

static int newest_first(const void *a, const void *b)
{
	const struct archive_file *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? 1 : -1;
	return -strcmp(x->name, y->name);
}

/* Every regular file with an archive's name, newest first. */
static int list_archives(const char *dir, struct archive_file **out, size_t *n)
{
	DIR *d = opendir(dir);
	struct archive_file *v = NULL;
	size_t len = 0, cap = 0;
	struct dirent *e;

	*out = NULL;
	*n = 0;
	if (!d)
		return bk_err_errno("cannot read directory %s", dir);
	while ((e = readdir(d)) != NULL) {
		long long t = 0;
		struct stat st;
		int kind = bk_archive_name_time(e->d_name, &t);

		if (!kind)
			continue;
		/* a symlink or directory with an archive's name is not ours to remove */
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (kind == 2)
			t = (long long)st.st_mtime;
		if (len == cap) {
			cap = cap ? 2 * cap : 64;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				abort();
		}
		v[len].name = bk_xstrdup(e->d_name);
		v[len++].t = t;
	}
	closedir(d);
	if (len)
		qsort(v, len, sizeof(*v), newest_first);
	*out = v;
	*n = len;
	return 0;
}

int bk_prune(const char *dir, const struct bk_prune_opts *o,
	     void (*removed)(const char *path, void *ctx), void *ctx)
{
	struct archive_file *v;
	size_t n, expired = 0, good = 0, failed = 0;
	char *keep;
	int ret = 0;

	if (list_archives(dir, &v, &n) < 0)
		return -1;
	keep = calloc(n ? n : 1, 1);
	if (!keep)
		abort();
	/* Whole days, like find -mtime +N: an archive from exactly N days ago stays. */
	for (size_t i = 0; i < n; i++) {
		long long age = o->now - v[i].t;

		keep[i] = age < 0 || age / 86400 <= o->retention_days;
		expired += !keep[i];
	}
	/* Verification reads whole archives: only when something would go. */
	for (size_t i = 0; expired && i < n && good < (size_t)o->keep_min; i++) {
		char *path = bk_path_join(dir, v[i].name);

		if (archive_is_good(path) == 0) {
			good++;
			if (!keep[i])
				bk_info("keeping %s although it is %lld days old: one of the newest %d "
					"good archives", v[i].name, (o->now - v[i].t) / 86400,
					o->keep_min);
			keep[i] = 1;
		} else {
			bk_warn("%s is not counted as a good backup: %s", v[i].name, bk_err());
		}
		free(path);
	}
	for (size_t i = 0; i < n; i++) {
		char *path;

		if (keep[i])
			continue;
		path = bk_path_join(dir, v[i].name);
		if (o->dry_run) {
			bk_info("would remove %s (%lld days old)", path, (o->now - v[i].t) / 86400);
			removed(path, ctx);
		} else if (unlink(path) < 0) {
			if (errno != ENOENT) {	/* else gone already: not ours to report */
				bk_err_errno("cannot remove %s", path);
				bk_log_err();
				failed++;
			}
		} else {
			bk_info("removed %s (%lld days old)", path, (o->now - v[i].t) / 86400);
			removed(path, ctx);
		}
		free(path);
	}
	if (failed)
		ret = bk_err_set("%zu old archive%s in %s could not be removed", failed,
				 failed == 1 ? "" : "s", dir);
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	free(keep);
	return ret;
}
