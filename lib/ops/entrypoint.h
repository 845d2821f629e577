/*
 * The container's entrypoint, `bk-run --entrypoint`: check the whole
 * configuration at start, write the jobs' environment and the effective
 * crontab, then run that schedule in the foreground as the container's PID 1.
 */
#ifndef BK_ENTRYPOINT_H
#define BK_ENTRYPOINT_H

/* Where the entrypoint writes its files unless BACKUP_RUN_DIR says otherwise. */
#define BK_RUN_DIR "/run/bk"
/* The hourly health check, at half past so it never meets a 02:00 backup. */
#define BK_MONITOR_SCHEDULE "30 * * * *"

/*
 * Call after bk_start(). In order:
 *  1. check what bk_start cannot know is wrong: BACKUP_SCHEDULE (5-field cron
 *     expression that matches some date), TZ (a known zone), DATABASE_URL,
 *     the mail settings (bk_mail_config_check), BACKUP_DIR, BACKUP_TMPDIR and
 *     BACKUP_MAIL_OUTBOX writable, BACKUP_SCOPE readable; a bad value is
 *     logged naming the variable and 2 is returned at once;
 *  2. write, mode 0600 in BACKUP_RUN_DIR (default /run/bk):
 *     `env`, the configuration variables in .env syntax (BACKUP_*, POSTGRES_*,
 *     PG*, DATABASE_URL, SMTP_*, ADMIN_EMAILS, TZ and every NAME_FILE, whose
 *     NAME is left out: secrets stay in their files), and `crontab`, the
 *     backup at BACKUP_SCHEDULE and bk-monitor --alert hourly, each with
 *     --env-file pointing at `env`;
 *  3. log the next backup time and run the crontab: each job is started by
 *     fork/exec (no shell) with a clean environment (PATH, HOME, TZ, locale)
 *     so that everything comes from the env file, as it would under cron; its
 *     output goes to the container's stdout/stderr and the tools log to
 *     BACKUP_LOG themselves. A job still running when its time comes again is
 *     not started twice. Exited processes are reaped (we are PID 1).
 * Returns 0 after SIGTERM or SIGINT once the running jobs have ended (they
 * are sent SIGTERM; a second signal kills them), 2 for a bad configuration,
 * 1 when the files cannot be written.
 */
int bk_entrypoint(void);

#endif
