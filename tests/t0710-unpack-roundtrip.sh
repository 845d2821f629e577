#!/bin/bash
# The round trip with the real tools: bk-export, bk-pack, then bk-unpack
# --restore into a fresh empty database. Every backed-up table comes back row
# for row (windowed tables: the source rows inside the window), the schema
# is the whole database's, tables the rules leave out exist and are empty, and
# the application can go on: sequences ahead, foreign keys enforced.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'bk-unpack --restore: round trip into an empty database'

test_need_programs bk-export bk-pack
pg_start && pg_load_fixture || exit 1

full_tables='users user_roles organizations agencies referrals exchange_rates system_settings plans currencies _prisma_migrations "UserProfile" "ข้อมูล"'
window_tables="credit_transactions point_transactions purchases transfers"
outside_tables='sessions logs audit_logs'

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

test_expect_success 'setup: configuration files, an export and its archive' '
	mkdir -p config/ssl backups &&
	echo "POSTGRES_PASSWORD=app-secret" >config/.env.production &&
	echo "services: {}" >config/docker-compose.prod.yml &&
	echo "events {}" >config/nginx.prod.conf &&
	echo "CERT" >config/ssl/cert.pem &&
	echo "KEY" >config/ssl/server.key &&
	bk-export -o "$TRASH/export" >export.out 2>export.err &&
	bk-pack "$TRASH/export" >archive 2>pack.err &&
	test -s "$(cat archive)" &&
	tar -xzOf "$(cat archive)" MANIFEST >MANIFEST
'

test_expect_success 'restore into a fresh empty database' '
	pg_psql -d postgres -c "CREATE DATABASE restored" &&
	POSTGRES_DB=restored bk-unpack --restore --unsigned "$(cat archive)" >stdout 2>err &&
	echo "127.0.0.1:$POSTGRES_PORT/restored" >expect &&
	test_cmp expect stdout
'

test_expect_success 'the time of each phase is reported' '
	grep -q "INFO bk-unpack\[[0-9]*\]: phase times: verify [0-9.]* s, extract [0-9.]* s, schema [0-9.]* s, data [0-9.]* s, post-data [0-9.]* s, total [0-9.]* s$" err &&
	grep -q "phase times: verify" backup.log
'

test_expect_success 'full tables are identical row for row' '
	for t in $full_tables; do
		rows smart_ai_hub "SELECT * FROM public.$t ORDER BY 1" >expect &&
		rows restored "SELECT * FROM public.$t ORDER BY 1" >actual &&
		test -s expect &&
		test_cmp expect actual || { echo "table $t differs"; exit 1; }
	done
'

test_expect_success 'windowed tables hold exactly the source rows inside the window' '
	for t in $window_tables; do
		cutoff=$(sed -n "s/^# window: $t.csv created_at >= //p" MANIFEST) &&
		test -n "$cutoff" &&
		rows smart_ai_hub "SELECT * FROM public.$t WHERE created_at >= $SQ$cutoff$SQ ORDER BY id" >expect &&
		rows restored "SELECT * FROM public.$t ORDER BY id" >actual &&
		test "$(wc -l <actual)" = "$(pg_expected_count $t window)" &&
		test_cmp expect actual || { echo "table $t differs"; exit 1; }
	done
'

test_expect_success 'the row counts are those of MANIFEST' '
	sed -n "s/^# table: [^ ]* \([0-9]*\) \(.*\)$/\2 \1/p" MANIFEST >expect &&
	test "$(wc -l <expect)" = 16 &&
	while read -r table n; do
		echo "$table $(pg_psql -d restored -At -c "SELECT count(*) FROM $table")"
	done <expect >actual &&
	test_cmp expect actual
'

test_expect_success 'tables the rules leave out exist and are empty' '
	for t in $outside_tables; do
		test "$(pg_psql -d restored -At -c "SELECT count(*) FROM public.$t")" = 0 ||
			{ echo "table $t"; exit 1; }
	done
'

test_expect_success 'the schema is the whole database: types, views, indexes, keys, triggers' '
	schema smart_ai_hub >expect &&
	schema restored >actual &&
	test_cmp expect actual
