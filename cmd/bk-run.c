/* bk-run: the nightly backup: export, pack, verify, mail, status, prune. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "entrypoint.h"
#include "progress.h"
#include "run.h"

static const char *prog = "bk-run";

static void usage(void)
{
	printf("usage: %s [--no-mail] [--dry-run] [--env-file FILE]\n"
	       "       %s --entrypoint [--env-file FILE]\n"
	       "\n"
	       "Run the whole backup: lock, check space, bk-export, bk-pack, bk-verify,\n"
	       "bk-mail, status files, bk-prune. Prints the archive path on success.\n"
	       "\n"
	       "      --no-mail      do not mail the backup or alerts\n"
	       "  -n, --dry-run      check configuration, space and database, show what\n"
	       "                     would be backed up (bk-export --plan); change nothing\n"
	       "      --entrypoint   container start: check the configuration, write the\n"
	       "                     jobs' env file and crontab, run the schedule\n"
	       "                     (BACKUP_SCHEDULE, hourly bk-monitor --alert)\n"
	       "      --env-file FILE  read variables from FILE (.env syntax)\n"
	       "  -h, --help         show this help\n"
	       "      --version      show the version\n"
	       "\n"
	       "Exit status: 0 backup made and verified, 1 failed, 2 usage or configuration.\n",
	       prog, prog);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "no-mail", no_argument, NULL, 'M' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "entrypoint", no_argument, NULL, 'E' },
		BK_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct bk_run_opts opts = { 0 };
	const char *env_file = NULL;
	char *archive = NULL;
	int c, code, entrypoint = 0;

	while ((c = bk_getopt(argc, argv, ":nh", longopts)) != -1) {
		switch (c) {
		case 'M':
			opts.no_mail = 1;
			break;
		case 'n':
			opts.dry_run = 1;
			break;
		case 'E':
			entrypoint = 1;
			break;
		default:
			bk_common_option(c, prog, argv, usage, &env_file);
		}
	}
	if (optind < argc)
		bk_usage_error(prog, "unexpected argument '%s'", argv[optind]);
	if (entrypoint && (opts.no_mail || opts.dry_run))
		bk_usage_error(prog, "--entrypoint takes no other option but --env-file");
	bk_start(prog, env_file);
	if (entrypoint)
		return bk_finish(bk_entrypoint());
	bk_progress_relay_begin();
	code = bk_run(&opts, &archive);
	bk_progress_end();
	if (archive)
		bk_emit(archive);
	free(archive);
	return bk_finish(code);
}
