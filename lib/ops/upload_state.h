/*
 * The multipart upload in flight, remembered in $BACKUP_DIR/.offsite_upload
 * (one line "BUCKET<TAB>KEY<TAB>UPLOAD_ID", mode 0600) from the moment the
 * store hands out its id until it is completed or aborted. A run killed in
 * between leaves the file; the next upload aborts that upload first, so no
 * parts stay billed in the bucket. Works on every store (ListMultipartUploads
 * is neither needed nor trusted) and touches only what this installation
 * started.
 */
#ifndef BK_UPLOAD_STATE_H
#define BK_UPLOAD_STATE_H

struct bk_s3;

/* What the notes need; lives as long as s is used. */
struct bk_upload_state {
	const struct bk_s3 *s;
	const char *dir;	/* BACKUP_DIR */
};

/* Point s's multipart notes at the state file of dir (st holds them). */
void bk_upload_state_track(struct bk_s3 *s, struct bk_upload_state *st, const char *dir);
/* Abort the upload a previous run left, if the file names one; the file goes
 * when the store says it is gone. Warns (never fails) when it cannot. */
void bk_upload_state_abort_leftover(const struct bk_s3 *s, const char *dir);

#endif
