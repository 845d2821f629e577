/*
 * bk-run --entrypoint (see entrypoint.h): the configuration checked at start,
 * the files cron would need, and a small cron of our own in the foreground.
 * Why not a cron daemon: Debian's cron must run as root, and busybox crond,
 * run by a normal user, ignores a crontab not owned by root and fails each
 * job in initgroups() ("can't set groups: Operation not permitted"); mcron
 * would bring Guile and a mail transport agent. The image runs as `backup`.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "cli.h"
#include "config.h"
#include "minisign.h"
#include "cron.h"
#include "entrypoint.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "mail.h"
#include "pg.h"
#include "serve.h"
#include "spawn.h"
#include "startup.h"

extern char **environ;

#define MAX_JOBS 8
#define MAX_ARGS 16

struct job {
	struct bk_cron when;
	char *text;			/* the command as written, for messages */
	char *words;			/* argv points into this copy */
	char *argv[MAX_ARGS + 1];
	long long next;			/* unix seconds of the next start */
	pid_t pid;			/* 0 when not running */
	double started;
};

/* ---- configuration checks ---- */

/* A directory the jobs must write into: created if missing, else writable. */
static int writable_dir(const char *var, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 && errno == ENOENT && bk_mkdir_p(path, 0700) < 0)
		return bk_err_prefix("%s", var);
	if (stat(path, &st) < 0)
		return bk_err_errno("%s: cannot use %s", var, path);
	if (!S_ISDIR(st.st_mode))
		return bk_err_set("%s: %s is not a directory", var, path);
	if (access(path, W_OK | X_OK) < 0) {
		bk_err_errno("%s: %s is not writable by uid %ld", var, path, (long)geteuid());
		bk_err_hint("a mounted volume must belong to the container's user: "
			    "chown %ld:%ld the directory on the host", (long)geteuid(),
			    (long)getegid());
		return -1;
	}
	return 0;
}

/* glibc quietly uses UTC for a zone it cannot find: a typo would move the
 * backup by hours without a word. POSIX strings such as "ICT-7" have digits. */
static int check_tz(void)
{
	const char *tz = bk_config_get("TZ"), *dir = bk_config_get("TZDIR");
	char *path;
	int found;

	if (!tz)
		return 0;
	if (*tz == ':')
		tz++;
	if (strpbrk(tz, "0123456789") && *tz != '/')
		return 0;
	path = *tz == '/' ? bk_xstrdup(tz)
			  : bk_path_join(dir ? dir : "/usr/share/zoneinfo", tz);
	found = path && !strstr(tz, "..") && access(path, R_OK) == 0;
	free(path);
	if (!found) {
		bk_err_set("TZ: unknown time zone '%s'", tz);
		bk_err_hint("use a name from /usr/share/zoneinfo, e.g. TZ=Asia/Bangkok or TZ=UTC");
		return -1;
	}
	return 0;
}

static int check_database(void)
{
	const char *url = bk_config.database_url;
	int has_password = bk_config.pg_password || bk_config_get("PGPASSWORD") ||
			   bk_config_get("PGPASSFILE");

	if (url) {
		PQconninfoOption *opts, *o;
		char *why = NULL;

		if (!(opts = PQconninfoParse(url, &why))) {
			char reason[512];

			bk_config_url_reason(reason, sizeof(reason), why, url);
			PQfreemem(why);
			bk_err_set("DATABASE_URL: not a valid connection URI or string: %s", reason);
			bk_err_hint("postgresql://USER:PASSWORD@HOST:PORT/DATABASE");
			return -1;
		}
		for (o = opts; o->keyword; o++)
			if (!strcmp(o->keyword, "password") && o->val && *o->val)
				has_password = 1;
		PQconninfoFree(opts);
	}
	if (!has_password)
		bk_warn("no database password is set (POSTGRES_PASSWORD, POSTGRES_PASSWORD_FILE "
			"or DATABASE_URL): the server must trust this client");
	return 0;
}

