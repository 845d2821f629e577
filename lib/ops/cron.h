/*
 * Cron expressions (the five fields of crontab(5): minute hour day-of-month
 * month day-of-week) for BACKUP_SCHEDULE: parse, validate, next run time.
 * Times are local (TZ), as cron's are.
 */
#ifndef BK_CRON_H
#define BK_CRON_H

struct bk_cron {
	unsigned long long minute;	/* bit n set: minute n matches (0..59) */
	unsigned long hour;		/* 0..23 */
	unsigned long dom;		/* 1..31 */
	unsigned long month;		/* 1..12 */
	unsigned long dow;		/* 0..6, Sunday 0 (7 is read as 0) */
	int dom_star, dow_star;		/* field starts with '*' (see bk_cron_next) */
};

/*
 * Parse "M H DOM MON DOW": each field a comma list of *, N or N-M, the last
 * two optionally followed by /STEP; month and weekday also take English
 * three-letter names (jan, mon). -1 with the error slot set to a reason
 * naming the field ("hour: 24 is out of range (0-23)"), without the variable.
 */
int bk_cron_parse(struct bk_cron *c, const char *expr);

/*
 * The first minute strictly after `after` (unix seconds) that matches, in
 * local time. When both day fields are restricted, a day matches if either
 * does (crontab(5)). -1 when nothing matches within 28 years (e.g. 30 February).
 */
long long bk_cron_next(const struct bk_cron *c, long long after);

#endif
