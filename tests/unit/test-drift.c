/* Unit tests for lib/archive/drift.c: every kind of drift sentence, round-1
 * manifests, quoted names, and the loader of the previous archive on a
 * directory of tar.gz files made here with libarchive (no PostgreSQL). */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drift.h"
#include "err.h"
#include "fs.h"
#include "manifest.h"
#include "tap.h"

#define PREV "critical_backup_20261130_020000.tar.gz"

static char dir[] = "/tmp/bk-test-drift.XXXXXX";

static void parse(struct bk_manifest *m, const char *text)
{
	bk_manifest_init(m);
	if (bk_manifest_parse(m, text, strlen(text)) < 0) {
		printf("Bail out! test manifest does not parse: %s\n", bk_err());
		exit(1);
	}
}

/* compare(prev, cur) must give exactly the sentences in want (NULL-terminated), in order. */
static void check(const char *title, const char *prev_text, const char *prev_name,
		  const char *cur_text, int pct, const char *const *want)
{
	struct bk_manifest prev, cur;
	struct bk_drift d;
	size_t n = 0;
	int same;

	parse(&prev, prev_text);
	parse(&cur, cur_text);
	bk_drift_compare(&prev, prev_name, &cur, pct, &d);
	while (want[n])
		n++;
	same = d.n == n;
	for (size_t i = 0; same && i < n; i++)
		same = !strcmp(d.warnings[i], want[i]);
	ok(same, "%s", title);
	if (!same) {
		for (size_t i = 0; i < n; i++)
			printf("# want: %s\n", want[i]);
		for (size_t i = 0; i < d.n; i++)
			printf("# got:  %s\n", d.warnings[i]);
	}
	bk_drift_free(&d);
	bk_manifest_free(&prev);
	bk_manifest_free(&cur);
}

/* ---- compare ---- */

static const char base[] =
	"# format: bk 1\n"
	"# scope: built-in scope\n"
	"# table: users.sql 200 public.users\n"
	"# table: users.sql 3 public.\"ApiKey\"\n"
	"# table: payments.sql 1000 public.payments\n"
	"# table: credit_transactions.csv 612 public.credit_transactions\n"
	"# table: referenced.sql 4 public.plans\n"
	"# window: credit_transactions.csv created_at >= 2026-09-01 08:17:09.123456\n"
	"# window-rows: credit_transactions.csv 600 1000 12 UTC\n"
	"# added: public.plans referenced by public.users\n"
	"# omitted: public.sessions 50 omit sessions (built-in scope line 3)\n"
	"# omitted: public.\"my logs\" 7000 omit *_logs (built-in scope line 4)\n";

static void test_nothing(void)
{
	static const char *const none[] = { NULL };

	check("the same manifest: no drift", base, PREV, base, 50, none);
	check("a prev without any table line: nothing to compare", "# format: bk 1\n", PREV,
	      base, 50, none);
}

static void test_new(void)
{
	static const char cur[] =
		"# format: bk 1\n"
		"# table: users.sql 200 public.users\n"
		"# table: users.sql 3 public.\"ApiKey\"\n"
		"# table: payments.sql 1000 public.payments\n"
		"# table: credit_transactions.csv 612 public.credit_transactions\n"
		"# table: referenced.sql 4 public.plans\n"
		"# table: user_tokens.sql 9 public.\"User Tokens\"\n"
		"# table: ledger.csv 30 public.ledger\n"
		"# table: referenced.sql 2 public.currencies\n"
		"# window: credit_transactions.csv created_at >= 2026-09-01 08:17:09.123456\n"
		"# window-rows: credit_transactions.csv 600 1000 12 UTC\n"
		"# window: ledger.csv booked_at >= 2026-09-01\n"
		"# window-rows: ledger.csv 30 80 0 -\n"
		"# added: public.plans referenced by public.users\n"
		"# added: public.currencies referenced by public.ledger\n"
		"# omitted: public.sessions 50 omit sessions (built-in scope line 3)\n"
		"# omitted: public.\"my logs\" 7000 omit *_logs (built-in scope line 4)\n"
		"# omitted: public.\"Audit Logs\" 12 omit *_logs (built-in scope line 4)\n"
		"# omitted: stats.\"pg stat\" 0 extension pg_stat_statements\n";
	static const char *const want[] = {
		"drift: new table public.\"User Tokens\" since " PREV ": backed up in full",
		"drift: new table public.ledger since " PREV ": in the window",
		"drift: new table public.currencies since " PREV
		": added because public.ledger references it",
		"drift: new table public.\"Audit Logs\" since " PREV
		": not backed up (omit *_logs (built-in scope line 4))",
		"drift: new table stats.\"pg stat\" since " PREV
		": not backed up (extension pg_stat_statements)",
		NULL
	};

	check("new tables of every class, quoted names with spaces", base, PREV, cur, 50, want);
}