static int check_config(struct bk_cron *schedule)
{
	const struct bk_config *c = &bk_config;

	if (bk_cron_parse(schedule, c->schedule) < 0) {
		bk_err_prefix("BACKUP_SCHEDULE: '%s' is not a cron expression", c->schedule);
		bk_err_hint("five fields: minute hour day-of-month month day-of-week, "
			    "e.g. BACKUP_SCHEDULE=\"0 2 * * *\" for 02:00 every day");
		return -1;
	}
	if (bk_cron_next(schedule, (long long)time(NULL)) < 0)
		return bk_err_set("BACKUP_SCHEDULE: '%s' never comes (no such date)",
				  c->schedule);
	if (check_tz() < 0 || check_database() < 0 || bk_mail_config_check() < 0)
		return -1;
	if (bk_dir_check_private("BACKUP_DIR", c->dir) < 0 ||
	    writable_dir("BACKUP_DIR", c->dir) < 0 ||
	    writable_dir("BACKUP_TMPDIR", c->tmpdir) < 0 ||
	    (c->outbox && writable_dir("BACKUP_MAIL_OUTBOX", c->outbox) < 0))
		return -1;
	if (c->scope_file && access(c->scope_file, R_OK) < 0)
		return bk_err_errno("BACKUP_SCOPE: cannot read %s", c->scope_file);
	if (access(c->config_dir, R_OK | X_OK) < 0)
		bk_warn("BACKUP_CONFIG_DIR: cannot read %s (%s): the backups will hold no "
			"configuration files", c->config_dir, strerror(errno));
	return bk_startup_config_files();
}

/* ---- the files ---- */

static int starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* Is NAME=VALUE from the environment one the jobs need? */
static int job_variable(const char *entry)
{
	size_t len = strcspn(entry, "=");
	char name[256], file_var[270];

	if (len >= sizeof(name))
		return 0;
	memcpy(name, entry, len);
	name[len] = '\0';
	if (!strcmp(name, "BACKUP_ENV_FILE") || !strcmp(name, "BACKUP_RUN_DIR"))
		return 0;
	/* NAME came from NAME_FILE: the job reads the file itself */
	snprintf(file_var, sizeof(file_var), "%s_FILE", name);
	if (getenv(file_var))
		return 0;
	/* NAME_FILE goes with the variables NAME would */
	if (len > 5 && !strcmp(name + len - 5, "_FILE"))
		name[len - 5] = '\0';
	return starts_with(name, "BACKUP_") || starts_with(name, "POSTGRES_") ||
	       starts_with(name, "PG") || starts_with(name, "SMTP_") ||
	       !strcmp(name, "DATABASE_URL") || !strcmp(name, "ADMIN_EMAILS") ||
	       !strcmp(name, "AWS_ACCESS_KEY_ID") || !strcmp(name, "AWS_SECRET_ACCESS_KEY") ||
	       !strcmp(name, "AWS_SESSION_TOKEN") ||
	       !strcmp(name, "TZ");
}

