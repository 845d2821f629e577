/*
 * bk-fetch: list or download an archive from the off-site bucket
 * (BACKUP_S3_URL), verify it as bk-verify does, and only then give it its
 * final name, so that on a new host `bk-unpack --restore "$(bk-fetch --latest)"`
 * is the whole disaster recovery.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive_read.h"
#include "cli.h"
#include "config.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "s3.h"
#include "s3_archives.h"
#include "verify.h"

static const char *prog = "bk-fetch";

static void usage(void)
{
	printf("usage: %s [--latest | NAME] [-o FILE] [-i IDENTITY]\n"
	       "                [--verify-key FILE] [--env-file FILE]\n"
	       "       %s --list [--all] [--env-file FILE]\n"
	       "\n"
	       "Download the archive NAME (critical_backup_YYYYMMDD_HHMMSS.tar.gz, or\n"
	       "its .age) or the newest one (--latest) from the installation's prefix of\n"
	       "BACKUP_S3_URL to a temporary name, verify it as bk-verify does\n"
	       "(signature with BACKUP_VERIFY_KEY, a .age read with its identity), then\n"
	       "rename it to its final name and print that path. An archive that does not\n"
	       "verify is removed: nothing is left under the final name.\n"
	       "\n"
	       "  -l, --latest         the newest archive under the prefix\n"
	       "  -o, --output FILE    the final name (or a directory to put it in);\n"
	       "                       default: BACKUP_DIR/NAME, never replaced\n"
	       "      --list           print the archives under the prefix, newest first:\n"
	       "                       name, bytes, time stored (UTC)\n"
	       "  -a, --all            with --list: every prefix of the bucket, full keys\n"
	       "  -i, --identity FILE  age identity file for a .age archive (default:\n"
	       "                       BACKUP_AGE_IDENTITY_FILE)\n"
	       "      --verify-key FILE\n"
	       "                       check the signature with this minisign public key\n"
	       "                       (instead of BACKUP_VERIFY_KEY)\n"
	       "      --env-file FILE  read variables from FILE (.env syntax)\n"
	       "  -h, --help           show this help\n"
	       "      --version        show the version\n"
	       "\n"
	       "Exit status: 0 done, 1 failed (no such archive, the store refused, the\n"
	       "archive does not verify), 2 usage or configuration.\n",
	       prog, prog);
}

struct opts {
	const char *name, *output, *identity, *verify_key, *env_file;
	int latest, list, all;
};

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "latest", no_argument, NULL, 'l' },
		{ "list", no_argument, NULL, 'L' },
		{ "all", no_argument, NULL, 'a' },
		{ "output", required_argument, NULL, 'o' },
		{ "identity", required_argument, NULL, 'i' },
		{ "verify-key", required_argument, NULL, 'K' },
		BK_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = bk_getopt(argc, argv, "lao:i:h", longopts)) != -1) {
		switch (c) {
		case 'l':
			o->latest = 1;
			break;
		case 'L':
			o->list = 1;
			break;
		case 'a':
			o->all = 1;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'i':
			o->identity = optarg;
			break;
		case 'K':
			o->verify_key = optarg;
			break;
		default:
			bk_common_option(c, prog, argv, usage, &o->env_file);
		}
	}
	if (optind < argc)
		o->name = argv[optind++];
	if (optind < argc)
		bk_usage_error(prog, "unexpected argument '%s'", argv[optind]);
	if (o->list && (o->latest || o->name || o->output))
		bk_usage_error(prog, "--list takes no archive and no -o");
	if (o->all && !o->list)
		bk_usage_error(prog, "--all goes with --list");
	if (!o->list && !o->latest && !o->name)
		bk_usage_error(prog, "missing archive NAME (or --latest, or --list)");
	if (o->latest && o->name)
		bk_usage_error(prog, "--latest and NAME '%s' exclude each other", o->name);
	if (o->name && (!*o->name || strchr(o->name, '/')))
		bk_usage_error(prog, "NAME must be an archive's name, not '%s'", o->name);
	if (o->output && !*o->output)
		bk_usage_error(prog, "-o needs a file name");
	if (o->verify_key && !*o->verify_key)
		bk_usage_error(prog, "--verify-key needs a file name");
}

static void print_list(const struct bk_s3_archives *a, int all)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct bk_s3_archive *e = &a->v[i];
		char when[32] = "-";
		struct tm tm;

		if (e->mtime && gmtime_r(&e->mtime, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		printf("%-44s %12llu %s\n", all ? e->key : e->name, e->size, when);
	}
}

/* The archive asked for, or NULL with a message naming what is missing. */
static const struct bk_s3_archive *choose(const struct bk_s3 *s, const struct bk_s3_archives *a,
					  const struct opts *o)
{
	const struct bk_s3_archive *e;
	char *where = bk_s3_display(s, s->prefix);

	if (!a->n) {
		bk_err_set("no archive under %s (%zu other objects there)", where, a->n_other);
		bk_err_hint("check BACKUP_S3_URL: 'bk-fetch --list --all' shows every prefix");
		free(where);
		return NULL;
	}
	e = o->latest ? &a->v[0] : bk_s3_archives_find(a, o->name);
	if (!e) {
		bk_err_set("no archive %s under %s", o->name, where);
		bk_err_hint("the newest there is %s ('bk-fetch --list' shows them all)",
			    a->v[0].name);
	}
	free(where);
	return e;
}

