#!/bin/bash
# The Prisma-style fixture (fixtures/prisma/) proves itself: its tables, row
# counts, windows and classes are those of expected-counts.txt, and the
# closure figures there come out of a fixed-point query over the loaded rows.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'the Prisma-style fixture and its expected counts'

pg_start && pg_load_prisma_fixture || exit 1
EXPECTED=$FIXTURES/prisma/expected-counts.txt
# The start of the window as the built-in scope computes it for Prisma's
# timestamp(3) columns: 3 months back from now, in UTC.
CUTOFF="((now() AT TIME ZONE 'UTC') - interval '3 months')"

# expected: the file's table lines, without comments.
expected() {
	grep -v '^#' "$EXPECTED"
}

# classify NAME: the class the built-in scope rules give a table.
classify() {
	case $1 in
	session | sessions | *_session | *_sessions | *Session | *Sessions | \
	log | logs | *_log | *_logs | *Log | *Logs | \
	audit | audits | *_audit | *_audits)
		echo omitted ;;
	transactions | *_transactions | transaction | *_transaction | \
	transfers | *_transfers | purchases)
		echo window ;;
	*)
		echo full ;;
	esac
}

# The catalog queries, here where single quotes may be written.
cat >"$TRASH/tables.sql" <<-\EOF
SELECT c.relname FROM pg_class c
	JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
	AND n.nspname NOT IN ('pg_catalog', 'information_schema')
	AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY 1;
EOF
cat >"$TRASH/absent.sql" <<-\EOF
SELECT count(*) FROM pg_class WHERE relname IN
	('organizations', 'agencies', 'referrals', 'system_settings', 'purchases');
EOF
cat >"$TRASH/enums.sql" <<-\EOF
SELECT count(*) FROM pg_type WHERE typtype = 'e' AND typname ~ '^[A-Z][A-Za-z]+$';
EOF
cat >"$TRASH/columns.sql" <<-\EOF
SELECT quote_ident(c.relname), quote_ident(a.attname) FROM pg_attribute a
	JOIN pg_class c ON c.oid = a.attrelid
	JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
	AND a.attnum > 0 AND NOT a.attisdropped
	AND a.atttypid IN ('timestamp'::regtype, 'timestamptz'::regtype)
ORDER BY 1, 2;
EOF
cat >"$TRASH/refs.sql" <<-\EOF
SELECT c.conrelid::regclass, a.attname, c.confrelid::regclass
FROM pg_constraint c
	JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f' AND c.conparentid = 0
	AND c.confrelid IN ('credit_transactions'::regclass,
		'point_transactions'::regclass, 'transfers'::regclass)
ORDER BY c.conrelid::regclass::text COLLATE "C", a.attname;
EOF
cat >"$TRASH/omitted-refs.sql" <<-\EOF
SELECT c.conrelid::regclass || ' -> ' || c.confrelid::regclass
FROM pg_constraint c WHERE c.contype = 'f' AND c.conparentid = 0
	AND c.confrelid::regclass::text = ANY (:'omitted')
	AND NOT c.conrelid::regclass::text = ANY (:'omitted');
EOF
cat >"$TRASH/ledger.sql" <<-\EOF
SELECT c.relname, (SELECT count(*) > 0 FROM ledger_entries WHERE tableoid = c.oid)
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'ledger_entries'::regclass
ORDER BY 1;
EOF

test_expect_success 'the tables are those of expected-counts.txt, no more' '
	pg_psql -At -f tables.sql >actual &&
	expected | cut -d" " -f1 | LC_ALL=C sort >expect &&
	test_cmp expect actual &&
	test $(wc -l <expect) = 30
'

test_expect_success 'none of the round-1 tables the application does not have' '
	pg_psql -At -f absent.sql >actual &&
	echo 0 >expect &&
	test_cmp expect actual
'

test_expect_success 'twelve enum types with quoted PascalCase names' '
	pg_psql -At -f enums.sql >actual &&
	echo 12 >expect &&
	test_cmp expect actual
'

test_expect_success 'rows of every table' '
	expected | while read -r t total win clo class; do
		echo "$t $(pg_query "SELECT count(*) FROM \"$t\"")"
	done >actual &&
	expected | cut -d" " -f1,2 >expect &&
	test_cmp expect actual
'

test_expect_success 'the classes are those of the built-in scope rules' '
	expected | while read -r t total win clo class; do
		echo "$t $(classify "$t")"
	done >actual &&
	expected | cut -d" " -f1,5 >expect &&
	test_cmp expect actual &&
	expected | awk "\$5 != \"window\" && (\$3 != \"-\" || \$4 != \"-\")" >bad &&
	test_cmp /dev/null bad