'

test_expect_success 'sequences are past the data: inserts without ids succeed' '
	for s in credit_transactions_id_seq point_transactions_id_seq transfers_id_seq \
		 user_roles_id_seq referrals_id_seq exchange_rates_id_seq; do
		pg_query "SELECT last_value FROM public.$s" >expect &&
		pg_psql -d restored -At -c "SELECT last_value FROM public.$s" >actual &&
		test_cmp expect actual || { echo "sequence $s"; exit 1; }
	done &&
	pg_psql -d restored -At >ids <<-\EOF &&
	INSERT INTO credit_transactions (user_id, type, amount, balance_after)
		VALUES (md5($$user-1$$)::uuid, $$BONUS$$, 5, 5) RETURNING id;
	INSERT INTO transfers (from_user_id, to_user_id, amount)
		VALUES (md5($$user-1$$)::uuid, md5($$user-2$$)::uuid, 1) RETURNING id;
	INSERT INTO user_roles (user_id, role) VALUES (md5($$user-7$$)::uuid, $$ADMIN$$) RETURNING id;
	INSERT INTO users (email, updated_at) VALUES ($$new@example.com$$, now()) RETURNING 1;
	EOF
	printf "%s\n" 1001 251 207 1 >expect &&
	test_cmp expect ids
'

test_expect_success 'foreign keys and unique keys are enforced' '
	test_must_fail pg_psql -d restored -c "INSERT INTO credit_transactions (user_id, type, amount, balance_after) VALUES (${SQ}00000000-0000-0000-0000-000000000000${SQ}, ${SQ}BONUS${SQ}, 1, 1)" 2>fk.err &&
	grep -q "violates foreign key constraint" fk.err &&
	test_must_fail pg_psql -d restored -c "DELETE FROM plans" 2>fk2.err &&
	grep -q "violates foreign key constraint" fk2.err &&
	test_must_fail pg_psql -d restored -c "INSERT INTO users (email, updated_at) VALUES (${SQ}admin@smart-ai-hub.test${SQ}, now())" 2>uq.err &&
	grep -q "duplicate key value violates unique constraint \"users_email_key\"" uq.err
'

test_expect_success 'the temporary extraction was removed' '
	test "$(ls -A "$BACKUP_TMPDIR")" = ""
'

test_expect_success 'as the application role owning an empty database (not a superuser)' '
	pg_psql -d postgres <<-\EOF &&
	CREATE ROLE app LOGIN PASSWORD $$app-pw$$;
	CREATE DATABASE appdb OWNER app;
	EOF
	POSTGRES_DB=appdb POSTGRES_USER=app POSTGRES_PASSWORD=app-pw \
		bk-unpack --restore --unsigned "$(cat archive)" >stdout 2>err || { cat err; exit 1; }
	for t in $full_tables; do
		rows smart_ai_hub "SELECT * FROM public.$t ORDER BY 1" >expect &&
		rows appdb "SELECT * FROM public.$t ORDER BY 1" >actual &&
		test_cmp expect actual || exit 1
	done &&
	test "$(pg_psql -d appdb -At -c "SELECT tableowner FROM pg_tables WHERE tablename = ${SQ}users${SQ}")" = app
'

test_expect_success '-C DIR with --restore keeps the extracted files' '
	pg_psql -d postgres -c "CREATE DATABASE restored2" &&
	POSTGRES_DB=restored2 bk-unpack -C kept --restore --unsigned "$(cat archive)" >stdout 2>err &&
	printf "%s\n" kept "127.0.0.1:$POSTGRES_PORT/restored2" >expect &&
	test_cmp expect stdout &&
	cmp MANIFEST kept/MANIFEST &&
	rows smart_ai_hub "SELECT * FROM public.users ORDER BY 1" >expect &&
	rows restored2 "SELECT * FROM public.users ORDER BY 1" >actual &&
	test_cmp expect actual
'

test_expect_success 'the password never reaches the log or the output' '
	! grep -r -e "$POSTGRES_PASSWORD" -e app-pw backup.log stdout err
'

test_done
