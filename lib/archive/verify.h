/*
 * Is a backup archive intact? One streaming pass over the .tar.gz (no temp
 * files, constant memory): gzip integrity to the last byte, MANIFEST first,
 * every member listed once and safe, its size and sha256 as listed, the data
 * files parsed (COPY blocks, CSV) with the listed row counts; MANIFEST's
 * signature (MANIFEST.minisig, the second member) checked against the verify
 * key when one is configured.
 */
#ifndef BK_VERIFY_H
#define BK_VERIFY_H

#include <stddef.h>
#include <stdio.h>

#include "minisign.h"

struct bk_verify_member {
	char *path;		/* printable (control bytes escaped) */
	int is_dir;
	unsigned long long bytes;
	long long rows;		/* -1: not a data file */
	int ok;
};

enum bk_verify_sig {
	BK_SIG_NONE,		/* unsigned */
	BK_SIG_UNCHECKED,	/* signed; no verify key to check it with */
	BK_SIG_OK,		/* signed by the verify key */
	BK_SIG_BAD		/* a signature that does not verify or does not parse */
};

struct bk_verify_report {
	int ok;			/* 1 intact */
	char reason[1024];	/* the first failure, "" when ok */
	struct bk_verify_member *members;	/* in archive order, up to the failure */
	size_t n_members, cap_members;
	size_t n_files, n_dirs;
	unsigned long long archive_bytes;	/* size of the file */
	unsigned long long unpacked_bytes;	/* sum of member data */
	unsigned long long stream_bytes;	/* decompressed tar stream read */
	unsigned long long rows;		/* data rows in all data files */
	char **warnings;	/* e.g. size bounds: reported, not a failure */
	size_t n_warnings;
	double seconds;
	enum bk_verify_sig sig;
	char key_id[BK_MINISIGN_ID_HEX];	/* the signature's key ID, "" unknown */
	char *trusted_comment;	/* BK_SIG_OK: what the signer said (printable) */
};

void bk_verify_report_init(struct bk_verify_report *rep);
void bk_verify_report_free(struct bk_verify_report *rep);

/*
 * Verify the archive at path; rep is initialised here. 0 when intact, -1 when
 * not (rep->reason and the error slot say why: "archive is truncated: ...",
 * "member users.sql: sha256 mismatch (expected ..., got ...)", ...).
 * Size bounds come from bk_config (BACKUP_MIN_SIZE_MB, BACKUP_MAX_SIZE_MB;
 * 0 = unchecked) and only add warnings. The verify key is bk_config's
 * (BACKUP_VERIFY_KEY, --verify-key): with one, an unsigned archive or a bad
 * signature is not intact ("bad signature: made by key X, not by the verify
 * key Y"); without one, a signature that parses is reported unchecked
 * (rep->sig, rep->key_id) and one that does not is a failure.
 */
int bk_verify_archive(const char *path, struct bk_verify_report *rep);

/* Write rep as one JSON object (with a final newline) to f. */
void bk_verify_report_json(const struct bk_verify_report *rep, const char *path, FILE *f);

/* "signed by key ID X", "signed by key ID X (not checked: no verify key)",
 * "unsigned" or "bad signature", as bk-verify prints it. */
void bk_verify_sig_text(const struct bk_verify_report *rep, char *buf, size_t size);

#endif
