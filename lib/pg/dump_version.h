/*
 * pg_dump's version against the server's: pg_dump dumps its own major and
 * older servers only.
 */
#ifndef BK_DUMP_VERSION_H
#define BK_DUMP_VERSION_H

#include <stddef.h>

#include <libpq-fe.h>

/* The major version of the pg_dump on PATH (text: "17.12"), or -1 with the
 * error slot set. */
int bk_pg_dump_version(char *text, size_t size);

/* 0 when pg_dump can dump conn's server, else -1 with "the server is
 * PostgreSQL 18.1 (major 18) but pg_dump is 17.12 (major 17): ..." set. */
int bk_pg_dump_fits(PGconn *conn);

#endif
