#!/bin/bash
# The S3 variables: each bad value stops bk-run at start (exit 2, before any
# export) naming the variable; AWS_SECRET_ACCESS_KEY_FILE works; the secret
# key reaches no child of bk-run (environment and argv as the kernel shows
# them), no log line, no mail, no output: the upload runs in bk-run itself.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
test_description 'S3 variables and the secret key'

test_need_programs bk-export bk-pack bk-verify bk-prune bk-run bk-mail

# bad VAR=VALUE MESSAGE: bk-run exits 2 with "configuration: MESSAGE" (a
# grep -F pattern), having written nothing to BACKUP_DIR.
bad() {
	rc=0
	env "$1" bk-run --no-mail >out 2>err || rc=$?
	test $rc = 2 || { echo "exit $rc for $1"; cat err; return 1; }
	grep -qF "ERROR bk-run[" err && grep -qF "configuration: $2" err ||
		{ echo "for $1 expected: $2"; cat err; return 1; }
	test ! -s out && test_path_is_missing "$BACKUP_DIR/.backup_history"
}

export BACKUP_S3_URL=s3://bk-cfg/db/ BACKUP_S3_ENDPOINT=http://127.0.0.1:9
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=cfg-secret-$(test_random_hex 12)

test_expect_success 'BACKUP_S3_URL must be s3://BUCKET/PREFIX/' '
	bad BACKUP_S3_URL=https://bk-cfg/db/ "BACKUP_S3_URL: ${SQ}https://bk-cfg/db/${SQ} is not s3://BUCKET/PREFIX/" &&
	bad BACKUP_S3_URL=s3://UPPER/db/ "BACKUP_S3_URL: ${SQ}s3://UPPER/db/${SQ} is not" &&
	bad BACKUP_S3_URL=s3://ab "BACKUP_S3_URL: ${SQ}s3://ab${SQ} is not" &&
	bad BACKUP_S3_URL=s3://bk-cfg//x "BACKUP_S3_URL:"
'

test_expect_success 'BACKUP_S3_ENDPOINT: https, or plain http to loopback only' '
	bad BACKUP_S3_ENDPOINT=http://s3.example.com "BACKUP_S3_ENDPOINT: http://s3.example.com: plain http is allowed only to a loopback address" &&
	bad BACKUP_S3_ENDPOINT=ftp://127.0.0.1 "BACKUP_S3_ENDPOINT: ${SQ}ftp://127.0.0.1${SQ} is not https://HOST[:PORT]" &&
	bad BACKUP_S3_ENDPOINT=https://host/path "BACKUP_S3_ENDPOINT: ${SQ}https://host/path${SQ} is not" &&
	bad BACKUP_S3_ENDPOINT=https://host:port "BACKUP_S3_ENDPOINT: ${SQ}https://host:port${SQ} is not"
'

test_expect_success 'BACKUP_S3_REGION, BACKUP_S3_PATH_STYLE, BACKUP_S3_CA_FILE' '
	bad "BACKUP_S3_REGION=us east" "BACKUP_S3_REGION: ${SQ}us east${SQ} is not a region name" &&
	bad BACKUP_S3_PATH_STYLE=maybe "BACKUP_S3_PATH_STYLE: ${SQ}maybe${SQ} is not 0 or 1" &&
	bad BACKUP_S3_PATH_STYLE=0 "BACKUP_S3_PATH_STYLE: 0 needs a host name in BACKUP_S3_ENDPOINT" &&
	bad BACKUP_S3_CA_FILE=$TRASH/none.pem "BACKUP_S3_CA_FILE: cannot read $TRASH/none.pem: No such file or directory"
'

test_expect_success 'a bucket with dots over https: virtual-host style refused, with the fix' '
	BACKUP_S3_URL=s3://bk.cfg.example/db/ BACKUP_S3_ENDPOINT=https://s3.example.com \
		bad BACKUP_S3_PATH_STYLE=0 "BACKUP_S3_PATH_STYLE: 0 with the bucket bk.cfg.example: a name with dots in front of the host does not match the store${SQ}s TLS certificate" &&
	grep -q "hint: set BACKUP_S3_PATH_STYLE=1 (or leave it unset)" err
'

test_expect_success 'BACKUP_S3_RETENTION_DAYS and BACKUP_S3_PART_SIZE_MB are numbers in range' '
	bad BACKUP_S3_RETENTION_DAYS=-1 "BACKUP_S3_RETENTION_DAYS: -1 is out of range (1..36500)" &&
	bad BACKUP_S3_RETENTION_DAYS=soon "BACKUP_S3_RETENTION_DAYS: ${SQ}soon${SQ} is not a whole number" &&
	bad BACKUP_S3_PART_SIZE_MB=1 "BACKUP_S3_PART_SIZE_MB: 1 is out of range (5..5120)"
