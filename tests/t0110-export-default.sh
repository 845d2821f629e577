#!/bin/bash
# bk-export with the built-in scope against the fixture database: exactly the
# files of DESIGN.md, row counts, no out-of-scope data, foreign-key closure,
# a restore into a fresh database that gives identical rows, the log, the password.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'bk-export of the default scope'

test_need_programs bk-export
pg_start && pg_load_fixture || exit 1

# pg_dump through a shim that records its arguments and whether the password
# came by environment, then runs the real one.
real_pg_dump=$(command -v pg_dump) || test_skip_all "pg_dump not installed"
mkdir -p "$TRASH/shim"
cat >"$TRASH/shim/pg_dump" <<EOF
#!/bin/sh
# pg_dump --version (bk-export's version check) has no database to reach
[ "\$*" = --version ] && exec "$real_pg_dump" --version
printf '%s\n' "\$@" >>"$TRASH/pg_dump.argv"
if [ "\$PGPASSWORD" = "\$(cat "$TRASH/pw.expected")" ]; then echo pw-by-env; else echo no-pw; fi >>"$TRASH/pg_dump.env"
env | grep -E "^(POSTGRES_PASSWORD|DATABASE_URL|SMTP_PASS|BACKUP_LINK_SECRET)=" >>"$TRASH/pg_dump.env"
exec "$real_pg_dump" "\$@"
EOF
chmod +x "$TRASH/shim/pg_dump"

full_tables="users user_roles organizations agencies referrals exchange_rates system_settings"
# Tables the spec does not name: backed up in full, each in a file of its own.
other_tables="UserProfile _prisma_migrations currencies plans ข้อมูล"
window_tables="credit_transactions point_transactions purchases transfers"

test_expect_success 'export prints the absolute directory and exits 0' '
	(umask 077 && echo "$POSTGRES_PASSWORD" >pw.expected) &&
	SMTP_PASS=smtp-secret PATH=$TRASH/shim:$PATH bk-export -o out >path 2>err &&
	rm pw.expected &&
	echo "$TRASH/out" >expect &&
	test_cmp expect path
'

test_expect_success 'exactly the files of the default scope' '
	printf "%s\n" MANIFEST UserProfile.sql _prisma_migrations.sql config.sql \
		credit_transactions.csv currencies.sql organization.sql plans.sql \
		point_transactions.csv purchases.csv schema-post.sql schema.sql \
		sequences.sql transfers.csv users.sql ข้อมูล.sql >expect &&
	LC_ALL=C ls -A out >actual &&
	test_cmp expect actual
'

