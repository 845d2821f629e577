/* Connecting to PostgreSQL with retries, and small query helpers (see pg.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "pg.h"

#define MAX_OPTS 16
#define ATTEMPTS 3

struct conn_params {
	const char *keys[MAX_OPTS + 1];
	const char *vals[MAX_OPTS + 1];
	int secret[MAX_OPTS + 1];	/* libpq shows it as '*': password, sslpassword */
	int n;
	PQconninfoOption *parsed;	/* owns the strings when from DATABASE_URL */
	char port[16];
};

static void add(struct conn_params *p, const char *k, const char *v)
{
	if (!v || !*v || p->n == MAX_OPTS)
		return;
	for (int i = 0; i < p->n; i++)
		if (!strcmp(p->keys[i], k)) {
			p->vals[i] = v;
			return;
		}
	p->keys[p->n] = k;
	p->vals[p->n] = v;
	p->secret[p->n] = !strcmp(k, "password");
	p->n++;
	p->keys[p->n] = p->vals[p->n] = NULL;
}

static const char *param(const struct conn_params *p, const char *k)
{
	for (int i = 0; i < p->n; i++)
		if (!strcmp(p->keys[i], k))
			return p->vals[i];
	return NULL;
}

/* The parameters of a connection URI or string (libpq's reason may quote it,
 * password and all: not shown). */
static int params_parse(struct conn_params *p, const char *var, const char *url)
{
	char *errmsg = NULL;

	memset(p, 0, sizeof(*p));
	p->parsed = PQconninfoParse(url, &errmsg);
	if (!p->parsed) {
		char reason[512];

		bk_config_url_reason(reason, sizeof(reason), errmsg, url);
		PQfreemem(errmsg);
		return bk_err_set("%s: not a valid connection string: %s", var, reason);
	}
	for (PQconninfoOption *o = p->parsed; o->keyword; o++) {
		add(p, o->keyword, o->val);
		if (p->n && p->keys[p->n - 1] == o->keyword && o->dispchar[0] == '*')
			p->secret[p->n - 1] = 1;
	}
	return 0;
}

static int params_load(struct conn_params *p)
{
	const struct bk_config *c = &bk_config;

	if (c->database_url)
		return params_parse(p, "DATABASE_URL", c->database_url);
	memset(p, 0, sizeof(*p));
	add(p, "host", c->pg_host);
	if (c->pg_port) {
		snprintf(p->port, sizeof(p->port), "%d", c->pg_port);
		add(p, "port", p->port);
	}
	add(p, "dbname", c->pg_db);
	add(p, "user", c->pg_user);
	add(p, "password", c->pg_password);
	return 0;
}

static void params_free(struct conn_params *p)
{
	if (p->parsed)
		PQconninfoFree(p->parsed);
	p->parsed = NULL;
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

const char *bk_pg_target(void)
{
	static char buf[512];
	struct conn_params p;

	if (params_load(&p) < 0)
		return "(invalid DATABASE_URL)";
	snprintf(buf, sizeof(buf), "%s:%s",
		 param(&p, "host") ? param(&p, "host") : env_or("PGHOST", "localhost"),
		 param(&p, "port") ? param(&p, "port") : env_or("PGPORT", "5432"));
	params_free(&p);
	return buf;
}

const char *bk_pg_dbname(void)
{
	static char buf[256];
	struct conn_params p;

	if (params_load(&p) < 0)
		return "?";
	snprintf(buf, sizeof(buf), "%s", param(&p, "dbname") ? param(&p, "dbname")
				: env_or("PGDATABASE", env_or("PGUSER", "postgres")));
	params_free(&p);
	return buf;
}

static const char *user_of(const struct conn_params *p)
{
	return param(p, "user") ? param(p, "user") : env_or("PGUSER", "postgres");
}

/* What libpq will use for key (its defaults as bk_pg_target() shows them). */
static const char *effective(const struct conn_params *p, const char *key)
{
	if (param(p, key))
		return param(p, key);
	if (!strcmp(key, "host"))
		return env_or("PGHOST", "localhost");
	if (!strcmp(key, "port"))
		return env_or("PGPORT", "5432");
	if (!strcmp(key, "dbname"))
		return env_or("PGDATABASE", user_of(p));
	return user_of(p);
}

const char *bk_pg_schema(void)
{
	return bk_config.database_url ? bk_config.url_schema : NULL;
}

const char *bk_pg_source_note(void)
{
	static const struct { const char *key, *var, *what; } f[] = {
		{ "host", "POSTGRES_HOST", "host" }, { "port", "POSTGRES_PORT", "port" },
		{ "dbname", "POSTGRES_DB", "database" }, { "user", "POSTGRES_USER", "user" },
	};
	static char buf[1024];
	struct conn_params p;
	size_t len;
	int differ = 0;

	if (!bk_config.database_url || params_load(&p) < 0)
		return NULL;
	len = (size_t)snprintf(buf, sizeof(buf), "DATABASE_URL is used, not POSTGRES_*, which "
			       "name another target:");
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]) && len < sizeof(buf); i++) {
		const char *url = effective(&p, f[i].key), *var = bk_config_get(f[i].var);

		if (!var || !strcmp(url, var))
			continue;
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s %s %s (%s %s)",
					differ++ ? "," : "", f[i].what, url, f[i].var, var);
	}
	params_free(&p);
	bk_log_mask(buf, sizeof(buf));
	return differ ? buf : NULL;
}

