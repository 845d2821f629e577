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
/* node_exporter textfile metrics. Caller frees. */
char *bk_monitor_prometheus(const struct bk_health *h);

/*
 * Raise an alert through `bk-mail --alert` when h is unhealthy, once per
 * incident: again only when the cause changes or BACKUP_ALERT_REPEAT_HOURS
 * have passed; one "recovered" message when health returns after an alert.
 * State in dir/.alert_state. Returns 0, or -1 when the mail could not be sent
 * or the state not written (the state is left so the next call retries).
 */
int bk_monitor_alert(const char *dir, const struct bk_health *h);

#endif
