/*
 * bk-unpack: verify a bk archive, then extract it safely (-C), restore it
 * into the database in one transaction (--restore) and put the configuration
 * files back (--config-to); --dry-run prints the plan and changes nothing.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive_read.h"
#include "cli.h"
#include "config.h"
#include "err.h"
#include "extract.h"
#include "fs.h"
#include "log.h"
#include "pg.h"
#include "progress.h"
#include "restore.h"
#include "verify.h"

static const char *prog = "bk-unpack";

static void __attribute__((noreturn)) usage(void)
{
	printf("usage: bk-unpack [-C DIR] [--restore [--replace | --replace-all]]\n"
	       "                 [--config-to DIR] [--force] [--dry-run] [-i IDENTITY]\n"
	       "                 [--env-file FILE] [--verify-key FILE] [--unsigned] FILE\n"
	       "\n"
	       "Verify the bk archive FILE, then do what the options say and print what\n"
	       "was made (directories, HOST:PORT/DATABASE); with none of -C, --restore\n"
	       "and --config-to, print the plan of a restore and change nothing.\n"
	       "FILE may be age-encrypted (NAME.tar.gz.age): it is decrypted on the way\n"
	       "in, once to verify and again to extract, never to a file.\n"
	       "\n"
	       "  -C, --directory DIR  extract every member into DIR (made 0700 if missing;\n"
	       "                       if it exists, it must be yours and writable by you\n"
	       "                       alone)\n"
	       "      --restore        restore into the database named by POSTGRES_* or\n"
	       "                       DATABASE_URL, in one transaction\n"
	       "      --replace        with --restore: replace the rows of the backed-up\n"
	       "                       tables if they hold rows (else the restore is\n"
	       "                       refused); windowed tables keep their rows older\n"
	       "                       than the backup's window\n"
	       "      --replace-all    the same, but empty every backed-up table first,\n"
	       "                       windowed tables too\n"
	       "      --verify-key FILE\n"
	       "                       the minisign public key that must have signed the\n"
	       "                       archive (instead of BACKUP_VERIFY_KEY)\n"
	       "      --unsigned       with --restore and no verify key: restore an\n"
	       "                       unsigned archive (nothing proves who made it)\n"
	       "      --config-to DIR  write the configuration files into DIR\n"
	       "      --force          replace files that exist in DIR\n"
	       "  -n, --dry-run        print the plan on standard output, change nothing\n"
	       "                       (the default when no other option is given)\n"
	       "  -i, --identity FILE  age identity file for a .age archive (default:\n"
	       "                       BACKUP_AGE_IDENTITY_FILE)\n"
	       "      --env-file FILE  read variables from FILE (.env syntax)\n"
	       "  -h, --help           show this help and exit\n"
	       "      --version        show the version and exit\n"
	       "\n"
	       "Variables: POSTGRES_HOST POSTGRES_PORT POSTGRES_DB POSTGRES_USER\n"
	       "POSTGRES_PASSWORD DATABASE_URL BACKUP_VERIFY_KEY BACKUP_TMPDIR BACKUP_LOG\n"
	       "BACKUP_AGE_IDENTITY_FILE (see bk-unpack(1)).\n"
	       "Exit status: 0 done, 1 failed or refused (nothing changed), 2 usage or\n"
	       "configuration error.\n");
	exit(bk_finish(BK_EXIT_OK));
}

struct opts {
	const char *archive, *dir, *config_to, *env_file, *identity, *verify_key;
	int restore, force, dry_run, unsigned_ok;
	enum bk_restore_replace replace;
};

/* ---- signals: a restore in progress is rolled back, temp files removed ---- */

static volatile sig_atomic_t stop;
static PGcancel *volatile pg_cancel;
static volatile int pg_socket = -1;

