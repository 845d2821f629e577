/* The multipart upload in flight, for the next run to abort (see upload_state.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fs.h"
#include "log.h"
#include "s3.h"
#include "upload_state.h"

#define STATE ".offsite_upload"
#define STATE_MAX 4096

static void note(const char *key, const char *upload_id, int started, void *ctx)
{
	const struct bk_upload_state *st = ctx;
	char *path = bk_path_join(st->dir, STATE);

	if (started) {
		char *line = bk_asprintf("%s\t%s\t%s\n", st->s->bucket, key, upload_id);

		if (bk_write_file_atomic(path, line, strlen(line), 0600) < 0)
			bk_warn("cannot record the multipart upload in %s (a kill now would leave "
				"its parts in the bucket): %s", path, bk_err());
		free(line);
	} else if (unlink(path) < 0 && errno != ENOENT) {
		bk_warn("cannot remove %s: %s", path, strerror(errno));
	}
	free(path);
}

void bk_upload_state_track(struct bk_s3 *s, struct bk_upload_state *st, const char *dir)
{
	st->s = s;
	st->dir = dir;
	s->multipart_note = note;
	s->multipart_ctx = st;
}

/* "BUCKET\tKEY\tID\n" into its three fields (in place); 0, or -1. */
static int parse(char *text, char **bucket, char **key, char **id)
{
	char *tab1 = strchr(text, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
	size_t n = strlen(text);

	if (!tab2 || n < 6 || text[n - 1] != '\n')
		return -1;
	text[n - 1] = '\0';
	*tab1 = *tab2 = '\0';
	*bucket = text;
	*key = tab1 + 1;
	*id = tab2 + 1;
	return **bucket && **key && **id && !strpbrk(*id, "\t\n") ? 0 : -1;
}

void bk_upload_state_abort_leftover(const struct bk_s3 *s, const char *dir)
{
	char *path = bk_path_join(dir, STATE), *text = NULL, *bucket, *key, *id;
	size_t len;

	if (access(path, F_OK) < 0)
		goto out;
	if (bk_read_private(path, STATE_MAX, &text, &len) < 0) {
		bk_warn("upload: cannot read %s: %s", path, bk_err());
		goto out;
	}
	if (strlen(text) != len || parse(text, &bucket, &key, &id) < 0) {
		bk_warn("upload: %s is not BUCKET<TAB>KEY<TAB>UPLOAD_ID: removed", path);
	} else if (strcmp(bucket, s->bucket)) {
		bk_warn("upload: an earlier run left the multipart upload %s of s3://%s/%s, in "
			"another bucket than BACKUP_S3_URL's: abort it there (or let a lifecycle "
			"rule do it)", id, bucket, key);
	} else if (bk_s3_abort_multipart(s, key, id) < 0) {
		bk_warn("upload: cannot abort the multipart upload an earlier run left "
			"(s3://%s/%s, upload id %s); the next run tries again: %s", bucket, key, id,
			bk_err());
		goto out;
	} else {
		bk_info("upload: aborted the multipart upload an earlier run left: s3://%s/%s "
			"(upload id %s)", bucket, key, id);
	}
	if (unlink(path) < 0 && errno != ENOENT)
		bk_warn("upload: cannot remove %s: %s", path, strerror(errno));
out:
	free(text);
	free(path);
}
