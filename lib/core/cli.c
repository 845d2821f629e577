/* Program scaffolding shared by every tool (see cli.h). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "err.h"
#include "log.h"

void bk_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
	exit(BK_EXIT_USAGE);
}

static int is_long(const char *arg)
{
	return arg[0] == '-' && arg[1] == '-';
}

/* A long option as typed, without "=VALUE". */
static void long_name(const char *arg, char *buf, size_t size)
{
	snprintf(buf, size, "%.*s", (int)strcspn(arg, "="), arg);
}

static const struct option *longopts_seen;

int bk_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	char opts[64];

	opterr = 0;
	longopts_seen = longopts;
	snprintf(opts, sizeof(opts), "%s%s", *shortopts == ':' ? "" : ":", shortopts);
	return getopt_long(argc, argv, opts, longopts, NULL);
}

/* Two or more long options start with name (--NAME as typed): exit 2
 * naming them; else return. */
static void ambiguous(const char *prog, const char *name)
{
	char list[512] = "";
	size_t n = strlen(name + 2), len = 0;
	int hits = 0;

	for (const struct option *o = longopts_seen; o && o->name; o++) {
		if (strncmp(o->name, name + 2, n))
			continue;
		hits++;
		len += (size_t)snprintf(list + len, len < sizeof(list) ? sizeof(list) - len : 0,
					"%s--%s", hits > 1 ? ", " : "", o->name);
	}
	if (hits > 1 && n)
		bk_usage_error(prog, "option %s is ambiguous: %s", name, list);
}

void bk_bad_option(const char *prog, char **argv)
{
	const char *arg = argv[optind - 1];
	char name[128];

	/* An unknown long option leaves optopt 0; a known one given "=VALUE"
	 * that takes none sets it to the option's value. An unknown short
	 * option sets it to the letter (argv[optind - 1] is not always the
	 * word it sits in: "-xn" is still being read). */
	if (!optopt || (is_long(arg) && strchr(arg, '='))) {
		long_name(arg, name, sizeof(name));
		if (optopt)
			bk_usage_error(prog, "option %s takes no argument", name);
		if (is_long(arg))
			ambiguous(prog, name);
		bk_usage_error(prog, "unknown option %s", name);
	}
	bk_usage_error(prog, "unknown option -%c", optopt);
}

void bk_missing_option_argument(const char *prog, char **argv)
{
	const char *arg = argv[optind - 1];	/* the last word: nothing followed it */
	char name[128];

	if (is_long(arg)) {
		long_name(arg, name, sizeof(name));
		bk_usage_error(prog, "option %s needs an argument", name);
	}
	bk_usage_error(prog, "option -%c needs an argument", optopt);
}

void bk_missing_archive(const char *prog)
{
	bk_usage_error(prog, "missing archive: give the path of a backup (.tar.gz or .tar.gz.age)");
}

void bk_common_option(int c, const char *prog, char **argv, void (*usage)(void),
		      const char **env_file)
{
	switch (c) {
	case 'h':
		usage();
		exit(bk_finish(BK_EXIT_OK));
	case BK_OPT_VERSION:
		bk_print_version(prog);
	case BK_OPT_ENV_FILE:
		*env_file = optarg;
		return;
	case ':':
		bk_missing_option_argument(prog, argv);
	default:
		bk_bad_option(prog, argv);
	}
}

void bk_print_version(const char *prog)
{
	printf("%s (bk) %s\n", prog, BK_VERSION);
	exit(bk_finish(BK_EXIT_OK));
}

void bk_start(const char *prog, const char *env_file)
{
	signal(SIGPIPE, SIG_IGN);
	bk_log_open(prog, NULL);
	if (bk_config_load(env_file) < 0) {
		const char *log = getenv("BACKUP_LOG");

		if (log && *log)
			bk_log_open(prog, log);
		bk_err_prefix("configuration");
		bk_die(BK_EXIT_USAGE);	/* the message, and its hint when there is one */
	}
	bk_log_open(prog, bk_config.log_path);
}

void bk_emit(const char *line)
{
	fputs(line, stdout);
	fputc('\n', stdout);
}

int bk_finish(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		bk_error("cannot write to standard output: %s", strerror(errno));
		return BK_EXIT_FAIL;
	}
	return code;
}

double bk_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bk_stamp_name(long long t, char buf[16])
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	strftime(buf, 16, "%Y%m%d_%H%M%S", &tm);
}