static void test_gone(void)
{
	static const char cur[] =
		"# format: bk 1\n"
		"# table: users.sql 200 public.users\n";
	static const char *const want[] = {
		"drift: table public.\"ApiKey\" is gone since " PREV " (it had 3 rows)",
		"drift: table public.payments is gone since " PREV " (it had 1000 rows)",
		"drift: table public.credit_transactions is gone since " PREV
		" (it had 1000 rows)",
		"drift: table public.plans is gone since " PREV " (it had 4 rows)",
		"drift: table public.sessions is gone since " PREV " (it had about 50 rows)",
		"drift: table public.\"my logs\" is gone since " PREV
		" (it had about 7000 rows)",
		NULL
	};
	static const char round1_prev[] =
		"# table: users.sql 1 public.users\n"
		"# table: tx.csv 42 public.tx\n"
		"# window: tx.csv created_at >= 2026-09-01 08:17:09.123456+00\n";
	static const char *const want1[] = {
		"drift: table public.tx is gone since " PREV " (42 rows of it were backed up)",
		NULL
	};

	check("tables gone, with their rows (estimates said so)", base, PREV, cur, 50, want);
	check("a round-1 window gone: its rows backed up", round1_prev, PREV,
	      "# table: users.sql 1 public.users\n", 50, want1);
}

static void test_left_out(void)
{
	static const char cur[] =
		"# format: bk 1\n"
		"# table: users.sql 200 public.users\n"
		"# table: users.sql 3 public.\"ApiKey\"\n"
		"# table: credit_transactions.csv 612 public.credit_transactions\n"
		"# table: referenced.sql 4 public.plans\n"
		"# window: credit_transactions.csv created_at >= 2026-09-01 08:17:09.123456\n"
		"# window-rows: credit_transactions.csv 600 1000 12 UTC\n"
		"# added: public.plans referenced by public.users\n"
		"# omitted: public.payments 1000 omit pay* (/etc/bk/scope line 2)\n"
		"# omitted: public.sessions 50 omit sessions (built-in scope line 3)\n"
		"# omitted: public.\"my logs\" 7000 omit *_logs (built-in scope line 4)\n";
	static const char *const want[] = {
		"drift: public.payments was backed up in " PREV
		" and is now left out (omit pay* (/etc/bk/scope line 2))",
		NULL
	};

	check("a table backed up before and left out now", base, PREV, cur, 50, want);
}

