/* The archive writer and bk_pack() (see archive_write.h). libarchive makes the
 * tar stream; its output comes to our callback and goes into gzwrite, so the
 * compression (and its threads) stays ours and the file is ours to fsync. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <locale.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive_read.h"
#include "archive_write.h"
#include "cli.h"
#include "err.h"
#include "fs.h"
#include "gzwrite.h"
#include "info.h"
#include "log.h"
#include "manifest.h"
#include "utf8.h"

#define READ_SIZE (1 << 20)	/* one read(2) and one archive_write_data() per MiB */
#define TAR_BLOCK (1 << 18)	/* libarchive hands our callback 256 KiB at a time */
#define TAR_RECORD 10240	/* the end is padded to a whole tar record, as tar(1) does */

struct bk_aw {
	struct archive *ar;
	struct bk_afile file;
	struct bk_gz *gz;
	struct bk_sha256 *sha;
	unsigned char *buf;
	long long mtime;
	int cb_failed;		/* our write callback failed: its message is in the slot */
	int discard;		/* aborting: the callback drops what it gets */
	char **dirs;		/* directory members written so far */
	size_t n_dirs;
	struct bk_aw_progress p;
	double member_start;
	bk_aw_progress_fn *progress;
	void *progress_ctx;
	volatile sig_atomic_t *stop;
	locale_t utf8;		/* LC_CTYPE for libarchive's name conversions */
};

/* "disk full while ..." from gzwrite, or ENOSPC here, becomes one message that
 * names the archive and says what to do. */
static int disk_full(struct bk_aw *w)
{
	char *dir = bk_xstrdup(w->file.final_path);

	bk_err_set("disk full: cannot write %s", w->file.final_path);
	bk_err_hint("make room in %s (bk-prune removes old archives) and run again",
		    dirname(dir));
	free(dir);
	return -1;
}

static int gz_failed(struct bk_aw *w)
{
	if (!strncmp(bk_err(), "disk full", 9))
		return disk_full(w);
	return bk_err_prefix("%s", w->file.final_path);
}

static int file_failed(struct bk_aw *w)
{
	if (errno == ENOSPC || errno == EDQUOT)
		return disk_full(w);
	return bk_err_errno("cannot write %s", w->file.final_path);
}

static la_ssize_t write_cb(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct bk_aw *w = ctx;

	if (w->discard)
		return (la_ssize_t)len;
	if (bk_gz_write(w->gz, buf, len) < 0) {
		gz_failed(w);
		w->cb_failed = 1;
		archive_set_error(a, EIO, "%s", bk_err());
		return -1;
	}
	return (la_ssize_t)len;
}

/* After a libarchive call failed: keep our callback's message if it was ours. */
static int ar_failed(struct bk_aw *w, const char *what)
{
	if (w->cb_failed)
		return -1;
	return bk_err_set("%s: %s", what, archive_error_string(w->ar) ?
			  archive_error_string(w->ar) : "libarchive error");
}

static void report(struct bk_aw *w, int done)
{
	if (!w->progress)
		return;
	w->p.member_seconds = bk_monotonic() - w->member_start;
	w->p.member_done = done;
	w->p.out = bk_gz_out_bytes(w->gz);
	w->progress(w->progress_ctx, &w->p);
}

static void member_start(struct bk_aw *w, const char *name)
{
	w->p.member = name;
	w->p.member_bytes = 0;
	w->member_start = bk_monotonic();
}

static int stopped(struct bk_aw *w)
{
	if (w->stop && *w->stop)
		return bk_err_set("interrupted; %s not written", w->file.final_path);
	return 0;
}

static int ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

