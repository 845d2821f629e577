#!/bin/bash
# A multipart upload sends 4 parts at a time (fewer when there are fewer),
# without a timing assertion: tests/s3proxy.py between bk and the store
# (radosgw) holds the first part PUTs until 4 are open together ("gather")
# and records the most requests open at once, so a client sending one part
# after another is seen at 1 (and its first part waits for the proxy to give
# up). The parts are completed in their order whatever order they finish in
# (the store's ETag is the MD5 of the parts' MD5s in that order), a part
# failing while the others are open still aborts the upload once they are
# done (ListParts of its id answers 404) and the error names that part;
# the progress lines only go up.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
test_description 'multipart uploads send four parts at a time'

s3_run_setup par db/
s3_proxy_start
export BACKUP_S3_ENDPOINT=$S3_PROXY_ENDPOINT
export BK_S3_PART_SIZE=4096

# multipart_etag FILE PART: the ETag S3 gives FILE uploaded in parts of PART
# bytes: the MD5 of the parts' MD5s in part order, then "-N".
multipart_etag() {
	/usr/bin/python3 - "$1" "$2" <<-'EOF'
	import hashlib, sys
	data, size = open(sys.argv[1], "rb").read(), int(sys.argv[2])
	parts = [data[i:i + size] for i in range(0, len(data), size)]
	md5s = b"".join(hashlib.md5(p).digest() for p in parts)
	print('"%s-%d"' % (hashlib.md5(md5s).hexdigest(), len(parts)))
	EOF
}

# most_open: the most part PUTs the proxy saw open at once since the reset.
most_open() {
	sed -n "s/^PUT //p" "$S3_PROXY_OPEN"
}

# reset RULES: new proxy rules, an empty proxy log, count and bk log.
reset() {
	printf "$1" >"$S3_PROXY_RULES" &&
	: >"$S3_PROXY_LOG" && : >"$S3_PROXY_OPEN" && : >"$BACKUP_LOG"
}

test_expect_success 'four part PUTs are open at once, never more' '
	reset "PUT partNumber= 4 gather\n" &&
	bk-run --no-mail >path 2>err &&
	a=$(cat path) && n=$(s3_parts_of "$a") && test "$n" -ge 8 &&
	grep -q "multipart upload of db/$(basename "$a"): $n parts of 4096 bytes, 4 at a time" "$BACKUP_LOG" &&
	! grep "gather timed out" "$S3_PROXY_LOG" &&
	echo 4 >expect && most_open >most && test_cmp expect most &&
	test $(grep -c "^PUT /par/db/.*partNumber=.* -> 200$" "$S3_PROXY_LOG") = "$n"
'

test_expect_success 'the parts are completed in their order: the ETag of the parts in order' '
	a=$(cat path) &&
	s3_curl -I -o /dev/null -D head "$S3_ENDPOINT/par/db/$(basename "$a")" &&
	tr -d "\r" <head >h &&
	grep -qix "content-length: $(stat -c %s "$a")" h &&
	grep -qix "x-amz-meta-sha256: $(sha256sum "$a" | cut -d" " -f1)" h &&
	sed -n "s/^etag: //Ip" h >etag &&
	multipart_etag "$a" 4096 >expect && test_cmp expect etag &&
	k=db/$(basename "$a") && s3_upload_gone par "$k" "$(s3_upload_id "$BACKUP_LOG" "$k")"
'

test_expect_success 'the progress lines only go up and end at 100%' '
	s3_progress_ok "$BACKUP_LOG" "$(s3_parts_of "$(cat path)")"
'

test_expect_success 'a part failing while others are open: they end, then the abort, none left' '
	reset "PUT partNumber= 4 gather\nPUT partNumber=3& -1 500\n" &&
	test_expect_code 1 bk-run --no-mail >path2 2>err &&
	a=$(ls -t "$BACKUP_DIR"/critical_backup_*.tar.gz | head -n 1) && n=$(s3_parts_of "$a") &&
	! grep "gather timed out" "$S3_PROXY_LOG" &&
	echo 4 >expect && most_open >most && test_cmp expect most &&
	test $(grep -c "^PUT .*partNumber=3&.* -> 500$" "$S3_PROXY_LOG") = 3 &&
	grep -q "step upload failed (the local backup is verified and kept): part 3 of $n: PUT s3://par/db/$(basename "$a"): 500 InternalError" err &&
	! grep "^POST .*uploadId=" "$S3_PROXY_LOG" &&
	grep -n "^DELETE /par/db/.*?uploadId=.* -> 204$" "$S3_PROXY_LOG" | cut -d: -f1 >abort &&
	test $(wc -l <abort) = 1 &&
	test "$(grep -n "^PUT " "$S3_PROXY_LOG" | tail -n 1 | cut -d: -f1)" -lt "$(cat abort)" &&
	grep -q "multipart upload of db/$(basename "$a") aborted: no parts left in the bucket" err &&
	k=db/$(basename "$a") && s3_upload_gone par "$k" "$(s3_upload_id err "$k")" &&
	s3_progress_percents "$BACKUP_LOG" percents && sort -n -c percents
'

test_expect_success 'fewer parts than four: as many at a time as there are parts' '
	export BK_S3_PART_SIZE=$(( $(stat -c %s "$(cat path)") / 2 + 2048 )) &&
	reset "PUT partNumber= 2 gather\n" &&
	bk-run --no-mail >path3 2>err &&
	a=$(cat path3) && n=$(s3_parts_of "$a") && test "$n" -ge 2 && test "$n" -lt 4 &&
	grep -q "multipart upload of db/$(basename "$a"): $n parts of $BK_S3_PART_SIZE bytes, $n at a time" "$BACKUP_LOG" &&
	! grep "gather timed out" "$S3_PROXY_LOG" &&
	test "$(most_open)" -ge 2 && test "$(most_open)" -le "$n" &&
	s3_progress_ok "$BACKUP_LOG" "$n"
'

test_done
