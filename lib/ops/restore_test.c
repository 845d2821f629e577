/* The restore test step of bk-run (see restore_test.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive_read.h"
#include "cli.h"
#include "config.h"
#include "content.h"
#include "err.h"
#include "extract.h"
#include "fs.h"
#include "log.h"
#include "pg.h"
#include "restore.h"
#include "restore_check.h"
#include "restore_test.h"

#define URL_VAR "BACKUP_RESTORE_TEST_URL"
#define APP "bk-run restore-test"
#define PREFIX "bk_restore_test_"
/* Advisory lock class of scratch database names ('bkrt'): a live run holds
 * its name's lock on the maintenance connection, so a run that finds the
 * database knows whether its owner is alive. */
#define LOCK_CLASS "1651208820"

/* ---- the schedule ---- */

/* The last test: 1 with *epoch and *ok from .last_restore_test, 0 when none
 * (or unreadable: then it is due). */
static int last_test(long long *epoch, int *ok)
{
	char *path = bk_path_join(bk_config.dir, BK_STATUS_RESTORE_TEST), *text = NULL;
	char result[8] = "";
	size_t len;
	int ret = 0;

	if (bk_read_private(path, 4096, &text, &len) == 0 &&
	    sscanf(text, "%lld\t%7[a-z]", epoch, result) == 2) {
		*ok = !strcmp(result, "ok");
		ret = 1;
	}
	free(text);
	free(path);
	return ret;
}

/* Not due when BACKUP_RESTORE_TEST_EVERY_DAYS is set and the last test
 * passed less than that long ago (a failed one is tried again each run). */
static int due(long long now, struct bk_rtest *res)
{
	long long last = 0, next;
	int ok = 0;
	char when[64];

	if (!bk_config.restore_test_every_days || !last_test(&last, &ok) || !ok)
		return 1;
	next = last + (long long)bk_config.restore_test_every_days * 86400;
	if (now >= next || last > now)
		return 1;
	bk_iso_time(last, when, sizeof(when));
	snprintf(res->summary, sizeof(res->summary), "not this run: last tested OK %s "
		 "(BACKUP_RESTORE_TEST_EVERY_DAYS=%d)", when, bk_config.restore_test_every_days);
	return 0;
}

static int record(long long epoch, const struct bk_rtest *res)
{
	char *path = bk_path_join(bk_config.dir, BK_STATUS_RESTORE_TEST), line[1200], why[1024];
	int n, ret;

	snprintf(why, sizeof(why), "%s", res->ok ? "-" : res->why);
	for (char *p = why; *p; p++)
		if ((unsigned char)*p < 32 || *p == 127)
			*p = ' ';
	n = snprintf(line, sizeof(line), "%lld\t%s\t%.1f\t%s\n", epoch, res->ok ? "ok" : "fail",
		     res->seconds, why[0] ? why : "-");
	if (n >= (int)sizeof(line))
		n = (int)sizeof(line) - 1, line[n - 1] = '\n';
	ret = bk_write_file_atomic(path, line, (size_t)n, 0600);
	free(path);
	return ret;
}

/* ---- scratch databases ---- */