void bk_pg_log_notes(void)
{
	static int done;
	const char *note;

	if (done)
		return;
	done = 1;
	if (bk_config.database_url && bk_config.url_dropped)
		bk_info("DATABASE_URL: left out Prisma's parameters %s (not libpq's)%s%s",
			bk_config.url_dropped, bk_config.url_schema ? "; the application's schema is " : "",
			bk_config.url_schema ? bk_config.url_schema : "");
	if ((note = bk_pg_source_note()))
		bk_info("%s", note);
}

/* First line of libpq's message, masked. */
static void reason(PGconn *conn, char *buf, size_t size)
{
	const char *m = conn ? PQerrorMessage(conn) : "out of memory";
	const char *start = strstr(m, "FATAL:  ");
	size_t n;

	if (start)
		m = start + 8;
	else if (!strncmp(m, "connection to server at ", 24) && strstr(m, "failed: "))
		m = strstr(m, "failed: ") + 8;
	n = strcspn(m, "\n");
	snprintf(buf, size, "%.*s", (int)n, m);
	bk_log_mask(buf, size);
}

/* The setting an admin edits to change what: the URL's part or the variable. */
static const char *source_of(const char *what, const char *var)
{
	static char buf[64];

	if (!bk_config.database_url)
		return var;
	snprintf(buf, sizeof(buf), "the %s in DATABASE_URL", what);
	return buf;
}

/*
 * The hint for a refused connection, from the server's reason. A password
 * method answers "password authentication failed" for a role that does not
 * exist too (PostgreSQL does not tell a client which roles exist), so that
 * hint names the user as well; "role ... does not exist" is about the user only.
 */
static void connect_hint(const struct conn_params *p, const char *why)
{
	const char *user = user_of(p);
	char pw[64];

	if (strstr(why, "password authentication failed")) {
		snprintf(pw, sizeof(pw), "%s", source_of("password", "POSTGRES_PASSWORD"));
		bk_err_hint("check %s, and that role \"%s\" exists (%s): the server gives this "
			    "answer for both", pw, user, source_of("user", "POSTGRES_USER"));
	} else if (strstr(why, "no password supplied")) {
		bk_err_hint("set %s", source_of("password", "POSTGRES_PASSWORD"));
	} else if (strstr(why, "role \"") && strstr(why, "does not exist")) {
		bk_err_hint("the server has no role \"%s\": check %s", user,
			    source_of("user", "POSTGRES_USER"));
	} else if (strstr(why, "database \"") && strstr(why, "does not exist")) {
		bk_err_hint("check %s", source_of("database", "POSTGRES_DB"));
	} else if (strstr(why, "pg_hba.conf")) {
		bk_err_hint("the server's pg_hba.conf admits no connection from this host as "
			    "\"%s\": check %s, or ask the server's administrator", user,
			    source_of("user", "POSTGRES_USER"));
	} else {
		bk_err_hint("is the server running? check POSTGRES_HOST and POSTGRES_PORT");
	}
}

/* host:port of p as libpq resolves it (static buffer). */
static const char *target_of(const struct conn_params *p)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s:%s", effective(p, "host"), effective(p, "port"));
	return buf;
}

/* Connect with p, 3 attempts while the server does not answer; the error
 * names target and the user. */
