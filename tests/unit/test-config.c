/* Configuration: .env parsing, NAME_FILE secrets, validation messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "log.h"
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
		"BACKUP_ENV_FILE", "BACKUP_STRICT", "BACKUP_KEEP_MIN", NULL };

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
	secrets_and_env_file();
	return done_testing();
}
