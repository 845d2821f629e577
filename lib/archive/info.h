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

/*
 * Coverage: every table the MANIFEST names, in one class (the contract's
 * "# table:", "# window:", "# window-rows:", "# added:" and "# omitted:"
 * lines). Shared by BACKUP_INFO.txt and bk-mail.
 */
enum bk_info_class { BK_CLASS_FULL, BK_CLASS_WINDOW, BK_CLASS_ADDED, BK_CLASS_OMITTED };
#define BK_CLASSES 4

struct bk_info_table {
	enum bk_info_class cls;
	char *qname;		/* quoted, schema-qualified */
	char *file;		/* data file; NULL when omitted or not known */
	long long rows;		/* rows in the archive; omitted: the estimate; -1 unknown */
	char *window;		/* window: "COL >= CUTOFF", else NULL */
	/* window: rows in the window, of the table, added by the FK closure;
	 * -1 when the MANIFEST has no window-rows line (an older exporter) */
	long long in_window, total, closure;
	char *zone;		/* window: zone of the cutoff, NULL for "-" or unknown */
	char *detail;		/* added: "referenced by QNAME"; omitted: the rule */
};

struct bk_info_coverage {
	struct bk_info_table *tables;	/* by class, then qname */
	size_t n;
	size_t count[BK_CLASSES];
	/* The MANIFEST has window-rows or omitted lines: a complete list of the
	 * database's tables. Without them (older archives) what was left out is
	 * unknown and readers show only what the archive holds, as before. */
	int complete;
};

void bk_info_coverage_read(struct bk_info_coverage *c, const struct bk_manifest *m);
void bk_info_coverage_free(struct bk_info_coverage *c);
/* Length of the quoted, schema-qualified name at the start of s
 * (public.users, public."Api Key"); 0 when s does not start with one. */
size_t bk_info_qname_len(const char *s);

#endif
