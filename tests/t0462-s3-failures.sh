#!/bin/bash
# An off-site copy that fails: a wrong secret key (radosgw answers 403
# SignatureDoesNotMatch: no retry, a clear message), a wrong access key id,
# and a store that is down (3 attempts, which endpoint). Each time the backup
# mail is still sent, the alert "off-site copy failed" carries the store's
# error, the verified local backup and its success status stay, the history
# gets "upload: ...", bk-run exits 1.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-smtp.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
test_description 'failed off-site copies: alert, local backup kept'

test_need_programs bk-export bk-pack bk-verify bk-prune bk-run bk-mail
"$SMTP_TEST_PYTHON" -c 'import email' 2>/dev/null || test_skip_all "no python3 to parse mail"
s3_start
pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0
export ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com
export BACKUP_MAIL_OUTBOX=$TRASH/outbox
mkdir -p "$BACKUP_MAIL_OUTBOX" "$BACKUP_CONFIG_DIR"
s3_mkbucket fails || exit 1
s3_env fails db/
WRONG=wrong-secret-$(test_random_hex 12)

# run_failing: bk-run exits 1; the new mails are one backup mail and one alert
# (parsed into backup/ and alert/).
run_failing() {
	ls "$BACKUP_MAIL_OUTBOX" >mails.before &&
	test_expect_code 1 bk-run >path 2>err &&
	ls "$BACKUP_MAIL_OUTBOX" | comm -13 mails.before - >new &&
	test $(wc -l <new) = 2 &&
	rm -rf m1 m2 alert backup && mail_parse "$BACKUP_MAIL_OUTBOX/$(sed -n 1p new)" m1 &&
	mail_parse "$BACKUP_MAIL_OUTBOX/$(sed -n 2p new)" m2 &&
	if grep -q ALERT m1/subject; then mv m1 alert && mv m2 backup; else mv m2 alert && mv m1 backup; fi &&
	echo "[bk] ALERT: off-site copy failed; the local backup is verified and kept" >expect &&
	test_cmp expect alert/subject &&
	! grep -q ALERT backup/subject
}

# kept: the newest local archive verifies and the last two history lines are
# ok then fail "upload: $1".
kept() {
	a=$(ls -t "$BACKUP_DIR"/critical_backup_*.tar.gz | head -n 1) &&
	bk-verify "$a" >/dev/null &&
	test "$(tail -n 2 "$BACKUP_DIR/.backup_history" | cut -f2 | tr "\n" " ")" = "ok fail " &&
	tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f6 >reason &&
	grep -qF "upload: $1" reason &&
	test "$(tail -n 2 "$BACKUP_DIR/.backup_history" | head -n 1 | cut -f1)" = \
		"$(cat "$BACKUP_DIR/.last_backup_success")"
}

test_expect_success 'a wrong secret key: 403 SignatureDoesNotMatch, no retry, the alert' '
	AWS_SECRET_ACCESS_KEY=$WRONG run_failing &&
	msg="403 SignatureDoesNotMatch: check AWS_SECRET_ACCESS_KEY" &&
	grep -q "ERROR bk-run\[[0-9]*\]: step upload failed (the local backup is verified and kept): PUT s3://fails/db/critical_backup_[0-9_]*.tar.gz: $msg$" err &&
	! grep -q "attempt 1 of 3 failed" err &&
	grep -qF "$msg" alert/text &&
	kept "PUT s3://fails/db/" && grep -qF "$msg" reason &&
	test_path_is_missing "$BACKUP_DIR/.last_offsite_success"
'

test_expect_success 'the wrong secret is in no log line, mail or output' '
	! grep -rqF "$WRONG" "$BACKUP_LOG" err path "$BACKUP_MAIL_OUTBOX" "$BACKUP_DIR"
'

test_expect_success 'a wrong access key id: 403 InvalidAccessKeyId names AWS_ACCESS_KEY_ID' '
	AWS_ACCESS_KEY_ID=NOSUCHKEY run_failing &&
	grep -qF "403 InvalidAccessKeyId: check AWS_ACCESS_KEY_ID" alert/text &&
	kept "PUT s3://fails/db/"
'

test_expect_success 'no such bucket: 404 NoSuchBucket' '
	BACKUP_S3_URL=s3://no-such-bucket/db/ run_failing &&
	grep -qF "404 NoSuchBucket: check the bucket in BACKUP_S3_URL" alert/text &&
	kept "PUT s3://no-such-bucket/db/"
'

test_expect_success 'the store is down: 3 attempts, the endpoint named, the alert' '
	port=$(test_free_port) &&
	BACKUP_S3_ENDPOINT=http://127.0.0.1:$port run_failing &&
	test $(grep -c "attempt [12] of 3 failed: cannot reach S3 endpoint http://127.0.0.1:$port" err) = 2 &&
	grep -qF "cannot reach S3 endpoint http://127.0.0.1:$port" alert/text &&
	grep -qF "(attempt 3 of 3)" alert/text &&
	grep -qF "The off-site copy: BACKUP_S3_URL, BACKUP_S3_ENDPOINT" alert/text &&
	! grep -qF "Is PostgreSQL up" alert/text &&
	kept "PUT s3://fails/db/" && grep -qF "127.0.0.1:$port" reason
'

test_expect_success 'the store back: the next run uploads and records it' '
	bk-run >path 2>err &&
	s3_ls fails db/ >keys &&
	grep -qx "db/$(basename "$(cat path)")" keys &&
	test -s "$BACKUP_DIR/.last_offsite_success"
'

test_done
