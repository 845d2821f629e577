/*
 * Dead man's switch: bk-run tells an outside watcher (healthchecks.io style,
 * BACKUP_PING_URL) when a run starts, succeeds or fails, so a host or
 * container that is gone altogether is noticed too.
 */
#ifndef BK_PING_H
#define BK_PING_H

/*
 * Request BACKUP_PING_URL/start ("start"), BACKUP_PING_URL ("success") or
 * BACKUP_PING_URL/fail ("fail"): 10 s timeout, one retry. Does nothing when
 * the variable is unset. A failure is logged as a warning and must not fail
 * the caller: returns 0, or -1 only so a caller may note it.
 */
int bk_ping(const char *what);

#endif