static void test_fall(void)
{
	static const char prev[] =
		"# table: users.sql 200 public.users\n"
		"# table: payments.sql 1000 public.payments\n"
		"# table: a.sql 1000 public.a\n"
		"# table: b.sql 1000 public.b\n"
		"# table: few.sql 5 public.few\n"
		"# table: few0.sql 5 public.few0\n"
		"# table: grow.sql 10 public.grow\n"
		"# table: tx.csv 100 public.tx\n"
		"# window: tx.csv created_at >= 2026-09-01\n"
		"# window-rows: tx.csv 90 1000 10 -\n"
		"# table: r1.csv 100 public.r1\n"
		"# window: r1.csv created_at >= 2026-09-01\n"
		"# table: towindow.sql 1000 public.towindow\n"
		"# table: referenced.sql 40 public.plans\n"
		"# added: public.plans referenced by public.users\n"
		"# table: one.sql 1 public.one\n"
		"# omitted: public.sessions 5000 omit sessions (built-in scope line 3)\n";
	static const char cur[] =
		"# table: users.sql 0 public.users\n"
		"# table: payments.sql 300 public.payments\n"
		"# table: a.sql 500 public.a\n"
		"# table: b.sql 499 public.b\n"
		"# table: few.sql 1 public.few\n"
		"# table: few0.sql 0 public.few0\n"
		"# table: grow.sql 1000 public.grow\n"
		"# table: tx.csv 20 public.tx\n"
		"# window: tx.csv created_at >= 2026-10-01\n"
		"# window-rows: tx.csv 15 100 5 -\n"
		"# table: r1.csv 1 public.r1\n"
		"# window: r1.csv created_at >= 2026-10-01\n"
		"# window-rows: r1.csv 1 1 0 -\n"
		"# table: towindow.csv 10 public.towindow\n"
		"# window: towindow.csv created_at >= 2026-10-01\n"
		"# window-rows: towindow.csv 10 100 0 -\n"
		"# table: referenced.sql 0 public.plans\n"
		"# added: public.plans referenced by public.users\n"
		"# table: one.sql 0 public.one\n"
		"# omitted: public.sessions 0 omit sessions (built-in scope line 3)\n";
	static const char *const want[] = {
		"drift: public.users has 0 rows, 200 in " PREV,
		"drift: public.payments fell from 1000 to 300 rows (-70%) since " PREV,
		"drift: public.b fell from 1000 to 499 rows (-50%) since " PREV,
		"drift: public.few0 has 0 rows, 5 in " PREV,
		"drift: public.tx fell from 1000 to 100 rows (-90%) since " PREV,
		"drift: public.towindow fell from 1000 to 100 rows (-90%) since " PREV,
		"drift: public.plans has 0 rows, 40 in " PREV,
		"drift: public.one has 0 rows, 1 in " PREV,
		NULL
	};
	static const char *const want90[] = {
		"drift: public.users has 0 rows, 200 in " PREV,
		"drift: public.few0 has 0 rows, 5 in " PREV,
		"drift: public.plans has 0 rows, 40 in " PREV,
		"drift: public.one has 0 rows, 1 in " PREV,
		NULL
	};
	static const char *const want0[] = {
		"drift: public.a fell from 1000 to 985 rows (-1%) since the previous archive",
		NULL
	};

	check("falls: to 0, by more than the share (not exactly it), windows by TOTAL, "
	      "not omitted, not round-1 windows, not under 10 rows", prev, PREV, cur, 50, want);
	check("drop percent 90: only the falls to 0 (a fall of exactly 90% is not more)", prev,
	      PREV, cur, 90, want90);
	check("drop percent 100: as 90 here", prev, PREV, cur, 100, want90);
	check("drop percent 0 is taken as 1; no name: the previous archive",
	      "# table: a.sql 1000 public.a\n", NULL, "# table: a.sql 985 public.a\n", 0, want0);
}

static void test_round1(void)
{
	static const char prev[] =
		"# format: bk 1\n"
		"# scope: built-in scope\n"
		"# table: users.sql 200 public.users\n"
		"# table: credit_transactions.csv 612 public.credit_transactions\n"
		"# window: credit_transactions.csv created_at >= 2026-09-01 08:17:09.123456\n";
	static const char *const want[] = {
		"drift: new table public.\"ApiKey\" since " PREV ": backed up in full",
		"drift: new table public.payments since " PREV ": backed up in full",
		"drift: new table public.plans since " PREV
		": added because public.users references it",
		NULL
	};
	static const char *const want2[] = {
		"drift: new table public.\"my logs\" since " PREV
		": not backed up (omit *_logs (built-in scope line 4))",
		NULL
	};

	check("a round-1 prev: tables omitted now are not new, windows have no TOTAL", prev,
	      PREV, base, 50, want);
	/* one omitted line in prev is enough to trust its list */
	check("a prev with omitted lines: an omitted table it does not list is new",
	      "# table: users.sql 200 public.users\n"
	      "# table: users.sql 3 public.\"ApiKey\"\n"
	      "# table: payments.sql 1000 public.payments\n"
	      "# table: credit_transactions.csv 612 public.credit_transactions\n"
	      "# table: referenced.sql 4 public.plans\n"
	      "# omitted: public.sessions 50 omit sessions (built-in scope line 3)\n",
	      PREV, base, 50, want2);
}

