/*
 * The nightly run (bk-run): lock, space check, export, pack, verify, mail,
 * status files, prune, cleanup; an alert and a `fail` history line for any
 * failed step. Steps are separate programs started by fork/exec.
 */
#ifndef BK_RUN_H
#define BK_RUN_H

struct bk_run_opts {
	int no_mail;		/* skip delivery and alerts */
	int dry_run;		/* check everything, change nothing */
};

/* Returns the exit code (0, 1, 2); on success *archive is the new archive's path
 * (caller frees). */
int bk_run(const struct bk_run_opts *opts, char **archive);

#endif
