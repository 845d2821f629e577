/* bk-mail: mail the backup, a failure alert or a test message to the admins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "mail.h"

static const char *prog = "bk-mail";

static void usage(void)
{
	printf("usage: %s --backup FILE [--duration SECONDS] [--env-file FILE]\n"
	       "       %s --alert SUBJECT [--reason TEXT] [--env-file FILE]\n"
	       "       %s --test [--env-file FILE]\n"
	       "\n"
	       "Mail a backup archive with its summary (attached, or as a download link\n"
	       "when too large), a failure alert, or a test message to every address in\n"
	       "ADMIN_EMAILS, by SMTP or into BACKUP_MAIL_OUTBOX. Prints the Message-ID,\n"
	       "or the path of the .eml file written.\n"
	       "\n"
	       "  -b, --backup FILE       mail this archive and its summary\n"
	       "  -d, --duration SECONDS  how long the backup took, for the summary\n"
	       "      --restore-test TEXT the result of bk-run's restore test, for the\n"
	       "                          summary\n"
	       "  -a, --alert SUBJECT     mail a failure alert\n"
	       "  -r, --reason TEXT       what went wrong, for --alert\n"
	       "  -t, --test              mail a short test message\n"
	       "      --env-file FILE     read variables from FILE (.env syntax)\n"
	       "  -h, --help              show this help\n"
	       "      --version           show the version\n"
	       "\n"
	       "Exit status: 0 sent, 1 not sent, 2 usage or configuration error.\n",
	       prog, prog, prog);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "backup", required_argument, NULL, 'b' },
		{ "duration", required_argument, NULL, 'd' },
		{ "restore-test", required_argument, NULL, 'R' },
		{ "alert", required_argument, NULL, 'a' },
		{ "reason", required_argument, NULL, 'r' },
		{ "test", no_argument, NULL, 't' },
		BK_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const char *backup = NULL, *alert = NULL, *reason = NULL, *env_file = NULL;
	const char *restore_test = NULL;
	double duration = -1;
	int c, test = 0, modes, ret;
	char *product = NULL, *end;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "b:d:a:r:th", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			backup = optarg;
			break;
		case 'd':
			duration = strtod(optarg, &end);
			if (end == optarg || *end || duration < 0 || duration > 1e9)
				bk_usage_error(prog, "--duration: '%s' is not a number of seconds",
					       optarg);
			break;
		case 'R':
			restore_test = optarg;
			break;
		case 'a':
			alert = optarg;
			break;
		case 'r':
			reason = optarg;
			break;
		case 't':
			test = 1;
			break;
		default:
			bk_common_option(c, prog, argv, usage, &env_file);
		}
	}
	if (optind < argc)
		bk_usage_error(prog, "unexpected argument '%s'", argv[optind]);
	modes = !!backup + !!alert + test;
	if (modes != 1)
		bk_usage_error(prog, "give exactly one of --backup, --alert, --test");
	if (reason && !alert)
		bk_usage_error(prog, "--reason goes with --alert");
	if (duration >= 0 && !backup)
		bk_usage_error(prog, "--duration goes with --backup");
	if (restore_test && !backup)
		bk_usage_error(prog, "--restore-test goes with --backup");
	if (alert && !*alert)
		bk_usage_error(prog, "--alert: the subject is empty");
	for (const char *p = alert; p && *p; p++)
		if ((unsigned char)*p < 32 || *p == 127)
			bk_usage_error(prog, "--alert: the subject contains a %s",
				       *p == '\r' || *p == '\n' ? "line break" : "control character");

	bk_start(prog, env_file);
	if (bk_mail_config_check() < 0) {
		bk_log_err();
		return bk_finish(BK_EXIT_USAGE);
	}
	if (backup)
		ret = bk_mail_send_backup_tested(backup, duration, restore_test, &product);
	else if (alert)
		ret = bk_mail_send_alert(alert, reason, &product);
	else
		ret = bk_mail_send_test(&product);
	if (ret < 0)
		bk_die(BK_EXIT_FAIL);
	bk_emit(product);
	free(product);
	return bk_finish(BK_EXIT_OK);
}
