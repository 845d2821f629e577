/*
 * Archive verification (see verify.h): one pass over the stream, every byte
 * of every member through sha256 and, for data files, the COPY or CSV
 * checker. The first failure stops the pass: a hostile archive gets no
 * further than its first lie.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive_read.h"
#include "cli.h"
#include "config.h"
#include "dataparse.h"
#include "err.h"
#include "fs.h"
#include "manifest.h"
#include "sha256.h"
#include "size.h"
#include "verify.h"

#define BUF_SIZE (256 * 1024)
#define MEMBER_OVERHEAD 4096	/* tar header, pax header and data, padding */
#define TAR_TAIL (2 * 10240)	/* end marker and record padding */
#define SHOWN_DIGITS 12
/* The stream up to the end of MANIFEST, tar headers and read-ahead included. */
#define HEAD_LIMIT (2 * BK_MANIFEST_MAX + 2 * BK_AR_READAHEAD)

void bk_verify_report_init(struct bk_verify_report *rep)
{
	memset(rep, 0, sizeof(*rep));
}

void bk_verify_report_free(struct bk_verify_report *rep)
{
	for (size_t i = 0; i < rep->n_members; i++)
		free(rep->members[i].path);
	for (size_t i = 0; i < rep->n_warnings; i++)
		free(rep->warnings[i]);
	free(rep->members);
	free(rep->warnings);
	free(rep->trusted_comment);
	bk_verify_report_init(rep);
}

/* Length of the valid UTF-8 sequence at s (1..4), 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * Text from the archive made safe to print, log and put in JSON: control
 * bytes and invalid UTF-8 become \xNN; at most max bytes of input are shown.
 */
static void printable(char *out, size_t size, const char *in, size_t max)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0, i = 0;

	while (s[i] && o + 8 < size) {
		size_t n = utf8_len(s + i);

		if (i >= max) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (n == 0 || s[i] < 0x20 || s[i] == 0x7f) {
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", s[i]);
			i++;
			continue;
		}
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
}

static char *show_path(const char *path)
{
	char buf[1024];

	printable(buf, sizeof(buf), path, 200);
	return bk_xstrdup(buf);
}