/* Where the archive goes: -o FILE, a name in -o DIR, or BACKUP_DIR/NAME. */
static char *final_path(const struct opts *o, const char *name, int *replace)
{
	struct stat st;

	*replace = o->output != NULL;
	if (o->output && stat(o->output, &st) == 0 && S_ISDIR(st.st_mode))
		return bk_path_join(o->output, name);
	if (o->output)
		return bk_xstrdup(o->output);
	if (bk_mkdir_p(bk_config.dir, 0700) < 0 ||
	    bk_dir_check_private("BACKUP_DIR", bk_config.dir) < 0)
		return NULL;
	return bk_path_join(bk_config.dir, name);
}

static int verify(const char *path, const char *shown)
{
	struct bk_verify_report rep;
	int ret = bk_verify_archive(path, &rep);

	for (size_t i = 0; ret == 0 && i < rep.n_warnings; i++)
		bk_warn("%s", rep.warnings[i]);
	if (ret < 0)
		bk_err_set("%s does not verify: %s", shown, rep.reason);
	else
		bk_info("%s is intact: %zu files, %llu rows", shown, rep.n_files, rep.rows);
	bk_verify_report_free(&rep);
	return ret;
}

/* A signal during the download or verification removes the temporary file:
 * unlink(2) and _exit(2) are safe in a handler. */
static const char *volatile tmp_to_remove;

static void on_signal(int sig)
{
	if (tmp_to_remove)
		unlink(tmp_to_remove);
	_exit(128 + sig);
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Download e to a temporary name next to path, verify, rename. */
static int fetch(const struct bk_s3 *s, const struct bk_s3_archive *e, const char *path,
		 int replace)
{
	struct bk_afile f = { .fd = -1 };
	char *shown = bk_s3_display(s, e->key);
	unsigned long long bytes = 0;
	double t0 = bk_monotonic();
	struct stat st;
	int ret = -1;

	if (!replace && access(path, F_OK) == 0) {
		bk_err_set("%s exists: not replaced", path);
		bk_err_hint("remove it, or name another file with -o FILE");
		goto out;
	}
	if (bk_afile_open(&f, path, 0600) < 0)
		goto out;
	tmp_to_remove = f.tmp_path;
	bk_info("downloading %s (%llu bytes) to %s", shown, e->size, f.tmp_path);
	if (bk_s3_get(s, e->key, f.fd, &bytes) < 0)
		goto out;
	/* The file's size too: a GET retried after a broken body must not
	 * leave the first attempt's bytes in front of the second's. */
	if (bytes != e->size || fstat(f.fd, &st) < 0 || (unsigned long long)st.st_size != e->size) {
		bk_err_set("%s: got %llu bytes, the listing says %llu", shown, bytes, e->size);
		goto out;
	}
	if (verify(f.tmp_path, shown) < 0)
		goto out;
	if (!replace && access(path, F_OK) == 0) {
		bk_err_set("%s appeared while downloading: not replaced", path);
		goto out;
	}
	tmp_to_remove = NULL;	/* commit frees the name */
	if (bk_afile_commit(&f) < 0)
		goto out;
	bk_info("fetched %s to %s: %llu bytes in %.1f s", shown, path, bytes,
		bk_monotonic() - t0);
	ret = 0;
out:
	bk_afile_abort(&f);
	tmp_to_remove = NULL;
	free(shown);
	return ret;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct bk_s3 s;
	struct bk_s3_archives a;
	const struct bk_s3_archive *e;
	char *path = NULL;
	int code = BK_EXIT_FAIL, replace;

	parse(argc, argv, &o);
	bk_start(prog, o.env_file);
	catch_signals();
	if (!bk_s3_configured())
		bk_fatal(BK_EXIT_USAGE, "configuration: BACKUP_S3_URL is not set: nowhere to "
			 "fetch from");
	if (bk_ar_use_identity(o.identity) < 0 ||
	    (o.verify_key && bk_config_verify_key_file(o.verify_key) < 0))
		bk_die(BK_EXIT_USAGE);
	if (bk_s3_open(&s) < 0)
		bk_die(BK_EXIT_USAGE);
	if (bk_s3_archives_list(&s, o.all, &a) < 0) {
		bk_log_err();
		bk_s3_close(&s);
		return bk_finish(BK_EXIT_FAIL);
	}
	if (o.list) {
		print_list(&a, o.all);
		code = BK_EXIT_OK;
	} else if (!(e = choose(&s, &a, &o))) {
		bk_log_err();
	} else if (!(path = final_path(&o, e->name, &replace))) {
		bk_log_err();
	} else if (fetch(&s, e, path, replace) < 0) {
		bk_log_err();
	} else {
		bk_emit(path);
		code = BK_EXIT_OK;
	}
	free(path);
	bk_s3_archives_free(&a);
	bk_s3_close(&s);
	return bk_finish(code);
}
