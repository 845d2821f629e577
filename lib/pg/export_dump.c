/* bk-export: schema.sql and schema-post.sql from pg_dump in the export's snapshot. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "export_int.h"
#include "fs.h"
#include "log.h"
#include "pg.h"
#include "spawn.h"

int ex_start_dump(struct export *x, struct dump *d, const char *section, const char *name)
{
	char *path = bk_path_join(x->dir, name);
	char *snap = bk_asprintf("--snapshot=%s", x->snapshot);
	char *sect = bk_asprintf("--section=%s", section);
	char *db = NULL;
	/* Its secrets by environment or service file, never in its argv (pg.h). */
	struct bk_pg_child pc;
	int have_pc = bk_pg_child_prepare(&pc) == 0;
	/* pg_dump needs none of our other secrets in its environment. */
	static const char *const unset[] = { "POSTGRES_PASSWORD", "DATABASE_URL", "SMTP_PASS",
		"BACKUP_LINK_SECRET", "BACKUP_SIGNING_KEY", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", NULL };
	const char *argv[] = { "pg_dump", snap, sect, "--no-owner", "--no-privileges",
			       "--lock-wait-timeout=" EX_LOCK_WAIT, NULL, NULL };
	struct bk_spawn_opts so = { -1, -1, have_pc ? (const char *const *)pc.env : NULL,
				    unset, -1, have_pc ? pc.fd : -1 };
	int fd = -1, ret = -1;

	d->section = section;
	d->name = name;
	if (!have_pc)
		goto out;
	argv[6] = db = bk_asprintf("--dbname=%s", pc.conninfo);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		bk_err_errno("cannot create %s", path);
		goto out;
	}
	ex_created(x, path);
	d->err = tmpfile();
	if (!d->err || fcntl(fileno(d->err), F_SETFD, FD_CLOEXEC) < 0) {
		bk_err_errno("cannot create a temporary file");
		goto out;
	}
	so.stdout_fd = fd;
	so.stderr_fd = fileno(d->err);
	d->start = bk_monotonic();
	d->pid = bk_spawn(argv, &so);
	if (d->pid > 0)
		ex_dump_pids[d - x->dump] = d->pid;
	if (d->pid < 0) {
		d->pid = 0;
		bk_err_hint("pg_dump (PostgreSQL client, same major version as the server or newer) "
			    "must be on PATH");
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (have_pc)
		bk_pg_child_free(&pc);
	free(path);
	free(snap);
	free(sect);
	free(db);
	return ret;
}

/* Wait for pg_dump; on success add its file to the members. */
int ex_finish_dump(struct export *x, struct dump *d)
{
	char line[2048], first[1024] = "";
	int status = 0, code, nlines = 0;
	char *path;
	char sha[BK_SHA256_HEX];
	unsigned long long bytes;

	if (!d->pid)
		return 0;
	/* Wait without reaping, so the signal handler never kills a reused pid. */
	for (;;) {
		siginfo_t info;

		if (ex_interrupted())
			kill(d->pid, SIGTERM);
		if (waitid(P_PID, (id_t)d->pid, &info, WEXITED | WNOWAIT) == 0)
			break;
		if (errno != EINTR)
			return bk_err_errno("cannot wait for pg_dump");
	}
	ex_dump_pids[d - x->dump] = 0;
	while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
		;
	d->pid = 0;
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	rewind(d->err);
	while (fgets(line, sizeof(line), d->err)) {
		line[strcspn(line, "\n")] = '\0';
		bk_log_mask(line, sizeof(line));
		if (!line[0])
			continue;
		if (code == 0)
			bk_warn("%s", line);
		else if (nlines++ == 0)
			snprintf(first, sizeof(first), "%.1000s", line);
		else
			bk_error("%s", line);
	}
	fclose(d->err);
	d->err = NULL;
	if (ex_interrupted())
		return ex_interrupted_error();
	if (code != 0) {
		bk_err_set("pg_dump --section=%s failed (exit %d)%s%s", d->section, code,
			   first[0] ? ": " : "", first);
		if (strstr(first, "version mismatch"))
			bk_err_hint("install pg_dump of the server's major version or newer");
		return -1;
	}
	path = bk_path_join(x->dir, d->name);
	if (bk_sha256_file(path, sha, &bytes) < 0) {
		free(path);
		return -1;
	}
	free(path);
	ex_add_member(x, d->name, -1, bytes, sha);
	bk_info("%s: pg_dump --section=%s, %llu bytes, %.2f s", d->name, d->section, bytes,
		bk_monotonic() - d->start);
	return 0;
}

void ex_stop_dumps(struct export *x)
{
	for (int i = 0; i < 2; i++) {
		struct dump *d = &x->dump[i];

		if (d->pid > 0) {
			kill(d->pid, SIGTERM);
			ex_dump_pids[i] = 0;	/* not reaped yet: the pid cannot be reused */
			while (waitpid(d->pid, NULL, 0) < 0 && errno == EINTR)
				;
			d->pid = 0;
		}
		if (d->err)
			fclose(d->err);
		d->err = NULL;
	}
}

