#!/bin/bash
# age encryption end to end, with the real age tools and a real SMTP server:
# bk-run with two recipients writes NAME.tar.gz.age next to the archive, which
# `age -d` turns back into the archive byte for byte; the mail holds only
# ciphertext; bk-verify -i and bk-unpack -i read .age files (bk's own and
# `age -r`'s) and refuse a wrong identity, a truncated or a bit-flipped file
# with nothing extracted; without recipients the mail says it is unencrypted;
# bk-prune removes the .age with its archive; bad recipients stop the tools.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-smtp.sh"
test_description 'age encryption of what leaves the host'

test_need_programs bk-run bk-export bk-pack bk-verify bk-mail bk-unpack bk-prune
for t in age age-keygen minisign; do
	command -v $t >/dev/null || test_skip_all "$t is not installed (tools/install-deps)"
done
smtp_check_deps
pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0
export ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com

MARKER=config-marker-$(test_random_hex 12)
mkdir -p "$BACKUP_CONFIG_DIR/ssl"
printf "POSTGRES_PASSWORD=app-secret\nMARKER=%s\n" "$MARKER" >"$BACKUP_CONFIG_DIR/.env.production"
echo "services: {}" >"$BACKUP_CONFIG_DIR/docker-compose.prod.yml"
echo "events {}" >"$BACKUP_CONFIG_DIR/nginx.prod.conf"
echo "CERT" >"$BACKUP_CONFIG_DIR/ssl/cert.pem"
echo "KEY $MARKER" >"$BACKUP_CONFIG_DIR/ssl/server.key"
chmod 600 "$BACKUP_CONFIG_DIR/.env.production" "$BACKUP_CONFIG_DIR/ssl/server.key"

smtp_start

# The archives are signed, as the docs set them up: restores check the key.
minisign -G -W -p "$TRASH/bk.pub" -s "$TRASH/bk.key" >/dev/null || exit 1
export BACKUP_SIGNING_KEY_FILE=$TRASH/bk.key VERIFY_KEY=$TRASH/bk.pub

full_tables='users user_roles organizations agencies referrals exchange_rates system_settings plans currencies _prisma_migrations "UserProfile" "ข้อมูล"'

# rows DB SQL: COPY (SQL) TO STDOUT from DB.
rows() {
	pg_psql -d "$1" -c "COPY ($2) TO STDOUT"
}

# schema DB: the database's DDL without comments and psql-only lines.
schema() {
	PGPASSWORD=$POSTGRES_PASSWORD "$PG_BINDIR/pg_dump" -h "$POSTGRES_HOST" \
		-p "$POSTGRES_PORT" -U "$POSTGRES_USER" --schema-only --no-owner "$1" |
		grep -v -e "^--" -e "^\\\\restrict " -e "^\\\\unrestrict "
}

# same_as_source DB: the schema and every full table as in the source.
same_as_source() {
	schema smart_ai_hub >expect.schema &&
	schema "$1" >actual.schema &&
	test_cmp expect.schema actual.schema &&
	for t in $full_tables; do
		rows smart_ai_hub "SELECT * FROM public.$t ORDER BY 1" >expect.rows &&
		rows "$1" "SELECT * FROM public.$t ORDER BY 1" >actual.rows &&
		test -s expect.rows &&
		test_cmp expect.rows actual.rows || { echo "table $t differs"; return 1; }
	done
}

# tables DB: how many tables the public schema of DB has.
tables() {
	pg_psql -d "$1" -At -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
}

# last_mail DIR: parse the newest message into parsed/.
last_mail() {
	rm -rf parsed &&
	mail_parse "$(printf "%s/msg-%04d.eml" "$SMTP_TEST_DIR" "$(smtp_count "$SMTP_TEST_DIR")")" parsed
}

test_expect_success 'setup: three identities, two of them recipients (an age -R file)' '
	age-keygen -o id1.txt 2>/dev/null &&
	age-keygen -o id2.txt 2>/dev/null &&
	age-keygen -o id3.txt 2>/dev/null &&
	{
		echo "# the admins (age -R format)" &&
		age-keygen -y id1.txt &&
		echo &&
		echo "# second admin" &&
		age-keygen -y id2.txt
	} >recipients.txt &&
	age -R recipients.txt -o probe.age recipients.txt
'

test_expect_success 'bk-run with two recipients writes NAME.tar.gz.age next to the archive' '
	BACKUP_AGE_RECIPIENTS_FILE=$TRASH/recipients.txt bk-run >path 2>err &&
	archive=$(cat path) &&
	test -f "$archive" && test -f "$archive.age" &&
	test "$(stat -c %a "$archive")" = 600 &&
	test "$(stat -c %a "$archive.age")" = 600 &&
	ls -A "$BACKUP_DIR" | grep "^critical_backup_" >files &&
	printf "%s\n" "$(basename "$archive")" "$(basename "$archive").age" >expect &&
	test_cmp expect files &&
	test_path_is_missing "$BACKUP_DIR/.incoming"
