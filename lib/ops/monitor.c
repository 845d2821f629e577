/* Backup health from the status files, and the alert state (see monitor.h).
 * Only small reads and one statvfs: bk-monitor must answer in milliseconds. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "monitor.h"
#include "prune.h"
#include "size.h"
#include "spawn.h"
#include "status.h"

#define MIB (1024.0 * 1024.0)

static void add_reason(struct bk_health *h, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Remember one reason and its kind; the kinds make up h->cause. */
static void add_reason(struct bk_health *h, const char *key, const char *fmt, ...)
{
	size_t used = strlen(h->cause);
	va_list ap;
	char *r;

	h->healthy = 0;
	if (h->n_reasons == BK_MONITOR_MAX_REASONS)
		return;
	r = h->reasons[h->n_reasons++];
	va_start(ap, fmt);
	vsnprintf(r, sizeof(h->reasons[0]), fmt, ap);
	va_end(ap);
	for (char *p = r; *p; p++)
		if ((unsigned char)*p < ' ')
			*p = ' ';
	snprintf(h->cause + used, sizeof(h->cause) - used, "%s%s", used ? "," : "", key);
}

/* "45m" under an hour, else whole hours: the unit of BACKUP_MAX_AGE_HOURS. */
static void fmt_age(long long secs, char *buf, size_t size)
{
	if (secs < 3600)
		snprintf(buf, size, "%lldm", secs < 0 ? 0 : secs / 60);
	else
		snprintf(buf, size, "%lldh", secs / 3600);
}

static void fmt_size(unsigned long long bytes, char *buf, size_t size)
{
	bk_format_size(bytes, buf, size);
}

static int is_regular(const char *dir, const char *name)
{
	char *path = bk_path_join(dir, name);
	struct stat st;
	int ok = stat(path, &st) == 0 && S_ISREG(st.st_mode);

	free(path);
	return ok;
}

/* Without an ok history line (status files from elsewhere), the newest archive
 * is the one with the newest name in the directory. */
static void newest_on_disk(const char *dir, char *out, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long long best = -1;

	out[0] = '\0';
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		long long t = 0;

		if (bk_archive_name_time(e->d_name, &t) != 1 || t <= best ||
		    !is_regular(dir, e->d_name))
			continue;
		best = t;
		snprintf(out, size, "%s", e->d_name);
	}
	closedir(d);
}

static void check_size(struct bk_health *h)
{
	unsigned long long min = (unsigned long long)bk_config.min_size_mb << 20;
	unsigned long long max = (unsigned long long)bk_config.max_size_mb << 20;
	char size[32];

	fmt_size(h->size_bytes, size, sizeof(size));
	if (h->size_bytes < min)
		add_reason(h, "size", "last backup %s, below the minimum %d MB", size,
			   bk_config.min_size_mb);
	else if (h->size_bytes > max)
		add_reason(h, "size", "last backup %s, above the maximum %d MB", size,
			   bk_config.max_size_mb);
}

static void check_success(const char *dir, struct bk_health *h,
			  const struct bk_history_summary *sum)
{
	long long last, size_mb;
	int r = bk_status_read(dir, &last, &size_mb);
	char age[32];

	if (r == 1) {
		add_reason(h, "none", "no successful backup yet");
		return;
	}
	if (r < 0) {
		add_reason(h, "status", "%s", bk_err());
		return;
	}
	h->last_success = last;
	fmt_age(h->now - last, age, sizeof(age));
	if (h->now - last > (long long)bk_config.max_age_hours * 3600)
		add_reason(h, "age", "last success %s ago (max %dh)", age, bk_config.max_age_hours);
	else if (last - h->now > 3600)
		add_reason(h, "clock", "last success is %lldh in the future; check the clock",
			   (last - h->now) / 3600);

	/* The history line of the same run has the exact byte count. */
	if (sum->has_ok && sum->last_ok.epoch == last) {
		h->size_known = 1;
		h->size_bytes = sum->last_ok.bytes;
		h->duration = sum->last_ok.seconds;
	} else if (size_mb >= 0) {
		h->size_known = 1;
		h->size_bytes = (unsigned long long)size_mb << 20;
	}
	if (h->size_known)
		check_size(h);
	else
		add_reason(h, "size", "size of the last backup unknown: %s/%s is missing", dir,
			   BK_STATUS_SIZE);
}

