/*
 * Inside the S3 client (s3.c: requests; s3_put.c: uploads; s3_list.c:
 * listings; s3_err.c: messages; s3_xml.c: the
 * store's answers). Not for other modules: they use s3.h.
 */
#ifndef BK_S3_INT_H
#define BK_S3_INT_H

#include <stddef.h>

#include <curl/curl.h>

#include "s3.h"

#define S3_RESP_MAX (8u << 20)	/* an XML answer (a listing of 1,000 keys is ~300 KB) */
#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* One request. The caller fills the first block; s3_request() the rest. */
struct s3_req {
	const char *method;	/* GET PUT POST HEAD DELETE */
	const char *key;	/* NULL: the bucket itself */
	const char *query;	/* canonical (sorted, encoded), or NULL */
	/* body: len bytes of fd from off, or of mem; none when both are unset */
	int body_fd;		/* -1: mem (or no body) */
	unsigned long long body_off, body_len;
	const char *body_mem;
	const char *sha256;	/* hex digest of the body; NULL: empty body */
	const char *headers[6];	/* more "Name: value" lines, NULL-terminated */
	int out_fd;		/* -1: a 2xx body is kept in resp; else written here */
	CURL *curl;		/* a handle to reuse, its connection kept (one per
				 * thread); NULL: a new one for each attempt */

	/* filled in */
	long status;		/* HTTP status, 0 when no answer */
	char *resp;		/* the body (NUL-terminated), at most S3_RESP_MAX */
	size_t resp_len;
	unsigned long long length;	/* Content-Length of the answer */
	unsigned long long written;	/* bytes written to out_fd */
	char etag[80], meta_sha256[65], last_modified[64];

	/* private to s3.c */
	unsigned long long pos;
	int failed_write;
};

/* Perform r with up to BK_S3_ATTEMPTS attempts for transient failures;
 * 0 when the store answered 2xx, else -1 with "METHOD s3://B/K: why" in the
 * slot and a hint. Free r->resp with s3_req_done(). */
int s3_request(const struct bk_s3 *s, struct s3_req *r);
void s3_req_done(struct s3_req *r);
/* A request with no body, out_fd -1. */
void s3_req_init(struct s3_req *r, const char *method, const char *key, const char *query);

/* Parts for a file of size bytes: *n parts of *part bytes but the last; one
 * part when size <= part_size; at most BK_S3_MAX_PARTS (the part grows, in
 * whole MiB, for a file that would need more). */
void s3_plan_parts(unsigned long long size, unsigned long long part_size,
		   unsigned long long *part, unsigned *n);

/* s3_err.c: the message of a failed attempt (rc, or r's status and XML)
 * into why, its hint (or NULL) into *hint; is it worth another attempt? */
void s3_describe(const struct bk_s3 *s, const struct s3_req *r, int rc, const char *errbuf,
		 char *why, size_t size, const char **hint);
int s3_transient(int rc, long status, const char *code);

/* Pause before attempt i + 1 (tests shrink it with BK_S3_RETRY_DELAY_MS). */
void s3_retry_pause(int i);

/* The text of the next <tag>...</tag> in xml[*pos..len), entities decoded,
 * into out (size bytes); *pos moves past it. 0, or -1 when there is none (or
 * it does not fit). */
int s3_xml_next(const char *xml, size_t len, size_t *pos, const char *tag, char *out,
		size_t size);
/* Like s3_xml_next from the start, for one value. */
int s3_xml_get(const char *xml, const char *tag, char *out, size_t size);
/* The span of the next <tag>...</tag> element's content: *start, *end offsets. */
int s3_xml_elem(const char *xml, size_t len, size_t *pos, const char *tag, size_t *start,
		size_t *end);
/* ISO 8601 "2026-12-01T11:28:01.831Z" or an HTTP date to unix seconds; 0 if neither. */
long long s3_parse_time(const char *s);

#endif
