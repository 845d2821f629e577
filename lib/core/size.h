/*
 * Sizes (and spans of time) as people read them, one format for every
 * program, mail and log line. Units are binary (1 KB = 1024 bytes, 1 MB =
 * 1024 KB), the units of BACKUP_MIN_SIZE_MB, BACKUP_MAX_SIZE_MB and
 * BACKUP_MAIL_ATTACH_MAX_MB, so a shown size compares with those limits as
 * it reads. Machine formats (status files, history, JSON, metrics) keep
 * their exact byte or MB counts.
 */
#ifndef BK_SIZE_H
#define BK_SIZE_H

#include <stddef.h>

#define BK_SIZE_BUF 32	/* enough for any unsigned long long */

/*
 * bytes into buf: "3 B", "812 KB", "1.4 MB", "27 MB", "3.2 GB", "1.1 TB":
 * one decimal below 10 of the unit, whole units from 10 on, rounded to
 * nearest (1023 B stays "1023 B"; 1048575 B is "1.0 MB", not "1024 KB").
 * Returns buf.
 */
const char *bk_format_size(unsigned long long bytes, char *buf, size_t len);

/* A span of time as the mails say it: "12 min", "3 h 5 min", "3 h",
 * "2 days 3 h"; under a minute is "1 min". Returns buf. */
const char *bk_format_span(long long secs, char *buf, size_t len);

/* A rate in the same units: "88 MB/s", "512 KB/s", "0 B/s" for none. Returns buf. */
const char *bk_format_rate(double bytes_per_second, char *buf, size_t len);

/* A rate in the same units: "88 MB/s", "512 KB/s", "0 B/s" for none. Returns buf. */
const char *bk_format_rate(double bytes_per_second, char *buf, size_t len);

#endif
