/*
 * Safe extraction (see extract.h). Every path is walked one component at a
 * time with openat(O_NOFOLLOW) from a descriptor of the target directory;
 * files are written under temporary names and renamed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive_read.h"
#include "err.h"
#include "extract.h"
#include "fs.h"
#include "sha256.h"
#include "size.h"

#define CHUNK (256 * 1024)

/* A file written under a temporary name, waiting to be renamed. */
struct pending {
	int dfd;		/* its directory */
	char *tmp, *base, *path;
	int renamed;
	int fd;			/* open for reading when kept, else -1 */
};

/* A directory we created, to remove again on failure. */
struct made_dir {
	int dfd;		/* its parent */
	char *base;
};

struct job {
	const struct bk_manifest *m;
	const struct bk_extract_opts *o;
	mode_t dir_mode;
	int root;		/* the target directory */
	struct pending *files;
	size_t n_files;
	struct made_dir *dirs;
	size_t n_dirs;
	char **seen;		/* member paths met so far */
	size_t n_seen;
};

static int selected(const struct job *j, const char *path)
{
	return !j->o->select || j->o->select(j->m, path);
}

static void *grow(void *arr, size_t n, size_t size)
{
	/* Arrays here hold at most a few thousand entries: grow one by one. */
	arr = realloc(arr, (n + 1) * size);
	if (!arr)
		abort();
	return arr;
}

/* Open directory name in dfd without following a link; create it (mode) if
 * missing and create is set, remembering it. -2 when missing and not created. */
static int open_dir(struct job *j, int dfd, const char *name, const char *path, int create)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT && create) {
		if (mkdirat(dfd, name, j->dir_mode) < 0)
			return bk_err_errno("cannot create directory %s", path);
		j->dirs = grow(j->dirs, j->n_dirs, sizeof(*j->dirs));
		j->dirs[j->n_dirs].dfd = dup(dfd);
		j->dirs[j->n_dirs].base = bk_xstrdup(name);
		j->n_dirs++;
		/* mkdirat applies the umask */
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && fchmod(fd, j->dir_mode) < 0) {
			close(fd);
			return bk_err_errno("cannot set mode of %s", path);
		}
		if (fd >= 0)
			return fd;
	}
	if (errno == ENOENT && !create)
		return -2;
	if (errno == ELOOP || errno == ENOTDIR)
		return bk_err_set("%s is a symbolic link or not a directory: refusing to "
				  "write through it", path);
	return bk_err_errno("cannot open directory %s", path);
}

/*
 * Descriptor of the directory that holds path's last component (created as
 * needed when create is set); *base points into path at that component.
 * -1 on error, -2 when a directory on the way is missing (create not set).
 */
static int walk_parent(struct job *j, const char *path, int create, const char **base)
{
	char *copy = bk_xstrdup(path);
	char *seg = copy, *slash;
	int dfd = dup(j->root);

	if (dfd < 0) {
		free(copy);
		return bk_err_errno("cannot duplicate a descriptor");
	}
	while ((slash = strchr(seg, '/')) != NULL) {
		int next;

		*slash = '\0';
		next = open_dir(j, dfd, seg, copy, create);
		close(dfd);
		if (next < 0) {
			free(copy);
			return next;
		}
		dfd = next;
		*slash = '/';
		seg = slash + 1;
	}
	*base = path + (seg - copy);
	free(copy);
	return dfd;
}

/* Create a fresh temporary file in dfd (flags: O_WRONLY or O_RDWR); its
 * name in *tmp. */