static void check_newest(const char *dir, struct bk_health *h,
			 const struct bk_history_summary *sum)
{
	if (sum->has_ok && strcmp(sum->last_ok.file, "-")) {
		snprintf(h->newest, sizeof(h->newest), "%s", sum->last_ok.file);
		if (!is_regular(dir, h->newest))
			add_reason(h, "missing", "newest archive %s is missing from %s", h->newest,
				   dir);
		return;
	}
	newest_on_disk(dir, h->newest, sizeof(h->newest));
	if (!h->newest[0])
		add_reason(h, "missing", "no archive in %s", dir);
}

static void check_space(const char *dir, struct bk_health *h)
{
	char free_s[32], size_s[32];

	if (bk_free_bytes(dir, &h->free_bytes) < 0)
		return;
	h->free_known = 1;
	if (!h->size_known || h->free_bytes >= 2 * h->size_bytes)
		return;
	fmt_size(h->free_bytes, free_s, sizeof(free_s));
	fmt_size(h->size_bytes, size_s, sizeof(size_s));
	add_reason(h, "space", "free space in %s is %s, less than twice the last backup (%s)",
		   dir, free_s, size_s);
}

/* A yes/no variable the way bk_config reads them; those of other steps are
 * looked up by name so the monitor does not depend on their parsing. */
static int var_on(const char *name)
{
	const char *v = bk_config_get(name);

	return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes"));
}

/* With S3 configured, a local backup alone is not enough: the host may go. */
static void check_offsite(const char *dir, struct bk_health *h)
{
	long long max = (long long)bk_config.max_age_hours * 3600, t = 0;
	int r = bk_status_read_number(dir, BK_OFFSITE_SUCCESS, &t);
	char age[32];

	if (r == 0)
		h->offsite_last = t;
	if (!bk_config_get("BACKUP_S3_URL"))
		return;
	if (r < 0) {
		add_reason(h, "offsite", "%s", bk_err());
	} else if (r == 1) {
		add_reason(h, "offsite", "no off-site copy yet (BACKUP_S3_URL is set)");
	} else if (h->now - t > max) {
		fmt_age(h->now - t, age, sizeof(age));
		add_reason(h, "offsite", "newest off-site copy %s old (max %dh)", age,
			   bk_config.max_age_hours);
	}
}

/* "epoch\tok|fail\tseconds\treason": 0, 1 when there is no file, -1 malformed. */
static int read_restore_test(const char *dir, struct bk_health *h)
{
	char *path = bk_path_join(dir, BK_RESTORE_TEST), *text = NULL;
	char result[8] = "";
	size_t len;
	int used = 0, ret = 1;

	errno = 0;
	if (bk_read_private(path, 4096, &text, &len) < 0) {
		if (errno != ENOENT)
			ret = -1;
		goto out;
	}
	text[strcspn(text, "\r\n")] = '\0';
	ret = -1;
	/* a NaN duration would make the JSON invalid */
	if (sscanf(text, "%lld\t%7[a-z]\t%lf\t%n", &h->restore_when, result,
		   &h->restore_seconds, &used) != 3 || !used || h->restore_when < 0 ||
	    !isfinite(h->restore_seconds) || h->restore_seconds < 0 ||
	    (strcmp(result, "ok") && strcmp(result, "fail"))) {
		bk_err_set("%s: not 'epoch ok|fail seconds reason': '%.40s'", path, text);
		goto out;
	}
	h->restore_known = 1;
	h->restore_ok = !strcmp(result, "ok");
	snprintf(h->restore_reason, sizeof(h->restore_reason), "%s", text + used);
	ret = 0;
out:
	free(text);
	free(path);
	return ret;
}

static void check_restore_test(const char *dir, struct bk_health *h)
{
	int r = read_restore_test(dir, h);

	if (!var_on("BACKUP_RESTORE_TEST"))
		return;
	if (r < 0)
		add_reason(h, "restore", "%s", bk_err());
	else if (r == 0 && !h->restore_ok)
		add_reason(h, "restore", "last restore test failed: %s", h->restore_reason);
}

