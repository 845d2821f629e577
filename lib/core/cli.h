/*
 * What every program does the same way: --help/--version/--env-file, usage
 * errors (exit 2), loading the configuration and the log, a checked stdout.
 */
#ifndef BK_CLI_H
#define BK_CLI_H

#include <getopt.h>

/* Exit codes shared by every tool (man/bk.7). */
enum { BK_EXIT_OK = 0, BK_EXIT_FAIL = 1, BK_EXIT_USAGE = 2 };

/* Long-option values for the options every tool has. */
enum { BK_OPT_ENV_FILE = 0x1000, BK_OPT_VERSION };
#define BK_COMMON_LONGOPTS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, BK_OPT_VERSION }, \
	{ "env-file", required_argument, NULL, BK_OPT_ENV_FILE }

/* One line "prog: message" on stderr, then the --help hint; exit 2. */
void bk_usage_error(const char *prog, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
/*
 * getopt_long as every tool calls it: no messages of getopt's own, ':' for
 * a missing argument and '?' for the rest (the optstring needs no leading
 * ':'), and the table kept so a bad option can be explained.
 */
int bk_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
/* For '?': "unknown option --frob", "option --re is ambiguous: --restore,
 * --replace" or "option --x takes no argument"; exit 2. */
void bk_bad_option(const char *prog, char **argv) __attribute__((noreturn));
/* For ':': "option --backup needs an argument"; exit 2. */
void bk_missing_option_argument(const char *prog, char **argv) __attribute__((noreturn));
/* The one wording for an archive operand (or --backup ARCHIVE) not given; exit 2. */
void bk_missing_archive(const char *prog) __attribute__((noreturn));
/*
 * The options every tool has, for the default: of its getopt_long switch:
 * 'h' prints usage() and exits 0, --version exits 0, --env-file sets *env_file,
 * ':' and anything else is a usage error (exit 2).
 */
void bk_common_option(int c, const char *prog, char **argv, void (*usage)(void),
		      const char **env_file);
/* "prog (bk) VERSION" on stdout; exit 0. */
void bk_print_version(const char *prog) __attribute__((noreturn));

/* Ignore SIGPIPE, load the configuration (exit 2 naming the bad variable),
 * open the log. Call after option parsing. */
void bk_start(const char *prog, const char *env_file);

/* Print one product line (a path) on stdout. */
void bk_emit(const char *line);
/* Flush stdout; a failed write turns a success into exit 1. Returns the code to exit with. */
int bk_finish(int code);

/* Seconds since an arbitrary point, for durations. */
double bk_monotonic(void);
/* Local time as YYYYMMDD_HHMMSS for archive names. */
void bk_stamp_name(long long t, char buf[16]);

#endif
