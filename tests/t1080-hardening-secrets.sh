#!/bin/bash
# Hardening (issue 13, items 4, 8, 9, 11): masking ends for every secret; one
# log record is one line whatever a name holds; bk-export refuses names with
# control characters; bk-run's children get only the secrets they read; an env
# file cannot set the loader's variables; no connection secret in pg_dump's argv.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'secrets and control characters'

test_need_programs bk-export bk-pack bk-verify bk-mail bk-prune bk-run
command -v timeout >/dev/null || test_skip_all "timeout(1) is not installed"

# A log line: everything after "]: ".
log_messages() {
	sed -n 's/^[0-9T:+-]* [A-Z]* bk-[a-z]*\[[0-9]*\]: //p' "$@"
}

# ---- item 11: masking terminates ----

test_expect_success 'a secret equal to the mask is masked, and the tool ends' '
	POSTGRES_PASSWORD="***" test_expect_code 1 timeout 20 \
		bk-verify "$TRASH/no***such.tar.gz" >out 2>err &&
	log_messages err >actual &&
	printf "%s\n" "verifying $TRASH/no***such.tar.gz" \
		"cannot read $TRASH/no***such.tar.gz: No such file or directory" >expect &&
	test_cmp expect actual
'

test_expect_success 'a secret holding the mask, and two secrets overlapping, end too' '
	POSTGRES_PASSWORD="a***" SMTP_PASS="****" BACKUP_LINK_SECRET="***b" \
		test_expect_code 1 timeout 20 \
		bk-verify "$TRASH/x-a***b-a****b-***" >out 2>err &&
	log_messages err >actual &&
	printf "%s\n" "verifying $TRASH/x-***-***-***" \
		"cannot read $TRASH/x-***-***-***: No such file or directory" >expect &&
	test_cmp expect actual
'

# ---- item 4: one log record, one line ----

nl='
'
test_expect_success 'control characters in a message are escaped: one record, one line' '
	test_expect_code 1 bk-verify "$TRASH/bad${nl}name	tab$(printf "\r\033")x.tar.gz" \
		>out 2>err &&
	test $(wc -l <err) = 2 &&
	tail -n 2 "$BACKUP_LOG" >log &&
	test_cmp err log &&
	log_messages err >actual &&
	# the log escapes; bk-verify shows a path in its report as \xNN itself
	printf "%s\n" "verifying $TRASH/bad\\nname\\ttab\\r\\x1bx.tar.gz" \
		"cannot read $TRASH/bad\\x0aname\\x09tab\\x0d\\x1bx.tar.gz: No such file or directory" >expect &&
	test_cmp expect actual
'

# ---- item 8: the loader's variables are refused in an env file ----

for v in LD_PRELOAD LD_LIBRARY_PATH LD_AUDIT LD_anything GCONV_PATH GLIBC_TUNABLES; do
	test_expect_success "an env file setting $v is refused (exit 2, naming it)" "
		printf '%s\n' 'BACKUP_KEEP_MIN=3' '$v=/tmp/evil.so' >bad.env &&
		test_expect_code 2 bk-verify --env-file bad.env x.tar.gz >out 2>err &&
		log_messages err >actual &&
		echo 'configuration: bad.env:2: $v: not allowed in an env file (it changes the code programs load)' >expect &&
		test_cmp expect actual
	"
done

pg_start && pg_load_fixture || exit 1
SQ="'"

# ---- item 4: names with control characters are refused at export ----

test_expect_success 'bk-export refuses a table whose name has a newline, naming it' '
	pg_psql -c "CREATE TABLE public.\"bad${nl}name\" (id int)" &&
	test_expect_code 1 bk-export -o exp-refused >path 2>err &&
	test ! -s path &&
	test_path_is_missing exp-refused &&
	sed -n "s/^[0-9T:+-]* ERROR bk-export\[[0-9]*\]: //p" err >actual &&
	cat >expect <<-EOF &&
	table public."bad\\nname": the name has a control character (line break, tab, ...), which bk${SQ}s line-based MANIFEST and checks cannot carry
	hint: rename the table (ALTER TABLE ... RENAME TO ...)
	EOF
	test_cmp expect actual
'