void bk_monitor_check(const char *dir, long long now, struct bk_health *h)
{
	struct bk_history_summary sum;
	struct bk_history_entry *win = NULL;
	struct stat st;
	size_t n = 0;

	memset(h, 0, sizeof(*h));
	h->healthy = 1;
	h->now = now;
	h->duration = -1;
	if (stat(dir, &st) < 0) {
		add_reason(h, "dir", "backup directory %s: %s", dir, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		add_reason(h, "dir", "backup directory %s: not a directory", dir);
		return;
	}
	/* status in a directory someone else can write proves nothing */
	if (bk_dir_check_private("BACKUP_DIR", dir) < 0) {
		add_reason(h, "dir", "%s", bk_err());
		return;
	}
	if (bk_history_summarize(dir, BK_MONITOR_WINDOW, &win, &n, &sum) < 0) {
		add_reason(h, "history", "%s", bk_err());
		memset(&sum, 0, sizeof(sum));
	}
	h->runs_total = sum.runs;
	h->failed_total = sum.failed;
	h->window_runs = (unsigned)n;
	for (size_t i = 0; i < n; i++)
		h->window_failed += !win[i].ok;

	check_success(dir, h, &sum);
	if (h->last_success)
		check_newest(dir, h, &sum);
	check_space(dir, h);
	check_offsite(dir, h);
	check_restore_test(dir, h);
	if (n > 0 && !win[n - 1].ok) {
		char step[64];

		snprintf(step, sizeof(step), "failed:%.*s", (int)strcspn(win[n - 1].reason, ":"),
			 win[n - 1].reason);
		add_reason(h, step, "last run failed: %s", win[n - 1].reason);
	}
	free(win);
}

char *bk_monitor_line(const struct bk_health *h)
{
	char age[32], size[32], rate[32] = "";
	char *line, *p;
	size_t len;

	if (!h->healthy) {
		len = strlen("unhealthy: ") + 1;
		for (size_t i = 0; i < h->n_reasons; i++)
			len += strlen(h->reasons[i]) + 2;
		line = p = bk_xmalloc(len);
		p += sprintf(p, "unhealthy: ");
		for (size_t i = 0; i < h->n_reasons; i++)
			p += sprintf(p, "%s%s", i ? "; " : "", h->reasons[i]);
		return line;
	}
	fmt_age(h->now - h->last_success, age, sizeof(age));
	fmt_size(h->size_bytes, size, sizeof(size));
	if (h->window_runs)
		snprintf(rate, sizeof(rate), ", %u/%u ok", h->window_runs - h->window_failed,
			 h->window_runs);
	return bk_asprintf("healthy: last backup %s ago, %s%s, newest %s", age, size, rate,
			   h->newest);
}

/* s as a JSON string. */
static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The off-site copy and the last restore test: null until there is one. */
static void json_offsite_restore(FILE *f, const struct bk_health *h)
{
	if (h->offsite_last)
		fprintf(f, ",\"offsite_last_success\":%lld,\"offsite_age_hours\":%.2f",
			h->offsite_last, (double)(h->now - h->offsite_last) / 3600.0);
	else
		fputs(",\"offsite_last_success\":null,\"offsite_age_hours\":null", f);
	if (!h->restore_known) {
		fputs(",\"restore_test\":null", f);
		return;
	}
	fprintf(f, ",\"restore_test\":{\"timestamp\":%lld,\"result\":\"%s\","
		"\"duration_seconds\":%.1f,\"reason\":", h->restore_when,
		h->restore_ok ? "ok" : "fail", h->restore_seconds);
	if (h->restore_ok)
		fputs("null", f);
	else
		json_string(f, h->restore_reason);
	fputc('}', f);
}

char *bk_monitor_json(const struct bk_health *h)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	fprintf(f, "{\"healthy\":%s,\"reasons\":[", h->healthy ? "true" : "false");
	for (size_t i = 0; i < h->n_reasons; i++) {
		if (i)
			fputc(',', f);
		json_string(f, h->reasons[i]);
	}
	fputs("],\"cause\":", f);
	json_string(f, h->cause);
	if (h->last_success)
		fprintf(f, ",\"last_success\":%lld,\"age_hours\":%.2f", h->last_success,
			(double)(h->now - h->last_success) / 3600.0);
	else
		fputs(",\"last_success\":null,\"age_hours\":null", f);
	if (h->size_known)
		fprintf(f, ",\"size_mb\":%.2f,\"size_bytes\":%llu", (double)h->size_bytes / MIB,
			h->size_bytes);
	else
		fputs(",\"size_mb\":null,\"size_bytes\":null", f);
	if (h->duration >= 0)
		fprintf(f, ",\"duration_seconds\":%.1f", h->duration);
	else
		fputs(",\"duration_seconds\":null", f);
	if (h->window_runs)
		fprintf(f, ",\"success_rate\":%.4f",
			(double)(h->window_runs - h->window_failed) / h->window_runs);
	else
		fputs(",\"success_rate\":null", f);
	fprintf(f, ",\"runs\":%u,\"failed\":%u,\"runs_total\":%llu,\"failed_total\":%llu",
		h->window_runs, h->window_failed, h->runs_total, h->failed_total);
	fputs(",\"newest\":", f);
	if (h->newest[0])
		json_string(f, h->newest);
	else
		fputs("null", f);
	if (h->free_known)
		fprintf(f, ",\"free_bytes\":%llu", h->free_bytes);
	else
		fputs(",\"free_bytes\":null", f);
	json_offsite_restore(f, h);
	fputc('}', f);
	if (fclose(f) != 0)
		abort();
	return buf;
}

