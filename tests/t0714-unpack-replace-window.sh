#!/bin/bash
# bk-unpack --restore --replace over a live database never deletes what the
# backup cannot give back: a windowed table keeps its rows older than the
# cutoff, loses only its rows in the window and those whose key is that of a
# row of the backup, and gets the backup's rows; --replace-all empties every
# table as before. A failed restore leaves rows and sequences unchanged. The
# dry run shows the rows to delete, keep and load, and the omitted tables.

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'bk-unpack --replace keeps the rows older than the window'

test_need_programs bk-export bk-pack
pg_start && pg_load_fixture || exit 1

window_tables="credit_transactions point_transactions purchases transfers"

rows() {
	pg_psql -d "$1" -c "COPY ($2) TO STDOUT"
}

# cutoff TABLE: the cutoff of its window in MANIFEST.
cutoff() {
	sed -n "s/^# window: $1.csv created_at >= //p" MANIFEST
}

# zone TABLE: " ZONE" when MANIFEST's window-rows line gives the zone of the
# cutoff (a timestamp column), nothing for "-" or an old archive.
zone() {
	sed -n "s/^# window-rows: $1.csv [0-9]* [0-9]* [0-9]* \([^-].*\)$/ \1/p" MANIFEST
}

# omitted [MANIFEST]: the dry run's line for each "# omitted:" line (QNAME
# ROWS RULE; a quoted QNAME may hold spaces).
omitted() {
	sed -n "s/^# omitted: \(\(\"[^\"]*\"\|[^ \"]\)*\) \([0-9]*\) \(.*\)$/  not in this backup: \1 (about \3 rows, \4)/p" "${1:-MANIFEST}"
}

# tables: the tables MANIFEST has rows of; windows: those with a window.
tables() {
	grep -c "^# table: " MANIFEST
}
windows() {
	grep -c "^# window: " MANIFEST
}

# window_rows DB TABLE: the rows of TABLE in DB that the archive holds (its
# window; the CSV has every column but the generated ones).
window_rows() {
	local c
	c=$(cutoff "$2") &&
	rows "$1" "SELECT * FROM public.$2 WHERE created_at >= $SQ$c$SQ ORDER BY id"
}

# old_rows DB TABLE: its rows older than the cutoff.
old_rows() {
	local c
	c=$(cutoff "$2") &&
	rows "$1" "SELECT * FROM public.$2 WHERE created_at < $SQ$c$SQ ORDER BY id"
}

# merged WIN OLD: the rows of WIN, then those of OLD whose id is not in WIN,
# in id order: what --replace makes of a windowed table.
merged() {
	awk -F '\t' 'NR == FNR { ids[$1]; print; next } !($1 in ids)' "$1" "$2" |
		sort -t "$(printf '\t')" -k1,1
}

test_expect_success 'setup: an archive of the fixture, a live copy that moved on' '
	export BACKUP_CONFIG_FILES=" " &&
	bk-export -o "$TRASH/export" >export.out 2>export.err &&
	bk-pack -o "$TRASH/backup.tar.gz" "$TRASH/export" >archive 2>pack.err &&
	tar -xzOf backup.tar.gz MANIFEST >MANIFEST &&
	c=$(cutoff credit_transactions) &&
	test -n "$c" &&
	pg_psql -d postgres -c "CREATE DATABASE live TEMPLATE smart_ai_hub" &&
	pg_psql -d live -v c="$SQ$c$SQ" <<-\EOF
	-- Old rows that exist nowhere else, one a millisecond before the cutoff.
	INSERT INTO credit_transactions (user_id, type, amount, balance_after, description, created_at)
		SELECT id, $$BONUS$$, 7, 7, $$old, live only$$, now() - interval $$1 year$$
		FROM users ORDER BY email LIMIT 3;
	INSERT INTO credit_transactions (user_id, type, amount, balance_after, description, created_at)
		SELECT id, $$BONUS$$, 8, 8, $$just before the cutoff$$,
		       date_trunc($$milliseconds$$, :c::timestamp - interval $$1 microsecond$$)
		FROM users ORDER BY email LIMIT 1;
	-- A row at the cutoff is in the window: the backup does not have it.
	INSERT INTO credit_transactions (user_id, type, amount, balance_after, description, created_at)
		SELECT id, $$BONUS$$, 9, 9, $$at the cutoff$$,
		       date_trunc($$milliseconds$$, :c::timestamp - interval $$1 microsecond$$)
		       + interval $$1 millisecond$$
		FROM users ORDER BY email LIMIT 1;
	INSERT INTO transfers (from_user_id, to_user_id, amount, note, created_at)
		SELECT a.id, b.id, 5, $$old, live only$$, now() - interval $$2 years$$
		FROM users a, users b WHERE a.email < b.email LIMIT 2;
	-- An old row changed since the backup: the live version stays.
	UPDATE credit_transactions SET description = $$changed, old$$
		WHERE id = (SELECT min(id) FROM credit_transactions WHERE created_at < :c);
	-- Rows in the window changed or added since: the backup wins.
	UPDATE credit_transactions SET amount = amount + 1000 WHERE created_at >= :c AND id % 7 = 0;
	UPDATE point_transactions SET points = 0 WHERE created_at >= now() - interval $$10 days$$;
	INSERT INTO credit_transactions (user_id, type, amount, balance_after, description)
		SELECT id, $$BONUS$$, 1, 1, $$after the backup$$ FROM users ORDER BY email LIMIT 1;
	EOF
	# The closure path: a row the archive holds, moved before the cutoff here.
	pg_psql -d live -At -v c="$SQ$c$SQ" >moved <<-\EOF
	UPDATE credit_transactions SET created_at = created_at - interval $$2 years$$
		WHERE id = (SELECT max(id) FROM credit_transactions WHERE created_at >= :c
			    AND description IS DISTINCT FROM $$after the backup$$
			    AND description IS DISTINCT FROM $$at the cutoff$$)
		RETURNING id;
	EOF
