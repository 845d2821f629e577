#!/bin/bash
# The manual restore of BACKUP_INFO.txt works as written: the export is made
# here with pg_dump and psql (no bk-export needed), packed, and the "$ " lines
# of section B are run as they are against the same server; the restored
# database must equal the original, schema and data.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'bk-pack: the manual psql restore steps of BACKUP_INFO.txt work'

[ -x "$PG_BINDIR/pg_dump" ] || test_skip_all "pg_dump not installed in $PG_BINDIR"
pg_start && pg_load_fixture || exit 1

# pg_dump_test ARGS: pg_dump as the test superuser.
pg_dump_test() {
	PGPASSWORD=$POSTGRES_PASSWORD "$PG_BINDIR/pg_dump" -h "$POSTGRES_HOST" \
		-p "$POSTGRES_PORT" -U "$POSTGRES_USER" "$@"
}

# manifest_line FILE ROWS: the MANIFEST line of an export file.
manifest_line() {
	echo "$(sha256sum <"$1" | cut -c1-64) $(stat -c %s "$1") $2 $1"
}

export BACKUP_CONFIG_FILES=' '

test_expect_success 'setup: a table whose name needs every kind of quoting' '
	pg_psql <<-\EOF
	CREATE TABLE "We$ird ""Name"" ไทย\x" (id serial PRIMARY KEY, "v a l" text, n int);
	INSERT INTO "We$ird ""Name"" ไทย\x" ("v a l", n) VALUES
		(concat($q$it$q$, chr(39), $q$s "quoted", with, commas$q$), 1),
		(concat($q$line$q$, chr(10), $q$break$q$, chr(9), $q$tab \ backslash$q$), NULL),
		($q$$q$, 3), (NULL, 4);
	EOF
'

# psql ends a COPY FROM STDIN at a line "\." (or "\.\r"), inside a quoted CSV
# value too: the manual path must load such values, and every other value.
# In the values, | is a line feed, ~ a carriage return.
test_expect_success 'setup: values that psql and CSV treat specially' '
	pg_psql <<-\EOF
	CREATE FUNCTION pg_temp.v(s text) RETURNS text
		LANGUAGE sql AS $$ SELECT translate(s, $q$|~$q$, chr(10) || chr(13)) $$;
	INSERT INTO "We$ird ""Name"" ไทย\x" ("v a l", n) VALUES
		(pg_temp.v($q$before|\.|after$q$), 10), (pg_temp.v($q$\.|at the start$q$), 11),
		(pg_temp.v($q$at the end|\.$q$), 12), ($q$\.$q$, 13), (pg_temp.v($q$|\.|$q$), 14),
		(pg_temp.v($q$crlf~|\.~|line$q$), 15), (pg_temp.v($q$crlf~|only~|$q$), 16),
		($q$one \ two \\ end \$q$, 17), ($q$\$q$, 18), (pg_temp.v($q$\|\$q$), 19),
		($q$"$q$, 20), ($q$""$q$, 21), ($q$a""b\"c\""d$q$, 22),
		(pg_temp.v($q$"|\.|"$q$), 23), ($q$\N$q$, 24), ($q$NULL$q$, 25),
		(pg_temp.v($q$~$q$), 26), (pg_temp.v($q$|$q$), 27),
		(pg_temp.v($q$multi|line||value|$q$), 28),
		(pg_temp.v($q$\.\.|.\|\\.$q$), 29), (pg_temp.v($q$,|\.,$q$), 30),
		(pg_temp.v($q$\.~$q$), 31), (pg_temp.v($q$x|\.~$q$), 32);
	CREATE TABLE lines (line text);
	INSERT INTO lines VALUES ($q$\.$q$), (pg_temp.v($q$\.|$q$)), (pg_temp.v($q$|\.$q$)),
		($q$$q$), (NULL), ($q$\$q$), ($q$"\.$q$), (pg_temp.v($q$\.~$q$)),
		(pg_temp.v($q$a|\.|b$q$));
	EOF
'

# The CSV tables go as CSV, everything else as COPY blocks, like bk-export.
csv_tables='public.credit_transactions:credit_transactions.csv
public."UserProfile":user_profile.csv
public."ข้อมูล":thai.csv
public."We$ird ""Name"" ไทย\x":weird.csv
public.lines:lines.csv'

test_expect_success 'an export made with pg_dump and psql' '
	mkdir exp && cd exp &&
	pg_dump_test -d smart_ai_hub --section=pre-data -f schema.sql &&
	pg_dump_test -d smart_ai_hub --section=post-data -f schema-post.sql &&
	pg_dump_test -d smart_ai_hub --data-only -T public.credit_transactions \
		-T "public.\"UserProfile\"" -T "public.\"ข้อมูล\"" \
		-T "public.\"We\$ird \"\"Name\"\" ไทย\\x\"" -T public.lines -f data.sql &&
	! grep -e "COPY public.credit_transactions" -e "COPY public.\"We" data.sql &&
	{
		echo "# format: bk 1"
		echo "# created: 2026-11-25T02:00:01+00:00"
		echo "# host: $POSTGRES_HOST:$POSTGRES_PORT"
		echo "# database: smart_ai_hub"
		echo "# server_version: 15"
	} >../meta &&
	: >../members &&
	manifest_line schema.sql - >>../members &&
	manifest_line data.sql - >>../members &&
	printf "%s\n" "$csv_tables" | while IFS=: read -r table file; do
		pg_psql -c "\\copy $table TO $SQ$file$SQ WITH (FORMAT csv, HEADER)" &&
		rows=$(pg_query "SELECT count(*) FROM $table") &&
		echo "# table: $file $rows $table" >>../meta &&
		manifest_line "$file" "$rows" >>../members || exit 1
	done &&
	pg_psql -At -c "SELECT format(${SQ}SELECT pg_catalog.setval(%L, %s, true);${SQ},
			pg_get_serial_sequence(${SQ}public.credit_transactions${SQ}, ${SQ}id${SQ}),
			(SELECT max(id) FROM credit_transactions))" >sequences.sql &&
	manifest_line sequences.sql - >>../members &&
	manifest_line schema-post.sql - >>../members &&
	cat ../meta ../members >MANIFEST &&
	cat weird.csv lines.csv | tr -d "\r" | grep -c -x "\\\\\\." >../n &&
	test "$(cat ../n)" -ge 5
