/*
 * Backup health from the status files in $BACKUP_DIR, for bk-monitor: the
 * checks, the status line, JSON, Prometheus text, and the once-per-incident
 * alert state. No network and no database: this is the container healthcheck.
 */
#ifndef BK_MONITOR_H
#define BK_MONITOR_H

#define BK_MONITOR_WINDOW 30	/* runs the success rate is taken over */
#define BK_MONITOR_MAX_REASONS 8
#define BK_ALERT_STATE ".alert_state"
/* Written by bk-run's upload step: unix seconds of the newest confirmed upload. */
#define BK_OFFSITE_SUCCESS ".last_offsite_success"
/* Written by bk-run's restore-test step: "epoch ok|fail seconds reason", TSV. */
#define BK_RESTORE_TEST ".last_restore_test"

struct bk_health {
	int healthy;
	long long now;
	long long last_success;		/* unix seconds, 0 when there is none */
	int size_known;
	unsigned long long size_bytes;	/* of the last successful backup */
	double duration;		/* seconds the newest ok run took, -1 unknown */
	unsigned window_runs, window_failed;	/* over the last BK_MONITOR_WINDOW */
	unsigned long long runs_total, failed_total;	/* the whole history */
	char newest[256];		/* base name of the newest archive, "" unknown */
	int free_known;
	unsigned long long free_bytes;	/* in the backup directory */
	long long offsite_last;		/* .last_offsite_success, 0 unknown */
	/* .last_restore_test: when, ok (1/0), seconds; known 0 = no test yet */
	int restore_known, restore_ok;
	long long restore_when;
	double restore_seconds;
	char restore_reason[256];	/* "-" when ok */

	size_t n_reasons;		/* why unhealthy, one line each */
	char reasons[BK_MONITOR_MAX_REASONS][600];
	char cause[256];		/* the kinds of reasons, e.g. "age,failed:mail" */
};

/*
 * Look at dir at time now against the limits in bk_config. Never fails: an
 * unreadable or malformed status file is itself a reason to be unhealthy.
 */
void bk_monitor_check(const char *dir, long long now, struct bk_health *h);

/* "healthy: last backup 3h ago, 12 MB, 29/30 ok, newest NAME" or
 * "unhealthy: reason; reason". Caller frees. */
char *bk_monitor_line(const struct bk_health *h);
/* One JSON object (no trailing newline). Caller frees. */
char *bk_monitor_json(const struct bk_health *h);
/* node_exporter textfile metrics; unknown values are left out. Caller frees. */
char *bk_monitor_prometheus(const struct bk_health *h);
/* The /health document of bk-monitor --serve: status, last_backup (ISO 8601),
 * last_backup_size_mb, last_backup_age_hours (null when unknown), reasons. */
char *bk_monitor_health_json(const struct bk_health *h);

/*
 * Raise an alert through `bk-mail --alert` when h is unhealthy, once per
 * incident: again only when the cause changes or BACKUP_ALERT_REPEAT_HOURS
 * have passed; one "recovered" message when health returns after an alert.
 * State in dir/.alert_state. Returns 0, or -1 when the mail could not be sent
 * or the state not written (the state is left so the next call retries).
 */
int bk_monitor_alert(const char *dir, const struct bk_health *h);

#endif
