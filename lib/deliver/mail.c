/*
 * The messages bk-mail sends (see mail.h): what they say, in text and HTML,
 * and where they go (SMTP or the outbox directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive_read.h"
#include "cli.h"
#include "config.h"
#include "err.h"
#include "fs.h"
#include "info.h"
#include "link.h"
#include "log.h"
#include "mail.h"
#include "manifest.h"
#include "mime.h"
#include "minisign.h"
#include "monitor.h"
#include "sha256.h"
#include "size.h"
#include "smtp.h"
#include "status.h"

#define LOG_TAIL_LINES 30
#define LOG_TAIL_BYTES 65536
#define LOG_LINE_MAX 600

/* ---- settings ---- */

/* The envelope and From address: SMTP_FROM, else SMTP_USER when it is an
 * address, else bk@<this host>. */
static int sender(char *buf, size_t size)
{
	const struct bk_config *c = &bk_config;
	char shown[201];

	if (c->smtp_from) {
		if (!bk_mime_addr_ok(c->smtp_from))
			return bk_err_set("SMTP_FROM: '%s' is not a valid e-mail address",
					  bk_mime_printable(shown, sizeof(shown), c->smtp_from));
		snprintf(buf, size, "%s", c->smtp_from);
	} else if (c->smtp_user) {
		if (!bk_mime_addr_ok(c->smtp_user)) {
			bk_err_set("SMTP_FROM is not set and SMTP_USER '%s' is not an e-mail "
				   "address", bk_mime_printable(shown, sizeof(shown), c->smtp_user));
			bk_err_hint("set SMTP_FROM to the sender address");
			return -1;
		}
		snprintf(buf, size, "%s", c->smtp_user);
	} else {
		snprintf(buf, size, "bk@%s", bk_mime_hostname());
	}
	return 0;
}

static int host_ok(const char *h)
{
	if (!*h || strlen(h) > 255)
		return 0;
	for (; *h; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		      (*h >= '0' && *h <= '9') || strchr("-.:[]_", *h)))
			return 0;
	return 1;
}

int bk_mail_config_check(void)
{
	const struct bk_config *c = &bk_config;
	char from[320], shown[201], **admins;
	size_t n;

	if (!c->admin_emails) {
		bk_err_set("ADMIN_EMAILS is not set");
		bk_err_hint("give the administrators' addresses, comma-separated");
		return -1;
	}
	if (bk_mime_addr_list(c->admin_emails, "ADMIN_EMAILS", &admins, &n) < 0)
		return -1;
	bk_mime_addr_list_free(admins, n);
	if (sender(from, sizeof(from)) < 0)
		return -1;
	if (c->link_base && bk_link_check(c->link_base, c->link_secret, "BACKUP_LINK_BASE",
					  "BACKUP_LINK_SECRET") < 0)
		return -1;
	if (c->outbox)
		return 0;
	if (!c->smtp_host) {
		bk_err_set("SMTP_HOST is not set");
		bk_err_hint("name the mail server, or set BACKUP_MAIL_OUTBOX=DIR to write the "
			    "messages to files");
		return -1;
	}
	if (!host_ok(c->smtp_host))
		return bk_err_set("SMTP_HOST: '%s' is not a host name or address",
				  bk_mime_printable(shown, sizeof(shown), c->smtp_host));
	if (!strcmp(c->smtp_tls, "none") && !bk_smtp_host_is_loopback(c->smtp_host)) {
		bk_err_set("SMTP_TLS: none is only allowed for a server on loopback, not %s",
			   c->smtp_host);
		bk_err_hint("use SMTP_TLS=starttls (port 587) or tls (port 465)");
		return -1;
	}
	if (bk_smtp_config_check() < 0)
		return -1;
	if (c->smtp_user && !c->smtp_pass)
		return bk_err_set("SMTP_PASS is not set, but SMTP_USER is");
	if (c->smtp_pass && !c->smtp_user)
		return bk_err_set("SMTP_USER is not set, but SMTP_PASS is");
	if (c->smtp_ca_file && access(c->smtp_ca_file, R_OK) < 0)
		return bk_err_errno("SMTP_CA_FILE: cannot read %s", c->smtp_ca_file);
	return 0;
}

/* ---- small formatting helpers ---- */

static void human_duration(double s, char *buf, size_t size)
{
	long t = (long)(s + 0.5);

	if (t < 60)
		snprintf(buf, size, "%ld s", t);
	else if (t < 3600)
		snprintf(buf, size, "%ld min %ld s", t / 60, t % 60);
	else
		snprintf(buf, size, "%ld h %ld min", t / 3600, t % 3600 / 60);
}

/* "now" for the mail; an undocumented knob lets tests make expired links. */
static long long mail_now(void)
{
	const char *knob = getenv("BK_MAIL_NOW");

	return knob && *knob ? atoll(knob) : (long long)time(NULL);
}

/* Single-quote s for a POSIX shell unless it is plainly safe. */
static void shell_quote(struct bk_mime_buf *b, const char *s)
{
	if (s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		     "-_./:@+=,")] == '\0') {
		bk_mime_buf_add(b, s);
		return;
	}
	bk_mime_buf_add(b, "'");
	for (; *s; s++) {
		if (*s == '\'')
			bk_mime_buf_add(b, "'\\''");
		else
			bk_mime_buf_addn(b, s, 1);
	}
	bk_mime_buf_add(b, "'");
}

/* Text and HTML built side by side. */
struct body {
	struct bk_mime_buf text, html;
};

static void body_free(struct body *b)
{
	bk_mime_buf_free(&b->text);
	bk_mime_buf_free(&b->html);
}

static void html_start(struct body *b, const char *title)
{
	bk_mime_buf_add(&b->html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
	bk_mime_buf_add_html(&b->html, title);
	bk_mime_buf_add(&b->html, "</title></head>\n<body style=\"font-family:sans-serif;"
			"font-size:14px;color:#222\">\n");
}

static void html_end(struct body *b)
{
	bk_mime_buf_add(&b->html, "<p style=\"color:#777;font-size:12px\">Sent by bk-mail on ");
	bk_mime_buf_add_html(&b->html, bk_mime_hostname());
	bk_mime_buf_add(&b->html, ".</p>\n</body></html>\n");
	bk_mime_buf_addf(&b->text, "\n-- \nSent by bk-mail on %s.\n", bk_mime_hostname());
}

static void heading(struct body *b, const char *title, const char *color)
{
	bk_mime_buf_addf(&b->html, "<h2 style=\"color:%s\">", color);
	bk_mime_buf_add_html(&b->html, title);
	bk_mime_buf_add(&b->html, "</h2>\n");
	bk_mime_buf_addf(&b->text, "%s\n\n", title);
}

static void section(struct body *b, const char *title)
{
	bk_mime_buf_add(&b->html, "<h3>");
	bk_mime_buf_add_html(&b->html, title);
	bk_mime_buf_add(&b->html, "</h3>\n");
	bk_mime_buf_addf(&b->text, "\n%s\n", title);
	for (size_t i = strlen(title); i > 0; i--)
		bk_mime_buf_add(&b->text, "-");
	bk_mime_buf_add(&b->text, "\n");
}

static void para(struct body *b, const char *s)
{
	bk_mime_buf_add(&b->html, "<p>");
	bk_mime_buf_add_html(&b->html, s);
	bk_mime_buf_add(&b->html, "</p>\n");
	bk_mime_buf_addf(&b->text, "%s\n", s);
}

static void pre(struct body *b, const char *s)
{
	bk_mime_buf_add(&b->html, "<pre style=\"background:#f4f4f4;padding:8px;"
			"white-space:pre-wrap\">");
	bk_mime_buf_add_html(&b->html, s);
	bk_mime_buf_add(&b->html, "</pre>\n");
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, "\n");

		bk_mime_buf_add(&b->text, "    ");
		bk_mime_buf_addn(&b->text, p, n);
		bk_mime_buf_add(&b->text, "\n");
		p += n;
		if (*p)
			p++;
	}
}

