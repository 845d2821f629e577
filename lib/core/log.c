/* Log lines to $BACKUP_LOG and stderr (see log.h). Each line goes out in one
 * write(2) so lines of concurrent tools appending to one file never interleave;
 * within a process a lock keeps threads' lines (and the progress line they
 * clear and redraw) apart. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "progress.h"

#define MAX_SECRETS 8

static const char *prog_name = "bk";
static int log_fd = -1;
static int to_stderr = 1;
static char *secrets[MAX_SECRETS];
static int nsecrets;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *level_name[] = { "DEBUG", "INFO", "WARN", "ERROR" };

void bk_log_open(const char *prog, const char *path)
{
	const char *slash = strrchr(prog, '/');

	prog_name = slash ? slash + 1 : prog;
	bk_log_close();
	if (!path || !*path)
		return;
	log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (log_fd < 0) {
		int to = to_stderr;

		to_stderr = 1;
		bk_warn("cannot open log %s: %s; logging to stderr only", path, strerror(errno));
		to_stderr = to;
	}
}

void bk_log_close(void)
{
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
}

const char *bk_log_prog(void)
{
	return prog_name;
}

void bk_log_set_stderr(int on)
{
	to_stderr = on;
}

void bk_log_secret(const char *secret)
{
	if (!secret || strlen(secret) < 3 || nsecrets == MAX_SECRETS)
		return;
	for (int i = 0; i < nsecrets; i++)
		if (!strcmp(secrets[i], secret))
			return;
	secrets[nsecrets] = strdup(secret);
	if (secrets[nsecrets])
		nsecrets++;
}

void bk_log_forget_secrets(void)
{
	for (int i = 0; i < nsecrets; i++)
		free(secrets[i]);
	nsecrets = 0;
}

/* End of the longest secret starting at buf + i (0 when none does). */
static size_t secret_at(const char *buf, size_t len, size_t i)
{
	size_t end = 0;

	for (int s = 0; s < nsecrets; s++) {
		size_t slen = strlen(secrets[s]);

		if (len - i >= slen && !memcmp(buf + i, secrets[s], slen) && i + slen > end)
			end = i + slen;
	}
	return end;
}

/*
 * One pass from left to right, never over its own output, so it ends for
 * every secret (one equal to the mask, or holding it, included): each byte
 * covered by an occurrence of any secret is hidden, and each run of covered
 * bytes becomes one "***". A run is written when it ends: it is at least 3
 * bytes long, so the mask never overwrites text not yet read.
 */
void bk_log_mask(char *buf, size_t size)
{
	size_t len, w = 0, run_end = 0;
	int in_run = 0;

	if (!size)
		return;
	len = strnlen(buf, size - 1);
	for (size_t i = 0; i < len; i++) {
		size_t end = secret_at(buf, len, i);

		if (end > run_end)
			run_end = end;
		if (i < run_end) {
			in_run = 1;
			continue;
		}
		if (in_run) {
			memcpy(buf + w, "***", 3);
			w += 3;
			in_run = 0;
		}
		buf[w++] = buf[i];
	}
	if (in_run) {
		memcpy(buf + w, "***", 3);
		w += 3;
	}
	buf[w] = '\0';
}

void bk_iso_time(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char zone[8];

	localtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);	/* +0700 -> +07:00 */
	if (strlen(zone) == 5) {
		size_t n = strlen(buf);

		snprintf(buf + n, size - n, "%.3s:%s", zone, zone + 3);
	}
}

/*
 * One record, one line: a name with a newline (a table's, a file's) must not
 * start a line of its own that a reader takes for another record. A backslash
 * stays as it is. The output is cut before an escape that does not fit.
 */
void bk_escape_controls(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;
		char esc[5];

		if (c == '\n' || c == '\r' || c == '\t')
			snprintf(esc, sizeof(esc), "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
		else if (c < 0x20 || c == 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x", c);
		else
			esc[0] = (char)c, esc[1] = '\0';
		if (o + strlen(esc) >= size)
			break;
		memcpy(out + o, esc, strlen(esc));
		o += strlen(esc);
	}
	out[o] = '\0';
}

void bk_vlog(enum bk_level level, const char *fmt, va_list ap)
{
	char when[40], msg[3072], shown[3072], line[3300];
	int n, saved = errno;

	bk_iso_time(time(NULL), when, sizeof(when));
	vsnprintf(msg, sizeof(msg), fmt, ap);
	pthread_mutex_lock(&log_lock);
	/* masked before escaping: a secret may hold a control character */
	bk_log_mask(msg, sizeof(msg));
	bk_escape_controls(msg, shown, sizeof(shown));
	n = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s\n", when, level_name[level],
		     prog_name, (long)getpid(), shown);
	if (n < 0)
		goto out;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (log_fd >= 0 && write(log_fd, line, (size_t)n) < 0) {
		/* nothing sensible to do: the stderr copy below still goes out */
	}
	if (to_stderr)
		bk_progress_clear();
	if (to_stderr && write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* ignore */
	}
	if (to_stderr)
		bk_progress_redraw();
out:
	pthread_mutex_unlock(&log_lock);
	errno = saved;
}

void bk_log(enum bk_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bk_vlog(level, fmt, ap);
	va_end(ap);
}

void bk_log_err(void)
{
	bk_error("%s", bk_err());
	if (*bk_err_hint_text())
		bk_error("hint: %s", bk_err_hint_text());
}

void bk_die(int code)
{
	bk_log_err();
	exit(code);
}

void bk_fatal(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bk_vlog(BK_ERROR, fmt, ap);
	va_end(ap);
	exit(code);
}