static int open_tmp(int dfd, const char *path, int flags, char **tmp)
{
	for (int tries = 0; tries < 100; tries++) {
		unsigned char rnd[6];
		char name[32];
		int fd;

		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
			return bk_err_errno("cannot get random bytes");
		snprintf(name, sizeof(name), ".bk-unpack.%02x%02x%02x%02x%02x%02x",
			 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
		fd = openat(dfd, name, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			*tmp = bk_xstrdup(name);
			return fd;
		}
		if (errno != EEXIST)
			return bk_err_errno("cannot create a file next to %s", path);
	}
	return bk_err_set("cannot create a temporary file next to %s", path);
}

static mode_t file_mode(const struct job *j, const char *path, unsigned mode)
{
	if (j->o->file_mode)
		return j->o->file_mode(j->m, path, mode) & 0777;
	return (mode & 0600) | 0400;
}

/* Stream the current member (size bytes expected, sha256 hex to match or
 * NULL) into fd. */
static int copy_member(struct bk_ar_reader *r, int fd, const char *path,
		       unsigned long long size, const char *sha256)
{
	struct bk_sha256 *h = bk_sha256_new();
	char *buf = bk_xmalloc(CHUNK);
	char hex[BK_SHA256_HEX];
	unsigned long long got = 0;
	int ret = -1;

	if (!h)
		goto out;
	for (;;) {
		/* Never ask for more than one byte past the declared size. */
		unsigned long long want = size + 1 - got;
		ssize_t n = bk_ar_read(r, buf, want < CHUNK ? (size_t)want : CHUNK);

		if (n < 0)
			goto out;
		if (n == 0)
			break;
		got += (unsigned long long)n;
		if (got > size) {
			bk_err_set("member %s is larger than the %llu bytes its MANIFEST line "
				   "declares: refusing", path, size);
			goto out;
		}
		bk_sha256_update(h, buf, (size_t)n);
		if (bk_write_all(fd, buf, (size_t)n) < 0) {
			bk_err_errno("cannot write %s", path);
			goto out;
		}
	}
	if (got != size) {
		bk_err_set("member %s is shorter (%llu bytes) than MANIFEST declares (%llu)",
			   path, got, size);
		goto out;
	}
	bk_sha256_final(h, hex);
	if (sha256 && strcmp(hex, sha256)) {
		bk_err_set("member %s does not match its sha256 in MANIFEST", path);
		goto out;
	}
	ret = 0;
out:
	bk_sha256_free(h);
	free(buf);
	return ret;
}

/* The MANIFEST member must say what m says (the archive may have changed
 * since it was verified). */
static int check_manifest_member(struct bk_ar_reader *r, const struct bk_ar_member *mem,
				 const struct bk_manifest *m, char **text, size_t *len)
{
	struct bk_manifest other;
	int ret = -1;

	if (bk_ar_read_all(r, mem, BK_MANIFEST_MAX, text, len) < 0)
		return -1;
	bk_manifest_init(&other);
	if (bk_manifest_parse(&other, *text, *len) < 0)
		goto out;
	if (other.n_entries != m->n_entries)
		goto differ;
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct bk_manifest_entry *a = &m->entries[i], *b = &other.entries[i];

		if (strcmp(a->path, b->path) || strcmp(a->sha256, b->sha256) ||
		    a->bytes != b->bytes || a->rows != b->rows)
			goto differ;
	}
	ret = 0;
	goto out;
differ:
	bk_err_set("MANIFEST in the archive differs from the one verified: refusing");
out:
	bk_manifest_free(&other);
	if (ret < 0) {
		free(*text);
		*text = NULL;
	}
	return ret;
}

static int seen_before(struct job *j, const char *path)
{
	for (size_t i = 0; i < j->n_seen; i++)
		if (!strcmp(j->seen[i], path))
			return 1;
	j->seen = grow(j->seen, j->n_seen, sizeof(*j->seen));
	j->seen[j->n_seen++] = bk_xstrdup(path);
	return 0;
}