static void on_signal(int sig)
{
	char errbuf[256];

	(void)sig;
	stop = 1;
	/* Cancel what the server is doing (even a wait for a lock), then break
	 * off the connection: the transaction is rolled back either way and
	 * the blocked libpq call returns with an error. Both are safe here. */
	if (pg_cancel)
		PQcancel(pg_cancel, errbuf, sizeof(errbuf));
	if (pg_socket >= 0)
		shutdown(pg_socket, SHUT_RDWR);
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static int stopped(void)
{
	if (stop)
		bk_err_set("stopped by a signal");
	return stop;
}

/* ---- steps ---- */

struct times {
	double verify, extract;
	struct bk_restore_times r;
};

/* Who signed the archive, as verification found it. */
struct origin {
	enum bk_verify_sig sig;
	char key_id[BK_MINISIGN_ID_HEX];
};

static int verify(const char *archive, double *secs, struct origin *who)
{
	struct bk_verify_report rep;
	double t0 = bk_monotonic();
	int ret;

	ret = bk_verify_archive(archive, &rep);
	who->sig = rep.sig;
	memcpy(who->key_id, rep.key_id, sizeof(who->key_id));
	/* Size bounds are bk-monitor's business: a note here, not a warning. */
	for (size_t i = 0; i < rep.n_warnings; i++)
		bk_info("%s: %s", archive, rep.warnings[i]);
	if (ret == 0)
		bk_info("%s is intact: %zu files, %llu bytes unpacked, %llu rows", archive,
			rep.n_files, rep.unpacked_bytes, rep.rows);
	else
		bk_err_prefix("%s is not intact", archive);
	bk_verify_report_free(&rep);
	*secs = bk_monotonic() - t0;
	return ret;
}

static int select_config(const struct bk_manifest *m, const char *path)
{
	return bk_extract_is_config(m, path);
}

static struct bk_extract_opts config_opts(int force)
{
	struct bk_extract_opts o = {
		.select = select_config,
		.file_mode = bk_extract_config_mode,
		.dir_mode = 0755,
		.force = force,
		.sync = 1,
	};

	return o;
}

static size_t n_config(const struct bk_manifest *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_entries; i++)
		n += bk_extract_is_config(m, m->entries[i].path);
	return n;
}

/* Refuse before anything else is done if config files would be overwritten. */
static int check_config_target(const struct opts *o, const struct bk_manifest *m)
{
	struct bk_extract_opts co = config_opts(o->force);
	char *list;
	int n;

	if (!n_config(m))
		return bk_err_set("the archive holds no configuration files");
	if (o->force)
		return 0;
	n = bk_extract_conflicts(m, o->config_to, &co, &list);
	if (n < 0)
		return -1;
	if (n > 0) {
		bk_err_set("%s: %d configuration file%s exist%s already: %s", o->config_to, n,
			   n == 1 ? "" : "s", n == 1 ? "s" : "", list);
		bk_err_hint("--force replaces them");
		free(list);
		return -1;
	}
	return 0;
}

static void log_refusal(const struct bk_restore_plan *p)
{
	for (size_t i = 0; i < p->n_tables; i++)
		if (p->tables[i].target_rows > 0)
			bk_error("  %s: %lld rows", p->tables[i].qname, p->tables[i].target_rows);
}

static int restore(const struct opts *o, const struct bk_manifest *m,
		   const struct bk_extract_files *files, struct times *t)
{
	struct bk_restore_plan plan;
	PGconn *conn;
	int rc;

	if (bk_restore_plan_init(&plan, m) < 0)
		return -1;
	conn = bk_pg_connect(prog);
	if (!conn) {
		bk_restore_plan_free(&plan);
		return -1;
	}
	pg_cancel = PQgetCancel(conn);
	pg_socket = PQsocket(conn);
	bk_info("restoring into %s/%s", bk_pg_target(), bk_pg_dbname());
	rc = stopped() ? -1 : bk_restore(conn, files, m, o->replace, &plan, &t->r);
	pg_socket = -1;
	{
		PGcancel *c = pg_cancel;

		pg_cancel = NULL;
		PQfreeCancel(c);
	}
	if (rc == BK_RESTORE_REFUSED) {
		/* The message first, then the tables it speaks of, then the hint. */
		char *hint = bk_xstrdup(bk_err_hint_text());

		bk_error("%s", bk_err());
		log_refusal(&plan);
		bk_err_clear();
		bk_err_set("nothing was changed");
		if (*hint)
			bk_err_hint("%s", hint);
		free(hint);
	} else if (rc < 0 && stop) {
		bk_err_set("stopped by a signal: the restore was rolled back");
	} else if (rc == 0) {
		bk_info("restored %zu tables into %s/%s (%s)", plan.n_tables, bk_pg_target(),
			bk_pg_dbname(), plan.mode == BK_RESTORE_FULL ? "schema and data" :
			plan.n_populated ? "data replaced" : "data loaded");
	}
	bk_pg_close(conn);
	bk_restore_plan_free(&plan);
	return rc < 0 ? -1 : 0;
}

/* ---- origin: a restore runs the archive's schema files as they are ---- */

