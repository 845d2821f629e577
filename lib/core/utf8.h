/* UTF-8 validation for names and text taken from files (scope, config, archive). */
#ifndef BK_UTF8_H
#define BK_UTF8_H

#include <stddef.h>

/* Is s[0..len) well-formed UTF-8 (no overlong forms, surrogates or > U+10FFFF)? */
int bk_utf8_valid(const void *s, size_t len);
/* The same for a NUL-terminated string. */
int bk_utf8_str(const char *s);

#endif
