#!/bin/bash
# Download links against a real nginx running the location block of
# docs/nginx-backup-location.conf: a fresh link from the mail downloads the
# identical archive; a tampered, moved or expired one gets 403.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-smtp.sh"
. "$TEST_DIRECTORY/lib-nginx.sh"
test_description 'bk-mail download links and nginx secure_link'

"$SMTP_TEST_PYTHON" -c 'import email' 2>/dev/null ||
	test_skip_all "no $SMTP_TEST_PYTHON to parse the messages"
command -v curl >/dev/null || test_skip_all "curl not installed (tools/install-deps)"

ARCHIVE=$BACKUP_DIR/critical_backup_20261125_020000.tar.gz
OTHER=$BACKUP_DIR/critical_backup_20261124_020000.tar.gz
SECRET=$(test_random_hex 40)
mkdir -p "$BACKUP_DIR" && chmod 700 "$BACKUP_DIR"
mail_make_archive "$ARCHIVE" 2048 && mail_make_archive "$OTHER" ||
	test_skip_all "cannot make test archives"
chmod 600 "$ARCHIVE" "$OTHER"
nginx_start "$BACKUP_DIR" "$SECRET"

export ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com
export BACKUP_MAIL_OUTBOX=$TRASH/outbox BACKUP_MAIL_ATTACH_MAX_MB=1
export BACKUP_LINK_BASE=$NGINX_TEST_URL/backups/ BACKUP_LINK_SECRET=$SECRET

# The last access log line: "STATUS [$secure_link] URI".
last_access() {
	tail -n 1 "$NGINX_TEST_DIR/logs/access.log"
}

test_expect_success 'the mail of a 2 MB archive (limit 1 MB) carries a link, no attachment' '
	bk-mail --backup "$ARCHIVE" >path &&
	mail_link_of "$(cat path)" >link &&
	test "$(wc -l <link)" = 1 &&
	! grep attachment parsed/structure &&
	grep "^$NGINX_TEST_URL/backups/critical_backup_20261125_020000.tar.gz?md5=[A-Za-z0-9_-]\{22\}&expires=[0-9]*\$" link
'

test_expect_success 'a fresh link downloads the identical file' '
	echo 200 >expect &&
	http_status "$(cat link)" got >actual &&
	test_cmp expect actual &&
	cmp "$ARCHIVE" got &&
	echo "200 [1] /backups/critical_backup_20261125_020000.tar.gz" >expect &&
	last_access >actual &&
	test_cmp expect actual
'

test_expect_success 'without the signature, or with a tampered one: 403' '
	echo 403 >expect &&
	http_status "$NGINX_TEST_URL/backups/critical_backup_20261125_020000.tar.gz" >actual &&
	test_cmp expect actual &&
	l=$(cat link) &&
	md5=${l#*md5=} && md5=${md5%%&*} &&
	first=$(printf "%s" "$md5" | cut -c1) &&
	if [ "$first" = A ]; then repl=B; else repl=A; fi &&
	http_status "${l/md5=$first/md5=$repl}" >actual &&
	test_cmp expect actual &&
	echo "403 [-] /backups/critical_backup_20261125_020000.tar.gz" >expect &&
	last_access >actual &&
	test_cmp expect actual
'

test_expect_success 'a later expiry with the same signature, or another file: 403' '
	l=$(cat link) &&
	exp=${l##*expires=} &&
	echo 403 >expect &&
	http_status "${l%expires=*}expires=$((exp + 86400))" >actual &&
	test_cmp expect actual &&
	http_status "$(echo "$l" | sed s/20261125/20261124/)" >actual &&
	test_cmp expect actual &&
	http_status "$NGINX_TEST_URL/backups/.backup_history?${l#*\?}" >actual &&
	test_cmp expect actual
'

test_expect_success 'an expired link (mailed BACKUP_LINK_TTL_HOURS + 1 hours ago): 403' '
	past=$(( $(date +%s) - 73 * 3600 )) &&
	BK_MAIL_NOW=$past BACKUP_LINK_TTL_HOURS=72 bk-mail --backup "$ARCHIVE" >path &&
	old=$(mail_link_of "$(cat path)") &&
	test "${old##*expires=}" -lt "$(date +%s)" &&
	echo 403 >expect &&
	http_status "$old" >actual &&
	test_cmp expect actual &&
	echo "403 [0] /backups/critical_backup_20261125_020000.tar.gz" >expect &&
	last_access >actual &&
	test_cmp expect actual
'

test_expect_success 'a link mailed 71 hours ago still works' '
	past=$(( $(date +%s) - 71 * 3600 )) &&
	BK_MAIL_NOW=$past BACKUP_LINK_TTL_HOURS=72 bk-mail --backup "$ARCHIVE" >path &&
	echo 200 >expect &&
	http_status "$(mail_link_of "$(cat path)")" got >actual &&
	test_cmp expect actual &&
	cmp "$ARCHIVE" got
'

test_expect_success 'a link base without a trailing slash works the same' '
	BACKUP_LINK_BASE=$NGINX_TEST_URL/backups bk-mail --backup "$ARCHIVE" >path &&
	l=$(mail_link_of "$(cat path)") &&
	case $l in "$NGINX_TEST_URL/backups/critical_backup_20261125_020000.tar.gz?"*) ;; *) false ;; esac &&
	echo 200 >expect &&
	http_status "$l" got >actual &&
	test_cmp expect actual &&
	cmp "$ARCHIVE" got
'

test_expect_success 'a link signed with another secret: 403' '
	BACKUP_LINK_SECRET=$(test_random_hex 40) bk-mail --backup "$ARCHIVE" >path &&
	echo 403 >expect &&
	http_status "$(mail_link_of "$(cat path)")" >actual &&
	test_cmp expect actual
'

test_done
