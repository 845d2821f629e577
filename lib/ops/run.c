/* The nightly run (see run.h and DESIGN.md "The nightly run"). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "age.h"
#include "archive_read.h"
#include "cli.h"
#include "config.h"
#include "cron.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "mail.h"
#include "manifest.h"
#include "pg.h"
#include "ping.h"
#include "progress.h"
#include "restore_test.h"
#include "child.h"
#include "run.h"
#include "s3.h"
#include "scope.h"
#include "sha256.h"
#include "spawn.h"
#include "status.h"
#include "monitor.h"
#include "size.h"
#include "upload.h"

#define INCOMING ".incoming"
#define MIN_FREE (64ULL << 20)

struct run {
	const struct bk_run_opts *opts;
	long long started;
	double t0;
	char *tmp;		/* private temp dir of this run */
	int tmp_lock;		/* flock on it for the run's life: it is not dead */
	char tmp_prefix[32];	/* "bk-run.HHHHHHHH.": the temp dirs of this BACKUP_DIR */
	char *incoming;		/* BACKUP_DIR/.incoming: archives before verification */
	char *pending;		/* archive written by bk-pack, not yet verified */
	char *pending_age;	/* its encrypted copy, not yet published */
	char *archive;		/* final path */
	unsigned long long bytes;
	const char *failed_step;
	char cause[1024];
	size_t warnings;	/* "# warning:" lines of the verified archive */
	char note[512];		/* the history's reason for an ok run: "N warnings: FIRST" */
	struct bk_rtest rtest;	/* the restore test's result (BACKUP_RESTORE_TEST) */
};

/* Map a failed step to the words of the spec's error table. */
static const char *alert_subject(const struct run *r)
{
	if (strstr(r->cause, "disk full") || strstr(r->cause, "No space left"))
		return "disk full";
	/* Refused at the start, or lost in the middle (server stopped, restarted). */
	if (!strcmp(r->failed_step, "export") &&
	    (strstr(r->cause, "cannot connect") ||
	     strstr(r->cause, "server closed the connection") ||
	     strstr(r->cause, "terminating connection") ||
	     strstr(r->cause, "no connection to the server")))
		return "database connection failed";
	if (!strcmp(r->failed_step, "pack"))
		return "backup compression failed";
	if (!strcmp(r->failed_step, "verify"))
		return "backup verification failed";
	if (!strcmp(r->failed_step, "encrypt"))
		return "backup encryption failed";
	if (!strcmp(r->failed_step, "restore-test"))
		return "restore test failed";
	if (!strcmp(r->failed_step, "mail"))
		return "email delivery failed";
	if (!strcmp(r->failed_step, "upload"))
		return "off-site copy failed";
	return NULL;
}

/* The steps after verify fail without losing the night's archive: the
 * alert and the log say so rather than "backup failed". */
static const char *archive_kept(const struct run *r)
{
	if (!strcmp(r->failed_step, "upload"))
		return "the local backup is verified and kept";
	if (!strcmp(r->failed_step, "restore-test"))
		return "the backup is kept but not proven to restore";
	return NULL;
}

static void send_alert(const struct run *r)
{
	char subject[256], *out = NULL, why[512];
	const char *what = alert_subject(r);
	char *mail = bk_sibling_program("bk-mail");
	char cause[64];
	const char *argv[] = { mail, "--alert", subject, "--reason", r->cause, "--cause", cause,
			       NULL };
	int code;

	if (r->opts->no_mail) {
		free(mail);
		return;
	}
	if (archive_kept(r))
		snprintf(subject, sizeof(subject), "%s; %s", what, archive_kept(r));
	else
		snprintf(subject, sizeof(subject), "backup failed at step %s%s%s", r->failed_step,
			 what ? ": " : "", what ? what : "");
	snprintf(cause, sizeof(cause), "failed:%s", r->failed_step);
	code = bk_run_tool(argv, 4096, &out, why, sizeof(why));
	if (code != 0)
		bk_error("alert could not be sent (bk-mail exit %d): %s", code,
			 why[0] ? why : bk_err());
	free(out);
	free(mail);
}

