#!/bin/bash
# bk-unpack --restore into a database that is not empty: refused while the
# backed-up tables hold rows (listed with their counts, nothing changed);
# --replace empties exactly those tables (windowed ones: their rows in the
# window; t0714 has the details) and loads the backup in the same
# transaction; tables that exist but are empty get the data only; --dry-run
# says all this and changes nothing.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'bk-unpack --restore: populated databases, --replace, --dry-run'

test_need_programs bk-export bk-pack
pg_start && pg_load_fixture || exit 1

full_tables="users user_roles organizations agencies referrals exchange_rates system_settings plans currencies"
window_tables="credit_transactions point_transactions purchases transfers"

rows() {
	pg_psql -d "$1" -c "COPY ($2) TO STDOUT"
}

# same_as_backup DB [kept]: every backed-up table of DB holds what the archive
# holds; with "kept", windowed tables also their source rows older than the
# window (what --replace keeps of a copy of the source).
same_as_backup() {
	for t in $full_tables; do
		rows smart_ai_hub "SELECT * FROM public.$t ORDER BY 1" >expect &&
		rows "$1" "SELECT * FROM public.$t ORDER BY 1" >actual &&
		test_cmp expect actual || { echo "table $t differs"; return 1; }
	done &&
	for t in $window_tables; do
		cutoff=$(sed -n "s/^# window: $t.csv created_at >= //p" MANIFEST) &&
		if [ "$2" = kept ]; then since=; else since="WHERE created_at >= $SQ$cutoff$SQ"; fi &&
		rows smart_ai_hub "SELECT * FROM public.$t $since ORDER BY id" >expect &&
		rows "$1" "SELECT * FROM public.$t ORDER BY id" >actual &&
		test_cmp expect actual || { echo "table $t differs"; return 1; }
	done
}

test_expect_success 'setup: an archive of the fixture; a copy of the source database' '
	export BACKUP_CONFIG_FILES=" " &&
	bk-export -o "$TRASH/export" >export.out 2>export.err &&
	bk-pack -o "$TRASH/backup.tar.gz" "$TRASH/export" >archive 2>pack.err &&
	tar -xzOf backup.tar.gz MANIFEST >MANIFEST &&
	pg_psql -d postgres -c "CREATE DATABASE live TEMPLATE smart_ai_hub"
'

test_expect_success 'into the populated database: refused, tables listed with their rows' '
	pg_dump_text live >before &&
	POSTGRES_DB=live test_expect_code 1 bk-unpack --restore --unsigned backup.tar.gz >stdout 2>err &&
	test ! -s stdout &&
	grep -q "ERROR bk-unpack\[[0-9]*\]: 16 of the backed-up tables in live hold rows: refusing to restore over them" err &&
	sed -n "s/^.* ERROR bk-unpack\[[0-9]*\]:   //p" err >actual &&
	cat >expect <<-\EOF &&
	public.users: 200 rows
	public.user_roles: 206 rows
	public.organizations: 10 rows
	public.agencies: 5 rows
	public.referrals: 95 rows
	public.exchange_rates: 6 rows
	public.system_settings: 8 rows
	public.credit_transactions: 1000 rows
	public.point_transactions: 700 rows
	public.purchases: 300 rows
	public.transfers: 250 rows
	public."UserProfile": 20 rows
	public._prisma_migrations: 2 rows
	public.currencies: 3 rows
	public.plans: 4 rows
	public."ข้อมูล": 5 rows
	EOF
	test_cmp expect actual &&
	grep -q "hint: --replace replaces their rows with the backup${SQ}s in one transaction (windowed tables keep their rows older than the window), --replace-all empties them first" err &&
	pg_dump_text live >after &&
	test_cmp before after
'

test_expect_success '--dry-run shows the replacement and the refusal, changes nothing' '
	POSTGRES_DB=live test_expect_code 1 bk-unpack --dry-run backup.tar.gz >stdout 2>err &&
	grep -q "^  replace  public.users  *200  *0  *200  users.sql$" stdout &&
	grep -A1 "^  window   public.credit_transactions  *600  *400  *600  credit_transactions.csv$" stdout >actual &&
	grep -q "^           \[created_at >= .*\]$" actual &&
	grep -q "^  would refuse: 16 tables hold rows (--replace replaces their rows, --replace-all empties them)$" stdout &&
	POSTGRES_DB=live bk-unpack --dry-run --restore --unsigned --replace backup.tar.gz >stdout 2>err &&
	! grep -q "would refuse" stdout &&
	grep -q "^nothing changed (dry run)$" stdout &&
	test "$(ls -A "$BACKUP_TMPDIR")" = "" &&
	pg_dump_text live >after &&
	test_cmp before after
'

