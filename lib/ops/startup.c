/*
 * Start-up checks of the container (see startup.h). The variables were
 * checked before: here the files and servers they name are tried, so a wrong
 * password or an unreadable key shows at `docker compose up`, not at 02:00.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "config.h"
#include "dump_version.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "mail.h"
#include "mime.h"
#include "pg.h"
#include "smtp.h"
#include "s3.h"
#include "startup.h"

#define MAX_SHOWN 20

struct unreadable {
	size_t n;
	char names[2048];	/* "ssl/key.pem ..." as the hint's chown takes them */
	char detail[4096];	/* "/config/ssl/key.pem (0600, uid 0), ..." */
};

static void note_unreadable(struct unreadable *u, const char *name, const char *full,
			    const struct stat *st)
{
	size_t ln = strlen(u->names), ld = strlen(u->detail);

	if (u->n++ >= MAX_SHOWN)
		return;
	snprintf(u->names + ln, sizeof(u->names) - ln, "%s%s", ln ? " " : "", name);
	snprintf(u->detail + ld, sizeof(u->detail) - ld, "%s%s (%04o, owner uid %ld)",
		 ld ? ", " : "", full, (unsigned)st->st_mode & 07777, (long)st->st_uid);
}

/* One configured path: a file, or a directory and everything under it, as
 * bk-pack will read them (a symlink's target; a symlink to a directory is
 * not followed there, so not here). */
static void check_path(struct unreadable *u, const char *name, const char *full, int depth)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	if (stat(full, &st) < 0)
		return;		/* missing: the backup's own warning says so */
	if (S_ISREG(st.st_mode)) {
		if (access(full, R_OK) < 0)
			note_unreadable(u, name, full, &st);
		return;
	}
	if (!S_ISDIR(st.st_mode) || depth > 8)
		return;
	if (access(full, R_OK | X_OK) < 0 || !(d = opendir(full))) {
		note_unreadable(u, name, full, &st);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char *kname, *kfull;
		struct stat lst;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		kname = bk_asprintf("%s/%s", name, e->d_name);
		kfull = bk_path_join(full, e->d_name);
		if (lstat(kfull, &lst) == 0 && !(S_ISLNK(lst.st_mode) && stat(kfull, &st) == 0 &&
						S_ISDIR(st.st_mode)))
			check_path(u, kname, kfull, depth + 1);
		free(kname);
		free(kfull);
	}
	closedir(d);
}

int bk_startup_config_files(void)
{
	const struct bk_config *c = &bk_config;
	struct unreadable u = { 0 };
	char *copy, *save = NULL;

	if (!c->config_files || access(c->config_dir, R_OK | X_OK) < 0)
		return 0;	/* entrypoint.c warns about the directory itself */
	copy = bk_xstrdup(c->config_files);
	for (char *tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		char *full = bk_path_join(c->config_dir, tok);

		check_path(&u, tok, full, 0);
		free(full);
	}
	free(copy);
	if (!u.n)
		return 0;
	bk_err_set("BACKUP_CONFIG_FILES: %zu configuration file%s cannot be read by uid %ld, "
		   "so the backups would lack %s: %s%s", u.n, u.n == 1 ? "" : "s",
		   (long)geteuid(), u.n == 1 ? "it" : "them", u.detail,
		   u.n > MAX_SHOWN ? ", ..." : "");
	bk_err_hint("on the host, in the project directory: chown %ld %s (the mode may stay "
		    "0600); or bind a copy read-only: cp FILE FILE.bk && chown %ld FILE.bk, and "
		    "mount ./FILE.bk:%s/FILE:ro", (long)geteuid(), u.names, (long)geteuid(),
		    c->config_dir);
	return -1;
}

/* ---- the report ---- */

struct report {
	char text[1024];	/* the start-up line */
	char problems[2048];	/* one line each, for the log and the alert */
	int refused;
};

