#!/bin/bash
# Schema files of any size restore: bk-unpack sends schema.sql and
# schema-post.sql in batches that end where statements end, as psql splits
# them (quotes, E'' strings, dollar quotes, comments, parentheses, BEGIN
# ATOMIC bodies). With BK_TEST_SQL_BATCH=1 every statement is its own query:
# a schema full of traps comes back identical. A schema.sql over 256 MiB
# (once the limit of the whole file) restores too, in bounded memory.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-archive.sh"
test_description 'bk-unpack --restore: schema files streamed statement by statement'

test_need_programs bk-export bk-pack
pg_start || exit 1

# schema DB: the database's DDL without comments and psql-only lines.
schema() {
	PGPASSWORD=$POSTGRES_PASSWORD "$PG_BINDIR/pg_dump" -h "$POSTGRES_HOST" \
		-p "$POSTGRES_PORT" -U "$POSTGRES_USER" --schema-only --no-owner "$1" |
		grep -v -e "^--" -e "^\\\\restrict " -e "^\\\\unrestrict "
}

# queries FILE LOG: how many queries bk-unpack sent FILE in.
queries() {
	sed -n "s/^.* INFO bk-unpack\[[0-9]*\]: $1: [0-9]* bytes, [0-9]* lines in \([0-9]*\) queries$/\1/p" "$2"
}

# The traps: ';' in quoted names, strings, E'' strings, dollar quotes and
# comments; a comment whose lines look like a meta-command, a comment and a
# dollar quote; BEGIN ATOMIC bodies with CASE ... END; a rule of two actions.
cat >traps.sql <<-\EOF
	CREATE TABLE "semi;colon" ("a$b" int PRIMARY KEY, "it''s" text DEFAULT $$x;y$$,
		note text DEFAULT E'\\ back; slash' CHECK (note <> '--;'),
		body text DEFAULT 'a /* b; */ c');
	INSERT INTO "semi;colon" VALUES (1, DEFAULT, DEFAULT, DEFAULT), (2, 'two', 'x', 'y');
	CREATE TABLE log_a (v int);
	CREATE TABLE log_b (v int);
	COMMENT ON TABLE "semi;colon" IS 'first line;
	\! id > /dev/null
	-- not a comment; $$ not a quote
	last line';
	CREATE FUNCTION dollars(x int) RETURNS text LANGUAGE plpgsql AS $body$
	DECLARE
		s text := $$ a; 'b' $$;
	BEGIN
		IF x > 0 THEN
			RETURN s || ';' || $q$ $body $q$;
		END IF;
		RETURN 'end;';
	END;
	$body$;
	CREATE FUNCTION atomic_case(x int) RETURNS int LANGUAGE sql
	BEGIN ATOMIC
		SELECT CASE WHEN x > 0 THEN 1 ELSE 2 END;
	END;
	CREATE PROCEDURE atomic_proc(x int) LANGUAGE sql
	BEGIN ATOMIC
		INSERT INTO log_a VALUES (x);
		INSERT INTO log_b VALUES (x);
	END;
	CREATE RULE two_actions AS ON INSERT TO log_a DO ALSO
		(INSERT INTO log_b VALUES (NEW.v); INSERT INTO log_b VALUES (NEW.v + 1));
	CREATE VIEW "v;1" AS SELECT "a$b", $$;$$ AS s, E'\';''' AS e FROM "semi;colon";
	EOF
printf '%s\n' " a; 'b' ; \$body 2" >function.expect

test_expect_success 'setup: a database whose schema is full of traps for a splitter' '
	pg_psql -d postgres -c "CREATE DATABASE traps" &&
	pg_psql -d traps -v ON_ERROR_STOP=1 -f traps.sql >/dev/null &&
	export BACKUP_CONFIG_FILES=" " &&
	POSTGRES_DB=traps bk-export -o "$TRASH/export" >export.out 2>export.err &&
	bk-pack -o "$TRASH/traps.tar.gz" "$TRASH/export" >archive 2>pack.err &&
	tar -xzOf traps.tar.gz schema.sql >schema.sql &&
	grep -q "^\\\\! id" schema.sql &&
	grep -q "BEGIN ATOMIC" schema.sql
'

test_expect_success 'every statement its own query: the schema comes back identical' '
	pg_psql -d postgres -c "CREATE DATABASE one_by_one" &&
	BK_TEST_SQL_BATCH=1 POSTGRES_DB=one_by_one bk-unpack --restore --unsigned traps.tar.gz \
		>stdout 2>err &&
	schema traps >expect &&
	schema one_by_one >actual &&
	test_cmp expect actual &&
	n=$(queries schema.sql err) &&
	test "$n" -gt 20 &&
	test "$(queries schema-post.sql err)" -gt 1 &&
	pg_psql -d one_by_one -At -c "SELECT dollars(1) || atomic_case(0)" >function.actual &&
	test_cmp function.expect function.actual
'

test_expect_success 'by default a small schema is one query' '
	pg_psql -d postgres -c "CREATE DATABASE at_once" &&
	POSTGRES_DB=at_once bk-unpack --restore --unsigned traps.tar.gz >stdout 2>err &&
	schema at_once >actual &&
	test_cmp expect actual &&
	test "$(queries schema.sql err)" = 1
'

test_expect_success 'a schema.sql over 256 MiB restores' '
	mkdir big.d && tar -xzf traps.tar.gz -C big.d && tar -tzf traps.tar.gz >members &&
	/usr/bin/python3 - big.d/schema.sql <<-\EOF &&
	import sys
	f = open(sys.argv[1], "a")
	line = "-- " + "x" * 1021 + "\n"
	block = line * 1023 + "SELECT 1;\n"
	for i in range(257):
	    f.write(block)
	EOF
	test "$(stat -c %s big.d/schema.sql)" -gt $((256 * 1024 * 1024)) &&
	sha=$(ar_sha big.d/schema.sql) && size=$(stat -c %s big.d/schema.sql) &&
	sed -i "s|^[0-9a-f]\{64\} [0-9]* - schema.sql\$|$sha $size - schema.sql|" big.d/MANIFEST &&
	grep -q "^$sha $size - schema.sql$" big.d/MANIFEST &&
	tar --format=pax --no-recursion --owner=0 --group=0 --numeric-owner \
		-C big.d -cf - $(cat members) | gzip -1 >big.tar.gz &&
	rm -rf big.d &&
	pg_psql -d postgres -c "CREATE DATABASE big" &&
	# The sanitizers keep freed memory aside (quarantine): no bound there.
	if [ -x /usr/bin/time ] && ! grep -q fsanitize "$BK_BUILD_DIR/.build-flags" 2>/dev/null; then
		POSTGRES_DB=big /usr/bin/time -o rss -f %M bk-unpack --restore --unsigned big.tar.gz \
			>stdout 2>err &&
		echo "# peak RSS of bk-unpack: $(cat rss) KiB" &&
		test "$(cat rss)" -lt $((128 * 1024))
	else
		POSTGRES_DB=big bk-unpack --restore --unsigned big.tar.gz >stdout 2>err
	fi &&
	schema big >actual &&
	test_cmp expect actual &&
	test "$(queries schema.sql err)" -gt 200
'

test_done
