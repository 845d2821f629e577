/* Configuration: .env parsing, NAME_FILE secrets, validation messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "log.h"
#include "pg.h"
#include "tap.h"

static char got[4096];

static int collect(const char *key, const char *value, void *ctx)
{
	(void)ctx;
	snprintf(got + strlen(got), sizeof(got) - strlen(got), "[%s=%s]", key, value);
	return 0;
}

static int parses_to(const char *text, const char *expect)
{
	got[0] = '\0';
	if (bk_env_parse(text, "t.env", collect, NULL) < 0) {
		printf("# error: %s\n", bk_err());
		return 0;
	}
	if (strcmp(got, expect))
		printf("# got %s\n", got);
	return !strcmp(got, expect);
}

static int fails_with(const char *text, const char *msg)
{
	got[0] = '\0';
	if (bk_env_parse(text, "t.env", collect, NULL) == 0)
		return 0;
	if (strcmp(bk_err(), msg))
		printf("# message: %s\n", bk_err());
	return !strcmp(bk_err(), msg);
}

static void env_syntax(void)
{
	ok(parses_to("A=1\nB = two words \n", "[A=1][B=two words]"), "plain values trimmed");
	ok(parses_to("# c\n\nexport C=3\n", "[C=3]"), "comments, blank lines, export");
	ok(parses_to("D='x # y \\n'\n", "[D=x # y \\n]"), "single quotes are literal");
	ok(parses_to("E=\"a\\nb\\\"c\"\n", "[E=a\nb\"c]"), "double quotes take escapes");
	ok(parses_to("F=v # note\nG=a#b\n", "[F=v][G=a#b]"), "inline comment needs a space");
	ok(parses_to("H=\r\nI=x\r\n", "[H=][I=x]"), "CRLF line ends");
	ok(parses_to("J=สวัสดี", "[J=สวัสดี]"), "UTF-8 value, no final newline");
	ok(fails_with("A=1\n=2\n", "t.env:2: expected NAME=VALUE"), "missing name");
	ok(fails_with("K=\"open\n", "t.env:1: missing closing \" quote"), "unclosed quote");
	ok(fails_with("L='a' b\n", "t.env:1: text after closing quote"), "junk after quote");
	ok(fails_with("1X=2\n", "t.env:1: expected NAME=VALUE"), "name starting with a digit");
}

static void clear_env(void)
{
	static const char *names[] = { "POSTGRES_PORT", "BACKUP_RETENTION_DAYS", "SMTP_TLS",
		"BACKUP_GZIP_LEVEL", "POSTGRES_PASSWORD", "POSTGRES_PASSWORD_FILE",
		"BACKUP_ENV_FILE", "BACKUP_STRICT", "BACKUP_KEEP_MIN", "DATABASE_URL",
		"POSTGRES_HOST", "POSTGRES_DB", "POSTGRES_USER", "BACKUP_WINDOW_TIMEZONE",
		"BACKUP_DRIFT_DROP_PERCENT", NULL };

	for (int i = 0; names[i]; i++)
		unsetenv(names[i]);
}

static int load_fails_with(const char *var, const char *val, const char *msg)
{
	int r;

	clear_env();
	setenv(var, val, 1);
	r = bk_config_load(NULL);
	unsetenv(var);
	if (r == 0)
		return 0;
	if (strcmp(bk_err(), msg))
		printf("# message: %s\n", bk_err());
	return !strcmp(bk_err(), msg);
}

static void validation(void)
{
	clear_env();
	ok(bk_config_load(NULL) == 0 && bk_config.retention_days == 30 &&
	   bk_config.keep_min == 3 && bk_config.gzip_level == 6 && bk_config.smtp_port == 587 &&
	   !strcmp(bk_config.dir, "/backups"), "defaults from DESIGN.md");
	ok(load_fails_with("POSTGRES_PORT", "abc", "POSTGRES_PORT: 'abc' is not a whole number"),
	   "non-numeric port named");
	ok(load_fails_with("BACKUP_RETENTION_DAYS", "-1",
			   "BACKUP_RETENTION_DAYS: -1 is out of range (1..36500)"),
	   "negative retention named");
	ok(load_fails_with("BACKUP_GZIP_LEVEL", "12", "BACKUP_GZIP_LEVEL: 12 is out of range (1..9)"),
	   "gzip level 12 named");
	ok(load_fails_with("SMTP_TLS", "ssl", "SMTP_TLS: 'ssl' is not one of starttls, tls, none"),
	   "unknown SMTP_TLS named");
	ok(load_fails_with("BACKUP_STRICT", "maybe", "BACKUP_STRICT: 'maybe' is not 0 or 1"),
	   "bad boolean named");
	ok(load_fails_with("POSTGRES_PASSWORD_FILE", "/nonexistent/pw",
			   "POSTGRES_PASSWORD_FILE: cannot read /nonexistent/pw: No such file or directory"),
	   "unreadable secret file named");
	clear_env();
	setenv("SMTP_TLS", "tls", 1);
	ok(bk_config_load(NULL) == 0 && bk_config.smtp_port == 465, "tls defaults to port 465");
}

static void new_variables(void)
{
	char tz[80];

	clear_env();
	ok(bk_config_load(NULL) == 0 && !strcmp(bk_config.window_timezone, "UTC") &&
	   bk_config.drift_drop_percent == 50, "window zone UTC and drift 50%% by default");
	clear_env();
	setenv("BACKUP_WINDOW_TIMEZONE", "America/Argentina/Buenos_Aires", 1);
	setenv("BACKUP_DRIFT_DROP_PERCENT", "100", 1);
	ok(bk_config_load(NULL) == 0 &&
	   !strcmp(bk_config.window_timezone, "America/Argentina/Buenos_Aires") &&
	   bk_config.drift_drop_percent == 100, "a zone name and 100%% are taken");
	setenv("BACKUP_WINDOW_TIMEZONE", "Etc/GMT+7", 1);
	ok(bk_config_load(NULL) == 0, "a zone with a sign is taken");
	ok(load_fails_with("BACKUP_WINDOW_TIMEZONE", "Asia/Bang kok",
			   "BACKUP_WINDOW_TIMEZONE: 'Asia/Bang kok' is not a time zone name"),
	   "a zone with a space is named");
	ok(load_fails_with("BACKUP_WINDOW_TIMEZONE", "UTC';DROP",
			   "BACKUP_WINDOW_TIMEZONE: 'UTC';DROP' is not a time zone name"),
	   "a zone with a quote is named");
	memset(tz, 'A', 65);
	tz[65] = '\0';
	ok(load_fails_with("BACKUP_WINDOW_TIMEZONE", tz,
			   "BACKUP_WINDOW_TIMEZONE: longer than 64 characters, not a time zone"),
	   "a 65-character zone is named");
	tz[64] = '\0';
	clear_env();
	setenv("BACKUP_WINDOW_TIMEZONE", tz, 1);
	ok(bk_config_load(NULL) == 0, "64 characters are taken");
	ok(load_fails_with("BACKUP_DRIFT_DROP_PERCENT", "0",
			   "BACKUP_DRIFT_DROP_PERCENT: 0 is out of range (1..100)"), "drift 0%% named");
	ok(load_fails_with("BACKUP_DRIFT_DROP_PERCENT", "101",
			   "BACKUP_DRIFT_DROP_PERCENT: 101 is out of range (1..100)"), "drift 101%% named");
	ok(load_fails_with("BACKUP_DRIFT_DROP_PERCENT", "50%",
			   "BACKUP_DRIFT_DROP_PERCENT: '50%' is not a whole number"), "drift 50%% named");
}

/* DATABASE_URL url loads and libpq gets want; dropped names and schema. */
static int url_loads(const char *url, const char *want, const char *dropped, const char *schema)
{
	clear_env();
	setenv("DATABASE_URL", url, 1);
	if (bk_config_load(NULL) < 0) {
		printf("# error: %s\n", bk_err());
		return 0;
	}
	printf("# got %s | %s | %s\n", bk_config.database_url,
	       bk_config.url_dropped ? bk_config.url_dropped : "(null)",
	       bk_pg_schema() ? bk_pg_schema() : "(null)");
	return !strcmp(bk_config.database_url, want) &&
	       (dropped ? bk_config.url_dropped && !strcmp(bk_config.url_dropped, dropped)
			: !bk_config.url_dropped) &&
	       (schema ? bk_pg_schema() && !strcmp(bk_pg_schema(), schema) : !bk_pg_schema());
}