static int extract_file(struct job *j, struct bk_ar_reader *r, const struct bk_ar_member *mem)
{
	const struct bk_manifest_entry *e = NULL;
	char *manifest_text = NULL, *tmp = NULL;
	size_t manifest_len = 0;
	struct pending *p;
	const char *base;
	int dfd = -1, fd = -1, ret = -1;
	int is_manifest = !strcmp(mem->path, BK_MANIFEST_NAME);
	int keep = j->o->keep && j->o->kept && j->o->keep(j->m, mem->path);

	if (!is_manifest) {
		e = bk_manifest_find(j->m, mem->path);
		if (!e)
			return bk_err_set("member %s is not listed in MANIFEST: refusing", mem->path);
		if (mem->size != e->bytes)
			return bk_err_set("member %s: its tar header says %llu bytes, MANIFEST "
					  "%llu: refusing", mem->path, mem->size, e->bytes);
	} else if (check_manifest_member(r, mem, j->m, &manifest_text, &manifest_len) < 0) {
		return -1;
	}
	if (!selected(j, mem->path)) {
		ret = 0;
		goto out;
	}
	dfd = walk_parent(j, mem->path, 1, &base);
	if (dfd < 0)
		goto out;
	fd = open_tmp(dfd, mem->path, keep ? O_RDWR : O_WRONLY, &tmp);
	if (fd < 0)
		goto out;
	j->files = grow(j->files, j->n_files, sizeof(*j->files));
	p = &j->files[j->n_files++];
	p->dfd = dfd;
	p->tmp = tmp;
	p->base = bk_xstrdup(base);
	p->path = bk_xstrdup(mem->path);
	p->renamed = 0;
	p->fd = -1;
	dfd = -1;
	if (is_manifest) {
		if (bk_write_all(fd, manifest_text, manifest_len) < 0) {
			bk_err_errno("cannot write %s", mem->path);
			goto out;
		}
	} else if (copy_member(r, fd, mem->path, e->bytes, e->sha256) < 0) {
		goto out;
	}
	if (fchmod(fd, file_mode(j, mem->path, mem->mode)) < 0) {
		bk_err_errno("cannot set mode of %s", mem->path);
		goto out;
	}
	if (j->o->sync && fsync(fd) < 0) {
		bk_err_errno("cannot write %s", mem->path);
		goto out;
	}
	if (keep) {
		/* Read later through this descriptor, never by name again. */
		p->fd = fd;
		fd = -1;
	}
	ret = 0;
out:
	if (fd >= 0 && close(fd) < 0 && ret == 0)
		ret = bk_err_errno("cannot write %s", mem->path);
	if (dfd >= 0)
		close(dfd);
	free(manifest_text);
	return ret;
}

