#!/bin/bash
# The coverage report as people see it: BACKUP_INFO.txt lists every table in
# one class, the success mail names what is not in the backup and turns amber
# on warnings (from exports written by hand with the MANIFEST lines of the
# contract, and old ones without them); bk-run records an ok run with
# warnings in the history; bk-run --dry-run shows bk-export --plan.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-smtp.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'coverage in BACKUP_INFO.txt and the mail; warnings in the run'

"$SMTP_TEST_PYTHON" -c 'import email' 2>/dev/null ||
	test_skip_all "no $SMTP_TEST_PYTHON to parse the messages"
test_need_programs bk-export bk-pack bk-verify bk-prune bk-mail bk-monitor
pg_start && pg_load_fixture || exit 1

export ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com
export BACKUP_MAIL_OUTBOX=$TRASH/outbox BACKUP_MIN_SIZE_MB=0

# make_export DIR META...: an export directory as bk-export leaves it, its
# MANIFEST with the lines META (after the common ones) and the members.
make_export() {
	local d=$1 f rows
	shift
	mkdir -p "$d" && (
		cd "$d" &&
		printf 'CREATE TABLE public.users (id integer);\n' >schema.sql &&
		printf 'COPY public.users (id) FROM stdin;\n1\n2\n\\.\nCOPY public."ApiKey" (id) FROM stdin;\n7\n\\.\n' >users.sql &&
		printf 'id,amount\n1,10\n2,20\n3,30\n' >credit_transactions.csv &&
		printf 'COPY public.plans (id) FROM stdin;\n1\n\\.\n' >referenced.sql &&
		printf 'ALTER TABLE public.users ADD PRIMARY KEY (id);\n' >schema-post.sql &&
		{
			echo "# format: bk 1"
			echo "# created: 2026-11-30T02:00:01+00:00"
			echo "# host: 127.0.0.1:5432"
			echo "# database: smart_ai_hub"
			echo "# server_version: 15.4"
			echo "# scope: built-in scope"
			printf '%s\n' "$@"
			for f in schema.sql:- users.sql:3 credit_transactions.csv:3 referenced.sql:1 schema-post.sql:-; do
				echo "$(sha256sum <"${f%%:*}" | cut -c1-64) $(stat -c %s "${f%%:*}") ${f##*:} ${f%%:*}"
			done
		} >MANIFEST
	)
}

TABLES='# table: users.sql 2 public.users
# table: users.sql 1 public."ApiKey"
# table: credit_transactions.csv 3 public.credit_transactions
# table: referenced.sql 1 public.plans
# window: credit_transactions.csv created_at >= 2026-09-01 08:17:09.123456
# added: public.plans referenced by public.users'
OMITTED='# omitted: public.sessions 50 omit sessions (built-in scope line 3)
# omitted: public.audit_logs 1200 omit audit_logs (built-in scope line 5)
# omitted: public."Empty Logs" 0 omit *_logs (built-in scope line 4)
# omitted: public.user_sessions 0 omit *_sessions (built-in scope line 6)'

# pack_and_mail NAME: bk-pack exp-NAME into NAME.tar.gz, BACKUP_INFO.txt out
# of it into NAME.info, its mail parsed into NAME.mail/.
pack_and_mail() {
	bk-pack -o "$TRASH/$1.tar.gz" "exp-$1" >/dev/null 2>"$1.pack-err" &&
	tar -xzOf "$1.tar.gz" BACKUP_INFO.txt >"$1.info" &&
	rm -rf outbox &&
	bk-mail --backup "$TRASH/$1.tar.gz" >/dev/null 2>"$1.mail-err" &&
	mail_parse "$(ls outbox/*-backup.eml)" "$1.mail"
}

test_expect_success 'setup: exports with the new lines, with no warning, and old ones' '
	mkdir -p "$BACKUP_CONFIG_DIR" &&
	touch "$BACKUP_CONFIG_DIR/.env.production" "$BACKUP_CONFIG_DIR/docker-compose.prod.yml" \
		"$BACKUP_CONFIG_DIR/nginx.prod.conf" &&
	mkdir -p "$BACKUP_CONFIG_DIR/ssl" && echo cert >"$BACKUP_CONFIG_DIR/ssl/cert.pem" &&
	make_export exp-new "$TABLES" \
		"# window-rows: credit_transactions.csv 2 1000 1 UTC" "$OMITTED" \
		"# warning: drift: new table public.\"ApiKey\" since critical_backup_20261129_020000.tar.gz: backed up in full" \
		"# warning: drift: public.users fell from 200 to 2 rows since critical_backup_20261129_020000.tar.gz" &&
	make_export exp-clean "$TABLES" \
		"# window-rows: credit_transactions.csv 3 3 0 UTC" \
		"# omitted: public.\"Empty Logs\" 0 omit *_logs (built-in scope line 4)" &&
	make_export exp-all "$TABLES" "# window-rows: credit_transactions.csv 3 3 0 -" &&
	make_export exp-old "$TABLES" &&
	pack_and_mail new && pack_and_mail clean && pack_and_mail all && pack_and_mail old