static void prisma_urls(void)
{
	char line[256];

	ok(url_loads("postgresql://u:p@h:5432/db?schema=public&connection_limit=5&pool_timeout=10",
		     "postgresql://u:p@h:5432/db", "schema, connection_limit, pool_timeout", "public"),
	   "Prisma's parameters are left out, schema kept apart");
	ok(url_loads("postgres://u@h/db?connection_limit=5&connect_timeout=7&sslmode=disable&"
		     "pgbouncer=true&application_name=x",
		     "postgres://u@h/db?connect_timeout=7&sslmode=disable&application_name=x",
		     "connection_limit, pgbouncer", NULL),
	   "libpq's own parameters stay, in order");
	ok(url_loads("postgresql://h/db?schema=My%20App&socket_timeout=3",
		     "postgresql://h/db", "schema, socket_timeout", "My App"),
	   "the schema is percent-decoded");
	ok(url_loads("postgresql://h/db?sslmode=disable", "postgresql://h/db?sslmode=disable",
		     NULL, NULL), "a plain URL is unchanged");
	ok(url_loads("host=h dbname=db", "host=h dbname=db", NULL, NULL),
	   "a keyword=value string is unchanged");
	ok(load_fails_with("DATABASE_URL", "postgresql://u:pw-secret@h/db?schema=x&nosuch=1",
			   "DATABASE_URL: not a valid connection URI or string: unknown parameter "
			   "'nosuch' (neither libpq's nor Prisma's)"),
	   "a parameter nobody knows is named");
	ok(load_fails_with("DATABASE_URL", "postgresql://h/db?schema=a%0Ab",
			   "DATABASE_URL: schema: not a schema name (at most 63 bytes, no control "
			   "characters)"), "a schema with a newline is refused");
	ok(load_fails_with("DATABASE_URL", "postgresql://u:pw@[h/db",
			   "DATABASE_URL: not a valid connection URI or string: end of string "
			   "reached when looking for matching \"]\" in IPv6 host address in URI: "
			   "\"the URL\""),
	   "a malformed URL is refused with libpq's reason, without quoting it");
	ok(load_fails_with("DATABASE_URL", "postgresql://u:p%zz-secret@h/db",
			   "DATABASE_URL: not a valid connection URI or string: invalid "
			   "percent-encoded token: \"***\""),
	   "libpq's reason never shows the password");
	ok(load_fails_with("DATABASE_URL", "host=h password=ab cd",
			   "DATABASE_URL: not a valid connection URI or string: missing \"=\" "
			   "after \"...\" in connection info string"),
	   "nor a part of it in a keyword=value string");
	ok(url_loads("postgresql://u:p%40ss-word@h/db?schema=s", "postgresql://u:p%40ss-word@h/db",
		     "schema", "s"), "an encoded password");
	snprintf(line, sizeof(line), "x p@ss-word y p%%40ss-word z");
	bk_log_mask(line, sizeof(line));
	ok(!strcmp(line, "x *** y *** z"), "is masked decoded and as written");
}