static PGconn *connect_params(struct conn_params *p, const char *target,
			      const char *application_name, char *why, size_t size)
{
	PGconn *conn = NULL;

	add(p, "application_name", application_name);
	if (!param(p, "connect_timeout"))
		add(p, "connect_timeout", "10");
	for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
		PGPing ping;

		conn = PQconnectdbParams(p->keys, p->vals, 0);
		if (conn && PQstatus(conn) == CONNECTION_OK)
			return conn;
		reason(conn, why, size);
		PQfinish(conn);
		conn = NULL;
		/* The server answered and refused (password, database): retrying won't help. */
		ping = PQpingParams(p->keys, p->vals, 0);
		if (ping == PQPING_OK || ping == PQPING_NO_ATTEMPT || attempt == ATTEMPTS)
			break;
		bk_warn("cannot connect to %s (attempt %d of %d): %s; retrying in %d s",
			target, attempt, ATTEMPTS, why, attempt * 2);
		sleep((unsigned)attempt * 2);
	}
	bk_err_set("cannot connect to %s as %s: %s", target, user_of(p), why);
	return NULL;
}

PGconn *bk_pg_connect(const char *application_name)
{
	struct conn_params p;
	PGconn *conn;
	char why[512];

	bk_pg_log_notes();
	if (params_load(&p) < 0)
		return NULL;
	conn = connect_params(&p, bk_pg_target(), application_name, why, sizeof(why));
	if (!conn) {
		connect_hint(&p, why);
	}
	params_free(&p);
	return conn;
}

void bk_pg_version_text(int version, char *buf, size_t size)
{
	if (version >= 100000)
		snprintf(buf, size, "%d.%d", version / 10000, version % 10000);
	else if (version > 0)
		snprintf(buf, size, "%d.%d.%d", version / 10000, version / 100 % 100, version % 100);
	else
		snprintf(buf, size, "unknown");
}

PGconn *bk_pg_connect_other(const char *var, const char *url, const char *dbname,
			    const char *application_name)
{
	struct conn_params p;
	PGconn *conn;
	char why[512], target[512];

	bk_pg_log_notes();
	if ((url ? params_parse(&p, var, url) : params_load(&p)) < 0)
		return NULL;
	add(&p, "dbname", dbname);
	snprintf(target, sizeof(target), "%s", target_of(&p));
	conn = connect_params(&p, target, application_name, why, sizeof(why));
	if (!conn)
		bk_err_hint("check %s", url ? var : "POSTGRES_* (or DATABASE_URL)");
	params_free(&p);
	return conn;
}

const char *bk_pg_target_other(const char *url)
{
	struct conn_params p;
	const char *t;

	if (!url)
		return bk_pg_target();
	if (params_parse(&p, "URL", url) < 0)
		return "(invalid URL)";
	t = target_of(&p);
	params_free(&p);
	return t;
}

void bk_pg_close(PGconn *conn)
{
	if (conn)
		PQfinish(conn);
}

const char *bk_pg_password(void)
{
	static char buf[1024];
	struct conn_params p;
	const char *pw;

	if (params_load(&p) < 0)
		return NULL;
	pw = param(&p, "password");
	if (pw)
		snprintf(buf, sizeof(buf), "%s", pw);
	params_free(&p);
	return pw ? buf : NULL;
}

static void append_quoted(char **s, const char *k, const char *v)
{
	size_t len = strlen(*s), vl = strlen(v);
	char *out = bk_xmalloc(len + strlen(k) + 2 * vl + 8);
	char *o = out;

	memcpy(o, *s, len);
	o += len;
	o += sprintf(o, "%s%s='", len ? " " : "", k);
	for (const char *c = v; *c; c++) {
		if (*c == '\'' || *c == '\\')
			*o++ = '\\';
		*o++ = *c;
	}
	*o++ = '\'';
	*o = '\0';
	free(*s);
	*s = out;
}

char *bk_pg_conninfo_nopass(void)
{
	struct conn_params p;
	char *s;

	if (params_load(&p) < 0)
		return NULL;
	s = bk_xstrdup("");
	for (int i = 0; i < p.n; i++)
		if (!p.secret[i])
			append_quoted(&s, p.keys[i], p.vals[i]);
	params_free(&p);
	return s;
}

/* libpq's environment variable for keyword (PGPASSWORD for password), or NULL. */
static char *envvar_of(const char *keyword)
{
	PQconninfoOption *defaults = PQconndefaults();
	char *var = NULL;

	for (PQconninfoOption *o = defaults; o && o->keyword; o++)
		if (!strcmp(o->keyword, keyword) && o->envvar)
			var = bk_xstrdup(o->envvar);
	PQconninfoFree(defaults);
	return var;
}

/*
 * A secret libpq reads from no variable (sslpassword) goes in a service file:
 * one "key=value" line that libpq 15 reads into a 256-byte buffer, taken as
 * it is up to the line's end. The service is ours alone, so one the user
 * names (service=, PGSERVICE) cannot be kept.
 */
