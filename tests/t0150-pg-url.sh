#!/bin/bash
# The application's own connection settings: a Prisma DATABASE_URL (schema=,
# connection_limit= ... which libpq refuses) exports like POSTGRES_* do, with
# one log note and the password nowhere (log, stderr, pg_dump's argv); a
# parameter neither libpq nor Prisma knows is refused by name; DATABASE_URL
# and POSTGRES_* naming different targets are said; the two window and drift
# variables are validated.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'Prisma DATABASE_URL and the connection variables'

test_need_programs bk-export bk-run
pg_start && pg_load_fixture || exit 1

# pg_dump through a shim that records its arguments and whether the password
# came by environment, then runs the real one (--version goes straight on).
real_pg_dump=$(command -v pg_dump) || test_skip_all "pg_dump not installed"
mkdir -p "$TRASH/shim"
cat >"$TRASH/shim/pg_dump" <<EOF
#!/bin/sh
# pg_dump --version (bk-export's version check) has no database to reach
[ "\$*" = --version ] && exec "$real_pg_dump" --version
printf '%s\n' "\$@" >>"$TRASH/pg_dump.argv"
if [ "\$PGPASSWORD" = "\$(cat "$TRASH/pw.expected")" ]; then echo pw-by-env; else echo no-pw; fi >>"$TRASH/pg_dump.env"
exec "$real_pg_dump" "\$@"
EOF
chmod +x "$TRASH/shim/pg_dump"

# A role whose password needs percent-encoding in a URL.
reader_pw="r@d:%/p-$(test_random_hex 8)"
reader_enc=$(printf '%s' "$reader_pw" | sed -e 's/%/%25/g' -e 's/@/%40/g' -e 's/:/%3A/g' -e 's,/,%2F,g')
base="127.0.0.1:$POSTGRES_PORT/smart_ai_hub"
prisma_query="schema=public&connection_limit=5&pool_timeout=10&connect_timeout=10"

# messages LOG: the message part of each line, without time, level and pid.
messages() {
	sed -e 's/^[^ ]* \([A-Z]*\) [a-z-]*\[[0-9]*\]: /\1 /' "$1"
}

test_expect_success 'a Prisma URL with schema and pool settings exports' '
	(umask 077 && printf "%s\n" "$POSTGRES_PASSWORD" >pw.expected) &&
	DATABASE_URL="postgresql://postgres:$POSTGRES_PASSWORD@$base?$prisma_query" \
		POSTGRES_PASSWORD= BACKUP_LOG=$TRASH/log.prisma PATH=$TRASH/shim:$PATH \
		bk-export -o prisma >path 2>err &&
	rm pw.expected &&
	echo "$TRASH/prisma" >expect &&
	test_cmp expect path &&
	test_path_is_file prisma/MANIFEST
'

test_expect_success 'it holds what an export by POSTGRES_* holds' '
	bk-export -o plain >/dev/null 2>&1 &&
	grep "^# table: \|^# added: " plain/MANIFEST >expect &&
	grep "^# table: \|^# added: " prisma/MANIFEST >actual &&
	test_cmp expect actual
'

test_expect_success 'the log has one note naming the parameters left out' '
	messages log.prisma >all &&
	grep DATABASE_URL all >actual &&
	echo "INFO DATABASE_URL: left out Prisma${SQ}s parameters schema, connection_limit, pool_timeout (not libpq${SQ}s); the application${SQ}s schema is public" >expect &&
	test_cmp expect actual
'

test_expect_success 'the password is nowhere: log, stderr, stdout, pg_dump argv' '
	! grep -F -q "$POSTGRES_PASSWORD" log.prisma err path pg_dump.argv &&
	grep "^--dbname=" pg_dump.argv >dbname &&
	test $(wc -l <dbname) -eq 2 &&
	! grep -q "password=" dbname &&
	! grep -q "schema\|connection_limit\|pool_timeout" dbname &&
	grep -q "connect_timeout=${SQ}10${SQ}" dbname &&
	printf "pw-by-env\npw-by-env\n" >expect &&
	test_cmp expect pg_dump.env
'

test_expect_success 'a percent-encoded password (role with @ : % / in it) works and stays hidden' '
	pg_create_readonly_role bk_reader "$reader_pw" &&
	rm -f pg_dump.argv pg_dump.env &&
	(umask 077 && printf "%s\n" "$reader_pw" >pw.expected) &&
	DATABASE_URL="postgresql://bk_reader:$reader_enc@$base?schema=public&statement_cache_size=0&pgbouncer=false" \
		POSTGRES_PASSWORD= POSTGRES_USER= BACKUP_LOG=$TRASH/log.reader PATH=$TRASH/shim:$PATH \
		bk-export -o reader >path 2>err &&
	rm pw.expected &&
	grep "^# table: users.sql 200 public.users$" reader/MANIFEST &&
	! grep -F -q -e "$reader_pw" -e "$reader_enc" log.reader err path pg_dump.argv &&
	printf "pw-by-env\npw-by-env\n" >expect &&
	test_cmp expect pg_dump.env
'