static int fail(struct run *r, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct run *r, const char *step, const char *fmt, ...)
{
	va_list ap;

	r->failed_step = step;
	va_start(ap, fmt);
	vsnprintf(r->cause, sizeof(r->cause), fmt, ap);
	va_end(ap);
	bk_log_mask(r->cause, sizeof(r->cause));
	if (archive_kept(r))
		bk_error("step %s failed (%s): %s", step, archive_kept(r), r->cause);
	else
		bk_error("backup failed at step %s: %s", step, r->cause);
	return -1;
}

/* Run one tool; on success its first stdout line is returned (caller frees). */
static char *step(struct run *r, const char *name, const char *const argv[])
{
	double t = bk_monotonic();
	char cause[1024], *out = NULL;
	int code;

	bk_info("step %s started", name);
	bk_progress_phase(name);
	code = bk_run_tool(argv, 65536, &out, cause, sizeof(cause));
	bk_progress_end();
	if (code != 0) {
		const char *base = strrchr(argv[0], '/');

		base = base ? base + 1 : argv[0];
		/* Our tools exit 0, 1 or 2: above 128 is bk_wait's 128 + signal. */
		if (code < 0)
			snprintf(cause, sizeof(cause), "%s", bk_err());
		else if (code > 128 && code < 128 + 65 && !cause[0])
			snprintf(cause, sizeof(cause), "%s killed by signal %d (%s)", base,
				 code - 128, strsignal(code - 128));
		else if (!cause[0])
			snprintf(cause, sizeof(cause), "%s exited with status %d", base, code);
		fail(r, name, "%s", cause);
		free(out);
		return NULL;
	}
	out[strcspn(out, "\n")] = '\0';
	if (!out[0]) {
		fail(r, name, "%s printed no path", argv[0]);
		free(out);
		return NULL;
	}
	bk_info("step %s done in %.1f s", name, bk_monotonic() - t);
	return out;
}

/* Temp dirs of this installation are named after its BACKUP_DIR, "bk-run."
 * + 8 hex digits of the SHA-256 of its real path + "." + 6 random characters,
 * so that installations sharing BACKUP_TMPDIR leave each other's alone. Two
 * with the same path (containers with /backups each) are told apart by the
 * lock every run holds on its temp dir. */
static int set_tmp_prefix(struct run *r)
{
	char real[PATH_MAX], hex[BK_SHA256_HEX];
	struct bk_sha256 *h;

	if (!realpath(bk_config.dir, real))
		return bk_err_errno("cannot resolve %s", bk_config.dir);
	if (!(h = bk_sha256_new()))
		return -1;
	bk_sha256_update(h, real, strlen(real));
	bk_sha256_final(h, hex);
	bk_sha256_free(h);
	snprintf(r->tmp_prefix, sizeof(r->tmp_prefix), "bk-run.%.8s.", hex);
	return 0;
}

/* A temp dir of this installation that no live run holds: removed. Whatever
 * else is in BACKUP_TMPDIR (other installations, older bk versions, other
 * users) is left alone. */
static void clean_tmp_dir(const char *name)
{
	char *p = bk_path_join(bk_config.tmpdir, name);
	struct stat st;
	int fd;

	if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		goto out;
	fd = bk_lock_dir(p);
	if (fd == -2) {
		bk_info("keeping %s: a running backup holds it", p);
		goto out;
	}
	if (fd < 0) {
		bk_log_err();
		goto out;
	}
	bk_info("removing %s left by an interrupted run", p);
	if (bk_rm_rf(p) < 0)
		bk_log_err();
	close(fd);
out:
	free(p);
}

/* Remove what dead runs left: temp dirs of this BACKUP_DIR and unverified
 * archives. Only called with the lock held, so nothing in BACKUP_DIR belongs
 * to a live run; in BACKUP_TMPDIR the temp dir's own lock says so. */
