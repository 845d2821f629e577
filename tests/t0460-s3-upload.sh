#!/bin/bash
# bk-run's step upload against a real S3 store (radosgw, tests/lib-s3.sh):
# the archive lands under the prefix, HEAD-confirmed, byte-identical when an
# independent client (curl --aws-sigv4) downloads it; .last_offsite_success;
# --dry-run says where it would go; only the .age file leaves when encrypting.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
test_description 'bk-run uploads the archive to S3'

command -v age-keygen >/dev/null || test_skip_all "age-keygen is not installed (tools/install-deps)"
s3_run_setup bk-backups host1/db/

test_expect_success 'a run uploads the archive under the prefix and exits 0' '
	date +%s >before &&
	bk-run --no-mail >path 2>err &&
	name=$(basename "$(cat path)") &&
	s3_ls bk-backups host1/ >keys &&
	echo "host1/db/$name" >expect &&
	test_cmp expect keys
'

name=$(basename "$(cat path)")
sha=$(sha256sum "$(cat path)" | cut -d" " -f1)

test_expect_success 'what the store holds is byte-identical (curl --aws-sigv4 download)' '
	s3_get bk-backups "host1/db/$name" got &&
	cmp "$(cat path)" got
'

test_expect_success 'the log shows the progress and the HEAD confirmation' '
	grep -q "step upload started" "$BACKUP_LOG" &&
	s3_progress_ok "$BACKUP_LOG" 1 &&
	grep -q "upload: confirmed s3://bk-backups/host1/db/$name: $(stat -c %s "$(cat path)") bytes, sha256 $sha" "$BACKUP_LOG" &&
	grep -q "step upload done in" "$BACKUP_LOG"
'

test_expect_success '.last_offsite_success holds the time of the upload' '
	last=$(cat "$BACKUP_DIR/.last_offsite_success") &&
	test "$last" -ge "$(cat before)" && test "$last" -le "$(date +%s)" &&
	test "$(stat -c %a "$BACKUP_DIR/.last_offsite_success")" = 600 &&
	test $(wc -l <"$BACKUP_DIR/.backup_history") = 1 &&
	cut -f2 "$BACKUP_DIR/.backup_history" >result && echo ok >expect && test_cmp expect result
'

test_expect_success 'the store checked the body: x-amz-meta-sha256 is the archive digest' '
	s3_curl -I -o /dev/null -D head "$S3_ENDPOINT/bk-backups/host1/db/$name" &&
	tr -d "\r" <head | sed -n "s/^x-amz-meta-sha256: //Ip" >meta &&
	echo "$sha" >expect && test_cmp expect meta
'

test_expect_success '--dry-run says where it would upload, and uploads nothing' '
	s3_ls bk-backups >keys.before &&
	bk-run --no-mail --dry-run 2>err &&
	grep -q "dry run: would upload critical_backup_YYYYMMDD_HHMMSS.tar.gz to s3://bk-backups/host1/db/critical_backup_YYYYMMDD_HHMMSS.tar.gz at $S3_ENDPOINT (path style, region us-east-1" err &&
	s3_ls bk-backups >keys.after &&
	test_cmp keys.before keys.after
'

test_expect_success 'with age recipients only the .age file is uploaded' '
	age-keygen -o id.txt 2>/dev/null && recipient=$(age-keygen -y id.txt) &&
	BACKUP_AGE_RECIPIENTS=$recipient bk-run --no-mail >path2 2>err &&
	name2=$(basename "$(cat path2)") &&
	s3_ls bk-backups host1/db/ >keys &&
	grep -qx "host1/db/$name2.age" keys &&
	! grep -qx "host1/db/$name2" keys &&
	s3_get bk-backups "host1/db/$name2.age" got.age &&
	cmp "$(cat path2).age" got.age
'

test_expect_success 'the secret key is in no log line and no output' '
	! grep -F -q "$S3_SK" "$BACKUP_LOG" err path
'

test_done