static int service_line(const struct conn_params *p, int i, char **text)
{
	const char *k = p->keys[i], *v = p->vals[i];
	char *more;

	if (strpbrk(v, "\r\n") || strlen(k) + strlen(v) > 240)
		return bk_err_set("DATABASE_URL: %s: a line break or over %zu bytes: pg_dump "
				  "cannot be given it off its command line", k, 240 - strlen(k));
	if (param(p, "service") || getenv("PGSERVICE")) {
		bk_err_set("DATABASE_URL: %s together with a service (service=, PGSERVICE) is not "
			   "supported: pg_dump would need it on its command line", k);
		bk_err_hint("put %s in the service's definition instead", k);
		return -1;
	}
	more = bk_asprintf("%s%s=%s\n", *text ? *text : "[bk]\n", k, v);
	if (*text) {
		explicit_bzero(*text, strlen(*text));
		free(*text);
	}
	*text = more;
	return 0;
}

/* The service file as an anonymous 0600 file that only its owner can open
 * (through /proc/self/fd/N): no name on disk, gone with the last process. */
static int service_file(struct bk_pg_child *c, const char *text, size_t *n_env)
{
	c->fd = memfd_create("bk-pg-service", MFD_CLOEXEC);
	if (c->fd < 0 || fchmod(c->fd, 0600) < 0)
		return bk_err_errno("cannot create pg_dump's service file");
	if (bk_write_all(c->fd, text, strlen(text)) < 0)
		return bk_err_errno("cannot write pg_dump's service file");
	c->env[(*n_env)++] = bk_asprintf("PGSERVICEFILE=/proc/self/fd/%d", c->fd);
	c->env[(*n_env)++] = bk_xstrdup("PGSERVICE=bk");
	return 0;
}

int bk_pg_child_prepare(struct bk_pg_child *c)
{
	struct conn_params p;
	char *service = NULL;
	size_t n_env = 0;
	int ret = -1;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (params_load(&p) < 0)
		return -1;
	c->conninfo = bk_xstrdup("");
	for (int i = 0; i < p.n; i++) {
		char *var;

		if (!p.secret[i]) {
			append_quoted(&c->conninfo, p.keys[i], p.vals[i]);
			continue;
		}
		var = envvar_of(p.keys[i]);
		if (var && n_env < BK_PG_CHILD_ENV - 3)
			c->env[n_env++] = bk_asprintf("%s=%s", var, p.vals[i]);
		else if (service_line(&p, i, &service) < 0) {
			free(var);
			goto out;
		}
		free(var);
	}
	if (service && service_file(c, service, &n_env) < 0)
		goto out;
	ret = 0;
out:
	if (service) {
		explicit_bzero(service, strlen(service));
		free(service);
	}
	params_free(&p);
	if (ret < 0)
		bk_pg_child_free(c);
	return ret;
}

void bk_pg_child_free(struct bk_pg_child *c)
{
	for (size_t i = 0; i < BK_PG_CHILD_ENV; i++)
		if (c->env[i]) {
			explicit_bzero(c->env[i], strlen(c->env[i]));
			free(c->env[i]);
			c->env[i] = NULL;
		}
	free(c->conninfo);
	c->conninfo = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int result_error(PGconn *conn, PGresult *res, const char *what)
{
	char msg[1024];

	snprintf(msg, sizeof(msg), "%s", res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
	msg[strcspn(msg, "\n")] = '\0';
	if (!strncmp(msg, "ERROR:  ", 8))
		memmove(msg, msg + 8, strlen(msg + 8) + 1);
	bk_log_mask(msg, sizeof(msg));
	PQclear(res);
	return bk_err_set("%s: %s", what, msg[0] ? msg : "server error");
}

int bk_pg_exec(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return result_error(conn, res, "query failed");
	PQclear(res);
	return 0;
}

PGresult *bk_pg_query_params(PGconn *conn, const char *sql, int n, const char *const *params)
{
	PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		result_error(conn, res, "query failed");
		return NULL;
	}
	return res;
}

PGresult *bk_pg_query(PGconn *conn, const char *sql)
{
	return bk_pg_query_params(conn, sql, 0, NULL);
}

char *bk_pg_ident(PGconn *conn, const char *name)
{
	char *q = PQescapeIdentifier(conn, name, strlen(name));
	char *copy;

	if (!q) {
		result_error(conn, NULL, "cannot quote identifier");
		return NULL;
	}
	copy = bk_xstrdup(q);
	PQfreemem(q);
	return copy;
}