'

test_expect_success 'rows in the 3-month window (UTC) of the window tables' '
	expected | awk "\$5 == \"window\"" | while read -r t total win clo class; do
		echo "$t $(pg_query "SELECT count(*) FROM \"$t\" WHERE created_at >= $CUTOFF")"
	done >actual &&
	expected | awk "\$5 == \"window\" { print \$1, \$3 }" >expect &&
	test_cmp expect actual
'

# Not only the windows' created_at: a custom scope may window any column.
test_expect_success 'no time within 10 days of the 3-month boundary' '
	pg_psql -At -F" " -f columns.sql >columns &&
	grep -cE " (created_at|\"createdAt\")$" columns >n &&
	echo 27 >expect &&
	test_cmp expect n &&
	while read -r t col; do
		echo "$t $(pg_query "SELECT count(*) FROM $t WHERE $col
			BETWEEN $CUTOFF - interval ${SQ}10 days$SQ AND $CUTOFF + interval ${SQ}10 days$SQ")"
	done <columns >actual &&
	sed "s/ .*/ 0/" columns >expect &&
	test_cmp expect actual
'

# Every foreign key into a window table, so that the closure query below
# follows them all; audit_logs is omitted: its references bring in nothing.
test_expect_success 'the references into the window tables' '
	pg_psql -At -F" " -f refs.sql >actual &&
	cat >expect <<-\EOF &&
	audit_logs credit_transaction_id credit_transactions
	credit_transactions reversal_of_id credit_transactions
	credit_transactions transfer_id transfers
	payments credit_transaction_id credit_transactions
	point_transactions converted_from_credit_tx_id credit_transactions
	referral_rewards point_transaction_id point_transactions
	EOF
	test_cmp expect actual
'

test_expect_success 'no backed-up table references an omitted one (none is added)' '
	expected | awk "\$5 == \"omitted\" { print \$1 }" | paste -sd, >omitted &&
	echo api_request_logs,audit_logs,email_logs,sessions,webhook_logs >expect &&
	test_cmp expect omitted &&
	pg_psql -At -v omitted="{$(cat omitted)}" -f omitted-refs.sql >actual &&
	test_cmp /dev/null actual
'

# The closure from the data: start from the window rows and from the rows that
# full tables (payments, referral_rewards) reference, follow every reference
# into a window table until nothing new comes; keep, per row, the step that
# first reached it.
cat >"$TRASH/kept.sql" <<-\EOF
CREATE TEMP TABLE kept AS
WITH RECURSIVE
cutoff AS (SELECT (now() AT TIME ZONE 'UTC') - interval '3 months' AS c),
node (tbl, id, created_at) AS (
	SELECT 'credit_transactions', id, created_at FROM credit_transactions
	UNION ALL SELECT 'point_transactions', id, created_at FROM point_transactions
	UNION ALL SELECT 'transfers', id, created_at FROM transfers
),
edge (from_tbl, from_id, to_tbl, to_id) AS (
	SELECT 'credit_transactions', id, 'credit_transactions', reversal_of_id
		FROM credit_transactions WHERE reversal_of_id IS NOT NULL
	UNION ALL SELECT 'credit_transactions', id, 'transfers', transfer_id
		FROM credit_transactions WHERE transfer_id IS NOT NULL
	UNION ALL SELECT 'point_transactions', id, 'credit_transactions', converted_from_credit_tx_id
		FROM point_transactions WHERE converted_from_credit_tx_id IS NOT NULL
),
walk (tbl, id, step) AS (
	SELECT tbl, id, 0 FROM node, cutoff WHERE created_at >= c
	UNION ALL SELECT 'credit_transactions', credit_transaction_id, 1 FROM payments
		WHERE credit_transaction_id IS NOT NULL
	UNION ALL SELECT 'point_transactions', point_transaction_id, 1 FROM referral_rewards
		WHERE point_transaction_id IS NOT NULL
	UNION ALL SELECT e.to_tbl, e.to_id, w.step + 1 FROM walk AS w
		JOIN edge AS e ON e.from_tbl = w.tbl AND e.from_id = w.id
		WHERE w.step < 20
)
SELECT w.tbl, w.id, min(w.step) AS step, n.created_at < min(c.c) AS old
FROM walk AS w JOIN node AS n USING (tbl, id), cutoff AS c
GROUP BY w.tbl, w.id, n.created_at;
EOF
cat >"$TRASH/closure.sql" <<-\EOF
\ir kept.sql
\pset format unaligned
\pset tuples_only on
\pset fieldsep ' '
\o closure.out
SELECT tbl, count(*) FILTER (WHERE old) FROM kept GROUP BY tbl ORDER BY tbl;
\o steps.out
SELECT tbl, step, count(*) FROM kept WHERE old GROUP BY tbl, step ORDER BY tbl, step;
\o audit.out
SELECT count(DISTINCT a.credit_transaction_id) FROM audit_logs AS a
	JOIN credit_transactions AS t ON t.id = a.credit_transaction_id