'

test_expect_success 'the encrypt step is logged with its time, after verify' '
	grep -n "INFO bk-run\[[0-9]*\]: step \(verify\|encrypt\) done in [0-9.]* s" "$BACKUP_LOG" >steps &&
	sed "s/:.*step \([a-z]*\) done.*/ \1/" steps | cut -d" " -f2 >actual &&
	printf "%s\n" verify encrypt >expect &&
	test_cmp expect actual &&
	grep -q "step encrypt done in [0-9.]* s: 2 recipients$" "$BACKUP_LOG"
'

test_expect_success 'age -d with either identity gives the archive byte for byte' '
	archive=$(cat path) &&
	age -d -i id1.txt -o plain1 "$archive.age" &&
	cmp "$archive" plain1 &&
	age -d -i id2.txt "$archive.age" >plain2 &&
	cmp "$archive" plain2 &&
	test_must_fail age -d -i id3.txt -o plain3 "$archive.age" 2>/dev/null
'

test_expect_success 'the mail carries the .age as application/octet-stream' '
	test "$(smtp_count "$SMTP_TEST_DIR")" = 1 &&
	last_mail &&
	name=$(basename "$(cat path)").age &&
	cat >expect <<-EOF &&
	multipart/mixed
	 multipart/alternative
	  text/plain
	  text/html
	 application/octet-stream attachment $name
	EOF
	test_cmp expect parsed/structure &&
	cmp "$(cat path).age" "parsed/attachments/$name" &&
	grep -x "File               $name" parsed/text &&
	grep -x "Encrypted          age, to 2 recipients" parsed/text &&
	grep -x "    age -d -i key.txt $name > ${name%.age}" parsed/text
'

