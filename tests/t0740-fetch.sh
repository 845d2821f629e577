#!/bin/bash
# bk-fetch against a real radosgw: it lists what a prefix holds, downloads an
# archive another client (curl --aws-sigv4) uploaded, byte-identical, 0600,
# verified before it gets its final name; a damaged object, or one signed by
# another key, is refused and leaves nothing under the final name; errors
# name what is wrong (no archive, no such archive, 403) with the exit codes.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-s3.sh"
test_description 'bk-fetch: list, download, verify'

test_need_programs bk-export bk-pack bk-fetch
command -v minisign >/dev/null ||
	test_skip_all "minisign is not installed (tools/install-deps installs it)"

test_expect_success '--help: stdout only, exit 0, no line over 80 columns' '
	bk-fetch --help >out 2>err &&
	test ! -s err &&
	grep "^usage: bk-fetch" out &&
	! awk "length > 80" out | grep .
'

test_expect_success 'usage errors exit 2 with the --help hint' '
	for args in "" "--latest NAME" "--list NAME" "--all" "--list -o x" "a/b" "a b"; do
		test_expect_code 2 bk-fetch $args 2>err &&
		grep "Try .bk-fetch --help." err || return 1
	done
'

test_expect_success 'without BACKUP_S3_URL: exit 2, naming it' '
	test_expect_code 2 env -u BACKUP_S3_URL bk-fetch --latest 2>err &&
	grep "BACKUP_S3_URL is not set" err
'

pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0 BACKUP_CONFIG_DIR=$TRASH/config
mkdir -p "$BACKUP_CONFIG_DIR" && echo "NODE_ENV=production" >"$BACKUP_CONFIG_DIR/.env.production"
minisign -G -W -p "$TRASH/bk.pub" -s "$TRASH/bk.key" >/dev/null &&
minisign -G -W -p "$TRASH/other.pub" -s "$TRASH/other.key" >/dev/null || exit 1
export BACKUP_VERIFY_KEY_FILE=$TRASH/bk.pub
OLD=critical_backup_20261120_020000.tar.gz
GOOD=critical_backup_20261125_020000.tar.gz
OTHER_KEY=critical_backup_20261126_020000.tar.gz
DAMAGED=critical_backup_20261127_020000.tar.gz
dir=$(bk-export 2>/dev/null) &&
BACKUP_SIGNING_KEY_FILE=$TRASH/bk.key bk-pack -o "$TRASH/$GOOD" "$dir" >/dev/null 2>&1 &&
BACKUP_SIGNING_KEY_FILE=$TRASH/other.key BACKUP_VERIFY_KEY_FILE= bk-pack -o "$TRASH/$OTHER_KEY" "$dir" >/dev/null 2>&1 ||
	exit 1
cp "$TRASH/$GOOD" "$TRASH/$OLD"
# One byte changed in the middle of the gzip stream.
cp "$TRASH/$GOOD" "$TRASH/$DAMAGED" &&
size=$(stat -c %s "$TRASH/$DAMAGED") &&
test_flip_byte "$TRASH/$DAMAGED" $((size / 2)) || exit 1

s3_start
s3_mkbucket bk-fetch || exit 1
s3_env bk-fetch host-a/
export BACKUP_S3_PATH_STYLE=1
put() {
	s3_curl -f -T "$1" "$S3_ENDPOINT/bk-fetch/$2"
}

test_expect_success 'an empty prefix: exit 1, "no archive under", naming it' '
	put "$TRASH/$GOOD" host-b/$GOOD &&
	put "$TRASH/$GOOD" host-a/notes.txt &&
	test_expect_code 1 bk-fetch --latest >out 2>err &&
	test ! -s out &&
	grep "no archive under s3://bk-fetch/host-a/ (1 other objects there)" err
'

test_expect_success 'an archive uploaded by curl: --latest downloads it, identical, 0600' '
	put "$TRASH/$OLD" host-a/$OLD &&
	put "$TRASH/$GOOD" host-a/$GOOD &&
	bk-fetch --latest >out &&
	echo "$BACKUP_DIR/$GOOD" >expect &&
	test_cmp expect out &&
	cmp "$TRASH/$GOOD" "$BACKUP_DIR/$GOOD" &&
	test "$(stat -c %a "$BACKUP_DIR/$GOOD")" = 600 &&
	test "$(stat -c %a "$BACKUP_DIR")" = 700
'

test_expect_success 'the default name is never replaced; -o FILE is' '
	test_expect_code 1 bk-fetch --latest >out 2>err &&
	grep "$BACKUP_DIR/$GOOD exists: not replaced" err &&
	echo old >"$TRASH/mine.tar.gz" &&
	bk-fetch -o "$TRASH/mine.tar.gz" $OLD >out &&
	echo "$TRASH/mine.tar.gz" >expect &&
	test_cmp expect out &&
	cmp "$TRASH/$OLD" "$TRASH/mine.tar.gz"
'

test_expect_success '-o DIR puts the archive under its own name in DIR' '
	mkdir -p "$TRASH/into" &&
	bk-fetch -o "$TRASH/into" $OLD >out &&
	echo "$TRASH/into/$OLD" >expect &&
	test_cmp expect out &&
	cmp "$TRASH/$OLD" "$TRASH/into/$OLD"
