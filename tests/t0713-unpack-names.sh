#!/bin/bash
# Restore of a custom scope with names in every form: mixed case and Thai
# tables as CSV (their headers name columns like "label ""quoted"""), another
# schema, partitioned tables (one windowed), a table named like an SQL
# injection. Into an empty database, then with --replace.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'bk-unpack --restore: quoted, Thai, partitioned and odd names'

test_need_programs bk-export bk-pack
pg_start && pg_load_fixture || exit 1
pg_psql <<-\EOF || exit 1
CREATE SCHEMA "Other Schema";
CREATE TABLE "Other Schema"."Mixed Case" (id int PRIMARY KEY, "Value" text);
INSERT INTO "Other Schema"."Mixed Case" VALUES (1, 'one'), (2, E'two\nlines\t"q"');
CREATE TABLE events (id bigserial, at timestamptz NOT NULL, payload text)
	PARTITION BY RANGE (at);
CREATE TABLE events_old PARTITION OF events FOR VALUES FROM (MINVALUE) TO ('2000-01-01');
CREATE TABLE events_new PARTITION OF events FOR VALUES FROM ('2000-01-01') TO (MAXVALUE);
INSERT INTO events (at, payload)
	SELECT now() - i * interval '10 days', 'event ' || i FROM generate_series(1, 30) i;
INSERT INTO events (at, payload) VALUES ('1999-01-01', 'ancient');
CREATE TABLE metrics (day date NOT NULL, n int) PARTITION BY RANGE (day);
CREATE TABLE metrics_all PARTITION OF metrics FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
INSERT INTO metrics SELECT DATE '2026-01-01' + i, i FROM generate_series(1, 12) i;
CREATE TABLE "evil""; DROP TABLE users; --" (x int);
INSERT INTO "evil""; DROP TABLE users; --" VALUES (42);
INSERT INTO "ข้อมูล" ("ชื่อ", "label ""quoted""") VALUES
	(E'comma, "quote"\nnewline', E'back\\slash'), ('', NULL);
EOF

tables='public."UserProfile"
public."ข้อมูล"
"Other Schema"."Mixed Case"
public.metrics
public."evil""; DROP TABLE users; --"
public.users
public.plans'

# same DB: the tables equal the source's (events: inside the window).
same() {
	while IFS= read -r t; do
		q="COPY (SELECT * FROM $t ORDER BY 1) TO STDOUT" &&
		pg_psql -c "$q" >expect &&
		pg_psql -d "$1" -c "$q" >actual &&
		test_cmp expect actual || { echo "table $t differs"; return 1; }
	done <<<"$tables" &&
	cutoff=$(sed -n "s/^# window: events.csv at >= //p" MANIFEST) &&
	pg_psql -c "COPY (SELECT * FROM events WHERE at >= ${SQ}$cutoff${SQ} ORDER BY id) TO STDOUT" >expect &&
	pg_psql -d "$1" -c "COPY (SELECT * FROM events ORDER BY id) TO STDOUT" >actual &&
	test_cmp expect actual &&
	test "$(wc -l <actual)" -gt 0 && test "$(wc -l <actual)" -lt 31
}

test_expect_success 'setup: a backup of a custom scope' '
	cat >names.scope <<-\EOF &&
	profile.csv   "UserProfile"
	thai.csv      ข้อมูล
	mixed.sql     "Other Schema"."Mixed Case"
	events.csv    events   since=at:3 months
	metrics.sql   public.metrics
	evil.sql      "evil""; DROP TABLE users; --"
	EOF
	export BACKUP_CONFIG_FILES=" " &&
	BACKUP_SCOPE=$TRASH/names.scope bk-export -o "$TRASH/export" >out 2>err &&
	bk-pack -o "$TRASH/backup.tar.gz" "$TRASH/export" >out 2>err &&
	tar -xzOf backup.tar.gz MANIFEST >MANIFEST &&
	grep -q "^# table: thai.csv 7 public.\"ข้อมูล\"$" MANIFEST &&
	tar -xzOf backup.tar.gz thai.csv | head -n 1 >header &&
	echo "รหัส,ชื่อ,\"label \"\"quoted\"\"\"" >expect &&
	test_cmp expect header
'

test_expect_success 'restore into an empty database: every table identical' '
	pg_psql -d postgres -c "CREATE DATABASE restored" &&
	POSTGRES_DB=restored bk-unpack --restore --unsigned backup.tar.gz >stdout 2>err &&
	same restored &&
	test "$(pg_psql -d restored -At -c "SELECT count(*) FROM users")" = 200
'

test_expect_success '--replace over changed rows: identical again, older events kept' '
	pg_psql -d restored <<-\EOF &&
	DELETE FROM "ข้อมูล";
	UPDATE "Other Schema"."Mixed Case" SET "Value" = $$changed$$;
	INSERT INTO events (at, payload) VALUES (now(), $$new$$), ($$1990-01-01$$, $$older$$);
	INSERT INTO metrics VALUES ($$2030-01-01$$, 99);
	DELETE FROM "evil""; DROP TABLE users; --";
	EOF
	test_expect_code 1 env POSTGRES_DB=restored bk-unpack --restore --unsigned backup.tar.gz 2>err &&
	grep -q "^.* ERROR bk-unpack\[[0-9]*\]:   \"Other Schema\".\"Mixed Case\": 2 rows$" err &&
	! grep -q "evil.*rows$" err &&
	POSTGRES_DB=restored bk-unpack --restore --unsigned --replace backup.tar.gz >stdout 2>err &&
	pg_psql -d restored -At -c "SELECT payload FROM events WHERE at < ${SQ}2000-01-01${SQ}" >actual &&
	echo older >expect &&
	test_cmp expect actual &&
	pg_psql -d restored -c "DELETE FROM events WHERE payload = ${SQ}older${SQ}" &&
	same restored
'

test_expect_success '--replace-all: the older events go too' '
	pg_psql -d restored -c "INSERT INTO events (at, payload) VALUES (${SQ}1990-01-01${SQ}, ${SQ}older${SQ})" &&
	POSTGRES_DB=restored bk-unpack --restore --unsigned --replace-all backup.tar.gz >stdout 2>err &&
	same restored
'

test_done
