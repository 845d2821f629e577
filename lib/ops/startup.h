/*
 * The container's start-up checks beyond the variables (entrypoint.c): the
 * configuration files must be readable, and one report of what the night's
 * jobs will meet (database, pg_dump, SMTP, S3), checked for real.
 */
#ifndef BK_STARTUP_H
#define BK_STARTUP_H

/*
 * Every name of BACKUP_CONFIG_FILES under BACKUP_CONFIG_DIR (files, and the
 * files of directories) readable by this process. 0, or -1 with every
 * unreadable one named (mode, owner) and the fix in the hint. A missing name
 * is not an error here: the backup warns about it.
 */
int bk_startup_config_files(void);

/*
 * Connect to the database (server version, role, whether the role can write,
 * pg_dump's major against the server's), open a session with the SMTP server
 * unless mail goes to an outbox, and S3 when BACKUP_S3_URL is set; log one
 * "start-up:" line. Returns 0 when all is well; 1 when something is down or
 * refused (each problem logged with its hint, an alert mailed: the caller
 * keeps running so the admin can fix it); 2 when no backup can ever work
 * with this image (a server newer than pg_dump): the caller exits 2.
 */
int bk_startup_report(void);

#endif