'

test_expect_success 'BACKUP_INFO.txt: every table in one class, the omitted ones with rule and estimate' '
	sed -n "/^Coverage/,/^Warnings/p" new.info >actual &&
	cat >expect <<-\EOF &&
	Coverage: every table of the database, in one class
	    8 tables: 2 full, 1 window, 1 added, 4 not in this backup

	    Full: every row
	        public."ApiKey"                     1 row  users.sql
	        public.users                       2 rows  users.sql

	    Window: recent rows only
	        public.credit_transactions         3 rows  credit_transactions.csv, created_at >= 2026-09-01 08:17:09.123456 (UTC)
	                                                   2 of 1000 in the window + 1 older row that backed-up rows reference

	    Added: every row, because backed-up tables reference them
	        public.plans                        1 row  referenced.sql, referenced by public.users

	    Not in this backup (schema only: the restore creates them empty)
	        public."Empty Logs"               ~0 rows  omit *_logs (built-in scope line 4)
	        public.audit_logs              ~1200 rows  omit audit_logs (built-in scope line 5)
	        public.sessions                  ~50 rows  omit sessions (built-in scope line 3)
	        public.user_sessions              ~0 rows  omit *_sessions (built-in scope line 6)

	Warnings
	EOF
	test_cmp expect actual
'

test_expect_success 'BACKUP_INFO.txt: nothing left out is said; an old MANIFEST as before' '
	sed -n "/^    Not in this backup/,/^\$/p" all.info >actual &&
	cat >expect <<-\EOF &&
	    Not in this backup (schema only: the restore creates them empty)
	        none: every table of the database is backed up

	EOF
	test_cmp expect actual &&
	! grep -q "^Coverage" old.info &&
	sed -n "/^Only recent rows/,/^Configuration files/p" old.info >actual &&
	cat >expect <<-\EOF &&
	Only recent rows (older rows are not in this backup)
	    credit_transactions.csv: created_at >= 2026-09-01 08:17:09.123456

	Tables added because backed-up tables reference them
	    public.plans referenced by public.users

	Configuration files (from $BACKUP_CONFIG_DIR)
	EOF
	sed -i "s|\$BACKUP_CONFIG_DIR|$BACKUP_CONFIG_DIR|" expect &&
	test_cmp expect actual
'

test_expect_success 'the mail with warnings: WARNING subject, amber, warnings first' '
	size=$("$SMTP_TEST_PYTHON" -c "import os,sys; n=os.path.getsize(sys.argv[1]); print(\"%.1f KB\" % (n/1024) if n >= 1024 else \"%d bytes\" % n)" new.tar.gz) &&
	echo "[bk] Backup WARNING 2026-11-30 smart_ai_hub $size (2 warnings)" >expect &&
	test_cmp expect new.mail/subject &&
	sed -n "1,/^File /p" new.mail/text >actual &&
	cat >expect <<-EOF &&
	Backup done with warnings: new.tar.gz


	Warnings
	--------
	  - drift: new table public."ApiKey" since critical_backup_20261129_020000.tar.gz: backed up in full
	  - drift: public.users fell from 200 to 2 rows since critical_backup_20261129_020000.tar.gz
	WARNING: Not encrypted: the archive attached to this mail holds the stack${SQ}s secrets (.env.production, the TLS private key) in clear, readable by anyone who can read this mail on its way or in a mailbox. Set BACKUP_AGE_RECIPIENTS to the administrators${SQ} age public keys to encrypt it (see bk(7)).

	File               new.tar.gz
	EOF
	test_cmp expect actual &&
	grep -F "<h2 style=\"color:#9a6700\">Backup done with warnings: new.tar.gz</h2>" new.mail/html &&
	grep -F "<title>Backup done with warnings: new.tar.gz</title>" new.mail/html &&
	! grep -F "#1a7f37" new.mail/html
