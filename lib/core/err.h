/*
 * The one error slot: library functions return -1 (or NULL) and leave a message
 * here for the caller to print. Messages are lowercase, thing first, then why.
 */
#ifndef BK_ERR_H
#define BK_ERR_H

#include <stdarg.h>

/* Set the message (printf format). Always returns -1 so `return bk_err_set(...)` works. */
int bk_err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like bk_err_set, then ": strerror(errno)" appended (errno read on entry). */
int bk_err_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prefix the current message: "prefix: old message". */
int bk_err_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Optional second line for the user ("hint: check POSTGRES_PASSWORD"). */
void bk_err_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *bk_err(void);
const char *bk_err_hint_text(void);	/* "" when none */
void bk_err_clear(void);

#endif
