/* The one updating progress line on a terminal, and bk-run's relay of its
 * children's figures (see progress.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"
#include "size.h"

#define RECORD "\036bk-progress "	/* a record: never a log line (those start with a date) */
#define REDRAW_SECONDS 0.25

enum mode { UNSET, OFF, TTY, PIPE };

static enum mode mode = UNSET;
static int relaying, drawn;
static char last[256];		/* the line drawn last, to draw again after a log line */
static size_t last_len;
static char phase[32];
static double phase_start, last_draw;

static enum mode current_mode(void)
{
	const char *env;

	if (mode != UNSET)
		return mode;
	env = getenv("BK_PROGRESS");
	if (env && !strcmp(env, "pipe") && !isatty(STDERR_FILENO))
		mode = PIPE;
	else
		mode = isatty(STDERR_FILENO) ? TTY : OFF;
	return mode;
}

int bk_progress_on(void)
{
	return current_mode() != OFF;
}

static void put(const char *s, size_t n)
{
	if (write(STDERR_FILENO, s, n) < 0) {
		/* stderr gone: nobody to show it to */
	}
}

void bk_progress_clear(void)
{
	if (!drawn)
		return;
	drawn = 0;
	put("\r\033[K", 4);
}

void bk_progress_redraw(void)
{
	if (drawn || !last_len)
		return;
	put(last, last_len);
	drawn = 1;
}

void bk_progress_end(void)
{
	bk_progress_clear();
	last_len = 0;
}

static void draw(unsigned long long done, unsigned long long total, size_t items, size_t n_items,
		 const char *what)
{
	double secs = bk_monotonic() - phase_start, rate = secs > 0 ? (double)done / secs : 0;
	char line[256], done_s[BK_SIZE_BUF], total_s[BK_SIZE_BUF], rate_s[BK_SIZE_BUF];
	size_t len;

	len = (size_t)snprintf(line, sizeof(line), "\r\033[K%s", phase);
	if (n_items && len < sizeof(line))
		len += (size_t)snprintf(line + len, sizeof(line) - len, "  %zu/%zu %s", items,
					n_items, what ? what : "");
	bk_format_size(done, done_s, sizeof(done_s));
	if ((done || total) && len < sizeof(line)) {
		if (total >= done && total)
			len += (size_t)snprintf(line + len, sizeof(line) - len, "  %s of ~%s",
						done_s,
						bk_format_size(total, total_s, sizeof(total_s)));
		else
			len += (size_t)snprintf(line + len, sizeof(line) - len, "  %s", done_s);
	}
	if (done && len < sizeof(line))
		len += (size_t)snprintf(line + len, sizeof(line) - len, "  %s",
					bk_format_rate(rate, rate_s, sizeof(rate_s)));
	if (total > done && rate > 0 && len < sizeof(line)) {
		long eta = (long)((double)(total - done) / rate + 0.5);

		len += (size_t)snprintf(line + len, sizeof(line) - len, "  ETA %ld:%02ld", eta / 60,
					eta % 60);
	}
	if (!done && !total && !n_items && len < sizeof(line))
		len += (size_t)snprintf(line + len, sizeof(line) - len, "  %.0f s", secs);
	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	put(line, len);
	memcpy(last, line, len);
	last_len = len;
	drawn = 1;
}

static void send_record(unsigned long long done, unsigned long long total, size_t items,
			size_t n_items, const char *what)
{
	char rec[192];
	int n = snprintf(rec, sizeof(rec), RECORD "%s %llu %llu %zu %zu %s\n", phase, done, total,
			 items, n_items, what && *what ? what : "-");

	if (n > 0 && (size_t)n < sizeof(rec))
		put(rec, (size_t)n);
}

static void show(unsigned long long done, unsigned long long total, size_t items, size_t n_items,
		 const char *what, int now)
{
	double t = bk_monotonic();

	if (!now && t - last_draw < REDRAW_SECONDS && !(total && done == total) &&
	    !(n_items && items == n_items))
		return;
	last_draw = t;
	if (current_mode() == PIPE)
		send_record(done, total, items, n_items, what);
	else
		draw(done, total, items, n_items, what);
}

static void start_phase(const char *name)
{
	snprintf(phase, sizeof(phase), "%s", name);
	phase[strcspn(phase, " \n")] = '\0';
	phase_start = bk_monotonic();
}

void bk_progress_phase(const char *name)
{
	if (current_mode() == OFF)
		return;
	start_phase(name);
	show(0, 0, 0, 0, NULL, 1);
}

void bk_progress_update(unsigned long long done, unsigned long long total, size_t items,
			size_t n_items, const char *what)
{
	if (current_mode() == OFF)
		return;
	show(done, total, items, n_items, what, 0);
}

void bk_progress_relay_begin(void)
{
	if (current_mode() != TTY)
		return;
	relaying = 1;
	setenv("BK_PROGRESS", "pipe", 1);
}

/* "PHASE DONE TOTAL ITEMS NITEMS WHAT" */
static void relay_record(const char *rec)
{
	char name[32], what[32];
	unsigned long long done, total;
	size_t items, n_items;

	if (sscanf(rec, "%31s %llu %llu %zu %zu %31s", name, &done, &total, &items, &n_items,
		   what) != 6)
		return;
	if (strcmp(name, phase))
		start_phase(name);
	draw(done, total, items, n_items, strcmp(what, "-") ? what : NULL);
}

int bk_progress_relay_line(const char *line, size_t len)
{
	char rec[192];

	if (!relaying)
		return 0;
	if (len > strlen(RECORD) && !strncmp(line, RECORD, strlen(RECORD))) {
		len -= strlen(RECORD);
		if (len >= sizeof(rec))
			return 1;
		memcpy(rec, line + strlen(RECORD), len);
		rec[len] = '\0';
		relay_record(rec);
		return 1;
	}
	/* "2026-11-25T02:00:03+07:00 INFO bk-export[123]: ...": in the log file
	 * already; the terminal has the progress line instead. */
	{
		const char *sp = memchr(line, ' ', len);

		return sp && (size_t)(line + len - sp) > 6 && !strncmp(sp, " INFO ", 6);
	}
}