/*
 * Why a restore of an archive verified as who says must be refused (the
 * hint in *hint), or NULL. A bad signature, or none with a verify key, did
 * not pass verification already.
 */
static const char *origin_refusal(const struct opts *o, const struct origin *who, char *buf,
				  size_t size, char *hint, size_t hsize)
{
	*hint = '\0';
	switch (who->sig) {
	case BK_SIG_OK:
		return NULL;
	case BK_SIG_UNCHECKED:
		snprintf(buf, size, "the archive is signed by key ID %s, and no verify key is "
			 "configured to check that signature: refusing to restore", who->key_id);
		snprintf(hint, hsize, "set BACKUP_VERIFY_KEY or --verify-key FILE to the public key "
			 "of key ID %s, as you keep it off the backup host", who->key_id);
		return buf;
	case BK_SIG_NONE:
		if (o->unsigned_ok)
			return NULL;
		snprintf(buf, size, "the archive is unsigned: nothing proves who made it, and a "
			 "restore runs its schema files: refusing to restore");
		snprintf(hint, hsize, "restore it with --unsigned only if you know where it comes "
			 "from; sign the backups with BACKUP_SIGNING_KEY (see bk-pack(1))");
		return buf;
	default:
		snprintf(buf, size, "bad signature: refusing to restore");
		return buf;
	}
}

/* Before a restore: refuse, or say loudly what is trusted. */
static int check_origin(const struct opts *o, const struct origin *who)
{
	char why[512], hint[512];

	if (origin_refusal(o, who, why, sizeof(why), hint, sizeof(hint))) {
		bk_err_set("%s", why);
		if (*hint)
			bk_err_hint("%s", hint);
		return -1;
	}
	if (who->sig == BK_SIG_NONE)
		bk_warn("RESTORING AN UNSIGNED ARCHIVE (--unsigned): nothing proves who made %s; "
			"its schema files run as they are", o->archive);
	else
		bk_info("%s is signed by key ID %s, checked against %s", o->archive, who->key_id,
			bk_config.verify_key_from);
	return 0;
}

/* The plan's "signature" line, and what a restore would say. */
static int plan_origin(const struct opts *o, const struct origin *who)
{
	char why[512], hint[512];
	const char *refusal = origin_refusal(o, who, why, sizeof(why), hint, sizeof(hint));

	if (who->sig == BK_SIG_OK)
		printf("signature  signed by key ID %s (checked against %s)\n", who->key_id,
		       bk_config.verify_key_from);
	else if (who->sig == BK_SIG_UNCHECKED)
		printf("signature  signed by key ID %s (not checked: no verify key)\n", who->key_id);
	else
		printf("signature  unsigned%s\n", o->unsigned_ok ? " (--unsigned)" : "");
	if (!o->restore)
		return 0;
	if (refusal) {
		printf("  --restore would refuse: %s\n", refusal);
		bk_err_set("%s", refusal);
		if (*hint)
			bk_err_hint("%s", hint);
		return -1;
	}
	if (who->sig == BK_SIG_NONE)
		printf("  --restore would warn: RESTORING AN UNSIGNED ARCHIVE (--unsigned)\n");
	return 0;
}

/* ---- the plan (--dry-run) ---- */

static void plan_members(const struct bk_manifest *m)
{
	const char *v;

	if ((v = bk_manifest_meta_get(m, "created")))
		printf("created    %s from %s/%s\n", v,
		       bk_manifest_meta_get(m, "host") ? bk_manifest_meta_get(m, "host") : "?",
		       bk_manifest_meta_get(m, "database") ? bk_manifest_meta_get(m, "database") : "?");
	printf("members\n");
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct bk_manifest_entry *e = &m->entries[i];

		if (e->rows >= 0)
			printf("  %-36s %12llu bytes %10lld rows\n", e->path, e->bytes, e->rows);
		else
			printf("  %-36s %12llu bytes\n", e->path, e->bytes);
	}
}