test_expect_success 'directory 0700, files 0600' '
	test "$(stat -c %a out)" = 700 &&
	stat -c "%a %n" out/* | sort -u -k1,1 | cut -d" " -f1 >actual &&
	echo 600 >expect &&
	test_cmp expect actual
'

test_expect_success 'MANIFEST: sha256 and size of every file, in restore order' '
	grep -v "^#" out/MANIFEST >members &&
	cut -d" " -f4 members >actual &&
	printf "%s\n" schema.sql users.sql organization.sql config.sql \
		credit_transactions.csv point_transactions.csv purchases.csv transfers.csv \
		UserProfile.sql _prisma_migrations.sql currencies.sql plans.sql ข้อมูล.sql \
		sequences.sql schema-post.sql >order &&
	test_cmp order actual &&
	while read -r sum bytes rows name; do
		echo "$sum $bytes $name"
	done <members >actual &&
	(cd out && for f in $(cat ../order); do
		echo "$(sha256sum "$f" | cut -d" " -f1) $(stat -c %s "$f") $f"
	done) >expect &&
	test_cmp expect actual
'

test_expect_success 'MANIFEST: metadata lines' '
	grep -q "^# format: bk 1$" out/MANIFEST &&
	grep -q "^# created: [0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9:]\{8\}[+-][0-9][0-9]:[0-9][0-9]$" out/MANIFEST &&
	grep -q "^# host: 127.0.0.1:$POSTGRES_PORT$" out/MANIFEST &&
	grep -q "^# database: smart_ai_hub$" out/MANIFEST &&
	grep -q "^# server_version: $(pg_query "SHOW server_version" | sed "s/[].[*^$]/\\\\&/g")$" out/MANIFEST &&
	grep -q "^# snapshot: [0-9A-F-]*$" out/MANIFEST &&
	! grep -q "^# warning:" out/MANIFEST
'

test_expect_success 'MANIFEST: one table line per table, rows equal to the source' '
	{
		for t in users user_roles; do echo "users.sql $(pg_expected_count $t) public.$t"; done
		for t in organizations agencies referrals; do
			echo "organization.sql $(pg_expected_count $t) public.$t"
		done
		for t in exchange_rates system_settings; do
			echo "config.sql $(pg_expected_count $t) public.$t"
		done
		for t in $window_tables; do
			echo "$t.csv $(pg_expected_count $t window) public.$t"
		done
		echo "UserProfile.sql $(pg_expected_count UserProfile) public.\"UserProfile\""
		for t in _prisma_migrations currencies plans; do
			echo "$t.sql $(pg_expected_count $t) public.$t"
		done
		echo "ข้อมูล.sql $(pg_expected_count ข้อมูล) public.\"ข้อมูล\""
	} >expect &&
	sed -n "s/^# table: //p" out/MANIFEST >actual &&
	test_cmp expect actual
'

test_expect_success 'MANIFEST: member row counts are the sums of their tables' '
	{
		echo "users.sql $(( $(pg_expected_count users) + $(pg_expected_count user_roles) ))"
		echo "organization.sql $(( $(pg_expected_count organizations) + $(pg_expected_count agencies) + $(pg_expected_count referrals) ))"
		echo "config.sql $(( $(pg_expected_count exchange_rates) + $(pg_expected_count system_settings) ))"
		for t in $window_tables; do echo "$t.csv $(pg_expected_count $t window)"; done
		for t in $other_tables; do echo "$t.sql $(pg_expected_count $t)"; done
		echo "sequences.sql 0"
		echo "schema.sql -"
		echo "schema-post.sql -"
	} | sort >expect &&
	grep -v "^#" out/MANIFEST | while read -r sum bytes rows name; do
		echo "$name $rows"
	done | sort >actual &&
	test_cmp expect actual
'

test_expect_success 'the window is the server clock minus 3 months, once for all files' '
	sed -n "s/^# window: //p" out/MANIFEST >windows &&
	test $(wc -l <windows) = 4 &&
	cut -d" " -f4- windows | sort -u >cutoffs &&
	test $(wc -l <cutoffs) = 1 &&
	for t in $window_tables; do grep -q "^$t.csv created_at >= " windows; done &&
	cutoff=$(cat cutoffs) &&
	test "$(pg_query "SELECT (now() AT TIME ZONE ${SQ}UTC${SQ}) - interval ${SQ}3 months${SQ} - ${SQ}$cutoff${SQ}::timestamp BETWEEN interval ${SQ}0${SQ} AND interval ${SQ}10 minutes${SQ}")" = t &&
	sed -n "s/^# window-rows: //p" out/MANIFEST >actual &&
	for t in $window_tables; do
		echo "$t.csv $(pg_expected_count $t window) $(pg_expected_count $t) 0 UTC"
	done >expect &&
	test_cmp expect actual
'

test_expect_success 'the .sql files are pg_dump-style COPY blocks' '
	grep "^COPY " out/users.sql >actual &&
	cat >expect <<-\EOF &&
	COPY public.users (id, email, name, bio, role, tags, metadata, avatar, plan_id, organization_id, referred_by, credits, points, is_active, created_at, updated_at) FROM stdin;
	COPY public.user_roles (id, user_id, role, granted_at) FROM stdin;
	EOF
	test_cmp expect actual &&
	test $(grep -c "^\\\\\\.$" out/users.sql) = 2 &&
	grep -q "^SELECT pg_catalog.setval(${SQ}public.user_roles_id_seq${SQ}, 206, true);$" out/users.sql
'

test_expect_success 'generated columns are left out, the CSV has a header' '
	head -n 1 out/purchases.csv >actual &&
	echo "id,user_id,status,amount,currency,items,receipt,created_at" >expect &&
	test_cmp expect actual
'

test_expect_success 'no sessions, logs or audit_logs data in any file' '
	! grep -h "^COPY" out/*.sql | grep -E "public\.(sessions|logs|audit_logs) " &&
	! grep -E "^# table: .* public\.(sessions|logs|audit_logs)$" out/MANIFEST &&
	pg_query "SELECT token FROM sessions" >tokens &&
	test $(wc -l <tokens) = "$(pg_expected_count sessions)" &&
	! grep -F -f tokens out/*.sql out/*.csv &&
	pg_query "SELECT action FROM audit_logs UNION SELECT message FROM logs" | grep . >secrets &&
	! grep -F -x -f secrets out/*.csv
'

test_expect_success 'every other table is in: nothing added, sessions and logs omitted by their rules' '
	! grep "^# added: " out/MANIFEST &&
	grep "^# omitted: " out/MANIFEST >actual &&
	cat >expect <<-EOF &&
	# omitted: public.audit_logs $(pg_expected_count audit_logs) omit *_logs (built-in scope line 6)
	# omitted: public.logs $(pg_expected_count logs) omit logs (built-in scope line 6)
	# omitted: public.sessions $(pg_expected_count sessions) omit sessions (built-in scope line 5)
	EOF
	test_cmp expect actual &&
	grep "^COPY " out/plans.sql out/currencies.sql | cut -d" " -f2 >actual &&
	printf "%s\n" public.plans public.currencies >expect &&
	test_cmp expect actual
'

test_expect_success 'sequences.sql sets the sequences of the CSV tables' '
	grep "^SELECT" out/sequences.sql >actual &&
	cat >expect <<-EOF &&
	SELECT pg_catalog.setval(${SQ}public.credit_transactions_id_seq${SQ}, 1000, true);
	SELECT pg_catalog.setval(${SQ}public.point_transactions_id_seq${SQ}, 700, true);
	SELECT pg_catalog.setval(${SQ}public.transfers_id_seq${SQ}, 250, true);
	EOF
	test_cmp expect actual
'

test_expect_success 'schema.sql has every table, data files have no DDL' '
	for t in sessions logs audit_logs users transfers "\"UserProfile\""; do
		grep -q "^CREATE TABLE public.$t (" out/schema.sql
	done &&
	! grep -q "PRIMARY KEY\|FOREIGN KEY\|CREATE INDEX\|CREATE TRIGGER" out/schema.sql &&
	grep -q "FOREIGN KEY" out/schema-post.sql &&
	grep -q "CREATE TRIGGER users_set_updated_at" out/schema-post.sql &&
	! grep -q "CREATE\|ALTER\|DROP" out/users.sql out/plans.sql out/sequences.sql
'

restore_into() {
	pg_psql -d postgres -c "CREATE DATABASE $1" &&
	pg_psql -d "$1" -f "$2/schema.sql" >/dev/null &&
	for f in users organization config $other_tables; do
		pg_psql -d "$1" -f "$2/$f.sql" >/dev/null || return 1
	done &&
	for t in $window_tables; do
		pg_psql -d "$1" -c "\\copy public.$t FROM ${SQ}$2/$t.csv${SQ} WITH (FORMAT csv, HEADER)" || return 1
	done &&
	pg_psql -d "$1" -f "$2/sequences.sql" >/dev/null &&
	pg_psql -d "$1" -f "$2/schema-post.sql" >/dev/null
}

# rows DB TABLE [WHERE]: the table's rows in a stable order.
rows() {
	pg_psql -d "$1" -c "COPY (SELECT * FROM $2 ${3:+WHERE $3} ORDER BY 1) TO STDOUT"
}

test_expect_success 'a restore into a fresh database gives identical rows' '
	restore_into restored "$TRASH/out" &&
	cutoff=$(sed -n "s/^# window: transfers.csv created_at >= //p" out/MANIFEST) &&
	for t in $full_tables $other_tables; do
		t=$(pg_query "SELECT quote_ident(${SQ}$t${SQ})") &&
		rows smart_ai_hub "public.$t" >expect &&
		rows restored "public.$t" >actual &&
		test_cmp expect actual || exit 1
	done &&
	for t in $window_tables; do
		rows smart_ai_hub "public.$t" "created_at >= ${SQ}$cutoff${SQ}" >expect &&
		rows restored "public.$t" >actual &&
		test $(wc -l <actual) = "$(pg_expected_count $t window)" &&
		test_cmp expect actual || exit 1
	done
'

test_expect_success 'the restored database: sequences continue, other tables empty' '
	q="SELECT last_value, is_called FROM" &&
	for s in user_roles_id_seq referrals_id_seq exchange_rates_id_seq \
		credit_transactions_id_seq point_transactions_id_seq transfers_id_seq; do
		pg_psql -d smart_ai_hub -At -c "$q public.$s" >expect &&
		pg_psql -d restored -At -c "$q public.$s" >actual &&
		test_cmp expect actual || exit 1
	done &&
	for t in sessions logs audit_logs; do
		test "$(pg_psql -d restored -At -c "SELECT count(*) FROM public.$t")" = 0 || exit 1
	done &&
	test "$(pg_psql -d restored -At -c "SELECT count(*) FROM pg_constraint WHERE contype = ${SQ}f${SQ}")" = \
	     "$(pg_query "SELECT count(*) FROM pg_constraint WHERE contype = ${SQ}f${SQ}")"
'

test_expect_success 'the log has a line per step and per table with rows, bytes, seconds' '
	grep -q "INFO bk-export\[[0-9]*\]: connected to 127.0.0.1:$POSTGRES_PORT" "$BACKUP_LOG" &&
	grep -q "INFO bk-export\[[0-9]*\]: snapshot [0-9A-F-]* at " "$BACKUP_LOG" &&
	grep -q "INFO bk-export\[[0-9]*\]: schema.sql: pg_dump --section=pre-data, [0-9]* bytes, [0-9.]* s$" "$BACKUP_LOG" &&
	grep -q "INFO bk-export\[[0-9]*\]: schema-post.sql: pg_dump --section=post-data, [0-9]* bytes, [0-9.]* s$" "$BACKUP_LOG" &&
	grep -q "INFO bk-export\[[0-9]*\]: users.sql: public.users 200 rows, [0-9]* bytes, [0-9.]* s$" "$BACKUP_LOG" &&
	grep -q "INFO bk-export\[[0-9]*\]: transfers.csv: public.transfers 200 rows, [0-9]* bytes, [0-9.]* s$" "$BACKUP_LOG" &&
	grep -q "INFO bk-export\[[0-9]*\]: scope built-in scope: 19 tables: 12 full, 4 window, 0 added, 3 omitted$" "$BACKUP_LOG" &&
	test $(grep -c "bk-export\[[0-9]*\]: [^ ]*: public\.[^ ]* [0-9]* rows" "$BACKUP_LOG") = 16 &&
	grep -q "INFO bk-export\[[0-9]*\]: export done: 15 files, " "$BACKUP_LOG"
'

test_expect_success 'no progress escapes when stderr is not a terminal' '
	! grep -q "$(printf "\r")" err
'

test_expect_success 'on a terminal, a progress line on stderr' '
	cat >on-tty.py <<-\EOF &&
	import os, pty, subprocess, sys
	m, s = pty.openpty()
	p = subprocess.Popen(sys.argv[1:], stdout=open("tty.path", "w"), stderr=s)
	os.close(s)
	out = b""
	while True:
	    try:
	        d = os.read(m, 65536)
	    except OSError:
	        break
	    if not d:
	        break
	    out += d
	open("tty.err", "wb").write(out)
	sys.exit(p.wait())
	EOF
	/usr/bin/python3 on-tty.py bk-export -o tty &&
	test_path_is_file tty/MANIFEST &&
	# Two workers share the line: which table draws first is theirs to
	# decide, so any table at a multiple of 64 rows will do.
	grep -E -q "$(printf "\r\033")\\[K[a-z_]+\.(sql|csv): public\.[a-z_]+ (64|128|192|256|320|384|448|512|576|640) rows, [0-9.]+ (B|KB|MB), [0-9.]+ (B|KB|MB)/s" tty.err
'

test_expect_success 'the password is nowhere: log, stderr, stdout, pg_dump argv and env' '
	! grep -F -q "$PG_TEST_PASSWORD" "$BACKUP_LOG" err path pg_dump.argv &&
	grep -q "^--snapshot=" pg_dump.argv &&
	grep -q "^--dbname=.*port=${SQ}$POSTGRES_PORT${SQ}" pg_dump.argv &&
	printf "%s\n" pw-by-env pw-by-env >expect &&
	test_cmp expect pg_dump.env
'

test_expect_success 'without -o: a new private directory under BACKUP_TMPDIR' '
	bk-export >path 2>err &&
	dir=$(cat path) &&
	case $dir in "$BACKUP_TMPDIR"/bk-export.??????) ;; *) false ;; esac &&
	test "$(stat -c %a "$dir")" = 700 &&
	test_path_is_file "$dir/MANIFEST" &&
	ls -A "$dir" >actual &&
	ls -A out >expect &&
	test_cmp expect actual
'

test_expect_success '-o into an existing directory keeps what is there' '
	mkdir keep && echo mine >keep/notes.txt &&
	bk-export -o keep >path &&
	echo mine >expect && test_cmp expect keep/notes.txt &&
	test_path_is_file keep/MANIFEST
'

test_expect_success 'a file of the export already there: exit 1, nothing touched' '
	mkdir clash && echo mine >clash/users.sql &&
	test_expect_code 1 bk-export -o clash >out.txt 2>err &&
	test ! -s out.txt &&
	grep -q "ERROR bk-export\[[0-9]*\]: $TRASH/clash/users.sql already exists" err &&
	echo users.sql >expect && ls -A clash >actual && test_cmp expect actual &&
	echo mine >expect && test_cmp expect clash/users.sql
'

test_done
