/* fork/exec without a shell (see spawn.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "fs.h"
#include "progress.h"
#include "spawn.h"

static void child_setup(const struct bk_spawn_opts *o, pid_t parent)
{
	int in;

	/* A parent killed with SIGKILL cannot stop its children: have the kernel
	 * send them SIGTERM, so that no step of a dead run carries on alone
	 * (still holding table locks, writing into a temp dir the next run
	 * removes). The parent may already be gone by now. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(127);
	in = o && o->stdin_fd >= 0 ? o->stdin_fd : open("/dev/null", O_RDONLY);

	if (in < 0 || dup2(in, STDIN_FILENO) < 0)
		_exit(127);
	if (o && o->stdout_fd >= 0 && dup2(o->stdout_fd, STDOUT_FILENO) < 0)
		_exit(127);
	if (o && o->stderr_fd > 0 && dup2(o->stderr_fd, STDERR_FILENO) < 0)
		_exit(127);
	if (o && o->keep_fd > 2 && fcntl(o->keep_fd, F_SETFD, 0) < 0)
		_exit(127);
	for (const char *const *e = o ? o->env_unset : NULL; e && *e; e++)
		unsetenv(*e);
	for (const char *const *e = o ? o->env_set : NULL; e && *e; e++)
		if (putenv((char *)*e) != 0)
			_exit(127);
	signal(SIGPIPE, SIG_DFL);
}

pid_t bk_spawn(const char *const argv[], const struct bk_spawn_opts *opts)
{
	int errpipe[2];
	pid_t pid, self = getpid();
	int child_errno = 0;
	ssize_t n;

	/* A close-on-exec pipe tells the parent whether exec itself failed. */
	if (pipe2(errpipe, O_CLOEXEC) < 0)
		return bk_err_errno("cannot start %s", argv[0]);
	pid = fork();
	if (pid < 0) {
		close(errpipe[0]);
		close(errpipe[1]);
		return bk_err_errno("cannot start %s", argv[0]);
	}
	if (pid == 0) {
		close(errpipe[0]);
		child_setup(opts, self);
		execvp(argv[0], (char *const *)argv);
		child_errno = errno;
		if (write(errpipe[1], &child_errno, sizeof(child_errno)) < 0)
			_exit(127);
		_exit(127);
	}
	close(errpipe[1]);
	do
		n = read(errpipe[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	close(errpipe[0]);
	if (n == sizeof(child_errno)) {
		waitpid(pid, NULL, 0);
		errno = child_errno;
		return bk_err_errno("cannot run %s", argv[0]);
	}
	return pid;
}

int bk_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return bk_err_errno("cannot wait for process %ld", (long)pid);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

int bk_run_capture(const char *const argv[], const struct bk_spawn_opts *opts,
		   size_t max, char **out)
{
	struct bk_spawn_opts o = { -1, -1, NULL, NULL, -1, -1 };
	size_t len = 0;
	int fds[2], code;
	pid_t pid;

	if (opts)
		o = *opts;
	*out = bk_xmalloc(max + 1);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		free(*out);
		*out = NULL;
		return bk_err_errno("cannot start %s", argv[0]);
	}
	o.stdout_fd = fds[1];
	pid = bk_spawn(argv, &o);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		free(*out);
		*out = NULL;
		return -1;
	}
	for (;;) {
		char sink[4096];
		ssize_t n = len < max ? read(fds[0], *out + len, max - len)
				      : read(fds[0], sink, sizeof(sink));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len < max)
			len += (size_t)n;
	}
	close(fds[0]);
	(*out)[len] = '\0';
	code = bk_wait(pid);
	return code;
}

char *bk_sibling_program(const char *name)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *path;

	if (n > 0) {
		self[n] = '\0';
		path = bk_path_join(dirname(self), name);
		if (access(path, X_OK) == 0)
			return path;
		free(path);
	}
	return bk_xstrdup(name);
}

/* Remember the message of the first ERROR line (bk log format) in cause. */
static void note_error_line(const char *line, char *cause, size_t size)
{
	const char *msg;

	if (cause[0] || !strstr(line, " ERROR ") || !(msg = strstr(line, "]: ")))
		return;
	msg += 3;
	if (!strncmp(msg, "hint: ", 6))
		return;
	snprintf(cause, size, "%.*s", (int)strcspn(msg, "\n"), msg);
}

