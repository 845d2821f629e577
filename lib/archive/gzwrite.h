/*
 * A gzip stream writer on a file descriptor: one standard gzip member that
 * `gzip -t` and `tar -xzf` read. The implementation may compress on several
 * threads (independent deflate blocks primed with the previous 32 KiB); the
 * output stays one ordinary gzip stream.
 */
#ifndef BK_GZWRITE_H
#define BK_GZWRITE_H

#include <stddef.h>

struct bk_gz;

/* level 1..9; threads 0 = one per online core. NULL with the error slot set. */
struct bk_gz *bk_gz_open(int fd, int level, int threads);
/* Compress len bytes; -1 (error slot set; ENOSPC is reported as "disk full"). */
int bk_gz_write(struct bk_gz *gz, const void *buf, size_t len);
/* Finish the stream (trailer with CRC-32 and size) and free; does not close fd. */
int bk_gz_close(struct bk_gz *gz);
/* Free without finishing (after an error). */
void bk_gz_abort(struct bk_gz *gz);
/* Bytes of compressed output written so far. */
unsigned long long bk_gz_out_bytes(const struct bk_gz *gz);

#endif
