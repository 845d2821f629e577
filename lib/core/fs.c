/* Files and directories (see fs.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "err.h"
#include "fs.h"

void *bk_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fputs("out of memory\n", stderr);
		abort();
	}
	return p;
}

char *bk_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(bk_xmalloc(n), s, n);
}

char *bk_vasprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0) {
		fputs("out of memory\n", stderr);
		abort();
	}
	return s;
}

char *bk_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = bk_vasprintf(fmt, ap);
	va_end(ap);
	return s;
}

char *bk_path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir);

	if (dl && dir[dl - 1] == '/')
		return bk_asprintf("%s%s", dir, name);
	return bk_asprintf("%s/%s", dir, name);
}

int bk_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int bk_fsync_dir_of(const char *path)
{
	char *copy = bk_xstrdup(path);
	int fd, ret = 0;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd) < 0 && errno != EINVAL)
			ret = bk_err_errno("cannot sync directory of %s", path);
		close(fd);
	}
	free(copy);
	return ret;
}

int bk_afile_open(struct bk_afile *f, const char *final_path, mode_t mode)
{
	char *copy = bk_xstrdup(final_path);
	char *copy2 = bk_xstrdup(final_path);

	f->final_path = bk_xstrdup(final_path);
	f->tmp_path = bk_asprintf("%s/.%s.tmp.XXXXXX", dirname(copy), basename(copy2));
	free(copy);
	free(copy2);
	f->fd = mkostemp(f->tmp_path, O_CLOEXEC);
	if (f->fd < 0) {
		bk_err_errno("cannot create a file in the directory of %s", final_path);
		free(f->tmp_path);
		free(f->final_path);
		f->tmp_path = f->final_path = NULL;
		return -1;
	}
	if (fchmod(f->fd, mode) < 0) {
		bk_err_errno("cannot set mode of %s", f->tmp_path);
		bk_afile_abort(f);
		return -1;
	}
	return 0;
}

int bk_afile_commit(struct bk_afile *f)
{
	if (fsync(f->fd) < 0) {
		bk_err_errno("cannot write %s", f->final_path);
		goto fail;
	}
	if (close(f->fd) < 0) {
		f->fd = -1;
		bk_err_errno("cannot write %s", f->final_path);
		goto fail;
	}
	f->fd = -1;
	if (rename(f->tmp_path, f->final_path) < 0) {
		bk_err_errno("cannot rename %s to %s", f->tmp_path, f->final_path);
		goto fail;
	}
	free(f->tmp_path);
	f->tmp_path = NULL;
	if (bk_fsync_dir_of(f->final_path) < 0)
		return -1;
	return 0;
fail:
	bk_afile_abort(f);
	return -1;
}

void bk_afile_abort(struct bk_afile *f)
{
	int saved = errno;

	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->tmp_path)
		unlink(f->tmp_path);
	free(f->tmp_path);
	free(f->final_path);
	f->tmp_path = f->final_path = NULL;
	errno = saved;
}

int bk_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	struct bk_afile f;

	if (bk_afile_open(&f, path, mode) < 0)
		return -1;
	if (bk_write_all(f.fd, data, len) < 0) {
		bk_err_errno("cannot write %s", path);
		bk_afile_abort(&f);
		return -1;
	}
	if (bk_afile_commit(&f) < 0)
		return -1;
	free(f.final_path);
	return 0;
}

static int read_fd(int fd, const char *path, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf;

	buf = bk_xmalloc(cap + 1);
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap >= max) {
				free(buf);
				close(fd);
				return bk_err_set("%s is larger than %zu bytes", path, max);
			}
			cap *= 2;
			buf = realloc(buf, cap + 1);
			if (!buf)
				abort();
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			bk_err_errno("cannot read %s", path);
			free(buf);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n > max) {
		free(buf);
		return bk_err_set("%s is larger than %zu bytes", path, max);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int bk_read_file(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0)
		return bk_err_errno("cannot read %s", path);
	return read_fd(fd, path, max, out, len);
}

int bk_open_private(const char *path, int flags, mode_t mode)
{
	int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	int saved = errno;

	if (fd >= 0)
		return fd;
	if (saved == ELOOP)
		bk_err_set("%s is a symbolic link: not followed", path);
	else
		bk_err_errno("cannot open %s", path);
	errno = saved;
	return -1;
}

int bk_read_private(const char *path, size_t max, char **out, size_t *len)
{
	int fd = bk_open_private(path, O_RDONLY, 0);

	*out = NULL;
	if (fd < 0)
		return -1;
	return read_fd(fd, path, max, out, len);
}

int bk_dir_check_private(const char *var, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : bk_err_errno("%s: cannot use %s", var, path);
	if (!S_ISDIR(st.st_mode))
		return bk_err_set("%s: %s is not a directory", var, path);
	if (st.st_uid != geteuid()) {
		bk_err_set("%s: %s belongs to uid %ld, not to uid %ld that runs bk: refused "
			   "(its owner could redirect what bk writes there)", var, path,
			   (long)st.st_uid, (long)geteuid());
		bk_err_hint("chown %ld %s, or set %s to a directory of uid %ld",
			    (long)geteuid(), path, var, (long)geteuid());
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		bk_err_set("%s: %s is writable by %s (mode %04o): refused", var, path,
			   st.st_mode & S_IWOTH ? "others" : "its group",
			   (unsigned)(st.st_mode & 07777));
		bk_err_hint("chmod 700 %s", path);
		return -1;
	}
	return 0;
}

int bk_mkdir_p(const char *path, mode_t mode)
{
	char *p = bk_xstrdup(path);
	struct stat st;
	int ret = -1;

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			bk_err_errno("cannot create directory %s", p);
			goto out;
		}
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST) {
		bk_err_errno("cannot create directory %s", p);
		goto out;
	}
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
		bk_err_set("%s is not a directory", p);
		goto out;
	}
	if (st.st_uid == geteuid() && (st.st_mode & 07777) != mode && chmod(p, mode) < 0) {
		bk_err_errno("cannot set mode of %s", p);
		goto out;
	}
	ret = 0;
out:
	free(p);
	return ret;
}

static int rm_rf_at(int dfd, const char *name)
{
	struct stat st;
	int fd, ret = 0;
	DIR *d;
	struct dirent *e;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (rm_rf_at(dirfd(d), e->d_name) < 0)
			ret = -1;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0)
		ret = -1;
	return ret;
}

int bk_rm_rf(const char *path)
{
	if (rm_rf_at(AT_FDCWD, path) < 0)
		return bk_err_errno("cannot remove %s", path);
	return 0;
}

char *bk_mkdtemp(const char *parent, const char *prefix)
{
	char *tmpl = bk_asprintf("%s/%sXXXXXX", parent, prefix);

	if (!mkdtemp(tmpl)) {
		bk_err_errno("cannot create a temporary directory in %s", parent);
		free(tmpl);
		return NULL;
	}
	return tmpl;
}

static int lock_fd(int fd, const char *path, int how)
{
	if (flock(fd, how | LOCK_NB) < 0) {
		int busy = errno == EWOULDBLOCK;

		bk_err_errno("cannot lock %s", path);
		close(fd);
		return busy ? -2 : -1;
	}
	return fd;
}

int bk_lock(const char *path)
{
	int fd = bk_open_private(path, O_RDWR | O_CREAT, 0600);

	if (fd < 0)
		return -1;
	return lock_fd(fd, path, LOCK_EX);
}

int bk_lock_dir(const char *path)
{
	int fd = bk_open_private(path, O_RDONLY | O_DIRECTORY, 0);

	if (fd < 0)
		return -1;
	return lock_fd(fd, path, LOCK_EX);
}

int bk_lock_probe(const char *path)
{
	int fd = bk_open_private(path, O_RDONLY, 0);

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	/* shared and let go at once: a run starting now is not kept out */
	fd = lock_fd(fd, path, LOCK_SH);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int bk_free_bytes(const char *path, unsigned long long *out)
{
	struct statvfs sv;

	if (statvfs(path, &sv) < 0)
		return bk_err_errno("cannot read free space of %s", path);
	*out = (unsigned long long)sv.f_bavail * sv.f_frsize;
	return 0;
}
