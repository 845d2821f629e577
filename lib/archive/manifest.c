/* MANIFEST reading and writing (see manifest.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fs.h"
#include "manifest.h"

void bk_manifest_init(struct bk_manifest *m)
{
	memset(m, 0, sizeof(*m));
}

void bk_manifest_free(struct bk_manifest *m)
{
	for (size_t i = 0; i < m->n_entries; i++)
		free(m->entries[i].path);
	for (size_t i = 0; i < m->n_meta; i++) {
		free(m->meta[i].key);
		free(m->meta[i].value);
	}
	free(m->entries);
	free(m->slots);
	free(m->meta);
	bk_manifest_init(m);
}

int bk_manifest_path_ok(const char *path)
{
	const char *seg = path;

	if (!*path || *path == '/' || strlen(path) > 255)
		return 0;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			return 0;
	for (;;) {
		size_t n = strcspn(seg, "/");

		if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && !strncmp(seg, "..", 2)))
			return 0;
		if (!seg[n])
			return 1;
		seg += n + 1;
	}
}

static void *grow(void *arr, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 16;
	arr = realloc(arr, *cap * size);
	if (!arr)
		abort();
	return arr;
}

/* FNV-1a: paths are short and not chosen to collide (a hostile MANIFEST
 * that makes them collide costs time bounded by BK_MANIFEST_MAX only). */
static size_t path_hash(const char *path)
{
	size_t h = (size_t)14695981039346656037ULL;

	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		h = (h ^ *p) * (size_t)1099511628211ULL;
	return h;
}

/* The slot of path: where it is, or the free slot where it would go. */
static size_t *slot_of(const struct bk_manifest *m, const char *path)
{
	size_t mask = m->n_slots - 1;

	for (size_t i = path_hash(path) & mask;; i = (i + 1) & mask) {
		size_t *s = &m->slots[i];

		if (!*s || !strcmp(m->entries[*s - 1].path, path))
			return s;
	}
}

static void rehash(struct bk_manifest *m)
{
	free(m->slots);
	m->n_slots = m->n_slots ? 2 * m->n_slots : 64;
	m->slots = calloc(m->n_slots, sizeof(*m->slots));
	if (!m->slots)
		abort();
	for (size_t i = 0; i < m->n_entries; i++)
		*slot_of(m, m->entries[i].path) = i + 1;
}

int bk_manifest_add(struct bk_manifest *m, const char *sha256, unsigned long long bytes,
		    long long rows, const char *path)
{
	struct bk_manifest_entry *e;

	if (!bk_manifest_path_ok(path))
		return bk_err_set("unsafe member path '%s'", path);
	if (bk_manifest_find(m, path))
		return bk_err_set("member %s listed twice", path);
	m->entries = grow(m->entries, &m->cap_entries, m->n_entries + 1, sizeof(*e));
	e = &m->entries[m->n_entries++];
	snprintf(e->sha256, sizeof(e->sha256), "%s", sha256);
	e->bytes = bytes;
	e->rows = rows;
	e->path = bk_xstrdup(path);
	if (2 * m->n_entries >= m->n_slots)
		rehash(m);
	else
		*slot_of(m, path) = m->n_entries;
	return 0;
}