static void table_start(struct body *b)
{
	bk_mime_buf_add(&b->html, "<table style=\"border-collapse:collapse\">\n");
}

static void table_end(struct body *b)
{
	bk_mime_buf_add(&b->html, "</table>\n");
}

static void row(struct body *b, const char *key, const char *value)
{
	bk_mime_buf_add(&b->html, "<tr><th style=\"text-align:left;vertical-align:top;"
			"padding:2px 16px 2px 0\">");
	bk_mime_buf_add_html(&b->html, key);
	bk_mime_buf_add(&b->html, "</th><td style=\"padding:2px 0\">");
	bk_mime_buf_add_html(&b->html, value);
	bk_mime_buf_add(&b->html, "</td></tr>\n");
	bk_mime_buf_addf(&b->text, "%-18s %s\n", key, value);
}

static void list_start(struct body *b)
{
	bk_mime_buf_add(&b->html, "<ul>\n");
}

static void list_item(struct body *b, const char *s)
{
	bk_mime_buf_add(&b->html, "<li>");
	bk_mime_buf_add_html(&b->html, s);
	bk_mime_buf_add(&b->html, "</li>\n");
	bk_mime_buf_addf(&b->text, "  - %s\n", s);
}

static void list_end(struct body *b)
{
	bk_mime_buf_add(&b->html, "</ul>\n");
}

/* ---- delivery ---- */

static int write_outbox(struct bk_mime *m, const char *kind, char **product)
{
	const char *dir = bk_config.outbox;
	char stamp[16], *tmp = NULL, *path = NULL;
	int fd = -1, ret = -1;

	if (bk_mkdir_p(dir, 0700) < 0)
		return bk_err_prefix("BACKUP_MAIL_OUTBOX");
	bk_stamp_name(mail_now(), stamp);
	tmp = bk_asprintf("%s/.%s-%s.eml.XXXXXX", dir, stamp, kind);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		bk_err_errno("cannot create a file in %s", dir);
		free(tmp);
		return -1;
	}
	if (fchmod(fd, 0600) < 0 || bk_mime_write_fd(m, fd) < 0 || fsync(fd) < 0) {
		if (errno)
			bk_err_errno("cannot write %s", tmp);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		bk_err_errno("cannot write %s", tmp);
		goto out;
	}
	fd = -1;
	/* link(2) never replaces: two mails in one second get -2, -3, ... */
	for (int i = 1; i < 1000; i++) {
		free(path);
		path = i == 1 ? bk_asprintf("%s/%s-%s.eml", dir, stamp, kind)
			      : bk_asprintf("%s/%s-%s-%d.eml", dir, stamp, kind, i);
		if (link(tmp, path) == 0)
			break;
		if (errno == EEXIST)
			continue;
		if (access(path, F_OK) == 0)	/* no hard links here: check, then rename */
			continue;
		if (rename(tmp, path) < 0) {
			bk_err_errno("cannot rename %s to %s", tmp, path);
			goto out;
		}
		break;
	}
	*product = path;
	path = NULL;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	if (ret == 0) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		bk_info("mail written to %s (%llu bytes)", *product, bk_mime_size(m));
	}
	free(tmp);
	free(path);
	return ret;
}

/* The message: common headers around the body, the file attached if any
 * (as type). NULL with the error slot set. */