test_expect_success 'the message holds only ciphertext: no member names, config, COPY text' '
	f=$(printf "%s/msg-%04d.eml" "$SMTP_TEST_DIR" 1) &&
	tar -tzf "$(cat path)" >members &&
	grep -qx MANIFEST members && grep -q "users.sql$" members &&
	grep -q ".env.production$" members &&
	for s in MANIFEST users.sql .env.production BACKUP_INFO schema.sql "$MARKER" \
		 "COPY public" admin@smart-ai-hub.test "KEY $MARKER"; do
		! grep -a -q -F -e "$s" "$f" parsed/text parsed/html parsed/attachments/* ||
			{ echo "found: $s"; exit 1; }
	done &&
	! grep -q "^Not encrypted\|WARNING: Not encrypted" parsed/text
'

test_expect_success 'too large to attach: the link points at the .age' '
	name=$(basename "$(cat path)").age &&
	BACKUP_AGE_RECIPIENTS_FILE=$TRASH/recipients.txt BACKUP_MAIL_ATTACH_MAX_MB=0 \
	BACKUP_LINK_BASE=https://backup.example.com/backups/ \
	BACKUP_LINK_SECRET=0123456789abcdef0123456789abcdef \
		bk-mail --backup "$(cat path)" >id 2>err &&
	last_mail &&
	! grep -q attachment parsed/structure &&
	grep -q "^    https://backup.example.com/backups/$name?md5=[A-Za-z0-9_-]*&expires=[0-9]*$" parsed/text &&
	grep -q "INFO bk-mail\[[0-9]*\]: mailing $name (" err
'

test_expect_success 'with recipients, a missing .age is an error: the plain archive is never sent' '
	n=$(smtp_count "$SMTP_TEST_DIR") &&
	cp "$(cat path)" "$BACKUP_DIR/critical_backup_20250101_000000.tar.gz" &&
	BACKUP_AGE_RECIPIENTS_FILE=$TRASH/recipients.txt test_expect_code 1 \
		bk-mail --backup "$BACKUP_DIR/critical_backup_20250101_000000.tar.gz" >out 2>err &&
	rm "$BACKUP_DIR/critical_backup_20250101_000000.tar.gz" &&
	grep -q "ERROR bk-mail\[[0-9]*\]: cannot read .*critical_backup_20250101_000000.tar.gz.age: No such file" err &&
	test "$(smtp_count "$SMTP_TEST_DIR")" = "$n"
'

test_expect_success 'bk-verify -i reads the .age' '
	bk-verify -i id2.txt "$(cat path).age" >out 2>err &&
	grep "^OK $(basename "$(cat path)").age: [0-9]* members, [0-9]* rows" out
'

test_expect_success 'bk-unpack -i --restore restores the .age: the database equals the source' '
	pg_psql -d postgres -c "CREATE DATABASE restored" &&
	POSTGRES_DB=restored bk-unpack -i id1.txt --verify-key bk.pub --restore "$(cat path).age" \
		>stdout 2>err &&
	echo "127.0.0.1:$POSTGRES_PORT/restored" >expect &&
	test_cmp expect stdout &&
	same_as_source restored
'

test_expect_success 'no secret key in the log or the output' '
	for id in id1.txt id2.txt; do
		key=$(grep "^AGE-SECRET-KEY-" $id) &&
		! grep -F -q -i "$key" "$BACKUP_LOG" err stdout || exit 1
	done
'

test_expect_success 'age -r encrypts, bk-unpack restores it (BACKUP_AGE_IDENTITY_FILE)' '
	age -r "$(age-keygen -y id3.txt)" -o by-age.tar.gz.age "$(cat path)" &&
	pg_psql -d postgres -c "CREATE DATABASE restored2" &&
	POSTGRES_DB=restored2 BACKUP_AGE_IDENTITY_FILE=$TRASH/id3.txt \
		bk-unpack --verify-key bk.pub --restore by-age.tar.gz.age >stdout 2>err &&
	echo "127.0.0.1:$POSTGRES_PORT/restored2" >expect &&
	test_cmp expect stdout &&
	same_as_source restored2
'

test_expect_success 'part 0 of docs/BACKUP_RESTORE.md runs as written' '
	awk '"'"'/^#+ / { on = index($0, "An encrypted backup (.age)") > 0; next }
		on && /^    \$ / { sub(/^    \$ /, ""); print }'"'"' "$BK_ROOT/docs/BACKUP_RESTORE.md" >part0.sh &&
	test "$(wc -l <part0.sh)" = 4 &&
	mkdir doc &&
	(cd doc && PATH=$PG_BINDIR:$PATH PGHOST=$POSTGRES_HOST PGPORT=$POSTGRES_PORT \
		PGUSER=$POSTGRES_USER PGPASSWORD=$POSTGRES_PASSWORD KEY=$TRASH/id2.txt \
		ARCHIVE_AGE=$(cat "$TRASH/path").age ARCHIVE=$TRASH/doc/backup.tar.gz \
		bash -e "$TRASH/part0.sh" >out 2>err) &&
	cmp "$(cat path)" doc/backup.tar.gz &&
	same_as_source smart_ai_hub_from_age
'

test_expect_success 'a wrong identity is refused: no identity matches, nothing restored' '
	pg_psql -d postgres -c "CREATE DATABASE wrongid" &&
	test_expect_code 1 bk-verify -i id3.txt "$(cat path).age" >out 2>err &&
	test ! -s out &&
	grep -q "ERROR bk-verify\[[0-9]*\]: cannot decrypt .*: age: no identity matches" err &&
	POSTGRES_DB=wrongid test_expect_code 1 bk-unpack -i id3.txt --restore "$(cat path).age" \
		>out 2>err &&
	test ! -s out &&
	grep -q "no identity matches" err &&
	test "$(tables wrongid)" = 0
'

test_expect_success 'a .age without an identity: refused, saying what to give' '
	test_expect_code 1 bk-verify "$(cat path).age" >out 2>err &&
	grep -q "is encrypted (age): no identity to decrypt it (give the identity file with -i FILE or BACKUP_AGE_IDENTITY_FILE)" err
'

test_expect_success 'a bad identity file is a configuration error naming it (exit 2)' '
	test_expect_code 2 bk-verify -i recipients.txt "$(cat path).age" >out 2>err &&
	grep -q "ERROR bk-verify\[[0-9]*\]: --identity: recipients.txt: line 2: not an age X25519 identity" err &&
	BACKUP_AGE_IDENTITY_FILE=$TRASH/missing.txt test_expect_code 2 \
		bk-unpack -C x "$(cat path).age" >out 2>err &&
	grep -q "ERROR bk-unpack\[[0-9]*\]: BACKUP_AGE_IDENTITY_FILE: cannot read" err &&
	test_path_is_missing x
'

test_expect_success 'a truncated .age: refused by bk-verify and bk-unpack, nothing extracted' '
	age=$(cat path).age &&
	head -c $(( $(stat -c %s "$age") - 100 )) "$age" >cut.tar.gz.age &&
	test_expect_code 1 bk-verify -i id1.txt cut.tar.gz.age >out 2>err &&
	test ! -s out &&
	grep -q "ERROR bk-verify\[[0-9]*\]: cannot decrypt cut.tar.gz.age: age: " err &&
	test_expect_code 1 bk-unpack -i id1.txt -C cut-dir cut.tar.gz.age >out 2>err &&
	test ! -s out &&
	grep -q "cut.tar.gz.age is not intact: cannot decrypt" err &&
	test_path_is_missing cut-dir
'

test_expect_success 'a .age cut at a chunk boundary (no final chunk): refused' '
	age=$(cat path).age &&
	hdr=$(( $(grep -abo -m1 -- "^--- " "$age" | cut -d: -f1) + 48 + 16 )) &&
	head -c $(( hdr + 65536 + 16 )) "$age" >chunk.tar.gz.age &&
	test_expect_code 1 bk-verify -i id1.txt chunk.tar.gz.age >out 2>err &&
	grep -q "cannot decrypt chunk.tar.gz.age: age: truncated" err
'

test_expect_success 'a bit flipped in the payload or the header: refused, nothing extracted' '
	age=$(cat path).age &&
	cp "$age" flip.tar.gz.age &&
	test_flip_byte flip.tar.gz.age $(( $(stat -c %s "$age") / 2 )) &&
	test_expect_code 1 bk-verify -i id1.txt flip.tar.gz.age >out 2>err &&
	grep -q "cannot decrypt flip.tar.gz.age: age: chunk [0-9]*: authentication failed" err &&
	test_expect_code 1 bk-unpack -i id1.txt -C flip-dir flip.tar.gz.age >out 2>err &&
	test_path_is_missing flip-dir &&
	cp "$age" hdr.tar.gz.age &&
	test_flip_byte hdr.tar.gz.age 30 &&
	test_expect_code 1 bk-verify -i id1.txt hdr.tar.gz.age >out 2>err &&
	grep -q "cannot decrypt hdr.tar.gz.age: age" err
'

test_expect_success 'without recipients the mail says the attachment is unencrypted' '
	cp path path.encrypted &&
	n=$(smtp_count "$SMTP_TEST_DIR") &&
	bk-run >path 2>err &&
	test_path_is_missing "$(cat path).age" &&
	test "$(smtp_count "$SMTP_TEST_DIR")" = $((n + 1)) &&
	last_mail &&
	grep -q " application/gzip attachment $(basename "$(cat path)")$" parsed/structure &&
	grep -x "WARNING: Not encrypted: the archive attached to this mail holds the stack${SQ}s secrets (.env.production, the TLS private key) in clear, readable by anyone who can read this mail on its way or in a mailbox. Set BACKUP_AGE_RECIPIENTS to the administrators${SQ} age public keys to encrypt it (see bk(7))." parsed/text &&
	grep -q "BACKUP_AGE_RECIPIENTS" parsed/html
'

test_expect_success 'recipients: a secret key is refused without being shown (exit 2)' '
	key=$(grep "^AGE-SECRET-KEY-" id1.txt) &&
	BACKUP_AGE_RECIPIENTS="$(age-keygen -y id2.txt), $key" \
		test_expect_code 2 bk-prune --dry-run >out 2>err &&
	grep -q "ERROR bk-prune\[[0-9]*\]: configuration: BACKUP_AGE_RECIPIENTS: recipient 2: a secret key (AGE-SECRET-KEY-...), not a recipient" err &&
	! grep -q -i -F "$key" err "$BACKUP_LOG"
'

test_expect_success 'recipients: comma and space separated accepted; garbage refused' '
	BACKUP_AGE_RECIPIENTS="$(age-keygen -y id1.txt),$(age-keygen -y id2.txt) $(age-keygen -y id3.txt)" \
		bk-prune --dry-run >out 2>err &&
	BACKUP_AGE_RECIPIENTS="age1nope" test_expect_code 2 bk-prune --dry-run >out 2>err &&
	grep -q "ERROR bk-prune\[[0-9]*\]: configuration: BACKUP_AGE_RECIPIENTS: recipient .age1nope.: not an age X25519 recipient" err &&
	echo "# nothing" >none.txt &&
	BACKUP_AGE_RECIPIENTS_FILE=$TRASH/none.txt test_expect_code 2 bk-prune --dry-run >out 2>err &&
	grep -q "ERROR bk-prune\[[0-9]*\]: configuration: BACKUP_AGE_RECIPIENTS_FILE: no age recipients given" err
'

test_expect_success 'bk-prune removes the .age with its archive' '
	old=$BACKUP_DIR/critical_backup_20200101_000000.tar.gz &&
	cp "$(cat path.encrypted)" "$old" &&
	cp "$(cat path.encrypted).age" "$old.age" &&
	touch -d 2020-01-01 "$old" "$old.age" &&
	BACKUP_RETENTION_DAYS=1 BACKUP_KEEP_MIN=1 bk-prune >out 2>err &&
	echo "$old" >expect &&
	test_cmp expect out &&
	test_path_is_missing "$old" &&
	test_path_is_missing "$old.age" &&
	grep -q "INFO bk-prune\[[0-9]*\]: removed $old.age with its archive" err &&
	test -f "$(cat path.encrypted).age" &&
	test -f "$(cat path.encrypted)" && test -f "$(cat path)"
'

test_done
