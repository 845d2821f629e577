#!/bin/bash
# The built-in scope on an application schema nobody on the team wrote (the
# Prisma-style fixture): --plan as expected, then export, pack, verify and
# restore into an empty database. Every table no rule leaves out comes back
# row for row, every window exactly (its rows plus the older rows backed-up
# rows reference, to a fixed point), with every constraint; what is left out
# is named in BACKUP_INFO.txt and the mail; a --replace over the live
# database changes nothing; drift is noticed.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'the built-in scope on a Prisma application'

test_need_programs bk-export bk-pack bk-verify bk-unpack bk-mail
pg_start && pg_load_prisma_fixture || exit 1
EXPECTED=$FIXTURES/prisma/expected-counts.txt
export BACKUP_DIR=$TRASH/backups BACKUP_CONFIG_DIR=$TRASH/config
export ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com
export BACKUP_MAIL_OUTBOX=$TRASH/outbox BACKUP_MIN_SIZE_MB=0
mkdir -p "$BACKUP_DIR" "$BACKUP_CONFIG_DIR" "$BACKUP_MAIL_OUTBOX"
echo "DATABASE_URL=postgresql://app@db/app" >"$BACKUP_CONFIG_DIR/.env.production"
echo "services: {}" >"$BACKUP_CONFIG_DIR/docker-compose.prod.yml"
echo "events {}" >"$BACKUP_CONFIG_DIR/nginx.prod.conf"
export BACKUP_CONFIG_FILES=".env.production docker-compose.prod.yml nginx.prod.conf"

# class TABLE / tables CLASS: from the fixture's expected counts.
tables() {
	awk -v c="$1" '!/^#/ && $5 == c { print $1 }' "$EXPECTED"
}
count() {
	awk -v t="$1" -v f="$2" '!/^#/ && $1 == t { print $f }' "$EXPECTED"
}
# qname TABLE: public.name, quoted as the server quotes it.
qname() {
	echo "public.$(pg_query "SELECT quote_ident('$1')")"
}
# rows DB TABLE: every row of the table, in a stable order, as text.
rows() {
	pg_psql -d "$1" -c "COPY (SELECT t::text FROM $2 t ORDER BY 1) TO STDOUT"
}

test_expect_success '--plan: every table in its class, as expected' '
	bk-export --plan >plan 2>plan.err &&
	test_cmp "$FIXTURES/prisma/expected-plan.txt" plan &&
	for c in full window omitted; do
		tables $c | while read -r t; do
			grep -q "^$c  *$(qname "$t" | sed "s/[].[*^$]/\\\\&/g") " plan || {
				echo "$t is not $c"; exit 1; }
		done || exit 1
	done
'

test_expect_success 'export, pack and verify with the built-in scope' '
	bk-export -o "$TRASH/export" >/dev/null 2>export.err &&
	bk-pack -o "$BACKUP_DIR/critical_backup_20261130_020000.tar.gz" "$TRASH/export" \
		>archive 2>pack.err &&
	bk-verify "$(cat archive)" >verify.out 2>verify.err &&
	tar -xzOf "$(cat archive)" MANIFEST >MANIFEST &&
	tar -xzOf "$(cat archive)" BACKUP_INFO.txt >BACKUP_INFO.txt &&
	! grep "^# warning:" MANIFEST
'

test_expect_success 'MANIFEST: each window with its rows, total and closure' '
	for t in $(tables window); do
		echo "$t.csv $(count $t 3) $(count $t 2) $(count $t 4) UTC"
	done >expect &&
	sed -n "s/^# window-rows: //p" MANIFEST >actual &&
	test_cmp expect actual &&
	for t in $(tables window); do
		echo "$t.csv $(( $(count $t 3) + $(count $t 4) )) public.$t"
	done >expect &&
	grep "^# table: [a-z_]*\.csv " MANIFEST | sed "s/^# table: //" >actual &&
	test_cmp expect actual
'

test_expect_success 'MANIFEST: every omitted table with its rows and rule' '
	for t in $(tables omitted); do
		case $t in sessions) rule="omit sessions (built-in scope line 5)" ;;
		*) rule="omit *_logs (built-in scope line 6)" ;; esac
		echo "public.$t $(count $t 2) $rule"
	done >expect &&
	sed -n "s/^# omitted: //p" MANIFEST >actual &&
	test_cmp expect actual
'

test_expect_success 'restore into an empty database: every constraint, no error' '
	pg_psql -d postgres -c "CREATE DATABASE restored" &&
	POSTGRES_DB=restored bk-unpack --restore --unsigned "$(cat archive)" >restore.out 2>restore.err &&
	q="SELECT count(*) FROM pg_constraint WHERE contype IN (${SQ}f${SQ}, ${SQ}p${SQ}, ${SQ}u${SQ})" &&
	test "$(pg_psql -d restored -At -c "$q")" = "$(pg_query "$q")"
