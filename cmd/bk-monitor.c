/* bk-monitor: is the backup healthy? One status line from the status files in
 * $BACKUP_DIR; the container healthcheck and the hourly alert. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "fs.h"
#include "log.h"
#include "monitor.h"

static const char *prog = "bk-monitor";

static void usage(void)
{
	printf("usage: %s [--alert] [--json] [--prometheus FILE] [--env-file FILE]\n"
	       "\n"
	       "Check the backups in BACKUP_DIR from the status files alone (no network,\n"
	       "no database) and print one status line.\n"
	       "\n"
	       "  -a, --alert        when unhealthy, mail an alert with bk-mail, once per\n"
	       "                     incident; mail once more when healthy again\n"
	       "  -j, --json         print a JSON object instead of the status line\n"
	       "  -p, --prometheus FILE  also write node_exporter textfile metrics to FILE\n"
	       "      --env-file FILE  read variables from FILE (.env syntax)\n"
	       "  -h, --help         show this help\n"
	       "      --version      show the version\n"
	       "\n"
	       "Exit status: 0 healthy, 1 unhealthy (or an alert or FILE not written),\n"
	       "2 usage or configuration.\n",
	       prog);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "alert", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", required_argument, NULL, 'p' },
		BK_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const char *env_file = NULL, *prom = NULL;
	int c, alert = 0, json = 0, code;
	struct bk_health h;
	char *out;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ajp:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			alert = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'p':
			if (!*optarg)
				bk_usage_error(prog, "--prometheus needs a file name");
			prom = optarg;
			break;
		default:
			bk_common_option(c, prog, argv, usage, &env_file);
		}
	}
	if (optind < argc)
		bk_usage_error(prog, "unexpected argument '%s'", argv[optind]);
	bk_start(prog, env_file);

	bk_monitor_check(bk_config.dir, (long long)time(NULL), &h);
	code = h.healthy ? BK_EXIT_OK : BK_EXIT_FAIL;
	out = json ? bk_monitor_json(&h) : bk_monitor_line(&h);
	bk_emit(out);
	free(out);
	fflush(stdout);
	if (prom) {
		char *text = bk_monitor_prometheus(&h);

		if (bk_write_file_atomic(prom, text, strlen(text), 0644) < 0) {
			bk_log_err();
			code = BK_EXIT_FAIL;
		}
		free(text);
	}
	if (alert && bk_monitor_alert(bk_config.dir, &h) < 0) {
		bk_log_err();
		code = BK_EXIT_FAIL;
	}
	return bk_finish(code);
}
