/* bk-export: dump the backup scope of the database into a directory. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "err.h"
#include "export.h"
#include "log.h"
#include "progress.h"
#include "scope.h"

static const char *prog = "bk-export";

static void usage(void)
{
	printf("usage: %s [-o DIR] [--env-file FILE]\n"
	       "       %s --plan [--env-file FILE]\n"
	       "\n"
	       "Dump every table of the database from one snapshot into DIR, in full,\n"
	       "windowed or schema only as the scope's rules say: schema.sql and\n"
	       "schema-post.sql (pg_dump), .sql files of COPY blocks, .csv files for\n"
	       "windows, referenced.sql, sequences.sql, and MANIFEST, written last.\n"
	       "Prints the directory's path.\n"
	       "\n"
	       "  -o, --output DIR   export into DIR (created if missing; files there are\n"
	       "                     never overwritten); default: a new directory\n"
	       "                     bk-export.XXXXXX under BACKUP_TMPDIR\n"
	       "      --plan         print the class of every table (full, window, added,\n"
	       "                     omitted) and exit without exporting\n"
	       "      --env-file FILE  read variables from FILE (.env syntax)\n"
	       "  -h, --help         show this help\n"
	       "      --version      show the version\n"
	       "\n"
	       "The scope is built in (see bk-export(1)) or read from BACKUP_SCOPE;\n"
	       "BACKUP_STRICT=1 makes a listed table that does not exist, and drift\n"
	       "since the previous archive in BACKUP_DIR, an error.\n"
	       "\n"
	       "Exit status: 0 exported, 1 failed, 2 usage, configuration or scope error.\n",
	       prog, prog);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "plan", no_argument, NULL, 'P' },
		BK_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct bk_export_opts opts = { 0 };
	struct bk_scope scope;
	const char *env_file = NULL;
	char *dir = NULL;
	int c, ret, plan = 0;

	while ((c = bk_getopt(argc, argv, ":o:h", longopts)) != -1) {
		switch (c) {
		case 'o':
			if (!*optarg)
				bk_usage_error(prog, "-o needs a directory");
			opts.out_dir = optarg;
			break;
		case 'P':
			plan = 1;
			break;
		default:
			bk_common_option(c, prog, argv, usage, &env_file);
		}
	}
	if (plan && opts.out_dir)
		bk_usage_error(prog, "--plan exports nothing: it takes no -o");
	if (optind < argc)
		bk_usage_error(prog, "unexpected argument '%s'", argv[optind]);
	bk_start(prog, env_file);

	if (bk_scope_load(&scope, bk_config.scope_file) < 0)
		bk_die(BK_EXIT_USAGE);
	opts.scope = &scope;
	opts.tmpdir = bk_config.tmpdir;
	opts.strict = bk_config.strict;
	opts.progress = bk_progress_on();
	opts.window_timezone = bk_config.window_timezone;
	opts.drift_drop_percent = bk_config.drift_drop_percent;
	opts.backup_dir = bk_config.dir;
	if (plan) {
		ret = bk_export_plan(&opts, stdout);
		bk_scope_free(&scope);
		if (ret != BK_EXPORT_OK)
			bk_die(ret == BK_EXPORT_SCOPE ? BK_EXIT_USAGE : BK_EXIT_FAIL);
		return bk_finish(BK_EXIT_OK);
	}
	ret = bk_export(&opts, &dir);
	bk_scope_free(&scope);
	if (ret != BK_EXPORT_OK)
		bk_die(ret == BK_EXPORT_SCOPE ? BK_EXIT_USAGE : BK_EXIT_FAIL);
	bk_emit(dir);
	free(dir);
	return bk_finish(BK_EXIT_OK);
}