'

test_expect_success 'the mail names every non-empty omitted table, counts the empty ones' '
	sed -n "/^Tables/,/^Getting the archive/p" new.mail/text >actual &&
	cat >expect <<-\EOF &&
	Tables
	------
	  users.sql                  public.users                              2
	  users.sql                  public."ApiKey"                           1
	  credit_transactions.csv    public.credit_transactions                3  created_at >= 2026-09-01 08:17:09.123456 (UTC): 2 of 1000 rows (+1 referenced)
	  referenced.sql             public.plans                              1
	Added because a backed-up table references them:
	  - public.plans referenced by public.users

	Not in this backup
	------------------
	These tables are left out by the scope (schema only: a restore creates them empty):
	  - public.audit_logs: ~1200 rows, omit audit_logs (built-in scope line 5)
	  - public.sessions: ~50 rows, omit sessions (built-in scope line 3)
	2 more tables left out are empty.

	Getting the archive
	EOF
	test_cmp expect actual &&
	grep -F "<li>public.audit_logs: ~1200 rows, omit audit_logs (built-in scope line 5)</li>" new.mail/html &&
	grep -F "<li>public.sessions: ~50 rows, omit sessions (built-in scope line 3)</li>" new.mail/html &&
	grep -F "<p>2 more tables left out are empty.</p>" new.mail/html &&
	grep -F "<td>created_at &gt;= 2026-09-01 08:17:09.123456 (UTC): 2 of 1000 rows (+1 referenced)</td>" new.mail/html &&
	! grep -F "Empty Logs" new.mail/text new.mail/html
'

test_expect_success 'no warning: OK subject, green; empty omitted tables in one sentence' '
	grep "^\[bk\] Backup OK 2026-11-30 smart_ai_hub [0-9.]* [KB]*[a-z]*\$" clean.mail/subject &&
	grep -F "<h2 style=\"color:#1a7f37\">Backup OK: clean.tar.gz</h2>" clean.mail/html &&
	! grep -q "^Warnings\$" clean.mail/text &&
	grep -x "Warnings           none" clean.mail/text &&
	grep -x "  credit_transactions.csv    public.credit_transactions                3  created_at >= 2026-09-01 08:17:09.123456 (UTC): 3 of 3 rows" clean.mail/text &&
	sed -n "/^Not in this backup/,/^\$/p" clean.mail/text >actual &&
	printf "%s\n" "Not in this backup" "------------------" \
		"1 table left out by the scope (schema only), is empty." "" >expect &&
	test_cmp expect actual &&
	sed -n "/^Not in this backup/,/^\$/p" all.mail/text >actual &&
	printf "%s\n" "Not in this backup" "------------------" \
		"Nothing: every table of the database is in this backup." "" >expect &&
	test_cmp expect actual
'

test_expect_success 'an old MANIFEST: no "Not in this backup" section, the window as before' '
	! grep -q "Not in this backup" old.mail/text old.mail/html &&
	grep -x "  credit_transactions.csv    public.credit_transactions                3  created_at >= 2026-09-01 08:17:09.123456" old.mail/text &&
	grep "^\[bk\] Backup OK " old.mail/subject
'

# The run's archive has a packing warning (a missing configuration file), so
# it does not depend on what the exporter warns about.
test_expect_success 'bk-run: an archive with warnings is ok in the history, reason "N warnings: FIRST"' '
	rm -f "$BACKUP_CONFIG_DIR/nginx.prod.conf" &&
	bk-run --no-mail >path 2>err &&
	tar -xzOf "$(cat path)" MANIFEST >manifest &&
	grep -q -x -F "# warning: config file nginx.prod.conf missing in $BACKUP_CONFIG_DIR (BACKUP_CONFIG_DIR)" manifest &&
	n=$(grep -c "^# warning: " manifest) &&
	first=$(sed -n "s/^# warning: //p" manifest | head -n 1 | tr "\t" " ") &&
	if [ "$n" = 1 ]; then note="1 warning: $first"; else note="$n warnings: $first"; fi &&
	tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f 2,5,6 >actual &&
	printf "ok\t%s\t%s\n" "$(basename "$(cat path)")" "${note:0:511}" >expect &&
	test_cmp expect actual &&
	grep -F "WARN bk-run[" err >warn &&
	grep -F "]: backup done with $note" warn
