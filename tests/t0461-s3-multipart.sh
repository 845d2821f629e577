#!/bin/bash
# Multipart uploads against the real store (radosgw), with a small part size
# (BK_S3_PART_SIZE, a test-only knob): equal parts but the last, a part that
# fails once is retried and the upload completes, a part that keeps failing
# aborts the whole upload (ListParts of its id answers 404) while the
# verified local backup and its success status stay. The faults come from
# tests/s3proxy.py between bk and the store.
#
# radosgw's dbstore backend (Debian 13, 18.2.7) assembles a completed
# multipart object wrongly on GET (every part reads as the last one; the same
# with curl alone), so bytes are compared for single PUTs (t0460) and here
# the store's own record is checked: size, x-amz-meta-sha256, "-N" ETag.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
test_description 'multipart uploads, retried parts, aborted uploads'

s3_run_setup mpart db/
s3_proxy_start
export BK_S3_PART_SIZE=8192

test_expect_success 'an archive larger than the part size goes up in equal parts' '
	bk-run --no-mail >path 2>err &&
	a=$(cat path) && n=$(s3_parts_of "$a") && test "$n" -ge 3 &&
	grep -q "multipart upload of db/$(basename "$a"): $n parts of 8192 bytes" "$BACKUP_LOG" &&
	s3_progress_ok "$BACKUP_LOG" "$n"
'

test_expect_success 'the store holds N parts, the size and the SHA-256 of the archive' '
	a=$(cat path) && n=$(s3_parts_of "$a") &&
	s3_curl -I -o /dev/null -D head "$S3_ENDPOINT/mpart/db/$(basename "$a")" &&
	tr -d "\r" <head >h &&
	grep -qix "content-length: $(stat -c %s "$a")" h &&
	grep -qix "x-amz-meta-sha256: $(sha256sum "$a" | cut -d" " -f1)" h &&
	grep -qi "^etag: \"[0-9a-f]*-$n\"$" h &&
	k=db/$(basename "$a") && s3_upload_gone mpart "$k" "$(s3_upload_id "$BACKUP_LOG" "$k")" &&
	test_path_is_missing "$BACKUP_DIR/.offsite_upload"
'

test_expect_success 'a part that fails once is sent again and the upload completes' '
	export BACKUP_S3_ENDPOINT=$S3_PROXY_ENDPOINT &&
	echo "PUT partNumber=2& 1 500" >"$S3_PROXY_RULES" && : >"$S3_PROXY_LOG" &&
	bk-run --no-mail >path2 2>err &&
	grep "partNumber=2&" "$S3_PROXY_LOG" | sed "s/.* -> //" >attempts &&
	printf "500\n200\n" >expect && test_cmp expect attempts &&
	grep -q "WARN bk-run\[[0-9]*\]: PUT s3://mpart/db/$(basename "$(cat path2)"): attempt 1 of 3 failed: 500 InternalError" err &&
	grep -q "upload: confirmed s3://mpart/db/$(basename "$(cat path2)")" err
'

test_expect_success 'a part that keeps failing: 3 attempts, the upload aborted, none left' '
	export BACKUP_S3_ENDPOINT=$S3_PROXY_ENDPOINT &&
	echo "PUT partNumber=2& -1 drop" >"$S3_PROXY_RULES" && : >"$S3_PROXY_LOG" &&
	cp "$BACKUP_DIR/.last_offsite_success" offsite.before &&
	test_expect_code 1 bk-run --no-mail >path3 2>err &&
	test $(grep -c "^PUT .*partNumber=2&.* -> drop$" "$S3_PROXY_LOG") = 3 &&
	grep -q "^DELETE /mpart/db/.*?uploadId=.* -> 204$" "$S3_PROXY_LOG" &&
	grep -q "multipart upload of db/.* aborted: no parts left in the bucket" err &&
	k=$(sed -n "s/.*multipart upload of \([^ ]*\) aborted: .*/\1/p" err) &&
	s3_upload_gone mpart "$k" "$(s3_upload_id err "$k")" &&
	test_path_is_missing "$BACKUP_DIR/.offsite_upload"
'

test_expect_success 'the failed upload kept the verified local backup and its status' '
	a=$(ls -t "$BACKUP_DIR"/critical_backup_*.tar.gz | head -n 1) &&
	bk-verify "$a" >/dev/null &&
	tail -n 2 "$BACKUP_DIR/.backup_history" | cut -f2 >results &&
	printf "ok\nfail\n" >expect && test_cmp expect results &&
	tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f6 >reason &&
	grep -q "^upload: part 2 of [0-9]*: PUT s3://mpart/db/$(basename "$a"): cannot reach S3 endpoint $S3_PROXY_ENDPOINT" reason &&
	test "$(cat "$BACKUP_DIR/.last_backup_success")" -ge "$(cut -f1 "$BACKUP_DIR/.backup_history" | tail -n 1)" &&
	test_cmp offsite.before "$BACKUP_DIR/.last_offsite_success" &&
	s3_ls mpart db/ >keys && ! grep -q "$(basename "$a")" keys
'

test_done