test_expect_success 'bk-export refuses a column whose name has a newline, naming its table' '
	pg_psql -c "DROP TABLE public.\"bad${nl}name\"" &&
	pg_psql -c "CREATE TABLE public.colbad (\"a${nl}b\" int)" &&
	test_expect_code 1 bk-export -o exp-refused >path 2>err &&
	test_path_is_missing exp-refused &&
	sed -n "s/^[0-9T:+-]* ERROR bk-export\[[0-9]*\]: //p" err >actual &&
	cat >expect <<-EOF &&
	table public.colbad: column "a\\nb": the name has a control character (line break, tab, ...), which bk${SQ}s line-based MANIFEST and checks cannot carry
	hint: rename the column (ALTER TABLE ... RENAME COLUMN ...)
	EOF
	test_cmp expect actual &&
	pg_psql -c "DROP TABLE public.colbad"
'

# ---- item 8: each child of bk-run gets only the secrets it reads ----

# bk-run starts the tools beside its own executable: shims there record their
# environment as the kernel shows it (/proc/PID/environ), then run the tool.
mkdir -p "$TRASH/fake"
cp "$BK_BUILD_DIR/bin/bk-run" "$TRASH/fake/"
for p in bk-export bk-pack bk-verify bk-mail bk-prune; do
	cat >"$TRASH/fake/$p" <<-EOF
	#!/bin/sh
	tr '\0' '\n' </proc/\$\$/environ >"$TRASH/env.$p"
	echo "\$*" >"$TRASH/args.$p"
	exec "$BK_BUILD_DIR/bin/$p" "\$@"
	EOF
	chmod +x "$TRASH/fake/$p"
done

SMTP_SECRET=smtp-$(test_random_hex 12)
LINK_SECRET=link-$(test_random_hex 16)
test_expect_success 'a full run through the shims (mail to an outbox, link secret set)' '
	mkdir -p "$BACKUP_CONFIG_DIR" outbox &&
	(umask 077 && printf "%s\n" "SMTP_PASS=$SMTP_SECRET" >run.env) &&
	BACKUP_MIN_SIZE_MB=0 ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com \
	SMTP_USER=backup SMTP_HOST=127.0.0.1 BACKUP_MAIL_OUTBOX=$TRASH/outbox \
	BACKUP_LINK_BASE=https://backups.example.com/ BACKUP_LINK_SECRET=$LINK_SECRET \
	BACKUP_ENV_FILE=$TRASH/run.env \
		fake/bk-run >path 2>err &&
	for p in bk-export bk-pack bk-verify bk-mail bk-prune; do
		test -s env.$p || return 1
	done
'

# NAME=VALUE lines of a secret variable, or of its value anywhere.
secrets_in() {
	grep -E "^(POSTGRES_PASSWORD|PGPASSWORD|DATABASE_URL|SMTP_PASS|BACKUP_LINK_SECRET|BACKUP_ENV_FILE)(_FILE)?=" "$1" |
		sed "s/=.*//"
	grep -F -e "$PG_TEST_PASSWORD" -e "$SMTP_SECRET" -e "$LINK_SECRET" "$1" | sed "s/=.*/ (value)/"
}

test_expect_success 'bk-pack, bk-verify and bk-prune hold no secret' '
	for p in bk-pack bk-verify bk-prune; do
		secrets_in env.$p >actual &&
		test_cmp /dev/null actual || return 1
	done
'

test_expect_success 'bk-export holds the database password only' '
	secrets_in env.bk-export | sort -u >actual &&
	printf "%s\n" POSTGRES_PASSWORD "POSTGRES_PASSWORD (value)" >expect &&
	test_cmp expect actual
'

test_expect_success 'bk-mail holds the SMTP password and the link secret only' '
	secrets_in env.bk-mail | sort -u >actual &&
	printf "%s\n" BACKUP_LINK_SECRET "BACKUP_LINK_SECRET (value)" SMTP_PASS "SMTP_PASS (value)" >expect &&
	test_cmp expect actual
'

