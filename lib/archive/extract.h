/*
 * Safe extraction of a bk archive into a directory: only regular files and
 * directories listed in its MANIFEST, every path checked, every file created
 * relative to the directory with O_NOFOLLOW on each component, so nothing is
 * written outside it even if an attacker planted a symlink inside it.
 */
#ifndef BK_EXTRACT_H
#define BK_EXTRACT_H

#include <sys/types.h>

#include "manifest.h"

/* Files bk_extract() keeps open for reading (opts.keep), so that what is
 * read later is what was written and checked, whatever happens to the
 * directory meanwhile. */
struct bk_extract_files {
	char **paths;
	int *fds;
	size_t n;
};

struct bk_extract_opts {
	/* Members to write (path as in MANIFEST; "MANIFEST" itself too). NULL:
	 * every member. Directories are created as the selected files need them. */
	int (*select)(const struct bk_manifest *m, const char *path);
	/* Mode of a new file from the MANIFEST, its path and the tar header's
	 * mode bits. NULL: the header's owner bits masked to 0600 (at least
	 * owner read). */
	mode_t (*file_mode)(const struct bk_manifest *m, const char *path, unsigned archive_mode);
	mode_t dir_mode;	/* of directories we create; 0 means 0700 */
	/* Replace existing files (by rename: a symlink there is replaced, never
	 * followed). Without it, any selected file that exists is refused. */
	int force;
	int sync;		/* fsync files and directories before returning */
	/* Refuse a directory that is not the caller's alone: owned by another
	 * user, or writable by its group or others. */
	int private_dir;
	/* Members to keep open in *kept (NULL: none). */
	int (*keep)(const struct bk_manifest *m, const char *path);
	struct bk_extract_files *kept;
};

/*
 * Extract the selected members of archive, whose MANIFEST (already parsed
 * and verified) is m, into dir, created (with dir_mode) if missing. Every
 * member must be a regular file or directory with a safe path; a file must
 * be listed in m and match its size (reading stops at size+1) and sha256.
 * All files are written under temporary names first and renamed into place
 * only once the whole archive has been read, so a refused archive leaves
 * nothing behind: what we created is removed (all of dir if we created it).
 * 0, or -1 with the error slot set.
 */
int bk_extract(const char *archive, const struct bk_manifest *m, const char *dir,
	       const struct bk_extract_opts *o);

/* The descriptor of path kept by bk_extract(), -1 when it was not kept.
 * Read it with pread(): its offset is anywhere. */
int bk_extract_files_fd(const struct bk_extract_files *f, const char *path);
void bk_extract_files_close(struct bk_extract_files *f);

/* 0 when dir is missing or the caller's alone (see private_dir), else -1
 * with the error slot set (and a hint). */
int bk_extract_check_private(const char *dir);

/*
 * The selected members that exist already under dir (as a file, link or
 * anything else), as one "a, b, c" string in *list (caller frees), NULL when
 * none. Returns their number, or -1 with the error slot set (for example a
 * path component that is a symlink).
 */
int bk_extract_conflicts(const struct bk_manifest *m, const char *dir,
			 const struct bk_extract_opts *o, char **list);

/* Is path a configuration file (listed by, or under, a "# config: PATH" line)? */
int bk_extract_is_config(const struct bk_manifest *m, const char *path);
/*
 * The mode a configuration file gets: the one it had when packed, from its
 * "# config-mode: MODE OWNER PATH" line, never more than the tar header's
 * mode bits (pass 0777 when there is no header); 0600 (also capped by the
 * header) for an archive without such a line.
 */
mode_t bk_extract_config_mode(const struct bk_manifest *m, const char *path,
			      unsigned archive_mode);
/* The owner name its "# config-mode:" line records (as packed; informational:
 * nothing is chowned), or NULL. Points into m. */
const char *bk_extract_config_owner(const struct bk_manifest *m, const char *path,
				    size_t *len);

#endif