'

test_expect_success 'every full table comes back row for row' '
	for t in $(tables full); do
		q=$(qname "$t") &&
		rows smart_ai_hub "$q" >expect &&
		rows restored "$q" >actual &&
		test_cmp expect actual || { echo "table $t differs"; exit 1; }
	done
'

test_expect_success 'every window: its rows and the referenced older ones, nothing else' '
	for t in $(tables window); do
		cutoff=$(sed -n "s/^# window: $t.csv created_at >= //p" MANIFEST) &&
		rows restored "public.$t" >restored.rows &&
		pg_psql -d restored -c "COPY (SELECT id FROM public.$t) TO STDOUT" >ids &&
		test $(wc -l <ids) = $(( $(count $t 3) + $(count $t 4) )) &&
		pg_psql -d restored -At -c "SELECT count(*) FROM public.$t WHERE created_at >= ${SQ}$cutoff${SQ}" >n &&
		test "$(cat n)" = "$(count $t 3)" &&
		list=$(sed "s/.*/${SQ}&${SQ}/" ids | paste -sd,) &&
		pg_psql -c "COPY (SELECT t::text FROM public.$t t WHERE id IN ($list) ORDER BY 1) TO STDOUT" >source.rows &&
		test_cmp source.rows restored.rows || { echo "window $t differs"; exit 1; }
	done
'

test_expect_success 'omitted tables exist and are empty' '
	for t in $(tables omitted); do
		test "$(pg_psql -d restored -At -c "SELECT count(*) FROM public.$t")" = 0 || exit 1
	done
'

test_expect_success 'BACKUP_INFO.txt names every omitted table with its rows' '
	for t in $(tables omitted); do
		grep -q "public\.$t .*$(count $t 2)" BACKUP_INFO.txt || { echo "$t missing"; exit 1; }
	done
'

test_expect_success 'the mail says what is not in this backup' '
	bk-mail --backup "$(cat archive)" >/dev/null 2>mail.err &&
	mail=$(ls outbox/*.eml) &&
	grep -q "^Subject: \[bk\] Backup OK " "$mail" &&
	grep -q "Not in this backup" "$mail" &&
	for t in $(tables omitted); do
		grep -q "public\.$t: ~$(count $t 2) rows" "$mail" || { echo "$t missing"; exit 1; }
	done
'

test_expect_success '--restore --replace over the live database changes no row' '
	for t in $(tables full) $(tables window) $(tables omitted); do
		rows smart_ai_hub "$(qname "$t")"
	done >before &&
	bk-unpack --restore --unsigned --replace "$(cat archive)" >replace.out 2>replace.err &&
	for t in $(tables full) $(tables window) $(tables omitted); do
		rows smart_ai_hub "$(qname "$t")"
	done >after &&
	test_cmp before after
'

test_expect_success 'drift: a new table, a table gone, a table emptied are warnings' '
	pg_psql -q <<-\EOF &&
	CREATE TABLE "ApiKeyRotation" (id int PRIMARY KEY, "rotatedAt" timestamp(3));
	INSERT INTO "ApiKeyRotation" VALUES (1, now());
	DROP TABLE webhook_endpoints CASCADE;
	DELETE FROM notifications;
	EOF
	bk-export -o "$TRASH/drift" >/dev/null 2>drift.err &&
	cat >expect <<-EOF &&
	# warning: drift: new table public."ApiKeyRotation" since critical_backup_20261130_020000.tar.gz: backed up in full
	# warning: drift: table public.webhook_endpoints is gone since critical_backup_20261130_020000.tar.gz (it had $(count webhook_endpoints 2) rows)
	# warning: drift: public.notifications has 0 rows, $(count notifications 2) in critical_backup_20261130_020000.tar.gz
	EOF
	grep "^# warning: " drift/MANIFEST >actual &&
	test_cmp expect actual &&
	grep -q "WARN bk-export\[[0-9]*\]: drift: public.notifications has 0 rows" drift.err
'

test_expect_success 'drift under BACKUP_STRICT=1 fails the export, nothing left' '
	BACKUP_STRICT=1 test_expect_code 1 bk-export -o "$TRASH/strict" >out 2>err &&
	test ! -s out &&
	grep -q "ERROR bk-export\[[0-9]*\]: drift: new table public.\"ApiKeyRotation\"" err &&
	test_path_is_missing strict
'

test_done
