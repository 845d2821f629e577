/* Test-only driver for lib/crypt (minisign and age), so tests/t0330 can check
 * them against the real minisign and age tools. Not installed.
 *
 *   crypt-tool sign SECKEY FILE [TRUSTED_COMMENT]   .minisig text on stdout
 *   crypt-tool verify PUBKEY FILE SIGFILE           key ID and trusted comment
 *   crypt-tool pubkey SECKEY                        the .pub text
 *   crypt-tool encrypt (-r LIST | -R FILE)          stdin to stdout
 *   crypt-tool decrypt [--reader] -i IDFILE         stdin to stdout
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "age.h"
#include "err.h"
#include "fs.h"
#include "minisign.h"

static int fail(void)
{
	fprintf(stderr, "crypt-tool: %s\n", bk_err());
	if (*bk_err_hint_text())
		fprintf(stderr, "hint: %s\n", bk_err_hint_text());
	return 1;
}

static int usage(void)
{
	fputs("usage: crypt-tool sign|verify|pubkey|encrypt|decrypt ...\n", stderr);
	return 2;
}

static int cmd_sign(int argc, char **argv)
{
	struct bk_minisign_sec sk;
	char *data, *sig;
	size_t len;
	int ret;

	if (argc < 3 || argc > 4)
		return usage();
	if (bk_minisign_sec_load(&sk, argv[1]) < 0 ||
	    bk_read_file(argv[2], (size_t)1 << 30, &data, &len) < 0)
		return fail();
	ret = bk_minisign_sign(&sk, data, len, argc == 4 ? argv[3] : NULL, &sig);
	bk_minisign_sec_wipe(&sk);
	free(data);
	if (ret < 0)
		return fail();
	fputs(sig, stdout);
	free(sig);
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	struct bk_minisign_pub pk;
	char *data, *sig, *tc, id[BK_MINISIGN_ID_HEX];
	size_t len, sig_len;
	int ret;

	if (argc != 4)
		return usage();
	if (bk_minisign_pub_load(&pk, argv[1]) < 0 ||
	    bk_read_file(argv[2], (size_t)1 << 30, &data, &len) < 0 ||
	    bk_read_file(argv[3], 1 << 16, &sig, &sig_len) < 0)
		return fail();
	ret = bk_minisign_verify(&pk, data, len, sig, sig_len, id, &tc);
	free(data);
	free(sig);
	if (ret < 0)
		return fail();
	printf("key %s\ntrusted comment: %s\n", id, tc);
	free(tc);
	return 0;
}

static int cmd_pubkey(int argc, char **argv)
{
	struct bk_minisign_sec sk;
	struct bk_minisign_pub pk;
	char *text;

	if (argc != 2)
		return usage();
	if (bk_minisign_sec_load(&sk, argv[1]) < 0)
		return fail();
	bk_minisign_pub_of(&pk, &sk);
	bk_minisign_sec_wipe(&sk);
	text = bk_minisign_pub_format(&pk);
	fputs(text, stdout);
	free(text);
	return 0;
}

static int cmd_encrypt(int argc, char **argv)
{
	struct bk_age_recipient *r;
	size_t n;
	int ret;

	if (argc != 3)
		return usage();
	if (!strcmp(argv[1], "-r"))
		ret = bk_age_recipients_parse(argv[2], strlen(argv[2]), &r, &n);
	else if (!strcmp(argv[1], "-R"))
		ret = bk_age_recipients_load(argv[2], &r, &n);
	else
		return usage();
	if (ret < 0)
		return fail();
	ret = bk_age_encrypt_fd(r, n, 0, 1);
	free(r);
	return ret < 0 ? fail() : 0;
}

static ssize_t src_fd(void *arg, void *buf, size_t len)
{
	ssize_t n = read(*(int *)arg, buf, len);

	if (n < 0)
		bk_err_errno("read");
	return n;
}

static int decrypt_reader(const struct bk_age_identity *ids, size_t n)
{
	int in = 0, ret = -1;
	struct bk_age_reader *r = bk_age_reader_new(ids, n, src_fd, &in);
	char buf[1000];			/* odd size on purpose */
	ssize_t got;

	if (!r)
		return -1;
	while ((got = bk_age_read(r, buf, sizeof(buf))) > 0)
		if (bk_write_all(1, buf, (size_t)got) < 0)
			goto out;
	ret = got < 0 ? -1 : 0;
out:
	bk_age_reader_free(r);
	return ret;
}

static int cmd_decrypt(int argc, char **argv)
{
	struct bk_age_identity *ids;
	int reader = argc == 4 && !strcmp(argv[1], "--reader"), ret;
	size_t n;

	if (argc != 3 + reader || strcmp(argv[1 + reader], "-i"))
		return usage();
	if (bk_age_identities_load(argv[2 + reader], &ids, &n) < 0)
		return fail();
	ret = reader ? decrypt_reader(ids, n) : bk_age_decrypt_fd(ids, n, 0, 1);
	bk_age_identities_free(ids, n);
	return ret < 0 ? fail() : 0;
}

int main(int argc, char **argv)
{
	int ret;

	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "sign"))
		ret = cmd_sign(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "verify"))
		ret = cmd_verify(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "pubkey"))
		ret = cmd_pubkey(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "encrypt"))
		ret = cmd_encrypt(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "decrypt"))
		ret = cmd_decrypt(argc - 1, argv + 1);
	else
		return usage();
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("crypt-tool: stdout");
		return 1;
	}
	return ret;
}
