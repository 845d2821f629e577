#!/bin/bash
# The whole chain by hand: bk-export of the fixture database, bk-pack, then
# the "$ " lines of section B of BACKUP_INFO.txt run as written against a
# fresh database. Every table of the MANIFEST must come back with its rows
# (the windowed ones with the rows of the window), and nothing else.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'bk-export | bk-pack | manual restore from BACKUP_INFO.txt'

[ -x "$BK_BUILD_DIR/bin/bk-export" ] || test_skip_all "bk-export not built yet"
pg_start && pg_load_fixture || exit 1

export BACKUP_CONFIG_FILES=' '

# table_md5 DB QNAME [WHERE]: a digest of the table's rows in a fixed order.
table_md5() {
	pg_psql -d "$1" -At -c "SELECT md5(coalesce(string_agg(t::text, E${SQ}\\n${SQ} ORDER BY t::text), ${SQ}${SQ})) FROM $2 t ${3:-}"
}

test_expect_success 'bk-export, then bk-pack' '
	bk-export -o "$TRASH/exp" >out 2>err &&
	mkdir r &&
	bk-pack -o "$TRASH/r/backup.tar.gz" exp >out 2>err &&
	echo "$TRASH/r/backup.tar.gz" >expect &&
	test_cmp expect out
'

if [ -x "$BK_BUILD_DIR/bin/bk-verify" ]; then
	test_expect_success 'bk-verify accepts the archive' '
		bk-verify r/backup.tar.gz >out 2>err
	'
fi

test_expect_success 'section B of BACKUP_INFO.txt, run as written, restores it' '
	tar -xzOf r/backup.tar.gz BACKUP_INFO.txt >info &&
	sed -n "/^B\\. /,/^C\\. /s/^    \\$ //p" info >restore.sh &&
	cat restore.sh &&
	(cd r && PATH=$PG_BINDIR:$PATH PGHOST=$POSTGRES_HOST PGPORT=$POSTGRES_PORT \
		PGUSER=$POSTGRES_USER PGPASSWORD=$POSTGRES_PASSWORD bash -e ../restore.sh)
'

test_expect_success 'every table of MANIFEST is back with the same rows' '
	tar -xzOf r/backup.tar.gz MANIFEST >manifest &&
	grep "^# table: " manifest >tables &&
	test -s tables &&
	sed "s/^# table: //" tables | while read -r file rows qname; do
		w=$(sed -n "s/^# window: $file //p" manifest) &&
		where= &&
		if [ -n "$w" ]; then
			where="WHERE ${w%% >= *} >= ${SQ}${w#* >= }${SQ}"
		fi &&
		got=$(pg_psql -d smart_ai_hub_restore -At -c "SELECT count(*) FROM $qname") &&
		test "$got" = "$rows" || { echo "$qname: $got rows, MANIFEST says $rows"; exit 1; }
		test "$(table_md5 smart_ai_hub_restore "$qname")" = \
			"$(table_md5 smart_ai_hub "$qname" "$where")" ||
			{ echo "$qname differs from the original ($where)"; exit 1; }
	done
'

test_expect_success 'the windowed tables hold the window of the fixture' '
	tar -xzOf r/backup.tar.gz MANIFEST >manifest &&
	for t in credit_transactions point_transactions purchases transfers; do
		test "$(pg_psql -d smart_ai_hub_restore -At -c "SELECT count(*) FROM $t")" = \
			"$(pg_expected_count $t window)" || { echo "$t"; exit 1; }
	done
'

test_expect_success 'tables outside the scope are empty' '
	for t in sessions logs audit_logs; do
		test "$(pg_psql -d smart_ai_hub_restore -At -c "SELECT count(*) FROM $t")" = 0 ||
			{ echo "$t has rows"; exit 1; }
	done
'

test_done