static int extract_dir(struct job *j, const struct bk_ar_member *mem)
{
	const char *base;
	int dfd, fd;

	if (!bk_manifest_has_dir(j->m, mem->path))
		return bk_err_set("directory %s holds no member of MANIFEST: refusing", mem->path);
	if (!selected(j, mem->path))
		return 0;
	dfd = walk_parent(j, mem->path, 1, &base);
	if (dfd < 0)
		return -1;
	fd = open_dir(j, dfd, base, mem->path, 1);
	close(dfd);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static const char *type_name(enum bk_ar_type t)
{
	switch (t) {
	case BK_AR_SYMLINK:
		return "a symbolic link";
	case BK_AR_HARDLINK:
		return "a hard link";
	case BK_AR_REG:
		return "a file";
	case BK_AR_DIR:
		return "a directory";
	default:
		return "a device, fifo or other special file";
	}
}

static int read_members(struct job *j, const char *archive)
{
	struct bk_ar_reader *r = bk_ar_open(archive);
	struct bk_ar_member mem;
	unsigned long long limit = BK_MANIFEST_MAX + 2ULL * CHUNK;
	int got, ret = -1;

	if (!r)
		return -1;
	/* Tar headers, pax headers and padding: a few blocks per member. */
	for (size_t i = 0; i < j->m->n_entries; i++)
		limit += j->m->entries[i].bytes + 4096;
	bk_ar_set_limit(r, limit + 64 * 4096);
	while ((got = bk_ar_next(r, &mem)) == 1) {
		if (!bk_manifest_path_ok(mem.path)) {
			bk_err_set("member '%s' has an unsafe path (absolute, '..' or odd "
				   "characters): refusing", mem.path);
			goto out;
		}
		if (seen_before(j, mem.path)) {
			bk_err_set("member %s appears twice in the archive: refusing", mem.path);
			goto out;
		}
		if (j->n_seen == 1 && strcmp(mem.path, BK_MANIFEST_NAME)) {
			bk_err_set("MANIFEST is not the first member: refusing");
			goto out;
		}
		if (mem.type == BK_AR_REG) {
			if (extract_file(j, r, &mem) < 0)
				goto out;
		} else if (mem.type == BK_AR_DIR) {
			if (extract_dir(j, &mem) < 0)
				goto out;
		} else {
			bk_err_set("member %s is %s%s%s: refusing", mem.path, type_name(mem.type),
				   mem.link ? " to " : "", mem.link ? mem.link : "");
			goto out;
		}
	}
	if (got < 0)
		goto out;
	for (size_t i = 0; i < j->m->n_entries; i++) {
		const char *path = j->m->entries[i].path;
		int found = 0;

		for (size_t k = 0; k < j->n_seen && !found; k++)
			found = !strcmp(j->seen[k], path);
		if (!found) {
			bk_err_set("member %s is listed in MANIFEST but not in the archive", path);
			goto out;
		}
	}
	ret = 0;
out:
	bk_ar_close(r);
	return ret;
}

/* Move every file from its temporary name to its own. */
static int commit_files(struct job *j)
{
	for (size_t i = 0; i < j->n_files; i++) {
		struct pending *p = &j->files[i];
		int rc;

		if (j->o->force) {
			rc = renameat(p->dfd, p->tmp, p->dfd, p->base);
		} else {
			rc = renameat2(p->dfd, p->tmp, p->dfd, p->base, RENAME_NOREPLACE);
			if (rc < 0 && (errno == EINVAL || errno == ENOSYS)) {
				/* The file system cannot: link(2) never replaces either. */
				rc = linkat(p->dfd, p->tmp, p->dfd, p->base, 0);
				if (rc == 0)
					unlinkat(p->dfd, p->tmp, 0);
			}
		}
		if (rc < 0) {
			if (errno == EEXIST)
				return bk_err_set("%s exists already: refusing to replace it "
						  "(--force replaces)", p->path);
			return bk_err_errno("cannot create %s", p->path);
		}
		p->renamed = 1;
	}
	if (j->o->sync) {
		for (size_t i = 0; i < j->n_files; i++)
			if (fsync(j->files[i].dfd) < 0 && errno != EINVAL)
				return bk_err_errno("cannot sync the directory of %s",
						    j->files[i].path);
		if (fsync(j->root) < 0 && errno != EINVAL)
			return bk_err_errno("cannot sync the target directory");
	}
	return 0;
}

/* Undo: remove temporary files, files placed without --force, and the
 * directories we made (newest first; a non-empty one stays). */
static void undo(struct job *j)
{
	for (size_t i = 0; i < j->n_files; i++) {
		struct pending *p = &j->files[i];

		if (!p->renamed)
			unlinkat(p->dfd, p->tmp, 0);
		else if (!j->o->force)
			unlinkat(p->dfd, p->base, 0);
	}
	for (size_t i = j->n_dirs; i-- > 0;)
		unlinkat(j->dirs[i].dfd, j->dirs[i].base, AT_REMOVEDIR);
}

static void job_free(struct job *j)
{
	for (size_t i = 0; i < j->n_files; i++) {
		close(j->files[i].dfd);
		if (j->files[i].fd >= 0)
			close(j->files[i].fd);
		free(j->files[i].tmp);
		free(j->files[i].base);
		free(j->files[i].path);
	}
	for (size_t i = 0; i < j->n_dirs; i++) {
		if (j->dirs[i].dfd >= 0)
			close(j->dirs[i].dfd);
		free(j->dirs[i].base);
	}
	for (size_t i = 0; i < j->n_seen; i++)
		free(j->seen[i]);
	free(j->files);
	free(j->dirs);
	free(j->seen);
	if (j->root >= 0)
		close(j->root);
}

/* The kept descriptors, handed to the caller. */
static void hand_over(struct job *j)
{
	struct bk_extract_files *f = j->o->kept;

	for (size_t i = 0; i < j->n_files; i++) {
		struct pending *p = &j->files[i];

		if (p->fd < 0)
			continue;
		f->paths = grow(f->paths, f->n, sizeof(*f->paths));
		f->fds = grow(f->fds, f->n, sizeof(*f->fds));
		f->paths[f->n] = bk_xstrdup(p->path);
		f->fds[f->n++] = p->fd;
		p->fd = -1;
	}
}

int bk_extract_files_fd(const struct bk_extract_files *f, const char *path)
{
	for (size_t i = 0; f && i < f->n; i++)
		if (!strcmp(f->paths[i], path))
			return f->fds[i];
	return -1;
}

void bk_extract_files_close(struct bk_extract_files *f)
{
	for (size_t i = 0; i < f->n; i++) {
		close(f->fds[i]);
		free(f->paths[i]);
	}
	free(f->paths);
	free(f->fds);
	memset(f, 0, sizeof(*f));
}

/*
 * Files in a directory that someone else owns or may write can be swapped
 * between extraction and use (and removed, renamed or linked meanwhile):
 * only the caller may write there.
 */
static int check_private(const char *dir, const struct stat *st)
{
	if (st->st_uid != geteuid()) {
		struct passwd *pw = getpwuid(st->st_uid);

		bk_err_set("%s: owned by %s%s(uid %u), not by the user running this (uid %u): "
			   "refusing to extract into it", dir, pw ? pw->pw_name : "", pw ? " " : "",
			   (unsigned)st->st_uid, (unsigned)geteuid());
	} else if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		bk_err_set("%s: writable by its group or others (mode %04o): refusing to "
			   "extract into it", dir, (unsigned)(st->st_mode & 07777));
	} else {
		return 0;
	}
	bk_err_hint("give a directory that does not exist yet (it is made 0700) or one "
		    "that only you can write");
	return -1;
}