/* "# omitted: QNAME ROWS_ESTIMATE RULE": the tables the backup holds no rows of. */
static void plan_omitted(const struct bk_manifest *m)
{
	const char *v;
	size_t i = 0;

	while ((v = bk_manifest_meta_next(m, "omitted", &i)) != NULL) {
		const char *p = v, *rest;
		int quoted = 0;
		long long est;
		char *end;

		for (; *p && (quoted || *p != ' '); p++)
			if (*p == '"')
				quoted = !quoted;
		est = *p ? strtoll(p + 1, &end, 10) : -1;
		if (!*p || end == p + 1 || (*end && *end != ' ')) {
			printf("  not in this backup: %s\n", v);	/* not the contract's form */
			continue;
		}
		rest = *end ? end + 1 : "";
		printf("  not in this backup: %.*s (about %lld rows%s%s)\n", (int)(p - v), v, est,
		       *rest ? ", " : "", rest);
	}
}

static const char *mode_note(const struct opts *o, const struct bk_restore_plan *p)
{
	if (!p->n_populated)
		return "";
	switch (o->replace) {
	case BK_REPLACE_ALL:
		return " (--replace-all: the tables emptied first)";
	case BK_REPLACE_WINDOW:
		return " (replacing rows; windowed tables keep their older rows)";
	default:
		return " (rows replaced with --replace)";
	}
}

/* One table of the plan: what it gets, what it loses and keeps. */
static void plan_table(const struct opts *o, const struct bk_restore_table *t)
{
	int keeps = t->window && o->replace != BK_REPLACE_ALL;
	long long del = keeps ? t->target_window : t->target_rows;
	char sdel[24] = "-", skeep[24] = "-", sload[24];
	const char *verb = !t->oid ? "create" : !t->target_rows ? "load"
			   : keeps ? "window" : "replace";

	if (t->oid) {
		snprintf(sdel, sizeof(sdel), "%lld", del);
		snprintf(skeep, sizeof(skeep), "%lld", t->target_rows - del);
	}
	snprintf(sload, sizeof(sload), "%lld", t->rows);
	printf("  %-8s %-36s %9s %9s %9s  %s\n", verb, t->qname, sdel, skeep, sload, t->file);
	if (!t->window)
		return;
	printf("  %-8s [%s%s%s]", "", t->window, t->zone ? " " : "", t->zone ? t->zone : "");
	if (!keeps && t->oid && t->target_rows > t->target_window)
		printf(" (--replace-all: older rows deleted too)");
	else if (keeps && t->oid && t->closure > 0 && t->target_rows > del)
		printf(" up to %lld of the kept rows are replaced by the backup's older rows "
		       "(same key)", t->closure < t->target_rows - del ? t->closure
		       : t->target_rows - del);
	putchar('\n');
}

/* 0 when the restore would go ahead, -1 (error slot) when it would not. */
static int plan_restore(const struct opts *o, const struct bk_manifest *m)
{
	struct bk_restore_plan plan;
	PGconn *conn;
	int ret = -1;

	printf("restore    into %s/%s%s\n", bk_pg_target(), bk_pg_dbname(),
	       o->restore ? "" : " (with --restore)");
	if (bk_restore_plan_init(&plan, m) < 0) {
		printf("  would refuse: %s\n", bk_err());
		return -1;
	}
	conn = bk_pg_connect(prog);
	if (!conn) {
		printf("  cannot connect: %s\n", bk_err());
		goto out;
	}
	if (bk_restore_probe(&plan, conn) < 0) {
		printf("  would refuse: %s\n", bk_err());
		goto out;
	}
	if (plan.mode == BK_RESTORE_FULL)
		printf("  mode     the database has none of the tables: schema.sql, data,\n"
		       "           sequences, schema-post.sql in one transaction\n");
	else
		printf("  mode     the tables exist: data only, in one transaction%s\n",
		       mode_note(o, &plan));
	printf("  %-8s %-36s %9s %9s %9s  %s\n", "rows", "table", "delete", "keep", "load", "from");
	for (size_t i = 0; i < plan.n_tables; i++)
		plan_table(o, &plan.tables[i]);
	plan_omitted(m);
	if (plan.mode == BK_RESTORE_DATA && plan.n_populated && !o->replace) {
		printf("  would refuse: %d tables hold rows (--replace replaces their rows, "
		       "--replace-all empties them)\n", plan.n_populated);
		bk_err_set("%d of the backed-up tables in %s hold rows: a restore without "
			   "--replace would be refused", plan.n_populated, bk_pg_dbname());
		goto out;
	}
	ret = 0;
out:
	bk_pg_close(conn);
	bk_restore_plan_free(&plan);
	return ret;
}

