#!/bin/bash
# A bk-run killed in the middle of a multipart upload leaves its parts in
# the bucket, billed until the upload is aborted. bk-run records the upload
# in flight in $BACKUP_DIR/.offsite_upload; the next upload aborts it first
# (ListParts of its id: 200 before, 404 after), then uploads its own; a
# record of another bucket or a malformed one is reported and removed.
# Real radosgw; tests/s3proxy.py holds the part PUTs so the kill lands
# while parts are in flight.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-fault.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
test_description 'the next upload aborts the multipart upload a killed run left'

command -v jq >/dev/null || test_skip_all "jq is not installed (tools/install-deps)"
s3_run_setup killed db/
s3_proxy_start
export BK_S3_PART_SIZE=8192
STATE=$BACKUP_DIR/.offsite_upload

test_expect_success 'killed while its parts are held: the upload is on record, and in the store' '
	# gather more parts than are ever open: each is held (up to 30 s)
	echo "PUT partNumber= 99 gather" >"$S3_PROXY_RULES" &&
	{ BACKUP_S3_ENDPOINT=$S3_PROXY_ENDPOINT bk-run --no-mail >path1 2>err1 & } &&
	runner=$! &&
	fault_poll test -s "$STATE" &&
	fault_poll grep -q "multipart upload of db/.* (upload id " "$BACKUP_LOG" &&
	kill -9 $runner && { wait $runner || :; } &&
	IFS="	" read -r bucket key id <"$STATE" &&
	test "$bucket" = killed &&
	case $key in db/critical_backup_[0-9]*_[0-9]*.tar.gz) ;; *) false ;; esac &&
	test "$id" = "$(s3_upload_id "$BACKUP_LOG" "$key")" &&
	test "$(stat -c %a "$STATE")" = 600 &&
	echo "$key" >killed.key && echo "$id" >killed.id &&
	code=$(s3_curl -o parts.xml -w "%{http_code}" \
		"$S3_ENDPOINT/killed/$key?uploadId=$(printf %s "$id" | jq -sRr @uri)") &&
	test "$code" = 200
'

test_expect_success 'the next run aborts it, says so, uploads its own and clears the record' '
	: >"$S3_PROXY_RULES" &&
	bk-run --no-mail >path2 2>err2 &&
	grep -q "upload: aborted the multipart upload an earlier run left: s3://killed/$(cat killed.key) (upload id $(cat killed.id))" err2 &&
	s3_upload_gone killed "$(cat killed.key)" "$(cat killed.id)" &&
	test_path_is_missing "$STATE" &&
	grep -q "upload: confirmed s3://killed/db/$(basename "$(cat path2)")" err2
'

test_expect_success 'a run with nothing on record aborts nothing' '
	bk-run --no-mail >path3 2>err3 &&
	! grep -q "earlier run left" err3 &&
	test_path_is_missing "$STATE"
'

test_expect_success 'a record of another bucket is named, not sent to this one, and removed' '
	printf "old-bucket\tdb/critical_backup_20261120_020000.tar.gz\t2~abc\n" >"$STATE" &&
	chmod 600 "$STATE" &&
	: >"$S3_PROXY_LOG" &&
	BACKUP_S3_ENDPOINT=$S3_PROXY_ENDPOINT bk-run --no-mail >path4 2>err4 &&
	grep -q "WARN bk-run\[[0-9]*\]: upload: an earlier run left the multipart upload 2~abc of s3://old-bucket/db/critical_backup_20261120_020000.tar.gz, in another bucket" err4 &&
	! grep -q "^DELETE .*uploadId=2~abc" "$S3_PROXY_LOG" &&
	test_path_is_missing "$STATE"
'

test_expect_success 'a malformed record is said and removed; the upload goes on' '
	printf "garbage" >"$STATE" && chmod 600 "$STATE" &&
	bk-run --no-mail >path5 2>err5 &&
	grep -q "WARN bk-run\[[0-9]*\]: upload: $STATE is not BUCKET<TAB>KEY<TAB>UPLOAD_ID: removed" err5 &&
	test_path_is_missing "$STATE" &&
	grep -q "upload: confirmed s3://killed/db/$(basename "$(cat path5)")" err5
'

test_done