'

test_expect_success 'bk-pack packs it' '
	mkdir r &&
	bk-pack -o "$TRASH/r/backup.tar.gz" exp >out 2>err &&
	gzip -t r/backup.tar.gz
'

test_expect_success 'section B of BACKUP_INFO.txt, run as written, restores the database' '
	tar -xzOf r/backup.tar.gz BACKUP_INFO.txt >info &&
	sed -n "/^B\\. /,/^C\\. /s/^    \\$ //p" info >restore.sh &&
	cat restore.sh &&
	grep -c "^psql .*\\\\copy" restore.sh >n && test "$(cat n)" = 5 &&
	(cd r && PATH=$PG_BINDIR:$PATH PGHOST=$POSTGRES_HOST PGPORT=$POSTGRES_PORT \
		PGUSER=$POSTGRES_USER PGPASSWORD=$POSTGRES_PASSWORD bash -e ../restore.sh)
'

test_expect_success 'the CSV filter writes the same with every awk installed' '
	for awk in mawk gawk "gawk --posix" "busybox awk" original-awk nawk; do
		command -v "${awk%% *}" >/dev/null || continue
		for f in weird.csv lines.csv credit_transactions.csv; do
			(cd r && LC_ALL=C awk -f csv-escape.awk "$f") >expect &&
			(cd r && LC_ALL=C $awk -f csv-escape.awk "$f") >actual &&
			test_cmp expect actual || exit 1
		done
		echo "same with $awk"
	done
'

test_expect_success 'the restored database has the same schema as the original' '
	pg_dump_test -d smart_ai_hub --schema-only 2>dump.err | grep -v -e "^--" -e "^\\\\restrict " -e "^\\\\unrestrict " >expect &&
	pg_dump_test -d smart_ai_hub_restore --schema-only 2>dump.err | grep -v -e "^--" -e "^\\\\restrict " -e "^\\\\unrestrict " >actual &&
	test_cmp expect actual
'

test_expect_success 'the restored database has the same rows and sequence values' '
	pg_dump_test -d smart_ai_hub --data-only 2>dump.err | grep -v -e "^--" -e "^\\\\restrict " -e "^\\\\unrestrict " >expect &&
	pg_dump_test -d smart_ai_hub_restore --data-only 2>dump.err | grep -v -e "^--" -e "^\\\\restrict " -e "^\\\\unrestrict " >actual &&
	test_cmp expect actual &&
	test "$(pg_psql -d smart_ai_hub_restore -At -c \
		"SELECT count(*) FROM public.\"We\$ird \"\"Name\"\" ไทย\\x\" WHERE \"v a l\" IS NULL")" = 1 &&
	test "$(pg_psql -d smart_ai_hub_restore -At -c \
		"SELECT count(line IS NULL OR NULL), count(line = $SQ$SQ OR NULL) FROM lines")" = "1|1"
'

test_done