static int write_header(struct bk_aw *w, const char *name, int is_dir,
			unsigned long long size, const struct bk_aw_attr *attr)
{
	struct archive_entry *e = archive_entry_new();
	locale_t old = (locale_t)0;
	int rc;

	if (!e)
		abort();
	if (!bk_utf8_str(name) || (!w->utf8 && !ascii(name))) {
		archive_entry_free(e);
		return bk_err_set("cannot store the name '%s' in the archive: not UTF-8%s", name,
				  w->utf8 ? "" : " (no UTF-8 locale)");
	}
	/* libarchive converts names from the locale's charset: make it UTF-8 for
	 * this thread, whatever LANG says, so UTF-8 names go into pax headers as
	 * they are (a C locale makes it fail on them). */
	if (w->utf8)
		old = uselocale(w->utf8);
	archive_entry_copy_pathname(e, name);
	archive_entry_set_filetype(e, is_dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, attr ? attr->mode & 0777 : is_dir ? 0700 : 0600);
	archive_entry_set_size(e, is_dir ? 0 : (la_int64_t)size);
	archive_entry_set_mtime(e, (time_t)w->mtime, 0);
	archive_entry_set_uid(e, attr ? (la_int64_t)attr->uid : 0);
	archive_entry_set_gid(e, attr ? (la_int64_t)attr->gid : 0);
	if (attr && attr->uname && *attr->uname)
		archive_entry_copy_uname(e, attr->uname);
	if (attr && attr->gname && *attr->gname)
		archive_entry_copy_gname(e, attr->gname);
	rc = archive_write_header(w->ar, e);
	if (w->utf8)
		uselocale(old);
	archive_entry_free(e);
	/* ARCHIVE_WARN is a name that could not be stored faithfully: fail too */
	if (rc != ARCHIVE_OK)
		return ar_failed(w, "cannot add a member to the archive");
	return 0;
}

static int have_dir(const struct bk_aw *w, const char *name, size_t len)
{
	for (size_t i = 0; i < w->n_dirs; i++)
		if (strlen(w->dirs[i]) == len && !strncmp(w->dirs[i], name, len))
			return 1;
	return 0;
}

static int add_dir_len(struct bk_aw *w, const char *name, size_t len)
{
	char *dir;

	if (have_dir(w, name, len))
		return 0;
	dir = bk_xmalloc(len + 1);
	memcpy(dir, name, len);
	dir[len] = '\0';
	if (write_header(w, dir, 1, 0, NULL) < 0) {
		free(dir);
		return bk_err_prefix("%s/", name);
	}
	w->dirs = realloc(w->dirs, (w->n_dirs + 1) * sizeof(*w->dirs));
	if (!w->dirs)
		abort();
	w->dirs[w->n_dirs++] = dir;
	return 0;
}

/* Directory members for every parent of name that has none yet. */
static int add_parents(struct bk_aw *w, const char *name)
{
	for (const char *s = strchr(name, '/'); s; s = strchr(s + 1, '/'))
		if (add_dir_len(w, name, (size_t)(s - name)) < 0)
			return -1;
	return 0;
}

int bk_aw_add_dir(struct bk_aw *w, const char *name)
{
	if (!bk_manifest_path_ok(name))
		return bk_err_set("unsafe member name '%s'", name);
	if (add_parents(w, name) < 0)
		return -1;
	return add_dir_len(w, name, strlen(name));
}

static int write_data(struct bk_aw *w, const void *buf, size_t len)
{
	la_ssize_t n = archive_write_data(w->ar, buf, len);

	if (n < 0 || (size_t)n != len)
		return ar_failed(w, "cannot write to the archive");
	w->p.member_bytes += len;
	w->p.done += len;
	return 0;
}

int bk_aw_add_data(struct bk_aw *w, const char *name, const void *data, size_t len)
{
	if (!bk_manifest_path_ok(name))
		return bk_err_set("unsafe member name '%s'", name);
	member_start(w, name);
	if (add_parents(w, name) < 0 || write_header(w, name, 0, len, NULL) < 0 ||
	    write_data(w, data, len) < 0)
		return -1;
	if (archive_write_finish_entry(w->ar) != ARCHIVE_OK)
		return ar_failed(w, "cannot write to the archive");
	report(w, 1);
	return 0;
}

int bk_aw_add_file(struct bk_aw *w, const char *name, const char *path,
		   unsigned long long size, const char *sha256)
{
	return bk_aw_add_file_as(w, name, path, size, sha256, NULL);
}