static struct bk_mime *build(const char *subject, const struct body *b, const char *attach,
			     const char *type)
{
	char from[320], display[300], **admins = NULL;
	struct bk_mime *m = bk_mime_new();
	size_t n = 0;
	int ok = 0;

	if (sender(from, sizeof(from)) < 0 ||
	    bk_mime_addr_list(bk_config.admin_emails ? bk_config.admin_emails : "",
			      "ADMIN_EMAILS", &admins, &n) < 0)
		goto out;
	snprintf(display, sizeof(display), "bk on %s", bk_mime_hostname());
	if (bk_mime_set_from(m, display, from) < 0 || bk_mime_set_subject(m, subject) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (bk_mime_add_to(m, admins[i]) < 0)
			goto out;
	bk_mime_set_body(m, bk_mime_buf_str(&b->text), bk_mime_buf_str(&b->html));
	if (attach && bk_mime_attach(m, attach, strrchr(attach, '/') ? strrchr(attach, '/') + 1
					: attach, type) < 0)
		goto out;
	bk_mime_set_date(m, mail_now());
	ok = bk_mime_finish(m) == 0;
out:
	bk_mime_addr_list_free(admins, n);
	if (!ok) {
		bk_mime_free(m);
		m = NULL;
	}
	return m;
}

/* Send m to ADMIN_EMAILS, or write it to the outbox; kind names the .eml. */
static int deliver(struct bk_mime *m, const char *kind, char **product)
{
	char from[320], **admins = NULL;
	size_t n = 0;
	int ret;

	if (bk_config.outbox)
		return write_outbox(m, kind, product);
	if (sender(from, sizeof(from)) < 0 ||
	    bk_mime_addr_list(bk_config.admin_emails ? bk_config.admin_emails : "",
			      "ADMIN_EMAILS", &admins, &n) < 0)
		return -1;
	ret = bk_smtp_send(m, from, admins, n);
	if (ret == 0) {
		*product = bk_xstrdup(bk_mime_message_id(m));
		bk_info("mail %s sent to %s", bk_mime_message_id(m), bk_config.admin_emails);
	}
	bk_mime_addr_list_free(admins, n);
	return ret;
}

/* Build and deliver a message without attachment. */
static int send_simple(const char *kind, const char *subject, const struct body *b,
		       char **product)
{
	struct bk_mime *m = build(subject, b, NULL, NULL);
	int ret;

	if (!m)
		return -1;
	ret = deliver(m, kind, product);
	bk_mime_free(m);
	return ret;
}

/* ---- the backup mail ---- */

struct summary {
	const char *path;		/* the archive */
	int encrypted;			/* what leaves the host is its .age (BACKUP_AGE_RECIPIENTS) */
	char *sent;			/* the file mailed or linked: the archive or its .age */
	const char *name;		/* its base name */
	char *abs;			/* its absolute path */
	unsigned long long bytes;		/* of the file sent */
	long long mtime;
	double duration;
	const char *restore_test;	/* bk-run's restore-test result, or NULL */
	char sha256[BK_SHA256_HEX];
	const struct bk_manifest *m;
	const char *info;		/* BACKUP_INFO.txt, or NULL */
	char signature[256];		/* the "Signature" row */
	struct bk_health health;	/* bk-monitor's view when this is the newest backup */
};

enum delivery { ATTACHED, LINKED, ON_SERVER };

/* Date of the backup (YYYY-MM-DD) from "# created:", else the file's mtime. */
static void backup_date(const struct summary *s, char buf[11])
{
	const char *created = bk_manifest_meta_get(s->m, "created");
	time_t t = (time_t)s->mtime;
	struct tm tm;

	if (created && strlen(created) >= 10 && created[4] == '-' && created[7] == '-' &&
	    strspn(created, "0123456789-") >= 10) {
		memcpy(buf, created, 10);
		buf[10] = '\0';
		return;
	}
	localtime_r(&t, &tm);
	strftime(buf, 11, "%Y-%m-%d", &tm);
}

static size_t count_meta(const struct bk_manifest *m, const char *key)
{
	size_t i = 0, n = 0;

	while (bk_manifest_meta_next(m, key, &i))
		n++;
	return n;
}

static char *backup_subject(const struct summary *s)
{
	const char *db = bk_manifest_meta_get(s->m, "database");
	size_t warnings = count_meta(s->m, "warning") + s->health.n_reasons;
	char date[11], size[32], warn[48] = "";

	backup_date(s, date);
	bk_format_size(s->bytes, size, sizeof(size));
	if (warnings)
		snprintf(warn, sizeof(warn), " (%zu warning%s)", warnings, warnings == 1 ? "" : "s");
	return bk_asprintf("[bk] Backup %s %s %s %s%s", warnings ? "WARNING" : "OK", date,
			   db ? db : "database", size, warn);
}

/* The lines of BACKUP_INFO.txt from its restore section on (the section up
 * to the next top-level heading "X. "), or the whole text. Caller frees. */
static char *restore_steps(const char *info)
{
	const char *p = info, *start = NULL, *end = NULL;

	while (*p) {
		const char *eol = p + strcspn(p, "\n");
		int top = *p != ' ' && *p != '\t' && p != eol;

		if (!start && top) {
			char line[256];
			size_t n = (size_t)(eol - p) < sizeof(line) - 1 ? (size_t)(eol - p)
								      : sizeof(line) - 1;

			for (size_t i = 0; i < n; i++)
				line[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
			line[n] = '\0';
			if (strstr(line, "restore"))
				start = p;
		} else if (start && top && p[0] >= 'A' && p[0] <= 'Z' && p[1] == '.' &&
			   p[2] == ' ' && start[1] == '.') {
			end = p;
			break;
		}
		p = *eol ? eol + 1 : eol;
	}
	if (!start)
		return bk_xstrdup(info);
	if (!end)
		end = start + strlen(start);
	while (end > start && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	{
		char *out = bk_xmalloc((size_t)(end - start) + 1);

		memcpy(out, start, (size_t)(end - start));
		out[end - start] = '\0';
		return out;
	}
}

/* The coverage entry of a table line, or NULL. */
static const struct bk_info_table *covered(const struct bk_info_coverage *cov, const char *file,
					   const char *qname)
{
	for (size_t i = 0; i < cov->n; i++)
		if (cov->tables[i].file && !strcmp(cov->tables[i].file, file) &&
		    !strcmp(cov->tables[i].qname, qname))
			return &cov->tables[i];
	return NULL;
}

/* "COL >= CUTOFF (ZONE): 600 of 1000 rows (+12 referenced)", as much as is known. */
static void window_text(const struct bk_info_table *t, const char *window, char *buf,
			size_t size)
{
	int n;

	if (!t || t->cls != BK_CLASS_WINDOW) {
		snprintf(buf, size, "%s", window);
		return;
	}
	n = snprintf(buf, size, "%s%s%s%s", t->window, t->zone ? " (" : "", t->zone ? t->zone : "",
		     t->zone ? ")" : "");
	if (n < 0 || (size_t)n >= size || t->in_window < 0)
		return;
	if (t->closure > 0)
		snprintf(buf + n, size - (size_t)n, ": %lld of %lld rows (+%lld referenced)",
			 t->in_window, t->total, t->closure);
	else
		snprintf(buf + n, size - (size_t)n, ": %lld of %lld rows", t->in_window, t->total);
}

static void backup_tables(struct body *b, const struct bk_manifest *m,
			  const struct bk_info_coverage *cov, int encrypted)
{
	size_t i = 0, shown = 0;
	const char *v;

	/* The names of the archive's members stay inside an encrypted archive. */
	bk_mime_buf_add(&b->html, "<table style=\"border-collapse:collapse\">\n<tr>");
	if (!encrypted)
		bk_mime_buf_add(&b->html, "<th style=\"text-align:left;padding:2px 16px 2px 0\">"
				"File</th>");
	bk_mime_buf_add(&b->html, "<th style=\"text-align:left;padding:2px 16px 2px 0\">Table</th>"
			"<th style=\"text-align:right;padding:2px 16px 2px 0\">Rows</th>"
			"<th style=\"text-align:left\">Window</th></tr>\n");
	while ((v = bk_manifest_meta_next(m, "table", &i))) {
		char file[256] = "", qname[256] = "", window[512] = "";
		long long rows = -1;
		size_t j = 0;
		const char *w;
		char rowtxt[32];

		if (sscanf(v, "%255s %lld %255[^\n]", file, &rows, qname) != 3)
			continue;
		while ((w = bk_manifest_meta_next(m, "window", &j))) {
			size_t fl = strlen(file);

			if (!strncmp(w, file, fl) && w[fl] == ' ') {
				window_text(covered(cov, file, qname), w + fl + 1, window,
					    sizeof(window));
				break;
			}
		}
		snprintf(rowtxt, sizeof(rowtxt), "%lld", rows);
		bk_mime_buf_add(&b->html, "<tr>");
		if (!encrypted) {
			bk_mime_buf_add(&b->html, "<td style=\"padding:2px 16px 2px 0\">");
			bk_mime_buf_add_html(&b->html, file);
			bk_mime_buf_add(&b->html, "</td>");
		}
		bk_mime_buf_add(&b->html, "<td style=\"padding:2px 16px 2px 0\">");
		bk_mime_buf_add_html(&b->html, qname);
		bk_mime_buf_addf(&b->html, "</td><td style=\"text-align:right;padding:2px 16px 2px 0\">"
				 "%s</td><td>", rowtxt);
		bk_mime_buf_add_html(&b->html, window);
		bk_mime_buf_add(&b->html, "</td></tr>\n");
		if (encrypted)
			bk_mime_buf_addf(&b->text, "  %-32s %10s%s%s\n", qname, rowtxt,
					 window[0] ? "  " : "", window);
		else
			bk_mime_buf_addf(&b->text, "  %-26s %-32s %10s%s%s\n", file, qname, rowtxt,
					 window[0] ? "  " : "", window);
		shown++;
	}
	/* a MANIFEST without table lines: its data files and their rows */
	for (size_t k = 0; !shown && !encrypted && k < m->n_entries; k++) {
		const struct bk_manifest_entry *e = &m->entries[k];
		char rowtxt[32];

		if (e->rows < 0)
			continue;
		snprintf(rowtxt, sizeof(rowtxt), "%lld", e->rows);
		bk_mime_buf_add(&b->html, "<tr><td style=\"padding:2px 16px 2px 0\">");
		bk_mime_buf_add_html(&b->html, e->path);
		bk_mime_buf_addf(&b->html, "</td><td></td><td style=\"text-align:right;"
				 "padding:2px 16px 2px 0\">%s</td><td></td></tr>\n", rowtxt);
		bk_mime_buf_addf(&b->text, "  %-26s %-32s %10s\n", e->path, "", rowtxt);
	}
	bk_mime_buf_add(&b->html, "</table>\n");
	i = 0;
	if (count_meta(m, "added")) {
		para(b, "Added because a backed-up table references them:");
		list_start(b);
		while ((v = bk_manifest_meta_next(m, "added", &i)))
			list_item(b, v);
		list_end(b);
	}
}

/* The non-empty omitted tables by name; the empty ones in one sentence. */
static void not_backed_up(struct body *b, const struct bk_info_coverage *cov)
{
	size_t empty = 0, named = 0;
	char buf[1024];

	section(b, "Not in this backup");
	if (!cov->count[BK_CLASS_OMITTED]) {
		para(b, "Nothing: every table of the database is in this backup.");
		return;
	}
	for (size_t i = 0; i < cov->n; i++) {
		const struct bk_info_table *t = &cov->tables[i];

		if (t->cls != BK_CLASS_OMITTED)
			continue;
		if (t->rows == 0) {
			empty++;
			continue;
		}
		if (!named++) {
			para(b, "These tables are left out by the scope (schema only: a restore "
			     "creates them empty):");
			list_start(b);
		}
		if (t->rows < 0)
			snprintf(buf, sizeof(buf), "%s: row count unknown, %s", t->qname, t->detail);
		else
			snprintf(buf, sizeof(buf), "%s: ~%lld row%s, %s", t->qname, t->rows,
				 t->rows == 1 ? "" : "s", t->detail);
		list_item(b, buf);
	}
	if (named)
		list_end(b);
	if (!empty)
		return;
	if (named)
		snprintf(buf, sizeof(buf), "%zu more table%s left out %s empty.", empty,
			 empty == 1 ? "" : "s", empty == 1 ? "is" : "are");
	else
		snprintf(buf, sizeof(buf), "%zu table%s left out by the scope (schema only), "
			 "%s empty.", empty, empty == 1 ? "" : "s", empty == 1 ? "is" : "all");
	para(b, buf);
}

/*
 * bk-monitor's checks on BACKUP_DIR with this archive as the newest (the
 * same code, lib/ops/monitor.c): a backup the monitor calls unhealthy is
 * not mailed as "Backup OK". Only for the newest archive of BACKUP_DIR: an
 * older one mailed by hand says nothing about the directory's health.
 */
static void health_of(struct summary *s)
{
	struct bk_health *h = &s->health;
	const char *base = strrchr(s->path, '/') ? strrchr(s->path, '/') + 1 : s->path;
	char *dir = realpath(bk_config.dir, NULL), *abs = realpath(s->path, NULL);
	size_t n = dir ? strlen(dir) : 0;

	memset(h, 0, sizeof(*h));
	if (dir && abs && !strncmp(abs, dir, n) && abs[n] == '/' && !strchr(abs + n + 1, '/')) {
		bk_monitor_check(bk_config.dir, mail_now(), h);
		if (strcmp(h->newest, base))
			h->n_reasons = 0;
	}
	free(dir);
	free(abs);
}

/* An amber section: each reason bk-monitor gives, and what it means. */
static void health_warnings(struct body *b, const struct bk_health *h)
{
	bk_mime_buf_add(&b->html, "<h3 style=\"color:#9a6700\">");
	bk_mime_buf_add_html(&b->html, "Health warnings");
	bk_mime_buf_add(&b->html, "</h3>\n");
	bk_mime_buf_add(&b->text, "\nHealth warnings\n---------------\n");
	para(b, "The backup was made and verified, but bk-monitor finds the backups "
	     "unhealthy and alerts until this is fixed:");
	list_start(b);
	for (size_t i = 0; i < h->n_reasons; i++)
		list_item(b, h->reasons[i]);
	list_end(b);	bk_mime_buf_add(&b->text, "\n");
}

static void backup_warnings(struct body *b, const struct bk_manifest *m)
{
	size_t i = 0;
	const char *v;

	section(b, "Warnings");
	list_start(b);
	while ((v = bk_manifest_meta_next(m, "warning", &i)))
		list_item(b, v);
	list_end(b);
}

/* Without BACKUP_AGE_RECIPIENTS, what leaves the host is the plain archive. */
static void unencrypted_note(struct body *b, enum delivery how)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "Not encrypted: the archive %s holds the stack's secrets "
		 "(.env.production, the TLS private key) in clear, readable by anyone who can "
		 "read %s. Set BACKUP_AGE_RECIPIENTS to the administrators' age public keys "
		 "to encrypt it (see bk(7)).", how == ATTACHED ? "attached to this mail" :
		 how == LINKED ? "behind the link" : "named below",
		 how == ATTACHED ? "this mail on its way or in a mailbox" :
		 how == LINKED ? "the link" : "it");
	bk_mime_buf_add(&b->html, "<p style=\"color:#cf222e\"><b>");
	bk_mime_buf_add_html(&b->html, buf);
	bk_mime_buf_add(&b->html, "</b></p>\n");
	bk_mime_buf_addf(&b->text, "WARNING: %s\n\n", buf);
}

/* The restore of an encrypted archive: decrypt first. Members are not
 * named: their names stay inside the encrypted file. */
static void restore_encrypted(struct body *b, const struct summary *s)
{
	char buf[700], plain[256];
	size_t n = strlen(s->name);

	snprintf(plain, sizeof(plain), "%.*s", (int)(n > 4 ? n - 4 : n), s->name);
	para(b, "The archive is encrypted with age (BACKUP_AGE_RECIPIENTS). Decrypt it "
	     "with the matching identity file, which is kept off the backup host:");
	snprintf(buf, sizeof(buf), "age -d -i key.txt %s > %s", s->name, plain);
	pre(b, buf);
	snprintf(buf, sizeof(buf), "then follow the restore steps inside %s (or "
		 "docs/BACKUP_RESTORE.md). With bk installed, no decrypted copy is needed: "
		 "bk-verify -i key.txt %s, then bk-unpack -i key.txt --restore %s (see "
		 "bk-unpack(1)).", plain, s->name, s->name);
	para(b, buf);
}

static void backup_body(const struct summary *s, enum delivery how, const char *link,
			long long expires, unsigned long long attached_size, struct body *b)
{
	const struct bk_manifest *m = s->m;
	const char *db = bk_manifest_meta_get(m, "database");
	const char *host = bk_manifest_meta_get(m, "host");
	const char *server = bk_manifest_meta_get(m, "server_version");
	const char *created = bk_manifest_meta_get(m, "created");
	char buf[512], size[32], title[300];
	size_t warnings = count_meta(m, "warning") + s->health.n_reasons;
	struct bk_info_coverage cov;

	/* Any warning makes it amber: an emptied table must not look like a good night. */
	snprintf(title, sizeof(title), "%s: %s", warnings ? "Backup done with warnings" :
		 "Backup OK", s->name);
	html_start(b, title);
	heading(b, title, warnings ? "#9a6700" : "#1a7f37");
	if (s->health.n_reasons)
		health_warnings(b, &s->health);
	if (count_meta(m, "warning"))
		backup_warnings(b, m);
	if (!s->encrypted)
		unencrypted_note(b, how);
	table_start(b);
	row(b, "File", s->name);
	bk_format_size(s->bytes, size, sizeof(size));
	snprintf(buf, sizeof(buf), "%s (%llu bytes)", size, s->bytes);
	row(b, "Size", s->bytes < 1024 ? size : buf);
	if (created) {
		row(b, "Date", created);
	} else {
		bk_iso_time(s->mtime, buf, sizeof(buf));
		row(b, "Date", buf);
	}
	snprintf(buf, sizeof(buf), "%s%s%s%s%s%s", db ? db : "(unknown)", host ? " on " : "",
		 host ? host : "", server ? " (PostgreSQL " : "", server ? server : "",
		 server ? ")" : "");
	row(b, "Database", buf);
	if (s->duration >= 0) {
		human_duration(s->duration, buf, sizeof(buf));
		row(b, "Duration", buf);
	}
	if (s->restore_test)
		row(b, "Restore-tested", s->restore_test);
	row(b, "Backup host", bk_mime_hostname());
	if (s->encrypted) {
		snprintf(buf, sizeof(buf), "age, to %zu recipient%s", bk_config.n_age_recipients,
			 bk_config.n_age_recipients == 1 ? "" : "s");
		row(b, "Encrypted", buf);
	}
	row(b, "SHA-256", s->sha256);
	row(b, "Signature", s->signature);
	snprintf(buf, sizeof(buf), "%zu", warnings);
	row(b, "Warnings", warnings ? buf : "none");
	table_end(b);

	bk_info_coverage_read(&cov, m);
	section(b, "Tables");
	backup_tables(b, m, &cov, s->encrypted);
	if (cov.complete)
		not_backed_up(b, &cov);
	bk_info_coverage_free(&cov);

	section(b, "Getting the archive");
	if (how == ATTACHED) {
		snprintf(buf, sizeof(buf), "The archive %s is attached to this mail.", s->name);
		para(b, buf);
	} else {
		char limit[32], when[64];

		bk_format_size(attached_size, size, sizeof(size));
		snprintf(limit, sizeof(limit), "%d MB", bk_config.attach_max_mb);
		snprintf(buf, sizeof(buf), "The archive is not attached: with it this mail would "
			 "be %s, over the limit of %s (BACKUP_MAIL_ATTACH_MAX_MB).", size, limit);
		para(b, buf);
		if (how == LINKED) {
			bk_iso_time(expires, when, sizeof(when));
			snprintf(buf, sizeof(buf), "Download it (the link works until %s):", when);
			bk_mime_buf_add(&b->html, "<p>");
			bk_mime_buf_add_html(&b->html, buf);
			bk_mime_buf_add(&b->html, "<br><a href=\"");
			bk_mime_buf_add_html(&b->html, link);
			bk_mime_buf_add(&b->html, "\">");
			bk_mime_buf_add_html(&b->html, link);
			bk_mime_buf_add(&b->html, "</a></p>\n");
			bk_mime_buf_addf(&b->text, "%s\n\n    %s\n\n", buf, link);
		} else {
			struct bk_mime_buf cmd = { 0 };

			snprintf(buf, sizeof(buf), "It is on the backup host %s at %s. Fetch it "
				 "with:", bk_mime_hostname(), s->abs);
			para(b, buf);
			bk_mime_buf_addf(&cmd, "scp %s:", bk_mime_hostname());
			shell_quote(&cmd, s->abs);
			bk_mime_buf_add(&cmd, " .");
			pre(b, bk_mime_buf_str(&cmd));
			bk_mime_buf_free(&cmd);
			para(b, "(No download link: BACKUP_LINK_BASE is not set.)");
		}
	}
	snprintf(buf, sizeof(buf), "Check a downloaded copy with: sha256sum %s", s->name);
	para(b, buf);

	section(b, "Restore");
	if (s->encrypted) {
		restore_encrypted(b, s);
		html_end(b);
		return;
	}
	if (s->info) {
		char *steps = restore_steps(s->info);

		pre(b, steps);
		free(steps);
	} else {
		para(b, "The archive has no BACKUP_INFO.txt.");
	}
	snprintf(buf, sizeof(buf), "With bk installed: bk-verify %s, then bk-unpack %s "
		 "--restore (see bk-unpack(1)).", s->name, s->name);
	para(b, buf);
	html_end(b);
}

/*
 * The file that leaves the host: with BACKUP_AGE_RECIPIENTS the archive's
 * encrypted copy PATH.age, which bk-run wrote after verification (never the
 * plain archive: a missing .age is an error), else the archive. Its stat in st.
 */
static int sent_file(struct summary *s, struct stat *st)
{
	s->encrypted = bk_config.n_age_recipients > 0;
	s->sent = s->encrypted ? bk_asprintf("%s.age", s->path) : bk_xstrdup(s->path);
	if (stat(s->sent, st) < 0) {
		bk_err_errno("cannot read %s", s->sent);
		if (s->encrypted)
			bk_err_hint("%s is set: only the encrypted copy is mailed (bk-run writes "
				    "it), never the plain archive", bk_config.age_recipients_var);
		return -1;
	}
	if (!S_ISREG(st->st_mode))
		return bk_err_set("%s is not a regular file", s->sent);
	return 0;
}

/*
 * Who signed the archive, from its MANIFEST.minisig: the key ID lets an admin
 * tell a mail about a forged archive from ours (bk-verify checked it before
 * bk-run mails it; a reader checks it against the public key they keep).
 */
static void signature_row(const char *sig, char *buf, size_t size)
{
	struct bk_minisign_sig parsed;
	char id[BK_MINISIGN_ID_HEX];

	if (!sig) {
		snprintf(buf, size, "Unsigned: anyone could have made this archive; set "
			 "BACKUP_SIGNING_KEY");
		return;
	}
	if (bk_minisign_sig_parse(&parsed, sig, strlen(sig)) < 0) {
		snprintf(buf, size, "Bad signature: MANIFEST.minisig cannot be read");
		return;
	}
	bk_minisign_id_hex(parsed.id, id);
	bk_minisign_sig_free(&parsed);
	snprintf(buf, size, "Signed by key ID %s", id);
}

int bk_mail_send_backup(const char *path, double duration, char **product)
{
	return bk_mail_send_backup_tested(path, duration, NULL, product);
}

int bk_mail_send_backup_tested(const char *path, double duration, const char *restore_test,
			       char **product)
{
	struct bk_manifest m;
	struct summary s = { .path = path, .duration = duration, .restore_test = restore_test,
			     .m = &m };
	char *info = NULL, *subject = NULL, *link = NULL, *sig = NULL;
	char size_s[BK_SIZE_BUF], full_s[BK_SIZE_BUF];
	unsigned long long limit = (unsigned long long)bk_config.attach_max_mb << 20;
	unsigned long long full_size = 0, sha_bytes;
	long long expires = 0;
	struct body b = { 0 };
	struct bk_mime *msg = NULL;
	struct stat st;
	enum delivery how = ATTACHED;
	int ret = -1;

	bk_manifest_init(&m);
	if (stat(path, &st) < 0)
		return bk_err_errno("cannot read %s", path);
	if (!S_ISREG(st.st_mode))
		return bk_err_set("%s is not a regular file", path);
	if (bk_ar_read_head(path, &m, &info, &sig) < 0) {
		bk_err_prefix("cannot read the summary of %s", path);
		goto out;
	}
	if (sent_file(&s, &st) < 0)
		goto out;
	s.name = strrchr(s.sent, '/') ? strrchr(s.sent, '/') + 1 : s.sent;
	s.abs = realpath(s.sent, NULL);
	signature_row(sig, s.signature, sizeof(s.signature));
	if (!s.abs)
		s.abs = bk_xstrdup(s.sent);
	s.bytes = (unsigned long long)st.st_size;
	s.mtime = (long long)st.st_mtime;
	s.info = info;
	health_of(&s);
	if (bk_sha256_file(s.sent, s.sha256, &sha_bytes) < 0)
		goto out;
	subject = backup_subject(&s);

	/* What counts is the whole encoded message with the archive in it. */
	backup_body(&s, ATTACHED, NULL, 0, 0, &b);
	if (!(msg = build(subject, &b, s.sent, s.encrypted ? "application/octet-stream"
							   : "application/gzip")))
		goto out;
	full_size = bk_mime_size(msg);
	if (full_size > limit) {
		bk_mime_free(msg);
		msg = NULL;
		body_free(&b);
		how = bk_link_configured() ? LINKED : ON_SERVER;
		if (how == LINKED && !(link = bk_link_for(s.name, mail_now(), &expires)))
			goto out;
		backup_body(&s, how, link, expires, full_size, &b);
		if (!(msg = build(subject, &b, NULL, NULL)))
			goto out;
	}
	bk_info("mailing %s (%s; %s as a mail with it attached, limit %d MB): %s",
		s.name, bk_format_size(s.bytes, size_s, sizeof(size_s)),
		bk_format_size(full_size, full_s, sizeof(full_s)),
		bk_config.attach_max_mb, how == ATTACHED ? "attached" : how == LINKED ?
		"download link" : "no BACKUP_LINK_BASE: path on this host");
	ret = deliver(msg, "backup", product);
out:
	bk_mime_free(msg);
	body_free(&b);
	bk_manifest_free(&m);
	free(info);
	free(sig);
	free(subject);
	free(link);
	free(s.abs);
	free(s.sent);
	return ret;
}

/* ---- alerts ---- */

/* What to check for a failed step (bk-run's step names). */
static const struct {
	const char *step;
	const char *check;
} step_checks[] = {
	{ "lock", "Another bk-run may still be running (ps ax | grep bk-); its lock on "
	  "BACKUP_DIR/.lock goes away when it ends." },
	{ "space", "Free space in BACKUP_DIR and BACKUP_TMPDIR (df -h); bk-prune removes "
	  "archives older than BACKUP_RETENTION_DAYS." },
	{ "export", "Is PostgreSQL up and reachable (POSTGRES_HOST, POSTGRES_PORT or "
	  "DATABASE_URL)? Are POSTGRES_USER and POSTGRES_PASSWORD right? Is pg_dump at least "
	  "the server's major version? Try: bk-export -o /tmp/bk-check" },
	{ "pack", "Free space and permissions in BACKUP_DIR; the configuration files listed "
	  "in BACKUP_CONFIG_FILES under BACKUP_CONFIG_DIR." },
	{ "verify", "The new archive failed verification (disk or memory errors, a full disk "
	  "while writing); it was not kept as a good backup. Older archives are untouched; "
	  "check them with bk-verify." },
	{ "restore-test", "The archive was made, verified and kept; restoring it into a "
	  "scratch database failed. Does the role of BACKUP_RESTORE_TEST_URL have CREATEDB? "
	  "Otherwise the reason names what did not restore: try bk-unpack --restore of the "
	  "archive into an empty database." },
	{ "encrypt", "Free space and permissions in BACKUP_DIR (the .age copy is written next "
	  "to the archive); BACKUP_AGE_RECIPIENTS. The archive was verified but not kept: "
	  "nothing left the host." },
	{ "upload", "The off-site copy: BACKUP_S3_URL, BACKUP_S3_ENDPOINT, BACKUP_S3_REGION, "
	  "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (the reason quotes the store). The backup "
	  "itself was made, verified and mailed and is in BACKUP_DIR; bk-run --dry-run shows "
	  "where it uploads." },
	{ "mail", "The SMTP settings: SMTP_HOST, SMTP_PORT, SMTP_TLS, SMTP_USER, SMTP_PASS, "
	  "SMTP_CA_FILE. Check them with: bk-mail --test. The backup itself was made and "
	  "verified and is in BACKUP_DIR." },
	{ "status", "Permissions and free space in BACKUP_DIR (the status files)." },
	{ "prune", "Permissions in BACKUP_DIR; BACKUP_RETENTION_DAYS and BACKUP_KEEP_MIN." },
};

/* What to check for each kind of bk-monitor reason (monitor.c's cause keys). */
static const struct {
	const char *cause;
	const char *check;
} cause_checks[] = {
	{ "age", "No backup in BACKUP_MAX_AGE_HOURS: is the scheduler running? In the "
	  "container: docker compose ps (is the backup service up?), docker compose logs "
	  "backup (bk-cron's next run and each job's exit); BACKUP_SCHEDULE for the time." },
	{ "none", "No successful backup yet: is the scheduler running (docker compose ps, "
	  "docker compose logs backup, BACKUP_SCHEDULE)? Run one by hand: bk-run" },
	{ "size", "The archive size is outside BACKUP_MIN_SIZE_MB..BACKUP_MAX_SIZE_MB: has the "
	  "data or the scope changed? Compare the archive's BACKUP_INFO.txt (what is in, "
	  "windowed and left out) and its MANIFEST with an older one's; drift warnings name "
	  "tables gone or shrunk. bk-export --plan shows what the scope covers now. If the "
	  "size is right, change the limit." },
	{ "space", "Free space in BACKUP_DIR (df -h): the next backup may not fit. bk-prune "
	  "removes archives older than BACKUP_RETENTION_DAYS; BACKUP_KEEP_MIN keeps the newest." },
	{ "missing", "The newest archive is gone from BACKUP_DIR: removed by hand or by "
	  "another program? Older archives: ls BACKUP_DIR; bk-verify each one." },
	{ "dir", "BACKUP_DIR itself: does it exist, is it a directory owned by the backup "
	  "user with mode 0700?" },
	{ "status", "The status files in BACKUP_DIR (.last_backup_success, "
	  ".last_backup_size_mb) cannot be read: permissions, or written by another program?" },
	{ "history", "BACKUP_DIR/.backup_history cannot be read: permissions?" },
	{ "clock", "The system clock (timedatectl, the host's NTP): the last success is in "
	  "the future." },
};

/* The step of "failed:STEP" among the comma-separated causes, or "". */
static void failed_step(const char *cause, char *buf, size_t size)
{
	const char *p = cause ? strstr(cause, "failed:") : NULL;
	size_t n = p ? strcspn(p + 7, ",") : 0;

	buf[0] = '\0';
	if (p && n > 0 && n < size) {
		memcpy(buf, p + 7, n);
		buf[n] = '\0';
	}
}

/* Is word one of the comma-separated items of list? */
static int has_item(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, ",");

		if (len == n && !strncmp(p, word, n))
			return 1;
		p += len + (p[len] ? 1 : 0);
	}
	return 0;
}

