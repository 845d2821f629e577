/* Configuration loading and validation (see config.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "config.h"
#include "err.h"
#include "fs.h"
#include "log.h"

struct bk_config bk_config;

/* Every variable the tools read, so NAME_FILE works for all of them. */
static const char *const known[] = {
	"DATABASE_URL", "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER",
	"POSTGRES_PASSWORD", "BACKUP_DIR", "BACKUP_TMPDIR", "BACKUP_CONFIG_DIR",
	"BACKUP_CONFIG_FILES", "BACKUP_SCOPE", "BACKUP_STRICT", "BACKUP_RETENTION_DAYS",
	"BACKUP_KEEP_MIN", "BACKUP_SCHEDULE", "BACKUP_LOG", "BACKUP_GZIP_LEVEL",
	"BACKUP_MAX_AGE_HOURS", "BACKUP_MIN_SIZE_MB", "BACKUP_MAX_SIZE_MB",
	"BACKUP_ALERT_REPEAT_HOURS", "BACKUP_PING_URL", "ADMIN_EMAILS", "SMTP_HOST",
	"SMTP_PORT", "SMTP_USER", "SMTP_PASS", "SMTP_FROM", "SMTP_TLS", "SMTP_CA_FILE",
	"BACKUP_MAIL_ATTACH_MAX_MB", "BACKUP_LINK_BASE", "BACKUP_LINK_SECRET",
	"BACKUP_LINK_TTL_HOURS", "BACKUP_MAIL_OUTBOX", NULL
};

const char *bk_config_get(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static const char *get_or(const char *name, const char *def)
{
	const char *v = bk_config_get(name);

	return v ? v : def;
}

int bk_parse_int(const char *name, const char *value, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (end == value || *end || errno || value[0] == ' ' || value[0] == '+')
		return bk_err_set("%s: '%s' is not a whole number", name, value);
	if (v < min || v > max)
		return bk_err_set("%s: %ld is out of range (%d..%d)", name, v, min, max);
	*out = (int)v;
	return 0;
}

static int int_var(const char *name, int def, int min, int max, int *out)
{
	const char *v = bk_config_get(name);

	if (!v) {
		*out = def;
		return 0;
	}
	return bk_parse_int(name, v, min, max, out);
}

static int bool_var(const char *name, int *out)
{
	const char *v = bk_config_get(name);

	*out = 0;
	if (!v || !strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no"))
		return 0;
	if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes")) {
		*out = 1;
		return 0;
	}
	return bk_err_set("%s: '%s' is not 0 or 1", name, v);
}

/* ---- .env parsing ---- */

static int env_value(const char **pp, char *out, size_t size, const char *name, int line)
{
	const char *p = *pp;
	size_t n = 0;
	char q = *p;

	if (q == '"' || q == '\'') {
		for (p++; *p && *p != q; p++) {
			char c = *p;

			if (q == '"' && c == '\\' && p[1]) {
				p++;
				c = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
			}
			if (n + 1 >= size)
				return bk_err_set("%s:%d: value too long", name, line);
			out[n++] = c;
		}
		if (*p != q)
			return bk_err_set("%s:%d: missing closing %c quote", name, line, q);
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && *p != '#' && *p != '\n' && *p != '\r')
			return bk_err_set("%s:%d: text after closing quote", name, line);
	} else {
		const char *start = p, *end;

		while (*p && *p != '\n' && !(*p == '#' && p > start && (p[-1] == ' ' || p[-1] == '\t')))
			p++;
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		n = (size_t)(end - start);
		if (n + 1 >= size)
			return bk_err_set("%s:%d: value too long", name, line);
		memcpy(out, start, n);
	}
	out[n] = '\0';
	while (*p && *p != '\n')
		p++;
	*pp = p;
	return 0;
}