WHERE t.created_at < (now() AT TIME ZONE 'UTC') - interval '3 months'
	AND NOT EXISTS (SELECT FROM kept AS k
		WHERE k.tbl = 'credit_transactions' AND k.id = a.credit_transaction_id);
EOF

test_expect_success 'closure rows of the window tables, by a fixed-point query' '
	pg_psql -f closure.sql &&
	expected | awk "\$5 == \"window\" { print \$1, \$4 }" >expect &&
	test_cmp expect closure.out
'

test_expect_success 'the closure takes several steps to its fixed point' '
	cat >expect <<-\EOF &&
	credit_transactions 1 85
	credit_transactions 2 12
	credit_transactions 3 1
	point_transactions 1 19
	transfers 2 9
	transfers 4 1
	EOF
	test_cmp expect steps.out
'

test_expect_success 'old rows that only an omitted log references stay out' '
	echo 24 >expect &&
	test_cmp expect audit.out
'

# What the built-in scope backs up, kept in a copy of the database: every row
# of the full tables, none of the omitted ones, the window and closure rows of
# the window tables.  Every foreign key must then hold again (a missing
# closure row would break one); :drop takes one more row away.
cat >"$TRASH/scoped.sql" <<-\EOF
\ir kept.sql
CREATE TEMP TABLE fks AS
	SELECT conrelid::regclass AS tbl, conname, pg_get_constraintdef(oid) AS def
	FROM pg_constraint WHERE contype = 'f' AND conparentid = 0;
SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', tbl, conname) FROM fks \gexec
SELECT format('TRUNCATE %I', t) FROM unnest(:'omitted'::text[]) AS t \gexec
SELECT format('DELETE FROM %I AS t WHERE NOT EXISTS
		(SELECT FROM kept AS k WHERE k.tbl = %L AND k.id = t.id)', t, t)
	FROM unnest(ARRAY['credit_transactions', 'point_transactions', 'transfers']) AS t \gexec
\if :{?drop}
DELETE FROM credit_transactions WHERE id = md5(:'drop')::uuid;
\endif
\pset format unaligned
\pset tuples_only on
\pset fieldsep ' '
\o scoped.out
SELECT 'credit_transactions', count(*) FROM credit_transactions
UNION ALL SELECT 'point_transactions', count(*) FROM point_transactions
UNION ALL SELECT 'transfers', count(*) FROM transfers;
\o
SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s', tbl, conname, def) FROM fks \gexec
EOF

# scoped_copy DB [psql args]: a copy of the fixture database cut to the scope.
scoped_copy() {
	local db=$1
	shift
	pg_psql -d postgres -c "CREATE DATABASE $db TEMPLATE $POSTGRES_DB" &&
	pg_psql -d "$db" -v omitted="{$(expected | awk '$5 == "omitted" { print $1 }' | paste -sd,)}" \
		"$@" -f scoped.sql
}

test_expect_success 'window and closure rows alone satisfy every foreign key' '
	scoped_copy scoped &&
	expected | awk "\$5 == \"window\" { print \$1, \$3 + \$4 }" >expect &&
	test_cmp expect scoped.out
'

test_expect_success 'without the end of the three-step chain a foreign key breaks' '
	test_must_fail scoped_copy scoped_short -v drop=ct-130 2>err &&
	grep "credit_transactions_reversal_of_id_fkey" err
'

test_expect_success 'ledger_entries: three monthly partitions and a default, with rows' '
	pg_psql -At -f ledger.sql >actual &&
	# The current month has rows unless the month began minutes ago.
	sed "s/^ledger_entries_m0|.*/ledger_entries_m0|-/" actual >actual.m0 &&
	printf "%s\n" "ledger_entries_default|t" "ledger_entries_m0|-" \
		"ledger_entries_m1|t" "ledger_entries_m2|t" >expect &&
	test_cmp expect actual.m0
'

test_done