/* "THE REASON" of the newest history line, when it is a failure. */
static void last_run_error(struct body *b)
{
	struct bk_history_entry *h = NULL;
	size_t n = 0;
	char when[64], buf[700];

	if (bk_history_read(bk_config.dir, 1, &h, &n) < 0 || n == 0 || h[0].ok) {
		free(h);
		return;
	}
	bk_iso_time(h[0].epoch, when, sizeof(when));
	snprintf(buf, sizeof(buf), "The last run (%s) failed: %s", when, h[0].reason);
	bk_log_mask(buf, sizeof(buf));
	list_item(b, buf);
	free(h);
}

/* One hint list per cause given, in the order given; no keyword guessing. */
static void what_to_check(struct body *b, const char *step, const char *cause)
{
	list_start(b);
	for (size_t i = 0; step[0] && i < sizeof(step_checks) / sizeof(step_checks[0]); i++)
		if (!strcmp(step, step_checks[i].step))
			list_item(b, step_checks[i].check);
	for (size_t i = 0; i < sizeof(cause_checks) / sizeof(cause_checks[0]); i++)
		if (has_item(cause, cause_checks[i].cause))
			list_item(b, cause_checks[i].check);
	if (!step[0] && (has_item(cause, "age") || has_item(cause, "none")))
		last_run_error(b);
	list_item(b, "The log (BACKUP_LOG), whose last run's lines are below; run the "
		  "backup by hand to see the failure: bk-run --no-mail");
	list_end(b);
}