int bk_env_parse(const char *text, const char *name,
		 int (*set)(const char *key, const char *value, void *ctx), void *ctx)
{
	static char value[65536];
	const char *p = text;
	int line = 0;

	while (*p) {
		char key[256];
		size_t k = 0;

		line++;
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p == '#' || *p == '\n' || !*p) {
			while (*p && *p != '\n')
				p++;
			if (*p)
				p++;
			continue;
		}
		if (!strncmp(p, "export ", 7))
			p += 7;
		while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_' ||
		       (k > 0 && *p >= '0' && *p <= '9')) {
			if (k + 1 >= sizeof(key))
				return bk_err_set("%s:%d: variable name too long", name, line);
			key[k++] = *p++;
		}
		key[k] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (!k || *p != '=')
			return bk_err_set("%s:%d: expected NAME=VALUE", name, line);
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (env_value(&p, value, sizeof(value), name, line) < 0)
			return -1;
		if (set(key, value, ctx) < 0)
			return bk_err_prefix("%s:%d", name, line);
		if (*p)
			p++;
	}
	return 0;
}

static int set_if_unset(const char *key, const char *value, void *ctx)
{
	(void)ctx;
	if (setenv(key, value, 0) < 0)
		return bk_err_errno("cannot set %s", key);
	return 0;
}

static int load_env_file(const char *path)
{
	char *text = NULL;
	size_t len;
	int ret;

	if (bk_read_file(path, 1 << 20, &text, &len) < 0)
		return bk_err_prefix("env file");
	if (memchr(text, '\0', len)) {
		free(text);
		return bk_err_set("env file %s: not a text file", path);
	}
	ret = bk_env_parse(text, path, set_if_unset, NULL);
	free(text);
	return ret;
}

/* NAME_FILE supplies NAME (Docker secrets); one trailing newline is dropped. */
static int resolve_file_secrets(void)
{
	for (int i = 0; known[i]; i++) {
		char fname[64];
		const char *path;
		char *text = NULL;
		size_t len;

		snprintf(fname, sizeof(fname), "%s_FILE", known[i]);
		path = bk_config_get(fname);
		if (!path)
			continue;
		if (bk_read_file(path, 65536, &text, &len) < 0)
			return bk_err_prefix("%s", fname);
		while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
			text[--len] = '\0';
		if (memchr(text, '\0', len) || !len) {
			free(text);
			return bk_err_set("%s: %s is empty or not text", fname, path);
		}
		/* Both set with the same value: inherited from a bk tool that
		 * resolved the file already (bk-run's steps). */
		if (bk_config_get(known[i])) {
			int same = !strcmp(bk_config_get(known[i]), text);

			free(text);
			if (same)
				continue;
			return bk_err_set("%s and %s are both set; use one", known[i], fname);
		}
		if (setenv(known[i], text, 1) < 0) {
			free(text);
			return bk_err_errno("cannot set %s", known[i]);
		}
		free(text);
	}
	return 0;
}

static int load_database(struct bk_config *c)
{
	c->database_url = bk_config_get("DATABASE_URL");
	c->pg_host = get_or("POSTGRES_HOST", getenv("PGHOST") ? NULL : "postgres");
	c->pg_db = get_or("POSTGRES_DB", getenv("PGDATABASE") ? NULL : "smart_ai_hub");
	c->pg_user = get_or("POSTGRES_USER", getenv("PGUSER") ? NULL : "postgres");
	c->pg_password = bk_config_get("POSTGRES_PASSWORD");
	return int_var("POSTGRES_PORT", 0, 1, 65535, &c->pg_port);
}

static int load_backup(struct bk_config *c)
{
	c->dir = get_or("BACKUP_DIR", "/backups");
	c->tmpdir = get_or("BACKUP_TMPDIR", "/tmp");
	c->config_dir = get_or("BACKUP_CONFIG_DIR", "/config");
	c->config_files = get_or("BACKUP_CONFIG_FILES",
				 ".env.production docker-compose.prod.yml nginx.prod.conf ssl");
	c->scope_file = bk_config_get("BACKUP_SCOPE");
	c->schedule = get_or("BACKUP_SCHEDULE", "0 2 * * *");
	c->log_path = getenv("BACKUP_LOG") ? getenv("BACKUP_LOG") : "/var/log/backup.log";
	if (bool_var("BACKUP_STRICT", &c->strict) < 0 ||
	    int_var("BACKUP_RETENTION_DAYS", 30, 1, 36500, &c->retention_days) < 0 ||
	    int_var("BACKUP_KEEP_MIN", 3, 1, 10000, &c->keep_min) < 0 ||
	    int_var("BACKUP_GZIP_LEVEL", 6, 1, 9, &c->gzip_level) < 0)
		return -1;
	return 0;
}

