/* libFuzzer: the archive reader and verifier on arbitrary bytes (a memfd
 * stands in for the file). */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fs.h"
#include "verify.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct bk_verify_report rep;
	char path[64];
	int fd = memfd_create("fuzz-archive", 0);

	if (fd < 0)
		return 0;
	if (bk_write_all(fd, data, size) == 0) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		bk_verify_archive(path, &rep);
		bk_verify_report_free(&rep);
	}
	close(fd);
	return 0;
}
