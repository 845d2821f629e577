/* bk-prune: remove archives past BACKUP_RETENTION_DAYS from BACKUP_DIR, always
 * keeping the newest BACKUP_KEEP_MIN good ones and those of the GFS rules
 * (BACKUP_KEEP_DAILY/WEEKLY/MONTHLY). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "prune.h"
#include "s3.h"
#include "s3_prune.h"

static const char *prog = "bk-prune";

static void usage(void)
{
	printf("usage: %s [--dry-run] [--local] [--env-file FILE]\n"
	       "\n"
	       "Remove critical_backup_YYYYMMDD_HHMMSS.tar.gz archives in BACKUP_DIR more\n"
	       "than BACKUP_RETENTION_DAYS whole days old, but always keep the newest\n"
	       "BACKUP_KEEP_MIN archives that pass verification, and the newest good one\n"
	       "of each of the last BACKUP_KEEP_DAILY days, BACKUP_KEEP_WEEKLY ISO weeks\n"
	       "and BACKUP_KEEP_MONTHLY months that have one. No other file is touched.\n"
	       "With BACKUP_S3_URL, the same in the bucket: archives directly under its\n"
	       "prefix past BACKUP_S3_RETENTION_DAYS are deleted (never other objects).\n"
	       "Prints the path (s3://BUCKET/KEY in the bucket) of each archive removed.\n"
	       "\n"
	       "  -n, --dry-run      remove nothing; print one line for every archive:\n"
	       "                     keep|remove TAB PATH TAB why (see bk-prune(1))\n"
	       "  -l, --local        BACKUP_DIR only, not the bucket\n"
	       "      --env-file FILE  read variables from FILE (.env syntax)\n"
	       "  -h, --help         show this help\n"
	       "      --version      show the version\n"
	       "\n"
	       "Exit status: 0 done, 1 an archive could not be removed, BACKUP_DIR\n"
	       "not read, or fewer than BACKUP_KEEP_MIN archives pass verification (the\n"
	       "damaged ones are kept), 2 usage or configuration.\n",
	       prog);
}

static void print_removed(const char *path, int keep, const char *notes, void *ctx)
{
	(void)notes;
	(void)ctx;
	if (!keep)
		bk_emit(path);
}

/* The plan, for scripts too: three fields split by tabs; the first and
 * the notes' words are fixed (bk-prune(1)). */
static void print_verdict(const char *path, int keep, const char *notes, void *ctx)
{
	(void)ctx;
	printf("%s\t%s\t%s\n", keep ? "keep" : "remove", path, notes);
}

/*
 * "now": an undocumented knob lets tests and the docs' example show a plan
 * for fixed dates. Only with --dry-run: a real run never trusts it.
 */
static long long prune_now(int dry_run)
{
	const char *knob = getenv("BK_PRUNE_NOW");

	if (!dry_run || !knob || !*knob)
		return (long long)time(NULL);
	if (strspn(knob, "0123456789") != strlen(knob) || strlen(knob) > 12) {
		bk_error("BK_PRUNE_NOW: '%s' is not unix seconds", knob);
		exit(bk_finish(BK_EXIT_USAGE));
	}
	return atoll(knob);
}

/* The bucket's archives, when S3 is configured: the same decision, the
 * bucket's own retention (BACKUP_S3_RETENTION_DAYS). */
static int prune_bucket(const struct bk_prune_opts *local)
{
	struct bk_s3_prune_opts o = {
		.dry_run = local->dry_run,
		.now = local->now,
		.policy = { .retention_days = bk_config.s3_retention_days,
			    .keep_min = bk_config.keep_min,
			    .keep_daily = bk_config.keep_daily,
			    .keep_weekly = bk_config.keep_weekly,
			    .keep_monthly = bk_config.keep_monthly },
	};
	struct bk_s3 s;
	int ret;

	if (!bk_s3_configured())
		return 0;
	if (bk_s3_open(&s) < 0)
		return -1;
	ret = bk_s3_prune(&s, &o, o.dry_run ? print_verdict : print_removed, NULL);
	bk_s3_close(&s);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "local", no_argument, NULL, 'l' },
		BK_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct bk_prune_opts o = { 0 };
	const char *env_file = NULL;
	int c, code = BK_EXIT_OK, local_only = 0;

	while ((c = bk_getopt(argc, argv, ":lnh", longopts)) != -1) {
		switch (c) {
		case 'n':
			o.dry_run = 1;
			break;
		case 'l':
			local_only = 1;
			break;
		default:
			bk_common_option(c, prog, argv, usage, &env_file);
		}
	}
	if (optind < argc)
		bk_usage_error(prog, "unexpected argument '%s'", argv[optind]);
	bk_start(prog, env_file);

	if (bk_dir_check_private("BACKUP_DIR", bk_config.dir) < 0) {
		bk_err_prefix("configuration");
		bk_log_err();
		return bk_finish(BK_EXIT_USAGE);
	}
	o.now = prune_now(o.dry_run);
	o.retention_days = bk_config.retention_days;
	o.keep_min = bk_config.keep_min;
	o.keep_daily = bk_config.keep_daily;
	o.keep_weekly = bk_config.keep_weekly;
	o.keep_monthly = bk_config.keep_monthly;
	if (bk_prune(bk_config.dir, &o, o.dry_run ? print_verdict : print_removed, NULL) < 0) {
		bk_log_err();
		code = BK_EXIT_FAIL;
	}
	if (!local_only && prune_bucket(&o) < 0) {
		bk_log_err();
		code = BK_EXIT_FAIL;
	}
	return bk_finish(code);
}
