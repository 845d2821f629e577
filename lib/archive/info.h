/*
 * BACKUP_INFO.txt: what a backup holds and how to restore it, for a person
 * holding only the archive and psql. Made from the archive's MANIFEST.
 */
#ifndef BK_INFO_H
#define BK_INFO_H

#include "manifest.h"

struct bk_info {
	/* The archive's members except MANIFEST and BACKUP_INFO.txt, with the
	 * export's metadata and the "config" and "warning" lines of packing. */
	const struct bk_manifest *manifest;
	const char *archive_name;	/* base name of the archive */
	long long packed_at;		/* unix seconds */
	const char *config_dir;		/* where the configuration files came from */
};

/*
 * The text of BACKUP_INFO.txt; caller frees. In section "B." every command
 * line starts with four spaces and "$ " and runs as is in a POSIX shell from
 * the directory holding the archive (tests run exactly these lines).
 */
char *bk_info_format(const struct bk_info *in);

#endif