/* "12 min ago", "3 h 5 min ago", "2 days 3 h ago". */
static void human_ago(long long secs, char *buf, size_t size)
{
	char span[64];

	if (secs < 0)
		snprintf(buf, size, "in the future");
	else if (secs < 60)
		snprintf(buf, size, "under a minute ago");
	else
		snprintf(buf, size, "%s ago", bk_format_span(secs, span, sizeof(span)));
}

static void last_good_backup(struct body *b)
{
	long long last = 0, size_mb = 0;
	struct bk_history_entry *h = NULL, *ok = NULL;
	size_t n = 0, fails = 0;
	char when[64], ago[48], size[BK_SIZE_BUF], buf[700];
	int r = bk_status_read(bk_config.dir, &last, &size_mb);

	if (r < 0) {
		snprintf(buf, sizeof(buf), "Cannot tell: %s", bk_err());
		row(b, "Last good backup", buf);
		return;
	}
	if (r == 1) {
		snprintf(buf, sizeof(buf), "none recorded in %s", bk_config.dir);
		row(b, "Last good backup", buf);
		return;
	}
	if (bk_history_read(bk_config.dir, 1000, &h, &n) == 0) {
		for (size_t i = n; i > 0 && !ok; i--) {
			if (h[i - 1].ok)
				ok = &h[i - 1];
			else
				fails++;
		}
	}
	bk_iso_time(last, when, sizeof(when));
	human_ago(mail_now() - last, ago, sizeof(ago));
	snprintf(buf, sizeof(buf), "%s (%s)%s%s", when, ago, ok ? ", " : "", ok ? ok->file : "");
	row(b, "Last good backup", buf);
	/* the history has the exact bytes of that run; the status file whole MB */
	if (ok && ok->epoch == last)
		row(b, "Its size", bk_format_size(ok->bytes, size, sizeof(size)));
	else if (size_mb >= 0)
		row(b, "Its size", bk_format_size((unsigned long long)size_mb << 20, size,
						  sizeof(size)));
	if (fails) {
		snprintf(buf, sizeof(buf), "%zu", fails);
		row(b, "Failed runs since", buf);
	}
	free(h);
}