test_expect_success 'a parameter neither libpq nor Prisma knows: exit 2, named, password hidden' '
	test_expect_code 2 env \
		DATABASE_URL="postgresql://postgres:$POSTGRES_PASSWORD@$base?schema=public&nosuch=1" \
		BACKUP_LOG=$TRASH/log.unknown bk-export -o unknown >out 2>err &&
	test ! -s out &&
	test_path_is_missing unknown &&
	messages log.unknown >actual &&
	echo "ERROR configuration: DATABASE_URL: not a valid connection URI or string: unknown parameter ${SQ}nosuch${SQ} (neither libpq${SQ}s nor Prisma${SQ}s)" >expect &&
	echo "ERROR hint: postgresql://USER:PASSWORD@HOST:PORT/DATABASE[?PARAMETER=VALUE&...]" >>expect &&
	test_cmp expect actual &&
	! grep -F -q "$POSTGRES_PASSWORD" err log.unknown
'

test_expect_success 'bk-run refuses it the same way at the start' '
	test_expect_code 2 env \
		DATABASE_URL="postgresql://postgres:$POSTGRES_PASSWORD@$base?nosuch=1" \
		BACKUP_DIR=$TRASH/b-unknown bk-run --no-mail >out 2>err &&
	grep -q "ERROR bk-run\[[0-9]*\]: configuration: DATABASE_URL: not a valid connection URI or string: unknown parameter ${SQ}nosuch${SQ}" err &&
	! grep -F -q "$POSTGRES_PASSWORD" err &&
	test_path_is_missing b-unknown
'

test_expect_success 'DATABASE_URL and POSTGRES_* naming the same target: no note' '
	DATABASE_URL="postgresql://postgres:$POSTGRES_PASSWORD@$base" \
		BACKUP_LOG=$TRASH/log.same bk-export -o same >/dev/null 2>&1 &&
	messages log.same >all &&
	! grep -q "DATABASE_URL" all
'

test_expect_success 'DATABASE_URL and POSTGRES_* naming different targets: one line says which is used' '
	DATABASE_URL="postgresql://bk_reader:$reader_enc@$base" \
		POSTGRES_USER=postgres BACKUP_LOG=$TRASH/log.differ bk-export -o differ >/dev/null 2>err &&
	messages log.differ >all &&
	grep DATABASE_URL all >actual &&
	echo "INFO DATABASE_URL is used, not POSTGRES_*, which name another target: user bk_reader (POSTGRES_USER postgres)" >expect &&
	test_cmp expect actual &&
	! grep -F -q -e "$reader_pw" -e "$reader_enc" -e "$POSTGRES_PASSWORD" log.differ err
'

test_expect_success 'bk-run --dry-run says it too' '
	DATABASE_URL="postgresql://bk_reader:$reader_enc@$base?schema=public" \
		POSTGRES_USER=postgres POSTGRES_DB=smart_ai_hub_old BACKUP_LOG=$TRASH/log.dry \
		bk-run --dry-run --no-mail >/dev/null 2>err &&
	messages log.dry >all &&
	# bk-run says it, and so does the bk-export --plan it runs
	grep "DATABASE_URL" all | sort -u >actual &&
	cat >expect <<-EOF &&
	INFO DATABASE_URL is used, not POSTGRES_*, which name another target: database smart_ai_hub (POSTGRES_DB smart_ai_hub_old), user bk_reader (POSTGRES_USER postgres)
	INFO DATABASE_URL: left out Prisma${SQ}s parameters schema (not libpq${SQ}s); the application${SQ}s schema is public
	EOF
	test_cmp expect actual
'

# bad VAR VALUE 'message' ['hint']: bk-export exits 2 with that one
# configuration error (and its hint), before connecting or creating anything.
bad() {
	test_expect_success "$1=$2: exit 2 naming $1" "
		test_expect_code 2 env $1=$(printf %q "$2") BACKUP_LOG=\$TRASH/log.bad \
			bk-export -o bad >out 2>err &&
		test ! -s out &&
		test_path_is_missing bad &&
		messages log.bad >actual &&
		rm log.bad &&
		echo $(printf %q "ERROR configuration: $3") >expect &&
		${4:+echo $(printf %q "ERROR hint: $4") >>expect &&}
		test_cmp expect actual
	"
}

bad BACKUP_WINDOW_TIMEZONE 'Asia/Bang kok' "BACKUP_WINDOW_TIMEZONE: 'Asia/Bang kok' is not a time zone name" \
	"use a name such as UTC or Asia/Bangkok"
bad BACKUP_WINDOW_TIMEZONE "UTC';--" "BACKUP_WINDOW_TIMEZONE: 'UTC';--' is not a time zone name" \
	"use a name such as UTC or Asia/Bangkok"
bad BACKUP_WINDOW_TIMEZONE "$(printf 'A%.0s' $(seq 65))" 'BACKUP_WINDOW_TIMEZONE: longer than 64 characters, not a time zone'
bad BACKUP_DRIFT_DROP_PERCENT 0 'BACKUP_DRIFT_DROP_PERCENT: 0 is out of range (1..100)'
bad BACKUP_DRIFT_DROP_PERCENT 101 'BACKUP_DRIFT_DROP_PERCENT: 101 is out of range (1..100)'
bad BACKUP_DRIFT_DROP_PERCENT half "BACKUP_DRIFT_DROP_PERCENT: 'half' is not a whole number"

test_expect_success 'good values of both are taken' '
	BACKUP_WINDOW_TIMEZONE=Asia/Bangkok BACKUP_DRIFT_DROP_PERCENT=100 \
		bk-export -o good >/dev/null 2>err &&
	test_path_is_file good/MANIFEST
'

test_done
