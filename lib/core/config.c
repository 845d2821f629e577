/* Configuration loading and validation (see config.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "age.h"
#include "config.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "minisign.h"
#include "prim.h"
#include "smtp.h"

struct bk_config bk_config;

/* Every variable the tools read, so NAME_FILE works for all of them. */
static const char *const known[] = {
	"DATABASE_URL", "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER",
	"POSTGRES_PASSWORD", "BACKUP_DIR", "BACKUP_TMPDIR", "BACKUP_CONFIG_DIR",
	"BACKUP_CONFIG_FILES", "BACKUP_SCOPE", "BACKUP_STRICT", "BACKUP_RETENTION_DAYS",
	"BACKUP_KEEP_MIN", "BACKUP_SCHEDULE", "BACKUP_LOG", "BACKUP_GZIP_LEVEL",
	"BACKUP_KEEP_DAILY", "BACKUP_KEEP_WEEKLY", "BACKUP_KEEP_MONTHLY",
	"BACKUP_MAX_AGE_HOURS", "BACKUP_MIN_SIZE_MB", "BACKUP_MAX_SIZE_MB",
	"BACKUP_ALERT_REPEAT_HOURS", "BACKUP_PING_URL", "ADMIN_EMAILS", "SMTP_HOST",
	"SMTP_PORT", "SMTP_USER", "SMTP_PASS", "SMTP_FROM", "SMTP_TLS", "SMTP_CA_FILE",
	"BACKUP_MAIL_ATTACH_MAX_MB", "BACKUP_LINK_BASE", "BACKUP_LINK_SECRET",
	"BACKUP_LINK_TTL_HOURS", "BACKUP_MAIL_OUTBOX", "BACKUP_WINDOW_TIMEZONE",
	"BACKUP_DRIFT_DROP_PERCENT", "BACKUP_AGE_RECIPIENTS", "BACKUP_SIGNING_KEY",
	"BACKUP_VERIFY_KEY", "BACKUP_RESTORE_TEST", "BACKUP_RESTORE_TEST_URL",
	"BACKUP_RESTORE_TEST_EVERY_DAYS",
	"BACKUP_S3_URL", "BACKUP_S3_ENDPOINT", "BACKUP_S3_REGION",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "BACKUP_S3_PATH_STYLE",
	"BACKUP_S3_CA_FILE",
	"BACKUP_S3_RETENTION_DAYS", "BACKUP_S3_PART_SIZE_MB", NULL
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

/*
 * Variables that make the dynamic loader, glibc or the libraries under libpq
 * and libcurl load other code (or weaken them): whoever can write the env file
 * must not get to choose the code our tools and their children run.
 */
static int loads_code(const char *key)
{
	static const char *const names[] = {
		"GCONV_PATH", "GLIBC_TUNABLES", "LOCPATH", "NLSPATH", "MALLOC_TRACE",
		"HOSTALIASES", "RESOLV_HOST_CONF", "OPENSSL_CONF", "OPENSSL_MODULES",
		"OPENSSL_ENGINES", "SSLKEYLOGFILE", "KRB5_CONFIG", NULL
	};

	if (!strncmp(key, "LD_", 3))
		return 1;
	for (int i = 0; names[i]; i++)
		if (!strcmp(key, names[i]))
			return 1;
	return 0;
}

static int set_if_unset(const char *key, const char *value, void *ctx)
{
	(void)ctx;
	if (loads_code(key))
		return bk_err_set("%s: not allowed in an env file (it changes the code programs "
				  "load)", key);
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

/* ---- DATABASE_URL ---- */

/*
 * Parameters a Prisma URL carries that libpq does not know (and would refuse):
 * dropped before libpq sees the URL. connect_timeout, sslmode, sslcert,
 * sslpassword, application_name, options and host are libpq's too: kept.
 */
static const char *const prisma_params[] = {
	"schema", "connection_limit", "pool_timeout", "socket_timeout", "pgbouncer",
	"statement_cache_size", "sslidentity", "sslaccept", "max_connection_lifetime",
	"max_idle_connection_lifetime", NULL
};

/* Owned by the last load: the URL as libpq gets it, the dropped names, the schema. */
static char *url_clean, *url_dropped, *url_schema;

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %XX-decode n bytes of s into out (at least n + 1 bytes); -1 when malformed. */
static int pct_decode(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
			return -1;
		out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
		i += 2;
	}
	out[o] = '\0';
	return memchr(out, '\0', o) ? -1 : 0;
}

static int libpq_knows(const PQconninfoOption *opts, const char *key)
{
	/* "ssl=true" is libpq's JDBC spelling of sslmode=require */
	if (!strcmp(key, "ssl"))
		return 1;
	for (; opts && opts->keyword; opts++)
		if (!strcmp(opts->keyword, key))
			return 1;
	return 0;
}

static int is_prisma_param(const char *key)
{
	for (int i = 0; prisma_params[i]; i++)
		if (!strcmp(prisma_params[i], key))
			return 1;
	return 0;
}

static int set_schema(const char *value, size_t n)
{
	free(url_schema);
	url_schema = bk_xmalloc(n + 1);
	if (pct_decode(value, n, url_schema) < 0 || strlen(url_schema) > 63)
		goto bad;
	for (const char *c = url_schema; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			goto bad;
	if (!*url_schema) {
		free(url_schema);
		url_schema = NULL;
	}
	return 0;
bad:
	free(url_schema);
	url_schema = NULL;
	return bk_err_set("DATABASE_URL: schema: not a schema name (at most 63 bytes, "
			  "no control characters)");
}

/*
 * Copy the URL's query into url_clean without Prisma's parameters, noting
 * their names in url_dropped and the first parameter nobody knows in
 * unknown (kept: libpq refuses it). libpq still decodes what it gets.
 */
static int strip_query(const char *raw, const char *query, char *unknown, size_t usize)
{
	PQconninfoOption *defaults = PQconndefaults();
	size_t len = strlen(raw);
	char *u, *d, *key = bk_xmalloc(len + 1);
	int ret = -1, kept = 0;

	url_clean = bk_xmalloc(len + 1);
	url_dropped = bk_xmalloc(2 * len + 1);
	memcpy(url_clean, raw, (size_t)(query - raw));
	u = url_clean + (query - raw);
	d = url_dropped;
	for (const char *p = query + 1; *p; p += *p == '&') {
		size_t n = strcspn(p, "&"), kn = strcspn(p, "=&");
		int decoded = pct_decode(p, kn, key) == 0;

		if (!n)
			continue;
		if (decoded && is_prisma_param(key)) {
			if (!strcmp(key, "schema") && set_schema(p + kn + (kn < n), n - kn - (kn < n)) < 0)
				goto out;
			d += sprintf(d, "%s%s", d == url_dropped ? "" : ", ", key);
		} else {
			if (decoded && !libpq_knows(defaults, key) && !unknown[0] && kn < usize &&
			    strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == kn)
				snprintf(unknown, usize, "%s", key);
			*u++ = kept++ ? '&' : '?';
			memcpy(u, p, n);
			u += n;
		}
		p += n;
	}
	*u = '\0';
	if (d == url_dropped) {
		free(url_dropped);
		url_dropped = NULL;
	}
	ret = 0;
out:
	PQconninfoFree(defaults);
	free(key);
	return ret;
}

/* n bytes of the URL's password as written (user:PASSWORD@), or 0. */
static size_t url_password(const char *url, const char **at)
{
	const char *start = strstr(url, "://"), *end, *colon;

	if (!start)
		return 0;
	start += 3;
	end = start + strcspn(start, "@/");
	colon = memchr(start, ':', (size_t)(end - start));
	if (*end != '@' || !colon || colon + 1 == end)
		return 0;
	*at = colon + 1;
	return (size_t)(end - colon - 1);
}

void bk_config_url_reason(char *out, size_t size, const char *why, const char *url)
{
	const char *pw = NULL, *w = why ? why : "libpq gave no reason";
	size_t pw_len = url_password(url, &pw), url_len = strlen(url), o = 0;
	/* a keyword=value string: whatever libpq quotes may be part of a password */
	int hide_quoted = !strstr(url, "://") && strstr(url, "password");

	for (int open = 0; *w && *w != '\n' && o + 8 < size; ) {
		if (!strncmp(w, url, url_len) && url_len) {
			o += (size_t)snprintf(out + o, size - o, "%s", "the URL");
			w += url_len;
		} else if (pw_len && !strncmp(w, pw, pw_len)) {
			o += (size_t)snprintf(out + o, size - o, "%s", "***");
			w += pw_len;
		} else if (*w == '"' && !open && hide_quoted && w[1] && w[2] != '"') {
			o += (size_t)snprintf(out + o, size - o, "%s", "\"...\"");
			w += 1 + strcspn(w + 1, "\"");
			w += *w == '"';
		} else {
			open ^= *w == '"';
			out[o++] = *w++;
		}
		if (o >= size)
			o = size - 1;
	}
	out[o] = '\0';
}

/* A password inside DATABASE_URL must be masked like POSTGRES_PASSWORD, as
 * libpq decodes it and as written (percent-encoded); sslpassword as decoded. */
static void register_url_password(const char *url, const PQconninfoOption *opts)
{
	const char *pw = NULL;
	size_t n = url_password(url, &pw);

	for (; opts->keyword; opts++)
		if (opts->dispchar[0] == '*' && opts->val)	/* password, sslpassword */
			bk_log_secret(opts->val);
	if (n && memchr(pw, '%', n)) {
		char *raw = bk_xmalloc(n + 1);

		memcpy(raw, pw, n);
		raw[n] = '\0';
		bk_log_secret(raw);
		free(raw);
	}
}

/*
 * DATABASE_URL as libpq takes it: a postgresql:// URL loses Prisma's own
 * parameters (schema= is kept apart as the application's schema). The result
 * must parse; libpq's reason is shown without the URL or its password.
 */
static int load_url(struct bk_config *c)
{
	const char *raw = bk_config_get("DATABASE_URL");
	PQconninfoOption *opts;
	char unknown[64] = "", *why = NULL;
	const char *query;

	free(url_clean);
	free(url_dropped);
	free(url_schema);
	url_clean = url_dropped = url_schema = NULL;
	c->database_url = raw;
	if (!raw)
		return 0;
	query = strchr(raw, '?');
	if ((!strncmp(raw, "postgresql://", 13) || !strncmp(raw, "postgres://", 11)) && query) {
		if (strip_query(raw, query, unknown, sizeof(unknown)) < 0)
			return -1;
		c->database_url = url_clean;
		c->url_dropped = url_dropped;
		c->url_schema = url_schema;
	}
	if (!(opts = PQconninfoParse(c->database_url, &why))) {
		char reason[512];

		bk_config_url_reason(reason, sizeof(reason), why, c->database_url);
		PQfreemem(why);
		if (unknown[0])
			bk_err_set("DATABASE_URL: not a valid connection URI or string: unknown "
				   "parameter '%s' (neither libpq's nor Prisma's)", unknown);
		else
			bk_err_set("DATABASE_URL: not a valid connection URI or string: %s",
				   reason);
		bk_err_hint("postgresql://USER:PASSWORD@HOST:PORT/DATABASE[?PARAMETER=VALUE&...]");
		return -1;
	}
	register_url_password(raw, opts);
	PQconninfoFree(opts);
	return 0;
}

static int load_database(struct bk_config *c)
{
	if (load_url(c) < 0)
		return -1;
	c->pg_host = get_or("POSTGRES_HOST", getenv("PGHOST") ? NULL : "postgres");
	c->pg_db = get_or("POSTGRES_DB", getenv("PGDATABASE") ? NULL : "smart_ai_hub");
	c->pg_user = get_or("POSTGRES_USER", getenv("PGUSER") ? NULL : "postgres");
	c->pg_password = bk_config_get("POSTGRES_PASSWORD");
	return int_var("POSTGRES_PORT", 0, 1, 65535, &c->pg_port);
}

/* The server knows the zones; this only keeps out what is plainly not a name. */
static int timezone_var(const char *name, const char **out)
{
	const char *v = get_or(name, "UTC");
	size_t n = strlen(v);

	*out = v;
	if (n > 64)
		return bk_err_set("%s: longer than 64 characters, not a time zone", name);
	if (strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-/:") != n) {
		bk_err_set("%s: '%s' is not a time zone name", name, v);
		bk_err_hint("use a name such as UTC or Asia/Bangkok");
		return -1;
	}
	return 0;
}

/* GFS retention (retention.h): 0, the default, turns a rule off. */
static int load_keep_periods(struct bk_config *c)
{
	if (int_var("BACKUP_KEEP_DAILY", 0, 0, 100000, &c->keep_daily) < 0 ||
	    int_var("BACKUP_KEEP_WEEKLY", 0, 0, 100000, &c->keep_weekly) < 0 ||
	    int_var("BACKUP_KEEP_MONTHLY", 0, 0, 100000, &c->keep_monthly) < 0)
		return -1;
	return 0;
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
	    int_var("BACKUP_GZIP_LEVEL", 6, 1, 9, &c->gzip_level) < 0 ||
	    timezone_var("BACKUP_WINDOW_TIMEZONE", &c->window_timezone) < 0 ||
	    int_var("BACKUP_DRIFT_DROP_PERCENT", 50, 1, 100, &c->drift_drop_percent) < 0)
		return -1;
	if (load_keep_periods(c) < 0)
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

/* Owned by the last load. */
static struct bk_age_recipient *age_recipients;

/*
 * BACKUP_AGE_RECIPIENTS (or the file _FILE named, read into it as `age -R`
 * reads one): age1... public keys. A secret key among them is refused
 * without being shown: someone pasted the wrong half of the pair.
 */
static int load_crypt(struct bk_config *c)
{
	const char *v = bk_config_get("BACKUP_AGE_RECIPIENTS");

	free(age_recipients);
	age_recipients = NULL;
	c->age_recipients_var = bk_config_get("BACKUP_AGE_RECIPIENTS_FILE")
				? "BACKUP_AGE_RECIPIENTS_FILE" : "BACKUP_AGE_RECIPIENTS";
	c->age_identity_file = bk_config_get("BACKUP_AGE_IDENTITY_FILE");
	if (!v)
		return 0;
	if (bk_age_recipients_parse(v, strlen(v), &age_recipients, &c->n_age_recipients) < 0)
		return bk_err_prefix("%s", c->age_recipients_var);
	c->age_recipients = age_recipients;
	return 0;
}

/* ---- keys ---- */

static struct bk_minisign_sec signing_key;
static struct bk_minisign_pub verify_key;
static char *verify_key_path;

/* The variable to name in a message: NAME_FILE when the value came from a file. */
static const char *key_var(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s_FILE", name);
	return bk_config_get(buf) ? buf : name;
}

/* The key's base64 line is as secret as its whole text: masked alone too. */
static void register_key_secret(const char *text)
{
	const char *p = text, *longest = NULL;
	size_t best = 0;

	bk_log_secret(text);
	while (*p) {
		size_t n = strcspn(p, "\r\n");

		if (n > best) {
			best = n;
			longest = p;
		}
		p += n;
		p += strspn(p, "\r\n");
	}
	if (longest && best < strlen(text)) {
		char *line = bk_xmalloc(best + 1);

		memcpy(line, longest, best);
		line[best] = '\0';
		bk_log_secret(line);
		bk_wipe(line, best);
		free(line);
	}
}

static int key_error(const char *var, const char *name)
{
	const char *path = bk_config_get(var);
	int from_file = strcmp(var, name) != 0;

	if (from_file)
		bk_err_prefix("%s: %s", var, path);
	else
		bk_err_prefix("%s", var);
	if (!*bk_err_hint_text())
		bk_err_hint("make a key pair with: minisign -G -W -p /etc/bk/bk.pub -s /etc/bk/bk.key");
	return -1;
}

static int load_keys(struct bk_config *c)
{
	const char *sk = bk_config_get("BACKUP_SIGNING_KEY");
	const char *pk = bk_config_get("BACKUP_VERIFY_KEY");
	char buf[64];

	bk_minisign_sec_wipe(&signing_key);
	free(verify_key_path);
	verify_key_path = NULL;
	if (sk) {
		register_key_secret(sk);
		if (bk_minisign_sec_parse(&signing_key, sk, strlen(sk)) < 0)
			return key_error(key_var("BACKUP_SIGNING_KEY", buf, sizeof(buf)),
					 "BACKUP_SIGNING_KEY");
		c->signing_key = &signing_key;
	}
	if (pk) {
		if (bk_minisign_pub_parse(&verify_key, pk, strlen(pk)) < 0)
			return key_error(key_var("BACKUP_VERIFY_KEY", buf, sizeof(buf)),
					 "BACKUP_VERIFY_KEY");
		c->verify_key = &verify_key;
		c->verify_key_from = "BACKUP_VERIFY_KEY";
	}
	/* bk-run verifies what it signs: with another key, every night would fail. */
	if (sk && pk && (memcmp(signing_key.id, verify_key.id, 8) ||
			 memcmp(signing_key.pk, verify_key.pk, 32))) {
		char a[BK_MINISIGN_ID_HEX], b[BK_MINISIGN_ID_HEX];

		bk_minisign_id_hex(verify_key.id, a);
		bk_minisign_id_hex(signing_key.id, b);
		bk_err_set("BACKUP_VERIFY_KEY: key %s is not the public key of BACKUP_SIGNING_KEY "
			   "(key %s)", a, b);
		bk_err_hint("set BACKUP_VERIFY_KEY to the .pub file minisign -G wrote with the key");
		return -1;
	}
	return 0;
}

/* ---- off-site copies (S3) ---- */

/* Owned by the last load: parsed parts of BACKUP_S3_URL, the endpoint. */
static char *s3_bucket, *s3_prefix, *s3_endpoint;

static int s3_name_chars(const char *s, size_t n, const char *allowed)
{
	return strspn(s, allowed) >= n;
}

/* s3://bucket[/prefix[/]]: a bucket name as S3 allows, a prefix without
 * control characters, empty segments or a leading '/'. */
static int s3_url_var(struct bk_config *c)
{
	const char *v = c->s3_url, *b, *slash;
	size_t bn, pn;

	if (strncmp(v, "s3://", 5))
		goto bad;
	b = v + 5;
	slash = strchr(b, '/');
	bn = slash ? (size_t)(slash - b) : strlen(b);
	if (bn < 3 || bn > 63 || !s3_name_chars(b, bn, "abcdefghijklmnopqrstuvwxyz0123456789.-_"))
		goto bad;
	s3_bucket = bk_xmalloc(bn + 1);
	memcpy(s3_bucket, b, bn);
	s3_bucket[bn] = '\0';
	b = slash ? slash + 1 : b + bn;
	pn = strlen(b);
	if (pn > 512 || strstr(b, "//") || *b == '/')
		goto bad;
	for (const char *p = b; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			goto bad;
	s3_prefix = bk_asprintf("%s%s", b, pn && b[pn - 1] != '/' ? "/" : "");
	c->s3_bucket = s3_bucket;
	c->s3_prefix = s3_prefix;
	return 0;
bad:
	bk_err_set("BACKUP_S3_URL: '%s' is not s3://BUCKET/PREFIX/ (a bucket name of 3 to 63 "
		   "lowercase letters, digits, '.', '-')", v);
	bk_err_hint("for example BACKUP_S3_URL=s3://company-backups/db1/");
	return -1;
}

/* scheme://host[:port][/]: TLS always, plain http to loopback only. The
 * default path style follows the host: an address cannot carry the bucket in
 * front of it (libcurl resolves BUCKET.localhost itself). */
static int s3_endpoint_var(struct bk_config *c, int *host_is_address)
{
	const char *v = bk_config_get("BACKUP_S3_ENDPOINT"), *h;
	char host[256];
	size_t n;
	int tls;

	if (!v)
		s3_endpoint = bk_asprintf("https://s3.%s.amazonaws.com", c->s3_region);
	else
		s3_endpoint = bk_xstrdup(v);
	n = strlen(s3_endpoint);
	while (n > 0 && s3_endpoint[n - 1] == '/')
		s3_endpoint[--n] = '\0';
	c->s3_endpoint = s3_endpoint;
	tls = !strncmp(s3_endpoint, "https://", 8);
	if (!tls && strncmp(s3_endpoint, "http://", 7))
		goto bad;
	h = s3_endpoint + (tls ? 8 : 7);
	if (!*h || strpbrk(h, "/?#@ \t") ||
	    !s3_name_chars(h, strlen(h), "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789.-:[]"))
		goto bad;
	n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":");
	if (n >= sizeof(host) || (h[0] == '[' && h[n - 1] != ']'))
		goto bad;
	memcpy(host, h, n);
	host[n] = '\0';
	if (h[n] == ':' && (h[n + 1] == '\0' || strspn(h + n + 1, "0123456789") != strlen(h + n + 1)))
		goto bad;
	*host_is_address = host[0] == '[' || strspn(host, "0123456789.") == n;
	if (!tls && !bk_smtp_host_is_loopback(host)) {
		bk_err_set("BACKUP_S3_ENDPOINT: %s: plain http is allowed only to a loopback "
			   "address (the keys and the backup would cross the network in clear)",
			   s3_endpoint);
		bk_err_hint("use https://");
		return -1;
	}
	return 0;
bad:
	bk_err_set("BACKUP_S3_ENDPOINT: '%s' is not https://HOST[:PORT]", s3_endpoint);
	bk_err_hint("for Cloudflare R2: https://ACCOUNT_ID.r2.cloudflarestorage.com");
	return -1;
}

static int s3_keys(struct bk_config *c)
{
	c->s3_access_key = bk_config_get("AWS_ACCESS_KEY_ID");
	c->s3_secret_key = bk_config_get("AWS_SECRET_ACCESS_KEY");
	bk_log_secret(c->s3_secret_key);
	/* that both are set is bk_s3_config_check()'s: bk-run's children run
	 * without the secret (child.c) */
	if (c->s3_access_key && (strlen(c->s3_access_key) > 128 ||
	    !s3_name_chars(c->s3_access_key, strlen(c->s3_access_key),
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")))
		return bk_err_set("AWS_ACCESS_KEY_ID: not an access key id (letters and digits)");
	/* the value is not shown: it is a secret */
	for (const char *p = c->s3_secret_key ? c->s3_secret_key : ""; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == ':')
			return bk_err_set("AWS_SECRET_ACCESS_KEY: contains a space, ':' or a "
					  "control character: not a secret access key");
	/* temporary credentials (STS): a header value, base64 and the like */
	c->s3_session_token = bk_config_get("AWS_SESSION_TOKEN");
	bk_log_secret(c->s3_session_token);
	if (c->s3_session_token && (!*c->s3_session_token ||
	    strlen(c->s3_session_token) > 8192 ||
	    !s3_name_chars(c->s3_session_token, strlen(c->s3_session_token),
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-.%")))
		return bk_err_set("AWS_SESSION_TOKEN: empty, longer than 8192 characters or not "
				  "a session token (base64)");
	return 0;
}

static int load_s3(struct bk_config *c)
{
	int addr = 0, dotted, path_style_def;

	free(s3_bucket);
	free(s3_prefix);
	free(s3_endpoint);
	s3_bucket = s3_prefix = s3_endpoint = NULL;
	c->s3_url = bk_config_get("BACKUP_S3_URL");
	c->s3_region = get_or("BACKUP_S3_REGION", "us-east-1");
	c->s3_ca_file = bk_config_get("BACKUP_S3_CA_FILE");
	bk_log_secret(bk_config_get("AWS_SECRET_ACCESS_KEY"));
	if (int_var("BACKUP_S3_RETENTION_DAYS", c->retention_days, 1, 36500,
		    &c->s3_retention_days) < 0 ||
	    int_var("BACKUP_S3_PART_SIZE_MB", 16, 5, 5120, &c->s3_part_size_mb) < 0)
		return -1;
	if (strlen(c->s3_region) > 32 ||
	    !s3_name_chars(c->s3_region, strlen(c->s3_region), "abcdefghijklmnopqrstuvwxyz0123456789-"))
		return bk_err_set("BACKUP_S3_REGION: '%s' is not a region name such as us-east-1 "
				  "(R2: auto)", c->s3_region);
	if (s3_endpoint_var(c, &addr) < 0)
		return -1;
	if (c->s3_ca_file && access(c->s3_ca_file, R_OK) < 0)
		return bk_err_errno("BACKUP_S3_CA_FILE: cannot read %s", c->s3_ca_file);
	if (c->s3_url && (s3_url_var(c) < 0 || s3_keys(c) < 0))
		return -1;
	/* BUCKET.HOST needs a host name; and over https a bucket with dots
	 * would not match the store's wildcard certificate (*.HOST) */
	dotted = c->s3_url && strchr(c->s3_bucket, '.') && !strncmp(c->s3_endpoint, "https:", 6);
	path_style_def = addr || dotted;
	if (bk_config_get("BACKUP_S3_PATH_STYLE")) {
		if (bool_var("BACKUP_S3_PATH_STYLE", &c->s3_path_style) < 0)
			return -1;
	} else {
		c->s3_path_style = path_style_def;
	}
	if (!c->s3_url || c->s3_path_style)
		return 0;
	if (addr)
		return bk_err_set("BACKUP_S3_PATH_STYLE: 0 needs a host name in BACKUP_S3_ENDPOINT "
				  "(the bucket goes in front of it), not %s", c->s3_endpoint);
	if (dotted) {
		bk_err_set("BACKUP_S3_PATH_STYLE: 0 with the bucket %s: a name with dots in "
			   "front of the host does not match the store's TLS certificate",
			   c->s3_bucket);
		bk_err_hint("set BACKUP_S3_PATH_STYLE=1 (or leave it unset), or use a bucket name "
			    "without dots");
		return -1;
	}
	return 0;
}

int bk_config_verify_key_file(const char *path)
{
	if (bk_minisign_pub_load(&verify_key, path) < 0) {
		bk_err_prefix("--verify-key");
		return -1;
	}
	free(verify_key_path);
	verify_key_path = bk_xstrdup(path);
	bk_config.verify_key = &verify_key;
	bk_config.verify_key_from = verify_key_path;
	return 0;
}

/*
 * The restore test: a server where a scratch database may be created, with
 * its own credentials (the backup's read-only role cannot create one). The
 * URL must parse; its password is a secret like DATABASE_URL's.
 */
static int load_restore_test(struct bk_config *c)
{
	PQconninfoOption *opts;
	char *why = NULL;

	if (bool_var("BACKUP_RESTORE_TEST", &c->restore_test) < 0 ||
	    int_var("BACKUP_RESTORE_TEST_EVERY_DAYS", 0, 0, 3650,
		    &c->restore_test_every_days) < 0)
		return -1;
	c->restore_test_url = bk_config_get("BACKUP_RESTORE_TEST_URL");
	if (!c->restore_test_url)
		return 0;
	if (!(opts = PQconninfoParse(c->restore_test_url, &why))) {
		PQfreemem(why);
		bk_err_set("BACKUP_RESTORE_TEST_URL: not a valid connection URI or string");
		bk_err_hint("postgresql://USER:PASSWORD@HOST:PORT/postgres (a role with CREATEDB)");
		return -1;
	}
	register_url_password(c->restore_test_url, opts);
	PQconninfoFree(opts);
	return 0;
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
	    load_mail(c) < 0 || load_crypt(c) < 0 || load_keys(c) < 0 ||
	    load_restore_test(c) < 0 || load_s3(c) < 0)
		return -1;
	bk_log_secret(c->pg_password);
	bk_log_secret(getenv("PGPASSWORD"));
	bk_log_secret(c->smtp_pass);
	bk_log_secret(c->link_secret);
	bk_log_secret(c->s3_secret_key);
	bk_log_secret(c->s3_session_token);
	return 0;
}