/*
 * Where the log excerpt starts: the last "bk-run[PID]: backup started" line
 * in buf, the run an alert is about (a failed run alerts at its end; a
 * monitor alert is about the last run). Lines of an earlier run are not its
 * story. buf itself when there is no such line.
 */
static char *last_run_start(char *buf)
{
	char *found = buf;

	for (char *p = buf; (p = strstr(p, "]: backup started")) != NULL; p++) {
		char *bol = p;

		while (bol > buf && bol[-1] != '\n')
			bol--;
		if (strstr(bol, " bk-run[") && strstr(bol, " bk-run[") < p)
			found = bol;
	}
	return found;
}

/* The last run's lines of the log (at most the last LOG_TAIL_LINES), secrets
 * masked. Caller frees. */
static char *log_tail(const char *path)
{
	char *buf = NULL, *start, *run;
	struct stat st;
	ssize_t got;
	off_t from;
	size_t len = 0;
	int fd, lines = 0;

	if (!path || !*path)
		return bk_xstrdup("(no BACKUP_LOG)");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		char *msg = bk_asprintf("(cannot read the log %s: %s)", path, strerror(errno));

		if (fd >= 0)
			close(fd);
		return msg;
	}
	from = st.st_size > LOG_TAIL_BYTES ? st.st_size - LOG_TAIL_BYTES : 0;
	buf = bk_xmalloc(LOG_TAIL_BYTES + 1);
	while (len < LOG_TAIL_BYTES &&
	       (got = pread(fd, buf + len, LOG_TAIL_BYTES - len, from + (off_t)len)) > 0)
		len += (size_t)got;
	close(fd);
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++)	/* keep it text */
		if (((unsigned char)buf[i] < 32 && buf[i] != '\n' && buf[i] != '\t') || buf[i] == 127)
			buf[i] = '?';
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	run = last_run_start(buf);
	start = buf + len;
	while (start > run && lines < LOG_TAIL_LINES) {
		start--;
		if (*start == '\n' && ++lines == LOG_TAIL_LINES) {
			start++;
			break;
		}
	}
	if (start == buf && from > 0)		/* the first line was cut by the window */
		start += strcspn(start, "\n") + (start[strcspn(start, "\n")] ? 1 : 0);
	memmove(buf, start, strlen(start) + 1);
	bk_log_mask(buf, LOG_TAIL_BYTES + 1);
	/* long lines: keep their beginning */
	{
		struct bk_mime_buf out = { 0 };

		for (const char *p = buf; *p;) {
			size_t n = strcspn(p, "\n");

			bk_mime_buf_addn(&out, p, n > LOG_LINE_MAX ? LOG_LINE_MAX : n);
			bk_mime_buf_add(&out, n > LOG_LINE_MAX ? " [...]\n" : "\n");
			p += n;
			if (*p)
				p++;
		}
		free(buf);
		buf = out.s ? out.s : bk_xstrdup(len ? "" : "(the log is empty)");
	}
	return buf;
}