static void source_note(void)
{
	const char *n = NULL;

	clear_env();
	setenv("DATABASE_URL", "postgresql://app@db1:5433/hub?schema=public", 1);
	setenv("POSTGRES_HOST", "db2", 1);
	setenv("POSTGRES_DB", "hub", 1);
	setenv("POSTGRES_PORT", "5433", 1);
	ok(bk_config_load(NULL) == 0 && (n = bk_pg_source_note()) &&
	   !strcmp(n, "DATABASE_URL is used, not POSTGRES_*, which name another target: "
		   "host db1 (POSTGRES_HOST db2)"), "a different host is said");
	setenv("POSTGRES_USER", "postgres", 1);
	setenv("POSTGRES_DB", "other", 1);
	ok(bk_config_load(NULL) == 0 && (n = bk_pg_source_note()) &&
	   !strcmp(n, "DATABASE_URL is used, not POSTGRES_*, which name another target: "
		   "host db1 (POSTGRES_HOST db2), database hub (POSTGRES_DB other), "
		   "user app (POSTGRES_USER postgres)"), "every difference is said");
	if (n)
		printf("# %s\n", n);
	setenv("POSTGRES_HOST", "db1", 1);
	setenv("POSTGRES_DB", "hub", 1);
	setenv("POSTGRES_USER", "app", 1);
	ok(bk_config_load(NULL) == 0 && !bk_pg_source_note(), "the same target: no note");
	unsetenv("DATABASE_URL");
	ok(bk_config_load(NULL) == 0 && !bk_pg_source_note(), "no DATABASE_URL: no note");
	clear_env();
}

static void secrets_and_env_file(void)
{
	char dir[] = "/tmp/bk-test-config.XXXXXX";
	char pw[256], envf[256], line[256];
	FILE *f;

	if (!mkdtemp(dir)) {
		ok(0, "temp dir");
		return;
	}
	snprintf(pw, sizeof(pw), "%s/pw", dir);
	snprintf(envf, sizeof(envf), "%s/e.env", dir);
	f = fopen(pw, "w");
	fputs("hunter2-secret\n", f);
	fclose(f);
	f = fopen(envf, "w");
	fprintf(f, "POSTGRES_PASSWORD_FILE=%s\nBACKUP_KEEP_MIN=5\nBACKUP_RETENTION_DAYS=7\n", pw);
	fclose(f);
	clear_env();
	setenv("BACKUP_RETENTION_DAYS", "9", 1);	/* the environment wins over the file */
	ok(bk_config_load(envf) == 0, "env file loads");
	ok(bk_config.pg_password && !strcmp(bk_config.pg_password, "hunter2-secret"),
	   "NAME_FILE supplies NAME without the newline");
	ok(bk_config.keep_min == 5 && bk_config.retention_days == 9,
	   "file values apply, the environment wins");
	snprintf(line, sizeof(line), "cannot connect: password hunter2-secret rejected");
	bk_log_mask(line, sizeof(line));
	ok(!strcmp(line, "cannot connect: password *** rejected"), "secrets are masked");
	unlink(pw);
	unlink(envf);
	rmdir(dir);
	clear_env();
	ok(bk_config_load("/nonexistent/x.env") < 0 &&
	   !strcmp(bk_err(), "env file: cannot read /nonexistent/x.env: No such file or directory"),
	   "missing env file named");
}

int main(void)
{
	env_syntax();
	validation();
	new_variables();
	prisma_urls();
	source_note();
	secrets_and_env_file();
	return done_testing();
}