void bk_manifest_meta_add(struct bk_manifest *m, const char *key, const char *value)
{
	struct bk_manifest_meta *md;
	char *v = bk_xstrdup(value);

	for (char *p = v; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	m->meta = grow(m->meta, &m->cap_meta, m->n_meta + 1, sizeof(*md));
	md = &m->meta[m->n_meta++];
	md->key = bk_xstrdup(key);
	md->value = v;
}

const char *bk_manifest_meta_next(const struct bk_manifest *m, const char *key, size_t *i)
{
	for (; *i < m->n_meta; (*i)++)
		if (!strcmp(m->meta[*i].key, key))
			return m->meta[(*i)++].value;
	return NULL;
}

const char *bk_manifest_meta_get(const struct bk_manifest *m, const char *key)
{
	size_t i = 0;

	return bk_manifest_meta_next(m, key, &i);
}

const struct bk_manifest_entry *bk_manifest_find(const struct bk_manifest *m, const char *path)
{
	size_t *s;

	if (!m->n_slots)
		return NULL;
	s = slot_of(m, path);
	return *s ? &m->entries[*s - 1] : NULL;
}

int bk_manifest_has_dir(const struct bk_manifest *m, const char *dir)
{
	size_t n = strlen(dir);

	for (size_t i = 0; i < m->n_entries; i++)
		if (!strncmp(m->entries[i].path, dir, n) && m->entries[i].path[n] == '/')
			return 1;
	return 0;
}

static int parse_u64(const char *s, size_t n, unsigned long long *out)
{
	unsigned long long v = 0;

	if (n == 0 || n > 19)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int parse_member(struct bk_manifest *m, char *line, int lineno)
{
	char *f[3];
	char *p = line;
	unsigned long long bytes, rows = 0;
	int no_rows;

	for (int i = 0; i < 3; i++) {
		f[i] = p;
		p = strchr(p, ' ');
		if (!p)
			return bk_err_set("MANIFEST line %d: expected 'sha256 bytes rows path'", lineno);
		*p++ = '\0';
	}
	if (strlen(f[0]) != 64 || strspn(f[0], "0123456789abcdef") != 64)
		return bk_err_set("MANIFEST line %d: bad sha256 '%.70s'", lineno, f[0]);
	if (parse_u64(f[1], strlen(f[1]), &bytes) < 0)
		return bk_err_set("MANIFEST line %d: bad size '%.30s'", lineno, f[1]);
	no_rows = !strcmp(f[2], "-");
	if (!no_rows && parse_u64(f[2], strlen(f[2]), &rows) < 0)
		return bk_err_set("MANIFEST line %d: bad row count '%.30s'", lineno, f[2]);
	if (bk_manifest_add(m, f[0], bytes, no_rows ? -1 : (long long)rows, p) < 0)
		return bk_err_prefix("MANIFEST line %d", lineno);
	return 0;
}

static int parse_meta(struct bk_manifest *m, char *line, int lineno)
{
	char *colon = strstr(line, ": ");

	if (line[1] != ' ')
		return 0;	/* a plain comment */
	if (!colon)
		return bk_err_set("MANIFEST line %d: expected '# key: value'", lineno);
	*colon = '\0';
	bk_manifest_meta_add(m, line + 2, colon + 2);
	return 0;
}

int bk_manifest_parse(struct bk_manifest *m, const char *text, size_t len)
{
	char *copy, *line, *next;
	int lineno = 0, ret = -1;

	if (len > BK_MANIFEST_MAX)
		return bk_err_set("MANIFEST is larger than %d MiB", BK_MANIFEST_MAX >> 20);
	if (memchr(text, '\0', len))
		return bk_err_set("MANIFEST contains a NUL byte");
	copy = bk_xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = copy; *line; line = next) {
		next = strchr(line, '\n');
		if (!next)
			goto bad_end;
		*next++ = '\0';
		lineno++;
		if (line[0] == '#' ? parse_meta(m, line, lineno) < 0
				   : parse_member(m, line, lineno) < 0)
			goto out;
	}
	if (!m->n_entries && !m->n_meta) {
		bk_err_set("MANIFEST is empty");
		goto out;
	}
	ret = 0;
	goto out;
bad_end:
	bk_err_set("MANIFEST line %d: missing final newline (truncated?)", lineno + 1);
out:
	free(copy);
	return ret;
}

char *bk_manifest_format(const struct bk_manifest *m)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		abort();
	for (size_t i = 0; i < m->n_meta; i++)
		fprintf(f, "# %s: %s\n", m->meta[i].key, m->meta[i].value);
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct bk_manifest_entry *e = &m->entries[i];

		if (e->rows < 0)
			fprintf(f, "%s %llu - %s\n", e->sha256, e->bytes, e->path);
		else
			fprintf(f, "%s %llu %lld %s\n", e->sha256, e->bytes, e->rows, e->path);
	}
	if (fclose(f) != 0)
		abort();
	return out;
}