'

test_expect_success 'bk-monitor still reads that history: healthy' '
	bk-monitor >out 2>err &&
	grep "^healthy: last backup " out
'

test_expect_success 'an ok run without warnings keeps the reason "-"' '
	touch "$BACKUP_CONFIG_DIR/nginx.prod.conf" &&
	bk-run --no-mail >path 2>err &&
	tar -xzOf "$(cat path)" MANIFEST >manifest &&
	if grep -q "^# warning: " manifest; then
		test_diag "the export itself warns: $(grep "^# warning: " manifest | head -n 1)"
	else
		tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f 2,6 >actual &&
		printf "ok\t-\n" >expect &&
		test_cmp expect actual &&
		! grep -q "backup done with" err
	fi
'

# bk-run finds its tools next to itself: a copy beside a stand-in bk-export
# shows what bk-run does with --plan's output and exit code, whatever the
# real exporter does.
test_expect_success 'bk-run --dry-run runs bk-export --plan, its table on stderr (stand-in)' '
	mkdir fake &&
	cp "$BK_BUILD_DIR/bin/bk-run" fake/ &&
	cat >fake/bk-export <<-\EOF &&
	#!/bin/sh
	echo "$*" >>"$TRASH/fake-args"
	test "$1" = --plan || exit 2
	echo "2026-12-01T00:00:00+00:00 WARN bk-export[1]: table public.nope does not exist" >&2
	echo "# plan: database smart_ai_hub, scope built-in scope, 2 tables: 1 full, 0 window, 0 added, 1 omitted"
	printf "%-8s %-40s %8s  %s  %s\n" full public.users "~200" users.sql "" \
		omitted public.sessions "~50" - "omit sessions (built-in scope line 3)"
	exit ${FAKE_CODE:-0}
	EOF
	chmod +x fake/bk-export &&
	ls -A "$BACKUP_DIR" >before &&
	fake/bk-run --dry-run --no-mail >out 2>err &&
	test ! -s out &&
	echo --plan >expect &&
	test_cmp expect fake-args &&
	ls -A "$BACKUP_DIR" >after &&
	test_cmp before after &&
	grep -v "^[0-9T:+-]* [A-Z]* bk-[a-z]*\[[0-9]*\]: " err >actual &&
	printf "%-8s %-40s %8s  %s  %s\n" full public.users "~200" users.sql "" \
		omitted public.sessions "~50" - "omit sessions (built-in scope line 3)" >expect &&
	test_cmp expect actual &&
	grep -q "INFO bk-run\[[0-9]*\]: dry run: plan: database smart_ai_hub, scope built-in scope, 2 tables: 1 full, 0 window, 0 added, 1 omitted\$" err &&
	grep -q "WARN bk-export\[1\]: table public.nope does not exist\$" err &&
	grep -q "INFO bk-run\[[0-9]*\]: dry run: plan: database smart_ai_hub" "$BACKUP_LOG"
'

test_expect_success 'bk-run --dry-run fails as --plan does: 1, or 2 for configuration' '
	FAKE_CODE=1 test_expect_code 1 fake/bk-run --dry-run --no-mail >out 2>err &&
	grep -q "ERROR bk-run\[[0-9]*\]: dry run: bk-export --plan failed (exit 1): " err &&
	FAKE_CODE=2 test_expect_code 2 fake/bk-run --dry-run --no-mail >out 2>err
'

if bk-export --help 2>/dev/null | grep -q -- "--plan"; then
	test_expect_success 'bk-run --dry-run shows bk-export --plan on stderr, makes nothing' '
		bk-export --plan >plan 2>/dev/null &&
		ls "$BACKUP_DIR" >before &&
		bk-run --dry-run --no-mail >out 2>err &&
		test ! -s out &&
		ls "$BACKUP_DIR" >after &&
		test_cmp before after &&
		sed 1d plan >expect &&
		grep -v "^[0-9T:+-]* [A-Z]* bk-[a-z]*\[[0-9]*\]: " err >actual &&
		test_cmp expect actual &&
		grep -F "INFO bk-run[" err | grep -F "]: dry run: ${SQ}$(head -n 1 plan | cut -c3-)${SQ}" ||
		grep -F "]: dry run: $(head -n 1 plan | cut -c3-)" err
	'
else
	test_skip 'bk-run --dry-run shows bk-export --plan' 'bin/bk-export has no --plan yet'
fi

test_done
