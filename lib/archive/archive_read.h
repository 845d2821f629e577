/*
 * Streaming reader for bk archives (.tar.gz): members one after the other,
 * their bytes in chunks, constant memory. Used by bk-verify, bk-unpack, bk-mail.
 * The gzip layer is ours (zlib, CRC-32 and length trailer checked, to the end
 * of the file); libarchive reads only the tar format inside it.
 */
#ifndef BK_ARCHIVE_READ_H
#define BK_ARCHIVE_READ_H

#include <stddef.h>
#include <sys/types.h>

#include "manifest.h"

#define BK_INFO_NAME "BACKUP_INFO.txt"
#define BK_INFO_MAX (64 << 20)	/* bytes, as BK_MANIFEST_MAX: it lists every table too */

enum bk_ar_type {
	BK_AR_REG,		/* regular file */
	BK_AR_DIR,
	BK_AR_SYMLINK,
	BK_AR_HARDLINK,
	BK_AR_OTHER		/* device, fifo, socket, sparse file, anything else */
};

/* One member; the strings live until the next bk_ar_next() or bk_ar_close(). */
struct bk_ar_member {
	/* As stored (not checked: see bk_manifest_path_ok), except that a
	 * directory's one final '/' ("ssl/" as tar writes it) is dropped. */
	const char *path;
	enum bk_ar_type type;
	unsigned long long size;	/* bytes of data the header declares */
	unsigned mode;		/* permission bits */
	const char *link;	/* symlink or hardlink target, NULL otherwise */
};

struct bk_ar_reader;

/*
 * Open path; NULL with the error slot set ("cannot read X: ...", "X is not a
 * gzip file"). An age-encrypted archive (NAME.tar.gz.age: the file starts
 * with the age header, whatever its name) is decrypted on the way in, with
 * the identities of bk_ar_set_identities; an error of decryption (no identity
 * matches, a damaged header or chunk, a truncated file) is an error of the
 * reader like any other, and no byte is passed on before its chunk's tag has
 * been checked. The last chunk is checked before bk_ar_next returns 0.
 */
struct bk_ar_reader *bk_ar_open(const char *path);

/*
 * The age identities every later bk_ar_open uses for .age archives (copied;
 * n = 0 forgets them). The one piece of process state of this module: the
 * programs that read .age files (bk-verify, bk-unpack) set it once, from -i
 * FILE or BACKUP_AGE_IDENTITY_FILE, before reading any archive. _load reads
 * an identity file as age-keygen writes it; errors name the line, never its
 * content. 0, or -1 with the error slot set.
 */
struct bk_age_identity;
int bk_ar_set_identities(const struct bk_age_identity *ids, size_t n);
int bk_ar_load_identities(const char *path);
/* The identities of -i FILE (option_path, may be NULL), else of
 * BACKUP_AGE_IDENTITY_FILE, if either is given; the message names the one
 * that failed (the caller exits 2). */
int bk_ar_use_identity(const char *option_path);
/*
 * Next member: 1 with *m filled, 0 at the end of the archive (the gzip stream
 * has then been read to the end of the file and its trailer checked), -1 on
 * error ("archive is truncated", "archive is corrupt: ...").
 * Unread data of the previous member is skipped (decompressed, not stored).
 */
int bk_ar_next(struct bk_ar_reader *r, struct bk_ar_member *m);
/*
 * MANIFEST.minisig as the second member (a regular file of at most
 * BK_MANIFEST_SIG_MAX bytes) is the signature of MANIFEST, which MANIFEST
 * cannot list: bk_ar_next() reads it aside instead of returning it, so
 * every member it returns is one MANIFEST must list. Its text (NUL-terminated,
 * *len bytes) once bk_ar_next() has gone past the second member; NULL when
 * the archive has none there. Anywhere else it is a member like any other
 * (and not listed in MANIFEST).
 */
const char *bk_ar_signature(const struct bk_ar_reader *r, size_t *len);
/* Up to len bytes of the current member: bytes read, 0 at its end, -1 on error. */
ssize_t bk_ar_read(struct bk_ar_reader *r, void *buf, size_t len);
/* Fail once more than limit uncompressed bytes have come out of the gzip
 * stream (0 = no limit): a guard against gzip bombs. The reader decompresses
 * up to BK_AR_READAHEAD bytes ahead of what the caller has read. */
#define BK_AR_READAHEAD (2 << 20)
void bk_ar_set_limit(struct bk_ar_reader *r, unsigned long long limit);
/* Bytes read from the file and decompressed bytes produced so far. */
unsigned long long bk_ar_bytes_in(const struct bk_ar_reader *r);
unsigned long long bk_ar_bytes_out(const struct bk_ar_reader *r);
void bk_ar_close(struct bk_ar_reader *r);

/*
 * Read the whole of the current member (at most max bytes, else an error) into
 * a new NUL-terminated buffer; *len excludes the NUL. For small members only.
 */
int bk_ar_read_all(struct bk_ar_reader *r, const struct bk_ar_member *m, size_t max,
		   char **out, size_t *len);

/*
 * Read only the head of the archive: MANIFEST (must be the first member, at
 * most BK_MANIFEST_MAX bytes) parsed into m (initialised here), and, when
 * info_text is not NULL, BACKUP_INFO.txt if it comes next (else
 * *info_text = NULL; at most BK_INFO_MAX bytes). Nothing is verified beyond
 * that: use bk_verify_archive() for that. 0, or -1 with the error slot set.
 */
int bk_ar_read_manifest(const char *path, struct bk_manifest *m, char **info_text);
/* The same, and the signature's text in *sig_text when sig_text is not NULL
 * (NULL when unsigned; caller frees). Nothing is checked: bk_verify_archive(). */
int bk_ar_read_head(const char *path, struct bk_manifest *m, char **info_text, char **sig_text);

#endif
