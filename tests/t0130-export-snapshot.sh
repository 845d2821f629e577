#!/bin/bash
# bk-export reads everything from one snapshot: rows and tables committed by
# other sessions after it took the snapshot are in no file, not in the data
# and not in pg_dump's schema.  A session holding a lock stops the export after
# the snapshot was taken (on a sequence it reads, or on a table outside the
# scope that pg_dump locks); the test changes the database meanwhile.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
test_description 'bk-export: one snapshot for schema and data'

test_need_programs bk-export
pg_start && pg_load_fixture || exit 1

test_expect_success 'schema and data come from the snapshot, not from when they are read' '
	# The export reads the sequences after taking its snapshot and before it
	# starts pg_dump or reads any data: hold one of them.
	pg_hold "BEGIN; ALTER SEQUENCE public.user_roles_id_seq RENAME TO held_seq;" &&
	pg_wait_for "SELECT count(*) = 1 FROM pg_locks WHERE relation = ${SQ}public.user_roles_id_seq${SQ}::regclass
		AND mode = ${SQ}AccessExclusiveLock${SQ} AND granted" &&
	{ bk-export -o early >path 2>err & } &&
	exporter=$! &&
	pg_wait_for "SELECT count(*) = 1 FROM pg_stat_activity
		WHERE application_name = ${SQ}bk-export${SQ} AND wait_event_type = ${SQ}Lock${SQ}" &&
	pg_psql <<-\EOF &&
	INSERT INTO users (id, email, name, updated_at)
		VALUES (md5($$early$$)::uuid, $$early@example.com$$, $$Early Bird$$, now());
	CREATE TABLE early_table (id int);
	EOF
	pg_release "ROLLBACK;" &&
	rc=0 && wait $exporter || rc=$? &&
	test $rc = 0 &&
	test "$(pg_query "SELECT count(*) FROM users")" = 201 &&
	grep -q "^# table: users.sql 200 public.users$" early/MANIFEST &&
	! grep -q "early@example.com" early/users.sql &&
	grep -q "^CREATE TABLE public.users " early/schema.sql &&
	! grep -q "early_table" early/schema.sql early/schema-post.sql
'

test_expect_success 'changes committed while pg_dump waits are not exported' '
	# pg_dump locks every table, sessions too; the data is read after it.
	pg_hold "BEGIN; LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE;" &&
	pg_wait_for "SELECT count(*) = 1 FROM pg_locks WHERE relation = ${SQ}public.sessions${SQ}::regclass
		AND mode = ${SQ}AccessExclusiveLock${SQ} AND granted" &&
	{ bk-export -o snap >path 2>err & } &&
	exporter=$! &&
	pg_wait_for "SELECT count(*) > 0 FROM pg_stat_activity
		WHERE application_name = ${SQ}pg_dump${SQ} AND wait_event_type = ${SQ}Lock${SQ}" &&
	pg_psql <<-\EOF &&
	INSERT INTO users (id, email, name, updated_at)
		VALUES (md5($$late$$)::uuid, $$late@example.com$$, $$Late Comer$$, now());
	INSERT INTO user_roles (user_id, role) VALUES (md5($$late$$)::uuid, $$ADMIN$$);
	INSERT INTO credit_transactions (user_id, type, amount, balance_after, description)
		VALUES (md5($$late$$)::uuid, $$BONUS$$, 7, 7, $$late bonus$$);
	UPDATE organizations SET name = $$Renamed Late$$ WHERE id = md5($$org-1$$)::uuid;
	DELETE FROM system_settings WHERE key = $$maintenance$$;
	CREATE TABLE late_table (id int);
	EOF
	pg_release "COMMIT;" &&
	rc=0 && wait $exporter || rc=$? &&
	test $rc = 0 &&
	echo "$TRASH/snap" >expect && test_cmp expect path &&

	test "$(pg_query "SELECT count(*) FROM users")" = 202 &&
	cat >expect <<-EOF &&
	users.sql 201 public.users
	users.sql 206 public.user_roles
	organization.sql 10 public.organizations
	config.sql 8 public.system_settings
	credit_transactions.csv 600 public.credit_transactions
	EOF
	sed -n "s/^# table: //p" snap/MANIFEST |
		grep -E " public\.(users|user_roles|organizations|system_settings|credit_transactions)$" >actual &&
	test_cmp expect actual &&
	! grep -q "late@example.com" snap/users.sql &&
	! grep -q "late bonus" snap/credit_transactions.csv &&
	! grep -q "Renamed Late" snap/organization.sql &&
	grep -q "^maintenance	" snap/config.sql &&
	grep -q "^CREATE TABLE public.sessions " snap/schema.sql &&
	! grep -q "late_table" snap/schema.sql snap/schema-post.sql
'

test_expect_success 'the next export sees the changes' '
	bk-export -o next >path 2>err &&
	grep -q "^# table: users.sql 202 public.users$" next/MANIFEST &&
	grep -q "^# table: config.sql 7 public.system_settings$" next/MANIFEST &&
	grep -q "late@example.com" next/users.sql &&
	grep -q "^CREATE TABLE public.late_table " next/schema.sql
'

test_done