static int fail(struct bk_verify_report *rep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct bk_verify_report *rep, const char *fmt, ...)
{
	char raw[sizeof(rep->reason)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	printable(rep->reason, sizeof(rep->reason), raw, sizeof(raw));
	rep->ok = 0;
	return bk_err_set("%s", rep->reason);
}

static void warn(struct bk_verify_report *rep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(struct bk_verify_report *rep, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rep->warnings = realloc(rep->warnings, (rep->n_warnings + 1) * sizeof(*rep->warnings));
	if (!rep->warnings)
		abort();
	rep->warnings[rep->n_warnings++] = bk_xstrdup(buf);
}

static struct bk_verify_member *add_member(struct bk_verify_report *rep, const char *path,
					   int is_dir, long long rows)
{
	struct bk_verify_member *vm;

	if (rep->n_members == rep->cap_members) {
		rep->cap_members = rep->cap_members ? 2 * rep->cap_members : 32;
		rep->members = realloc(rep->members, rep->cap_members * sizeof(*rep->members));
		if (!rep->members)
			abort();
	}
	vm = &rep->members[rep->n_members++];
	memset(vm, 0, sizeof(*vm));
	vm->path = show_path(path);
	vm->is_dir = is_dir;
	vm->rows = rows;
	return vm;
}

/* Which checker reads this member: data files sit at the top level, are not
 * config files, and are .sql (but not the schema*.sql DDL) or .csv. */
static int data_kind(const char *path, int is_config, enum bk_dp_kind *kind)
{
	size_t n = strlen(path);

	if (strchr(path, '/') || is_config)
		return 0;
	if (n > 4 && !strcmp(path + n - 4, ".csv")) {
		*kind = BK_DP_CSV;
		return 1;
	}
	if (n > 4 && !strcmp(path + n - 4, ".sql") && strncmp(path, "schema", 6) != 0) {
		*kind = BK_DP_COPY;
		return 1;
	}
	return 0;
}

/*
 * What verification looks up per member and per COPY block, indexed once:
 * which members are config files, and the "# table: FILE ROWS QNAME" lines
 * sorted by (member, qname). A MANIFEST of tens of thousands of tables is
 * then checked in n log n, not n squared.
 */
struct table_line {
	size_t entry;		/* index of FILE in the member lines */
	const char *qname;	/* into the MANIFEST's value */
	unsigned long long rows;
};

struct man_index {
	char *is_config;	/* per member line */
	struct table_line *tables;
	size_t n_tables;
};

static int by_entry_qname(const void *a, const void *b)
{
	const struct table_line *x = a, *y = b;

	if (x->entry != y->entry)
		return x->entry < y->entry ? -1 : 1;
	return strcmp(x->qname, y->qname);
}

/* "FILE ROWS QNAME" where FILE may hold spaces: every split whose FILE is a
 * member and ROWS is digits counts (as a prefix match of the path did). */
static void index_table_line(struct man_index *ix, size_t *cap, const struct bk_manifest *m,
			     const char *v)
{
	for (const char *sp = strchr(v, ' '); sp; sp = strchr(sp + 1, ' ')) {
		char *file = bk_xmalloc((size_t)(sp - v) + 1);
		const struct bk_manifest_entry *e;
		const char *digits = sp + 1;
		size_t nd = strspn(digits, "0123456789");
		unsigned long long rows = 0;

		memcpy(file, v, (size_t)(sp - v));
		file[sp - v] = '\0';
		e = bk_manifest_find(m, file);
		free(file);
		if (!e || nd == 0 || nd > 19 || digits[nd] != ' ')
			continue;
		for (size_t i = 0; i < nd; i++)
			rows = rows * 10 + (unsigned long long)(digits[i] - '0');
		if (ix->n_tables == *cap) {
			*cap = *cap ? 2 * *cap : 64;
			ix->tables = realloc(ix->tables, *cap * sizeof(*ix->tables));
			if (!ix->tables)
				abort();
		}
		ix->tables[ix->n_tables++] = (struct table_line){
			(size_t)(e - m->entries), digits + nd + 1, rows
		};
	}
}

static void index_build(struct man_index *ix, const struct bk_manifest *m)
{
	const struct bk_manifest_entry *e;
	const char *v;
	size_t i = 0, cap = 0;

	memset(ix, 0, sizeof(*ix));
	ix->is_config = calloc(m->n_entries + 1, 1);
	if (!ix->is_config)
		abort();
	while ((v = bk_manifest_meta_next(m, "config", &i)))
		if ((e = bk_manifest_find(m, v)))
			ix->is_config[e - m->entries] = 1;
	i = 0;
	while ((v = bk_manifest_meta_next(m, "table", &i)))
		index_table_line(ix, &cap, m, v);
	if (ix->n_tables)
		qsort(ix->tables, ix->n_tables, sizeof(*ix->tables), by_entry_qname);
}

static void index_free(struct man_index *ix)
{
	free(ix->is_config);
	free(ix->tables);
	memset(ix, 0, sizeof(*ix));
}

/* The most the tar stream may decompress to: members, their directories, overhead. */
static unsigned long long stream_limit(const struct bk_manifest *m, size_t manifest_len)
{
	unsigned long long sum = manifest_len + TAR_TAIL + 2 * MEMBER_OVERHEAD +
				 BK_MANIFEST_SIG_MAX;

	for (size_t i = 0; i < m->n_entries; i++) {
		sum += m->entries[i].bytes + MEMBER_OVERHEAD;
		for (const char *p = m->entries[i].path; (p = strchr(p, '/')); p++)
			sum += MEMBER_OVERHEAD;	/* at most one directory entry per level */
	}
	return sum;
}

static void short_digest(char out[SHOWN_DIGITS + 4], const char *hex)
{
	snprintf(out, SHOWN_DIGITS + 4, "%.*s...", SHOWN_DIGITS, hex);
}

/* Per-table row counts: each COPY block against its "# table: FILE ROWS QNAME" line. */
struct table_check {
	const struct man_index *ix;
	size_t entry;
	char err[512];
};

static void check_table(const char *table, unsigned long long rows, void *ctx)
{
	struct table_check *tc = ctx;
	struct table_line key = { tc->entry, table, 0 };
	const struct table_line *t, *end = tc->ix->tables + tc->ix->n_tables;
	size_t lo = 0, hi = tc->ix->n_tables;

	/* the first line not before key; every equal one must agree */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (by_entry_qname(&tc->ix->tables[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (t = tc->ix->tables + lo; !tc->err[0] && t < end && !by_entry_qname(t, &key); t++)
		if (t->rows != rows)
			snprintf(tc->err, sizeof(tc->err), "COPY %s has %llu rows, MANIFEST lists %llu",
				 table, rows, t->rows);
}

/* Stream one regular member listed as e through sha256 and its checker. */
static int check_member(struct bk_verify_report *rep, struct bk_ar_reader *r,
			const struct bk_manifest *man, const struct man_index *ix,
			const struct bk_manifest_entry *e,
			struct bk_verify_member *vm, struct bk_sha256 *h, unsigned char *buf)
{
	const char *shown = vm->path;
	struct bk_dp *dp = NULL;
	enum bk_dp_kind kind;
	unsigned long long got = 0;
	char hex[BK_SHA256_HEX], want_s[SHOWN_DIGITS + 4], got_s[SHOWN_DIGITS + 4];
	char dp_err[512] = "";
	size_t entry = (size_t)(e - man->entries);
	struct table_check tc = { ix, entry, "" };
	int ret = -1;

	if (data_kind(e->path, ix->is_config[entry], &kind)) {
		dp = bk_dp_new(kind);
		bk_dp_on_block(dp, check_table, &tc);
	}
	for (;;) {
		/* Never ask for more than one byte past the listed size. */
		size_t want = e->bytes - got + 1 < BUF_SIZE ? (size_t)(e->bytes - got + 1) : BUF_SIZE;
		ssize_t n = bk_ar_read(r, buf, want);

		if (n < 0) {
			fail(rep, "%s (in member %s)", bk_err(), shown);
			goto out;
		}
		if (n == 0)
			break;
		got += (unsigned long long)n;
		if (got > e->bytes) {
			fail(rep, "member %s: more than the %llu bytes MANIFEST lists", shown, e->bytes);
			goto out;
		}
		bk_sha256_update(h, buf, (size_t)n);
		if (dp && !dp_err[0] && bk_dp_feed(dp, buf, (size_t)n) < 0)
			snprintf(dp_err, sizeof(dp_err), "%s", bk_dp_error(dp));
	}
	vm->bytes = got;
	rep->unpacked_bytes += got;
	if (got != e->bytes) {
		fail(rep, "member %s: %llu bytes, MANIFEST lists %llu", shown, got, e->bytes);
		goto out;
	}
	bk_sha256_final(h, hex);
	if (strcmp(hex, e->sha256) != 0) {
		short_digest(want_s, e->sha256);
		short_digest(got_s, hex);
		fail(rep, "member %s: sha256 mismatch (expected %s, got %s)", shown, want_s, got_s);
		goto out;
	}
	if (dp && !dp_err[0] && bk_dp_finish(dp) < 0)
		snprintf(dp_err, sizeof(dp_err), "%s", bk_dp_error(dp));
	if (dp_err[0]) {
		fail(rep, "member %s: %s", shown, dp_err);
		goto out;
	}
	if (dp) {
		vm->rows = (long long)bk_dp_rows(dp);
		rep->rows += bk_dp_rows(dp);
		if (e->rows >= 0 && (unsigned long long)e->rows != bk_dp_rows(dp)) {
			fail(rep, "member %s: %llu rows, MANIFEST lists %lld", shown, bk_dp_rows(dp),
			     e->rows);
			goto out;
		}
		if (tc.err[0]) {
			fail(rep, "member %s: %s", shown, tc.err);
			goto out;
		}
	}
	vm->ok = 1;
	ret = 0;
out:
	bk_dp_free(dp);
	return ret;
}

/* The first member: MANIFEST, parsed into man. */
static int read_manifest(struct bk_verify_report *rep, struct bk_ar_reader *r,
			 struct bk_manifest *man, char **text, size_t *len)
{
	struct bk_ar_member m;
	struct bk_verify_member *vm;
	int got = bk_ar_next(r, &m);

	if (got < 0)
		return fail(rep, "%s", bk_err());
	if (got == 0)
		return fail(rep, "archive has no members");
	if (strcmp(m.path, BK_MANIFEST_NAME) != 0 || m.type != BK_AR_REG) {
		char *shown = show_path(m.path);

		fail(rep, "MANIFEST is not the first member (found %s)", shown);
		free(shown);
		return -1;
	}
	if (bk_ar_read_all(r, &m, BK_MANIFEST_MAX, text, len) < 0)
		return fail(rep, "%s", bk_err());
	if (bk_manifest_parse(man, *text, *len) < 0)
		return fail(rep, "%s", bk_err());
	if (bk_manifest_find(man, BK_MANIFEST_SIG_NAME))
		return fail(rep, "MANIFEST lists %s, the name of its own signature",
			    BK_MANIFEST_SIG_NAME);
	vm = add_member(rep, m.path, 0, -1);
	vm->bytes = *len;
	vm->ok = 1;
	rep->n_files++;
	rep->unpacked_bytes += *len;
	return 0;
}

static const char *type_name(enum bk_ar_type t)
{
	switch (t) {
	case BK_AR_SYMLINK:
		return "a symbolic link";
	case BK_AR_HARDLINK:
		return "a hard link";
	default:
		return "not a regular file or directory (device, fifo or sparse file)";
	}
}

static void check_size_bounds(struct bk_verify_report *rep)
{
	char size[BK_SIZE_BUF];

	bk_format_size(rep->archive_bytes, size, sizeof(size));
	if (bk_config.min_size_mb > 0 &&
	    rep->archive_bytes < (unsigned long long)bk_config.min_size_mb << 20)
		warn(rep, "archive is %s, smaller than BACKUP_MIN_SIZE_MB (%d MB)", size,
		     bk_config.min_size_mb);
	if (bk_config.max_size_mb > 0 &&
	    rep->archive_bytes > (unsigned long long)bk_config.max_size_mb << 20)
		warn(rep, "archive is %s, larger than BACKUP_MAX_SIZE_MB (%d MB)", size,
		     bk_config.max_size_mb);
}

/* The verify key's name in messages: the variable or the file it came from. */
static const char *key_source(void)
{
	return bk_config.verify_key_from ? bk_config.verify_key_from : "the verify key";
}

/* minisign.h's "signature: why" as "bad signature: why". */
static int bad_signature(struct bk_verify_report *rep)
{
	const char *why = bk_err();

	rep->sig = BK_SIG_BAD;
	if (!strncmp(why, "signature: ", 11))
		why += 11;
	if (!strncmp(why, "bad signature", 13))
		return fail(rep, "%s (verify key from %s)", why, key_source());
	if (!strncmp(why, "made by key", 11))
		return fail(rep, "bad signature: %s (from %s)", why, key_source());
	return fail(rep, "bad signature: %s: %s", BK_MANIFEST_SIG_NAME, why);
}

/*
 * MANIFEST against its signature, which the reader set aside as the second
 * member: checked before any other member is read, so that a forged archive
 * gets no further. Every member is then checked against the signed MANIFEST.
 */
static int check_signature(struct bk_verify_report *rep, struct bk_ar_reader *r,
			   const char *mtext, size_t mlen)
{
	const struct bk_minisign_pub *key = bk_config.verify_key;
	struct bk_minisign_sig parsed;
	struct bk_verify_member *vm;
	size_t len;
	const char *sig = bk_ar_signature(r, &len);
	char *comment = NULL;

	if (!sig) {
		rep->sig = BK_SIG_NONE;
		if (key)
			return fail(rep, "unsigned: the archive has no %s, and a verify key is "
				    "configured (%s)", BK_MANIFEST_SIG_NAME, key_source());
		return 0;
	}
	vm = add_member(rep, BK_MANIFEST_SIG_NAME, 0, -1);
	vm->bytes = len;
	rep->n_files++;
	rep->unpacked_bytes += len;
	if (!key) {
		if (bk_minisign_sig_parse(&parsed, sig, len) < 0)
			return bad_signature(rep);
		bk_minisign_id_hex(parsed.id, rep->key_id);
		bk_minisign_sig_free(&parsed);
		rep->sig = BK_SIG_UNCHECKED;
		vm->ok = 1;
		return 0;
	}
	if (bk_minisign_verify(key, mtext, mlen, sig, len, rep->key_id, &comment) < 0)
		return bad_signature(rep);
	for (char *t = comment; *t; t++)
		if (*t == '\t')
			*t = ' ';	/* minisign's "timestamp:N<TAB>file:NAME", readable */
	rep->trusted_comment = show_path(comment);
	free(comment);
	rep->sig = BK_SIG_OK;
	vm->ok = 1;
	return 0;
}

/* A MANIFEST.minisig the reader did not take as the signature. */
static int misplaced_signature(struct bk_verify_report *rep)
{
	if (rep->n_members == 1)
		return fail(rep, "member %s: not a signature (a regular file of at most %d "
			    "bytes)", BK_MANIFEST_SIG_NAME, BK_MANIFEST_SIG_MAX);
	return fail(rep, "member %s: a signature must be the second member, right after "
		    "MANIFEST", BK_MANIFEST_SIG_NAME);
}

static int verify_members(struct bk_verify_report *rep, struct bk_ar_reader *r,
			  const struct bk_manifest *man, const struct man_index *ix,
			  char **mtext, size_t mlen)
{
	unsigned char *buf = bk_xmalloc(BUF_SIZE);
	char *seen = calloc(man->n_entries + 1, 1);
	struct bk_sha256 *h = bk_sha256_new();
	struct bk_ar_member m;
	int got, ret = -1;

	if (!seen)
		abort();
	if (!h) {
		fail(rep, "%s", bk_err());
		goto out;
	}
	while ((got = bk_ar_next(r, &m)) == 1) {
		const struct bk_manifest_entry *e;
		char *shown;
		int bad = 0;

		if (*mtext) {
			int rc = check_signature(rep, r, *mtext, mlen);

			free(*mtext);
			*mtext = NULL;
			if (rc < 0)
				goto out;
		}
		shown = show_path(m.path);
		if (!bk_manifest_path_ok(m.path))
			bad = fail(rep, "member %s: unsafe path", shown);
		else if (m.type != BK_AR_REG && m.type != BK_AR_DIR)
			bad = fail(rep, "member %s: %s, only regular files and directories are allowed",
				   shown, type_name(m.type));
		else if (m.type == BK_AR_DIR) {
			for (size_t i = 0; i < rep->n_members && !bad; i++)
				if (rep->members[i].is_dir && !strcmp(rep->members[i].path, shown))
					bad = fail(rep, "member %s: directory appears twice", shown);
			if (!bad && !bk_manifest_has_dir(man, m.path))
				bad = fail(rep, "member %s: a directory holding no file listed in MANIFEST",
					   shown);
			if (!bad) {
				add_member(rep, m.path, 1, -1)->ok = 1;
				rep->n_dirs++;
			}
		} else if (!strcmp(m.path, BK_MANIFEST_NAME)) {
			bad = fail(rep, "member MANIFEST appears twice");
		} else if (!strcmp(m.path, BK_MANIFEST_SIG_NAME)) {
			bad = misplaced_signature(rep);
		} else if (!(e = bk_manifest_find(man, m.path))) {
			bad = fail(rep, "member %s is not listed in MANIFEST", shown);
		} else if (seen[e - man->entries]) {
			bad = fail(rep, "member %s appears twice in the archive", shown);
		} else if (m.size != e->bytes) {
			bad = fail(rep, "member %s: size %llu bytes, MANIFEST lists %llu", shown, m.size,
				   e->bytes);
		} else {
			seen[e - man->entries] = 1;
			rep->n_files++;
			bad = check_member(rep, r, man, ix, e, add_member(rep, m.path, 0, -1), h, buf);
		}
		free(shown);
		if (bad)
			goto out;
	}
	if (got < 0) {
		fail(rep, "%s", bk_err());
		goto out;
	}
	if (*mtext && check_signature(rep, r, *mtext, mlen) < 0)
		goto out;
	for (size_t i = 0; i < man->n_entries; i++) {
		if (!seen[i]) {
			char *shown = show_path(man->entries[i].path);

			fail(rep, "MANIFEST lists %s but the archive has no such member", shown);
			free(shown);
			goto out;
		}
	}
	ret = 0;
out:
	bk_sha256_free(h);
	free(seen);
	free(buf);
	return ret;
}

int bk_verify_archive(const char *path, struct bk_verify_report *rep)
{
	struct bk_manifest man;
	struct man_index ix = { 0 };
	struct bk_ar_reader *r = NULL;
	struct stat st;
	size_t manifest_len = 0;
	char *mtext = NULL;
	double t0 = bk_monotonic();
	int ret = -1;

	bk_verify_report_init(rep);
	bk_manifest_init(&man);
	if (stat(path, &st) < 0) {
		bk_err_errno("cannot read %s", path);
		fail(rep, "%s", bk_err());
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		fail(rep, "%s is not a regular file", path);
		goto out;
	}
	rep->archive_bytes = (unsigned long long)st.st_size;
	if (!(r = bk_ar_open(path))) {
		fail(rep, "%s", bk_err());
		goto out;
	}
	bk_ar_set_limit(r, HEAD_LIMIT);
	if (read_manifest(rep, r, &man, &mtext, &manifest_len) < 0)
		goto out;
	bk_ar_set_limit(r, stream_limit(&man, manifest_len));
	index_build(&ix, &man);
	if (verify_members(rep, r, &man, &ix, &mtext, manifest_len) < 0)
		goto out;
	check_size_bounds(rep);
	rep->ok = 1;
	ret = 0;
out:
	if (r) {
		rep->stream_bytes = bk_ar_bytes_out(r);
		bk_ar_close(r);
	}
	rep->seconds = bk_monotonic() - t0;
	index_free(&ix);
	bk_manifest_free(&man);
	free(mtext);
	return ret;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void bk_verify_report_json(const struct bk_verify_report *rep, const char *path, FILE *f)
{
	char shown[1024];

	printable(shown, sizeof(shown), path, 900);
	fputs("{\"archive\": ", f);
	json_str(f, shown);
	fprintf(f, ", \"ok\": %s, \"reason\": ", rep->ok ? "true" : "false");
	if (rep->ok)
		fputs("null", f);
	else
		json_str(f, rep->reason);
	fputs(",\n \"members\": [", f);
	for (size_t i = 0; i < rep->n_members; i++) {
		const struct bk_verify_member *vm = &rep->members[i];

		fputs(i ? ",\n  {\"path\": " : "\n  {\"path\": ", f);
		json_str(f, vm->path);
		fprintf(f, ", \"type\": \"%s\", \"bytes\": %llu, \"rows\": ",
			vm->is_dir ? "directory" : "file", vm->bytes);
		if (vm->rows >= 0)
			fprintf(f, "%lld", vm->rows);
		else
			fputs("null", f);
		fprintf(f, ", \"ok\": %s}", vm->ok ? "true" : "false");
	}
	fprintf(f, "],\n \"totals\": {\"files\": %zu, \"directories\": %zu, \"rows\": %llu, "
		"\"archive_bytes\": %llu, \"unpacked_bytes\": %llu, \"stream_bytes\": %llu, "
		"\"seconds\": %.3f},\n \"warnings\": [", rep->n_files, rep->n_dirs, rep->rows,
		rep->archive_bytes, rep->unpacked_bytes, rep->stream_bytes, rep->seconds);
	for (size_t i = 0; i < rep->n_warnings; i++) {
		if (i)
			fputs(", ", f);
		json_str(f, rep->warnings[i]);
	}
	fputs("],\n \"signature\": {\"status\": ", f);
	json_str(f, rep->sig == BK_SIG_BAD ? "bad signature" : rep->sig == BK_SIG_NONE ? "unsigned"
		 : "signed");
	fputs(", \"key_id\": ", f);
	if (rep->key_id[0])
		json_str(f, rep->key_id);
	else
		fputs("null", f);
	fprintf(f, ", \"checked\": %s, \"trusted_comment\": ",
		bk_config.verify_key ? "true" : "false");
	if (rep->trusted_comment)
		json_str(f, rep->trusted_comment);
	else
		fputs("null", f);
	fputs("}}\n", f);
}

void bk_verify_sig_text(const struct bk_verify_report *rep, char *buf, size_t size)
{
	switch (rep->sig) {
	case BK_SIG_OK:
		snprintf(buf, size, "signed by key ID %s", rep->key_id);
		break;
	case BK_SIG_UNCHECKED:
		snprintf(buf, size, "signed by key ID %s (not checked: no verify key)", rep->key_id);
		break;
	case BK_SIG_BAD:
		snprintf(buf, size, "bad signature");
		break;
	default:
		snprintf(buf, size, "unsigned");
	}
}
