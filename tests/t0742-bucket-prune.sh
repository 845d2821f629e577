#!/bin/bash
# Retention in the bucket (bk-prune with S3 configured) against a real
# radosgw, over more than 1,000 objects under the prefix (ListObjectsV2
# continuation): only bk archives directly under the installation's prefix
# past BACKUP_S3_RETENTION_DAYS are deleted, an archive and its .age
# together, never below BACKUP_KEEP_MIN; foreign objects under the prefix,
# deeper keys and other prefixes are left alone; --dry-run deletes nothing.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
test_description 'bk-prune: retention in the bucket'

test_need_programs bk-prune
s3_start
s3_mkbucket bk-prune || exit 1
s3_env bk-prune host-a/
export BACKUP_S3_PATH_STYLE=1 BACKUP_S3_RETENTION_DAYS=30 BACKUP_KEEP_MIN=3
mkdir -p "$BACKUP_DIR" && chmod 700 "$BACKUP_DIR"

# name DAYS_AGO: an archive's name from that many days ago, at noon.
name() {
	echo "critical_backup_$(date -d "@$(($(date +%s) - $1 * 86400))" +%Y%m%d)_120000.tar.gz"
}

# put_many FILE_OF_KEYS: one tiny object per key, in parallel (curl -Z).
put_many() {
	echo x >body &&
	sed "s|.*|upload-file = \"$TRASH/body\"\nurl = \"$S3_ENDPOINT/bk-prune/&\"\nfail|" "$1" >curl.cfg &&
	s3_curl_sha=$(sha256sum body | cut -d" " -f1) &&
	curl -sS -Z --parallel-max 16 --aws-sigv4 aws:amz:us-east-1:s3 --user "$S3_AK:$S3_SK" \
		-H "x-amz-content-sha256: $s3_curl_sha" -K curl.cfg >/dev/null
}

# kept: what retention leaves (recent archives, foreign objects under the
# prefix, deeper keys, other prefixes); gone: the archives past 30 days.
kept_keys() {
	for k in 0 1 2 5 9; do echo "host-a/$(name $k)"; done
	echo "host-a/$(name 3).age"
	echo host-a/notes.txt
	echo "host-a/$(name 300).bak"
	echo "host-a/$(name 300).sha256"
	echo host-a/critical_backup_20201332_000000.tar.gz
	echo "host-a/old/$(name 400)"
	echo "host-a-archive/$(name 500)"
	for k in 100 101 102 103 104; do echo "other-host/$(name $k)"; done
	for k in 100 101 102 103 104; do echo "small/$(name $k)"; done
}
gone_keys() {
	for k in $(seq 100 1104); do echo "host-a/$(name $k)"; done
	echo "host-a/$(name 200).age"
}

test_expect_success 'setup: 1,012 archives under host-a/, foreign objects, other prefixes' '
	kept_keys | sort >kept &&
	gone_keys >gone &&
	cat kept gone >keys &&
	put_many keys &&
	s3_ls bk-prune | sort >before &&
	sort keys >expect &&
	test_cmp expect before &&
	grep -c "^host-a/" before >n && test "$(cat n)" -gt 1010
'

test_expect_success '--dry-run prints what would go and deletes nothing' '
	bk-prune --dry-run >dry &&
	grep -c "^remove	s3://bk-prune/host-a/[^	]*	expired\$" dry >n &&
	echo 1006 >expect && test_cmp expect n &&
	grep -c "^keep	s3://bk-prune/host-a/[^	]*	retention" dry >n &&
	echo 6 >expect && test_cmp expect n &&
	s3_ls bk-prune | sort >now &&
	test_cmp before now
'

test_expect_success 'past 30 days deleted, across every page; the rest left alone' '
	bk-prune >removed &&
	sed -n "s/^remove	\([^	]*\)	.*/\1/p" dry >planned &&
	test_cmp planned removed &&
	s3_ls bk-prune | sort >after &&
	test_cmp kept after &&
	sed "s|^|s3://bk-prune/|" gone | sort >expect &&
	sort removed >actual &&
	test_cmp expect actual &&
	grep -x "s3://bk-prune/host-a/$(name 200)" removed &&
	grep -x "s3://bk-prune/host-a/$(name 200).age" removed &&
	sed -n 1p removed >first && echo "s3://bk-prune/host-a/$(name 100)" >expect &&
	test_cmp expect first
'

test_expect_success 'all past retention: the newest BACKUP_KEEP_MIN stay' '
	BACKUP_S3_URL=s3://bk-prune/small/ bk-prune >removed &&
	printf "s3://bk-prune/small/%s\n" "$(name 103)" "$(name 104)" >expect &&
	test_cmp expect removed &&
	s3_ls bk-prune small/ >left &&
	printf "small/%s\n" "$(name 102)" "$(name 101)" "$(name 100)" | sort >expect &&
	sort left >actual &&
	test_cmp expect actual
'

test_expect_success 'the store unreachable: exit 1, naming the endpoint' '
	BACKUP_S3_ENDPOINT=http://127.0.0.1:$(test_free_port) test_expect_code 1 bk-prune 2>err &&
	grep "cannot reach S3 endpoint http://127.0.0.1:" err
'

test_done
