#!/bin/bash
# A restore runs only what bk-export writes. Archives whose data files were
# changed after the export, with their MANIFEST lines fixed to match (what a
# forger does), are refused by bk-unpack --restore before anything runs: no
# file written by COPY ... TO PROGRAM, no role created, the target database
# exactly as it was, with --replace too. Schema files may hold any DDL, but
# never a psql meta-command.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-archive.sh"
test_description 'bk-unpack --restore: data files run only as COPY, setval and SET'

test_need_programs bk-export bk-pack
pg_start && pg_load_fixture || exit 1

# forge NAME MEMBER: NAME.tar.gz from the good archive with MEMBER replaced
# by ./MEMBER.new and its MANIFEST line fixed (digest and size), every member
# in its place.
forge() {
	local name=$1 member=$2 sha size
	rm -rf "$name.d" && cp -a good.d "$name.d" &&
	cp "$member.new" "$name.d/$member" &&
	sha=$(ar_sha "$name.d/$member") && size=$(stat -c %s "$name.d/$member") &&
	sed -i "s|^[0-9a-f]\{64\} [0-9]* \([-0-9]*\) $member\$|$sha $size \1 $member|" \
		"$name.d/MANIFEST" &&
	grep -q "^$sha $size [-0-9]* $member\$" "$name.d/MANIFEST" &&
	tar --format=pax --no-recursion --owner=0 --group=0 --numeric-owner \
		-C "$name.d" -cf - $(cat members) | gzip -1 >"$name.tar.gz"
}

