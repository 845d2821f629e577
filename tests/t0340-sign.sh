#!/bin/bash
# Signed archives with the real minisign: bk-pack signs MANIFEST as member
# MANIFEST.minisig, minisign -V accepts it, bk-verify and bk-unpack check it
# against the verify key; tampered archives (re-signed with another key,
# signature swapped, member added or removed, signature removed) are refused
# with the target database unchanged; unsigned archives restore only with
# --unsigned; bad keys are exit 2 naming the variable; the mail shows the key.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-smtp.sh"
test_description 'signing: bk-pack signs, bk-verify and bk-unpack check'

test_need_programs bk-export bk-pack bk-verify bk-unpack bk-mail bk-run
command -v minisign >/dev/null ||
	test_skip_all "minisign is not installed (tools/install-deps installs it)"
pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0 BACKUP_CONFIG_DIR=$TRASH/config

# key_id PUB: the key ID minisign wrote in the .pub file's comment.
key_id() {
	sed -n "1s/.*key //p" "$1"
}

# repack OUT DIR MEMBER...: a .tar.gz of DIR's files in that order (python's
# tarfile, not bk: a tampered archive is someone else's work).
repack() {
	python3 - "$@" <<-\EOF
	import os, sys, tarfile
	out, d = sys.argv[1], sys.argv[2]
	with tarfile.open(out, "w:gz", format=tarfile.PAX_FORMAT) as t:
	    for name in sys.argv[3:]:
	        t.add(os.path.join(d, name), arcname=name, recursive=False)
	EOF
}

# members ARCHIVE: its member names in order.
members() {
	tar -tzf "$1"
}

# fix_line DIR FILE: FILE's MANIFEST line made true again (sha256 and bytes).
fix_line() {
	local sha bytes
	sha=$(sha256sum <"$1/$2" | cut -c1-64) && bytes=$(stat -c %s "$1/$2") &&
	sed -i -E "s|^[0-9a-f]{64} [0-9]+ (-?[0-9-]+) $2\$|$sha $bytes \\1 $2|" "$1/MANIFEST"
}

# dump DB: the whole database as pg_dump prints it, and the roles.
dump() {
	PGPASSWORD=$POSTGRES_PASSWORD "$PG_BINDIR/pg_dump" -h "$POSTGRES_HOST" \
		-p "$POSTGRES_PORT" -U "$POSTGRES_USER" "$1" |
		grep -v -e "^\\\\restrict " -e "^\\\\unrestrict " &&
	pg_psql -d postgres -At -c "SELECT rolname FROM pg_roles ORDER BY 1"
}

# untouched: the target database and the roles as before; nothing ran.
untouched() {
	dump target >after &&
	test_cmp before after &&
	test_path_is_missing "$TRASH/pwned"
}

# refused_restore ARCHIVE MESSAGE [OPTION...]: bk-unpack --restore exits 1,
# its error line is MESSAGE, the target is untouched.
refused_restore() {
	local a=$1 msg=$2
	shift 2
	POSTGRES_DB=target test_expect_code 1 bk-unpack --restore "$@" "$a" >stdout 2>err &&
	test ! -s stdout &&
	sed -n "s/^[^ ]* ERROR bk-unpack\[[0-9]*\]: //p" err | head -n 1 >actual &&
	echo "$msg" >expect &&
	test_cmp expect actual &&
	untouched
}

# not_intact ARCHIVE REASON [KEY]: bk-verify with KEY (k.pub) exits 1 with REASON.
not_intact() {
	test_expect_code 1 bk-verify --verify-key "${3:-k.pub}" "$1" >stdout 2>err &&
	test ! -s stdout &&
	sed -n "s/^[^ ]* ERROR bk-verify\[[0-9]*\]: //p" err >actual &&
	echo "$2" >expect &&
	test_cmp expect actual
}

