/*
 * bk-mail's messages: the daily backup (summary, restore steps, the archive
 * attached or linked), failure alerts and a test message, to every address
 * in ADMIN_EMAILS, delivered by SMTP (smtp.h) or written to
 * BACKUP_MAIL_OUTBOX as .eml files.
 */
#ifndef BK_MAIL_H
#define BK_MAIL_H

/*
 * Check the mail settings of bk_config: ADMIN_EMAILS set and valid, a usable
 * sender (SMTP_FROM, else SMTP_USER if it is an address), SMTP_HOST set
 * unless BACKUP_MAIL_OUTBOX is, SMTP_TLS=none only for a loopback host,
 * SMTP_USER and SMTP_PASS together, SMTP_CA_FILE readable, BACKUP_LINK_BASE
 * with a usable BACKUP_LINK_SECRET. 0, or -1 with a message naming the
 * variable (the caller exits 2). bk-run calls it before starting a backup.
 */
int bk_mail_config_check(void);

/*
 * Mail the archive at path: subject "[bk] Backup OK DATE DB SIZE" ("Backup
 * WARNING ... (N warnings)" when its MANIFEST has warnings or, for the newest
 * archive of BACKUP_DIR, bk_monitor_check finds the backups unhealthy: its
 * reasons are listed under "Health warnings" and counted), a summary
 * from its MANIFEST and BACKUP_INFO.txt, the restore steps, and the archive
 * attached if the whole encoded message fits in BACKUP_MAIL_ATTACH_MAX_MB,
 * else a signed link (BACKUP_LINK_BASE) or where the file is on this host.
 * duration: seconds the backup took, < 0 if unknown. On success *product is
 * the Message-ID or the .eml path (caller frees). 0, or -1 (error slot set).
 */
int bk_mail_send_backup(const char *path, double duration, char **product);
/* The same with a "Restore-tested" row saying restore_test (bk-run's
 * restore-test result: "OK in 4.1 s into HOST:PORT/DB", or why not). */
int bk_mail_send_backup_tested(const char *path, double duration, const char *restore_test,
			       char **product);

/*
 * An alert "[bk] ALERT: SUBJECT": the reason (may be NULL), the failed step,
 * what to check, the last good backup, the last run's lines of the log with
 * secrets masked. cause (may be NULL) picks the hints: comma-separated kinds
 * as bk-monitor's "cause" ("age", "none", "size", "space", "missing", "dir",
 * "status", "history", "clock", "failed:STEP"); the failed step is the STEP
 * of "failed:STEP" ("none" without one). The wording is never guessed.
 */
int bk_mail_send_alert(const char *subject, const char *reason, const char *cause,
		       char **product);

/* The end of an incident: "[bk] recovered: SUBJECT" in green, what was wrong
 * and for how long (reason, from bk-monitor), the last good backup. */
int bk_mail_send_recovered(const char *subject, const char *reason, char **product);

/* A short message to check the settings. */
int bk_mail_send_test(char **product);

#endif