'

test_expect_success 'a damaged object is refused: exit 1, nothing under the final name, no temp file' '
	put "$TRASH/$DAMAGED" host-a/$DAMAGED &&
	test_expect_code 1 bk-fetch --latest -o "$TRASH/final.tar.gz" >out 2>err &&
	test ! -s out &&
	grep "s3://bk-fetch/host-a/$DAMAGED does not verify: " err &&
	test_path_is_missing "$TRASH/final.tar.gz" &&
	! ls -A "$TRASH" | grep "tmp\." &&
	test_expect_code 1 bk-fetch $DAMAGED 2>err &&
	test_path_is_missing "$BACKUP_DIR/$DAMAGED" &&
	! ls -A "$BACKUP_DIR" | grep "tmp\."
'

test_expect_success 'an archive signed by another key is refused' '
	put "$TRASH/$OTHER_KEY" host-a/$OTHER_KEY &&
	test_expect_code 1 bk-fetch $OTHER_KEY 2>err &&
	grep "does not verify: bad signature" err &&
	test_path_is_missing "$BACKUP_DIR/$OTHER_KEY" &&
	bk-fetch --verify-key "$TRASH/other.pub" -o "$TRASH/other.tar.gz" $OTHER_KEY
'

test_expect_success 'no such archive: exit 1, naming it and the newest there' '
	test_expect_code 1 bk-fetch critical_backup_20200101_000000.tar.gz 2>err &&
	grep "no archive critical_backup_20200101_000000.tar.gz under s3://bk-fetch/host-a/" err &&
	grep "hint: the newest there is $DAMAGED" err
'

test_expect_success '--list: the archives of this prefix, newest first; --all: every prefix' '
	bk-fetch --list >out &&
	awk "{ print \$1, \$2 }" out >actual &&
	{
		echo "$DAMAGED $(stat -c %s "$TRASH/$DAMAGED")" &&
		echo "$OTHER_KEY $(stat -c %s "$TRASH/$OTHER_KEY")" &&
		echo "$GOOD $(stat -c %s "$TRASH/$GOOD")" &&
		echo "$OLD $(stat -c %s "$TRASH/$OLD")"
	} >expect &&
	test_cmp expect actual &&
	awk "{ print \$3 }" out | grep -c "^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-9:]*Z\$" >n &&
	echo 4 >expect && test_cmp expect n &&
	bk-fetch --list --all >out &&
	awk "{ print \$1 }" out >actual &&
	printf "%s\n" host-a/$DAMAGED host-a/$OTHER_KEY host-a/$GOOD host-a/$OLD host-b/$GOOD >expect &&
	test_cmp expect actual
'

test_expect_success 'a wrong secret: exit 1, the 403 named, the secret nowhere' '
	AWS_SECRET_ACCESS_KEY=wrong-secret-0123456789 test_expect_code 1 bk-fetch --list >out 2>err &&
	test ! -s out &&
	grep "403 SignatureDoesNotMatch" err &&
	! grep -e wrong-secret -e "$S3_SK" err "$BACKUP_LOG"
'

s3_proxy_start
test_expect_success 'a GET that fails once is retried; one that always fails leaves nothing' '
	export BACKUP_S3_ENDPOINT=$S3_PROXY_ENDPOINT &&
	echo "GET /bk-fetch/host-a/$GOOD 1 500" >"$S3_PROXY_RULES" && : >"$S3_PROXY_LOG" &&
	bk-fetch -o "$TRASH/retried.tar.gz" $GOOD >out &&
	cmp "$TRASH/$GOOD" "$TRASH/retried.tar.gz" &&
	grep -c "^GET /bk-fetch/host-a/$GOOD" "$S3_PROXY_LOG" >n &&
	echo 2 >expect && test_cmp expect n &&
	echo "GET /bk-fetch/host-a/$GOOD -1 drop" >"$S3_PROXY_RULES" &&
	test_expect_code 1 bk-fetch -o "$TRASH/never.tar.gz" $GOOD >out 2>err &&
	test ! -s out &&
	grep "cannot reach S3 endpoint $S3_PROXY_ENDPOINT" err &&
	test_path_is_missing "$TRASH/never.tar.gz" &&
	! ls -A "$TRASH" | grep "never.tar.gz.tmp"
'

test_expect_success 'a .age object is read with the identity: without it, refused' '
	command -v age-keygen >/dev/null || { echo "no age-keygen: skipped"; exit 0; }
	age-keygen -o "$TRASH/key.txt" 2>/dev/null &&
	age -r "$(age-keygen -y "$TRASH/key.txt")" -o "$TRASH/$GOOD.age" "$TRASH/$GOOD" &&
	put "$TRASH/$GOOD.age" host-c/$GOOD.age &&
	BACKUP_S3_URL=s3://bk-fetch/host-c/ test_expect_code 1 bk-fetch -o "$TRASH/c" --latest 2>err &&
	test_path_is_missing "$TRASH/c" &&
	BACKUP_S3_URL=s3://bk-fetch/host-c/ bk-fetch -i "$TRASH/key.txt" -o "$TRASH/c" $GOOD >out &&
	echo "$TRASH/c" >expect && test_cmp expect out &&
	cmp "$TRASH/$GOOD.age" "$TRASH/c"
'

test_done