/* As bk_env_parse reads a name: letters, digits and '_', no digit first. */
static int valid_name(const char *entry, size_t len)
{
	if (!len || (entry[0] >= '0' && entry[0] <= '9'))
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = entry[i];

		if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

/* A variable the jobs would get but could not read back from the env file
 * (the loader refuses the whole file, so every job would fail): refused at
 * start, named. */
static int check_names(void)
{
	for (char **e = environ; *e; e++) {
		size_t len = strcspn(*e, "=");
		char shown[128];

		if (!(*e)[len] || !job_variable(*e) || valid_name(*e, len))
			continue;
		snprintf(shown, sizeof(shown), "%.*s", (int)len, *e);
		for (char *p = shown; *p; p++)
			if ((unsigned char)*p < 32 || *p == 127)
				*p = '?';
		bk_err_set("%s: not a valid variable name (letters, digits and _ only): the "
			   "jobs could not read it from the env file", shown);
		bk_err_hint("rename it or remove it from the container's environment");
		return -1;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The variables as .env lines that bk_env_parse reads back unchanged. */
static char *env_text(void)
{
	size_t n = 0, cap = 4096, len = 0, count = 0;
	char **vars, *out = bk_xmalloc(cap);

	for (char **e = environ; *e; e++)
		n++;
	vars = bk_xmalloc((n + 1) * sizeof(*vars));
	for (char **e = environ; *e; e++)
		if (strchr(*e, '=') && job_variable(*e))
			vars[count++] = *e;
	qsort(vars, count, sizeof(*vars), by_name);
	len = (size_t)snprintf(out, cap, "# bk: the cron jobs' configuration, written by "
			       "bk-run --entrypoint at container start (mode 0600).\n");
	for (size_t i = 0; i < count; i++) {
		const char *v = strchr(vars[i], '=') + 1;

		if (cap - len < 2 * strlen(vars[i]) + 8) {
			cap = 2 * cap + 2 * strlen(vars[i]) + 8;
			out = realloc(out, cap);
			if (!out)
				abort();
		}
		memcpy(out + len, vars[i], (size_t)(v - vars[i]));
		len += (size_t)(v - vars[i]);
		out[len++] = '"';
		for (; *v; v++) {
			if (*v == '"' || *v == '\\')
				out[len++] = '\\';
			if (*v == '\n') {
				out[len++] = '\\';
				out[len++] = 'n';
				continue;
			}
			out[len++] = *v;
		}
		out[len++] = '"';
		out[len++] = '\n';
	}
	out[len] = '\0';
	free(vars);
	return out;
}

struct readback {
	size_t n;
};

static int same_as_environment(const char *key, const char *value, void *ctx)
{
	const char *v = getenv(key);

	((struct readback *)ctx)->n++;
	if (!v || strcmp(v, value))
		return bk_err_set("%s does not read back as it is in the environment", key);
	return 0;
}

/* Read the env file back as a job will (the same reader, the same size
 * limit as config.c's) and compare with the environment it came from. */
static int check_env_file(const char *env_path)
{
	struct readback rb = { 0 };
	size_t len, want = 0;
	char *text = NULL;
	int ret = -1;

	for (char **e = environ; *e; e++)
		want += strchr(*e, '=') && job_variable(*e);
	if (bk_read_file(env_path, 1 << 20, &text, &len) < 0 ||
	    bk_env_parse(text, env_path, same_as_environment, &rb) < 0)
		goto out;
	if (rb.n != want) {
		bk_err_set("%s: %zu variables read back, %zu written", env_path, rb.n, want);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0) {
		bk_err_prefix("BACKUP_RUN_DIR: the env file written for the jobs cannot be read "
			      "back");
		bk_err_hint("a value too long or a name the jobs cannot read: fix the "
			    "container's environment");
	}
	free(text);
	return ret;
}

static int write_files(const char *dir, const char *env_path, const char *crontab_path)
{
	char *env = NULL, *tab = NULL, *run = NULL, *monitor = NULL;
	const char *tz = bk_config_get("TZ");
	int ret = -1;

	if (bk_mkdir_p(dir, 0700) < 0) {
		bk_err_prefix("BACKUP_RUN_DIR");
		goto out;
	}
	run = bk_sibling_program("bk-run");
	monitor = bk_sibling_program("bk-monitor");
	if (strpbrk(env_path, " \t\n") || strpbrk(run, " \t\n") || strpbrk(monitor, " \t\n")) {
		bk_err_set("BACKUP_RUN_DIR: %s: the crontab's paths must not contain blanks", dir);
		goto out;
	}
	env = env_text();
	if (bk_write_file_atomic(env_path, env, strlen(env), 0600) < 0)
		goto out;
	tab = bk_asprintf("# bk: the effective schedule, written by bk-run --entrypoint at "
			  "container start\n"
			  "# from BACKUP_SCHEDULE (TZ=%s). To change it, set BACKUP_SCHEDULE "
			  "and restart the container.\n"
			  "# The entrypoint runs these lines itself, without a shell; output "
			  "goes to the container log\n"
			  "# and each tool logs to BACKUP_LOG.\n"
			  "%s %s --env-file %s\n"
			  "%s %s --alert --env-file %s\n",
			  tz ? tz : "UTC", bk_config.schedule, run, env_path,
			  BK_MONITOR_SCHEDULE, monitor, env_path);
	if (bk_write_file_atomic(crontab_path, tab, strlen(tab), 0600) < 0)
		goto out;
	ret = 0;
out:
	free(env);
	free(tab);
	free(run);
	free(monitor);
	return ret;
}

/* ---- the schedule ---- */

static void free_jobs(struct job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(jobs[i].text);
		free(jobs[i].words);
	}
}

/* Read back the crontab just written: "M H DOM MON DOW program args...". */
static int load_crontab(const char *path, struct job *jobs, size_t *n)
{
	char *text = NULL, *save_line = NULL;
	size_t len;

	*n = 0;
	if (bk_read_file(path, 65536, &text, &len) < 0)
		return -1;
	for (char *line = strtok_r(text, "\n", &save_line); line;
	     line = strtok_r(NULL, "\n", &save_line)) {
		struct job *j = &jobs[*n];
		char fields[128], *save = NULL, *w;
		const char *cmd = line;
		int argc = 0;

		line += strspn(line, " \t");
		if (*line == '#' || !*line)
			continue;
		if (*n == MAX_JOBS) {
			bk_err_set("%s: more than %d jobs", path, MAX_JOBS);
			goto fail;
		}
		for (int f = 0; f < 5; f++) {
			cmd += strspn(cmd, " \t");
			cmd += strcspn(cmd, " \t");
		}
		if ((size_t)(cmd - line) >= sizeof(fields)) {
			bk_err_set("%s: schedule too long", path);
			goto fail;
		}
		memcpy(fields, line, (size_t)(cmd - line));
		fields[cmd - line] = '\0';
		memset(j, 0, sizeof(*j));
		if (bk_cron_parse(&j->when, fields) < 0) {
			bk_err_prefix("%s: %s", path, fields);
			goto fail;
		}
		j->text = bk_xstrdup(cmd + strspn(cmd, " \t"));
		j->words = bk_xstrdup(j->text);
		(*n)++;
		for (w = strtok_r(j->words, " \t", &save); w && argc < MAX_ARGS;
		     w = strtok_r(NULL, " \t", &save))
			j->argv[argc++] = w;
		if (argc == 0 || w) {
			bk_err_set("%s: a job needs a program and at most %d words", path,
				   MAX_ARGS);
			goto fail;
		}
	}
	free(text);
	return 0;
fail:
	free_jobs(jobs, *n);
	free(text);
	return -1;
}

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The environment a job starts with; the env file supplies the rest. */
static char **job_environment(void)
{
	static const char *const keep[] = {
		"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TZDIR",
		NULL
	};

	return bk_env_keep(keep);
}

static pid_t start_job(struct job *j, char **env)
{
	sigset_t none;
	pid_t pid = fork();

	if (pid < 0) {
		bk_error("cannot start %s: %s", j->text, strerror(errno));
		return 0;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		/* the job is a process group of its own, so a stop reaches all of it */
		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (null < 0 || dup2(null, STDIN_FILENO) < 0)
			_exit(127);
		execvpe(j->argv[0], j->argv, env);
		bk_error("cannot run %s: %s", j->argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	j->pid = pid;
	j->started = bk_monotonic();
	bk_info("started %s (pid %ld)", j->text, (long)pid);
	return pid;
}

static void log_next(const struct job *j, const char *what)
{
	char when[40];

	if (j->next < 0) {
		bk_warn("%s: no next run", j->text);
		return;
	}
	bk_iso_time(j->next, when, sizeof(when));
	bk_info("next %s at %s", what, when);
}

/* Note every exited child; jobs are marked as not running. */
static void reap(struct job *jobs, size_t n)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < n; i++) {
			struct job *j = &jobs[i];
			double took;

			if (j->pid != pid)
				continue;
			j->pid = 0;
			took = bk_monotonic() - j->started;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
				bk_info("%s finished in %.1f s", j->argv[0], took);
			else if (WIFEXITED(status))
				bk_warn("%s exited with %d after %.1f s", j->argv[0],
					WEXITSTATUS(status), took);
			else
				bk_warn("%s killed by signal %d after %.1f s", j->argv[0],
					WTERMSIG(status), took);
		}
	}
}

static void on_signal(int sig)
{
	(void)sig;	/* never runs: the signals are blocked and read from a signalfd */
}

static int run_schedule(struct job *jobs, size_t n)
{
	sigset_t mask;
	struct sigaction sa;
	char **env = job_environment();
	int sfd, stopping = 0, running;
	const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };

	/* PID 1 gets no signal it has no handler for; a handler it never runs */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&mask, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		bk_error("signalfd: %s", strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		jobs[i].next = bk_cron_next(&jobs[i].when, (long long)time(NULL));
		if (i == 0)
			log_next(&jobs[i], "backup");
	}
	for (;;) {
		double now = now_real(), wait = 60;
		struct pollfd pfd = { .fd = sfd, .events = POLLIN };
		struct signalfd_siginfo si;

		running = 0;
		for (size_t i = 0; i < n; i++) {
			struct job *j = &jobs[i];
			long long soonest;

			running += j->pid != 0;
			if (stopping || j->next < 0)
				continue;
			/* the clock went back: do not wait for the old time */
			soonest = bk_cron_next(&j->when, (long long)now);
			if (soonest >= 0 && soonest < j->next)
				j->next = soonest;
			if (now >= (double)j->next) {
				if (j->pid)
					bk_warn("%s is still running (pid %ld): this run is skipped",
						j->argv[0], (long)j->pid);
				else
					running += start_job(j, env) > 0;
				j->next = bk_cron_next(&j->when, (long long)now);
				if (i == 0)
					log_next(j, "backup");
			}
			if ((double)j->next - now < wait)
				wait = (double)j->next - now;
		}
		if (stopping && !running)
			break;
		if (wait < 0)
			wait = 0;
		if (poll(&pfd, 1, (int)(wait * 1000) + 1) < 0 && errno != EINTR) {
			bk_error("poll: %s", strerror(errno));
			return 1;
		}
		while (pfd.revents & POLLIN && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGCHLD) {
				reap(jobs, n);
				continue;
			}
			if (si.ssi_signo == SIGHUP)
				continue;
			bk_info("%s: %s", strsignal((int)si.ssi_signo),
				stopping ? "killing the running jobs" :
				"stopping (running jobs get SIGTERM)");
			for (size_t i = 0; i < n; i++)
				if (jobs[i].pid)
					kill(-jobs[i].pid, stopping ? SIGKILL : SIGTERM);
			stopping = 1;
			break;
		}
		reap(jobs, n);
	}
	close(sfd);
	bk_env_free(env);
	return 0;
}

