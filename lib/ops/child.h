/*
 * Starting one of our tools (bk-export, bk-pack, bk-verify, bk-mail,
 * bk-prune) from another: bk_run_step with the environment cleared of every
 * secret the tool does not read, and of BACKUP_ENV_FILE.
 */
#ifndef BK_CHILD_H
#define BK_CHILD_H

#include <stddef.h>

/* As bk_run_step (spawn.h): argv[0] is the tool's path, its base name says
 * which secrets it keeps. */
int bk_run_tool(const char *const argv[], size_t max, char **out, char *cause,
		size_t cause_size);

#endif
