/*
 * Is a backup archive intact? One streaming pass over the .tar.gz (no temp
 * files, constant memory): gzip integrity to the last byte, MANIFEST first,
 * every member listed once and safe, its size and sha256 as listed, the data
 * files parsed (COPY blocks, CSV) with the listed row counts.
 */
#ifndef BK_VERIFY_H
#define BK_VERIFY_H

#include <stddef.h>
#include <stdio.h>

struct bk_verify_member {
	char *path;		/* printable (control bytes escaped) */
	int is_dir;
	unsigned long long bytes;
	long long rows;		/* -1: not a data file */
	int ok;
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
};

void bk_verify_report_init(struct bk_verify_report *rep);
void bk_verify_report_free(struct bk_verify_report *rep);

/*
 * Verify the archive at path; rep is initialised here. 0 when intact, -1 when
 * not (rep->reason and the error slot say why: "archive is truncated: ...",
 * "member users.sql: sha256 mismatch (expected ..., got ...)", ...).
 * Size bounds come from bk_config (BACKUP_MIN_SIZE_MB, BACKUP_MAX_SIZE_MB;
 * 0 = unchecked) and only add warnings.
 */
int bk_verify_archive(const char *path, struct bk_verify_report *rep);

/* Write rep as one JSON object (with a final newline) to f. */
void bk_verify_report_json(const struct bk_verify_report *rep, const char *path, FILE *f);

#endif
