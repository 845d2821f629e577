/*
 * Files: atomic writes (temp name + fsync + rename), directories with modes,
 * the run lock, free space, whole-file reads.
 */
#ifndef BK_FS_H
#define BK_FS_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

/* A file being written under a temporary name in the directory of its final name. */
struct bk_afile {
	int fd;
	char *tmp_path;
	char *final_path;
};

/* Create "<dir>/.<base>.tmp.XXXXXX" with mode; 0 or -1. */
int bk_afile_open(struct bk_afile *f, const char *final_path, mode_t mode);
/* fsync, close, rename to the final name, fsync the directory. */
int bk_afile_commit(struct bk_afile *f);
/* Close and unlink the temporary file (safe after commit, and twice). */
void bk_afile_abort(struct bk_afile *f);

/* fsync the directory holding path, so a rename into it is durable. */
int bk_fsync_dir_of(const char *path);

/* Write a whole buffer atomically under path with mode. */
int bk_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* write(2) until done, retrying EINTR. */
int bk_write_all(int fd, const void *buf, size_t len);
/* Read a whole file of at most max bytes (NUL-terminated, *len excludes it). */
int bk_read_file(const char *path, size_t max, char **out, size_t *len);

/* mkdir -p; the last component gets mode (and is chmod'ed to it if it exists and we own it). */
int bk_mkdir_p(const char *path, mode_t mode);
/* Remove a directory tree we created (no symlinks followed). */
int bk_rm_rf(const char *path);
/* Make a fresh private directory "<parent>/<prefix>XXXXXX" (0700); caller frees. */
char *bk_mkdtemp(const char *parent, const char *prefix);

/* Take an exclusive flock on path without waiting. Returns fd, -1 on error,
 * -2 when another process holds it. The kernel releases it when the process dies. */
int bk_lock(const char *path);

/* Bytes available to an unprivileged writer in the filesystem holding path. */
int bk_free_bytes(const char *path, unsigned long long *out);

/* Join dir and name into a new string (caller frees); NULL on ENOMEM. */
char *bk_path_join(const char *dir, const char *name);
/* printf into a new string; aborts on ENOMEM (the tools cannot go on without memory). */
char *bk_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *bk_vasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
void *bk_xmalloc(size_t n);
char *bk_xstrdup(const char *s);

#endif