static void clean_leftovers(const struct run *r)
{
	char pattern[64];
	DIR *d = opendir(bk_config.tmpdir);
	struct dirent *e;

	snprintf(pattern, sizeof(pattern), "%s??????", r->tmp_prefix);
	if (d) {
		while ((e = readdir(d)) != NULL)
			if (!fnmatch(pattern, e->d_name, FNM_PERIOD))
				clean_tmp_dir(e->d_name);
		closedir(d);
	}
	d = opendir(bk_config.dir);
	if (d) {
		while ((e = readdir(d)) != NULL) {
			char *p;

			/* bk_afile temp names: "." + the final name + ".tmp.XXXXXX".
			 * The status files are only written under the lock; .alert_state
			 * is bk-monitor's, which does not take it: not ours to remove. */
			if (fnmatch(".critical_backup_*.tmp.*", e->d_name, 0) &&
			    fnmatch("." BK_STATUS_SUCCESS ".tmp.*", e->d_name, 0) &&
			    fnmatch("." BK_STATUS_SIZE ".tmp.*", e->d_name, 0) &&
			    fnmatch("." BK_STATUS_RESTORE_TEST ".tmp.*", e->d_name, 0) &&
			    fnmatch("." BK_STATUS_OFFSITE ".tmp.*", e->d_name, 0))
				continue;
			p = bk_path_join(bk_config.dir, e->d_name);
			bk_info("removing %s left by an interrupted run", p);
			unlink(p);
			free(p);
		}
		closedir(d);
	}
	if (bk_rm_rf(r->incoming) < 0)
		bk_log_err();
}

/* The run's temp dir, locked at once. A run of another installation with
 * the same BACKUP_DIR path that looks between the two calls may take it for
 * dead: then this run fails at step space (nothing of it is lost). */
static int make_tmp(struct run *r)
{
	if (!(r->tmp = bk_mkdtemp(bk_config.tmpdir, r->tmp_prefix)))
		return -1;
	r->tmp_lock = bk_lock_dir(r->tmp);
	if (r->tmp_lock == -2)
		bk_err_set("cannot lock %s: another run took it for a dead one", r->tmp);
	return r->tmp_lock < 0 ? -1 : 0;
}

/* The next backup needs room for about twice the last archive (and ten times
 * that unpacked in the temp dir); 64 MiB at least. The free space is that of
 * dir and tmpdir (a dry run passes the nearest directories that exist). */
static int check_space(struct run *r, const char *dir, const char *tmpdir)
{
	struct bk_history_entry *h = NULL;
	unsigned long long last = 0, need_dir, need_tmp, free_dir, free_tmp;
	char fd[BK_SIZE_BUF], ft[BK_SIZE_BUF];
	size_t n = 0;

	if (bk_history_read(bk_config.dir, 30, &h, &n) < 0)
		return fail(r, "space", "%s", bk_err());
	for (size_t i = 0; i < n; i++)
		if (h[i].ok && h[i].bytes)
			last = h[i].bytes;
	free(h);
	/* the archive and, when encrypting, its .age next to it */
	need_dir = last * (bk_config.n_age_recipients ? 3 : 2);
	need_dir = need_dir > MIN_FREE ? need_dir : MIN_FREE;
	need_tmp = last * 10 > MIN_FREE ? last * 10 : MIN_FREE;
	if (bk_free_bytes(dir, &free_dir) < 0 || bk_free_bytes(tmpdir, &free_tmp) < 0)
		return fail(r, "space", "%s", bk_err());
	if (free_dir < need_dir)
		return fail(r, "space", "disk full: %s has %s free, the next backup needs about %s",
			    bk_config.dir, bk_format_size(free_dir, fd, sizeof(fd)),
			    bk_format_size(need_dir, ft, sizeof(ft)));
	if (free_tmp < need_tmp)
		return fail(r, "space", "disk full: %s has %s free, the export needs about %s",
			    bk_config.tmpdir, bk_format_size(free_tmp, ft, sizeof(ft)),
			    bk_format_size(need_tmp, fd, sizeof(fd)));
	bk_info("free space: %s in %s, %s in %s", bk_format_size(free_dir, fd, sizeof(fd)),
		bk_config.dir, bk_format_size(free_tmp, ft, sizeof(ft)), bk_config.tmpdir);
	return 0;
}