static int load_monitor(struct bk_config *c)
{
	c->ping_url = bk_config_get("BACKUP_PING_URL");
	if (int_var("BACKUP_MAX_AGE_HOURS", 25, 1, 100000, &c->max_age_hours) < 0 ||
	    int_var("BACKUP_MIN_SIZE_MB", 1, 0, 1000000, &c->min_size_mb) < 0 ||
	    int_var("BACKUP_MAX_SIZE_MB", 100, 1, 1000000, &c->max_size_mb) < 0 ||
	    int_var("BACKUP_ALERT_REPEAT_HOURS", 24, 1, 100000, &c->alert_repeat_hours) < 0)
		return -1;
	if (c->min_size_mb > c->max_size_mb)
		return bk_err_set("BACKUP_MIN_SIZE_MB (%d) is larger than BACKUP_MAX_SIZE_MB (%d)",
				  c->min_size_mb, c->max_size_mb);
	return 0;
}

static int load_mail(struct bk_config *c)
{
	c->admin_emails = bk_config_get("ADMIN_EMAILS");
	c->smtp_host = bk_config_get("SMTP_HOST");
	c->smtp_user = bk_config_get("SMTP_USER");
	c->smtp_pass = bk_config_get("SMTP_PASS");
	c->smtp_from = bk_config_get("SMTP_FROM");
	c->smtp_tls = get_or("SMTP_TLS", "starttls");
	c->smtp_ca_file = bk_config_get("SMTP_CA_FILE");
	c->link_base = bk_config_get("BACKUP_LINK_BASE");
	c->link_secret = bk_config_get("BACKUP_LINK_SECRET");
	c->outbox = bk_config_get("BACKUP_MAIL_OUTBOX");
	if (strcmp(c->smtp_tls, "starttls") && strcmp(c->smtp_tls, "tls") &&
	    strcmp(c->smtp_tls, "none"))
		return bk_err_set("SMTP_TLS: '%s' is not one of starttls, tls, none", c->smtp_tls);
	if (int_var("SMTP_PORT", strcmp(c->smtp_tls, "tls") ? 587 : 465, 1, 65535,
		    &c->smtp_port) < 0 ||
	    int_var("BACKUP_MAIL_ATTACH_MAX_MB", 25, 0, 10000, &c->attach_max_mb) < 0 ||
	    int_var("BACKUP_LINK_TTL_HOURS", 72, 1, 100000, &c->link_ttl_hours) < 0)
		return -1;
	return 0;
}

/* A password inside DATABASE_URL must be masked like POSTGRES_PASSWORD. */
static void register_url_password(const char *url)
{
	PQconninfoOption *opts, *o;

	if (!url || !(opts = PQconninfoParse(url, NULL)))
		return;
	for (o = opts; o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val)
			bk_log_secret(o->val);
	PQconninfoFree(opts);
}

int bk_config_load(const char *env_file)
{
	struct bk_config *c = &bk_config;

	memset(c, 0, sizeof(*c));
	if (!env_file)
		env_file = bk_config_get("BACKUP_ENV_FILE");
	if (env_file && load_env_file(env_file) < 0)
		return -1;
	if (resolve_file_secrets() < 0)
		return -1;
	if (load_database(c) < 0 || load_backup(c) < 0 || load_monitor(c) < 0 ||
	    load_mail(c) < 0)
		return -1;
	bk_log_secret(c->pg_password);
	register_url_password(c->database_url);
	bk_log_secret(getenv("PGPASSWORD"));
	bk_log_secret(c->smtp_pass);
	bk_log_secret(c->link_secret);
	return 0;
}