/* A copy of s with registered secrets masked. */
static char *masked(const char *s)
{
	size_t n = strlen(s) + 1;
	char *m = memcpy(bk_xmalloc(n), s, n);

	bk_log_mask(m, n);
	return m;
}

int bk_mail_send_alert(const char *subject, const char *reason, const char *cause,
		       char **product)
{
	char *subj = masked(subject), *why = reason ? masked(reason) : NULL;
	char *full = bk_asprintf("[bk] ALERT: %s", subj), *tail, step[32], when[64];
	struct body b = { 0 };
	int ret;

	failed_step(cause, step, sizeof(step));
	html_start(&b, full);
	heading(&b, subj, "#cf222e");
	table_start(&b);
	bk_iso_time(mail_now(), when, sizeof(when));
	row(&b, "When", when);
	row(&b, "Backup host", bk_mime_hostname());
	row(&b, "Failed step", step[0] ? step : "none");
	last_good_backup(&b);
	table_end(&b);
	section(&b, "Reason");
	if (why)
		pre(&b, why);
	else
		para(&b, "No reason was given.");
	section(&b, "What to check");
	what_to_check(&b, step, cause);
	section(&b, "Last lines of the log");
	tail = log_tail(bk_config.log_path);
	pre(&b, tail);
	html_end(&b);
	bk_info("mailing alert: %s", subj);
	ret = send_simple("alert", full, &b, product);
	free(tail);
	body_free(&b);
	free(full);
	free(subj);
	free(why);
	return ret;
}