/* The key was parsed at load (a bad one is exit 2 there, named): say which. */
static void log_signing(void)
{
	char id[BK_MINISIGN_ID_HEX];

	if (!bk_config.signing_key) {
		bk_warn("BACKUP_SIGNING_KEY is not set: the backups are unsigned, and nothing "
			"proves to whoever restores one that it came from here");
		return;
	}
	bk_minisign_id_hex(bk_config.signing_key->id, id);
	bk_info("backups are signed by key ID %s%s", id, bk_config.verify_key ?
		" and checked against BACKUP_VERIFY_KEY" : "");
}

int bk_entrypoint(void)
{
	const char *dir = bk_config_get("BACKUP_RUN_DIR");
	struct bk_cron schedule;
	struct job jobs[MAX_JOBS];
	char *env_path, *crontab_path;
	size_t n;
	int code, serve;

	bk_log_open("bk-cron", bk_config.log_path);
	if (check_config(&schedule) < 0 || check_names() < 0 || bk_serve_check() < 0) {
		const char *hint = bk_err_hint_text();

		bk_error("configuration: %s", bk_err());
		if (*hint)
			bk_error("hint: %s", hint);
		return BK_EXIT_USAGE;
	}
	if (!dir)
		dir = BK_RUN_DIR;
	env_path = bk_path_join(dir, "env");
	crontab_path = bk_path_join(dir, "crontab");
	if (!env_path || !crontab_path || write_files(dir, env_path, crontab_path) < 0 ||
	    load_crontab(crontab_path, jobs, &n) < 0) {
		bk_log_err();
		free(env_path);
		free(crontab_path);
		return BK_EXIT_FAIL;
	}
	if (check_env_file(env_path) < 0) {
		bk_err_prefix("configuration");
		bk_log_err();
		unlink(env_path);
		unlink(crontab_path);
		free_jobs(jobs, n);
		free(env_path);
		free(crontab_path);
		return BK_EXIT_USAGE;
	}
	if (bk_startup_report() == 2) {
		unlink(env_path);
		unlink(crontab_path);
		free_jobs(jobs, n);
		free(env_path);
		free(crontab_path);
		return BK_EXIT_USAGE;
	}
	log_signing();
	bk_info("configuration ok: database %s/%s, backups in %s, mail %s",
		bk_pg_target(), bk_pg_dbname(), bk_config.dir,
		bk_config.outbox ? "to the outbox" : "by SMTP");
	bk_info("schedule: backup at '%s', health check at '%s' (TZ %s); jobs read %s",
		bk_config.schedule, BK_MONITOR_SCHEDULE,
		bk_config_get("TZ") ? bk_config_get("TZ") : "UTC", env_path);
	/* the status endpoint (BACKUP_HTTP_ADDR, BACKUP_PROMETHEUS_FILE): serve.h */
	serve = bk_serve_start();
	code = run_schedule(jobs, n);
	bk_serve_stop(serve);
	bk_info("stopped");
	free_jobs(jobs, n);
	free(env_path);
	free(crontab_path);
	return code;
}