static void metric(FILE *f, const char *name, const char *type, const char *help,
		   const char *value)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", name, help, name, type, name, value);
}

/* Unknown values are left out, never written as 0: a 0 would look like a
 * backup in 1970 or a success ratio that should page someone. */
static void metric_ll(FILE *f, int known, const char *name, const char *help, long long v)
{
	char buf[32];

	if (!known)
		return;
	snprintf(buf, sizeof(buf), "%lld", v);
	metric(f, name, "gauge", help, buf);
}

static void metric_f(FILE *f, int known, const char *name, const char *help,
		     int decimals, double v)
{
	char buf[64];

	if (!known)
		return;
	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	metric(f, name, "gauge", help, buf);
}

static void prometheus_extra(FILE *f, const struct bk_health *h)
{
	metric_ll(f, h->free_known, "bk_backup_dir_free_bytes",
		  "Space available to bk in BACKUP_DIR, in bytes.", (long long)h->free_bytes);
	metric_ll(f, h->offsite_last > 0, "bk_offsite_last_success_timestamp_seconds",
		  "Unix time of the newest confirmed off-site (S3) copy.", h->offsite_last);
	metric_ll(f, h->offsite_last > 0, "bk_offsite_age_seconds",
		  "Age of the newest off-site copy when these metrics were made.",
		  h->now - h->offsite_last);
	metric_ll(f, h->restore_known, "bk_restore_test_timestamp_seconds",
		  "Unix time of the last restore test.", h->restore_when);
	metric_ll(f, h->restore_known, "bk_restore_test_success",
		  "1 when the last restore test passed, 0 when it failed.", h->restore_ok);
	metric_f(f, h->restore_known, "bk_restore_test_duration_seconds",
		 "How long the last restore test took.", 1, h->restore_seconds);
}

char *bk_monitor_prometheus(const struct bk_health *h)
{
	char *buf = NULL, v[64];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	metric_ll(f, h->last_success > 0, "bk_last_success_timestamp_seconds",
		  "Unix time of the last successful backup.", h->last_success);
	metric_ll(f, h->size_known, "bk_last_backup_size_bytes",
		  "Size of the last successful backup archive in bytes.",
		  (long long)h->size_bytes);
	metric_f(f, h->duration >= 0, "bk_last_backup_duration_seconds",
		 "How long the last successful backup run took.", 1, h->duration);
	metric_f(f, h->window_runs > 0, "bk_backup_success_ratio",
		 "Share of the last 30 backup runs that succeeded.", 4,
		 h->window_runs ? (double)(h->window_runs - h->window_failed) / h->window_runs
				: 0.0);
	snprintf(v, sizeof(v), "%llu", h->runs_total);
	metric(f, "bk_backup_runs_total", "counter", "Backup runs in the history.", v);
	snprintf(v, sizeof(v), "%llu", h->failed_total);
	metric(f, "bk_backup_runs_failed_total", "counter", "Failed backup runs in the history.",
	       v);
	prometheus_extra(f, h);
	metric(f, "bk_healthy", "gauge", "1 when bk-monitor finds the backups healthy, else 0.",
	       h->healthy ? "1" : "0");
	if (fclose(f) != 0)
		abort();
	return buf;
}