int bk_aw_add_file_as(struct bk_aw *w, const char *name, const char *path,
		      unsigned long long size, const char *sha256,
		      const struct bk_aw_attr *attr)
{
	unsigned long long left = size;
	char got[BK_SHA256_HEX];
	struct stat st;
	int fd, ret = -1;
	ssize_t n;

	if (!bk_manifest_path_ok(name))
		return bk_err_set("unsafe member name '%s'", name);
	member_start(w, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bk_err_errno("cannot read %s", path);
	if (fstat(fd, &st) < 0) {
		bk_err_errno("cannot read %s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		bk_err_set("%s is not a regular file", path);
		goto out;
	}
	if ((unsigned long long)st.st_size != size) {
		bk_err_set("%s changed since MANIFEST was written: %llu bytes, MANIFEST says %llu",
			   path, (unsigned long long)st.st_size, size);
		goto out;
	}
	if (add_parents(w, name) < 0 || write_header(w, name, 0, size, attr) < 0)
		goto out;
	while (left > 0) {
		n = read(fd, w->buf, left < READ_SIZE ? (size_t)left : READ_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bk_err_errno("cannot read %s", path);
			goto out;
		}
		if (n == 0) {
			bk_err_set("%s changed since MANIFEST was written: it shrank to %llu bytes "
				   "while being packed", path, size - left);
			goto out;
		}
		bk_sha256_update(w->sha, w->buf, (size_t)n);
		if (write_data(w, w->buf, (size_t)n) < 0 || stopped(w) < 0)
			goto out;
		left -= (unsigned long long)n;
		report(w, 0);
	}
	do
		n = read(fd, w->buf, 1);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		bk_err_set("%s changed since MANIFEST was written: it grew while being packed",
			   path);
		goto out;
	}
	bk_sha256_final(w->sha, got);
	if (strcmp(got, sha256) != 0) {
		bk_err_set("%s changed since MANIFEST was written: its sha256 differs", path);
		goto out;
	}
	if (archive_write_finish_entry(w->ar) != ARCHIVE_OK) {
		ar_failed(w, "cannot write to the archive");
		goto out;
	}
	report(w, 1);
	ret = 0;
out:
	close(fd);
	return ret;
}

static void aw_free(struct bk_aw *w)
{
	if (w->ar) {
		/* free() closes the stream, padding the member cut short with
		 * zeros: they go nowhere. (archive_write_fail() would skip that
		 * but leaks libarchive's block buffer.) */
		w->discard = 1;
		archive_write_free(w->ar);
	}
	bk_gz_abort(w->gz);
	bk_afile_abort(&w->file);
	bk_sha256_free(w->sha);
	if (w->utf8)
		freelocale(w->utf8);
	for (size_t i = 0; i < w->n_dirs; i++)
		free(w->dirs[i]);
	free(w->dirs);
	free(w->buf);
	free(w);
}

void bk_aw_abort(struct bk_aw *w)
{
	int saved = errno;

	if (w)
		aw_free(w);
	errno = saved;
}

void bk_aw_expect(struct bk_aw *w, unsigned long long total)
{
	w->p.total = total;
}

unsigned long long bk_aw_out_bytes(const struct bk_aw *w)
{
	return bk_gz_out_bytes(w->gz);
}

struct bk_aw *bk_aw_open(const char *final_path, int gzip_level, long long mtime,
			 bk_aw_progress_fn *progress, void *progress_ctx,
			 volatile sig_atomic_t *stop)
{
	struct bk_aw *w = calloc(1, sizeof(*w));
	struct stat st;

	if (!w)
		abort();
	w->file.fd = -1;
	w->mtime = mtime;
	w->progress = progress;
	w->progress_ctx = progress_ctx;
	w->stop = stop;
	if (lstat(final_path, &st) == 0) {
		bk_err_set("%s already exists; not overwritten", final_path);
		goto fail;
	}
	if (errno != ENOENT) {
		bk_err_errno("cannot create %s", final_path);
		goto fail;
	}
	if (bk_afile_open(&w->file, final_path, 0600) < 0) {
		if (errno == ENOSPC || errno == EDQUOT) {
			w->file.final_path = bk_xstrdup(final_path);
			disk_full(w);
		}
		goto fail;
	}
	w->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (!w->utf8)
		w->utf8 = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", (locale_t)0);
	w->buf = bk_xmalloc(READ_SIZE);
	if (!(w->sha = bk_sha256_new()) ||
	    !(w->gz = bk_gz_open(w->file.fd, gzip_level, 0)))
		goto fail;
	w->ar = archive_write_new();
	if (!w->ar)
		abort();
	if (archive_write_set_format_pax_restricted(w->ar) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w->ar, TAR_BLOCK) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w->ar, TAR_RECORD) != ARCHIVE_OK ||
	    archive_write_open2(w->ar, w, NULL, write_cb, NULL, NULL) != ARCHIVE_OK) {
		ar_failed(w, "cannot start the tar stream");
		goto fail;
	}
	return w;
