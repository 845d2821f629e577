/*
 * bk-export's reports: MANIFEST, written last (its '#' lines say in which
 * class every table of the database is), and the --plan listing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "err.h"
#include "export_int.h"
#include "fs.h"
#include "log.h"
#include "manifest.h"
#include "pg.h"

static const char *zone_of(const struct export *x, const struct table *t)
{
	if (t->since_type == 'z')
		return "-";
	return x->o->window_timezone ? x->o->window_timezone : "UTC";
}

static void meta(struct bk_manifest *m, const char *key, char *value)
{
	bk_manifest_meta_add(m, key, value);
	free(value);
}

/* The classes: table lines in file order, then windows, added, omitted. */
static void coverage_lines(struct export *x, struct bk_manifest *m)
{
	for (size_t j = 0; j < x->nj; j++)
		for (size_t k = 0; k < x->jobs[j].n; k++) {
			const struct table *t = x->jobs[j].tables[k];

			meta(m, "table", bk_asprintf("%s %lld %s", t->file, t->rows, t->qname));
		}
	for (size_t j = 0; j < x->nj; j++)
		for (size_t k = 0; k < x->jobs[j].n; k++) {
			const struct table *t = x->jobs[j].tables[k];

			if (t->cls != EX_WINDOW)
				continue;
			meta(m, "window", bk_asprintf("%s %s >= %s", t->file, t->since, t->cutoff));
			meta(m, "window-rows", bk_asprintf("%s %lld %lld %lld %s", t->file,
							   t->window_rows, t->total_rows,
							   t->rows - t->window_rows, zone_of(x, t)));
		}
	for (size_t i = 0; i < x->nt; i++)
		if (x->t[i].cls == EX_ADDED)
			meta(m, "added", bk_asprintf("%s referenced by %s", x->t[i].qname,
						     x->t[x->t[i].referrer].qname));
	for (size_t i = 0; i < x->nt; i++)
		if (x->t[i].cls == EX_OMITTED)
			meta(m, "omitted", bk_asprintf("%s %lld %s", x->t[i].qname,
						       x->t[i].estimate < 0 ? 0 : x->t[i].estimate,
						       x->t[i].why));
}

/* Tonight's tables against the previous good archive's: warnings, or with
 * BACKUP_STRICT=1 an error. A previous archive that cannot be read is a
 * warning: it must not stop tonight's backup. */
static int drift(struct export *x, const struct bk_manifest *cur)
{
	struct bk_manifest prev;
	struct bk_drift d = { NULL, 0 };
	char *name = NULL;
	int found, ret = 0;

	if (!x->o->backup_dir)
		return 0;
	found = bk_drift_load_previous(x->o->backup_dir, &prev, &name);
	if (found < 0)
		ex_warning(x, "drift: cannot compare with the previous archive: %s", bk_err());
	if (found == 1) {
		bk_drift_compare(&prev, name, cur, x->o->drift_drop_percent, &d);
		bk_info("compared with %s: %zu change%s", name, d.n, d.n == 1 ? "" : "s");
	}
	for (size_t i = 0; i < d.n; i++)
		ex_warning(x, "%s", d.warnings[i]);
	if (x->o->strict && d.n) {
		bk_err_set("%s%s", d.warnings[0], d.n > 1 ? " (and more: see the log)" : "");
		bk_err_hint("BACKUP_STRICT=1 makes drift an error; check the database, then "
			    "run again with BACKUP_STRICT=0 to accept it");
		ret = -1;
	}
	bk_drift_free(&d);
	bk_manifest_free(&prev);
	free(name);
	return ret;
}

int ex_write_manifest(struct export *x)
{
	struct bk_manifest m;
	char *text, *path;
	const char *version = PQparameterStatus(x->conn, "server_version");
	int ret = -1;

	bk_manifest_init(&m);
	bk_manifest_meta_add(&m, "format", "bk 1");
	bk_manifest_meta_add(&m, "created", x->created_at);
	bk_manifest_meta_add(&m, "host", bk_pg_target());
	bk_manifest_meta_add(&m, "database", PQdb(x->conn));
	bk_manifest_meta_add(&m, "server_version", version ? version : "?");
	bk_manifest_meta_add(&m, "snapshot", x->snapshot);
	bk_manifest_meta_add(&m, "scope", x->o->scope->name);
	coverage_lines(x, &m);
	if (drift(x, &m) < 0)
		goto out;
	for (size_t i = 0; i < x->nw; i++)
		bk_manifest_meta_add(&m, "warning", x->warnings[i]);
	for (size_t i = 0; i < x->nm; i++)
		if (bk_manifest_add(&m, x->members[i].sha256, x->members[i].bytes,
				    x->members[i].rows, x->members[i].name) < 0)
			goto out;
	text = bk_manifest_format(&m);
	path = bk_path_join(x->dir, BK_MANIFEST_NAME);
	ret = bk_write_file_atomic(path, text, strlen(text), 0600);
	free(path);
	free(text);
out:
	bk_manifest_free(&m);
	return ret;
}

static char *plan_detail(const struct export *x, const struct table *t)
{
	switch (t->cls) {
	case EX_WINDOW:
		if (t->since_type == 'z')
			return bk_asprintf("%s >= now() - %s", t->since, t->interval);
		return bk_asprintf("%s >= now() - %s (%s)", t->since, t->interval, zone_of(x, t));
	case EX_ADDED:
	case EX_OMITTED:
		return bk_xstrdup(t->why);
	default:
		return bk_xstrdup("");
	}
}

int ex_print_plan(struct export *x, FILE *out)
{
	size_t n[4] = { 0 };

	for (size_t i = 0; i < x->nt; i++)
		n[x->t[i].cls]++;
	fprintf(out, "# plan: database %s, scope %s, %zu tables: %zu full, %zu window, "
		"%zu added, %zu omitted\n", PQdb(x->conn), x->o->scope->name, x->nt,
		n[EX_FULL], n[EX_WINDOW], n[EX_ADDED], n[EX_OMITTED]);
	for (int c = EX_FULL; c <= EX_OMITTED; c++)
		for (size_t i = 0; i < x->nt; i++) {
			const struct table *t = &x->t[i];
			char est[32], *detail;

			if ((int)t->cls != c)
				continue;
			if (t->estimate < 0)
				snprintf(est, sizeof(est), "?");
			else
				snprintf(est, sizeof(est), "~%lld", t->estimate);
			detail = plan_detail(x, t);
			fprintf(out, "%-8s %-40s %8s  %s%s%s\n", ex_class_name(t->cls), t->qname, est,
				t->file ? t->file : "-", *detail ? "  " : "", detail);
			free(detail);
		}
	return ferror(out) ? bk_err_set("cannot write the plan") : 0;
}
