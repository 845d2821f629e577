#!/bin/bash
# With S3 configured, a backup too large to attach is mailed as a presigned
# GET link to its object in the bucket (real radosgw): the link downloads the
# identical file with plain curl; an altered or expired link is refused (403);
# the expiry is BACKUP_LINK_TTL_HOURS capped at S3's 7 days.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-smtp.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
test_description 'bk-mail presigned S3 links'

"$SMTP_TEST_PYTHON" -c 'import email' 2>/dev/null ||
	test_skip_all "no $SMTP_TEST_PYTHON to parse the messages"
command -v curl >/dev/null || test_skip_all "curl not installed (tools/install-deps)"

NAME=critical_backup_20261125_020000.tar.gz
ARCHIVE=$BACKUP_DIR/$NAME
mkdir -p "$BACKUP_DIR" && chmod 700 "$BACKUP_DIR"
mail_make_archive "$ARCHIVE" 2048 || test_skip_all "cannot make a test archive"
chmod 600 "$ARCHIVE"
s3_start
s3_mkbucket bk-mail || exit 1
s3_env bk-mail host-a/
s3_curl -f -T "$ARCHIVE" "$S3_ENDPOINT/bk-mail/host-a/$NAME" || exit 1

export ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com
export BACKUP_MAIL_OUTBOX=$TRASH/outbox BACKUP_MAIL_ATTACH_MAX_MB=1
export BACKUP_S3_PATH_STYLE=1

test_expect_success 'the mail of a 2 MB archive carries a presigned link to its object' '
	bk-mail --backup "$ARCHIVE" >path &&
	mail_link_of "$(cat path)" >link &&
	test "$(wc -l <link)" = 1 &&
	! grep attachment parsed/structure &&
	grep "^$S3_ENDPOINT/bk-mail/host-a/$NAME?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=$S3_AK%2F[0-9]\{8\}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=[0-9]\{8\}T[0-9]\{6\}Z&X-Amz-Expires=259200&X-Amz-SignedHeaders=host&X-Amz-Signature=[0-9a-f]\{64\}\$" link
'

test_expect_success 'the secret key is nowhere in the mail or the log' '
	! grep -r -F "$S3_SK" "$BACKUP_MAIL_OUTBOX" "$BACKUP_LOG"
'

test_expect_success 'plain curl downloads the identical archive with the link' '
	echo 200 >expect &&
	http_status "$(cat link)" got >actual &&
	test_cmp expect actual &&
	cmp "$ARCHIVE" got
'

test_expect_success 'an altered signature, expiry or key is refused: 403' '
	echo 403 >expect &&
	l=$(cat link) &&
	sig=${l##*X-Amz-Signature=} &&
	first=$(printf %s "$sig" | cut -c1) &&
	if [ "$first" = a ]; then repl=b; else repl=a; fi &&
	http_status "${l%"$sig"}$repl${sig#?}" >actual &&
	test_cmp expect actual &&
	http_status "${l/X-Amz-Expires=259200/X-Amz-Expires=604800}" >actual &&
	test_cmp expect actual &&
	s3_curl -f -T "$ARCHIVE" "$S3_ENDPOINT/bk-mail/host-a/other.tar.gz" &&
	http_status "${l/$NAME/other.tar.gz}" >actual &&
	test_cmp expect actual
'

test_expect_success 'an expired link is refused: 403' '
	BK_MAIL_NOW=$(($(date +%s) - 7200)) BACKUP_LINK_TTL_HOURS=1 bk-mail --backup "$ARCHIVE" >path &&
	mail_link_of "$(cat path)" >old &&
	grep "X-Amz-Expires=3600&" old &&
	echo 403 >expect &&
	http_status "$(cat old)" >actual &&
	test_cmp expect actual
'

test_expect_success 'BACKUP_LINK_TTL_HOURS above 7 days is capped at 604800 s, and the link works' '
	BACKUP_LINK_TTL_HOURS=1000 bk-mail --backup "$ARCHIVE" >path &&
	mail_link_of "$(cat path)" >long &&
	grep "X-Amz-Expires=604800&" long &&
	echo 200 >expect &&
	http_status "$(cat long)" got >actual &&
	test_cmp expect actual &&
	cmp "$ARCHIVE" got
'

test_expect_success 'virtual-host style: the bucket in the host name, and the link works' '
	BACKUP_S3_PATH_STYLE=0 BACKUP_S3_ENDPOINT=http://localhost:$S3_PORT \
		bk-mail --backup "$ARCHIVE" >path &&
	mail_link_of "$(cat path)" >vhost &&
	grep "^http://bk-mail.localhost:$S3_PORT/host-a/$NAME?X-Amz-" vhost &&
	echo 200 >expect &&
	http_status "$(cat vhost)" got >actual &&
	test_cmp expect actual &&
	cmp "$ARCHIVE" got
'

test_expect_success 'encrypted: the link is to the uploaded .age object, identical' '
	command -v age-keygen >/dev/null || { echo "no age-keygen: skipped"; exit 0; }
	age-keygen -o key.txt 2>/dev/null &&
	age -r "$(age-keygen -y key.txt)" -o "$ARCHIVE.age" "$ARCHIVE" &&
	s3_curl -f -T "$ARCHIVE.age" "$S3_ENDPOINT/bk-mail/host-a/$NAME.age" &&
	BACKUP_AGE_RECIPIENTS=$(age-keygen -y key.txt) bk-mail --backup "$ARCHIVE" >path &&
	mail_link_of "$(cat path)" >agelink &&
	grep "^$S3_ENDPOINT/bk-mail/host-a/$NAME.age?X-Amz-" agelink &&
	echo 200 >expect &&
	http_status "$(cat agelink)" got >actual &&
	test_cmp expect actual &&
	cmp "$ARCHIVE.age" got
'

test_expect_success 'bk-mail --test says larger archives go as presigned links to the bucket' '
	BACKUP_LINK_BASE=https://backup.example.com/dl/ BACKUP_LINK_SECRET=0123456789abcdef0123456789abcdef \
		bk-mail --test >path &&
	mail_parse "$(cat path)" tparsed &&
	grep -x "Larger archives    presigned S3 link to s3://bk-mail/host-a/ (valid 72 h)" tparsed/text &&
	! grep -r -F "$S3_SK" "$BACKUP_MAIL_OUTBOX"
'

test_done