char *bk_monitor_health_json(const struct bk_health *h)
{
	char *buf = NULL, when[64];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	fprintf(f, "{\"status\":\"%s\"", h->healthy ? "healthy" : "unhealthy");
	if (h->last_success) {
		bk_iso_time(h->last_success, when, sizeof(when));
		fprintf(f, ",\"last_backup\":\"%s\",\"last_backup_age_hours\":%.2f", when,
			(double)(h->now - h->last_success) / 3600.0);
	} else {
		fputs(",\"last_backup\":null,\"last_backup_age_hours\":null", f);
	}
	if (h->size_known)
		fprintf(f, ",\"last_backup_size_mb\":%.2f", (double)h->size_bytes / MIB);
	else
		fputs(",\"last_backup_size_mb\":null", f);
	fputs(",\"reasons\":[", f);
	for (size_t i = 0; i < h->n_reasons; i++) {
		if (i)
			fputc(',', f);
		json_string(f, h->reasons[i]);
	}
	fputs("]}", f);
	if (fclose(f) != 0)
		abort();
	return buf;
}

/* ---- alerts ---- */

struct alert_state {
	int present;
	char cause[256];
	long long first, last;
	char reason[600];	/* the status line first alerted, for the recovery mail */
};

/* A state file we cannot parse still means "an alert went out": it counts as
 * present with an unknown cause, so recovery is announced and a new alert sent. */
static void state_read(const char *path, struct alert_state *st)
{
	char *text = NULL, *line, *save = NULL;
	size_t len;

	memset(st, 0, sizeof(*st));
	errno = 0;
	if (bk_read_private(path, 4096, &text, &len) < 0) {
		if (errno != ENOENT) {
			bk_warn("%s", bk_err());
			st->present = 1;
			snprintf(st->cause, sizeof(st->cause), "?");
		}
		return;
	}
	st->present = 1;
	snprintf(st->cause, sizeof(st->cause), "?");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "cause ", 6))
			snprintf(st->cause, sizeof(st->cause), "%s", line + 6);
		else if (!strncmp(line, "first ", 6))
			st->first = strtoll(line + 6, NULL, 10);
		else if (!strncmp(line, "last ", 5))
			st->last = strtoll(line + 5, NULL, 10);
		else if (!strncmp(line, "reason ", 7))
			snprintf(st->reason, sizeof(st->reason), "%s", line + 7);
	}
	free(text);
}

static int state_write(const char *path, const struct alert_state *st)
{
	char *text = bk_asprintf("cause %s\nfirst %lld\nlast %lld\nreason %s\n", st->cause,
				 st->first, st->last, st->reason);
	int ret = bk_write_file_atomic(path, text, strlen(text), 0600);

	free(text);
	return ret;
}

/* bk-mail --alert SUBJECT --cause CAUSE, or --recovered SUBJECT when cause is NULL. */
static int send_mail(const char *subject, const char *reason, const char *cause)
{
	char *mail = bk_sibling_program("bk-mail"), *out = NULL, why[512] = "";
	const char *argv[] = { mail, cause ? "--alert" : "--recovered", subject, "--reason", reason,
			       cause ? "--cause" : NULL, cause, NULL };
	int code = bk_run_tool(argv, 4096, &out, why, sizeof(why));

	free(out);
	free(mail);
	if (code == 0)
		return 0;
	if (code < 0)
		return bk_err_prefix("cannot send the alert");
	return bk_err_set("cannot send the alert: bk-mail exit %d%s%s", code, why[0] ? ": " : "",
			  why);
}

/* The mail body: every reason, then the facts an administrator looks for first. */
static char *alert_text(const char *dir, const struct bk_health *h)
{
	char *buf = NULL, host[256] = "?", size[32];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	gethostname(host, sizeof(host) - 1);
	fprintf(f, "bk-monitor on %s finds the backups in %s unhealthy:\n", host, dir);
	for (size_t i = 0; i < h->n_reasons; i++)
		fprintf(f, "- %s\n", h->reasons[i]);
	fputc('\n', f);
	/* the last success and its size are in bk-mail's table */
	if (h->newest[0])
		fprintf(f, "newest archive: %s\n", h->newest);
	if (h->window_runs)
		fprintf(f, "runs: %u of the last %u ok; %llu runs, %llu failed in the history\n",
			h->window_runs - h->window_failed, h->window_runs, h->runs_total,
			h->failed_total);
	else
		fputs("runs: none in the history\n", f);
	if (h->free_known) {
		fmt_size(h->free_bytes, size, sizeof(size));
		fprintf(f, "free space: %s\n", size);
	}
	if (fclose(f) != 0)
		abort();
	return buf;
}

