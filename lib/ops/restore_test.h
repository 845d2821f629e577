/*
 * bk-run's step restore-test (BACKUP_RESTORE_TEST=1): the verified archive
 * is restored, with bk-unpack --restore's code, into a scratch database
 * bk_restore_test_<installation hash>_<epoch> on BACKUP_RESTORE_TEST_URL's
 * server, proved (rows, post-data constraints and indexes, sequences,
 * content) and dropped. The result goes to $BACKUP_DIR/.last_restore_test:
 * one TSV line "epoch result(ok|fail) seconds reason" (reason "-" when ok).
 */
#ifndef BK_RESTORE_TEST_H
#define BK_RESTORE_TEST_H

#define BK_STATUS_RESTORE_TEST ".last_restore_test"

struct bk_rtest {
	int ran;		/* 0: not due (BACKUP_RESTORE_TEST_EVERY_DAYS): see summary */
	int ok;
	double seconds;		/* from CREATE DATABASE to DROP DATABASE */
	char target[512];	/* HOST:PORT/DATABASE of the scratch database */
	char why[1024];		/* the failure, masked */
	char summary[1024];	/* for the mail: "OK in 4.1 s into T", or why it did not run */
};

/*
 * Run the restore test of archive (verified) for the installation whose
 * hash (8 hex digits of its BACKUP_DIR) is hash, at epoch, extracting into
 * tmpdir (private to the run). Scratch databases of this installation that
 * a dead run left are dropped first (those of a live run, which holds an
 * advisory lock on the name, are not; other installations' never). Fills
 * *res; its own state is written to .last_restore_test. Returns 0 when it
 * passed or was not due, -1 when it failed (res->why).
 */
int bk_restore_test(const char *archive, const char *tmpdir, const char *hash, long long epoch,
		    struct bk_rtest *res);

#endif
