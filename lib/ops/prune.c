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

#include "err.h"
#include "fs.h"
#include "log.h"
#include "manifest.h"
#include "prune.h"
#include "verify.h"

struct archive_file {
	char *name;
	long long t;		/* from the name, or the mtime when the name's time is invalid */
};

/*
 * Is this an archive a restore could use? The one place that decides which
 * old archives are worth keeping: bk-verify's check, which reads the whole
 * file (gzip to its trailer, every member against MANIFEST, rows parsed).
 */
static int archive_is_good(const char *path)
{
	struct bk_verify_report rep;
	int ret = bk_verify_archive(path, &rep);

	bk_verify_report_free(&rep);
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

/*
 * Never fewer than keep_min archives: when not enough pass verification, the
 * newest of the others stay too (a damaged archive may still hold most of the
 * data, and removing it helps no one). Returns how many were kept so.
 */
static size_t keep_damaged(const struct archive_file *v, size_t n, char *keep,
			   const struct bk_prune_opts *o)
{
	size_t kept = 0, extra = 0;

	for (size_t i = 0; i < n; i++)
		kept += keep[i] != 0;
	for (size_t i = 0; i < n && kept < (size_t)o->keep_min; i++) {
		if (keep[i])
			continue;
		keep[i] = 1;
		kept++;
		extra++;
		bk_warn("keeping %s although it is %lld days old and not known good: "
			"fewer than BACKUP_KEEP_MIN=%d archives would be left", v[i].name,
			(o->now - v[i].t) / 86400, o->keep_min);
	}
	return extra;
}

/* An archive's encrypted copy NAME.age (bk-run, BACKUP_AGE_RECIPIENTS) goes
 * with it; a symlink or directory of that name is not ours either. */
static void remove_age(const char *path, const struct bk_prune_opts *o, size_t *failed)
{
	char *age = bk_asprintf("%s.age", path);
	struct stat st;

	if (lstat(age, &st) < 0 || !S_ISREG(st.st_mode))
		goto out;
	if (o->dry_run) {
		bk_info("would remove %s with its archive", age);
	} else if (unlink(age) < 0) {
		if (errno != ENOENT) {
			bk_err_errno("cannot remove %s", age);
			bk_log_err();
			(*failed)++;
		}
	} else {
		bk_info("removed %s with its archive", age);
	}
out:
	free(age);
}

static void remove_one(const char *dir, const struct archive_file *a,
		       const struct bk_prune_opts *o, size_t *failed,
		       void (*removed)(const char *path, void *ctx), void *ctx)
{
	char *path = bk_path_join(dir, a->name);

	/* the copy first: no .age is left behind without its archive */
	remove_age(path, o, failed);
	if (o->dry_run) {
		bk_info("would remove %s (%lld days old)", path, (o->now - a->t) / 86400);
		removed(path, ctx);
	} else if (unlink(path) < 0) {
		if (errno != ENOENT) {	/* else gone already: not ours to report */
			bk_err_errno("cannot remove %s", path);
			bk_log_err();
			(*failed)++;
		}
	} else {
		bk_info("removed %s (%lld days old)", path, (o->now - a->t) / 86400);
		removed(path, ctx);
	}
	free(path);
}

int bk_prune(const char *dir, const struct bk_prune_opts *o,
	     void (*removed)(const char *path, void *ctx), void *ctx)
{
	struct archive_file *v;
	size_t n, expired = 0, good = 0, bad = 0, failed = 0;
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
			bad++;
		}
		free(path);
	}
	if (expired)
		keep_damaged(v, n, keep, o);
	for (size_t i = 0; i < n; i++)
		if (!keep[i])
			remove_one(dir, &v[i], o, &failed, removed, ctx);
	if (failed)
		ret = bk_err_set("%zu old archive%s in %s could not be removed", failed,
				 failed == 1 ? "" : "s", dir);
	else if (bad && good < (size_t)o->keep_min)
		ret = bk_err_set("only %zu archive%s in %s pass%s verification, fewer than "
				 "BACKUP_KEEP_MIN=%d: the damaged ones are kept", good,
				 good == 1 ? "" : "s", dir, good == 1 ? "es" : "", o->keep_min);
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	free(keep);
	return ret;
}
