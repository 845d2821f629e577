#!/bin/bash
# The S3 client itself (lib/deliver/s3*.c through tests/tools/s3-tool) against
# the real store, cross-checked with an independent client (curl --aws-sigv4):
# what curl uploaded downloads byte-identical, HEAD of a missing key is "no
# such object" not an error, ListObjectsV2 follows continuation tokens past
# 1,000 keys and stays under its prefix, DELETE removes, and the store refuses
# a body that does not match its x-amz-content-sha256.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
test_description 'the S3 client against radosgw'

TOOL=$BK_BUILD_DIR/tests/tools/bin/s3-tool
[ -x "$TOOL" ] || test_skip_all "tests/tools/bin/s3-tool is not built (make units)"
s3_start
s3_mkbucket cli || exit 1
s3_env cli p/

test_expect_success 'what curl uploaded, the client downloads byte-identical' '
	head -c 200000 /dev/urandom >f &&
	s3_curl -f -T f "$S3_ENDPOINT/cli/p/from-curl" &&
	"$TOOL" get p/from-curl got &&
	cmp f got
'

test_expect_success 'what the client uploaded, curl downloads byte-identical; HEAD agrees' '
	"$TOOL" put p/from-bk f &&
	s3_get cli p/from-bk got2 && cmp f got2 &&
	"$TOOL" head p/from-bk >head &&
	echo "200000 $(sha256sum f | cut -d" " -f1)" >expect && test_cmp expect head
'

test_expect_success 'HEAD of a missing key: "none", exit 3' '
	test_expect_code 3 "$TOOL" head p/missing >out &&
	echo none >expect && test_cmp expect out
'

test_expect_success 'GET of a missing key: 404 NoSuchKey, nothing written' '
	test_expect_code 1 "$TOOL" get p/missing got3 2>err &&
	grep -q "GET s3://cli/p/missing: 404 NoSuchKey" err &&
	test ! -s got3
'

test_expect_success 'ListObjectsV2 past 1,000 keys: every key, once, in order' '
	echo x >small &&
	"$TOOL" put-many p/many/ 1105 small &&
	"$TOOL" put q/foreign small &&
	"$TOOL" list p/many/ >list &&
	test $(wc -l <list) = 1105 &&
	cut -d" " -f1 list >keys && sort -u keys >sorted && test_cmp sorted keys &&
	! grep -v "^p/many/[0-9]\{5\} 2$" list &&
	s3_ls cli p/many/ >curl-keys && test_cmp curl-keys keys
'

test_expect_success 'the listing of the prefix leaves other prefixes out' '
	"$TOOL" list p/ >all && ! grep -q "^q/" all && grep -q "^p/from-bk 200000$" all
'

test_expect_success 'DELETE removes the object; deleting it again is no error' '
	"$TOOL" delete p/from-bk && "$TOOL" delete p/from-bk &&
	test_expect_code 3 "$TOOL" head p/from-bk >/dev/null
'

test_expect_success 'virtual-host style (BUCKET.localhost): put, head, list, get' '
	BACKUP_S3_ENDPOINT=http://localhost:$S3_PORT BACKUP_S3_PATH_STYLE=0 \
		"$TOOL" put p/vhost f 2>err &&
	BACKUP_S3_ENDPOINT=http://localhost:$S3_PORT BACKUP_S3_PATH_STYLE=0 \
		"$TOOL" list p/vhost >list &&
	echo "p/vhost 200000" >expect && test_cmp expect list &&
	BACKUP_S3_ENDPOINT=http://localhost:$S3_PORT BACKUP_S3_PATH_STYLE=0 \
		"$TOOL" get p/vhost got4 && cmp f got4 &&
	s3_get cli p/vhost got5 && cmp f got5 &&
	podman logs "$S3_NAME" 2>&1 | grep -c "\"PUT /p/vhost HTTP/1.1\" 200" >puts &&
	echo 1 >expect && test_cmp expect puts
'

test_expect_success 'the store checks x-amz-content-sha256: a wrong digest is refused' '
	code=$(curl -sS -o resp -w "%{http_code}" --aws-sigv4 aws:amz:us-east-1:s3 \
		--user "$S3_AK:$S3_SK" -H "x-amz-content-sha256: $S3_EMPTY_SHA256" \
		-T f "$S3_ENDPOINT/cli/p/tampered") &&
	test "$code" = 400 && grep -q XAmzContentSHA256Mismatch resp
'

test_done
