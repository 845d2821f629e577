/*
 * Checks of a database just restored from an archive (the restore test):
 * every constraint and index schema-post.sql creates is there and valid,
 * and every sequence owned by a column is ahead of that column's values.
 */
#ifndef BK_RESTORE_CHECK_H
#define BK_RESTORE_CHECK_H

#include <libpq-fe.h>

#include "extract.h"

/* The constraints (ADD CONSTRAINT) and indexes (CREATE [UNIQUE] INDEX) of
 * the kept schema-post.sql exist in conn's database; constraints validated
 * (but those added NOT VALID), indexes valid and ready. *n_checked counts
 * them. 0, or -1 with the first one missing or invalid in the error slot. */
int bk_restore_check_post(PGconn *conn, const struct bk_extract_files *files,
			  long *n_checked);

/* Every sequence owned by a column (serial, identity) would hand out a
 * value past the column's: 0, or -1 naming the first that would not. */
int bk_restore_check_sequences(PGconn *conn, long *n_checked);

#endif