# shown TEXT: TEXT as messages quote what they found: its first 60 bytes.
shown() {
	if [ ${#1} -gt 60 ]; then printf "%s...\n" "${1:0:60}"; else printf "%s\n" "$1"; fi
}

# refused NAME DB [OPTION...]: bk-unpack --restore of NAME.tar.gz into DB
# fails (exit 1) and DB is as it was: nothing ran. With NAME.expect, bk-verify
# finds the archive intact (the forgery is consistent) and the restore's
# reason is the one expected.
refused() {
	local name=$1 db=$2
	shift 2
	pg_dump_text "$db" >"$name.before" &&
	if [ -f "$name.expect" ]; then
		bk-verify "$name.tar.gz" >/dev/null 2>"$name.verify"
	fi &&
	POSTGRES_DB=$db test_expect_code 1 bk-unpack --restore --unsigned "$@" "$name.tar.gz" \
		>stdout 2>"$name.err" &&
	test ! -s stdout &&
	if [ -f "$name.expect" ]; then
		ar_reason "$name.err" >"$name.reasons" &&
		head -n 1 "$name.reasons" >"$name.actual" &&
		test_cmp "$name.expect" "$name.actual" &&
		grep -q "^hint: nothing was run" "$name.reasons"
	fi &&
	pg_dump_text "$db" >"$name.after" &&
	test_cmp "$name.before" "$name.after" &&
	test_path_is_missing drop/pwned &&
	test "$(pg_query "SELECT count(*) FROM pg_roles WHERE rolname = ${SQ}intruder${SQ}")" = 0 &&
	test "$(ls -A "$BACKUP_TMPDIR")" = ""
}

test_expect_success 'setup: a good archive, its members; a drop box the server can write' '
	export BACKUP_CONFIG_FILES=" " &&
	bk-export -o "$TRASH/export" >export.out 2>export.err &&
	bk-pack -o "$TRASH/good.tar.gz" "$TRASH/export" >archive 2>pack.err &&
	tar -tzf good.tar.gz >members &&
	mkdir good.d && tar -xzf good.tar.gz -C good.d &&
	grep -q "^# table: users.sql 200 public.users$" good.d/MANIFEST &&
	mkdir drop && chmod 1777 drop &&
	pg_psql -d postgres -c "CREATE DATABASE empty1" &&
	pg_psql -d postgres -c "CREATE DATABASE live TEMPLATE smart_ai_hub"
'

test_expect_success 'the drop box works: the server can write there' '
	pg_query "COPY (SELECT 1) TO PROGRAM ${SQ}id > $TRASH/drop/probe${SQ}" &&
	test -s drop/probe && rm -f drop/probe
'

n_users=$(wc -l <"$TRASH/good.d/users.sql")

test_expect_success 'COPY ... TO PROGRAM appended to a data file: refused, nothing run' '
	{ cat good.d/users.sql &&
	  echo "COPY (SELECT 1) TO PROGRAM ${SQ}id > $TRASH/drop/pwned${SQ};"; } >users.sql.new &&
	forge program users.sql &&
	refused program empty1
'

test_expect_success 'the same in lower case (bk-verify finds it intact): refused by the restore' '
	bad="copy (select 1) to program ${SQ}id > $TRASH/drop/pwned${SQ};" &&
	{ cat good.d/users.sql && echo "$bad"; } >users.sql.new &&
	forge program2 users.sql &&
	echo "users.sql line $((n_users + 1)): ${SQ}$(shown "$bad")${SQ} is not what bk-export writes in a data file: refusing the restore" >program2.expect &&
	refused program2 empty1 &&
	refused program2 live --replace
'

test_expect_success 'CREATE ROLE appended to a data file: refused, no role' '
	{ cat good.d/users.sql &&
	  echo "CREATE ROLE intruder LOGIN SUPERUSER PASSWORD ${SQ}x${SQ};"; } >users.sql.new &&
	forge role users.sql &&
	echo "users.sql line $((n_users + 1)): ${SQ}CREATE ROLE intruder LOGIN SUPERUSER PASSWORD ${SQ}x${SQ};${SQ} is not what bk-export writes in a data file: refusing the restore" >role.expect &&
	refused role empty1
'

test_expect_success 'COMMIT; BEGIN; in a data file, with --replace: refused, the tables intact' '
	{ sed -n "1,8p" good.d/users.sql && echo "COMMIT;" && echo "BEGIN;" &&
	  sed "1,8d" good.d/users.sql; } >users.sql.new &&
	forge commit users.sql &&
	echo "users.sql line 9: transaction control (${SQ}COMMIT;${SQ}) in a data file: refusing the restore" >commit.expect &&
	refused commit live --replace &&
	refused commit live --replace-all
'

test_expect_success 'a psql meta-command prepended to a data file: refused' '
	{ echo "\\! id > $TRASH/drop/pwned" && cat good.d/users.sql; } >users.sql.new &&
	forge meta users.sql &&
	refused meta empty1
'

test_expect_success 'a psql meta-command after a statement (bk-verify finds it intact): refused' '
	{ echo "SET client_encoding = ${SQ}UTF8${SQ}; \\! id > $TRASH/drop/pwned" &&
	  cat good.d/users.sql; } >users.sql.new &&
	forge meta2 users.sql &&
	echo "users.sql line 1: ${SQ}$(shown "SET client_encoding = ${SQ}UTF8${SQ}; \\! id > $TRASH/drop/pwned")${SQ} is not what bk-export writes in a data file: refusing the restore" >meta2.expect &&
	refused meta2 empty1
'

test_expect_success 'a COPY block into a table MANIFEST does not list for the file: refused' '
	{ cat good.d/users.sql && printf "COPY public.plans (id) FROM stdin;\n\\\\.\n"; } >users.sql.new &&
	forge other users.sql &&
	echo "users.sql line $((n_users + 1)): COPY into public.plans, which MANIFEST does not list in users.sql: refusing the restore" >other.expect &&
	refused other empty1
'

test_expect_success 'a second statement on a setval line: refused' '
	sed "0,/^SELECT pg_catalog.setval/s/^\(SELECT pg_catalog.setval.*\)$/\1 DROP TABLE public.users;/" \
		good.d/sequences.sql >sequences.sql.new &&
	! cmp -s good.d/sequences.sql sequences.sql.new &&
	forge setval sequences.sql &&
	line=$(grep -n "DROP TABLE" sequences.sql.new | cut -d: -f1) &&
	echo "sequences.sql line $line: ${SQ}$(shown "$(grep "DROP TABLE" sequences.sql.new)")${SQ} is not what bk-export writes in a data file: refusing the restore" >setval.expect &&
	refused setval empty1
'

test_expect_success 'a COPY block in sequences.sql: refused' '
	{ cat good.d/sequences.sql && printf "COPY public.users (id) FROM stdin;\n\\\\.\n"; } >sequences.sql.new &&
	forge seqcopy sequences.sql &&
	echo "sequences.sql line $(($(wc -l <good.d/sequences.sql) + 1)): COPY into public.users, which MANIFEST does not list in sequences.sql: refusing the restore" >seqcopy.expect &&
	refused seqcopy empty1
'

test_expect_success 'a psql meta-command in schema.sql: refused before any DDL runs' '
	{ sed -n 1,10p good.d/schema.sql && echo "\\! id > $TRASH/drop/pwned" &&
	  sed 1,10d good.d/schema.sql; } >schema.sql.new &&
	forge schemameta schema.sql &&
	echo "schema.sql line 11: a psql meta-command (${SQ}$(shown "\\! id > $TRASH/drop/pwned")${SQ}): bk runs the schema through libpq, not psql: refusing the restore" >schemameta.expect &&
	refused schemameta empty1
'

test_expect_success 'a meta-command after a statement on the same line in schema-post.sql: refused' '
	{ cat good.d/schema-post.sql && echo "SELECT 1; \\! id > $TRASH/drop/pwned"; } >schema-post.sql.new &&
	forge postmeta schema-post.sql &&
	echo "schema-post.sql line $(($(wc -l <good.d/schema-post.sql) + 1)): a psql meta-command (${SQ}$(shown "\\! id > $TRASH/drop/pwned")${SQ}): bk runs the schema through libpq, not psql: refusing the restore" >postmeta.expect &&
	refused postmeta empty1
'

test_expect_success 'the good archive restores (the forgeries were refused for what they hold)' '
	POSTGRES_DB=empty1 bk-unpack --restore --unsigned good.tar.gz >stdout 2>err &&
	echo "127.0.0.1:$POSTGRES_PORT/empty1" >expect &&
	test_cmp expect stdout
'

test_done
