#!/bin/bash
# bk-run, bk-fetch and the bucket together (real radosgw): what the nightly
# run uploaded, bk-fetch downloads byte-identical and verified; the run's
# prune step applies retention to the bucket after the upload (an archive
# past BACKUP_S3_RETENTION_DAYS goes, a foreign object stays).
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
test_description 'bk-run uploads, bk-prune prunes the bucket, bk-fetch gets it back'

test_need_programs bk-export bk-pack bk-verify bk-prune bk-run bk-fetch
command -v minisign >/dev/null ||
	test_skip_all "minisign is not installed (tools/install-deps installs it)"
s3_start
pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0 BACKUP_S3_RETENTION_DAYS=30 BACKUP_KEEP_MIN=1
mkdir -p "$BACKUP_CONFIG_DIR"
minisign -G -W -p "$TRASH/bk.pub" -s "$TRASH/bk.key" >/dev/null || exit 1
export BACKUP_SIGNING_KEY_FILE=$TRASH/bk.key BACKUP_VERIFY_KEY_FILE=$TRASH/bk.pub
s3_mkbucket bk-run || exit 1
s3_env bk-run db-eu-1/
OLD=critical_backup_20200101_020000.tar.gz

test_expect_success 'a run uploads, then prunes the bucket: the old archive goes, a foreign object stays' '
	echo x >x &&
	s3_curl -f -T x "$S3_ENDPOINT/bk-run/db-eu-1/$OLD" &&
	s3_curl -f -T x "$S3_ENDPOINT/bk-run/db-eu-1/README" &&
	s3_curl -f -T x "$S3_ENDPOINT/bk-run/db-us-1/$OLD" &&
	bk-run --no-mail >path &&
	name=$(basename "$(cat path)") &&
	s3_ls bk-run >keys &&
	printf "%s\n" db-eu-1/README "db-eu-1/$name" "db-us-1/$OLD" >expect &&
	test_cmp expect keys &&
	grep "bk-prune.*deleted s3://bk-run/db-eu-1/$OLD (expired)" "$BACKUP_LOG"
'

test_expect_success 'bk-fetch --latest gets what the run uploaded, identical and verified' '
	mkdir new &&
	bk-fetch --latest -o new >out &&
	echo "new/$(basename "$(cat path)")" >expect &&
	test_cmp expect out &&
	cmp "$(cat path)" "$(cat out)" &&
	grep "bk-fetch.*is intact" "$BACKUP_LOG"
'

s3_proxy_start
test_expect_success 'after a failed upload the bucket is not pruned (bk-prune --local)' '
	s3_curl -f -T x "$S3_ENDPOINT/bk-run/db-eu-1/$OLD" &&
	echo "PUT /bk-run/db-eu-1/critical_backup_ -1 500" >"$S3_PROXY_RULES" &&
	BACKUP_S3_ENDPOINT=$S3_PROXY_ENDPOINT test_expect_code 1 bk-run --no-mail >out 2>err &&
	grep -q "ERROR bk-run\[[0-9]*\]: step upload failed (the local backup is verified and kept): " err &&
	s3_ls bk-run db-eu-1/ >keys &&
	grep -x "db-eu-1/$OLD" keys &&
	! grep "^DELETE " "$S3_PROXY_LOG"
'

test_done
