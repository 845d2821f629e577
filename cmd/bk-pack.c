/*
 * bk-pack: pack a bk-export directory, the configuration files and a
 * BACKUP_INFO.txt into critical_backup_YYYYMMDD_HHMMSS.tar.gz; print its path.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive_write.h"
#include "cli.h"
#include "config.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "size.h"
#include "progress.h"

static const char *prog = "bk-pack";

static void __attribute__((noreturn)) usage(void)
{
	printf("usage: bk-pack [-o FILE] [--env-file FILE] DIR\n"
	       "\n"
	       "Pack the bk-export directory DIR, the configuration files and a\n"
	       "BACKUP_INFO.txt with restore steps into a .tar.gz archive, checking\n"
	       "every file against DIR/MANIFEST; print the archive's path.\n"
	       "\n"
	       "  -o, --output FILE   write FILE (default: $BACKUP_DIR/\n"
	       "                      critical_backup_YYYYMMDD_HHMMSS.tar.gz)\n"
	       "      --env-file FILE read variables from FILE (.env syntax)\n"
	       "  -h, --help          show this help and exit\n"
	       "      --version       show the version and exit\n"
	       "\n"
	       "Variables: BACKUP_DIR BACKUP_CONFIG_DIR BACKUP_CONFIG_FILES\n"
	       "BACKUP_GZIP_LEVEL BACKUP_SIGNING_KEY BACKUP_LOG TZ (see bk-pack(1)).\n"
	       "Exit status: 0 archive written, 1 failed, 2 usage or configuration error.\n");
	exit(bk_finish(BK_EXIT_OK));
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The first signal asks for a clean stop (temporary file removed); the
 * second one, back to the default action, ends the process at once. */
static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

struct progress {
	int tty;
	int drawn;
	double start, last_draw;
	unsigned long members;
};

/* Past this many members only the large or slow ones get a log line: a
 * database of 40,000 tables must not write 40,000 lines a night. */
#define LOG_EACH 100
#define LOG_BYTES (1ULL << 20)
#define LOG_SECONDS 1.0

/* On a terminal a progress line that redraws itself; in any case a log line
 * per member (past LOG_EACH, per large or slow member), so a slow night can
 * be read from the log. */
static void progress(void *ctx, const struct bk_aw_progress *p)
{
	struct progress *pr = ctx;
	double now = bk_monotonic(), secs;
	char done_s[BK_SIZE_BUF], total_s[BK_SIZE_BUF], rate_s[BK_SIZE_BUF];

	if (p->member_done) {
		if (pr->drawn)
			fputs("\r\033[K", stderr);
		pr->drawn = 0;
		if (++pr->members <= LOG_EACH || p->member_bytes >= LOG_BYTES ||
		    p->member_seconds >= LOG_SECONDS)
			bk_info("packed %s: %llu bytes in %.2f s", p->member, p->member_bytes,
				p->member_seconds);
		if (pr->members == LOG_EACH)
			bk_info("%d members packed; from now on only those of 1 MB or more, "
				"or slower than a second, are logged", LOG_EACH);
		return;
	}
	if (!pr->tty) {
		bk_progress_update(p->done, p->total, 0, 0, NULL);	/* to bk-run, if asked */
		return;
	}
	if (now - pr->last_draw < 0.25)
		return;
	pr->last_draw = now;
	secs = now - pr->start;
	fprintf(stderr, "\r\033[Kpacking %s  %s of %s  %s", p->member,
		bk_format_size(p->done, done_s, sizeof(done_s)),
		bk_format_size(p->total, total_s, sizeof(total_s)),
		bk_format_rate(secs > 0 ? (double)p->done / secs : 0, rate_s, sizeof(rate_s)));
	pr->drawn = 1;
}

/* Is path (which may not exist yet) inside dir? Compared by real paths of
 * the deepest part that exists, so links and ".." do not fool it. */
