#!/bin/bash
# Machine-readable output: values not known yet are null in --json and absent
# from the metrics, never 0; the off-site copy (.last_offsite_success) and the
# last restore test (.last_restore_test) in --json and the metrics, and their
# health rules (BACKUP_S3_URL set: an off-site copy within BACKUP_MAX_AGE_HOURS;
# BACKUP_RESTORE_TEST=1: the last restore test passed).
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-serve.sh"
test_description 'bk-monitor: unknown values, off-site copy and restore test'

# json_check PYTHON: run PYTHON with o = the JSON document in `out`.
json_check() {
	/usr/bin/python3 -c "import json; o = json.load(open('out')); $1"
}

test_expect_success 'before the first run: null in --json, absent from the metrics' '
	serve_fresh_dir &&
	test_expect_code 1 bk-monitor --json --prometheus bk.prom >out &&
	json_check "
for k in (\"last_success\", \"age_hours\", \"size_mb\", \"size_bytes\", \"duration_seconds\",
          \"success_rate\", \"newest\", \"offsite_last_success\", \"offsite_age_hours\",
          \"restore_test\"):
    assert o[k] is None, (k, o)
assert o[\"free_bytes\"] > 0, o" &&
	grep -v "^#" bk.prom | cut -d" " -f1 >names &&
	cat >expect <<-\EOF &&
	bk_backup_runs_total
	bk_backup_runs_failed_total
	bk_backup_dir_free_bytes
	bk_healthy
	EOF
	test_cmp expect names &&
	grep -c "^# HELP " bk.prom >n && echo 4 >expect && test_cmp expect n
'

test_expect_success 'a failed first run: a success ratio of 0 is known, the rest is not' '
	serve_fresh_dir &&
	serve_fail_run 60 "export: cannot connect to postgres:5432" &&
	test_expect_code 1 bk-monitor --prometheus bk.prom >out &&
	grep -q "^bk_backup_success_ratio 0.0000$" bk.prom &&
	! grep -q "^bk_last_success_timestamp_seconds\|^bk_last_backup_size_bytes\|^bk_last_backup_duration" bk.prom
'

test_expect_success 'a backup known only from .last_backup_success: no duration, no ratio' '
	serve_fresh_dir &&
	serve_ok_run 3600 $((12 * MB)) &&
	rm "$BACKUP_DIR/.backup_history" &&
	bk-monitor --json --prometheus bk.prom >out &&
	json_check "assert o[\"duration_seconds\"] is None and o[\"success_rate\"] is None, o" &&
	! grep -q "^bk_last_backup_duration_seconds\|^bk_backup_success_ratio" bk.prom &&
	grep -q "^bk_last_success_timestamp_seconds $((serve_now - 3600))$" bk.prom
'

test_expect_success 'the off-site copy: its time and age in --json and the metrics' '
	serve_fresh_dir &&
	serve_ok_run 3600 $((12 * MB)) &&
	serve_offsite 1800 &&
	bk-monitor --json --prometheus bk.prom >out &&
	json_check "
assert o[\"offsite_last_success\"] == $((serve_now - 1800)), o
assert 0.4 < o[\"offsite_age_hours\"] < 1, o" &&
	grep -q "^bk_offsite_last_success_timestamp_seconds $((serve_now - 1800))$" bk.prom &&
	grep -q "^bk_offsite_age_seconds 1[89][0-9][0-9]$" bk.prom &&
	grep -q "^# TYPE bk_offsite_age_seconds gauge$" bk.prom
'

test_expect_success 'BACKUP_S3_URL unset: an old or missing off-site copy is no reason' '
	serve_fresh_dir &&
	serve_ok_run 3600 $((12 * MB)) &&
	bk-monitor >out &&
	serve_offsite $((30 * 3600)) &&
	bk-monitor >out
'

test_expect_success 'BACKUP_S3_URL set, no off-site copy yet: unhealthy, says so' '
	serve_fresh_dir &&
	serve_ok_run 3600 $((12 * MB)) &&
	BACKUP_S3_URL=s3://bucket/host1/ test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: no off-site copy yet (BACKUP_S3_URL is set)" >expect &&
	test_cmp expect out
'

test_expect_success 'BACKUP_S3_URL set, off-site copy older than BACKUP_MAX_AGE_HOURS: unhealthy' '
	serve_fresh_dir &&
	serve_ok_run 3600 $((12 * MB)) &&
	serve_offsite $((30 * 3600 + 60)) &&
	BACKUP_S3_URL=s3://bucket/host1/ test_expect_code 1 bk-monitor --json >out &&
	json_check "assert o[\"reasons\"] == [\"newest off-site copy 30h old (max 25h)\"], o; assert o[\"cause\"] == \"offsite\", o" &&
	BACKUP_S3_URL=s3://bucket/host1/ BACKUP_MAX_AGE_HOURS=48 bk-monitor >out &&
	serve_offsite 600 &&
	BACKUP_S3_URL=s3://bucket/host1/ bk-monitor >out
'

test_expect_success 'a malformed .last_offsite_success is a reason naming it (S3 set)' '
	serve_fresh_dir &&
	serve_ok_run 3600 $((12 * MB)) &&
	echo soon >"$BACKUP_DIR/.last_offsite_success" &&
	BACKUP_S3_URL=s3://bucket/x/ test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: $BACKUP_DIR/.last_offsite_success: not a number: ${SQ}soon${SQ}" >expect &&
	test_cmp expect out
'

test_expect_success 'the last restore test: time, result and duration in --json and the metrics' '
	serve_fresh_dir &&
	serve_ok_run 3600 $((12 * MB)) &&
	serve_restore_test 3500 ok 42.5 - &&
	bk-monitor --json --prometheus bk.prom >out &&
	json_check "assert o[\"restore_test\"] == {\"timestamp\": $((serve_now - 3500)), \"result\": \"ok\", \"duration_seconds\": 42.5, \"reason\": None}, o" &&
	grep -v "^#" bk.prom | grep "^bk_restore_test" >samples &&
	cat >expect <<-EOF &&
	bk_restore_test_timestamp_seconds $((serve_now - 3500))
	bk_restore_test_success 1
	bk_restore_test_duration_seconds 42.5
	EOF
	test_cmp expect samples
'

test_expect_success 'a failed restore test: unhealthy with its reason when BACKUP_RESTORE_TEST=1' '
	serve_fresh_dir &&
	serve_ok_run 3600 $((12 * MB)) &&
	serve_restore_test 3500 fail 12.0 "users: 10 rows, MANIFEST says 11" &&
	bk-monitor --prometheus bk.prom >out &&
	grep -q "^bk_restore_test_success 0$" bk.prom &&
	BACKUP_RESTORE_TEST=1 test_expect_code 1 bk-monitor --json >out &&
	json_check "
assert o[\"reasons\"] == [\"last restore test failed: users: 10 rows, MANIFEST says 11\"], o
assert o[\"restore_test\"][\"result\"] == \"fail\", o
assert o[\"restore_test\"][\"reason\"] == \"users: 10 rows, MANIFEST says 11\", o" &&
	serve_restore_test 60 ok 40.0 - &&
	BACKUP_RESTORE_TEST=1 bk-monitor >out
'

test_expect_success 'a malformed .last_restore_test is a reason naming it (restore test on)' '
	serve_fresh_dir &&
	serve_ok_run 3600 $((12 * MB)) &&
	printf "yesterday\tok\n" >"$BACKUP_DIR/.last_restore_test" &&
	BACKUP_RESTORE_TEST=1 test_expect_code 1 bk-monitor >out &&
	grep -q "^unhealthy: $BACKUP_DIR/.last_restore_test: not ${SQ}epoch ok|fail seconds reason${SQ}: ${SQ}yesterday" out &&
	printf "1\tmaybe\t2\t-\n" >"$BACKUP_DIR/.last_restore_test" &&
	BACKUP_RESTORE_TEST=1 test_expect_code 1 bk-monitor >out &&
	printf "1\tok\tnan\t-\n" >"$BACKUP_DIR/.last_restore_test" &&
	BACKUP_RESTORE_TEST=1 test_expect_code 1 bk-monitor >out &&
	bk-monitor --json >out &&
	json_check "assert o[\"restore_test\"] is None, o"
'

test_expect_success 'both rules at once, in order, with the other reasons' '
	serve_fresh_dir &&
	serve_ok_run 3600 $((12 * MB)) &&
	serve_restore_test 3500 fail 12.0 "constraint users_pkey violated" &&
	BACKUP_S3_URL=s3://bkt/p/ BACKUP_RESTORE_TEST=1 test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: no off-site copy yet (BACKUP_S3_URL is set); last restore test failed: constraint users_pkey violated" >expect &&
	test_cmp expect out
'

test_done