fail:
	bk_aw_abort(w);
	return NULL;
}

/* bk_afile_commit without ever replacing a file that appeared meanwhile:
 * two runs in the same second must not overwrite each other's archive. */
static int commit_noreplace(struct bk_aw *w)
{
	struct bk_afile *f = &w->file;
	int fd = f->fd;

	f->fd = -1;
	if (fsync(fd) < 0) {
		file_failed(w);
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return file_failed(w);
	if (renameat2(AT_FDCWD, f->tmp_path, AT_FDCWD, f->final_path, RENAME_NOREPLACE) < 0) {
		struct stat st;

		if (errno == EEXIST)
			return bk_err_set("%s already exists; not overwritten", f->final_path);
		if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
			return bk_err_errno("cannot rename %s to %s", f->tmp_path, f->final_path);
		/* a filesystem without RENAME_NOREPLACE: link(2) does not replace either */
		if (link(f->tmp_path, f->final_path) == 0) {
			unlink(f->tmp_path);
		} else if (errno == EEXIST || lstat(f->final_path, &st) == 0) {
			return bk_err_set("%s already exists; not overwritten", f->final_path);
		} else if (rename(f->tmp_path, f->final_path) < 0) {
			return bk_err_errno("cannot rename %s to %s", f->tmp_path, f->final_path);
		}
	}
	free(f->tmp_path);
	f->tmp_path = NULL;
	if (bk_fsync_dir_of(f->final_path) < 0) {
		unlink(f->final_path);
		return -1;
	}
	return 0;
}

int bk_aw_commit(struct bk_aw *w)
{
	int ret = -1, rc;

	if (archive_write_close(w->ar) != ARCHIVE_OK) {
		ar_failed(w, "cannot finish the tar stream");
		goto out;
	}
	archive_write_free(w->ar);
	w->ar = NULL;
	rc = bk_gz_close(w->gz);
	w->gz = NULL;
	if (rc < 0) {
		gz_failed(w);
		goto out;
	}
	if (commit_noreplace(w) < 0)
		goto out;
	ret = 0;
out:
	bk_aw_abort(w);
	return ret;
}

/* ---- bk_pack: the export directory and the configuration files ---- */

struct cfg_file {
	char *name;		/* member name */
	char *src;		/* file to read; NULL for a directory */
	unsigned long long bytes;
	char sha256[BK_SHA256_HEX];
	struct bk_aw_attr attr;	/* the file's (a symlink's target's) owner and mode */
	char *uname, *gname;
};

struct cfg_list {
	const char *dir;	/* BACKUP_CONFIG_DIR */
	struct cfg_file *v;
	size_t n;
	char **warn;
	size_t n_warn;
};

static void cfg_warn(struct cfg_list *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void cfg_warn(struct cfg_list *l, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	bk_warn("%s", msg);
	l->warn = realloc(l->warn, (l->n_warn + 1) * sizeof(*l->warn));
	if (!l->warn)
		abort();
	l->warn[l->n_warn++] = msg;
}

static int cfg_have(const struct cfg_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return 1;
	return 0;
}

static struct cfg_file *cfg_push(struct cfg_list *l, const char *name, const char *src)
{
	struct cfg_file *c;

	l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	if (!l->v)
		abort();
	c = &l->v[l->n++];
	memset(c, 0, sizeof(*c));
	c->name = bk_xstrdup(name);
	c->src = src ? bk_xstrdup(src) : NULL;
	return c;
}

static void cfg_free(struct cfg_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].src);
		free(l->v[i].uname);
		free(l->v[i].gname);
	}
	for (size_t i = 0; i < l->n_warn; i++)
		free(l->warn[i]);
	free(l->v);
	free(l->warn);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void cfg_add_path(struct cfg_list *l, const char *name, const char *full);

/* A name for a warning line: control bytes, and every non-ASCII byte of a name
 * that is not UTF-8, become '?' (in place). */
static char *printable(char *name)
{
	int utf8 = bk_utf8_str(name);

	for (unsigned char *p = (unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && !utf8))
			*p = '?';
	return name;
}

