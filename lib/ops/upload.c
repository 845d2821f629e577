/* The off-site copy of a run's archive (see upload.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "log.h"
#include "s3.h"
#include "size.h"
#include "status.h"
#include "upload.h"
#include "upload_state.h"

/* "upload: 48 MB of 135 MB (35%), 88 MB/s": the sizes of every log line */
static void progress(unsigned long long done, unsigned long long total, double seconds,
		     void *ctx)
{
	char d[BK_SIZE_BUF], t[BK_SIZE_BUF], r[BK_SIZE_BUF];
	double rate = seconds > 0 ? (double)done / seconds : 0.0;

	(void)ctx;
	/* percent rounded down: 100% only once every byte is there */
	bk_info("upload: %s of %s (%llu%%), %s", bk_format_size(done, d, sizeof(d)),
		bk_format_size(total, t, sizeof(t)), total ? done * 100 / total : 100ULL,
		bk_format_rate(rate, r, sizeof(r)));
}

int bk_upload_offsite(const char *path)
{
	const char *base = strrchr(path, '/');
	struct bk_s3 s;
	struct bk_s3_stat st;
	struct bk_upload_state state;
	char *key = NULL, *where = NULL;
	int ret = -1;

	base = base ? base + 1 : path;
	if (bk_s3_open(&s) < 0)
		return -1;
	key = bk_s3_key(&s, base);
	where = bk_s3_display(&s, key);
	bk_info("upload: %s to %s at %s", path, where, s.endpoint);
	/* bk-run holds the installation's lock: an upload on record is a dead run's */
	bk_upload_state_abort_leftover(&s, bk_config.dir);
	bk_upload_state_track(&s, &state, bk_config.dir);
	if (bk_s3_put_file(&s, key, path, progress, NULL, &st) < 0)
		goto out;
	bk_info("upload: confirmed %s: %llu bytes, sha256 %s", where, st.size, st.sha256);
	if (bk_status_record_offsite(bk_config.dir, (long long)time(NULL)) < 0)
		goto out;
	ret = 0;
out:
	free(key);
	free(where);
	bk_s3_close(&s);
	return ret;
}

void bk_upload_describe(const char *name)
{
	struct bk_s3 s;
	char *key, *where;

	if (!bk_s3_configured()) {
		bk_info("dry run: no off-site copy (BACKUP_S3_URL is not set)");
		return;
	}
	if (bk_s3_open(&s) < 0) {
		bk_log_err();
		return;
	}
	key = bk_s3_key(&s, name);
	where = bk_s3_display(&s, key);
	bk_info("dry run: would upload %s to %s at %s (%s style, region %s, parts of %llu MB)",
		name, where, s.endpoint, s.path_style ? "path" : "virtual-host", s.region,
		s.part_size >> 20);
	free(key);
	free(where);
	bk_s3_close(&s);
}
