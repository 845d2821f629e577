/* Our tools run as children of bk-run and bk-monitor with only the secrets
 * they read (see child.h). */
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "fs.h"
#include "spawn.h"

/*
 * The configuration's secrets and the tools that read them: each child of
 * bk-run (and bk-monitor's bk-mail) starts without the others' (nor their NAME_FILE), so a tool that is
 * tricked or crashes cannot give away what it never had. bk-verify reads no
 * secret; bk-prune and bk-mail read the S3 key only, for the bucket's
 * retention and the presigned links of large backups. BACKUP_ENV_FILE
 * goes for every child: bk-run has loaded it, and a child reading it again
 * would get every secret back. A new secret comes here with its readers.
 */
static const struct {
	const char *name, *readers;
} child_secrets[] = {
	{ "DATABASE_URL", "bk-export" }, { "POSTGRES_PASSWORD", "bk-export" },
	{ "PGPASSWORD", "bk-export" }, { "PGPASSFILE", "bk-export" },
	{ "SMTP_PASS", "bk-mail" }, { "BACKUP_LINK_SECRET", "bk-mail" },
	{ "AWS_SECRET_ACCESS_KEY", "bk-mail bk-prune" }, { "AWS_SESSION_TOKEN", "bk-mail bk-prune" },
	{ "BACKUP_SIGNING_KEY", "bk-pack" },
	/* the restore test runs in bk-run itself */
	{ "BACKUP_RESTORE_TEST_URL", "" },
	/* only BACKUP_AGE_IDENTITY_FILE exists: bk-verify and bk-unpack read it
	 * when run by hand; nothing bk-run starts decrypts anything */
	{ "BACKUP_AGE_IDENTITY", "" },
};
#define N_CHILD_SECRETS (sizeof(child_secrets) / sizeof(child_secrets[0]))

static int reads_secret(const char *readers, const char *tool)
{
	size_t n = strlen(tool);

	for (const char *p = readers; (p = strstr(p, tool)) != NULL; p += n)
		if ((p == readers || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return 1;
	return 0;
}

/* bk_run_step for one of our tools, with only the secrets it reads. */
int bk_run_tool(const char *const argv[], size_t max, char **out, char *cause,
		    size_t cause_size)
{
	const char *tool = strrchr(argv[0], '/'), *unset[2 * N_CHILD_SECRETS + 2];
	char *file_vars[N_CHILD_SECRETS];
	size_t n = 0, nf = 0;
	int code;

	tool = tool ? tool + 1 : argv[0];
	for (size_t i = 0; i < N_CHILD_SECRETS; i++) {
		if (reads_secret(child_secrets[i].readers, tool))
			continue;
		unset[n++] = child_secrets[i].name;
		unset[n++] = file_vars[nf++] = bk_asprintf("%s_FILE", child_secrets[i].name);
	}
	unset[n++] = "BACKUP_ENV_FILE";
	unset[n] = NULL;
	code = bk_run_step_env(argv, unset, max, out, cause, cause_size);
	while (nf > 0)
		free(file_vars[--nf]);
	return code;
}