static void cfg_add_dir(struct cfg_list *l, const char *name, const char *full)
{
	DIR *d = opendir(full);
	struct dirent *e;
	char **kids = NULL;
	size_t n = 0;

	if (!d) {
		cfg_warn(l, "config file %s skipped: cannot read directory: %s", name,
			 strerror(errno));
		return;
	}
	if (!cfg_have(l, name))
		cfg_push(l, name, NULL);
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		kids = realloc(kids, (n + 1) * sizeof(*kids));
		if (!kids)
			abort();
		kids[n++] = bk_xstrdup(e->d_name);
	}
	closedir(d);
	/* readdir order is the filesystem's: sort for archives that compare equal */
	qsort(kids, n, sizeof(*kids), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char *kname = bk_asprintf("%s/%s", name, kids[i]);
		char *kfull = bk_path_join(full, kids[i]);

		if (bk_manifest_path_ok(kname) && bk_utf8_str(kname))
			cfg_add_path(l, kname, kfull);
		else
			cfg_warn(l, "config file %s skipped: name not allowed in an archive",
				 printable(kname));
		free(kname);
		free(kfull);
		free(kids[i]);
	}
	free(kids);
}

/* A user or group name, or the number when it has none. */
static char *id_name(long long id, int group)
{
	struct passwd *pw = group ? NULL : getpwuid((uid_t)id);
	struct group *gr = group ? getgrgid((gid_t)id) : NULL;
	const char *name = pw ? pw->pw_name : gr ? gr->gr_name : NULL;

	if (name && bk_manifest_path_ok(name) && !strchr(name, ' ') && !strchr(name, '/'))
		return bk_xstrdup(name);
	return bk_asprintf("%lld", id);
}

/* Its mode and owner as the file is now (a symlink's target's: what is packed). */
static void cfg_attr(struct cfg_file *c, const struct stat *st)
{
	c->attr.mode = (unsigned)st->st_mode & 0777;
	c->attr.uid = (long long)st->st_uid;
	c->attr.gid = (long long)st->st_gid;
	c->attr.uname = c->uname = id_name(c->attr.uid, 0);
	c->attr.gname = c->gname = id_name(c->attr.gid, 1);
}

static void cfg_add_file(struct cfg_list *l, const char *name, const char *full,
			 const struct stat *st)
{
	struct cfg_file *c;

	if (cfg_have(l, name))
		return;
	c = cfg_push(l, name, full);
	cfg_attr(c, st);
	if (bk_sha256_file(full, c->sha256, &c->bytes) < 0) {
		cfg_warn(l, "config file %s skipped: %s", name, bk_err());
		free(c->name);
		free(c->src);
		free(c->uname);
		free(c->gname);
		l->n--;
	}
}

/* Where it looked, so the admin sees which directory the name was taken from. */
static void cfg_warn_missing(struct cfg_list *l, const char *name)
{
	cfg_warn(l, "config file %s missing in %s (BACKUP_CONFIG_DIR)", name, l->dir);
}

/* One path under the config dir: a file, a symlink to a file, or a real
 * directory walked recursively. A symlink to a directory is never followed,
 * which also makes loops impossible. */