struct step_io {
	char *out;
	size_t len, max;
	char line[4096];
	size_t line_len;
	int long_line;		/* the line in the buffer continues one passed on */
	int dropping;		/* ... and its start was not passed on */
};

/* Pass a line of the child's stderr on, unless the progress relay takes it. */
static void pass_line(struct step_io *io)
{
	if (!io->line_len)
		return;
	/* the rest of a long line goes where its start went */
	if (!io->long_line)
		io->dropping = bk_progress_relay_line(io->line, io->line_len);
	if (io->dropping)
		return;
	bk_progress_clear();
	if (bk_write_all(STDERR_FILENO, io->line, io->line_len) < 0) {
		/* our stderr is gone; keep collecting the cause */
	}
	if (io->line[io->line_len - 1] == '\n')
		bk_progress_redraw();
}

/* Line by line, so that bk-run on a terminal can draw its progress line
 * between them; a line longer than the buffer goes on in pieces. */
static void step_stderr(struct step_io *io, const char *buf, size_t n, char *cause, size_t size)
{
	for (size_t i = 0; i < n; i++) {
		io->line[io->line_len++] = buf[i];
		if (buf[i] == '\n' || io->line_len == sizeof(io->line) - 1) {
			io->line[io->line_len] = '\0';
			if (!io->long_line)
				note_error_line(io->line, cause, size);
			pass_line(io);
			io->long_line = buf[i] != '\n';
			io->line_len = 0;
		}
	}
}

int bk_run_step(const char *const argv[], size_t max, char **out, char *cause, size_t cause_size)
{
	return bk_run_step_env(argv, NULL, max, out, cause, cause_size);
}

int bk_run_step_env(const char *const argv[], const char *const *env_unset, size_t max,
		    char **out, char *cause, size_t cause_size)
{
	struct bk_spawn_opts o = { -1, -1, NULL, env_unset, -1, -1 };
	struct step_io io = { .max = max };
	struct pollfd pfd[2];
	int outp[2], errp[2], open_fds = 2;
	pid_t pid;

	cause[0] = '\0';
	*out = NULL;
	if (pipe2(outp, O_CLOEXEC) < 0)
		return bk_err_errno("cannot start %s", argv[0]);
	if (pipe2(errp, O_CLOEXEC) < 0) {
		close(outp[0]);
		close(outp[1]);
		return bk_err_errno("cannot start %s", argv[0]);
	}
	o.stdout_fd = outp[1];
	o.stderr_fd = errp[1];
	pid = bk_spawn(argv, &o);
	close(outp[1]);
	close(errp[1]);
	if (pid < 0) {
		close(outp[0]);
		close(errp[0]);
		return -1;
	}
	io.out = bk_xmalloc(max + 1);
	pfd[0] = (struct pollfd){ .fd = outp[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = errp[0], .events = POLLIN };
	while (open_fds > 0) {
		char buf[8192];

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_fds--;
			} else if (i == 0) {
				size_t take = (size_t)n < io.max - io.len ? (size_t)n : io.max - io.len;

				memcpy(io.out + io.len, buf, take);
				io.len += take;
			} else {
				step_stderr(&io, buf, (size_t)n, cause, cause_size);
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	pass_line(&io);		/* a last line without '\n' */
	io.out[io.len] = '\0';
	*out = io.out;
	return bk_wait(pid);
}

char **bk_env_keep(const char *const keep[])
{
	size_t n = 0, max = 0;
	char **env;

	while (keep[max])
		max++;
	env = bk_xmalloc((max + 1) * sizeof(*env));
	for (size_t i = 0; i < max; i++) {
		const char *v = getenv(keep[i]);

		if (v)
			env[n++] = bk_asprintf("%s=%s", keep[i], v);
	}
	env[n] = NULL;
	return env;
}

void bk_env_free(char **env)
{
	if (!env)
		return;
	for (char **e = env; *e; e++)
		free(*e);
	free(env);
}