/* The archive's name comes from the run's start time; a run in the same second
 * as the previous one (by hand, right after cron) waits for the next second
 * rather than overwrite or rename. We hold the lock, so no one else names one. */
static void name_archive(struct run *r)
{
	char stamp[16], name[64];

	for (;;) {
		bk_stamp_name(r->started, stamp);
		snprintf(name, sizeof(name), "critical_backup_%s.tar.gz", stamp);
		free(r->archive);
		r->archive = bk_path_join(bk_config.dir, name);
		if (access(r->archive, F_OK) < 0)
			break;
		sleep(1);
		r->started = (long long)time(NULL);
	}
	r->pending = bk_path_join(r->incoming, name);
}

static int do_export_pack_verify(struct run *r)
{
	char *exp = bk_sibling_program("bk-export"), *pack = bk_sibling_program("bk-pack");
	char *verify = bk_sibling_program("bk-verify");
	char *export_dir = bk_path_join(r->tmp, "export"), *out = NULL;
	int ret = -1;

	name_archive(r);
	{
		const char *argv[] = { exp, "-o", export_dir, NULL };

		if (!(out = step(r, "export", argv)))
			goto out;
		free(out);
	}
	if (bk_mkdir_p(r->incoming, 0700) < 0) {
		fail(r, "pack", "%s", bk_err());
		goto out;
	}
	{
		const char *argv[] = { pack, "-o", r->pending, export_dir, NULL };

		if (!(out = step(r, "pack", argv)))
			goto out;
		free(out);
	}
	{
		const char *argv[] = { verify, r->pending, NULL };

		if (!(out = step(r, "verify", argv)))
			goto out;
		bk_info("verified: %s", out);
		free(out);
	}
	ret = 0;
out:
	free(exp);
	free(pack);
	free(verify);
	free(export_dir);
	return ret;
}

/* The warnings the archive carries (export, drift, packing) make the run's
 * history reason; a MANIFEST that cannot be read after bk-verify read it is
 * only logged: the backup itself is good. */
static void read_warnings(struct run *r)
{
	struct bk_manifest m;
	size_t i = 0;
	const char *first;

	if (bk_ar_read_manifest(r->archive, &m, NULL) < 0) {
		bk_warn("cannot count the warnings of %s: %s", r->archive, bk_err());
		return;
	}
	first = bk_manifest_meta_next(&m, "warning", &i);
	for (r->warnings = first ? 1 : 0; bk_manifest_meta_next(&m, "warning", &i); )
		r->warnings++;
	if (first)
		snprintf(r->note, sizeof(r->note), "%zu warning%s: %s", r->warnings,
			 r->warnings == 1 ? "" : "s", first);
	bk_manifest_free(&m);
}

/*
 * With BACKUP_AGE_RECIPIENTS, the verified archive is encrypted into
 * .incoming/NAME.tar.gz.age (0600, written under a temp name, fsync'ed,
 * named only once the last chunk is written), which publish() moves next to
 * the archive: what leaves the host (bk-mail) is that file. The plain archive
 * stays, 0600, for bk-prune's verification and bk-monitor.
 */