/* Take the name's advisory lock: 1 taken, 0 held by a live run, -1 error. */
static int lock_name(PGconn *admin, const char *name)
{
	const char *params[1] = { name };
	PGresult *res = bk_pg_query_params(admin, "SELECT pg_catalog.pg_try_advisory_lock("
					   LOCK_CLASS ", pg_catalog.hashtext($1))", 1, params);
	int ret;

	if (!res)
		return -1;
	ret = !strcmp(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	return ret;
}

static void unlock_name(PGconn *admin, const char *name)
{
	const char *params[1] = { name };
	PGresult *res = bk_pg_query_params(admin, "SELECT pg_catalog.pg_advisory_unlock("
					   LOCK_CLASS ", pg_catalog.hashtext($1))", 1, params);

	PQclear(res);
}

/* DROP DATABASE; FORCE ends the sessions a killed run left (PostgreSQL 13+). */
static int drop_db(PGconn *admin, const char *name)
{
	char *q = bk_pg_ident(admin, name), *sql;
	int ret;

	if (!q)
		return -1;
	sql = bk_asprintf("DROP DATABASE IF EXISTS %s%s", q,
			  PQserverVersion(admin) >= 130000 ? " WITH (FORCE)" : "");
	ret = bk_pg_exec(admin, sql);
	free(sql);
	free(q);
	return ret;
}

/* Scratch databases of this installation whose run died: dropped. */
static void drop_leftovers(PGconn *admin, const char *hash)
{
	char *pattern = bk_asprintf("^" PREFIX "%s_[0-9]+$", hash);
	const char *params[1] = { pattern };
	PGresult *res = bk_pg_query_params(admin, "SELECT datname FROM pg_catalog.pg_database"
					   " WHERE datname ~ $1 ORDER BY 1", 1, params);

	free(pattern);
	if (!res) {
		bk_warn("cannot look for scratch databases left by an interrupted run: %s", bk_err());
		return;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		const char *name = PQgetvalue(res, i, 0);
		int l = lock_name(admin, name);

		if (l == 0)
			bk_info("keeping scratch database %s: a running restore test holds it", name);
		if (l <= 0)
			continue;
		bk_info("dropping scratch database %s left by an interrupted run", name);
		if (drop_db(admin, name) < 0)
			bk_warn("cannot drop %s: %s", name, bk_err());
		unlock_name(admin, name);
	}
	PQclear(res);
}

static int create_db(PGconn *admin, const char *name, const char *target)
{
	char *q = bk_pg_ident(admin, name), *sql;
	int ret;

	if (!q)
		return -1;
	sql = bk_asprintf("CREATE DATABASE %s", q);
	ret = bk_pg_exec(admin, sql);
	free(sql);
	free(q);
	if (ret < 0) {
		bk_err_prefix("cannot create the scratch database %s on %s", name, target);
		bk_err_hint("the role of %s needs CREATEDB (ALTER ROLE NAME CREATEDB)",
			    bk_config.restore_test_url ? URL_VAR : "the backup's connection; set "
			    URL_VAR " to one whose role has it");
	}
	return ret;
}

/* ---- the test ---- */

/* TimeZone and lc_monetary of the backed-up database's sessions: the
 * export's text of timestamptz and money values depends on them. */
static void source_settings(char **tz, char **money)
{
	PGconn *conn = bk_pg_connect(APP);
	PGresult *res = conn ? bk_pg_query(conn, "SELECT pg_catalog.current_setting('TimeZone'),"
					   " pg_catalog.current_setting('lc_monetary')") : NULL;

	*tz = *money = NULL;
	if (res) {
		*tz = bk_xstrdup(PQgetvalue(res, 0, 0));
		*money = bk_xstrdup(PQgetvalue(res, 0, 1));
	} else {
		bk_warn("restore test: cannot read the time zone of the backed-up server (%s): the "
			"scratch database's is used", bk_err());
	}
	PQclear(res);
	bk_pg_close(conn);
}

/* Every check on the restored database; the restore itself checked the row
 * counts of what it loaded. */
static int prove(PGconn *conn, const struct bk_restore_plan *plan,
		 const struct bk_extract_files *kept)
{
	struct bk_content c = { 0 };
	char *tz, *money;
	long n_post, n_seq;
	double t = bk_monotonic(), t_archive, t_db;
	int ret = -1;

	source_settings(&tz, &money);
	if (bk_pg_exec(conn, "SET search_path = ''") < 0 ||
	    bk_restore_check_post(conn, kept, &n_post) < 0 ||
	    bk_restore_check_sequences(conn, &n_seq) < 0)
		goto out;
	t_archive = bk_monotonic();
	if (bk_content_read_archive(&c, plan, kept, conn) < 0)
		goto out;
	t_db = bk_monotonic();
	if (bk_content_read_database(&c, conn, tz, money) < 0 || bk_content_compare(&c) < 0)
		goto out;
	bk_info("restore test: %zu tables equal to the archive row for row, %ld constraints and "
		"indexes valid, %ld sequences ahead of their columns (checks %.1f s: post-data and "
		"sequences %.1f s, archive digest %.1f s, database digest %.1f s)", c.n, n_post,
		n_seq, bk_monotonic() - t, t_archive - t, t_db - t_archive, bk_monotonic() - t_db);
	ret = 0;
out:
	bk_content_free(&c);
	free(tz);
	free(money);
	return ret;
}

/* Extract (as bk-unpack --restore does), restore, prove. */
static int restore_and_prove(const char *archive, const char *tmpdir, const char *name)
{
	struct bk_extract_files kept = { 0 };
	struct bk_extract_opts eo = { .private_dir = 1, .keep = bk_restore_keep, .kept = &kept };
	struct bk_restore_plan plan = { 0 };
	struct bk_restore_times times = { 0 };
	struct bk_manifest m;
	char *dir = bk_path_join(tmpdir, "restore-test");
	PGconn *conn = NULL;
	int ret = -1;

	bk_manifest_init(&m);
	if (bk_ar_read_manifest(archive, &m, NULL) < 0 || bk_extract(archive, &m, dir, &eo) < 0 ||
	    bk_restore_plan_init(&plan, &m) < 0)
		goto out;
	if (!(conn = bk_pg_connect_other(URL_VAR, bk_config.restore_test_url, name, APP)))
		goto out;
	if (bk_restore(conn, &kept, &m, BK_REPLACE_NONE, &plan, &times) < 0) {
		bk_err_prefix("restore into %s", name);
		goto out;
	}
	bk_info("restore test: restored %zu tables (schema %.1f s, data %.1f s, post-data %.1f s)",
		plan.n_tables, times.schema, times.data, times.post);
	ret = prove(conn, &plan, &kept);
out:
	bk_pg_close(conn);
	bk_extract_files_close(&kept);
	if (bk_rm_rf(dir) < 0)
		bk_log_err();
	bk_restore_plan_free(&plan);
	bk_manifest_free(&m);
	free(dir);
	return ret;
}

static void set_failure(struct bk_rtest *res)
{
	const char *hint = bk_err_hint_text();

	snprintf(res->why, sizeof(res->why), "%s%s%s", bk_err(), *hint ? "; hint: " : "", hint);
	bk_log_mask(res->why, sizeof(res->why));
	snprintf(res->summary, sizeof(res->summary), "FAILED: %.1000s", res->why);
}

int bk_restore_test(const char *archive, const char *tmpdir, const char *hash, long long epoch,
		    struct bk_rtest *res)
{
	char *name = bk_asprintf(PREFIX "%s_%lld", hash, epoch);
	PGconn *admin;
	double t0;
	int locked = 0, created = 0;

	memset(res, 0, sizeof(*res));
	t0 = bk_monotonic();
	snprintf(res->target, sizeof(res->target), "%s/%s",
		 bk_pg_target_other(bk_config.restore_test_url), name);
	admin = bk_pg_connect_other(URL_VAR, bk_config.restore_test_url, NULL, APP);
	if (admin)
		drop_leftovers(admin, hash);
	if (!admin)
		bk_warn("restore test: cannot look for scratch databases left by an interrupted "
			"run: %s", bk_err());
	if (!due(epoch, res)) {
		bk_info("restore test: %s", res->summary);
		bk_pg_close(admin);
		free(name);
		return 0;
	}
	res->ran = 1;
	if (!admin || (locked = lock_name(admin, name)) < 0)
		goto failed;
	if (!locked) {
		bk_err_set("scratch database name %s is locked by another run", name);
		goto failed;
	}
	bk_info("restore test: into %s", res->target);
	if (create_db(admin, name, bk_pg_target_other(bk_config.restore_test_url)) < 0)
		goto failed;
	created = 1;
	res->ok = restore_and_prove(archive, tmpdir, name) == 0;
	if (!res->ok)
		set_failure(res);
failed:
	if (!res->ok && !res->why[0])
		set_failure(res);
	if (created && drop_db(admin, name) < 0) {
		bk_warn("restore test: cannot drop %s: %s; the next run drops it", name, bk_err());
	}
	if (locked > 0)
		unlock_name(admin, name);
	bk_pg_close(admin);
	res->seconds = bk_monotonic() - t0;
	if (res->ok)
		snprintf(res->summary, sizeof(res->summary), "OK in %.1f s into %s", res->seconds,
			 res->target);
	bk_info("step restore-test %s in %.1f s%s%s", res->ok ? "done" : "failed", res->seconds,
		res->ok ? "" : ": ", res->ok ? "" : res->why);
	if (record(epoch, res) < 0)
		bk_log_err();
	free(name);
	return res->ok ? 0 : -1;
}
