/*
 * Logging to $BACKUP_LOG and stderr, one format for every tool:
 *   2026-11-25T02:00:03+07:00 ERROR bk-export[123]: message
 * Secrets registered with bk_log_secret() are masked in every line, and control
 * characters escaped (\n, \t, \x1b...): one record is always one line.
 * Threads may log: their lines go out whole, one at a time.
 */
#ifndef BK_LOG_H
#define BK_LOG_H

#include <stdarg.h>

enum bk_level { BK_DEBUG, BK_INFO, BK_WARN, BK_ERROR };

/* Set the program name and open path for appending (NULL or "": stderr only).
 * If the file cannot be opened, one warning goes to stderr and logging continues there. */
void bk_log_open(const char *prog, const char *path);
void bk_log_close(void);
const char *bk_log_prog(void);
/* Lines to stderr too? Default yes. bk-run's children keep it; a quiet tool may turn it off. */
void bk_log_set_stderr(int on);
/* Never print this string: replaced by "***" in every log line. */
void bk_log_secret(const char *secret);
/* Replace each run of bytes covered by registered secrets in the string buf
 * (at most size bytes) by "***", in place: the text only shrinks. */
void bk_log_mask(char *buf, size_t size);
/* Forget every registered secret (tests and fuzzing). */
void bk_log_forget_secrets(void);
/* Copy in to out (size bytes at most, NUL-terminated) with control bytes as
 * \n \r \t or \xNN, as every log line shows them: for a name that goes into
 * a message, a history line or a mail as well. */
void bk_escape_controls(const char *in, char *out, size_t size);

void bk_log(enum bk_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bk_vlog(enum bk_level level, const char *fmt, va_list ap);
#define bk_info(...) bk_log(BK_INFO, __VA_ARGS__)
#define bk_warn(...) bk_log(BK_WARN, __VA_ARGS__)
#define bk_error(...) bk_log(BK_ERROR, __VA_ARGS__)
#define bk_debug(...) bk_log(BK_DEBUG, __VA_ARGS__)

/* Log the error slot (and its hint) at ERROR level. */
void bk_log_err(void);
/* Log the error slot, then exit(code). */
void bk_die(int code) __attribute__((noreturn));
/* Log a message at ERROR level, then exit(code). */
void bk_fatal(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

/* ISO 8601 local time with offset for t, e.g. 2026-11-25T02:00:03+07:00. */
void bk_iso_time(long long t, char *buf, size_t size);

#endif