static int encrypt(struct run *r)
{
	struct bk_afile f = { .fd = -1 };
	double t = bk_monotonic();
	char *dst = bk_asprintf("%s.age", r->pending);
	int in = -1, ret = -1;

	bk_info("step encrypt started");
	if ((in = open(r->pending, O_RDONLY | O_CLOEXEC)) < 0) {
		fail(r, "encrypt", "cannot read %s: %s", r->pending, strerror(errno));
		goto out;
	}
	if (bk_afile_open(&f, dst, 0600) < 0 ||
	    bk_age_encrypt_fd(bk_config.age_recipients, bk_config.n_age_recipients, in,
			      f.fd) < 0 ||
	    bk_afile_commit(&f) < 0) {
		fail(r, "encrypt", "cannot encrypt %s: %s", r->pending, bk_err());
		bk_afile_abort(&f);
		unlink(dst);	/* named already when only the directory's fsync failed */
		goto out;
	}
	free(f.final_path);
	r->pending_age = dst;
	dst = NULL;
	bk_info("step encrypt done in %.1f s: %zu recipient%s", bk_monotonic() - t,
		bk_config.n_age_recipients, bk_config.n_age_recipients == 1 ? "" : "s");
	ret = 0;
out:
	if (in >= 0)
		close(in);
	free(dst);
	return ret;
}

/*
 * BACKUP_RESTORE_TEST: the verified archive restored into a scratch database
 * and proved (restore_test.h). A failure does not stop the run here: the
 * archive is good as far as bk-verify can tell, so it is published (nothing
 * is lost) and the run fails after that (restore_test_failed).
 */
static int restore_test(struct run *r)
{
	char *export_dir = bk_path_join(r->tmp, "export"), hash[9];

	if (!bk_config.restore_test) {
		free(export_dir);
		return 0;
	}
	/* packed and verified: its room goes to the extraction */
	if (bk_rm_rf(export_dir) < 0)
		bk_log_err();
	free(export_dir);
	snprintf(hash, sizeof(hash), "%.8s", r->tmp_prefix + strlen("bk-run."));
	bk_info("step restore-test started");
	bk_restore_test(r->pending, r->tmp, hash, r->started, &r->rtest);
	return 0;
}

static int restore_test_failed(struct run *r)
{
	size_t n;

	if (!r->rtest.ran)
		return 0;
	if (!r->rtest.ok)
		return fail(r, "restore-test", "%s (the archive %s is kept)", r->rtest.why,
			    strrchr(r->archive, '/') + 1);
	n = strlen(r->note);
	snprintf(r->note + n, sizeof(r->note) - n, "%srestore-tested OK in %.1f s", n ? "; " : "",
		 r->rtest.seconds);
	return 0;
}

/* Only a verified archive gets the final name; its .age follows it. */
static int publish(struct run *r)
{
	struct stat st;
	char *age = NULL;

	if (stat(r->pending, &st) < 0)
		return fail(r, "verify", "archive %s vanished: %s", r->pending, strerror(errno));
	r->bytes = (unsigned long long)st.st_size;
	if (rename(r->pending, r->archive) < 0)
		return fail(r, "verify", "cannot rename %s to %s: %s", r->pending, r->archive,
			    strerror(errno));
	free(r->pending);
	r->pending = NULL;
	if (!r->pending_age)
		return 0;
	age = bk_asprintf("%s.age", r->archive);
	if (rename(r->pending_age, age) < 0) {
		fail(r, "encrypt", "cannot rename %s to %s: %s", r->pending_age, age,
		     strerror(errno));
		/* a failed run leaves no archive: this one goes back, to be removed */
		r->pending = bk_asprintf("%s/%s", r->incoming, strrchr(r->archive, '/') + 1);
		if (rename(r->archive, r->pending) < 0)
			bk_warn("cannot take back %s: %s", r->archive, strerror(errno));
		free(age);
		return -1;
	}
	free(r->pending_age);
	r->pending_age = NULL;
	free(age);
	return bk_fsync_dir_of(r->archive) < 0 ? fail(r, "encrypt", "%s", bk_err()) : 0;
}

