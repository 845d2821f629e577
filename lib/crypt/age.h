/*
 * age v1 files (https://age-encryption.org/v1) for X25519 recipients: what
 * bk encrypts, `age -d -i KEY.txt` decrypts, and what `age -r`/`age -R`
 * encrypts, bk decrypts. Streaming in 64 KiB chunks, constant memory.
 * Functions return 0 (or a pointer) on success, -1 (or NULL) with the error
 * slot set.
 */
#ifndef BK_AGE_H
#define BK_AGE_H

#include <stddef.h>
#include <sys/types.h>

#define BK_AGE_CHUNK 65536

struct bk_age_recipient {
	unsigned char pk[32];		/* X25519 public key */
};

struct bk_age_identity {
	unsigned char sk[32];		/* X25519 secret key */
	unsigned char pk[32];		/* its recipient */
};

/* One "age1..." string (len bytes, no white space). */
int bk_age_recipient_parse(struct bk_age_recipient *r, const char *s, size_t len);
/* "age1..."; caller frees. */
char *bk_age_recipient_format(const struct bk_age_recipient *r);
/* A list of recipients separated by commas, white space or newlines; a line whose
 * first non-blank character is '#' is a comment (so an `age -R` file parses too).
 * At least one recipient. *out is malloc'd (caller frees), *n its length. */
int bk_age_recipients_parse(const char *text, size_t len, struct bk_age_recipient **out,
			    size_t *n);
int bk_age_recipients_load(const char *path, struct bk_age_recipient **out, size_t *n);

/* One "AGE-SECRET-KEY-1..." string. */
int bk_age_identity_parse(struct bk_age_identity *id, const char *s, size_t len);
/* "AGE-SECRET-KEY-1..." (upper case, as age-keygen writes); caller wipes and frees. */
char *bk_age_identity_format(const struct bk_age_identity *id);
/* A new random identity. */
int bk_age_identity_generate(struct bk_age_identity *id);
/* An identity file as age-keygen writes it: one AGE-SECRET-KEY-1... per line,
 * '#' comment lines and blank lines allowed; at least one identity. Errors name
 * the line, never its content. Free with bk_age_identities_free (it wipes). */
int bk_age_identities_parse(const char *text, size_t len, struct bk_age_identity **out,
			    size_t *n);
int bk_age_identities_load(const char *path, struct bk_age_identity **out, size_t *n);
void bk_age_identities_free(struct bk_age_identity *ids, size_t n);

/* Where output goes: 0, or -1 with the error slot set (which stops the stream). */
typedef int (*bk_age_sink)(void *arg, const void *buf, size_t len);
/* A sink writing to the file descriptor *(int *)arg. */
int bk_age_sink_fd(void *arg, const void *buf, size_t len);

/* Encryption: _new writes the header and the payload nonce to sink; _update
 * takes plaintext in any pieces; _final writes the last chunk. The recipients
 * are copied. */
struct bk_age_enc;
struct bk_age_enc *bk_age_enc_new(const struct bk_age_recipient *r, size_t n,
				  bk_age_sink sink, void *arg);
int bk_age_enc_update(struct bk_age_enc *e, const void *buf, size_t len);
int bk_age_enc_final(struct bk_age_enc *e);
void bk_age_enc_free(struct bk_age_enc *e);

/* Decryption: _update takes the age file in any pieces and passes each chunk's
 * plaintext to sink once its tag is verified; _final checks that the file ended
 * with a valid final chunk. Plaintext already passed to sink belongs to a good
 * file only when _final returns 0: on any error, discard it. Refused: another
 * format or version, an armored file, a malformed header, no identity matching
 * an X25519 stanza, a bad header MAC, a damaged, reordered or missing chunk, an
 * empty final chunk after data, data after the final chunk, a truncated file.
 * The identities are copied. */
struct bk_age_dec;
struct bk_age_dec *bk_age_dec_new(const struct bk_age_identity *ids, size_t n,
				  bk_age_sink sink, void *arg);
int bk_age_dec_update(struct bk_age_dec *d, const void *buf, size_t len);
int bk_age_dec_final(struct bk_age_dec *d);
void bk_age_dec_free(struct bk_age_dec *d);

/* Decryption as a pull reader (e.g. behind archive_read_open): src returns the
 * bytes read, 0 at the end, -1 with the error slot set. bk_age_read returns
 * plaintext bytes, 0 only at the verified end of the file, -1 on any error. */
typedef ssize_t (*bk_age_source)(void *arg, void *buf, size_t len);
struct bk_age_reader;
struct bk_age_reader *bk_age_reader_new(const struct bk_age_identity *ids, size_t n,
					bk_age_source src, void *arg);
ssize_t bk_age_read(struct bk_age_reader *r, void *buf, size_t len);
void bk_age_reader_free(struct bk_age_reader *r);

/* Whole streams between file descriptors (read until EOF). On a decryption
 * error, what was written to out_fd must be discarded. */
int bk_age_encrypt_fd(const struct bk_age_recipient *r, size_t n, int in_fd, int out_fd);
int bk_age_decrypt_fd(const struct bk_age_identity *ids, size_t n, int in_fd, int out_fd);

#endif