static void cfg_add_path(struct cfg_list *l, const char *name, const char *full)
{
	struct stat st;

	if (lstat(full, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			cfg_warn_missing(l, name);
		else
			cfg_warn(l, "config file %s skipped: %s", name, strerror(errno));
		return;
	}
	if (S_ISLNK(st.st_mode)) {
		if (stat(full, &st) < 0) {
			cfg_warn(l, "config file %s skipped: symlink to nothing (%s)", name,
				 strerror(errno));
			return;
		}
		if (S_ISDIR(st.st_mode)) {
			cfg_warn(l, "config file %s skipped: symlink to a directory "
				 "(not followed)", name);
			return;
		}
	}
	if (S_ISREG(st.st_mode))
		cfg_add_file(l, name, full, &st);
	else if (S_ISDIR(st.st_mode))
		cfg_add_dir(l, name, full);
	else
		cfg_warn(l, "config file %s skipped: not a regular file or directory", name);
}

/* A listed name "a/b/c": its parents must be real directories too. */
static void cfg_add_top(struct cfg_list *l, const char *name)
{
	char *full = bk_path_join(l->dir, name);

	for (const char *s = strchr(name, '/'); s; s = strchr(s + 1, '/')) {
		char *parent = bk_asprintf("%s/%.*s", l->dir, (int)(s - name), name);
		struct stat st;
		int rc = lstat(parent, &st);

		free(parent);
		if (rc < 0 || !S_ISDIR(st.st_mode)) {
			if (rc == 0 && S_ISLNK(st.st_mode))
				cfg_warn(l, "config file %s skipped: %.*s is a symlink "
					 "(directories are not followed)", name,
					 (int)(s - name), name);
			else
				cfg_warn_missing(l, name);
			free(full);
			return;
		}
	}
	cfg_add_path(l, name, full);
	free(full);
}

static int is_reserved(const char *name)
{
	return !strcmp(name, BK_MANIFEST_NAME) || !strcmp(name, BK_MANIFEST_SIG_NAME) ||
	       !strcmp(name, BK_INFO_NAME);
}

static int cfg_collect(struct cfg_list *l, const char *names, const struct bk_manifest *data)
{
	char *copy = bk_xstrdup(names), *save = NULL;
	int ret = -1;

	for (char *tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		/* "ssl/" means the directory ssl */
		for (size_t n = strlen(tok); n > 1 && tok[n - 1] == '/'; n--)
			tok[n - 1] = '\0';
		if (!bk_manifest_path_ok(tok) || !bk_utf8_str(tok) || is_reserved(tok)) {
			bk_err_set("BACKUP_CONFIG_FILES: '%s' is not a name relative to "
				   "BACKUP_CONFIG_DIR that an archive may hold", tok);
			goto out;
		}
		for (size_t i = 0; i < data->n_entries; i++) {
			const char *p = data->entries[i].path;
			size_t n = strlen(tok);

			if (!strcmp(p, tok) || (!strncmp(p, tok, n) && p[n] == '/')) {
				bk_err_set("BACKUP_CONFIG_FILES: '%s' clashes with the data file %s",
					   tok, p);
				goto out;
			}
		}
		cfg_add_top(l, tok);
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

/* The export's MANIFEST, checked for what packing relies on. */
static int read_export(const char *dir, struct bk_manifest *m)
{
	char *path = bk_path_join(dir, BK_MANIFEST_NAME);
	char *text = NULL;
	const char *fmt;
	struct stat st;
	size_t len;
	int ret = -1;

	if (stat(dir, &st) < 0) {
		bk_err_errno("cannot read export directory %s", dir);
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		bk_err_set("%s is not a directory", dir);
		goto out;
	}
	if (lstat(path, &st) < 0 && errno == ENOENT) {
		bk_err_set("%s has no MANIFEST: not a complete bk-export directory", dir);
		bk_err_hint("bk-export writes MANIFEST last; run bk-export again");
		goto out;
	}
	if (bk_read_file(path, BK_MANIFEST_MAX, &text, &len) < 0)
		goto out;
	if (bk_manifest_parse(m, text, len) < 0) {
		bk_err_prefix("%s", path);
		goto out;
	}
	fmt = bk_manifest_meta_get(m, "format");
	if (fmt && strcmp(fmt, "bk 1") != 0) {
		bk_err_set("%s: unknown format '%s'", path, fmt);
		goto out;
	}
	if (!m->n_entries) {
		bk_err_set("%s lists no files", path);
		goto out;
	}
	for (size_t i = 0; i < m->n_entries; i++)
		if (is_reserved(m->entries[i].path)) {
			bk_err_set("%s lists %s, a name bk-pack writes itself", path,
				   m->entries[i].path);
			goto out;
		}
	ret = 0;
out:
	free(text);
	free(path);
	return ret;
}

/* Every listed file is there with its size: fail before writing anything. */
static int check_export_files(const char *dir, const struct bk_manifest *m,
			      unsigned long long *total)
{
	DIR *d;
	struct dirent *e;

	*total = 0;
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct bk_manifest_entry *en = &m->entries[i];
		char *path = bk_path_join(dir, en->path);
		struct stat st;
		int rc = lstat(path, &st);

		if (rc < 0)
			bk_err_errno("cannot read %s (listed in MANIFEST)", path);
		else if (!S_ISREG(st.st_mode))
			bk_err_set("%s is not a regular file", path);
		else if ((unsigned long long)st.st_size != en->bytes)
			bk_err_set("%s changed since MANIFEST was written: %llu bytes, "
				   "MANIFEST says %llu", path,
				   (unsigned long long)st.st_size, en->bytes);
		free(path);
		if (rc < 0 || !S_ISREG(st.st_mode) || (unsigned long long)st.st_size != en->bytes)
			return -1;
		*total += en->bytes;
	}
	/* A file MANIFEST does not list is not part of the export: say so. */
	d = opendir(dir);
	if (!d)
		return bk_err_errno("cannot read export directory %s", dir);
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, BK_MANIFEST_NAME))
			continue;
		if (!bk_manifest_find(m, e->d_name) && !bk_manifest_has_dir(m, e->d_name))
			bk_warn("%s/%s is not listed in MANIFEST; not packed", dir, e->d_name);
	}
	closedir(d);
	return 0;
}