static int deliver(struct run *r)
{
	char *mail = bk_sibling_program("bk-mail"), *out, secs[32];
	const char *argv[] = { mail, "--backup", r->archive, "--duration", secs, NULL, NULL, NULL };

	snprintf(secs, sizeof(secs), "%.0f", bk_monotonic() - r->t0);
	if (r->rtest.summary[0]) {
		argv[5] = "--restore-test";
		argv[6] = r->rtest.summary;
	}
	out = step(r, "mail", argv);
	free(mail);
	free(out);
	return out ? 0 : -1;
}

/* The off-site copy (BACKUP_S3_URL): what leaves the host, so the .age file
 * when encrypting. A failure keeps the local backup and its success status;
 * the run still mails the backup, then records the failure (exit 1). */
static int upload(struct run *r)
{
	char *path = bk_config.n_age_recipients ? bk_asprintf("%s.age", r->archive)
						: bk_xstrdup(r->archive);
	double t = bk_monotonic();
	int ret = 0;

	bk_info("step upload started");
	if (bk_upload_offsite(path) < 0) {
		char *why = bk_xstrdup(bk_err()), *hint = bk_xstrdup(bk_err_hint_text());

		ret = fail(r, "upload", "%s%s%s", why, *hint ? "; hint: " : "", hint);
		free(why);
		free(hint);
	} else {
		bk_info("step upload done in %.1f s", bk_monotonic() - t);
	}
	free(path);
	return ret;
}

/* After a failed upload the bucket is left alone: the store is away or
 * refusing, and its old archives are the newest off-site copies there are. */
static void prune(struct run *r, int upload_failed)
{
	char *prog = bk_sibling_program("bk-prune"), *out = NULL, why[512];
	const char *argv[] = { prog, upload_failed ? "--local" : NULL, NULL };
	int code = bk_run_tool(argv, 65536, &out, why, sizeof(why));

	if (code != 0)
		bk_warn("pruning old backups failed (exit %d): %s; the new backup is kept", code,
			why[0] ? why : bk_err());
	free(out);
	free(prog);
	(void)r;
}

/* What bk-monitor will say about the backups now: a run that makes them
 * unhealthy (below BACKUP_MIN_SIZE_MB, little free space) says so, as the
 * backup mail does (bk-mail --backup runs the same checks). */
static void health_warnings(void)
{
	struct bk_health h;

	bk_monitor_check(bk_config.dir, (long long)time(NULL), &h);
	for (size_t i = 0; i < h.n_reasons; i++)
		bk_warn("health: %s (bk-monitor reports it unhealthy)", h.reasons[i]);
}

static void record_failure(struct run *r)
{
	if (bk_status_record_failure(bk_config.dir, r->started, bk_monotonic() - r->t0,
				     r->failed_step, r->cause) < 0)
		bk_log_err();
	send_alert(r);
}

static void run_free(struct run *r)
{
	if (r->pending)
		unlink(r->pending);
	if (r->pending_age)
		unlink(r->pending_age);
	if (r->incoming)
		rmdir(r->incoming);	/* only when empty */
	if (r->tmp && bk_rm_rf(r->tmp) < 0)
		bk_log_err();
	if (r->tmp_lock >= 0)
		close(r->tmp_lock);
	free(r->tmp);
	free(r->incoming);
	free(r->pending);
	free(r->pending_age);
	free(r->archive);
}

/* What bk_config_load does not check because only some tools use it: a bad
 * value must stop the run before it changes anything (exit 2), not fail a
 * step after the export has been made. */