int bk_mail_send_recovered(const char *subject, const char *reason, char **product)
{
	char *subj = masked(subject), *why = reason ? masked(reason) : NULL;
	char *full = bk_asprintf("[bk] recovered: %s", subj), when[64];
	struct body b = { 0 };
	int ret;

	html_start(&b, full);
	heading(&b, "Backups healthy again", "#1a7f37");
	para(&b, subj);
	bk_mime_buf_add(&b.text, "\n");
	table_start(&b);
	bk_iso_time(mail_now(), when, sizeof(when));
	row(&b, "When", when);
	row(&b, "Backup host", bk_mime_hostname());
	last_good_backup(&b);
	table_end(&b);
	if (why) {
		section(&b, "What was wrong");
		pre(&b, why);
	}
	html_end(&b);
	bk_info("mailing recovery: %s", subj);
	ret = send_simple("recovered", full, &b, product);
	body_free(&b);
	free(full);
	free(subj);
	free(why);
	return ret;
}

/* ---- test message ---- */

int bk_mail_send_test(char **product)
{
	const struct bk_config *c = &bk_config;
	char *subject = bk_asprintf("[bk] Test message from %s", bk_mime_hostname());
	char when[64], buf[600], from[320];
	struct body b = { 0 };
	int ret;

	if (sender(from, sizeof(from)) < 0) {
		free(subject);
		return -1;
	}
	html_start(&b, subject);
	heading(&b, "bk-mail test message", "#0969da");
	para(&b, "If you can read this, bk can mail the daily backup and its alerts to this "
	     "address.");
	table_start(&b);
	bk_iso_time(mail_now(), when, sizeof(when));
	row(&b, "Sent", when);
	row(&b, "Backup host", bk_mime_hostname());
	row(&b, "Recipients", c->admin_emails);
	row(&b, "Sender", from);
	if (c->outbox) {
		row(&b, "Delivery", "written to BACKUP_MAIL_OUTBOX");
	} else {
		snprintf(buf, sizeof(buf), "SMTP %s:%d, TLS %s%s%s", c->smtp_host, c->smtp_port,
			 c->smtp_tls, c->smtp_user ? ", user " : "", c->smtp_user ? c->smtp_user : "");
		row(&b, "Delivery", buf);
	}
	snprintf(buf, sizeof(buf), "%d MB (BACKUP_MAIL_ATTACH_MAX_MB)", c->attach_max_mb);
	row(&b, "Attachment limit", buf);
	{
		char *how = bk_link_describe();

		row(&b, "Larger archives", how);
		free(how);
	}
	table_end(&b);
	html_end(&b);
	ret = send_simple("test", subject, &b, product);
	body_free(&b);
	free(subject);
	return ret;
}
