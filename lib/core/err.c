/* The error slot (see err.h). One per thread: worker threads (bk-export's)
 * fail on their own and hand their message to the thread that reports. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static _Thread_local char slot[2048];
static _Thread_local char hint[512];

int bk_err_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(slot, sizeof(slot), fmt, ap);
	va_end(ap);
	hint[0] = '\0';
	return -1;
}

int bk_err_errno(const char *fmt, ...)
{
	int saved = errno;
	char msg[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(slot, sizeof(slot), "%s: %s", msg, strerror(saved));
	hint[0] = '\0';
	errno = saved;
	return -1;
}

int bk_err_prefix(const char *fmt, ...)
{
	char old[sizeof(slot)];
	char pre[512];
	va_list ap;

	memcpy(old, slot, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	snprintf(slot, sizeof(slot), "%s: %s", pre, old);
	return -1;
}

void bk_err_hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(hint, sizeof(hint), fmt, ap);
	va_end(ap);
}

const char *bk_err(void)
{
	return slot[0] ? slot : "unknown error";
}

const char *bk_err_hint_text(void)
{
	return hint;
}

void bk_err_clear(void)
{
	slot[0] = '\0';
	hint[0] = '\0';
}