test_expect_success 'setup: keys, an export, signed and unsigned archives' '
	minisign -G -W -p k.pub -s k.key >/dev/null &&
	minisign -G -W -p other.pub -s other.key >/dev/null &&
	ID=$(key_id k.pub) && OTHER=$(key_id other.pub) &&
	echo "$ID" >id && echo "$OTHER" >other-id &&
	mkdir -p config &&
	echo "POSTGRES_PASSWORD=app-secret" >config/.env.production &&
	bk-export -o "$TRASH/export" >export.out 2>export.err &&
	BACKUP_SIGNING_KEY_FILE=$TRASH/k.key bk-pack -o signed.tar.gz export >out 2>pack.err &&
	BACKUP_SIGNING_KEY_FILE=$TRASH/k.key bk-pack -o signed2.tar.gz export >out 2>err &&
	bk-pack -o unsigned.tar.gz export >out 2>unsigned.err &&
	pg_psql -d postgres -c "CREATE DATABASE target" &&
	dump target >before
'
ID=$(cat id) OTHER=$(cat other-id)

test_expect_success 'bk-pack writes MANIFEST.minisig as the second member and logs the key ID' '
	members signed.tar.gz | head -n 3 >actual &&
	printf "%s\n" MANIFEST MANIFEST.minisig BACKUP_INFO.txt >expect &&
	test_cmp expect actual &&
	grep -q "INFO bk-pack\[[0-9]*\]: MANIFEST signed by key ID $ID$" pack.err &&
	grep -q "INFO bk-pack\[[0-9]*\]: MANIFEST not signed: BACKUP_SIGNING_KEY is not set$" unsigned.err &&
	! members unsigned.tar.gz | grep -q minisig
'

test_expect_success 'MANIFEST does not list its own signature' '
	tar -xzOf signed.tar.gz MANIFEST >MANIFEST.signed &&
	! grep -q "MANIFEST.minisig" MANIFEST.signed
'

test_expect_success 'minisign -Vm MANIFEST -p k.pub accepts the extracted MANIFEST' '
	mkdir x && tar -C x -xzf signed.tar.gz &&
	(cd x && minisign -Vm MANIFEST -p ../k.pub) >out &&
	sed "s/timestamp:[0-9]*/timestamp:T/" out >actual &&
	printf "%s\n" "Signature and comment signature verified" \
		"Trusted comment: timestamp:T	file:signed.tar.gz" >expect &&
	test_cmp expect actual &&
	test_must_fail minisign -Vm x/MANIFEST -x x/MANIFEST.minisig -p other.pub 2>/dev/null
'

# summary_tail OUT: what bk-verify says after the sizes.
summary_tail() {
	sed -E "s/^OK ([^:]*): .* unpacked\), /OK \\1: ..., /" "$1"
}

test_expect_success 'bk-verify with the right key: OK, signed by key ID' '
	bk-verify --verify-key k.pub signed.tar.gz >out 2>err &&
	summary_tail out >actual &&
	echo "OK signed.tar.gz: ..., signed by key ID $ID" >expect &&
	test_cmp expect actual &&
	BACKUP_VERIFY_KEY="$(cat k.pub)" bk-verify signed.tar.gz >out 2>err &&
	summary_tail out >actual && test_cmp expect actual &&
	BACKUP_VERIFY_KEY_FILE=$TRASH/k.pub bk-verify signed.tar.gz >out 2>err &&
	summary_tail out >actual && test_cmp expect actual &&
	BACKUP_VERIFY_KEY="$(tail -n 1 k.pub)" bk-verify signed.tar.gz >out 2>err &&
	summary_tail out >actual && test_cmp expect actual &&
	grep -q "signed.tar.gz is signed by key ID $ID (verify key from BACKUP_VERIFY_KEY): timestamp:[0-9]* file:signed.tar.gz$" err
'

