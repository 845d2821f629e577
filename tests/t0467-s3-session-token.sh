#!/bin/bash
# Temporary credentials (AWS_SESSION_TOKEN) against a real radosgw with its
# STS API: keys and token from GetSessionToken upload (bk-run), list and
# download (bk-fetch) and presign (bk-mail: the link carries
# X-Amz-Security-Token and downloads the identical file); the same keys
# without their token are refused (403); a malformed token is exit 2 naming
# the variable; AWS_SESSION_TOKEN_FILE works; the token is in no log line
# or output (only in the presigned link, which needs it), the secret nowhere.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-smtp.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
test_description 'S3 temporary credentials (AWS_SESSION_TOKEN)'

test_need_programs bk-export bk-pack bk-verify bk-prune bk-run bk-mail bk-fetch
command -v jq >/dev/null || test_skip_all "jq is not installed (tools/install-deps)"
"$SMTP_TEST_PYTHON" -c 'import email' 2>/dev/null ||
	test_skip_all "no $SMTP_TEST_PYTHON to parse the messages"

S3_STS=1 s3_start
s3_session_token 2>"$TRASH/sts.err" ||
	test_skip_all "radosgw gave no temporary credentials: $(tail -n 1 "$TRASH/sts.err")"
# radosgw's dbstore shows temporary credentials only the buckets they made
# (the user's keys see those too): the bucket is made with them.
[ "$(curl -sS -o "$TRASH/mkbucket.out" -w '%{http_code}' -X PUT --aws-sigv4 aws:amz:us-east-1:s3 \
	--user "$S3_TMP_AK:$S3_TMP_SK" -H "x-amz-security-token: $S3_TMP_TOKEN" \
	-H "x-amz-content-sha256: $S3_EMPTY_SHA256" "$S3_ENDPOINT/bk-sts")" = 200 ] ||
	{ echo "Bail out! cannot create bucket bk-sts: $(cat "$TRASH/mkbucket.out")"; exit 1; }
pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0
mkdir -p "$BACKUP_CONFIG_DIR"
s3_env bk-sts host-t/
export AWS_ACCESS_KEY_ID=$S3_TMP_AK AWS_SECRET_ACCESS_KEY=$S3_TMP_SK
printf '%s\n' "$S3_TMP_TOKEN" >"$TRASH/token" && chmod 600 "$TRASH/token"
export AWS_SESSION_TOKEN_FILE=$TRASH/token
export ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com
export BACKUP_MAIL_OUTBOX=$TRASH/outbox BACKUP_MAIL_ATTACH_MAX_MB=0

test_expect_success 'the temporary keys without their token are refused by the store' '
	test_expect_code 1 env -u AWS_SESSION_TOKEN_FILE bk-run --no-mail >out 2>err &&
	grep -q "ERROR bk-run\[[0-9]*\]: step upload failed .*: PUT s3://bk-sts/host-t/critical_backup_[0-9_]*\.tar\.gz: 403 " err
'

test_expect_success 'with AWS_SESSION_TOKEN_FILE bk-run uploads, byte-identical' '
	bk-run >path 2>err &&
	name=$(basename "$(cat path)") &&
	grep -q "upload: confirmed s3://bk-sts/host-t/$name: " err &&
	s3_get bk-sts "host-t/$name" got &&
	cmp "$(cat path)" got
'

name=$(basename "$(cat path)")

test_expect_success 'the mail links the object with X-Amz-Security-Token; curl downloads it' '
	mail=$(ls -t "$BACKUP_MAIL_OUTBOX"/*.eml | head -n 1) &&
	mail_link_of "$mail" >link &&
	grep -q "^$S3_ENDPOINT/bk-sts/host-t/$name?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=$S3_TMP_AK%2F.*&X-Amz-Expires=[0-9]*&X-Amz-Security-Token=[^&]*&X-Amz-SignedHeaders=host&X-Amz-Signature=[0-9a-f]\{64\}\$" link &&
	curl -sS -f -o linked "$(cat link)" &&
	cmp "$(cat path)" linked
'

test_expect_success 'the same link without its token is refused (403)' '
	sed "s/&X-Amz-Security-Token=[^&]*//" link >notoken &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$(cat notoken)")" = 403
'

test_expect_success 'bk-fetch lists and downloads with the temporary credentials' '
	bk-fetch --list >list 2>err &&
	grep -q "$name" list &&
	bk-fetch -o fetched.tar.gz --latest >fpath 2>err &&
	cmp "$(cat path)" fetched.tar.gz
'

test_expect_success 'a malformed token: exit 2 naming AWS_SESSION_TOKEN, not showing it' '
	test_expect_code 2 env -u AWS_SESSION_TOKEN_FILE "AWS_SESSION_TOKEN=abc def-sec" \
		bk-run --no-mail >out 2>err &&
	grep -q "configuration: AWS_SESSION_TOKEN: empty, longer than 8192 characters or not a session token" err &&
	! grep -q "abc def-sec" err
'

# A presigned link made with temporary credentials carries the token (as
# AWS's own do): without it the store refuses the link. Nothing else does.
test_expect_success 'the token is in no log line or output, the secret nowhere' '
	! grep -r -F -e "$S3_TMP_TOKEN" -e "$S3_TMP_SK" "$BACKUP_LOG" path err out list fpath &&
	! grep -r -F "$S3_TMP_SK" "$BACKUP_MAIL_OUTBOX"
'

test_done
