#!/bin/bash
# bk-export reads the data files on worker connections that import the
# exported snapshot (SET TRANSACTION SNAPSHOT, as pg_dump -j): rows committed
# after the snapshot are in none of the files, whichever connection reads
# them; a worker that fails fails the export and the files go.  A session
# holding a lock on a table outside the scope stops pg_dump's pre-data, and
# so the export, after the workers joined the snapshot and before any data is
# read; the test changes the database meanwhile.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'bk-export: data files on parallel connections in one snapshot'

test_need_programs bk-export
pg_start && pg_load_fixture || exit 1

# The leader and at least two workers, all in a transaction with one xmin:
# the workers have imported the snapshot (BEGIN and SET TRANSACTION SNAPSHOT
# are one round trip) and wait for pg_dump's pre-data.
joined="SELECT count(*) >= 3 AND count(DISTINCT backend_xmin::text) = 1 FROM pg_stat_activity
	WHERE application_name = ${SQ}bk-export${SQ} AND state = ${SQ}idle in transaction${SQ}"
dump_waits="SELECT count(*) > 0 FROM pg_stat_activity
	WHERE application_name = ${SQ}pg_dump${SQ} AND wait_event_type = ${SQ}Lock${SQ}"
sessions_locked="SELECT count(*) = 1 FROM pg_locks WHERE relation = ${SQ}public.sessions${SQ}::regclass
	AND mode = ${SQ}AccessExclusiveLock${SQ} AND granted"

test_expect_success 'rows committed after the snapshot are in no file, on any worker' '
	pg_hold "BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE;" &&
	pg_wait_for "$sessions_locked" &&
	{ bk-export -o snap >path 2>err & } &&
	exporter=$! &&
	pg_wait_for "$dump_waits" &&
	pg_wait_for "$joined" &&
	pg_psql <<-\EOF &&
	INSERT INTO users (id, email, name, updated_at)
		VALUES (md5($$late$$)::uuid, $$late@example.com$$, $$Late Comer$$, now());
	INSERT INTO credit_transactions (user_id, type, amount, balance_after, description)
		VALUES (md5($$late$$)::uuid, $$BONUS$$, 7, 7, $$late bonus$$);
	INSERT INTO point_transactions (user_id, type, points, description)
		VALUES (md5($$late$$)::uuid, $$BONUS$$, 5, $$late points$$);
	UPDATE organizations SET name = $$Renamed Late$$ WHERE id = md5($$org-1$$)::uuid;
	EOF
	pg_release "COMMIT;" &&
	rc=0 && wait $exporter || rc=$? &&
	test $rc = 0 &&
	echo "$TRASH/snap" >expect && test_cmp expect path &&
	grep -q "INFO bk-export\[[0-9]*\]: data: [0-9]* files on [2-4] connections in snapshot " err &&

	cat >expect <<-EOF &&
	users.sql 200 public.users
	organization.sql 10 public.organizations
	credit_transactions.csv 600 public.credit_transactions
	point_transactions.csv 300 public.point_transactions
	EOF
	sed -n "s/^# table: //p" snap/MANIFEST |
		grep -E " public\.(users|organizations|credit_transactions|point_transactions)$" >actual &&
	test_cmp expect actual &&
	! grep -q "late@example.com" snap/users.sql &&
	! grep -q "late bonus" snap/credit_transactions.csv &&
	! grep -q "late points" snap/point_transactions.csv &&
	! grep -q "Renamed Late" snap/organization.sql
'

test_expect_success 'whichever worker finishes first, the same files and MANIFEST' '
	bk-export -o one >path 2>err &&
	bk-export -o two >path 2>err &&
	# (schema.sql and schema-post.sql are pg_dump'"'"'s, with its random \restrict key)
	for f in $(sed -n "s/^[0-9a-f]\{64\} [0-9]* [0-9][0-9]* //p" one/MANIFEST); do
		test_cmp one/$f two/$f || return 1
	done &&
	grep -v -e "^# created:" -e "^# snapshot:" -e "^# window:" -e " - schema" one/MANIFEST >expect &&
	grep -v -e "^# created:" -e "^# snapshot:" -e "^# window:" -e " - schema" two/MANIFEST >actual &&
	test_cmp expect actual &&
	test $(wc -l <expect) -gt 20
'

test_expect_success 'a worker that fails fails the export: exit 1, files removed' '
	pg_hold "BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE;" &&
	pg_wait_for "$sessions_locked" &&
	{ bk-export -o broken >out 2>err & } &&
	exporter=$! &&
	pg_wait_for "$dump_waits" &&
	pg_wait_for "$joined" &&
	# A worker holds no table lock (the leader holds them all).
	test "$(pg_query "SELECT pg_terminate_backend((SELECT a.pid FROM pg_stat_activity a
		WHERE a.application_name = ${SQ}bk-export${SQ} AND NOT EXISTS (SELECT 1
		FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = ${SQ}relation${SQ}) LIMIT 1))")" = t &&
	pg_release "COMMIT;" &&
	rc=0 && wait $exporter || rc=$? &&
	test $rc = 1 &&
	grep -q "ERROR bk-export\[[0-9]*\]: cannot read table public\.[a-z_]*: " err &&
	test_path_is_missing broken &&
	test ! -s out &&
	pg_wait_for "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = ${SQ}bk-export${SQ}"
'

test_done