test_expect_success 'bk-verify without a key reports the key ID, not checked, exit 0' '
	bk-verify signed.tar.gz >out 2>err &&
	summary_tail out >actual &&
	echo "OK signed.tar.gz: ..., signed by key ID $ID (not checked: no verify key)" >expect &&
	test_cmp expect actual &&
	bk-verify unsigned.tar.gz >out 2>err &&
	summary_tail out >actual &&
	echo "OK unsigned.tar.gz: ..., unsigned" >expect &&
	test_cmp expect actual
'

test_expect_success 'bk-verify with another key: exit 1, bad signature, made by key X' '
	not_intact signed.tar.gz "bad signature: made by key $ID, not by the verify key $OTHER (from other.pub)" other.pub
'

test_expect_success 'bk-verify: an unsigned archive with a verify key configured is exit 1' '
	not_intact unsigned.tar.gz "unsigned: the archive has no MANIFEST.minisig, and a verify key is configured (k.pub)"
'

test_expect_success 'bk-verify --json: the signature' '
	bk-verify --json --verify-key k.pub signed.tar.gz >out 2>err &&
	python3 -c "import json, sys; s = json.load(open(sys.argv[1]))[\"signature\"]; print(s[\"status\"], s[\"key_id\"], s[\"checked\"], s[\"trusted_comment\"].split()[1])" out >actual &&
	echo "signed $ID True file:signed.tar.gz" >expect &&
	test_cmp expect actual &&
	test_expect_code 1 bk-verify --json --verify-key other.pub signed.tar.gz >out 2>err &&
	python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print(d[\"ok\"], d[\"signature\"][\"status\"], d[\"signature\"][\"key_id\"])" out >actual &&
	echo "False bad signature $ID" >expect &&
	test_cmp expect actual &&
	bk-verify --json unsigned.tar.gz >out 2>err &&
	python3 -c "import json, sys; s = json.load(open(sys.argv[1]))[\"signature\"]; print(s[\"status\"], s[\"key_id\"], s[\"checked\"])" out >actual &&
	echo "unsigned None False" >expect &&
	test_cmp expect actual
'

test_expect_success 'setup: tampered archives' '
	mkdir t && tar -C t -xzf signed.tar.gz &&
	ls t >/dev/null &&
	order=$(members signed.tar.gz | tr "\n" " ") &&
	echo "$order" >order &&
	# re-signed: hostile SQL in schema.sql, its line fixed, MANIFEST signed by another key
	cp -a t resigned &&
	printf "%s\n" "CREATE ROLE intruder LOGIN SUPERUSER PASSWORD ${SQ}x${SQ};" \
		"COPY (SELECT 1) TO PROGRAM ${SQ}touch $TRASH/pwned${SQ};" >>resigned/schema.sql &&
	fix_line resigned schema.sql &&
	minisign -S -s other.key -m resigned/MANIFEST -x resigned/MANIFEST.minisig >/dev/null &&
	repack resigned.tar.gz resigned $order &&
	# swapped: the signature of another archive (same key, other MANIFEST)
	cp -a t swapped && tar -C swapped -xzf signed2.tar.gz MANIFEST.minisig &&
	repack swapped.tar.gz swapped $order &&
	# a member added at the end, a member removed, the signature removed
	cp -a t added && printf "SELECT 1;\n" >added/evil.sql &&
	repack added.tar.gz added $order evil.sql &&
	repack removed.tar.gz t $(echo $order | tr " " "\n" | grep -vx users.sql) &&
	repack nosig.tar.gz t $(echo $order | tr " " "\n" | grep -vx MANIFEST.minisig) &&
	# the signature moved after BACKUP_INFO.txt
	repack moved.tar.gz t MANIFEST BACKUP_INFO.txt MANIFEST.minisig \
		$(echo $order | tr " " "\n" | grep -vx -e MANIFEST -e MANIFEST.minisig -e BACKUP_INFO.txt)
'

test_expect_success 'without a key, the re-signed archive agrees with itself (what signing is for)' '
	bk-verify resigned.tar.gz >out 2>err &&
	summary_tail out >actual &&
	echo "OK resigned.tar.gz: ..., signed by key ID $OTHER (not checked: no verify key)" >expect &&
	test_cmp expect actual
'

test_expect_success 'tampered: MANIFEST re-signed with another key' '
	not_intact resigned.tar.gz "bad signature: made by key $OTHER, not by the verify key $ID (from k.pub)" &&
	refused_restore resigned.tar.gz "resigned.tar.gz is not intact: bad signature: made by key $OTHER, not by the verify key $ID (from k.pub)" --verify-key k.pub &&
	refused_restore resigned.tar.gz "the archive is signed by key ID $OTHER, and no verify key is configured to check that signature: refusing to restore" &&
	refused_restore resigned.tar.gz "the archive is signed by key ID $OTHER, and no verify key is configured to check that signature: refusing to restore" --unsigned
'

test_expect_success 'tampered: MANIFEST.minisig swapped from another archive' '
	not_intact swapped.tar.gz "bad signature: the data does not match (verify key from k.pub)" &&
	refused_restore swapped.tar.gz "swapped.tar.gz is not intact: bad signature: the data does not match (verify key from k.pub)" --verify-key k.pub &&
	refused_restore swapped.tar.gz "the archive is signed by key ID $ID, and no verify key is configured to check that signature: refusing to restore"
'

test_expect_success 'tampered: a member added' '
	not_intact added.tar.gz "member evil.sql is not listed in MANIFEST" &&
	refused_restore added.tar.gz "added.tar.gz is not intact: member evil.sql is not listed in MANIFEST" --verify-key k.pub
'

test_expect_success 'tampered: a member removed' '
	not_intact removed.tar.gz "MANIFEST lists users.sql but the archive has no such member" &&
	refused_restore removed.tar.gz "removed.tar.gz is not intact: MANIFEST lists users.sql but the archive has no such member" --verify-key k.pub
'

test_expect_success 'tampered: the signature member removed' '
	not_intact nosig.tar.gz "unsigned: the archive has no MANIFEST.minisig, and a verify key is configured (k.pub)" &&
	refused_restore nosig.tar.gz "nosig.tar.gz is not intact: unsigned: the archive has no MANIFEST.minisig, and a verify key is configured (k.pub)" --verify-key k.pub &&
	BACKUP_VERIFY_KEY_FILE=$TRASH/k.pub refused_restore nosig.tar.gz "nosig.tar.gz is not intact: unsigned: the archive has no MANIFEST.minisig, and a verify key is configured (BACKUP_VERIFY_KEY)" --unsigned
'

test_expect_success 'tampered: the signature anywhere but second is a member MANIFEST does not list' '
	not_intact moved.tar.gz "unsigned: the archive has no MANIFEST.minisig, and a verify key is configured (k.pub)" &&
	test_expect_code 1 bk-verify moved.tar.gz >out 2>err &&
	grep -q "ERROR bk-verify\[[0-9]*\]: member MANIFEST.minisig: a signature must be the second member, right after MANIFEST$" err
'

test_expect_success 'a signed archive with no verify key: --restore refuses, naming the key ID and BACKUP_VERIFY_KEY' '
	refused_restore signed.tar.gz "the archive is signed by key ID $ID, and no verify key is configured to check that signature: refusing to restore" &&
	grep -q "ERROR bk-unpack\[[0-9]*\]: hint: set BACKUP_VERIFY_KEY or --verify-key FILE to the public key of key ID $ID, as you keep it off the backup host$" err
'

test_expect_success 'an unsigned archive: --restore refuses without --unsigned' '
	refused_restore unsigned.tar.gz "the archive is unsigned: nothing proves who made it, and a restore runs its schema files: refusing to restore" &&
	grep -q "hint: restore it with --unsigned only if you know where it comes from; sign the backups with BACKUP_SIGNING_KEY" err
'

test_expect_success '--dry-run says what --restore would say' '
	test_expect_code 1 bk-unpack --dry-run --restore signed.tar.gz >stdout 2>err &&
	sed -n "/^signature/,/^  --restore/p" stdout >actual &&
	printf "%s\n" "signature  signed by key ID $ID (not checked: no verify key)" \
		"  --restore would refuse: the archive is signed by key ID $ID, and no verify key is configured to check that signature: refusing to restore" >expect &&
	test_cmp expect actual &&
	POSTGRES_DB=target bk-unpack --dry-run --restore --verify-key k.pub signed.tar.gz >stdout 2>err &&
	grep -x "signature  signed by key ID $ID (checked against k.pub)" stdout &&
	POSTGRES_DB=target bk-unpack --dry-run --restore --unsigned unsigned.tar.gz >stdout 2>err &&
	sed -n "/^signature/,/^  --restore/p" stdout >actual &&
	printf "%s\n" "signature  unsigned (--unsigned)" \
		"  --restore would warn: RESTORING AN UNSIGNED ARCHIVE (--unsigned)" >expect &&
	test_cmp expect actual &&
	POSTGRES_DB=target bk-unpack unsigned.tar.gz >stdout 2>err &&
	grep -x "signature  unsigned" stdout &&
	untouched
'

test_expect_success '--unsigned goes with --restore' '
	test_expect_code 2 bk-unpack --unsigned -C dir unsigned.tar.gz 2>err &&
	grep -qx "bk-unpack: --unsigned goes with --restore" err
'

test_expect_success 'an unsigned archive restores with --unsigned, with a loud WARN line' '
	pg_psql -d postgres -c "CREATE DATABASE unsigned_target" &&
	POSTGRES_DB=unsigned_target bk-unpack --restore --unsigned unsigned.tar.gz >stdout 2>err &&
	echo "127.0.0.1:$POSTGRES_PORT/unsigned_target" >expect &&
	test_cmp expect stdout &&
	grep -q "WARN bk-unpack\[[0-9]*\]: RESTORING AN UNSIGNED ARCHIVE (--unsigned): nothing proves who made unsigned.tar.gz; its schema files run as they are$" err
'

test_expect_success 'a signed archive restores with the right key' '
	pg_psql -d postgres -c "CREATE DATABASE signed_target" &&
	POSTGRES_DB=signed_target bk-unpack --restore --verify-key k.pub signed.tar.gz >stdout 2>err &&
	echo "127.0.0.1:$POSTGRES_PORT/signed_target" >expect &&
	test_cmp expect stdout &&
	grep -q "INFO bk-unpack\[[0-9]*\]: signed.tar.gz is signed by key ID $ID, checked against k.pub$" err &&
	test "$(pg_psql -d signed_target -At -c "SELECT count(*) FROM public.users")" = \
		"$(pg_psql -At -c "SELECT count(*) FROM public.users")"
'

# config_error VAR=VALUE... -- CMD...: exit 2, the first error line in msg.
config_error() {
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env "${envs[@]}" "$@" >stdout 2>err && return 1
	[ $? = 2 ] || { echo "not exit 2"; cat err; return 1; }
	test ! -s stdout &&
	sed -n "s/^[^ ]* ERROR [a-z-]*\[[0-9]*\]: //p" err | head -n 1 >actual
}

test_expect_success 'bad keys: exit 2 naming the variable' '
	config_error BACKUP_SIGNING_KEY_FILE=$TRASH/nokey -- bk-pack -o bad.tar.gz export &&
	grep -q "^configuration: BACKUP_SIGNING_KEY_FILE: cannot read $TRASH/nokey" actual &&
	config_error BACKUP_SIGNING_KEY_FILE=$TRASH/k.pub -- bk-pack -o bad.tar.gz export &&
	echo "configuration: BACKUP_SIGNING_KEY_FILE: $TRASH/k.pub: secret key: not a minisign secret key" >expect &&
	test_cmp expect actual &&
	config_error BACKUP_SIGNING_KEY=not-a-key-SECRETVALUE -- bk-pack -o bad.tar.gz export &&
	echo "configuration: BACKUP_SIGNING_KEY: secret key: not a minisign secret key" >expect &&
	test_cmp expect actual &&
	! grep -q SECRETVALUE err backup.log &&
	config_error BACKUP_VERIFY_KEY=nonsense -- bk-verify signed.tar.gz &&
	echo "configuration: BACKUP_VERIFY_KEY: public key: not a minisign public key (bad base64 or length)" >expect &&
	test_cmp expect actual &&
	config_error BACKUP_VERIFY_KEY_FILE=$TRASH/k.key -- bk-unpack signed.tar.gz &&
	grep -q "^configuration: BACKUP_VERIFY_KEY_FILE: $TRASH/k.key: public key: not a minisign public key" actual &&
	config_error X=1 -- bk-verify --verify-key nokey.pub signed.tar.gz &&
	grep -q "^--verify-key: cannot read nokey.pub" actual &&
	config_error X=1 -- bk-unpack --restore --verify-key k.key signed.tar.gz &&
	echo "--verify-key: k.key: public key: not a minisign public key (bad base64 or length)" >expect &&
	test_cmp expect actual &&
	test_path_is_missing bad.tar.gz
'

test_expect_success 'a verify key that is not the signing key'"'"'s: exit 2 naming both' '
	config_error BACKUP_SIGNING_KEY_FILE=$TRASH/k.key BACKUP_VERIFY_KEY_FILE=$TRASH/other.pub -- bk-pack -o bad.tar.gz export &&
	echo "configuration: BACKUP_VERIFY_KEY: key $OTHER is not the public key of BACKUP_SIGNING_KEY (key $ID)" >expect &&
	test_cmp expect actual
'

if (cd "$TRASH" && printf "pw\npw\n" | minisign -G -p enc.pub -s enc.key) >/dev/null 2>&1; then
test_expect_success 'an encrypted minisign key is refused with a hint' '
	config_error BACKUP_SIGNING_KEY_FILE=$TRASH/enc.key -- bk-pack -o bad.tar.gz export &&
	echo "configuration: BACKUP_SIGNING_KEY_FILE: $TRASH/enc.key: secret key: the key is encrypted with a password" >expect &&
	test_cmp expect actual
'
else
	test_skip 'an encrypted minisign key is refused with a hint' \
		'minisign cannot make a password key without a terminal'
fi

test_expect_success 'the container entrypoint checks the key at start' '
	config_error BACKUP_RUN_DIR=$TRASH/run BACKUP_MAIL_OUTBOX=$TRASH/outbox ADMIN_EMAILS=a@example.com \
		BACKUP_SIGNING_KEY_FILE=$TRASH/k.pub -- timeout 60 bk-run --entrypoint &&
	echo "configuration: BACKUP_SIGNING_KEY_FILE: $TRASH/k.pub: secret key: not a minisign secret key" >expect &&
	test_cmp expect actual &&
	test_path_is_missing run
'

test_expect_success 'the mail shows the key ID, or says the archive is unsigned' '
	mkdir -p outbox &&
	BACKUP_MAIL_OUTBOX=$TRASH/outbox ADMIN_EMAILS=a@example.com SMTP_FROM=b@example.com \
		bk-mail --backup signed.tar.gz >path 2>err &&
	mail_parse "$(cat path)" parsed &&
	grep -x "Signature          Signed by key ID $ID" parsed/text &&
	BACKUP_MAIL_OUTBOX=$TRASH/outbox ADMIN_EMAILS=a@example.com SMTP_FROM=b@example.com \
		bk-mail --backup unsigned.tar.gz >path 2>err &&
	mail_parse "$(cat path)" parsed2 &&
	grep -x "Signature          Unsigned: anyone could have made this archive; set BACKUP_SIGNING_KEY" parsed2/text
'

test_done
