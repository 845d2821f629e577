/* Unit tests for lib/extract.c, called directly (bk-unpack verifies first, which
 * would hide a weak extractor): hostile archives built with libarchive are
 * refused with nothing written outside the target, partial work undone. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "err.h"
#include "extract.h"
#include "fs.h"
#include "manifest.h"
#include "sha256.h"
#include "tap.h"

static char *scratch;		/* holds dir/ (the target) and outside/ */

enum kind { REG, DIRE, SYMLINK, HARDLINK, CHARDEV, FIFO, RAWMANIFEST };

struct member {
	enum kind kind;
	const char *path;
	const char *data;	/* REG: contents; links: target */
};

static char *path_in(const char *a, const char *b)
{
	return bk_asprintf("%s/%s", a, b);
}

static void sha_of(const char *data, size_t len, char hex[BK_SHA256_HEX])
{
	struct bk_sha256 *h = bk_sha256_new();

	bk_sha256_update(h, data, len);
	bk_sha256_final(h, hex);
	bk_sha256_free(h);
}

/* m lists files (path, contents) as a packer would. */
static void manifest_of(struct bk_manifest *m, const char *const *files)
{
	bk_manifest_init(m);
	bk_manifest_meta_add(m, "format", "bk 1");
	for (size_t i = 0; files[i]; i += 2) {
		char hex[BK_SHA256_HEX];

		sha_of(files[i + 1], strlen(files[i + 1]), hex);
		if (bk_manifest_add(m, hex, strlen(files[i + 1]), -1, files[i]) < 0)
			abort();
	}
}

static void add_entry(struct archive *a, const struct member *mb, const char *manifest_text)
{
	struct archive_entry *e = archive_entry_new();
	const char *data = mb->kind == RAWMANIFEST ? manifest_text : mb->data;

	archive_entry_set_pathname(e, mb->path);
	archive_entry_set_mtime(e, 1764036003, 0);
	archive_entry_set_perm(e, mb->kind == DIRE ? 0700 : 0644);
	switch (mb->kind) {
	case REG:
	case RAWMANIFEST:
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_size(e, (la_int64_t)strlen(data));
		break;
	case DIRE:
		archive_entry_set_filetype(e, AE_IFDIR);
		break;
	case SYMLINK:
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_symlink(e, mb->data);
		break;
	case HARDLINK:
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_hardlink(e, mb->data);
		break;
	case CHARDEV:
		archive_entry_set_filetype(e, AE_IFCHR);
		archive_entry_set_rdev(e, makedev(1, 3));
		break;
	case FIFO:
		archive_entry_set_filetype(e, AE_IFIFO);
		break;
	}
	if (archive_write_header(a, e) != ARCHIVE_OK)
		fprintf(stderr, "# write header %s: %s\n", mb->path, archive_error_string(a));
	if ((mb->kind == REG || mb->kind == RAWMANIFEST) && *data)
		archive_write_data(a, data, strlen(data));
	archive_entry_free(e);
}