/* The archive's MANIFEST: the export's metadata and files, then what packing
 * adds. BACKUP_INFO.txt is the first member; its digest is filled in later. */
static void build_manifest(struct bk_manifest *out, const struct bk_manifest *exp,
			   const struct cfg_list *cfg, long long when)
{
	char iso[40];

	bk_manifest_init(out);
	for (size_t i = 0; i < exp->n_meta; i++)
		bk_manifest_meta_add(out, exp->meta[i].key, exp->meta[i].value);
	bk_iso_time(when, iso, sizeof(iso));
	bk_manifest_meta_add(out, "packed", iso);
	for (size_t i = 0; i < cfg->n; i++)
		if (cfg->v[i].src)
			bk_manifest_meta_add(out, "config", cfg->v[i].name);
	for (size_t i = 0; i < cfg->n; i++) {
		const struct cfg_file *c = &cfg->v[i];
		char *v;

		if (!c->src)
			continue;
		v = bk_asprintf("%04o %s %s", c->attr.mode, c->uname, c->name);
		bk_manifest_meta_add(out, "config-mode", v);
		free(v);
	}
	for (size_t i = 0; i < cfg->n_warn; i++)
		bk_manifest_meta_add(out, "warning", cfg->warn[i]);
	bk_manifest_add(out, "0000000000000000000000000000000000000000000000000000000000000000",
			0, -1, BK_INFO_NAME);
	for (size_t i = 0; i < exp->n_entries; i++) {
		const struct bk_manifest_entry *e = &exp->entries[i];

		bk_manifest_add(out, e->sha256, e->bytes, e->rows, e->path);
	}
}

static int add_config_entries(struct bk_manifest *out, const struct cfg_list *cfg)
{
	for (size_t i = 0; i < cfg->n; i++) {
		const struct cfg_file *c = &cfg->v[i];

		if (c->src && bk_manifest_add(out, c->sha256, c->bytes, -1, c->name) < 0)
			return bk_err_prefix("config file %s", c->name);
	}
	return 0;
}

static void sha256_mem(const void *data, size_t len, char hex[BK_SHA256_HEX])
{
	struct bk_sha256 *h = bk_sha256_new();

	if (!h)
		abort();
	bk_sha256_update(h, data, len);
	bk_sha256_final(h, hex);
	bk_sha256_free(h);
}

/* What bk-verify and bk-unpack would refuse is never written: the limits
 * that bound their memory are checked here, with the reason. */
static int too_big(const char *member, size_t len, size_t max, const struct bk_manifest *exp)
{
	size_t i = 0, tables = 0;

	if (len <= max)
		return 0;
	while (bk_manifest_meta_next(exp, "table", &i))
		tables++;
	bk_err_set("%s would be %zu bytes, more than the %zu MiB an archive may hold "
		   "(%zu files, %zu tables)", member, len, max >> 20, exp->n_entries, tables);
	bk_err_hint("leave tables out with BACKUP_SCOPE rules (see bk-export(1)), or put many "
		    "tables in one file");
	return -1;
}

/*
 * MANIFEST's signature, its trusted comment saying when and under which name:
 * minisign -V prints it, and a signed MANIFEST replayed under another name
 * can be told apart. A name that is not one printable line is left out.
 */
