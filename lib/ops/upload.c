/* The off-site copy of a run's archive (see upload.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "err.h"
#include "log.h"
#include "s3.h"
#include "status.h"
#include "upload.h"

static void progress(unsigned long long done, unsigned long long total, double seconds,
		     void *ctx)
{
	double mb = (double)done / 1048576.0;

	(void)ctx;
	bk_info("upload: %.1f of %.1f MB (%.0f%%), %.1f MB/s", mb, (double)total / 1048576.0,
		total ? 100.0 * (double)done / (double)total : 100.0,
		seconds > 0 ? mb / seconds : 0.0);
}

int bk_upload_offsite(const char *path)
{
	const char *base = strrchr(path, '/');
	struct bk_s3 s;
	struct bk_s3_stat st;
	char *key = NULL, *where = NULL;
	int ret = -1;

	base = base ? base + 1 : path;
	if (bk_s3_open(&s) < 0)
		return -1;
	key = bk_s3_key(&s, base);
	where = bk_s3_display(&s, key);
	bk_info("upload: %s to %s at %s", path, where, s.endpoint);
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
