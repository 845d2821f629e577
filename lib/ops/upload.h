/*
 * bk-run's step upload: the published archive (its .age when encrypting) to
 * BACKUP_S3_URL's prefix, in-process (the secret key never goes to a child),
 * progress in the log, confirmed by HEAD, then .last_offsite_success.
 */
#ifndef BK_UPLOAD_H
#define BK_UPLOAD_H

/* Upload path as PREFIX/basename(path); 0 once the store confirmed it and the
 * status file is written, -1 with the store's error in the slot. */
int bk_upload_offsite(const char *path);
/* For --dry-run: log where a run would upload `name` (no request made). */
void bk_upload_describe(const char *name);

#endif
