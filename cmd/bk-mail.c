/* bk-mail: mail the backup, a failure alert or a test message to the admins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "mail.h"

enum { OPT_RESTORE_TEST = 256 };

static const char *prog = "bk-mail";

static void usage(void)
{
	printf("usage: %s --backup FILE [--duration SECONDS] [--env-file FILE]\n"
	       "       %s --alert SUBJECT [--reason TEXT] [--cause LIST] [--env-file FILE]\n"
	       "       %s --recovered SUBJECT [--reason TEXT] [--env-file FILE]\n"
	       "       %s --test [--env-file FILE]\n"
	       "\n"
	       "Mail a backup archive with its summary (attached, or as a download link\n"
	       "when too large), a failure alert, a recovery message or a test message to\n"
	       "every address in ADMIN_EMAILS, by SMTP or into BACKUP_MAIL_OUTBOX. Prints\n"
	       "the Message-ID, or the path of the .eml file written.\n"
	       "\n"
	       "  -b, --backup FILE       mail this archive and its summary\n"
	       "  -d, --duration SECONDS  how long the backup took, for the summary\n"
	       "      --restore-test TEXT the result of bk-run's restore test, for the\n"
	       "                          summary\n"
	       "  -a, --alert SUBJECT     mail a failure alert\n"
	       "  -c, --cause LIST        its kinds, for the hints: age none size space\n"
	       "                          missing dir status history clock failed:STEP\n"
	       "  -R, --recovered SUBJECT mail that an alerted problem is over\n"
	       "  -r, --reason TEXT       what went wrong, for --alert and --recovered\n"
	       "  -t, --test              mail a short test message\n"
	       "      --env-file FILE     read variables from FILE (.env syntax)\n"
	       "  -h, --help              show this help\n"
	       "      --version           show the version\n"
	       "\n"
	       "Exit status: 0 sent, 1 not sent, 2 usage or configuration error.\n",
	       prog, prog, prog, prog);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "backup", required_argument, NULL, 'b' },
		{ "duration", required_argument, NULL, 'd' },
		{ "restore-test", required_argument, NULL, OPT_RESTORE_TEST },
		{ "alert", required_argument, NULL, 'a' },
		{ "reason", required_argument, NULL, 'r' },
		{ "cause", required_argument, NULL, 'c' },
		{ "recovered", required_argument, NULL, 'R' },
		{ "test", no_argument, NULL, 't' },
		BK_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const char *backup = NULL, *alert = NULL, *reason = NULL, *env_file = NULL;
	const char *cause = NULL, *recovered = NULL;
	const char *restore_test = NULL;
	double duration = -1;
	int c, test = 0, modes, ret;
	char *product = NULL, *end;

	while ((c = bk_getopt(argc, argv, ":b:d:a:r:c:R:th", longopts)) != -1) {
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
		case OPT_RESTORE_TEST:
			restore_test = optarg;
			break;
		case 'a':
			alert = optarg;
			break;
		case 'r':
			reason = optarg;
			break;
		case 'c':
			cause = optarg;
			break;
		case 'R':
			recovered = optarg;
			break;
		case 't':
			test = 1;
			break;
		case ':':
			if (optopt == 'b')
				bk_missing_archive(prog);
			/* fall through */
		default:
			bk_common_option(c, prog, argv, usage, &env_file);
		}
	}
	if (optind < argc)
		bk_usage_error(prog, "unexpected argument '%s'", argv[optind]);
	modes = !!backup + !!alert + !!recovered + test;
	if (modes != 1)
		bk_usage_error(prog, "give exactly one of --backup, --alert, --recovered, --test");
	if (reason && !alert && !recovered)
		bk_usage_error(prog, "--reason goes with --alert or --recovered");
	if (cause && !alert)
		bk_usage_error(prog, "--cause goes with --alert");
	if (recovered)
		alert = recovered;
	if (duration >= 0 && !backup)
		bk_usage_error(prog, "--duration goes with --backup");
	if (restore_test && !backup)
		bk_usage_error(prog, "--restore-test goes with --backup");
	if (alert && !*alert)
		bk_usage_error(prog, "%s: the subject is empty", recovered ? "--recovered" : "--alert");
	for (const char *p = alert; p && *p; p++)
		if ((unsigned char)*p < 32 || *p == 127)
			bk_usage_error(prog, "%s: the subject contains a %s",
				       recovered ? "--recovered" : "--alert",
				       *p == '\r' || *p == '\n' ? "line break" : "control character");

	bk_start(prog, env_file);
	if (bk_mail_config_check() < 0) {
		bk_log_err();
		return bk_finish(BK_EXIT_USAGE);
	}
	if (backup)
		ret = bk_mail_send_backup_tested(backup, duration, restore_test, &product);
	else if (recovered)
		ret = bk_mail_send_recovered(recovered, reason, &product);
	else if (alert)
		ret = bk_mail_send_alert(alert, reason, cause, &product);
	else
		ret = bk_mail_send_test(&product);
	if (ret < 0)
		bk_die(BK_EXIT_FAIL);
	bk_emit(product);
	free(product);
	return bk_finish(BK_EXIT_OK);
}