int bk_extract_check_private(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return errno == ENOENT ? 0 : bk_err_errno("cannot use %s", dir);
	if (!S_ISDIR(st.st_mode))
		return bk_err_set("%s is not a directory", dir);
	return check_private(dir, &st);
}

static int check_space(const struct job *j, const char *dir)
{
	unsigned long long need = 0, avail;

	for (size_t i = 0; i < j->m->n_entries; i++)
		if (selected(j, j->m->entries[i].path))
			need += j->m->entries[i].bytes;
	if (bk_free_bytes(dir, &avail) < 0)
		return -1;
	if (need > avail) {
		char need_s[BK_SIZE_BUF], avail_s[BK_SIZE_BUF];

		return bk_err_set("not enough space in %s: the archive unpacks to %s, %s free",
				  dir, bk_format_size(need, need_s, sizeof(need_s)),
				  bk_format_size(avail, avail_s, sizeof(avail_s)));
	}
	return 0;
}

int bk_extract(const char *archive, const struct bk_manifest *m, const char *dir,
	       const struct bk_extract_opts *o)
{
	struct bk_extract_opts defaults = { 0 };
	struct job j = { 0 };
	struct stat st;
	int created = 0, ret = -1;

	j.m = m;
	j.o = o ? o : &defaults;
	j.dir_mode = j.o->dir_mode ? j.o->dir_mode : 0700;
	j.root = -1;
	if (stat(dir, &st) < 0) {
		if (errno != ENOENT)
			return bk_err_errno("cannot use %s", dir);
		if (bk_mkdir_p(dir, j.dir_mode) < 0)
			return -1;
		created = 1;
	}
	j.root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j.root < 0) {
		bk_err_errno("cannot open directory %s", dir);
		goto out;
	}
	if (j.o->private_dir) {
		/* The directory we hold, whoever made it (even in a race with us). */
		if (fstat(j.root, &st) < 0) {
			bk_err_errno("cannot use %s", dir);
			goto out;
		}
		if (check_private(dir, &st) < 0) {
			created = 0;	/* not ours to remove */
			goto out;
		}
	}
	if (check_space(&j, dir) < 0)
		goto out;
	if (!j.o->force) {
		char *list = NULL;
		int n = bk_extract_conflicts(m, dir, j.o, &list);

		if (n < 0)
			goto out;
		if (n > 0) {
			bk_err_set("%s: %d file%s exist%s already: %s", dir, n, n == 1 ? "" : "s",
				   n == 1 ? "s" : "", list);
			bk_err_hint("--force replaces them");
			free(list);
			goto out;
		}
	}
	if (read_members(&j, archive) < 0 || commit_files(&j) < 0)
		goto out;
	if (j.o->kept)
		hand_over(&j);
	ret = 0;