static int check_config(void)
{
	struct bk_scope scope;
	struct bk_cron cron;
	PQconninfoOption *opts;
	char *why = NULL;

	if (bk_config.scope_file) {
		memset(&scope, 0, sizeof(scope));
		if (bk_scope_load(&scope, bk_config.scope_file) < 0)
			return strncmp(bk_err(), "BACKUP_SCOPE", 12) ? bk_err_prefix("BACKUP_SCOPE")
								   : -1;
		bk_scope_free(&scope);
	}
	if (bk_cron_parse(&cron, bk_config.schedule) < 0)
		return bk_err_prefix("BACKUP_SCHEDULE: '%s' is not a cron expression",
				     bk_config.schedule);
	if (bk_config.database_url) {
		/* libpq's reason may quote the URL, password and all: not shown */
		if (!(opts = PQconninfoParse(bk_config.database_url, &why))) {
			PQfreemem(why);
			bk_err_set("DATABASE_URL: not a valid connection URI or string");
			bk_err_hint("postgresql://USER:PASSWORD@HOST:PORT/DATABASE");
			return -1;
		}
		PQconninfoFree(opts);
	}
	if (bk_config.ping_url && strncmp(bk_config.ping_url, "http://", 7) &&
	    strncmp(bk_config.ping_url, "https://", 8))
		return bk_err_set("BACKUP_PING_URL: '%s' is not an http:// or https:// URL",
				  bk_config.ping_url);
	return 0;
}

/* What the run would back up: bk-export --plan resolves the scope against the
 * database. Its header line is logged; its table goes to stderr as it is, for
 * the person who asked. Exit code as bk-run's: 2 for bad configuration. */
static int dry_run_plan(void)
{
	char *exp = bk_sibling_program("bk-export"), *out = NULL, cause[1024];
	const char *argv[] = { exp, "--plan", NULL };
	const char *table;
	int code;

	code = bk_run_tool(argv, 1 << 20, &out, cause, sizeof(cause));
	if (code != 0) {
		bk_error("dry run: bk-export --plan failed (exit %d): %s", code,
			 cause[0] ? cause : code < 0 ? bk_err() : "no reason given");
		free(out);
		free(exp);
		return code == 2 ? 2 : 1;
	}
	table = out;
	if (!strncmp(out, "# ", 2)) {
		size_t n = strcspn(out, "\n");

		bk_info("dry run: %.*s", (int)(n - 2), out + 2);
		table = out + n + (out[n] ? 1 : 0);
	}
	fputs(table, stderr);
	fflush(stderr);
	free(out);
	free(exp);
	return 0;
}

/* The path itself, or the nearest parent that exists (caller frees): where a
 * dry run reads the free space of a directory a run would create. */
static char *nearest_existing(const char *path)
{
	char *p = bk_xstrdup(path), *slash;

	while (access(p, F_OK) < 0 && (slash = strrchr(p, '/')) != NULL) {
		if (slash == p) {
			p[1] = '\0';
			break;
		}
		*slash = '\0';
	}
	return p;
}

/* What a run would do, without writing anything: no directory, no lock
 * file, no temp dir; the lock is only looked at. */
static int dry_run(struct run *r)
{
	char *lockpath = bk_path_join(bk_config.dir, ".lock");
	char *dir = nearest_existing(bk_config.dir), *tmp = nearest_existing(bk_config.tmpdir);
	PGconn *conn;
	char version[32];
	int code = 1, lock;

	bk_info("dry run: database %s/%s, backups in %s, temp in %s", bk_pg_target(),
		bk_pg_dbname(), bk_config.dir, bk_config.tmpdir);
	if (strcmp(dir, bk_config.dir))
		bk_info("dry run: %s does not exist; a run would create it", bk_config.dir);
	if (strcmp(tmp, bk_config.tmpdir))
		bk_info("dry run: %s does not exist; a run would create it", bk_config.tmpdir);
	lock = bk_lock_probe(lockpath);
	if (lock == -2) {
		bk_error("another backup is running (lock %s is held)", lockpath);
		goto out;
	}
	if (lock < 0) {
		bk_log_err();
		goto out;
	}
	if (check_space(r, dir, tmp) < 0)
		goto out;
	conn = bk_pg_connect("bk-run");
	if (!conn) {
		bk_log_err();
		goto out;
	}
	bk_pg_version_text(PQserverVersion(conn), version, sizeof(version));
	bk_info("dry run: database reachable, server version %s", version);
	bk_pg_close(conn);
	bk_upload_describe(bk_config.n_age_recipients ? "critical_backup_YYYYMMDD_HHMMSS.tar.gz.age"
						      : "critical_backup_YYYYMMDD_HHMMSS.tar.gz");
	code = dry_run_plan();
out:
	free(lockpath);
	free(dir);
	free(tmp);
	return code;
}