static void test_names(void)
{
	static const char prev[] =
		"# table: odd.sql 100 public.\"my \"\"odd\"\" table\"\n"
		"# table: odd.sql 100 \"My Schema\".\"x.y\"\n"
		"# omitted: public.\"a b\" 3 omit a\tb\n"
		"# table: garbage\n"
		"# table: x.sql many public.x\n"
		"# table: x.sql 5 public\n"
		"# table: x.sql 5 public.\"unterminated\n"
		"# table: x.sql 5 public.a b\n"
		"# omitted: public.\"unterminated 5 rule\n"
		"# omitted: public.y\n"
		"# window-rows: odd.sql 1 2\n"
		"# added: public.\"my \"\"odd\"\" table\" referenced\n";
	static const char cur[] =
		"# table: odd.sql 0 public.\"my \"\"odd\"\" table\"\n"
		"# table: odd.sql 100 \"My Schema\".\"x.y\"\n"
		"# table: odd.sql 100 \"My Schema\".\"x.y\"\n"
		"# omitted: public.\"a b c\" -1 omit a\tb\n";
	static const char *const want[] = {
		"drift: new table public.\"a b c\" since " PREV ": not backed up (omit a?b)",
		"drift: table public.\"a b\" is gone since " PREV " (it had about 3 rows)",
		"drift: public.\"my \"\"odd\"\" table\" has 0 rows, 100 in " PREV,
		NULL
	};

	check("quoted names with quotes, dots and spaces; malformed lines skipped; "
	      "a name listed twice counts once; control characters replaced", prev, PREV, cur,
	      50, want);
}

/* ---- the loader ---- */

static void write_archive(const char *name, const char *first, const char *manifest)
{
	char *path = bk_path_join(dir, name);
	struct archive *a = archive_write_new();
	const char *members[2] = { first, "users.sql" };
	const char *data[2] = { manifest, "COPY public.users (id) FROM stdin;\n1\n\\.\n" };

	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_gzip(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		printf("Bail out! cannot write %s: %s\n", path, archive_error_string(a));
		exit(1);
	}
	for (int i = 0; i < 2; i++) {
		struct archive_entry *e = archive_entry_new();

		archive_entry_set_pathname(e, members[i]);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0600);
		archive_entry_set_size(e, (la_int64_t)strlen(data[i]));
		archive_write_header(a, e);
		archive_write_data(a, data[i], strlen(data[i]));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	free(path);
}

static void write_plain(const char *name, const char *text)
{
	char *path = bk_path_join(dir, name);

	if (bk_write_file_atomic(path, text, strlen(text), 0600) < 0) {
		printf("Bail out! %s\n", bk_err());
		exit(1);
	}
	free(path);
}

static char *manifest_of(const char *name)
{
	return bk_asprintf("# format: bk 1\n# created: %s\n# table: users.sql 1 public.users\n",
			   name);
}

/* load the previous archive of d: its return, and the created line's value as *which */
static int load(const char *d, char **name, char **which)
{
	struct bk_manifest m;
	const char *v;
	int ret = bk_drift_load_previous(d, &m, name);

	v = bk_manifest_meta_get(&m, "created");
	*which = v ? bk_xstrdup(v) : NULL;
	bk_manifest_free(&m);
	return ret;
}

