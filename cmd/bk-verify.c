/* bk-verify: is a backup archive intact? gzip and tar integrity, every member
 * against MANIFEST (sha256, size), data files parsed and rows counted, and
 * who signed MANIFEST (checked against the verify key when there is one). */
#include <stdio.h>
#include <string.h>

#include "archive_read.h"
#include "cli.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "size.h"
#include "verify.h"

static const char *prog = "bk-verify";

static void usage(void)
{
	printf("usage: %s [--json] [-i IDENTITY] [--verify-key FILE]\n"
	       "                 [--env-file FILE] FILE\n"
	       "\n"
	       "Check that the backup archive FILE is intact, in one streaming pass:\n"
	       "the gzip stream to its last byte (CRC-32 and length), MANIFEST as the\n"
	       "first member, every member a regular file or directory with a safe path,\n"
	       "listed in MANIFEST once, with the listed size and sha256; .sql data files\n"
	       "parsed as COPY blocks and .csv files as CSV, with the listed row counts.\n"
	       "An archive size outside BACKUP_MIN_SIZE_MB..BACKUP_MAX_SIZE_MB is a warning.\n"
	       "An age-encrypted archive (NAME.tar.gz.age) is decrypted on the way in,\n"
	       "every chunk authenticated, with the identity of -i or\n"
	       "BACKUP_AGE_IDENTITY_FILE.\n"
	       "The signature of MANIFEST (MANIFEST.minisig) is checked against the verify\n"
	       "key (BACKUP_VERIFY_KEY or --verify-key); with one, an unsigned archive or\n"
	       "a bad signature is not intact. Without one, the key ID is only reported.\n"
	       "Prints a one-line summary, or with --json a JSON report, on stdout.\n"
	       "\n"
	       "  -j, --json           print the report as one JSON object\n"
	       "  -i, --identity FILE  age identity file for a .age archive\n"
	       "      --verify-key FILE\n"
	       "                       check the signature with this minisign public key\n"
	       "                       (instead of BACKUP_VERIFY_KEY)\n"
	       "      --env-file FILE  read variables from FILE (.env syntax)\n"
	       "  -h, --help           show this help\n"
	       "      --version        show the version\n"
	       "\n"
	       "Exit status: 0 intact, 1 not intact (the reason on stderr and in the log),\n"
	       "2 usage or configuration.\n",
	       prog);
}

static void summary(const struct bk_verify_report *rep, const char *path)
{
	const char *base = strrchr(path, '/');

	char sig[128], packed[BK_SIZE_BUF], unpacked[BK_SIZE_BUF];

	bk_verify_sig_text(rep, sig, sizeof(sig));
	printf("OK %s: %zu members, %llu rows, %s (%s unpacked), %s\n",
	       base ? base + 1 : path, rep->n_files + rep->n_dirs, rep->rows,
	       bk_format_size(rep->archive_bytes, packed, sizeof(packed)),
	       bk_format_size(rep->unpacked_bytes, unpacked, sizeof(unpacked)), sig);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "identity", required_argument, NULL, 'i' },
		{ "verify-key", required_argument, NULL, 'K' },
		BK_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct bk_verify_report rep;
	const char *env_file = NULL, *identity = NULL, *path, *key_file = NULL;
	char sig[128];
	int c, json = 0, code;

	while ((c = bk_getopt(argc, argv, ":ji:h", longopts)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'i':
			identity = optarg;
			break;
		case 'K':
			key_file = optarg;
			break;
		default:
			bk_common_option(c, prog, argv, usage, &env_file);
		}
	}
	if (optind >= argc)
		bk_missing_archive(prog);
	if (optind + 1 < argc)
		bk_usage_error(prog, "unexpected argument '%s'", argv[optind + 1]);
	path = argv[optind];
	if (key_file && !*key_file)
		bk_usage_error(prog, "--verify-key needs a file name");
	bk_start(prog, env_file);
	if (bk_ar_use_identity(identity) < 0 ||
	    (key_file && bk_config_verify_key_file(key_file) < 0))
		bk_die(BK_EXIT_USAGE);
	bk_info("verifying %s", path);

	if (bk_verify_archive(path, &rep) == 0) {
		for (size_t i = 0; i < rep.n_warnings; i++)
			bk_warn("%s", rep.warnings[i]);
		bk_verify_sig_text(&rep, sig, sizeof(sig));
		if (rep.sig == BK_SIG_NONE)
			bk_info("%s is unsigned: it proves its integrity, not its origin", path);
		else if (rep.sig == BK_SIG_UNCHECKED)
			bk_info("%s is %s", path, sig);
		else
			bk_info("%s is %s (verify key from %s): %s", path, sig,
				bk_config.verify_key_from, rep.trusted_comment);
		bk_info("%s is intact: %zu files, %llu rows, %llu bytes (%llu unpacked), %.2f s",
			path, rep.n_files, rep.rows, rep.archive_bytes, rep.unpacked_bytes,
			rep.seconds);
		code = BK_EXIT_OK;
	} else {
		bk_error("%s", rep.reason);
		code = BK_EXIT_FAIL;
	}
	if (json)
		bk_verify_report_json(&rep, path, stdout);
	else if (code == BK_EXIT_OK)
		summary(&rep, path);
	bk_verify_report_free(&rep);
	return bk_finish(code);
}
