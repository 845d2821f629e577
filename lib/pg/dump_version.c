/*
 * Which servers this pg_dump can dump: its own major version and older ones
 * (pg_dump reads catalogs of older releases, never of newer ones), so a
 * server newer than pg_dump is refused before any work, naming both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump_version.h"
#include "err.h"
#include "spawn.h"

int bk_pg_dump_version(char *text, size_t size)
{
	static const char *const argv[] = { "pg_dump", "--version", NULL };
	/* it reaches no server: none of the secrets */
	static const char *const unset[] = { "POSTGRES_PASSWORD", "PGPASSWORD", "DATABASE_URL",
		"SMTP_PASS", "BACKUP_LINK_SECRET", "BACKUP_SIGNING_KEY", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", NULL };
	struct bk_spawn_opts so = { -1, -1, NULL, unset, -1, -1 };
	char *out = NULL, *v;
	int code, major = -1;

	code = bk_run_capture(argv, &so, 4096, &out);
	if (code != 0) {
		if (code > 0)
			bk_err_set("pg_dump --version failed (exit %d)", code);
		bk_err_hint("pg_dump (PostgreSQL client, the server's major version or newer) "
			    "must be on PATH");
		goto out;
	}
	/* "pg_dump (PostgreSQL) 17.12 (Debian 17.12-0+deb13u1)" */
	v = strstr(out, ") ");
	if (!v || (major = atoi(v + 2)) < 10) {
		major = -1;
		bk_err_set("pg_dump --version: cannot read its version");
		goto out;
	}
	v += 2;
	snprintf(text, size, "%.*s", (int)strcspn(v, " \n"), v);
out:
	free(out);
	return major;
}

int bk_pg_dump_fits(PGconn *conn)
{
	int server = PQserverVersion(conn), major;
	char dump[64];
	const char *shown = PQparameterStatus(conn, "server_version");

	if ((major = bk_pg_dump_version(dump, sizeof(dump))) < 0)
		return -1;
	if (server / 10000 <= major)
		return 0;
	bk_err_set("the server is PostgreSQL %s (major %d) but pg_dump is %s (major %d): "
		   "pg_dump cannot dump a server newer than itself", shown ? shown : "?",
		   server / 10000, dump, major);
	bk_err_hint("use pg_dump %d or newer: in the container, build the image with "
		    "--build-arg PG_MAJOR=%d (Dockerfile.backup says how)", server / 10000,
		    server / 10000);
	return -1;
}
