/* Status files and the run history (see status.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fs.h"
#include "status.h"

/* One TSV field: never empty, no control characters, and no UTF-8 sequence
 * cut at its end (by this copy or an earlier one into a fixed buffer). */
static void one_line(char *dst, size_t size, const char *src)
{
	size_t n, k;

	snprintf(dst, size, "%s", src && *src ? src : "-");
	n = k = strlen(dst);
	while (k > 0 && n - k < 3 && ((unsigned char)dst[k - 1] & 0xC0) == 0x80)
		k--;
	/* k - 1 starts the last sequence: drop it unless it is whole */
	if (k > 0 && ((unsigned char)dst[k - 1] & 0xC0) == 0xC0) {
		unsigned char lead = (unsigned char)dst[k - 1];
		size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;

		if (n - (k - 1) < want)
			dst[k - 1] = '\0';
	}
	if (!*dst)
		snprintf(dst, size, "-");
	for (char *p = dst; *p; p++)
		if ((unsigned char)*p < 32 || *p == 127)
			*p = ' ';
}

int bk_history_append(const char *dir, const struct bk_history_entry *e)
{
	char file[256], reason[512], line[1024];
	char *path = bk_path_join(dir, BK_STATUS_HISTORY);
	int fd, n, ret = -1;

	one_line(file, sizeof(file), e->file);
	one_line(reason, sizeof(reason), e->reason);
	n = snprintf(line, sizeof(line), "%lld\t%s\t%llu\t%.1f\t%s\t%s\n", e->epoch,
		     e->ok ? "ok" : "fail", e->bytes, e->seconds, file, reason);
	fd = bk_open_private(path, O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (fd < 0)
		goto out;
	if (bk_write_all(fd, line, (size_t)n) < 0 || fsync(fd) < 0) {
		bk_err_errno("cannot write %s", path);
		close(fd);
		goto out;
	}
	close(fd);
	ret = 0;
out:
	free(path);
	return ret;
}

static int parse_history_line(char *line, struct bk_history_entry *e)
{
	char *f[6], *save = NULL;
	int i = 0;

	for (char *t = strtok_r(line, "\t", &save); t && i < 6; t = strtok_r(NULL, "\t", &save))
		f[i++] = t;
	if (i < 5)
		return -1;
	memset(e, 0, sizeof(*e));
	e->epoch = strtoll(f[0], NULL, 10);
	if (!strcmp(f[1], "ok"))
		e->ok = 1;
	else if (strcmp(f[1], "fail"))
		return -1;
	e->bytes = strtoull(f[2], NULL, 10);
	e->seconds = strtod(f[3], NULL);
	snprintf(e->file, sizeof(e->file), "%s", f[4]);
	snprintf(e->reason, sizeof(e->reason), "%s", i > 5 ? f[5] : "-");
	return e->epoch > 0 ? 0 : -1;
}

int bk_history_read(const char *dir, size_t want, struct bk_history_entry **out, size_t *n)
{
	return bk_history_summarize(dir, want, out, n, NULL);
}

int bk_history_summarize(const char *dir, size_t want, struct bk_history_entry **out,
			 size_t *n, struct bk_history_summary *sum)
{
	char *path = bk_path_join(dir, BK_STATUS_HISTORY);
	struct bk_history_entry *ring = calloc(want ? want : 1, sizeof(*ring));
	size_t total = 0;
	char line[2048];
	FILE *f = NULL;
	int fd;

	*out = NULL;
	*n = 0;
	if (sum)
		memset(sum, 0, sizeof(*sum));
	if (!ring)
		abort();
	fd = bk_open_private(path, O_RDONLY, 0);
	if (fd >= 0 && !(f = fdopen(fd, "r"))) {
		bk_err_errno("cannot read %s", path);
		close(fd);
	}
	if (!f) {
		int missing = fd < 0 && errno == ENOENT;

		free(path);
		if (!missing) {
			free(ring);
			return -1;
		}
		*out = ring;
		return 0;
	}
	while ((want || sum) && fgets(line, sizeof(line), f)) {
		struct bk_history_entry e;

		line[strcspn(line, "\n")] = '\0';
		if (parse_history_line(line, &e) < 0)
			continue;
		if (sum) {
			sum->runs++;
			sum->failed += !e.ok;
			if (e.ok) {
				sum->last_ok = e;
				sum->has_ok = 1;
			}
		}
		if (want)
			ring[total++ % want] = e;
	}
	fclose(f);
	free(path);
	*n = total < want ? total : want;
	/* rotate so the oldest kept entry comes first */
	if (total > want) {
		struct bk_history_entry *sorted = calloc(want, sizeof(*sorted));

		if (!sorted)
			abort();
		for (size_t i = 0; i < want; i++)
			sorted[i] = ring[(total + i) % want];
		free(ring);
		ring = sorted;
	}
	*out = ring;
	return 0;
}

int bk_status_record_success(const char *dir, long long epoch, unsigned long long bytes,
			     double seconds, const char *archive_path, const char *reason)
{
	struct bk_history_entry e = { .epoch = epoch, .ok = 1, .bytes = bytes, .seconds = seconds };
	const char *base = strrchr(archive_path, '/');
	char *p1 = bk_path_join(dir, BK_STATUS_SUCCESS);
	char *p2 = bk_path_join(dir, BK_STATUS_SIZE);
	char buf[64];
	int n, ret = -1;

	snprintf(e.file, sizeof(e.file), "%s", base ? base + 1 : archive_path);
	snprintf(e.reason, sizeof(e.reason), "%s", reason ? reason : "");
	n = snprintf(buf, sizeof(buf), "%llu\n", (bytes + (1ULL << 20) - 1) >> 20);
	if (bk_write_file_atomic(p2, buf, (size_t)n, 0600) < 0)
		goto out;
	n = snprintf(buf, sizeof(buf), "%lld\n", epoch);
	if (bk_write_file_atomic(p1, buf, (size_t)n, 0600) < 0)
		goto out;
	ret = bk_history_append(dir, &e);
out:
	free(p1);
	free(p2);
	return ret;
}

int bk_status_record_failure(const char *dir, long long epoch, double seconds,
			     const char *step, const char *cause)
{
	struct bk_history_entry e = { .epoch = epoch, .ok = 0, .seconds = seconds };

	snprintf(e.file, sizeof(e.file), "-");
	snprintf(e.reason, sizeof(e.reason), "%s: %s", step, cause);
	return bk_history_append(dir, &e);
}

int bk_status_record_offsite(const char *dir, long long epoch)
{
	char *path = bk_path_join(dir, BK_STATUS_OFFSITE), buf[32];
	int n = snprintf(buf, sizeof(buf), "%lld\n", epoch), ret;

	ret = bk_write_file_atomic(path, buf, (size_t)n, 0600);
	free(path);
	return ret;
}

static int read_number(const char *dir, const char *name, long long *out)
{
	char *path = bk_path_join(dir, name);
	char *text = NULL, *end;
	size_t len;
	int ret;

	if (bk_read_private(path, 64, &text, &len) < 0) {
		ret = errno == ENOENT ? 1 : -1;
		goto out;
	}
	errno = 0;
	*out = strtoll(text, &end, 10);
	while (*end == '\n' || *end == '\r' || *end == ' ')
		end++;
	ret = 0;
	if (end == text || *end || errno || *out < 0) {
		size_t shown = strcspn(text, "\r\n");	/* the message is one line */

		ret = bk_err_set("%s: not a number: '%.*s'", path, (int)(shown < 20 ? shown : 20),
				 text);
	}
out:
	free(text);
	free(path);
	return ret;
}

int bk_status_read(const char *dir, long long *last_success, long long *size_mb)
{
	int r = read_number(dir, BK_STATUS_SUCCESS, last_success);

	if (r != 0)
		return r;
	r = read_number(dir, BK_STATUS_SIZE, size_mb);
	return r == 1 ? (*size_mb = -1, 0) : r;
}

int bk_status_read_number(const char *dir, const char *name, long long *out)
{
	return read_number(dir, name, out);
}
