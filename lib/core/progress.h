/*
 * Progress for a person at a terminal: one line on stderr that redraws itself
 * ("\r"), never a line of the log file. Under bk-run on a terminal
 * (BK_PROGRESS=pipe in a child's environment) a child sends its figures to
 * bk-run in records on stderr, and bk-run draws them. Off a terminal (cron,
 * a log) nothing is drawn: the log lines per table and step are the record.
 */
#ifndef BK_PROGRESS_H
#define BK_PROGRESS_H

#include <stddef.h>

/* Is anything drawn or sent (a terminal, or a child of bk-run on one)? */
int bk_progress_on(void);
/* A new phase ("export", "pack", "data"): the rate starts again; drawn at once. */
void bk_progress_phase(const char *phase);
/*
 * done of total bytes (total 0: unknown, or an estimate done has passed) and
 * items done of n_items (n_items 0: not counted), e.g. tables. Redrawn at most
 * four times a second, and when done reaches total. Not thread-safe: callers
 * with threads serialise their calls.
 */
void bk_progress_update(unsigned long long done, unsigned long long total, size_t items,
			size_t n_items, const char *what);
/* Erase the line: the log calls it before a line goes to stderr, and
 * bk_progress_redraw() after it. */
void bk_progress_clear(void);
void bk_progress_redraw(void);
/* Erase it for good: the program is done. */
void bk_progress_end(void);

/*
 * bk-run: when stderr is a terminal, ask the children for records and draw
 * them. bk_progress_relay_line() takes one line of a child's stderr (with its
 * '\n'): 1 if it was a record or an INFO line (drawn, or only in the log
 * file: the terminal gets one updating line), 0 if it must be passed on.
 */
void bk_progress_relay_begin(void);
int bk_progress_relay_line(const char *line, size_t len);

#endif