static int sign_manifest(const struct bk_minisign_sec *key, const char *mtext,
			 const char *name, long long when, char **sig)
{
	char *comment;
	int ret, printable = 1;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			printable = 0;
	if (printable && strlen(name) < 1024)
		comment = bk_asprintf("timestamp:%lld\tfile:%s", when, name);
	else
		comment = bk_asprintf("timestamp:%lld", when);
	ret = bk_minisign_sign(key, mtext, strlen(mtext), comment, sig);
	free(comment);
	if (ret < 0)
		return bk_err_prefix("cannot sign MANIFEST");
	return 0;
}

int bk_pack(const struct bk_pack_opts *o, struct bk_pack_result *r)
{
	struct bk_manifest exp, man;
	struct cfg_list cfg = { .dir = o->config_dir };
	struct bk_aw *w = NULL;
	char *info = NULL, *mtext = NULL, *base_copy = NULL, *sig = NULL;
	unsigned long long data_bytes;
	struct bk_info in;
	struct stat st;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	bk_manifest_init(&exp);
	bk_manifest_init(&man);
	if (read_export(o->export_dir, &exp) < 0 ||
	    check_export_files(o->export_dir, &exp, &data_bytes) < 0)
		goto out;
	if (o->config_files && cfg_collect(&cfg, o->config_files, &exp) < 0) {
		ret = -2;
		goto out;
	}
	build_manifest(&man, &exp, &cfg, o->when);
	if (add_config_entries(&man, &cfg) < 0)
		goto out;

	base_copy = bk_xstrdup(o->archive_path);
	in.manifest = &man;
	in.archive_name = basename(base_copy);
	in.packed_at = o->when;
	in.config_dir = o->config_dir;
	info = bk_info_format(&in);
	sha256_mem(info, strlen(info), man.entries[0].sha256);
	man.entries[0].bytes = strlen(info);
	mtext = bk_manifest_format(&man);
	if (too_big(BK_MANIFEST_NAME, strlen(mtext), BK_MANIFEST_MAX, &exp) < 0 ||
	    too_big(BK_INFO_NAME, strlen(info), BK_INFO_MAX, &exp) < 0)
		goto out;
	if (o->sign_key && sign_manifest(o->sign_key, mtext, in.archive_name, o->when, &sig) < 0)
		goto out;

	w = bk_aw_open(o->archive_path, o->gzip_level, o->when, o->progress, o->progress_ctx,
		       o->stop);
	if (!w)
		goto out;
	r->in_bytes = strlen(mtext) + (sig ? strlen(sig) : 0) + strlen(info) + data_bytes;
	for (size_t i = 0; i < cfg.n; i++)
		r->in_bytes += cfg.v[i].bytes;
	bk_aw_expect(w, r->in_bytes);
	if (bk_aw_add_data(w, BK_MANIFEST_NAME, mtext, strlen(mtext)) < 0 ||
	    (sig && bk_aw_add_data(w, BK_MANIFEST_SIG_NAME, sig, strlen(sig)) < 0) ||
	    bk_aw_add_data(w, BK_INFO_NAME, info, strlen(info)) < 0)
		goto out;
	for (size_t i = 0; i < exp.n_entries; i++) {
		const struct bk_manifest_entry *e = &exp.entries[i];
		char *path = bk_path_join(o->export_dir, e->path);
		int rc = bk_aw_add_file(w, e->path, path, e->bytes, e->sha256);

		free(path);
		if (rc < 0)
			goto out;
	}
	for (size_t i = 0; i < cfg.n; i++) {
		const struct cfg_file *c = &cfg.v[i];

		if (c->src ? bk_aw_add_file_as(w, c->name, c->src, c->bytes, c->sha256, &c->attr)
			   : bk_aw_add_dir(w, c->name))
			goto out;
	}
	r->members = man.n_entries + 1 + (sig != NULL);
	r->warnings = cfg.n_warn;
	if (sig)
		bk_minisign_id_hex(o->sign_key->id, r->key_id);
	ret = bk_aw_commit(w);
	w = NULL;
	if (ret == 0 && stat(o->archive_path, &st) == 0)
		r->out_bytes = (unsigned long long)st.st_size;
out:
	bk_aw_abort(w);
	bk_manifest_free(&exp);
	bk_manifest_free(&man);
	cfg_free(&cfg);
	free(info);
	free(mtext);
	free(sig);
	free(base_copy);
	return ret;
}