/* A subject is one short line: cut long reason lists, never inside a UTF-8
 * character (causes may be in any language). */
static char *subject_of(const char *line)
{
	size_t cut = 157;

	if (strlen(line) <= 160)
		return bk_xstrdup(line);
	while (cut > 0 && ((unsigned char)line[cut] & 0xc0) == 0x80)
		cut--;
	return bk_asprintf("%.*s...", (int)cut, line);
}

/* "3 h 20 min", "2 days 4 h": how long an incident lasted. */
static int alert_recovered(const char *dir, const char *path, const struct bk_health *h,
			   const struct alert_state *st)
{
	char *line = bk_monitor_line(h), *subject, *reason, since[64], span[48];
	const char *now_ok = line + strlen("healthy: ");
	int ret = -1;

	subject = bk_xstrdup(now_ok);
	if (st->first > 0 && st->first <= h->now) {
		bk_iso_time(st->first, since, sizeof(since));
		bk_format_span(h->now - st->first, span, sizeof(span));
		reason = bk_asprintf("%s\n\nFor at least %s: first alerted at %s.\n"
				     "Now the backups in %s are healthy: %s.\n",
				     st->reason[0] ? st->reason : st->cause, span, since, dir, now_ok);
	} else {
		reason = bk_asprintf("%s\n\nFor an unknown time (the alert state %s has no "
				     "start).\nNow the backups in %s are healthy: %s.\n",
				     st->reason[0] ? st->reason : st->cause, path, dir, now_ok);
	}
	if (send_mail(subject, reason, NULL) < 0)
		goto out;
	bk_info("recovery mailed: %s", subject);
	if (unlink(path) < 0 && errno != ENOENT) {
		bk_err_errno("cannot remove %s", path);
		goto out;
	}
	ret = 0;
out:
	free(reason);
	free(subject);
	free(line);
	return ret;
}

static int alert_unhealthy(const char *dir, const char *path, const struct bk_health *h,
			   const struct alert_state *st)
{
	long long repeat = (long long)bk_config.alert_repeat_hours * 3600;
	int same = st->present && !strcmp(st->cause, h->cause);
	struct alert_state next = { 1, "", 0, 0, "" };
	char *line, *subject, *text;
	int ret = -1;

	if (same && h->now - st->last < repeat && h->now >= st->last)
		return 0;
	line = bk_monitor_line(h);
	subject = subject_of(line);
	text = alert_text(dir, h);
	if (send_mail(subject, text, h->cause) < 0)
		goto out;
	bk_info("alert mailed: %s", line);
	snprintf(next.cause, sizeof(next.cause), "%s", h->cause);
	snprintf(next.reason, sizeof(next.reason), "%s", line);
	next.first = same && st->first > 0 ? st->first : h->now;
	next.last = h->now;
	if (state_write(path, &next) < 0)
		goto out;
	ret = 0;
out:
	free(text);
	free(subject);
	free(line);
	return ret;
}

int bk_monitor_alert(const char *dir, const struct bk_health *h)
{
	char *path = bk_path_join(dir, BK_ALERT_STATE);
	struct alert_state st;
	int dfd, ret = 0;

	/* Two monitors at once (cron and a manual run) must not both mail. The lock
	 * is on the directory itself: no extra file, and not bk-run's .lock. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0 && flock(dfd, LOCK_EX | LOCK_NB) < 0) {
		bk_warn("another bk-monitor --alert is running; leaving the alert to it");
		goto out;
	}
	state_read(path, &st);
	if (h->healthy)
		ret = st.present ? alert_recovered(dir, path, h, &st) : 0;
	else
		ret = alert_unhealthy(dir, path, h, &st);
out:
	if (dfd >= 0)
		close(dfd);
	free(path);
	return ret;
}