out:
	if (ret < 0) {
		undo(&j);
		if (created) {
			char *saved = bk_xstrdup(bk_err());

			bk_rm_rf(dir);
			bk_err_set("%s", saved);
			free(saved);
		}
	}
	job_free(&j);
	return ret;
}

/* Does path exist under root? 1 yes, 0 no, -1 on error (a link on the way). */
static int exists_under(struct job *j, const char *path)
{
	const char *base;
	struct stat st;
	int dfd = walk_parent(j, path, 0, &base);

	if (dfd == -2)
		return 0;	/* a directory on the way is missing */
	if (dfd < 0)
		return -1;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		close(dfd);
		return 1;
	}
	close(dfd);
	if (errno == ENOENT)
		return 0;
	return bk_err_errno("cannot look at %s", path);
}

int bk_extract_conflicts(const struct bk_manifest *m, const char *dir,
			 const struct bk_extract_opts *o, char **list)
{
	struct bk_extract_opts defaults = { 0 };
	struct job j = { 0 };
	char *out = NULL;
	int n = 0;

	*list = NULL;
	j.m = m;
	j.o = o ? o : &defaults;
	j.root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j.root < 0) {
		if (errno == ENOENT)
			return 0;
		return bk_err_errno("cannot open directory %s", dir);
	}
	for (size_t i = 0; i <= m->n_entries; i++) {
		const char *path = i < m->n_entries ? m->entries[i].path : BK_MANIFEST_NAME;
		int e;

		if (!selected(&j, path))
			continue;
		e = exists_under(&j, path);
		if (e < 0) {
			free(out);
			n = -1;
			break;
		}
		if (e) {
			char *next = out ? bk_asprintf("%s, %s", out, path) : bk_xstrdup(path);

			free(out);
			out = next;
			n++;
		}
	}
	job_free(&j);
	if (n > 0)
		*list = out;
	return n;
}

int bk_extract_is_config(const struct bk_manifest *m, const char *path)
{
	size_t i = 0;
	const char *c;

	while ((c = bk_manifest_meta_next(m, "config", &i)) != NULL) {
		size_t n = strlen(c);

		while (n > 1 && c[n - 1] == '/')
			n--;
		if (!strncmp(path, c, n) && (path[n] == '\0' || path[n] == '/'))
			return 1;
	}
	return 0;
}

/* "# config-mode: MODE OWNER PATH" for path: the line's value, or NULL. */
static const char *config_mode_line(const struct bk_manifest *m, const char *path,
				    unsigned *mode, const char **owner, size_t *owner_len)
{
	size_t i = 0;
	const char *v;

	while ((v = bk_manifest_meta_next(m, "config-mode", &i)) != NULL) {
		size_t nd = strspn(v, "01234567"), no;
		unsigned md = 0;

		if (nd < 3 || nd > 4 || v[nd] != ' ')
			continue;
		no = strcspn(v + nd + 1, " ");
		if (!no || v[nd + 1 + no] != ' ' || strcmp(v + nd + 1 + no + 1, path))
			continue;
		for (size_t k = 0; k < nd; k++)
			md = md * 8 + (unsigned)(v[k] - '0');
		*mode = md & 0777;
		*owner = v + nd + 1;
		*owner_len = no;
		return v;
	}
	return NULL;
}

mode_t bk_extract_config_mode(const struct bk_manifest *m, const char *path,
			      unsigned archive_mode)
{
	unsigned mode = 0600;
	const char *owner;
	size_t n;

	config_mode_line(m, path, &mode, &owner, &n);
	return (mode_t)(mode & archive_mode & 0777);
}

const char *bk_extract_config_owner(const struct bk_manifest *m, const char *path,
				    size_t *len)
{
	unsigned mode;
	const char *owner = NULL;

	if (!config_mode_line(m, path, &mode, &owner, len))
		return NULL;
	return owner;
}