static void test_load(void)
{
	static const char *const good[] = {
		"critical_backup_20261129_020000.tar.gz",
		"critical_backup_20261201_015959.tar.gz",
		"critical_backup_20261130_020000.tar.gz",
	};
	char *name = NULL, *which = NULL, *sub, *missing, *path;
	struct timespec ts[2] = { { 2000000000, 0 }, { 2000000000, 0 } };
	int ret;

	missing = bk_path_join(dir, "missing");
	ret = load(missing, &name, &which);
	ok(ret == 0 && !name && !which, "missing directory: none (%d)", ret);
	free(missing);

	sub = bk_path_join(dir, "backups");
	bk_mkdir_p(sub, 0700);
	ret = load(sub, &name, &which);
	ok(ret == 0 && !name, "empty directory: none (%d)", ret);
	free(sub);

	/* decoys only: not final names, or not regular files */
	bk_mkdir_p(dir, 0700);
	path = bk_path_join(dir, ".incoming");
	bk_mkdir_p(path, 0700);
	free(path);
	write_archive(".incoming/critical_backup_20271231_000000.tar.gz", "MANIFEST",
		      "# created: incoming\n");
	write_archive("critical_backup_20271231_000000.tar.gz.tmp", "MANIFEST", "# created: tmp\n");
	write_archive(".critical_backup_20271231_000000.tar.gz", "MANIFEST", "# created: dot\n");
	write_archive("critical_backup_20271331_000000.tar.gz", "MANIFEST", "# created: month 13\n");
	write_archive("critical_backup_2027123_0000000.tar.gz", "MANIFEST", "# created: shape\n");
	write_archive("old_backup_20271231_000000.tar.gz", "MANIFEST", "# created: prefix\n");
	path = bk_path_join(dir, "critical_backup_20271230_000000.tar.gz");
	bk_mkdir_p(path, 0700);
	free(path);
	path = bk_path_join(dir, "critical_backup_20271229_000000.tar.gz");
	if (symlink(".incoming/critical_backup_20271231_000000.tar.gz", path) < 0)
		perror("symlink");
	free(path);
	ret = load(dir, &name, &which);
	ok(ret == 0 && !name, "only decoys (.incoming, other names, a directory, a symlink): "
	   "none (%d %s)", ret, name ? name : "");
	free(name);
	free(which);

	/* three good ones; the oldest name has the newest mtime */
	for (size_t i = 0; i < 3; i++) {
		char *m = manifest_of(good[i]);

		write_archive(good[i], "MANIFEST", m);
		free(m);
	}
	utimensat(AT_FDCWD, (path = bk_path_join(dir, good[0])), ts, 0);
	free(path);
	ret = load(dir, &name, &which);
	ok(ret == 1 && name && !strcmp(name, good[1]) && which && !strcmp(which, good[1]),
	   "the newest by the time in its name is read (%d %s %s)", ret, name ? name : "",
	   which ? which : "");
	free(name);
	free(which);

	/* the newest is damaged: an error naming it, no fallback to an older one */
	write_plain("critical_backup_20261202_020000.tar.gz", "not a gzip file at all\n");
	ret = load(dir, &name, &which);
	ok(ret == -1 && !name && !which && strstr(bk_err(), "critical_backup_20261202_020000") &&
	   strstr(bk_err(), "not a gzip file"), "a corrupt newest: -1 (%s)", bk_err());

	write_archive("critical_backup_20261203_020000.tar.gz", "BACKUP_INFO.txt", "info\n");
	ret = load(dir, &name, &which);
	ok(ret == -1 && !name && strstr(bk_err(), "MANIFEST is not the first member"),
	   "a newest whose first member is not MANIFEST: -1 (%s)", bk_err());

	write_archive("critical_backup_20261204_020000.tar.gz", "MANIFEST", "no such line\n");
	ret = load(dir, &name, &which);
	ok(ret == -1 && !name && strstr(bk_err(), "critical_backup_20261204_020000.tar.gz: ") &&
	   strstr(bk_err(), "MANIFEST line 1"),
	   "a newest with a malformed MANIFEST: -1, the archive named (%s)", bk_err());

	{
		/* a truncated newest: cut a good archive short */
		char *src = bk_path_join(dir, good[1]), *text = NULL;
		size_t len = 0;

		if (bk_read_file(src, 1 << 20, &text, &len) < 0 || len < 40) {
			printf("Bail out! %s\n", bk_err());
			exit(1);
		}
		path = bk_path_join(dir, "critical_backup_20261205_020000.tar.gz");
		bk_write_file_atomic(path, text, 30, 0600);
		ret = load(dir, &name, &which);
		ok(ret == -1 && !name && strstr(bk_err(), "critical_backup_20261205_020000"),
		   "a truncated newest: -1 (%s)", bk_err());
		free(path);
		free(src);
		free(text);
	}

	chmod(dir, 0);
	if (access(dir, R_OK) == 0) {
		ok(1, "# skip an unreadable directory (running as root)");
	} else {
		ret = load(dir, &name, &which);
		ok(ret == -1 && strstr(bk_err(), "cannot read"), "an unreadable directory: -1 (%s)",
		   bk_err());
	}
	chmod(dir, 0700);

	path = bk_path_join(dir, good[0]);
	ret = load(path, &name, &which);
	ok(ret == -1 && !name && strstr(bk_err(), "cannot read") &&
	   strstr(bk_err(), "Not a directory"), "a file given as the directory: -1 (%s)", bk_err());
	free(path);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_nothing();
	test_new();
	test_gone();
	test_left_out();
	test_fall();
	test_round1();
	test_names();
	test_load();
	bk_rm_rf(dir);
	return done_testing();
}
