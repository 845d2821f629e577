/*
 * Child processes by fork/exec, never through a shell. Secrets go to children
 * through their environment (env_set), never through argv.
 */
#ifndef BK_SPAWN_H
#define BK_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

struct bk_spawn_opts {
	int stdin_fd;		/* -1: /dev/null */
	int stdout_fd;		/* -1: inherit */
	const char *const *env_set;	/* "NAME=VALUE" entries set in the child, or NULL */
	const char *const *env_unset;	/* names removed in the child, or NULL */
	int stderr_fd;		/* 0 or -1: inherit */
	int keep_fd;		/* above 2: a close-on-exec descriptor the child inherits */
};

/* Start argv[0] (PATH search). Returns pid, or -1 with the error slot set.
 * The child gets SIGTERM when the calling thread dies (PR_SET_PDEATHSIG), so
 * call it from a thread that lives as long as the child should. */
pid_t bk_spawn(const char *const argv[], const struct bk_spawn_opts *opts);
/* Wait for pid. Returns its exit code, 128+signal if killed, -1 on error. */
int bk_wait(pid_t pid);
/* Run argv, collect at most max bytes of stdout into *out (NUL-terminated, caller
 * frees). Returns the exit code as bk_wait does. */
int bk_run_capture(const char *const argv[], const struct bk_spawn_opts *opts,
		   size_t max, char **out);

/*
 * Run one step of a pipeline: argv's stdout is collected (at most max bytes) into
 * *out; its stderr is passed through to ours line by line, and the first ERROR
 * log line's message (text after "]: ", not a "hint:") is kept in cause.
 * Returns the exit code as bk_wait does.
 */
int bk_run_step(const char *const argv[], size_t max, char **out, char *cause, size_t cause_size);
/* The same with the variables env_unset names (NULL-terminated) removed from
 * the child's environment. */
int bk_run_step_env(const char *const argv[], const char *const *env_unset, size_t max,
		    char **out, char *cause, size_t cause_size);

/* A new environment ("NAME=VALUE", NULL-terminated, for execve) holding only
 * the variables of keep (NULL-terminated) that are set here. Free with
 * bk_env_free(). */
char **bk_env_keep(const char *const keep[]);
void bk_env_free(char **env);

/* Path of the program `name` next to the running executable if it exists there,
 * else `name` itself for a PATH search. Caller frees. */
char *bk_sibling_program(const char *name);

#endif
