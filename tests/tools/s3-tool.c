/* Test-only driver for lib/deliver/s3 (the BACKUP_S3_* and AWS_* variables
 * say where), so shell tests can check the client against a real store and
 * an independent client. Not installed. Keys are full object keys.
 *
 *   s3-tool put KEY FILE            upload (multipart above the part size)
 *   s3-tool put-many PREFIX N FILE  upload FILE as PREFIX00000 ... (N objects)
 *   s3-tool get KEY FILE            download
 *   s3-tool head KEY                "SIZE SHA256" or "none" (exit 3)
 *   s3-tool list PREFIX             "KEY SIZE" lines, all pages
 *   s3-tool delete KEY
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "s3.h"

static int print_object(const struct bk_s3_object *o, void *ctx)
{
	(void)ctx;
	printf("%s %llu\n", o->key, o->size);
	return 0;
}

static int put_many(const struct bk_s3 *s, const char *prefix, int n, const char *file)
{
	for (int i = 0; i < n; i++) {
		char *key = bk_asprintf("%s%05d", prefix, i);
		int rc = bk_s3_put_file(s, key, file, NULL, NULL, NULL);

		free(key);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int run(const struct bk_s3 *s, int argc, char **argv)
{
	struct bk_s3_stat st;
	int fd, rc;

	if (argc == 4 && !strcmp(argv[1], "put"))
		return bk_s3_put_file(s, argv[2], argv[3], NULL, NULL, NULL);
	if (argc == 5 && !strcmp(argv[1], "put-many"))
		return put_many(s, argv[2], atoi(argv[3]), argv[4]);
	if (argc == 4 && !strcmp(argv[1], "get")) {
		if ((fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
			return bk_err_errno("cannot create %s", argv[3]);
		rc = bk_s3_get(s, argv[2], fd, NULL);
		close(fd);
		return rc;
	}
	if (argc == 3 && !strcmp(argv[1], "head")) {
		rc = bk_s3_head(s, argv[2], &st);
		if (rc == 1) {
			puts("none");
			return 3;
		}
		if (rc == 0)
			printf("%llu %s\n", st.size, st.sha256[0] ? st.sha256 : "-");
		return rc;
	}
	if (argc == 3 && !strcmp(argv[1], "list"))
		return bk_s3_list(s, argv[2], print_object, NULL);
	if (argc == 3 && !strcmp(argv[1], "delete"))
		return bk_s3_delete(s, argv[2]);
	fprintf(stderr, "usage: s3-tool put|put-many|get|head|list|delete ...\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct bk_s3 s;
	int rc;

	bk_log_open("s3-tool", NULL);
	if (bk_config_load(NULL) < 0 || bk_s3_open(&s) < 0)
		bk_die(2);
	rc = run(&s, argc, argv);
	bk_s3_close(&s);
	if (rc < 0)
		bk_die(1);
	if (fflush(stdout) != 0)
		return 1;
	return rc;
}
