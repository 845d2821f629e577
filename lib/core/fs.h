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

/*
 * Files bk keeps in its own directories (status, history, lock): a symbolic
 * link at the name is never followed ("PATH is a symbolic link: not followed"
 * in the slot, errno ELOOP). open(2) flags with O_NOFOLLOW and O_CLOEXEC
 * added; -1 with the slot set and errno kept.
 */
int bk_open_private(const char *path, int flags, mode_t mode);
/* bk_read_file through bk_open_private. */
int bk_read_private(const char *path, size_t max, char **out, size_t *len);
/* A directory bk writes its state into must belong to the running user and be
 * writable by no one else; var names it in the message. 0 when it is so or does
 * not exist, -1 with "VAR: PATH belongs to uid N ..." and a hint. */
int bk_dir_check_private(const char *var, const char *path);

/* mkdir -p; the last component gets mode (and is chmod'ed to it if it exists and we own it). */
int bk_mkdir_p(const char *path, mode_t mode);
/* Remove a directory tree we created (no symlinks followed). */
int bk_rm_rf(const char *path);
/* Make a fresh private directory "<parent>/<prefix>XXXXXX" (0700); caller frees. */
char *bk_mkdtemp(const char *parent, const char *prefix);

/* Take an exclusive flock on path without waiting. Returns fd, -1 on error,
 * -2 when another process holds it. The kernel releases it when the process dies. */
int bk_lock(const char *path);
/* The same on a directory (no symbolic link followed): held for the life of a
 * run's temp dir, so another run can tell a live one from a dead one. */
int bk_lock_dir(const char *path);
/* Is the lock at path held? 0 free (or no such file: nothing is created),
 * -2 held, -1 error. Takes a shared lock for an instant only. */
int bk_lock_probe(const char *path);

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
