/*
 * PostgreSQL connections from the configuration: DATABASE_URL or POSTGRES_*,
 * libpq's PG* variables as fallback. The password never leaves this module
 * except into libpq and a child's PGPASSWORD; messages never contain it.
 */
#ifndef BK_PG_H
#define BK_PG_H

#include <libpq-fe.h>

/* Connect, 3 attempts with growing pauses while the server does not answer.
 * Returns a connection or NULL with "cannot connect to HOST:PORT as USER: why". */
PGconn *bk_pg_connect(const char *application_name);
void bk_pg_close(PGconn *conn);
/* The server version as people write it: 15.18 (>= 10), 9.6.24 (older), from
 * PQserverVersion's 150018. Every message that shows the version uses it. */
void bk_pg_version_text(int version, char *buf, size_t size);
/* The same to another server: url (a connection URI or string from the
 * variable var, which messages name; NULL: the backed-up server's
 * parameters) with its database replaced by dbname when not NULL. */
PGconn *bk_pg_connect_other(const char *var, const char *url, const char *dbname,
			    const char *application_name);
/* "host:port" of url (NULL: bk_pg_target()); static buffer. */
const char *bk_pg_target_other(const char *url);

/* "host=... port=... dbname=... user=..." without the password or any other
 * secret parameter (sslpassword); caller frees. */
char *bk_pg_conninfo_nopass(void);

/*
 * What a libpq program we start (pg_dump) needs to connect as we do, with no
 * secret on its command line (/proc/PID/cmdline is world-readable):
 * conninfo for --dbname holds no secret parameter; env ("NAME=VALUE",
 * NULL-terminated) carries each secret by its libpq variable (PGPASSWORD),
 * and one without a variable (sslpassword) in a 0600 in-memory service file
 * (PGSERVICEFILE, PGSERVICE=bk) whose descriptor fd the child must inherit
 * (bk_spawn_opts.keep_fd). Returns 0, or -1 with the slot set.
 */
#define BK_PG_CHILD_ENV 8
struct bk_pg_child {
	char *conninfo;
	char *env[BK_PG_CHILD_ENV];
	int fd;
};
int bk_pg_child_prepare(struct bk_pg_child *c);
/* Wipe the secrets, close the file. */
void bk_pg_child_free(struct bk_pg_child *c);
/* The password to hand a child as PGPASSWORD, or NULL (not owned by caller). */
const char *bk_pg_password(void);
/* "host:port" and database for messages and BACKUP_INFO (static buffers). */
const char *bk_pg_target(void);
const char *bk_pg_dbname(void);

/* The application's schema from a Prisma DATABASE_URL's schema=NAME (decoded),
 * or NULL. libpq never sees that parameter, nor Prisma's other ones. */
const char *bk_pg_schema(void);
/* When DATABASE_URL and POSTGRES_HOST/PORT/DB/USER are both set and name a
 * different target: one sentence saying DATABASE_URL is used and how they
 * differ (no password; static buffer). NULL otherwise. */
const char *bk_pg_source_note(void);
/* Log the Prisma parameters left out of DATABASE_URL and the source note, once
 * per process; bk_pg_connect() calls it. */
void bk_pg_log_notes(void);

/* Run a command that returns no rows; -1 with the server's message on failure. */
int bk_pg_exec(PGconn *conn, const char *sql);
/* Run a query expecting tuples; NULL with the message on failure. Caller PQclear()s. */
PGresult *bk_pg_query(PGconn *conn, const char *sql);
PGresult *bk_pg_query_params(PGconn *conn, const char *sql, int n, const char *const *params);
/* Quote an identifier (schema.table given separately); caller frees. */
char *bk_pg_ident(PGconn *conn, const char *name);

#endif
