/* SHA-256 via the EVP interface of libcrypto (see sha256.h). */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>

#include "err.h"
#include "sha256.h"

struct bk_sha256 {
	EVP_MD_CTX *ctx;
};

struct bk_sha256 *bk_sha256_new(void)
{
	struct bk_sha256 *h = calloc(1, sizeof(*h));

	if (!h || !(h->ctx = EVP_MD_CTX_new()) ||
	    EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		bk_sha256_free(h);
		bk_err_set("cannot start sha256");
		return NULL;
	}
	return h;
}

void bk_sha256_update(struct bk_sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void bk_sha256_final(struct bk_sha256 *h, char hex[BK_SHA256_HEX])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->ctx, md, &n);
	for (unsigned int i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void bk_sha256_free(struct bk_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

int bk_sha256_file(const char *path, char hex[BK_SHA256_HEX], unsigned long long *size)
{
	static unsigned char buf[1 << 16];
	struct bk_sha256 *h;
	int fd, ret = -1;

	*size = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bk_err_errno("cannot read %s", path);
	if (!(h = bk_sha256_new()))
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bk_err_errno("cannot read %s", path);
			goto out;
		}
		if (n == 0)
			break;
		bk_sha256_update(h, buf, (size_t)n);
		*size += (unsigned long long)n;
	}
	bk_sha256_final(h, hex);
	ret = 0;
out:
	bk_sha256_free(h);
	close(fd);
	return ret;
}
