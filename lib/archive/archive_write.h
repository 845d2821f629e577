/*
 * Writing the backup archive: a tar stream from libarchive's pax-restricted
 * (ustar) writer, compressed by gzwrite.h, on a temporary file renamed into
 * place only when complete. bk_pack() is the whole of bk-pack on top of it.
 */
#ifndef BK_ARCHIVE_WRITE_H
#define BK_ARCHIVE_WRITE_H

#include <signal.h>
#include <stddef.h>

#include "minisign.h"
#include "sha256.h"

#define BK_INFO_NAME "BACKUP_INFO.txt"

/* What the writer reports while it streams (for a progress line or the log). */
struct bk_aw_progress {
	const char *member;		/* member being written */
	unsigned long long member_bytes;	/* its bytes so far */
	double member_seconds;		/* time spent on it so far */
	int member_done;		/* 1 once, when the member is complete */
	unsigned long long done;	/* member bytes of the whole archive so far */
	unsigned long long total;	/* expected, 0 when unknown (bk_aw_expect) */
	unsigned long long out;		/* compressed bytes written so far */
};
typedef void bk_aw_progress_fn(void *ctx, const struct bk_aw_progress *p);

struct bk_aw;

/*
 * Start an archive that will be named final_path: a temporary file in the
 * same directory (mode 0600). mtime is given to every member. Nothing may
 * exist under final_path (checked now and again at the rename).
 * stop (may be NULL) is polled between buffers: non-zero aborts ("interrupted").
 */
struct bk_aw *bk_aw_open(const char *final_path, int gzip_level, long long mtime,
			 bk_aw_progress_fn *progress, void *progress_ctx,
			 volatile sig_atomic_t *stop);
/* A directory member (mode 0700). Parents are added by every bk_aw_add_*. */
int bk_aw_add_dir(struct bk_aw *w, const char *name);
/* A regular member (mode 0600) from memory. */
int bk_aw_add_data(struct bk_aw *w, const char *name, const void *data, size_t len);
/*
 * A regular member streamed from path, which must be a regular file (a final
 * symlink is followed) of exactly size bytes whose sha256 is sha256: a file
 * that changed since it was listed fails with the reason, whatever the point
 * at which the change is seen.
 */
int bk_aw_add_file(struct bk_aw *w, const char *name, const char *path,
		   unsigned long long size, const char *sha256);
/* The owner and mode a member's tar header records (a configuration file's
 * real ones); members without them get mode 0600, owner and group 0 unnamed. */
struct bk_aw_attr {
	unsigned mode;		/* permission bits */
	long long uid, gid;
	const char *uname, *gname;	/* NULL or "": none */
};
/* bk_aw_add_file with the header's owner and mode from attr. */
int bk_aw_add_file_as(struct bk_aw *w, const char *name, const char *path,
		      unsigned long long size, const char *sha256,
		      const struct bk_aw_attr *attr);
/* End the tar stream and the gzip stream, fsync, rename to the final name.
 * Frees w whatever the result; on failure no file is left behind. */
int bk_aw_commit(struct bk_aw *w);
/* Remove the temporary file and free w (NULL is fine). */
void bk_aw_abort(struct bk_aw *w);
/* Tell the progress reports how many member bytes to expect in all. */
void bk_aw_expect(struct bk_aw *w, unsigned long long total);
/* Compressed bytes written so far. */
unsigned long long bk_aw_out_bytes(const struct bk_aw *w);

struct bk_pack_opts {
	const char *export_dir;		/* a complete bk-export directory */
	const char *archive_path;	/* final name of the archive */
	const char *config_dir;		/* BACKUP_CONFIG_DIR */
	const char *config_files;	/* BACKUP_CONFIG_FILES: names separated by blanks */
	int gzip_level;
	long long when;			/* backup time: members' mtime, BACKUP_INFO */
	bk_aw_progress_fn *progress;
	void *progress_ctx;
	volatile sig_atomic_t *stop;
	/* BACKUP_SIGNING_KEY, or NULL: MANIFEST is signed as member MANIFEST.minisig */
	const struct bk_minisign_sec *sign_key;
};

struct bk_pack_result {
	unsigned long long in_bytes;	/* bytes of all members */
	unsigned long long out_bytes;	/* size of the archive */
	size_t members;			/* regular members, MANIFEST included */
	size_t warnings;		/* warnings added by packing (config files) */
	char key_id[BK_MINISIGN_ID_HEX];	/* signed by this key; "" unsigned */
};

/*
 * Read export_dir/MANIFEST, collect the configuration files (warnings for
 * missing or unusable ones: logged and recorded), write MANIFEST,
 * BACKUP_INFO.txt, the data files (each checked against MANIFEST while it is
 * streamed) and the configuration files into archive_path; with sign_key,
 * MANIFEST's signature as the second member (trusted comment
 * "timestamp:WHEN\tfile:ARCHIVE_NAME").
 * Returns 0; -1 on failure (no file left behind); -2 when config_files names
 * an unsafe path (a configuration error). The message is in the error slot.
 */
int bk_pack(const struct bk_pack_opts *o, struct bk_pack_result *r);

#endif
