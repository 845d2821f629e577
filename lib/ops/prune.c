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
#include "retention.h"
#include "verify.h"

struct archive_file {
	char *name;
	long long t;		/* from the name, or the mtime when the name's time is invalid */
};

/*
 * Is this an archive a restore could use? The one place that decides which
 * old archives are worth keeping: bk-verify's check, which reads the whole
 * file (gzip to its trailer, every member against MANIFEST, rows parsed).
 * The retention decision asks, lazily, at most once per archive.
 */
struct listing {
	const char *dir;
	const struct archive_file *v;
};

static int archive_is_good(size_t i, void *ctx)
{
	const struct listing *l = ctx;
	char *path = bk_path_join(l->dir, l->v[i].name);
	struct bk_verify_report rep;
	int ret = bk_verify_archive(path, &rep);

	if (ret < 0)
		bk_warn("%s is not counted as a good backup: %s", l->v[i].name, bk_err());
	bk_verify_report_free(&rep);
	free(path);
	return ret == 0;
}

static int newest_first(const void *a, const void *b)
{
	const struct archive_file *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? 1 : -1;
	return -strcmp(x->name, y->name);
}

/* Is name, in the directory dfd, a regular file (not a symlink or a
 * directory: those are not ours to remove)? Its stat in *st. */
static int regular(int dfd, const char *name, struct stat *st)
{
	return fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st->st_mode);
}

/* An archive: its time from the name, or the mtime when the name's is invalid. */
static int pick_archive(int dfd, const char *name, long long *t)
{
	int kind = bk_archive_name_time(name, t);
	struct stat st;

	if (!kind || !regular(dfd, name, &st))
		return 0;
	if (kind == 2)
		*t = (long long)st.st_mtime;
	return 1;
}

/* NAME.tar.gz.age whose NAME.tar.gz is gone (removed by hand, or an admin
 * who keeps only the encrypted copies): the time its name says. */
static int pick_orphan_age(int dfd, const char *name, long long *t)
{
	size_t nl = strlen(name);
	char plain[256];
	struct stat st;

	if (nl < 5 || nl - 4 >= sizeof(plain) || strcmp(name + nl - 4, ".age"))
		return 0;
	memcpy(plain, name, nl - 4);
	plain[nl - 4] = '\0';
	return bk_archive_name_time(plain, t) == 1 && regular(dfd, name, &st) &&
	       fstatat(dfd, plain, &st, AT_SYMLINK_NOFOLLOW) < 0;
}

/* Every file of dir that pick() takes, newest first. */
static int list_files(const char *dir, int (*pick)(int dfd, const char *name, long long *t),
		      struct archive_file **out, size_t *n)
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

		if (!pick(dirfd(d), e->d_name, &t))
			continue;
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

