/*
 * Configuration from the environment, an optional .env file (--env-file or
 * BACKUP_ENV_FILE) and NAME_FILE secrets. Names and defaults: shared/DESIGN.md.
 * bk_config_load() validates every value and names the variable that is wrong.
 */
#ifndef BK_CONFIG_H
#define BK_CONFIG_H

#include <stddef.h>

struct bk_age_recipient;
struct bk_minisign_sec;
struct bk_minisign_pub;

struct bk_config {
	/* database: NULL means "let libpq decide" (PG* variables, defaults) */
	const char *database_url;	/* as libpq takes it: Prisma's parameters dropped */
	const char *pg_host, *pg_db, *pg_user, *pg_password;
	int pg_port;			/* 0 = unset */
	const char *url_schema;		/* DATABASE_URL's schema= (Prisma), or NULL */
	const char *url_dropped;	/* "schema, connection_limit": dropped names, or NULL */

	/* backup */
	const char *dir, *tmpdir, *config_dir, *config_files, *scope_file;
	const char *schedule, *log_path;
	int strict, retention_days, keep_min, gzip_level;
	const char *window_timezone;	/* zone of timestamp-without-time-zone cutoffs */
	int drift_drop_percent;		/* a drop by more than this share is drift */
	int keep_daily, keep_weekly, keep_monthly;	/* GFS retention; 0: off */

	/* monitor */
	int max_age_hours, min_size_mb, max_size_mb, alert_repeat_hours;
	const char *ping_url;

	/* mail */
	const char *admin_emails, *smtp_host, *smtp_user, *smtp_pass, *smtp_from;
	const char *smtp_tls, *smtp_ca_file, *link_base, *link_secret, *outbox;
	int smtp_port, attach_max_mb, link_ttl_hours;

	/* encryption (age): recipients of what leaves the host; NULL/0 = none */
	const struct bk_age_recipient *age_recipients;
	size_t n_age_recipients;
	const char *age_recipients_var;	/* the variable they came from, for messages */
	const char *age_identity_file;	/* BACKUP_AGE_IDENTITY_FILE: a path, read by
					 * bk-verify and bk-unpack only */
	/* trust (minisign.h): parsed at load, so a bad key is exit 2 at start */
	const struct bk_minisign_sec *signing_key;	/* BACKUP_SIGNING_KEY, or NULL */
	const struct bk_minisign_pub *verify_key;	/* BACKUP_VERIFY_KEY, --verify-key */
	const char *verify_key_from;	/* "BACKUP_VERIFY_KEY" or the --verify-key file */

	/* restore test (restore_test.h) */
	int restore_test;		/* BACKUP_RESTORE_TEST */
	const char *restore_test_url;	/* NULL: the backed-up server's connection */
	int restore_test_every_days;	/* 0: every run */
	/* off-site copies (s3.h): s3_url NULL = not configured */
	const char *s3_url;		/* BACKUP_S3_URL as given: s3://bucket/prefix/ */
	const char *s3_bucket, *s3_prefix;	/* parsed from it; prefix "" or ending in '/' */
	const char *s3_endpoint;	/* scheme://host[:port], no trailing slash */
	const char *s3_region, *s3_access_key, *s3_secret_key, *s3_ca_file;
	const char *s3_session_token;	/* AWS_SESSION_TOKEN: temporary credentials, or NULL */
	int s3_path_style, s3_retention_days, s3_part_size_mb;
};

extern struct bk_config bk_config;

/*
 * Read env_file (may be NULL; then BACKUP_ENV_FILE if set) into the environment
 * (variables already in the environment win, as with docker compose), resolve
 * NAME_FILE secrets, then parse and validate everything into bk_config.
 * Returns 0, or -1 with a message naming the variable (or file and line).
 */
int bk_config_load(const char *env_file);

/*
 * Parse .env text: KEY=VALUE lines, optional "export ", '#' comments, single
 * quotes (literal), double quotes (\n \" \\ escapes). Calls set(key, value, ctx)
 * for each assignment. Returns 0, or -1 with "NAME:LINE: reason" in the slot.
 */
int bk_env_parse(const char *text, const char *name,
		 int (*set)(const char *key, const char *value, void *ctx), void *ctx);

/* --verify-key FILE: a minisign public key file that replaces BACKUP_VERIFY_KEY.
 * 0, or -1 with "--verify-key FILE: why" in the slot (a usage error). */
int bk_config_verify_key_file(const char *path);

/* Parse a decimal integer within [min, max] from the variable `name`'s value. */
int bk_parse_int(const char *name, const char *value, int min, int max, int *out);

/* Value of a variable after load (environment lookup), NULL when unset or empty. */
const char *bk_config_get(const char *name);

/* libpq's reason why (PQconninfoParse's message, may be NULL) for url, into
 * out, with the URL and its password left out: safe to show. */
void bk_config_url_reason(char *out, size_t size, const char *why, const char *url);

#endif