/* Write an archive: MANIFEST (m's text) first unless the list says where. */
static char *build(const char *name, const struct bk_manifest *m, const struct member *mb,
		   int manifest_first)
{
	char *path = path_in(scratch, name), *text = bk_manifest_format(m);
	struct archive *a = archive_write_new();
	struct member man = { RAWMANIFEST, "MANIFEST", NULL };

	archive_write_add_filter_gzip(a);
	archive_write_set_format_pax_restricted(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		abort();
	if (manifest_first)
		add_entry(a, &man, text);
	for (; mb->path; mb++)
		add_entry(a, mb, text);
	archive_write_close(a);
	archive_write_free(a);
	free(text);
	return path;
}

/* Number of entries in a directory (-1 if it does not exist). */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static char *target, *outside;

static void fresh(void)
{
	bk_rm_rf(target);
	bk_rm_rf(outside);
	if (mkdir(outside, 0755) < 0)
		abort();
}

static int file_is(const char *path, const char *want, mode_t mode)
{
	char *got;
	size_t len;
	struct stat st;
	int ok_ = 0;

	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (bk_read_file(path, 1 << 20, &got, &len) == 0) {
		ok_ = len == strlen(want) && !memcmp(got, want, len) &&
		      (st.st_mode & 07777) == mode;
		if (!ok_)
			printf("# %s: mode %o\n", path, st.st_mode & 07777);
		free(got);
	}
	return ok_;
}

/* A hostile archive must be refused with the reason, the target (which did
 * not exist) removed again and nothing outside. */
static void refused(const char *title, const struct member *mb, const char *const *files,
		    const char *why)
{
	struct bk_manifest m;
	char *archive;
	int rc;

	fresh();
	manifest_of(&m, files);
	archive = build("hostile.tar.gz", &m, mb, 1);
	rc = bk_extract(archive, &m, target, NULL);
	ok(rc == -1 && strstr(bk_err(), why) && count_entries(outside) == 0 &&
	   count_entries(target) == -1, "%s", title);
	if (rc != -1 || !strstr(bk_err(), why))
		printf("# rc %d: %s\n", rc, rc ? bk_err() : "");
	bk_manifest_free(&m);
	free(archive);
}

static int select_config(const struct bk_manifest *m, const char *path)
{
	return bk_extract_is_config(m, path);
}

int main(void)
{
	static const char *const good_files[] = {
		"a.sql", "COPY x FROM stdin;\n1\n\\.\n",
		"ssl/key.pem", "-----BEGIN PRIVATE KEY-----\n",
		NULL
	};
	static const struct member good[] = {
		{ REG, "a.sql", "COPY x FROM stdin;\n1\n\\.\n" },
		{ DIRE, "ssl", NULL },
		{ REG, "ssl/key.pem", "-----BEGIN PRIVATE KEY-----\n" },
		{ 0, NULL, NULL }
	};
	static const char *const one[] = { "a.sql", "data\n", NULL };
	static const char *const through[] = { "a.sql", "data\n", "link/evil", "owned\n", NULL };
	struct bk_manifest m;
	char *archive, *p, *list;
	char tmpl[] = "/tmp/bk-test-extract.XXXXXX";

	if (!mkdtemp(tmpl))
		return 1;
	scratch = tmpl;
	target = path_in(scratch, "dir");
	outside = path_in(scratch, "outside");

	/* The good case first, so the refusals below mean something. */
	fresh();
	manifest_of(&m, good_files);
	archive = build("good.tar.gz", &m, good, 1);
	ok(bk_extract(archive, &m, target, NULL) == 0, "a sound archive extracts");
	p = path_in(target, "ssl/key.pem");
	ok(file_is(p, "-----BEGIN PRIVATE KEY-----\n", 0600), "files as in the archive, mode 0600");
	free(p);
	p = path_in(target, "MANIFEST");
	{
		char *text = bk_manifest_format(&m);

		ok(file_is(p, text, 0600), "MANIFEST written too");
		free(text);
	}
	free(p);
	ok(count_entries(target) == 3, "nothing else in the target (no temporary files)");
	{
		int rc = bk_extract(archive, &m, target, NULL);

		ok(rc == -1 && strstr(bk_err(), "exist already") &&
		   strstr(bk_err(), "a.sql, ssl/key.pem, MANIFEST"),
		   "existing files are refused, listed: %s", bk_err());
	}
	{
		struct bk_extract_opts o = { .force = 1 };

		ok(bk_extract(archive, &m, target, &o) == 0 && count_entries(target) == 3,
		   "--force replaces them");
	}
	free(archive);
	bk_manifest_free(&m);

	refused("path traversal ../ is refused",
		(const struct member[]){ { REG, "a.sql", "data\n" },
					 { REG, "../outside/evil", "owned\n" }, { 0, NULL, NULL } },
		one, "unsafe path");
	{
		char *abs = path_in(outside, "evil");
		struct member mb[] = { { REG, "a.sql", "data\n" }, { REG, abs, "owned\n" },
				       { 0, NULL, NULL } };

		refused("an absolute path is refused", mb, one, "unsafe path");
		free(abs);
	}
	refused("a symlink, then a file through it, is refused",
		(const struct member[]){ { REG, "a.sql", "data\n" },
					 { SYMLINK, "link", "../outside" },
					 { REG, "link/evil", "owned\n" }, { 0, NULL, NULL } },
		through, "symbolic link");
	refused("a hard link is refused",
		(const struct member[]){ { REG, "a.sql", "data\n" },
					 { HARDLINK, "h", "../outside/x" }, { 0, NULL, NULL } },
		one, "hard link");
	refused("a device is refused",
		(const struct member[]){ { REG, "a.sql", "data\n" },
					 { CHARDEV, "null", NULL }, { 0, NULL, NULL } },
		one, "device");
	refused("a fifo is refused",
		(const struct member[]){ { REG, "a.sql", "data\n" },
					 { FIFO, "fifo", NULL }, { 0, NULL, NULL } },
		one, "fifo");
	refused("a member larger than MANIFEST declares is refused",
		(const struct member[]){ { REG, "a.sql", "data\nand a great deal more\n" },
					 { 0, NULL, NULL } },
		one, "MANIFEST 5");
	refused("a member whose bytes differ from its sha256 is refused",
		(const struct member[]){ { REG, "a.sql", "DATA\n" }, { 0, NULL, NULL } },
		one, "sha256");
	refused("a member not in MANIFEST is refused",
		(const struct member[]){ { REG, "a.sql", "data\n" }, { REG, "b.sql", "x\n" },
					 { 0, NULL, NULL } },
		one, "not listed in MANIFEST");
	refused("a member twice is refused",
		(const struct member[]){ { REG, "a.sql", "data\n" }, { REG, "a.sql", "data\n" },
					 { 0, NULL, NULL } },
		one, "twice");
	refused("a MANIFEST member missing from the archive is refused",
		(const struct member[]){ { 0, NULL, NULL } },
		one, "not in the archive");
	refused("a directory that holds no member is refused",
		(const struct member[]){ { REG, "a.sql", "data\n" }, { DIRE, "empty", NULL },
					 { 0, NULL, NULL } },
		one, "holds no member");

	/* MANIFEST in the archive other than the one verified. */
	fresh();
	manifest_of(&m, one);
	archive = build("other.tar.gz", &m, (const struct member[]){ { REG, "a.sql", "data\n" },
								       { 0, NULL, NULL } }, 1);
	bk_manifest_free(&m);
	manifest_of(&m, (const char *const[]){ "a.sql", "data\n", "b.sql", "", NULL });
	ok(bk_extract(archive, &m, target, NULL) == -1 && strstr(bk_err(), "differs"),
	   "a MANIFEST member that differs from the verified one is refused");
	bk_manifest_free(&m);
	free(archive);

	/* A target that exists, with an attacker's symlinks planted in it. */
	fresh();
	mkdir(target, 0700);
	p = path_in(target, "ssl");
	if (symlink(outside, p) < 0)
		abort();
	free(p);
	manifest_of(&m, good_files);
	archive = build("good.tar.gz", &m, good, 1);
	{
		int rc = bk_extract(archive, &m, target, NULL);

		ok(rc == -1 && strstr(bk_err(), "symbolic link") && count_entries(outside) == 0 &&
		   count_entries(target) == 1,
		   "a planted symlink to a directory is not written through: %s", bk_err());
	}
	{
		struct bk_extract_opts o = { .force = 1 };

		ok(bk_extract(archive, &m, target, &o) == -1 && count_entries(outside) == 0 &&
		   count_entries(target) == 1, "not with --force either; a.sql removed again");
	}
	bk_rm_rf(target);
	mkdir(target, 0700);
	p = path_in(target, "a.sql");
	{
		char *victim = path_in(outside, "victim");
		struct bk_extract_opts o = { .force = 1 };
		struct stat st;

		bk_write_file_atomic(victim, "precious\n", 9, 0644);
		if (symlink(victim, p) < 0)
			abort();
		ok(bk_extract(archive, &m, target, NULL) == -1 && strstr(bk_err(), "a.sql") &&
		   file_is(victim, "precious\n", 0644), "a planted symlink to a file: refused");
		ok(bk_extract(archive, &m, target, &o) == 0 && file_is(victim, "precious\n", 0644) &&
		   lstat(p, &st) == 0 && S_ISREG(st.st_mode),
		   "with --force the link itself is replaced, its target untouched");
		free(victim);
	}
	free(p);
	free(archive);
	bk_manifest_free(&m);

	/* Failure after good members: a target we did not create keeps only what
	 * it had. */
	fresh();
	mkdir(target, 0700);
	p = path_in(target, "mine");
	bk_write_file_atomic(p, "keep\n", 5, 0600);
	free(p);
	manifest_of(&m, good_files);
	archive = build("late.tar.gz", &m, (const struct member[]){
			{ REG, "a.sql", "COPY x FROM stdin;\n1\n\\.\n" }, { DIRE, "ssl", NULL },
			{ REG, "ssl/key.pem", "tampered\n" }, { 0, NULL, NULL } }, 1);
	ok(bk_extract(archive, &m, target, NULL) == -1 && count_entries(target) == 1,
	   "a late failure removes the files and directories already written");
	free(archive);

	/* MANIFEST not first. */
	archive = build("late.tar.gz", &m, (const struct member[]){
			{ REG, "a.sql", "COPY x FROM stdin;\n1\n\\.\n" }, { RAWMANIFEST, "MANIFEST", NULL },
			{ DIRE, "ssl", NULL }, { REG, "ssl/key.pem", "-----BEGIN PRIVATE KEY-----\n" },
			{ 0, NULL, NULL } }, 0);
	ok(bk_extract(archive, &m, target, NULL) == -1 && strstr(bk_err(), "first"),
	   "MANIFEST not first is refused");
	free(archive);
	bk_manifest_free(&m);

	/* Configuration files: selected by "# config:", modes as packed
	 * ("# config-mode:"), capped by the tar header's, 0600 when unknown. */
	fresh();
	{
		static const char *const cfg_files[] = {
			"users.sql", "x\n", ".env.production", "PASS=1\n",
			"nginx.prod.conf", "server {}\n", "ssl/cert.pem", "CERT\n",
			"ssl/server.key", "KEY\n", "ssl/privkey.pem", "KEY2\n", NULL
		};
		static const struct member cfg[] = {
			{ REG, "users.sql", "x\n" }, { REG, ".env.production", "PASS=1\n" },
			{ REG, "nginx.prod.conf", "server {}\n" }, { DIRE, "ssl", NULL },
			{ REG, "ssl/cert.pem", "CERT\n" }, { REG, "ssl/server.key", "KEY\n" },
			{ REG, "ssl/privkey.pem", "KEY2\n" }, { 0, NULL, NULL }
		};
		struct bk_extract_opts o = {
			.select = select_config, .file_mode = bk_extract_config_mode,
			.dir_mode = 0755,
		};
		struct stat st;
		char *q;

		manifest_of(&m, cfg_files);
		bk_manifest_meta_add(&m, "config", ".env.production");
		bk_manifest_meta_add(&m, "config", "nginx.prod.conf");
		bk_manifest_meta_add(&m, "config", "ssl");
		bk_manifest_meta_add(&m, "config-mode", "0600 root .env.production");
		bk_manifest_meta_add(&m, "config-mode", "0664 www-data nginx.prod.conf");
		bk_manifest_meta_add(&m, "config-mode", "0640 root ssl/cert.pem");
		bk_manifest_meta_add(&m, "config-mode", "0400 1000 ssl/server.key");
		bk_manifest_meta_add(&m, "config-mode", "0644 root ssl/privkey.pem.other");
		bk_manifest_meta_add(&m, "config-mode", "bad root ssl/privkey.pem");
		archive = build("cfg.tar.gz", &m, cfg, 1);
		ok(bk_extract(archive, &m, target, &o) == 0, "configuration files extract");
		q = path_in(target, ".env.production");
		ok(file_is(q, "PASS=1\n", 0600), ".env.production is 0600");
		free(q);
		q = path_in(target, "nginx.prod.conf");
		ok(file_is(q, "server {}\n", 0644), "nginx.prod.conf is 0644 (0664, capped by the "
		   "header's 0644)");
		free(q);
		q = path_in(target, "ssl/server.key");
		ok(file_is(q, "KEY\n", 0400), "ssl/server.key is 0400 as packed");
		free(q);
		q = path_in(target, "ssl/privkey.pem");
		ok(file_is(q, "KEY2\n", 0600), "ssl/privkey.pem, no good line: 0600");
		free(q);
		q = path_in(target, "ssl/cert.pem");
		ok(file_is(q, "CERT\n", 0640), "ssl/cert.pem is 0640 as packed");
		free(q);
		q = path_in(target, "ssl");
		ok(stat(q, &st) == 0 && (st.st_mode & 07777) == 0755, "ssl/ is 0755");
		free(q);
		ok(count_entries(target) == 3, "only the configuration files (not users.sql, "
		   "not MANIFEST)");
		{
			size_t n = 0;
			const char *ow = bk_extract_config_owner(&m, "nginx.prod.conf", &n);

			ok(ow && n == 8 && !strncmp(ow, "www-data", n) &&
			   !bk_extract_config_owner(&m, "ssl/privkey.pem", &n),
			   "the owner name as packed");
		}
		{
			int n = bk_extract_conflicts(&m, target, &o, &list);

			ok(n == 5 && list &&
			   !strcmp(list, ".env.production, nginx.prod.conf, ssl/cert.pem, ssl/server.key, "
				   "ssl/privkey.pem"), "conflicts listed: %s", list ? list : "(none)");
			free(list);
		}
		free(archive);
		bk_manifest_free(&m);
	}

	bk_rm_rf(scratch);
	free(target);
	free(outside);
	return done_testing();
}