static void add_text(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add_text(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* The error slot (and its hint) as one problem. */
static void problem(struct report *r, const char *what)
{
	const char *hint = bk_err_hint_text();

	bk_error("start-up: %s: %s", what, bk_err());
	if (*hint)
		bk_error("hint: %s", hint);
	add_text(r->problems, sizeof(r->problems), "%s: %s%s%s\n", what, bk_err(),
		 *hint ? "\n  hint: " : "", hint);
}

static const char role_sql[] =
	"SELECT current_user, r.rolsuper, pg_catalog.pg_is_in_recovery(),"
	" EXISTS (SELECT 1 FROM pg_catalog.pg_class c"
	"  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
	"  WHERE c.relkind IN ('r', 'p')"
	"  AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
	"  AND (pg_catalog.pg_has_role(c.relowner, 'USAGE')"
	"   OR pg_catalog.has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')))"
	" FROM pg_catalog.pg_roles r WHERE r.rolname = current_user";

static void check_database(struct report *r)
{
	PGconn *conn = bk_pg_connect("bk-entrypoint");
	PGresult *res;
	const char *version;
	char dump[64];

	if (!conn) {
		add_text(r->text, sizeof(r->text), "database %s/%s FAILED", bk_pg_target(),
			 bk_pg_dbname());
		problem(r, "database");
		return;
	}
	version = PQparameterStatus(conn, "server_version");
	add_text(r->text, sizeof(r->text), "PostgreSQL %s at %s/%s", version ? version : "?",
		 bk_pg_target(), PQdb(conn));
	if ((res = bk_pg_query(conn, role_sql)) && PQntuples(res) == 1) {
		int super = *PQgetvalue(res, 0, 1) == 't', writes = *PQgetvalue(res, 0, 3) == 't';

		add_text(r->text, sizeof(r->text), ", role %s (%s%s)", PQgetvalue(res, 0, 0),
			 super ? "superuser, can write" : writes ? "can write" : "read-only",
			 *PQgetvalue(res, 0, 2) == 't' ? ", standby server" : "");
		if (super || writes)
			bk_info("start-up: a read-only role is safer for backups: "
				"GRANT pg_read_all_data TO a role of its own (docs/BACKUP_SYSTEM.md, "
				"step 4)");
	} else {
		add_text(r->text, sizeof(r->text), ", role ?");
		bk_warn("start-up: cannot read the role's attributes: %s", bk_err());
	}
	PQclear(res);
	if (bk_pg_dump_fits(conn) < 0) {
		r->refused = bk_pg_dump_version(dump, sizeof(dump)) > 0;
		add_text(r->text, sizeof(r->text), ", pg_dump UNUSABLE");
		problem(r, "pg_dump");
	} else if (bk_pg_dump_version(dump, sizeof(dump)) > 0) {
		add_text(r->text, sizeof(r->text), ", pg_dump %s", dump);
	}
	bk_pg_close(conn);
}

static void check_mail(struct report *r)
{
	const struct bk_config *c = &bk_config;

	if (c->outbox) {
		add_text(r->text, sizeof(r->text), "; mail to the outbox %s", c->outbox);
		return;
	}
	if (bk_smtp_probe() < 0) {
		add_text(r->text, sizeof(r->text), "; SMTP %s:%d FAILED", c->smtp_host,
			 c->smtp_port);
		problem(r, "SMTP");
		return;
	}
	add_text(r->text, sizeof(r->text), "; SMTP %s:%d ok", c->smtp_host, c->smtp_port);
}

/* Stops the listing at the first object: the store answered, signed and all. */
static int first_object(const struct bk_s3_object *o, void *ctx)
{
	(void)o;
	*(int *)ctx = 1;
	return -1;
}

/* The store answers a signed ListObjectsV2 of the prefix (an empty listing is
 * fine): endpoint, bucket, keys and clock are right. */
static void check_s3(struct report *r)
{
	const char *url = bk_config_get("BACKUP_S3_URL");
	struct bk_s3 s;
	int rc = -1, found = 0;

	if (!url) {
		add_text(r->text, sizeof(r->text), "; S3 not configured");
		return;
	}
	if (bk_s3_open(&s) == 0) {
		rc = bk_s3_list(&s, s.prefix, first_object, &found);
		if (rc < 0 && found)
			rc = 0;
		bk_s3_close(&s);
	}
	if (rc < 0) {
		add_text(r->text, sizeof(r->text), "; S3 %s FAILED", url);
		problem(r, "S3");
		return;
	}
	add_text(r->text, sizeof(r->text), "; S3 %s ok", url);
}

static void send_alert(const struct report *r)
{
	char *subject = bk_asprintf("start-up check failed on %s", bk_mime_hostname());
	char *reason = bk_asprintf("The backup container started, but:\n%s\nIt keeps running "
				   "and tries again at the scheduled time; fix the above and "
				   "restart it (docker compose up -d backup).", r->problems);
	char *product = NULL;

	if (bk_mail_send_alert(subject, reason, "failed:start-up", &product) < 0)
		bk_error("start-up: the alert could not be mailed: %s", bk_err());
	else
		bk_info("start-up: alert mailed (%s)", product);
	free(product);
	free(subject);
	free(reason);
}

int bk_startup_report(void)
{
	struct report r = { "", "", 0 };

	check_database(&r);
	if (r.refused) {
		bk_error("start-up: %s", r.text);
		return 2;
	}
	check_mail(&r);
	check_s3(&r);
	if (!r.problems[0]) {
		bk_info("start-up: %s", r.text);
		return 0;
	}
	bk_error("start-up: %s", r.text);
	send_alert(&r);
	return 1;
}
