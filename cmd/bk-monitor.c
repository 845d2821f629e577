/* bk-monitor: is the backup healthy? One status line from the status files in
 * $BACKUP_DIR; the container healthcheck and the hourly alert. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "monitor.h"
#include "serve.h"

static const char *prog = "bk-monitor";

static void usage(void)
{
	printf("usage: %s [--alert] [--json] [--prometheus FILE] [--env-file FILE]\n"
	       "       %s --serve [ADDR:]PORT [--prometheus FILE] [--env-file FILE]\n"
	       "       %s --watch --prometheus FILE [--env-file FILE]\n"
	       "\n"
	       "Check the backups in BACKUP_DIR from the status files alone (no network,\n"
	       "no database) and print one status line.\n"
	       "\n"
	       "  -a, --alert        when unhealthy, mail an alert with bk-mail, once per\n"
	       "                     incident; mail once more when healthy again\n"
	       "  -j, --json         print a JSON object instead of the status line\n"
	       "  -p, --prometheus FILE  also write node_exporter textfile metrics to FILE\n"
	       "  -s, --serve [ADDR:]PORT  serve GET /health, /metrics and /status over\n"
	       "                     HTTP until SIGTERM; ADDR defaults to 127.0.0.1;\n"
	       "                     with --prometheus, FILE is rewritten every minute\n"
	       "  -w, --watch        no HTTP: rewrite the --prometheus FILE every minute\n"
	       "                     until SIGTERM\n"
	       "      --env-file FILE  read variables from FILE (.env syntax)\n"
	       "  -h, --help         show this help\n"
	       "      --version      show the version\n"
	       "\n"
	       "Exit status: 0 healthy, 1 unhealthy (or an alert or FILE not written),\n"
	       "2 usage or configuration. --serve and --watch: 0 after SIGTERM, 1 when\n"
	       "the address cannot be listened on.\n",
	       prog, prog, prog);
}

static int serve_addr_check(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return bk_serve_parse_addr("--serve", spec, &ss, &len);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "alert", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", required_argument, NULL, 'p' },
		{ "serve", required_argument, NULL, 's' },
		{ "watch", no_argument, NULL, 'w' },
		BK_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const char *env_file = NULL, *prom = NULL, *serve = NULL;
	int c, alert = 0, json = 0, watch = 0, code;
	struct bk_health h;
	char *out;

	while ((c = bk_getopt(argc, argv, ":ajp:s:wh", longopts)) != -1) {
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
		case 's':
			serve = optarg;
			break;
		case 'w':
			watch = 1;
			break;
		default:
			bk_common_option(c, prog, argv, usage, &env_file);
		}
	}
	if (optind < argc)
		bk_usage_error(prog, "unexpected argument '%s'", argv[optind]);
	if ((serve || watch) && (alert || json))
		bk_usage_error(prog, "--serve and --watch take no --alert or --json");
	if (watch && !prom)
		bk_usage_error(prog, "--watch needs --prometheus FILE");
	if (serve && serve_addr_check(serve) < 0)
		bk_usage_error(prog, "%s", bk_err());
	bk_start(prog, env_file);
	if (serve || watch) {
		code = bk_serve(bk_config.dir, serve, prom);
		if (code)
			bk_log_err();
		return bk_finish(code);
	}

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
