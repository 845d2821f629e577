#!/bin/bash
# The restore guide (docs/BACKUP_RESTORE.md, or its section merged into
# docs/BACKUP_OPERATIONS.md) works as written: the "$ " lines of each part are
# run in order with bash -e (ARCHIVE, VERIFY_KEY and CONFIG_TARGET set, PG*
# pointing at the test server), and the databases they make hold what the
# backup, signed as the guide says, holds.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'the restore steps of docs/BACKUP_RESTORE.md, run as written'

# The section may have been merged into the operations guide.
DOC=$BK_ROOT/docs/BACKUP_RESTORE.md
[ -f "$DOC" ] || DOC=$BK_ROOT/docs/BACKUP_OPERATIONS.md
grep -q "One command: bk-unpack" "$DOC" 2>/dev/null ||
	test_skip_all "no restore section in docs/ (BACKUP_RESTORE.md)"
test_need_programs bk-export bk-pack bk-verify
command -v minisign >/dev/null ||
	test_skip_all "minisign is not installed (tools/install-deps installs it)"
pg_start && pg_load_fixture || exit 1

# doc_part N: the commands of the part whose heading says what part N is.
doc_part() {
	local title
	case $1 in
	1) title="Look before you restore" ;;
	2) title="One command: bk-unpack" ;;
	3) title="By hand: tar and psql" ;;
	esac
	awk -v t="$title" '
		/^#+ / { on = index($0, t) > 0; next }
		on && /^    \$ / { sub(/^    \$ /, ""); print }' "$DOC"
}

# run_part N DIR: run them with bash -e in DIR, the server in PG*.
run_part() {
	doc_part "$1" >"part$1.sh" &&
	test -s "part$1.sh" &&
	(cd "$2" && PATH=$PG_BINDIR:$PATH PGHOST=$POSTGRES_HOST PGPORT=$POSTGRES_PORT \
		PGUSER=$POSTGRES_USER PGPASSWORD=$POSTGRES_PASSWORD bash -e "$TRASH/part$1.sh")
}

rows() {
	pg_psql -d "$1" -c "COPY ($2) TO STDOUT"
}

# same_as_backup DB [kept]: every backed-up table of DB (the "# table:" lines
# of MANIFEST) holds what the archive holds; with "kept", windowed tables also
# their source rows older than the window (what --replace keeps of a copy of
# the source).
same_as_backup() {
	local file n q cutoff since
	test "$(grep -c "^# table: .*\.sql " MANIFEST)" -ge 9 &&
	test "$(grep -c "^# window: " MANIFEST)" = 4 &&
	sed -n "s/^# table: \([^ ]*\) \([0-9]*\) \(.*\)$/\1 \2 \3/p" MANIFEST >tables &&
	while read -r file n q; do
		cutoff=$(sed -n "s/^# window: $file created_at >= //p" MANIFEST)
		if [ -z "$cutoff" ]; then
			rows source "SELECT * FROM $q ORDER BY 1" >expect
		else
			if [ "$2" = kept ]; then since=; else since="WHERE created_at >= $SQ$cutoff$SQ OR created_at IS NULL"; fi &&
			rows source "SELECT * FROM $q $since ORDER BY 1" >expect
		fi &&
		rows "$1" "SELECT * FROM $q ORDER BY 1" >actual &&
		test_cmp expect actual || { echo "table $q differs"; return 1; }
	done <tables &&
	test "$(pg_psql -d "$1" -At -c "SELECT nextval(${SQ}credit_transactions_id_seq${SQ})")" = 1001
}

test_expect_success 'setup: configuration files, a backup, a copy of the source' '
	mkdir -p config/ssl &&
	echo "POSTGRES_PASSWORD=app" >config/.env.production &&
	echo "services: {}" >config/docker-compose.prod.yml &&
	echo "events {}" >config/nginx.prod.conf &&
	echo "CERT" >config/ssl/cert.pem &&
	echo "KEY" >config/ssl/server.key &&
	chmod 600 config/.env.production config/ssl/server.key &&
	minisign -G -W -p bk.pub -s bk.key >/dev/null &&
	bk-export -o "$TRASH/export" >export.out 2>export.err &&
	BACKUP_SIGNING_KEY_FILE=$TRASH/bk.key \
		bk-pack -o "$TRASH/backup.tar.gz" "$TRASH/export" >archive 2>pack.err &&
	tar -xzOf backup.tar.gz MANIFEST >MANIFEST &&
	pg_psql -d postgres -c "CREATE DATABASE source TEMPLATE smart_ai_hub" &&
	pg_psql -d postgres -c "CREATE DATABASE planned"
'

export ARCHIVE=$TRASH/backup.tar.gz CONFIG_TARGET=$TRASH/cfgtarget VERIFY_KEY=$TRASH/bk.pub

test_expect_success 'part 1 (look before you restore) runs and changes nothing' '
	POSTGRES_DB=planned run_part 1 "$TRASH" >out1 2>err1 &&
	grep -q "^  create   public.users  *-  *-  *200  users.sql$" out1 &&
	test "$(pg_psql -d planned -At -c "SELECT count(*) FROM pg_class WHERE relnamespace = ${SQ}public${SQ}::regnamespace")" = 0
'

test_expect_success 'part 2 (bk-unpack) restores, refuses, replaces, puts config back' '
	pg_psql -d postgres -c "CREATE DATABASE live TEMPLATE source" &&
	pg_psql -d live -c "INSERT INTO users (email, updated_at) VALUES (${SQ}late@example.com${SQ}, now())" &&
	POSTGRES_DB=live run_part 2 "$TRASH" >out2 2>err2 &&
	grep -q "^refused: the tables hold rows$" out2 &&
	same_as_backup smart_ai_hub_new &&
	same_as_backup live kept &&
	cmp config/.env.production cfgtarget/.env.production &&
	cmp config/ssl/server.key cfgtarget/ssl/server.key &&
	test "$(stat -c %a cfgtarget/.env.production)" = 600 &&
	test "$(stat -c %a cfgtarget/ssl/server.key)" = 600 &&
	test "$(stat -c %a cfgtarget/nginx.prod.conf)" = 644
'

test_expect_success 'part 3 (tar and psql by hand) restores, then swaps the databases' '
	mkdir manual && cp backup.tar.gz manual/ &&
	ARCHIVE=backup.tar.gz run_part 3 "$TRASH/manual" >out3 2>err3 &&
	grep -qx 200 out3 &&
	same_as_backup smart_ai_hub &&
	test "$(pg_psql -d smart_ai_hub_old -At -c "SELECT count(*) FROM credit_transactions")" = 1000
'

test_expect_success 'the checksum line of part 3 catches a damaged file' '
	cd manual &&
	printf "x" >>users.sql &&
	doc_part 3 | grep "sha256sum -c" >check.sh &&
	grep -q "sha256sum -c" check.sh &&
	test_must_fail bash -e check.sh >err 2>&1 &&
	grep -q "users.sql: FAILED" err
'

test_expect_success 'the signature line of part 3 stops a MANIFEST signed by another key' '
	cd manual &&
	minisign -G -W -p other.pub -s other.key >/dev/null &&
	minisign -S -s other.key -m MANIFEST -x MANIFEST.minisig >/dev/null &&
	doc_part 3 | grep "minisign -Vm" >sig.sh &&
	test_must_fail bash -e sig.sh >err 2>&1
'

test_done