/* Say why an archive past the retention period stays. */
static void log_kept_old(const struct archive_file *a, const struct bk_retention_item *it,
			 const struct bk_prune_opts *o)
{
	long long days = (o->now - a->t) / 86400;
	char notes[BK_RETENTION_NOTES_MAX];

	if (it->reasons & BK_KEEP_RETENTION)
		return;
	if (it->reasons == BK_KEEP_MIN)
		bk_info("keeping %s although it is %lld days old: one of the newest %d "
			"good archives", a->name, days, o->keep_min);
	else if (it->reasons == BK_KEEP_DAMAGED)
		bk_warn("keeping %s although it is %lld days old and not known good: "
			"fewer than BACKUP_KEEP_MIN=%d archives would be left", a->name,
			days, o->keep_min);
	else
		bk_info("keeping %s although it is %lld days old: %s", a->name, days,
			bk_retention_describe(it, notes));
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

/* Returns 1 when removed (or, with dry_run, it would be), else 0. */
static int remove_one(const char *path, const struct archive_file *a,
		      const struct bk_prune_opts *o, size_t *failed)
{
	/* the copy first: no .age is left behind without its archive */
	remove_age(path, o, failed);
	if (o->dry_run) {
		bk_info("would remove %s (%lld days old)", path, (o->now - a->t) / 86400);
		return 1;
	}
	if (unlink(path) < 0) {
		if (errno != ENOENT) {	/* else gone already: not ours to report */
			bk_err_errno("cannot remove %s", path);
			bk_log_err();
			(*failed)++;
		}
		return 0;
	}
	bk_info("removed %s (%lld days old)", path, (o->now - a->t) / 86400);
	return 1;
}

static void act(const char *dir, const struct archive_file *v,
		const struct bk_retention_item *it, size_t n, const struct bk_prune_opts *o,
		size_t *failed, bk_prune_verdict_fn *decided, void *ctx)
{
	char notes[BK_RETENTION_NOTES_MAX];

	for (size_t i = 0; i < n; i++) {
		char *path = bk_path_join(dir, v[i].name);
		int keep = it[i].reasons != 0;

		bk_retention_describe(&it[i], notes);
		if (keep)
			log_kept_old(&v[i], &it[i], o);
		if (keep || remove_one(path, &v[i], o, failed))
			decided(path, keep, notes, ctx);
		free(path);
	}
}

/*
 * The orphans cannot be verified (bk-prune holds no identity), so they keep
 * by age alone: those within BACKUP_RETENTION_DAYS, and, newest first, as
 * many as BACKUP_KEEP_MIN wants beyond the kept archives (kept) whatever
 * their age.
 */
static void prune_orphan_ages(const char *dir, const struct bk_prune_opts *o, size_t kept,
			      size_t *failed, bk_prune_verdict_fn *decided, void *ctx)
{
	struct archive_file *v;
	size_t n;

	if (list_files(dir, pick_orphan_age, &v, &n) < 0) {
		bk_log_err();
		(*failed)++;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char *path = bk_path_join(dir, v[i].name);
		long long days = (o->now - v[i].t) / 86400;
		int keep = days <= o->retention_days || kept < (size_t)o->keep_min;

		kept += (size_t)keep;
		if (keep) {
			decided(path, 1, days <= o->retention_days ? "encrypted copy alone, retention"
				: "encrypted copy alone, keep-min", ctx);
		} else if (o->dry_run) {
			bk_info("would remove %s (%lld days old; its archive is gone)", path, days);
			decided(path, 0, "encrypted copy alone, expired", ctx);
		} else if (unlink(path) < 0 && errno != ENOENT) {
			bk_err_errno("cannot remove %s", path);
			bk_log_err();
			(*failed)++;
		} else {
			bk_info("removed %s (%lld days old; its archive was gone)", path, days);
			decided(path, 0, "encrypted copy alone, expired", ctx);
		}
		free(path);
		free(v[i].name);
	}
	free(v);
}

int bk_prune(const char *dir, const struct bk_prune_opts *o,
	     bk_prune_verdict_fn *decided, void *ctx)
{
	struct bk_retention_policy p = {
		.retention_days = o->retention_days, .keep_min = o->keep_min,
		.keep_daily = o->keep_daily, .keep_weekly = o->keep_weekly,
		.keep_monthly = o->keep_monthly,
	};
	struct bk_retention_summary sum;
	struct bk_retention_item *it;
	struct archive_file *v;
	size_t n, failed = 0;
	struct listing l;
	int ret = 0;

	if (list_files(dir, pick_archive, &v, &n) < 0)
		return -1;
	it = calloc(n ? n : 1, sizeof(*it));
	if (!it)
		abort();
	for (size_t i = 0; i < n; i++)
		it[i].t = v[i].t;
	l.dir = dir;
	l.v = v;
	if (bk_retention_decide(it, n, o->now, &p, archive_is_good, &l, &sum) < 0) {
		ret = -1;
		goto out;
	}
	act(dir, v, it, n, o, &failed, decided, ctx);
	{
		size_t kept = 0;

		for (size_t i = 0; i < n; i++)
			kept += it[i].reasons != 0;
		prune_orphan_ages(dir, o, kept, &failed, decided, ctx);
	}
	if (failed)
		ret = bk_err_set("%zu old archive%s in %s could not be removed", failed,
				 failed == 1 ? "" : "s", dir);
	else if (sum.short_of_min)
		ret = bk_err_set("only %zu archive%s in %s pass%s verification, fewer than "
				 "BACKUP_KEEP_MIN=%d: the damaged ones are kept", sum.good,
				 sum.good == 1 ? "" : "s", dir, sum.good == 1 ? "es" : "",
				 o->keep_min);
out:
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	free(it);
	return ret;
}