static int plan_files(const char *label, const char *dir, const struct bk_manifest *m,
		      const struct bk_extract_opts *eo, int force)
{
	char *list = NULL;
	int n;

	printf("%-10s %s\n", label, dir);
	for (size_t i = 0; i <= m->n_entries; i++) {
		const char *path = i < m->n_entries ? m->entries[i].path : BK_MANIFEST_NAME;

		if (eo->select && !eo->select(m, path))
			continue;
		printf("  %-36s %04o\n", path, eo->file_mode ? (unsigned)eo->file_mode(m, path, 0777)
							    : 0600u);
	}
	n = bk_extract_conflicts(m, dir, eo, &list);
	if (n < 0) {
		printf("  would refuse: %s\n", bk_err());
		return -1;
	}
	if (n > 0) {
		printf("  %s: %s\n", force ? "would replace" : "would refuse, these exist", list);
		if (!force)
			bk_err_set("%s: %d files exist already: %s", dir, n, list);
		free(list);
		return force ? 0 : -1;
	}
	return 0;
}

static int dry_run(const struct opts *o)
{
	struct bk_manifest m;
	struct origin who;
	double secs;
	int ret = 0;

	printf("archive    %s\n", o->archive);
	if (verify(o->archive, &secs, &who) < 0) {
		printf("verified   NO: %s\n", bk_err());
		return -1;
	}
	printf("verified   intact\n");
	if (plan_origin(o, &who) < 0)
		return -1;
	if (bk_ar_read_manifest(o->archive, &m, NULL) < 0)
		return -1;
	plan_members(&m);
	if (o->dir) {
		struct bk_extract_opts eo = { .force = o->force };

		if (bk_extract_check_private(o->dir) < 0) {
			printf("extract-to %s\n  would refuse: %s\n", o->dir, bk_err());
			ret = -1;
		} else if (plan_files("extract-to", o->dir, &m, &eo, o->force) < 0) {
			ret = -1;
		}
	}
	if ((o->restore || (!o->dir && !o->config_to)) && plan_restore(o, &m) < 0)
		ret = -1;
	if (o->config_to) {
		struct bk_extract_opts co = config_opts(o->force);

		if (!n_config(&m)) {
			printf("config-to  %s\n  would refuse: the archive holds no configuration "
			       "files\n", o->config_to);
			bk_err_set("the archive holds no configuration files");
			ret = -1;
		} else if (plan_files("config-to", o->config_to, &m, &co, o->force) < 0) {
			ret = -1;
		}
	}
	printf("nothing changed (dry run)\n");
	bk_manifest_free(&m);
	return ret;
}

/* ---- the real thing ---- */

static int unpack(const struct opts *o)
{
	struct bk_extract_files kept = { 0 };
	/* The restore reads what was extracted through the descriptors kept
	 * then, from a directory only we may write. */
	struct bk_extract_opts all = {
		.force = o->force, .sync = 1, .private_dir = 1,
		.keep = o->restore ? bk_restore_keep : NULL, .kept = &kept,
	};
	struct bk_extract_opts tmp_opts = {
		.private_dir = 1, .keep = bk_restore_keep, .kept = &kept,
	};
	struct bk_manifest m;
	struct times t = { 0 };
	struct origin who;
	char *tmp = NULL, *target = NULL;
	double t0 = bk_monotonic(), t1;
	int ret = -1, restoring = 0;

	bk_manifest_init(&m);
	if (o->dir && bk_extract_check_private(o->dir) < 0)
		goto out;
	if (o->restore)
		bk_progress_phase("verify");
	if (verify(o->archive, &t.verify, &who) < 0 || stopped())
		goto out;
	if (o->restore && check_origin(o, &who) < 0)
		goto out;
	if (bk_ar_read_manifest(o->archive, &m, NULL) < 0)
		goto out;
	if (o->config_to && check_config_target(o, &m) < 0)
		goto out;
	t1 = bk_monotonic();
	if (o->dir) {
		if (bk_extract(o->archive, &m, o->dir, &all) < 0)
			goto out;
		bk_info("extracted %zu files into %s", m.n_entries + 1, o->dir);
	} else if (o->restore) {
		bk_progress_phase("extract");
		tmp = bk_mkdtemp(bk_config.tmpdir, "bk-unpack.");
		if (!tmp || bk_extract(o->archive, &m, tmp, &tmp_opts) < 0)
			goto out;
	}
	t.extract = bk_monotonic() - t1;
	if (stopped())
		goto out;
	if (o->restore) {
		restoring = 1;
		if (restore(o, &m, &kept, &t) < 0)
			goto out;
		target = bk_asprintf("%s/%s", bk_pg_target(), bk_pg_dbname());
	}
	if (stopped())
		goto out;
	if (o->config_to) {
		struct bk_extract_opts co = config_opts(o->force);

		if (bk_extract(o->archive, &m, o->config_to, &co) < 0)
			goto out;
		bk_info("wrote %zu configuration files into %s", n_config(&m), o->config_to);
	}
	if (o->dir)
		bk_emit(o->dir);
	if (target)
		bk_emit(target);
	if (o->config_to)
		bk_emit(o->config_to);
	ret = 0;
out:
	bk_extract_files_close(&kept);
	if (tmp && bk_rm_rf(tmp) < 0)
		bk_warn("%s", bk_err());
	bk_progress_end();
	if (ret == 0 || restoring)
		bk_info("phase times: verify %.2f s, extract %.2f s, schema %.2f s, data %.2f s, "
			"post-data %.2f s, total %.2f s", t.verify, t.extract, t.r.schema,
			t.r.data, t.r.post, bk_monotonic() - t0);
	free(tmp);
	free(target);
	bk_manifest_free(&m);
	return ret;
}