test_expect_success 'the alert of a failed run: bk-mail still holds no database secret' '
	rm -f env.bk-mail env.bk-export &&
	(umask 077 && echo wrong-password >pw.file) &&
	BACKUP_MIN_SIZE_MB=0 ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com \
	SMTP_USER=backup SMTP_PASS=$SMTP_SECRET BACKUP_MAIL_OUTBOX=$TRASH/outbox \
	POSTGRES_PASSWORD= POSTGRES_PASSWORD_FILE=$TRASH/pw.file \
		test_expect_code 1 fake/bk-run >path 2>err &&
	grep -q "^POSTGRES_PASSWORD_FILE=" env.bk-export &&
	cut -d" " -f1 args.bk-mail >actual &&
	echo --alert >expect &&
	test_cmp expect actual &&
	secrets_in env.bk-mail >actual &&
	echo SMTP_PASS >expect &&
	echo "SMTP_PASS (value)" >>expect &&
	test_cmp expect actual
'

test_expect_success 'the alert of bk-monitor: its bk-mail holds no database secret either' '
	rm -f env.bk-mail &&
	cp "$BK_BUILD_DIR/bin/bk-monitor" fake/ &&
	mkdir -p quiet && chmod 0700 quiet &&
	BACKUP_DIR=$TRASH/quiet ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com \
	SMTP_USER=backup SMTP_PASS=$SMTP_SECRET BACKUP_MAIL_OUTBOX=$TRASH/outbox \
	BACKUP_LINK_SECRET=$LINK_SECRET \
		test_expect_code 1 fake/bk-monitor --alert >out 2>err &&
	head -n 1 args.bk-mail | cut -d" " -f1 >actual &&
	echo --alert >expect &&
	test_cmp expect actual &&
	secrets_in env.bk-mail | sort -u >actual &&
	printf "%s\n" BACKUP_LINK_SECRET "BACKUP_LINK_SECRET (value)" SMTP_PASS "SMTP_PASS (value)" >expect &&
	test_cmp expect actual
'

# ---- item 9: no secret parameter of DATABASE_URL in pg_dump's argv ----

real_pg_dump=$(command -v pg_dump) || test_skip_all "pg_dump not installed"
mkdir -p "$TRASH/shim"
cat >"$TRASH/shim/pg_dump" <<EOF
#!/bin/sh
# pg_dump --version (bk-export's version check) has no database to reach
[ "\$*" = --version ] && exec "$real_pg_dump" --version
tr '\0' '\n' </proc/\$\$/cmdline >>"$TRASH/pg_dump.argv"
tr '\0' '\n' </proc/\$\$/environ >>"$TRASH/pg_dump.env"
if [ -n "\$PGSERVICEFILE" ]; then
	stat -L -c %a "\$PGSERVICEFILE" >>"$TRASH/pg_dump.service-mode"
	cat "\$PGSERVICEFILE" >>"$TRASH/pg_dump.service"
fi
exec "$real_pg_dump" "\$@"
EOF
chmod +x "$TRASH/shim/pg_dump"

SSL_SECRET=sslpw-$(test_random_hex 12)
test_expect_success 'an export with sslpassword in DATABASE_URL' '
	url="postgresql://postgres:$PG_TEST_PASSWORD@127.0.0.1:$POSTGRES_PORT/smart_ai_hub?sslmode=disable&sslpassword=$SSL_SECRET" &&
	DATABASE_URL=$url PATH=$TRASH/shim:$PATH bk-export -o out2 >path 2>err &&
	test $(grep -c "^--dbname=" pg_dump.argv) = 2
'

test_expect_success 'neither the password nor sslpassword is in pg_dump argv' '
	test_must_fail grep -F -e "$PG_TEST_PASSWORD" -e "$SSL_SECRET" -e sslpassword \
		-e "password=" pg_dump.argv
'

test_expect_success 'pg_dump gets them by PGPASSWORD and a 0600 service file' '
	grep -c -x "PGPASSWORD=$PG_TEST_PASSWORD" pg_dump.env >actual &&
	echo 2 >expect &&
	test_cmp expect actual &&
	printf "600\n600\n" >expect &&
	test_cmp expect pg_dump.service-mode &&
	grep -c -x "sslpassword=$SSL_SECRET" pg_dump.service >actual &&
	echo 2 >expect &&
	test_cmp expect actual &&
	! grep -F -e "$PG_TEST_PASSWORD" -e "$SSL_SECRET" "$BACKUP_LOG" err path
'

test_done
