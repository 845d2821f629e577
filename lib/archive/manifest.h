/*
 * MANIFEST: the table of contents of a backup, one line per member:
 *   <sha256 hex> <bytes> <rows or -> <path>
 * and '#' metadata lines "# key: value" (created, host, database, server,
 * snapshot, warning, table, added, ...). Path is the rest of the line.
 * "# table: FILE ROWS QNAME" says which table (quoted, schema-qualified) a
 * data file holds; a .sql file has one such line per table, a .csv file one.
 */
#ifndef BK_MANIFEST_H
#define BK_MANIFEST_H

#include <stddef.h>

#include "sha256.h"

#define BK_MANIFEST_NAME "MANIFEST"
/* Bytes. A MANIFEST is held in memory whole: this bounds what a hostile
 * archive can make us allocate. 64 MiB is some 400,000 tables (one member
 * line and one "# table:" line each); bk-pack refuses to write more. */
#define BK_MANIFEST_MAX (64 << 20)
/* The signature of MANIFEST (minisign format), the archive's second member
 * when it is signed. MANIFEST cannot list it: it is not one of its lines. */
#define BK_MANIFEST_SIG_NAME "MANIFEST.minisig"
#define BK_MANIFEST_SIG_MAX 16384	/* four lines; a trusted comment is at most 8 KiB */

struct bk_manifest_entry {
	char sha256[BK_SHA256_HEX];
	unsigned long long bytes;
	long long rows;			/* -1 when not a data file */
	char *path;
};

struct bk_manifest_meta {
	char *key;
	char *value;
};

struct bk_manifest {
	struct bk_manifest_entry *entries;
	size_t n_entries, cap_entries;
	size_t *slots;			/* hash of paths: entry index + 1, 0 = free */
	size_t n_slots;			/* a power of two, over twice n_entries */
	struct bk_manifest_meta *meta;
	size_t n_meta, cap_meta;
};

void bk_manifest_init(struct bk_manifest *m);
void bk_manifest_free(struct bk_manifest *m);
/* Parse text; -1 with "MANIFEST line N: reason" on anything malformed
 * (bad digest, number, unsafe path: absolute, "..", empty, control characters; duplicates). */
int bk_manifest_parse(struct bk_manifest *m, const char *text, size_t len);
/* Add a member line (path checked as in parse); -1 on a bad or duplicate path. */
int bk_manifest_add(struct bk_manifest *m, const char *sha256, unsigned long long bytes,
		    long long rows, const char *path);
/* Add a "# key: value" line (value must be one line). */
void bk_manifest_meta_add(struct bk_manifest *m, const char *key, const char *value);
/* The first value of key, or NULL. Iterate all with bk_manifest_meta_next. */
const char *bk_manifest_meta_get(const struct bk_manifest *m, const char *key);
/* Next index >= *i whose key matches; its value, or NULL at the end. */
const char *bk_manifest_meta_next(const struct bk_manifest *m, const char *key, size_t *i);
/* The member line of path, or NULL (a hash lookup: MANIFESTs list many). */
const struct bk_manifest_entry *bk_manifest_find(const struct bk_manifest *m, const char *path);
/* Is dir (no final '/') the parent directory of a listed member? */
int bk_manifest_has_dir(const struct bk_manifest *m, const char *dir);
/* The whole text (metadata first, then members in order); caller frees. */
char *bk_manifest_format(const struct bk_manifest *m);
/* Is this a safe relative member path (no "/" start, no "..", no "//", printable)? */
int bk_manifest_path_ok(const char *path);

#endif