'

test_expect_success 'both keys are needed; the secret is never shown' '
	bad AWS_ACCESS_KEY_ID= "AWS_ACCESS_KEY_ID: not set (BACKUP_S3_URL needs a key)" &&
	bad AWS_SECRET_ACCESS_KEY= "AWS_SECRET_ACCESS_KEY: not set (BACKUP_S3_URL needs a key)" &&
	bad "AWS_SECRET_ACCESS_KEY=has space" "AWS_SECRET_ACCESS_KEY: contains a space" &&
	! grep -q "has space" err &&
	bad AWS_ACCESS_KEY_ID=no/slash "AWS_ACCESS_KEY_ID: not an access key id"
'

test_expect_success 'AWS_SECRET_ACCESS_KEY and its _FILE both set, differently: refused' '
	echo other >other.key &&
	bad AWS_SECRET_ACCESS_KEY_FILE=$TRASH/other.key "AWS_SECRET_ACCESS_KEY and AWS_SECRET_ACCESS_KEY_FILE are both set; use one"
'

s3_start
pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0
mkdir -p "$BACKUP_CONFIG_DIR" "$TRASH/outbox"
s3_mkbucket bk-cfg || exit 1
s3_env bk-cfg db/

# bk-run starts the tools beside its own executable: shims there record their
# environment and argv as the kernel shows them, then run the tool.
mkdir -p "$TRASH/fake"
cp "$BK_BUILD_DIR/bin/bk-run" "$TRASH/fake/"
for p in bk-export bk-pack bk-verify bk-mail bk-prune; do
	cat >"$TRASH/fake/$p" <<-EOF
	#!/bin/sh
	tr '\0' '\n' </proc/\$\$/environ >"$TRASH/env.$p"
	tr '\0' '\n' </proc/\$\$/cmdline >"$TRASH/argv.$p"
	exec "$BK_BUILD_DIR/bin/$p" "\$@"
	EOF
	chmod +x "$TRASH/fake/$p"
done

test_expect_success 'a bucket with dots over https goes path style when BACKUP_S3_PATH_STYLE is unset' '
	env -u BACKUP_S3_PATH_STYLE BACKUP_S3_URL=s3://bk.cfg.example/db/ \
		BACKUP_S3_ENDPOINT=https://s3.example.com bk-run --dry-run --no-mail >out 2>err || { cat err; false; } &&
	grep -q "dry run: would upload [^ ]* to s3://bk.cfg.example/db/[^ ]* at https://s3.example.com (path style," err &&
	env -u BACKUP_S3_PATH_STYLE BACKUP_S3_URL=s3://bk-cfg-example/db/ \
		BACKUP_S3_ENDPOINT=https://s3.example.com bk-run --dry-run --no-mail >out 2>err || { cat err; false; } &&
	grep -q "dry run: would upload [^ ]* to s3://bk-cfg-example/db/[^ ]* at https://s3.example.com (virtual-host style," err
'

test_expect_success 'a run with AWS_SECRET_ACCESS_KEY_FILE uploads (mail to an outbox)' '
	(umask 077 && printf "%s\n" "$S3_SK" >secret.key) &&
	AWS_SECRET_ACCESS_KEY= AWS_SECRET_ACCESS_KEY_FILE=$TRASH/secret.key \
	ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com \
	BACKUP_MAIL_OUTBOX=$TRASH/outbox fake/bk-run >path 2>err &&
	s3_ls bk-cfg db/ >keys &&
	echo "db/$(basename "$(cat path)")" >expect && test_cmp expect keys &&
	for p in bk-export bk-pack bk-verify bk-mail bk-prune; do
		test -s env.$p || return 1
	done
'

test_expect_success 'only bk-mail (presigned links) and bk-prune (the bucket) get the secret key' '
	for p in bk-export bk-pack bk-verify; do
		! grep -q "^AWS_SECRET_ACCESS_KEY" env.$p &&
		! grep -qF "$S3_SK" env.$p argv.$p || { echo "in $p"; grep AWS env.$p; return 1; }
	done &&
	for p in bk-mail bk-prune; do
		grep -q "^AWS_SECRET_ACCESS_KEY" env.$p &&
		! grep -qF "$S3_SK" argv.$p || { echo "in $p"; return 1; }
	done
'

test_expect_success 'the secret key is in no log line, mail, status file or output' '
	! grep -rqF "$S3_SK" "$BACKUP_LOG" err path "$TRASH/outbox" "$BACKUP_DIR"
'

test_done