static int inside(const char *path, const char *dir)
{
	char real_dir[PATH_MAX], real[PATH_MAX];
	char *p = bk_xstrdup(path);
	size_t n;
	int ret = 0;

	if (!realpath(dir, real_dir))
		goto out;
	while (!realpath(p, real)) {
		char *slash = strrchr(p, '/');

		if (errno != ENOENT || !slash || slash == p)
			goto out;
		*slash = '\0';
	}
	n = strlen(real_dir);
	ret = !strcmp(real_dir, "/") || (!strncmp(real, real_dir, n) &&
					  (real[n] == '\0' || real[n] == '/'));
out:
	free(p);
	return ret;
}

static char *absolute(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return bk_xstrdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		bk_fatal(BK_EXIT_FAIL, "cannot find the current directory: %s", strerror(errno));
	return bk_path_join(cwd, path);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		BK_COMMON_LONGOPTS,
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	const char *output = NULL, *env_file = NULL, *dir;
	struct progress pr = { 0 };
	struct bk_pack_result res;
	struct bk_pack_opts o;
	char *path, *out_dir, *copy;
	long long now;
	struct stat st;
	int c, rc;

	while ((c = bk_getopt(argc, argv, ":ho:", longopts)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		default:
			bk_common_option(c, prog, argv, usage, &env_file);
		}
	}
	if (optind == argc)
		bk_usage_error(prog, "missing export directory: give the directory bk-export made");
	if (argc - optind > 1)
		bk_usage_error(prog, "too many arguments: one export directory");
	dir = argv[optind];
	if (!*dir)
		bk_usage_error(prog, "the export directory is an empty string");
	if (output && !*output)
		bk_usage_error(prog, "-o needs a file name");

	bk_start(prog, env_file);
	tzset();	/* TZ may come from the env file */
	now = (long long)time(NULL);
	if (output) {
		path = absolute(output);
	} else {
		char stamp[16];
		char *name, *bdir = absolute(bk_config.dir);

		bk_stamp_name(now, stamp);
		name = bk_asprintf("critical_backup_%s.tar.gz", stamp);
		path = bk_path_join(bdir, name);
		free(name);
		free(bdir);
	}
	if (inside(path, dir))
		bk_fatal(BK_EXIT_USAGE, "the archive %s would be inside the export directory %s",
			 path, dir);
	copy = bk_xstrdup(path);
	out_dir = dirname(copy);
	if (stat(out_dir, &st) < 0 && errno == ENOENT && bk_mkdir_p(out_dir, 0700) < 0)
		bk_die(BK_EXIT_FAIL);

	catch_signals();
	pr.tty = isatty(STDERR_FILENO);
	pr.start = bk_monotonic();
	o = (struct bk_pack_opts){
		.export_dir = dir,
		.archive_path = path,
		.config_dir = bk_config.config_dir,
		.config_files = bk_config.config_files,
		.gzip_level = bk_config.gzip_level,
		.when = now,
		.progress = progress,
		.progress_ctx = &pr,
		.stop = &stop,
		.sign_key = bk_config.signing_key,
	};
	if (!pr.tty)
		bk_progress_phase("pack");
	rc = bk_pack(&o, &res);
	if (pr.drawn)
		fputs("\r\033[K", stderr);
	if (rc < 0)
		bk_die(rc == -2 ? BK_EXIT_USAGE : BK_EXIT_FAIL);
	{
		double secs = bk_monotonic() - pr.start;
		char out_s[BK_SIZE_BUF], in_s[BK_SIZE_BUF], rate_s[BK_SIZE_BUF];

		bk_info("wrote %s: %s from %s in %zu files, %.1f s (%s)%s", path,
			bk_format_size(res.out_bytes, out_s, sizeof(out_s)),
			bk_format_size(res.in_bytes, in_s, sizeof(in_s)), res.members, secs,
			bk_format_rate(secs > 0 ? (double)res.in_bytes / secs : 0, rate_s,
				       sizeof(rate_s)),
			res.warnings ? " with warnings" : "");
	}
	if (res.key_id[0])
		bk_info("MANIFEST signed by key ID %s", res.key_id);
	else
		bk_info("MANIFEST not signed: BACKUP_SIGNING_KEY is not set");
	bk_emit(path);
	free(copy);
	free(path);
	return bk_finish(BK_EXIT_OK);
}