int bk_run(const struct bk_run_opts *opts, char **archive)
{
	struct run r = { .opts = opts, .tmp_lock = -1 };
	int lock, code = 1, upload_failed = 0;
	char upload_cause[sizeof(r.cause)];

	r.started = (long long)time(NULL);
	r.t0 = bk_monotonic();
	*archive = NULL;
	if (check_config() < 0 || (!opts->no_mail && bk_mail_config_check() < 0) ||
	    bk_s3_config_check() < 0 ||
	    bk_dir_check_private("BACKUP_DIR", bk_config.dir) < 0) {
		bk_err_prefix("configuration");
		bk_log_err();
		return 2;
	}
	if (opts->dry_run)
		return dry_run(&r);
	if (bk_mkdir_p(bk_config.dir, 0700) < 0 ||
	    (access(bk_config.tmpdir, F_OK) < 0 && bk_mkdir_p(bk_config.tmpdir, 0700) < 0)) {
		bk_log_err();
		return 1;
	}
	{
		char *lockpath = bk_path_join(bk_config.dir, ".lock");

		lock = bk_lock(lockpath);
		free(lockpath);
	}
	if (lock == -2) {
		bk_error("another backup is running (lock %s/.lock is held)", bk_config.dir);
		return 1;
	}
	if (lock < 0) {
		bk_log_err();
		return 1;
	}
	r.incoming = bk_path_join(bk_config.dir, INCOMING);
	bk_info("backup started: database %s/%s", bk_pg_target(), bk_pg_dbname());
	bk_ping("start");
	if (set_tmp_prefix(&r) < 0) {
		fail(&r, "space", "%s", bk_err());
		goto failed;
	}
	clean_leftovers(&r);
	if (check_space(&r, bk_config.dir, bk_config.tmpdir) < 0)
		goto failed;
	if (make_tmp(&r) < 0) {
		fail(&r, "space", "%s", bk_err());
		goto failed;
	}
	if (do_export_pack_verify(&r) < 0 || restore_test(&r) < 0 ||
	    (bk_config.n_age_recipients && encrypt(&r) < 0) || publish(&r) < 0)
		goto failed;
	read_warnings(&r);
	if (restore_test_failed(&r) < 0)
		goto failed;
	if (bk_status_record_success(bk_config.dir, r.started, r.bytes, bk_monotonic() - r.t0,
				     r.archive, r.note) < 0) {
		fail(&r, "status", "%s", bk_err());
		goto failed;
	}
	upload_failed = bk_s3_configured() && upload(&r) < 0;
	if (upload_failed)
		snprintf(upload_cause, sizeof(upload_cause), "%s", r.cause);
	if (!opts->no_mail && deliver(&r) < 0) {
		if (upload_failed)	/* both in the history and the alert */
			snprintf(r.cause + strlen(r.cause), sizeof(r.cause) - strlen(r.cause),
				 "; the off-site copy failed too: %s", upload_cause);
		goto failed;
	}
	prune(&r, upload_failed);
	if (upload_failed) {
		r.failed_step = "upload";
		snprintf(r.cause, sizeof(r.cause), "%s", upload_cause);
		goto failed;
	}
	if (r.warnings)
		bk_warn("backup done with %s", r.note);
	health_warnings();
	{
		char size[BK_SIZE_BUF];

		bk_info("backup finished in %.1f s: %s (%s)", bk_monotonic() - r.t0, r.archive,
			bk_format_size(r.bytes, size, sizeof(size)));
	}
	bk_ping("success");
	*archive = r.archive;
	r.archive = NULL;
	code = 0;
	goto out;
failed:
	record_failure(&r);
	bk_ping("fail");
out:
	run_free(&r);
	close(lock);
	return code;
}
