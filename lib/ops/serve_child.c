/* The entrypoint's side of the status endpoint: one child `bk-monitor --serve`
 * that lives as long as the entrypoint and sees no secret (serve.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "serve.h"
#include "spawn.h"

/* The textfile is rewritten by rename in its directory: that must be writable,
 * or every minute would log the same error instead of one message at start. */
static int check_textfile(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n = strlen(path);
	char *dir;
	int ret = 0;

	if (!n || path[n - 1] == '/')
		return bk_err_set("BACKUP_PROMETHEUS_FILE: '%s' is not a file name", path);
	if (!slash)
		dir = bk_xstrdup(".");
	else if (slash == path)
		dir = bk_xstrdup("/");
	else
		dir = bk_asprintf("%.*s", (int)(slash - path), path);
	if (access(dir, W_OK | X_OK) < 0) {
		ret = bk_err_errno("BACKUP_PROMETHEUS_FILE: cannot write into %s", dir);
		bk_err_hint("the directory must exist and be writable by the user bk runs as");
	}
	free(dir);
	return ret;
}

int bk_serve_check(void)
{
	const char *addr = bk_config_get("BACKUP_HTTP_ADDR");
	const char *prom = bk_config_get("BACKUP_PROMETHEUS_FILE");
	struct sockaddr_storage ss;
	socklen_t len;

	if (addr && bk_serve_parse_addr("BACKUP_HTTP_ADDR", addr, &ss, &len) < 0) {
		bk_err_hint("a port (listens on 127.0.0.1), 0.0.0.0:9187 for every interface "
			    "of the container, or [::]:9187");
		return -1;
	}
	return prom ? check_textfile(prom) : 0;
}

/* What bk-monitor reads, and nothing else: the database, SMTP and S3
 * credentials stay with the jobs that need them. */
static char **monitor_environment(void)
{
	static const char *const keep[] = {
		"PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TZDIR", "BACKUP_DIR",
		"BACKUP_LOG", "BACKUP_MAX_AGE_HOURS", "BACKUP_MIN_SIZE_MB",
		"BACKUP_MAX_SIZE_MB", "BACKUP_S3_URL", "BACKUP_RESTORE_TEST", NULL
	};

	return bk_env_keep(keep);
}

static void run_child(char *const *argv, char **env, pid_t parent)
{
	sigset_t none;

	/* the entrypoint blocks its signals and reads them from a signalfd */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	/* it must not outlive the entrypoint (outside a container nothing else
	 * would stop it); the parent may have gone before prctl */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(0);
	execve(argv[0], argv, env);
	bk_error("cannot run %s: %s", argv[0], strerror(errno));
	_exit(127);
}

int bk_serve_start(void)
{
	const char *addr = bk_config_get("BACKUP_HTTP_ADDR");
	const char *prom = bk_config_get("BACKUP_PROMETHEUS_FILE");
	char *monitor, **env;
	const char *argv[7];
	int argc = 0;
	pid_t pid, parent = getpid();

	if (!addr && !prom)
		return 0;
	monitor = bk_sibling_program("bk-monitor");
	argv[argc++] = monitor;
	if (addr) {
		argv[argc++] = "--serve";
		argv[argc++] = addr;
	} else {
		argv[argc++] = "--watch";
	}
	if (prom) {
		argv[argc++] = "--prometheus";
		argv[argc++] = prom;
	}
	argv[argc] = NULL;
	env = monitor_environment();
	pid = fork();
	if (pid == 0)
		run_child((char *const *)argv, env, parent);
	bk_env_free(env);
	if (pid < 0) {
		bk_error("cannot start %s --serve: %s", monitor, strerror(errno));
		free(monitor);
		return 0;
	}
	bk_info("started %s %s%s%s%s%s (pid %ld)", monitor, argv[1], addr ? " " : "",
		addr ? addr : "", prom ? " --prometheus " : "", prom ? prom : "", (long)pid);
	free(monitor);
	return (int)pid;
}

void bk_serve_stop(int pid)
{
	if (pid <= 0)
		return;
	/* the schedule's loop reaps every child: if it has reaped this one, the
	 * pid is no longer ours to signal */
	if (waitpid(pid, NULL, WNOHANG) != 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}