'

test_expect_success 'setup: what --replace must leave, from the live copy and the source' '
	for t in $window_tables; do
		window_rows smart_ai_hub $t >$t.win &&
		old_rows live $t >$t.old &&
		merged $t.win $t.old >$t.expect || exit 1
	done &&
	test "$(wc -l <credit_transactions.win)" = "$(pg_expected_count credit_transactions window)" &&
	moved=$(cat moved) &&
	test "$moved" -le 1000 &&
	grep -q "^$moved	" credit_transactions.win &&
	grep -q "^$moved	" credit_transactions.old &&
	test "$(grep -c "live only" credit_transactions.expect)" = 3 &&
	grep -q "just before the cutoff" credit_transactions.expect &&
	! grep -q "at the cutoff" credit_transactions.expect &&
	pg_psql -d postgres -c "CREATE DATABASE failing TEMPLATE live" &&
	pg_psql -d postgres -c "CREATE DATABASE wholly TEMPLATE live"
'

test_expect_success '--dry-run --replace: rows to delete, keep and load per table' '
	POSTGRES_DB=live bk-unpack --dry-run --restore --unsigned --replace backup.tar.gz >stdout 2>err &&
	sed -n "/^  rows  /,/^nothing changed/p" stdout >actual.plan &&
	{
		printf "  %-8s %-36s %9s %9s %9s  %s\n" rows table delete keep load from &&
		sed -n "s/^# table: \([^ ]*\) \([0-9]*\) \(.*\)$/\1 \2 \3/p" MANIFEST |
		while read -r file n q; do
			t=${q#public.}
			c=$(cutoff "$t")
			if [ -n "$c" ]; then
				set -- $(pg_psql -d live -At -F " " -c "SELECT count(*) FILTER (WHERE created_at >= $SQ$c$SQ OR created_at IS NULL), count(*) FILTER (WHERE created_at < $SQ$c$SQ) FROM $q")
				printf "  %-8s %-36s %9s %9s %9s  %s\n" window "$q" "$1" "$2" "$n" "$file"
				printf "  %-8s [created_at >= %s%s]\n" "" "$c" "$(zone "$t")"
			else
				all=$(pg_psql -d live -At -c "SELECT count(*) FROM $q")
				printf "  %-8s %-36s %9s %9s %9s  %s\n" replace "$q" "$all" 0 "$n" "$file"
			fi
		done &&
		omitted &&
		echo "nothing changed (dry run)"
	} >expect.plan &&
	test_cmp expect.plan actual.plan &&
	grep -q "^  not in this backup: public.sessions (about 50 rows, " expect.plan &&
	grep -q "^  mode     the tables exist: data only, in one transaction (replacing rows; windowed tables keep their older rows)$" stdout
'

test_expect_success '--dry-run without --replace: the same figures, then the refusal' '
	POSTGRES_DB=live test_expect_code 1 bk-unpack --dry-run backup.tar.gz >stdout 2>err &&
	sed -n "/^  rows  /,/^nothing changed/p" stdout | grep -v "would refuse" >actual.plan &&
	test_cmp expect.plan actual.plan &&
	grep -q "^  would refuse: $(tables) tables hold rows (--replace replaces their rows, --replace-all empties them)$" stdout
'

test_expect_success '--dry-run --replace-all: windowed tables lose their older rows too' '
	POSTGRES_DB=live bk-unpack --dry-run --replace-all backup.tar.gz >stdout 2>err &&
	n=$(pg_psql -d live -At -c "SELECT count(*) FROM credit_transactions") &&
	load=$(sed -n "s/^# table: credit_transactions.csv \([0-9]*\) .*/\1/p" MANIFEST) &&
	printf "  %-8s %-36s %9s %9s %9s  %s\n" replace public.credit_transactions "$n" 0 "$load" credit_transactions.csv >expect &&
	printf "  %-8s [created_at >= %s%s] (--replace-all: older rows deleted too)\n" "" "$(cutoff credit_transactions)" "$(zone credit_transactions)" >>expect &&
	grep -A1 "^  replace  public.credit_transactions " stdout >actual &&
	test_cmp expect actual &&
	grep -q "^  mode     .*(--replace-all: the tables emptied first)$" stdout
'

test_expect_success 'a restore that fails after the data load changes no row and no sequence' '
	pg_psql -d failing <<-\EOF &&
	SELECT setval($$credit_transactions_id_seq$$, 5000);
	SELECT setval($$transfers_id_seq$$, 7000, false);
	-- A session of a user the backup does not have: its foreign key fails
	-- when it is added back, after the data and sequences.sql.
	INSERT INTO users (id, email, updated_at) VALUES (md5($$ghost$$)::uuid, $$ghost@example.com$$, now());
	INSERT INTO sessions (user_id, token, expires_at) VALUES (md5($$ghost$$)::uuid, $$t-ghost$$, now());
	EOF
	grep -q "credit_transactions_id_seq.*true" export/sequences.sql &&
	pg_dump_text failing >before &&
	pg_psql -d failing -At -c "SELECT last_value, is_called FROM credit_transactions_id_seq UNION ALL SELECT last_value, is_called FROM transfers_id_seq" >seq.before &&
	printf "%s\n" "5000|t" "7000|f" >expect &&
	test_cmp expect seq.before &&
	POSTGRES_DB=failing test_expect_code 1 bk-unpack --restore --unsigned --replace backup.tar.gz >stdout 2>err &&
	grep -q "loaded credit_transactions.csv" err &&
	grep -q "ERROR bk-unpack\[[0-9]*\]: foreign key sessions_user_id_fkey on public.sessions" err &&
	pg_psql -d failing -At -c "SELECT last_value, is_called FROM credit_transactions_id_seq UNION ALL SELECT last_value, is_called FROM transfers_id_seq" >seq.after &&
	test_cmp seq.before seq.after &&
	pg_dump_text failing >after &&
	test_cmp before after
'

test_expect_success '--replace: windows are the backup'\''s, older rows stay' '
	POSTGRES_DB=live bk-unpack --restore --unsigned --replace backup.tar.gz >stdout 2>err &&
	echo "127.0.0.1:$POSTGRES_PORT/live" >expect &&
	test_cmp expect stdout &&
	for t in $window_tables; do
		rows live "SELECT * FROM public.$t ORDER BY id" >actual &&
		sort -t "$(printf "\t")" -k1,1 actual >actual.sorted &&
		test_cmp $t.expect actual.sorted || { echo "table $t differs"; exit 1; }
	done &&
	grep -q "INFO bk-unpack\[[0-9]*\]: public.credit_transactions: replaced [0-9]* rows in the window (created_at >= .*) and 1 older rows the backup holds; kept 404 older rows$" err &&
	grep -q "emptied $(($(tables) - $(windows))) tables; $(windows) windowed tables keep their rows older than the window" err
'

test_expect_success '--replace: the closure row is there once, as the archive has it' '
	moved=$(cat moved) &&
	grep "^$moved	" credit_transactions.win >expect &&
	rows live "SELECT * FROM credit_transactions WHERE id = $moved" >actual &&
	test_cmp expect actual
'

test_expect_success '--replace: full tables are the backup'\''s, sequences past every row' '
	rows smart_ai_hub "SELECT * FROM users ORDER BY 1" >expect &&
	rows live "SELECT * FROM users ORDER BY 1" >actual &&
	test_cmp expect actual &&
	max=$(pg_psql -d live -At -c "SELECT max(id) FROM credit_transactions") &&
	test "$max" -gt 1000 &&
	grep -q "sequence public.credit_transactions_id_seq moved to $max, past the rows of public.credit_transactions kept" err &&
	pg_psql -d live -At -c "INSERT INTO credit_transactions (user_id, type, amount, balance_after) VALUES (md5(${SQ}user-1${SQ})::uuid, ${SQ}BONUS${SQ}, 1, 1) RETURNING id" >actual &&
	echo $((max + 1)) >expect &&
	test_cmp expect actual &&
	max=$(pg_psql -d live -At -c "SELECT max(id) FROM transfers") &&
	test "$max" = 252 &&
	pg_psql -d live -At -c "INSERT INTO transfers (from_user_id, to_user_id, amount) VALUES (md5(${SQ}user-1${SQ})::uuid, md5(${SQ}user-2${SQ})::uuid, 1) RETURNING id" >actual &&
	echo 253 >expect &&
	test_cmp expect actual
'

test_expect_success '--replace twice: the same result (nothing old is lost on the way)' '
	rows live "SELECT * FROM credit_transactions WHERE created_at < now() - interval ${SQ}6 months${SQ} ORDER BY id" >old.before &&
	POSTGRES_DB=live bk-unpack --restore --unsigned --replace backup.tar.gz >stdout 2>err &&
	rows live "SELECT * FROM credit_transactions WHERE created_at < now() - interval ${SQ}6 months${SQ} ORDER BY id" >old.after &&
	test_cmp old.before old.after
'

test_expect_success '--replace-all: every backed-up table emptied first (the old rows go)' '
	POSTGRES_DB=wholly bk-unpack --restore --unsigned --replace-all backup.tar.gz >stdout 2>err &&
	grep -q "emptied $(tables) tables$" err &&
	for t in $window_tables; do
		rows wholly "SELECT * FROM public.$t ORDER BY id" >actual &&
		test_cmp $t.win actual || { echo "table $t differs"; exit 1; }
	done
'

test_expect_success 'MANIFEST lines: closure figures and omitted tables in the dry run' '
	omitted >expect &&
	grep -q "^  not in this backup: public.sessions (about 50 rows, omit sessions (built-in scope line [0-9]*))$" expect &&
	grep -q "^  not in this backup: public.audit_logs " expect &&
	grep "not in this backup" expect.plan >actual &&
	test_cmp expect actual &&
	cp -R export export2 &&
	awk "/^# window-rows: credit_transactions.csv / { \$6 = 3 }
	     { print }
	     /^# window-rows: transfers.csv / {
	        print \"# omitted: public.\\\"Audit Log\\\" 12345 omit *_logs (built-in scope line 4)\" }" \
		export/MANIFEST >export2/MANIFEST &&
	grep -q "^# window-rows: credit_transactions.csv [0-9]* [0-9]* 3 UTC$" export2/MANIFEST &&
	bk-pack -o "$TRASH/newer.tar.gz" "$TRASH/export2" >/dev/null 2>pack2.err &&
	POSTGRES_DB=live bk-unpack --dry-run --replace newer.tar.gz >newer.out 2>err &&
	c=$(cutoff credit_transactions) &&
	printf "  %-8s [created_at >= %s UTC] up to 3 of the kept rows are replaced by the backup'\''s older rows (same key)\n" "" "$c" >expect &&
	grep -A1 "^  window   public.credit_transactions " newer.out | sed 1d >actual &&
	test_cmp expect actual &&
	printf "  %-8s [created_at >= %s UTC]\n" "" "$(cutoff transfers)" >expect &&
	grep -A1 "^  window   public.transfers " newer.out | sed 1d >actual &&
	test_cmp expect actual &&
	omitted export2/MANIFEST >expect &&
	grep -q "^  not in this backup: public.\"Audit Log\" (about 12345 rows, omit \*_logs (built-in scope line 4))$" expect &&
	grep "not in this backup" newer.out >actual &&
	test_cmp expect actual
'

test_expect_success 'old archives (no window-rows, no omitted lines): no zone, no closure note, no list' '
	cp -R export export3 &&
	grep -v -e "^# window-rows: " -e "^# omitted: " export/MANIFEST >export3/MANIFEST &&
	bk-pack -o "$TRASH/old.tar.gz" "$TRASH/export3" >/dev/null 2>pack3.err &&
	POSTGRES_DB=live bk-unpack --dry-run --replace old.tar.gz >stdout 2>err &&
	printf "  %-8s [created_at >= %s]\n" "" "$(cutoff credit_transactions)" >expect &&
	grep -A1 "^  window   public.credit_transactions " stdout | sed 1d >actual &&
	test_cmp expect actual &&
	! grep -q "not in this backup" stdout &&
	! grep -q "up to" stdout
'

test_expect_success '--replace and --replace-all: one or the other, with --restore' '
	test_expect_code 2 bk-unpack --restore --unsigned --replace --replace-all backup.tar.gz >stdout 2>err &&
	test ! -s stdout &&
	grep -q "^bk-unpack: --replace and --replace-all: choose one$" err &&
	test_expect_code 2 bk-unpack --replace-all -C dest backup.tar.gz 2>err &&
	grep -q "^bk-unpack: --replace-all goes with --restore$" err &&
	test_path_is_missing dest
'

test_done