static void check_trust_options(const struct opts *o)
{
	if (o->verify_key && !*o->verify_key)
		bk_usage_error(prog, "--verify-key needs a file name");
	if (o->unsigned_ok && !o->restore)
		bk_usage_error(prog, "--unsigned goes with --restore");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "directory", required_argument, NULL, 'C' },
		{ "restore", no_argument, NULL, 'R' },
		{ "replace", no_argument, NULL, 'P' },
		{ "replace-all", no_argument, NULL, 'A' },
		{ "config-to", required_argument, NULL, 'G' },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "identity", required_argument, NULL, 'i' },
		{ "verify-key", required_argument, NULL, 'K' },
		{ "unsigned", no_argument, NULL, 'U' },
		BK_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct opts o = { 0 };
	int c;

	while ((c = bk_getopt(argc, argv, ":C:ni:h", longopts)) != -1) {
		switch (c) {
		case 'C':
			o.dir = optarg;
			break;
		case 'R':
			o.restore = 1;
			break;
		case 'P':
		case 'A':
			if (o.replace && o.replace != (c == 'A' ? BK_REPLACE_ALL : BK_REPLACE_WINDOW))
				bk_usage_error(prog, "--replace and --replace-all: choose one");
			o.replace = c == 'A' ? BK_REPLACE_ALL : BK_REPLACE_WINDOW;
			break;
		case 'G':
			o.config_to = optarg;
			break;
		case 'f':
			o.force = 1;
			break;
		case 'n':
			o.dry_run = 1;
			break;
		case 'i':
			o.identity = optarg;
			break;
		case 'K':
			o.verify_key = optarg;
			break;
		case 'U':
			o.unsigned_ok = 1;
			break;
		default:
			bk_common_option(c, prog, argv, usage, &o.env_file);
		}
	}
	if (optind == argc)
		bk_missing_archive(prog);
	if (optind != argc - 1)
		bk_usage_error(prog, "one archive at a time");
	o.archive = argv[optind];
	/* Alone, FILE gets the plan: nothing is changed unless asked for. */
	if (!o.dir && !o.restore && !o.config_to)
		o.dry_run = 1;
	if (o.replace && !o.restore && !o.dry_run)
		bk_usage_error(prog, o.replace == BK_REPLACE_ALL ? "--replace-all goes with --restore"
				     : "--replace goes with --restore");
	if (o.force && !o.dir && !o.config_to)
		bk_usage_error(prog, "--force goes with -C DIR or --config-to DIR");
	if ((o.dir && !*o.dir) || (o.config_to && !*o.config_to))
		bk_usage_error(prog, "empty directory name");
	check_trust_options(&o);

	bk_start(prog, o.env_file);
	if (bk_ar_use_identity(o.identity) < 0 ||
	    (o.verify_key && bk_config_verify_key_file(o.verify_key) < 0))
		bk_die(BK_EXIT_USAGE);
	catch_signals();
	if (o.dry_run) {
		if (dry_run(&o) < 0) {
			bk_log_err();
			return bk_finish(BK_EXIT_FAIL);
		}
		return bk_finish(BK_EXIT_OK);
	}
	if (unpack(&o) < 0) {
		bk_log_err();
		return bk_finish(BK_EXIT_FAIL);
	}
	return bk_finish(BK_EXIT_OK);
}