test_expect_success 'setup: the live database moves on after the backup' '
	pg_psql -d live <<-\EOF
	UPDATE users SET name = $$changed$$ WHERE email LIKE $$user1%$$;
	DELETE FROM user_roles WHERE id % 3 = 0;
	INSERT INTO users (email, updated_at) VALUES ($$late@example.com$$, now());
	INSERT INTO credit_transactions (user_id, type, amount, balance_after)
		SELECT id, $$BONUS$$, 1, 1 FROM users WHERE email = $$late@example.com$$;
	UPDATE system_settings SET value = $${"x": 1}$$;
	-- sessions is outside the backup: its rows must survive a --replace.
	DELETE FROM sessions WHERE user_id NOT IN (SELECT id FROM users WHERE email LIKE $$user%$$);
	EOF
'

test_expect_success '--replace: the backed-up tables become the backup, in one transaction' '
	pg_psql -d live -At -c "SELECT count(*) FROM sessions" >sessions.before &&
	test "$(cat sessions.before)" -gt 0 &&
	rows live "SELECT * FROM sessions ORDER BY id" >sessions.rows &&
	POSTGRES_DB=live bk-unpack --restore --unsigned --replace backup.tar.gz >stdout 2>err &&
	echo "127.0.0.1:$POSTGRES_PORT/live" >expect &&
	test_cmp expect stdout &&
	grep -q "the tables exist: loading data only (replacing their rows)" err &&
	same_as_backup live kept
'

test_expect_success '--replace left the other tables, keys, triggers and sequences working' '
	rows live "SELECT * FROM sessions ORDER BY id" >actual &&
	test_cmp sessions.rows actual &&
	test "$(pg_psql -d live -At -c "SELECT count(*) FROM logs")" = 100 &&
	test_must_fail pg_psql -d live -c "INSERT INTO user_roles (user_id, role) VALUES (gen_random_uuid(), ${SQ}USER${SQ})" 2>fk.err &&
	grep -q "violates foreign key constraint" fk.err &&
	pg_psql -d live -At -c "SELECT tgenabled FROM pg_trigger WHERE tgname = ${SQ}users_set_updated_at${SQ}" >actual &&
	echo O >expect &&
	test_cmp expect actual &&
	pg_psql -d live -At -c "INSERT INTO credit_transactions (user_id, type, amount, balance_after) VALUES (md5(${SQ}user-1${SQ})::uuid, ${SQ}BONUS${SQ}, 1, 1) RETURNING id" >actual &&
	echo 1001 >expect &&
	test_cmp expect actual
'

test_expect_success '--replace fails and changes nothing when other rows would dangle' '
	pg_psql -d live <<-\EOF &&
	INSERT INTO users (id, email, updated_at) VALUES (md5($$ghost$$)::uuid, $$ghost@example.com$$, now());
	INSERT INTO sessions (user_id, token, expires_at) VALUES (md5($$ghost$$)::uuid, $$t-ghost$$, now());
	EOF
	pg_dump_text live >before &&
	POSTGRES_DB=live test_expect_code 1 bk-unpack --restore --unsigned --replace backup.tar.gz >stdout 2>err &&
	test ! -s stdout &&
	grep -q "ERROR bk-unpack\[[0-9]*\]: foreign key sessions_user_id_fkey on public.sessions: insert or update on table \"sessions\" violates foreign key constraint" err &&
	grep -q "hint: rows of the database that are not in the backup refer to rows" err &&
	pg_dump_text live >after &&
	test_cmp before after
'

test_expect_success 'tables that exist but are empty get the data without --replace' '
	pg_psql -d postgres -c "CREATE DATABASE migrated" &&
	pg_psql -d migrated -f "$FIXTURES/schema.sql" &&
	POSTGRES_DB=migrated bk-unpack --restore --unsigned backup.tar.gz >stdout 2>err &&
	grep -q "the tables exist: loading data only$" err &&
	same_as_backup migrated
'

test_expect_success 'a database with only some of the tables: refused, nothing changed' '
	pg_psql -d postgres -c "CREATE DATABASE partial" &&
	pg_psql -d partial -c "CREATE TABLE users (id int); CREATE TABLE currencies (code text)" &&
	pg_dump_text partial >before &&
	POSTGRES_DB=partial test_expect_code 1 bk-unpack --restore --unsigned --replace backup.tar.gz 2>err &&
	grep -q "the database has 2 of the 16 backed-up tables; missing: public.user_roles, " err &&
	pg_dump_text partial >after &&
	test_cmp before after
'

test_expect_success 'an unreachable database: the dry run says so and fails' '
	POSTGRES_DB=nosuchdb test_expect_code 1 bk-unpack --dry-run backup.tar.gz >stdout 2>err &&
	grep -q "^  cannot connect: cannot connect to 127.0.0.1:$POSTGRES_PORT as postgres: database \"nosuchdb\" does not exist$" stdout
'

test_done
