#!/bin/bash
# bk-monitor: health from hand-written status files and history; the status
# line (compared exactly), exit codes, --json and --prometheus.
. "$(dirname "$0")/lib.sh"
test_description 'bk-monitor status line, JSON and Prometheus metrics'

now=$(date +%s)
stamp() { date -d "@$1" +%Y%m%d_%H%M%S; }

# fresh_dir: an empty BACKUP_DIR.
fresh_dir() {
	rm -rf "$BACKUP_DIR" && mkdir -p "$BACKUP_DIR"
}

# ok_run AGE_SECONDS BYTES [SECONDS]: status files and a history line as bk-run
# writes them for a successful run AGE_SECONDS ago; the archive exists.
ok_run() {
	local t=$((now - $1)) name
	name=critical_backup_$(stamp "$t").tar.gz
	echo "$t" >"$BACKUP_DIR/.last_backup_success"
	echo $((($2 + 1048575) / 1048576)) >"$BACKUP_DIR/.last_backup_size_mb"
	printf '%s\tok\t%s\t%s\t%s\t-\n' "$t" "$2" "${3:-93.5}" "$name" >>"$BACKUP_DIR/.backup_history"
	: >"$BACKUP_DIR/$name"
	echo "$name" >"$TRASH/newest"
}

# fail_run AGE_SECONDS REASON: a history line for a failed run.
fail_run() {
	printf '%s\tfail\t0\t4.0\t-\t%s\n' $((now - $1)) "$2" >>"$BACKUP_DIR/.backup_history"
}

MB=1048576

test_expect_success 'no backup directory at all: unhealthy' '
	rm -rf "$BACKUP_DIR" &&
	test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: backup directory $BACKUP_DIR: No such file or directory" >expect &&
	test_cmp expect out
'

test_expect_success 'no backup yet: unhealthy, exit 1' '
	fresh_dir &&
	test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: no successful backup yet" >expect &&
	test_cmp expect out
'

test_expect_success 'a fresh backup: healthy, exit 0, the exact status line' '
	fresh_dir &&
	ok_run $((40 * 86400)) $((11 * MB)) &&
	for i in $(seq 30 -1 2); do
		if [ "$i" = 20 ]; then
			fail_run $((i * 86400)) "export: cannot connect to postgres:5432"
		else
			ok_run $((i * 86400)) $((11 * MB))
		fi
	done &&
	ok_run $((3 * 3600 + 600)) $((12 * MB + 300000)) &&
	bk-monitor >out 2>err &&
	echo "healthy: last backup 3h ago, 12 MB, 29/30 ok, newest $(cat newest)" >expect &&
	test_cmp expect out &&
	test ! -s err
'

test_expect_success 'minutes under an hour, one decimal under 10 MB' '
	fresh_dir &&
	ok_run 1500 $((5 * MB + MB / 2)) &&
	bk-monitor >out &&
	echo "healthy: last backup 25m ago, 5.5 MB, 1/1 ok, newest $(cat newest)" >expect &&
	test_cmp expect out
'

test_expect_success 'last success 26 hours ago: unhealthy' '
	fresh_dir &&
	ok_run $((26 * 3600 + 60)) $((12 * MB)) &&
	test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: last success 26h ago (max 25h)" >expect &&
	test_cmp expect out
'

test_expect_success 'BACKUP_MAX_AGE_HOURS is honoured' '
	fresh_dir &&
	ok_run $((26 * 3600 + 60)) $((12 * MB)) &&
	BACKUP_MAX_AGE_HOURS=48 bk-monitor >out &&
	echo "healthy: last backup 26h ago, 12 MB, 1/1 ok, newest $(cat newest)" >expect &&
	test_cmp expect out
'

test_expect_success 'size 0: unhealthy' '
	fresh_dir &&
	ok_run 3600 0 &&
	test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: last backup 0 B, below the minimum 1 MB" >expect &&
	test_cmp expect out
'

test_expect_success 'size 250 MB: unhealthy' '
	fresh_dir &&
	ok_run 3600 $((250 * MB)) &&
	test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: last backup 250 MB, above the maximum 100 MB" >expect &&
	test_cmp expect out
'

test_expect_success 'the byte count from the history is used: 100 MB and one byte is too big' '
	fresh_dir &&
	ok_run 3600 $((100 * MB + 1)) &&
	test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: last backup 100 MB, above the maximum 100 MB" >expect &&
	test_cmp expect out &&
	ok_run 3000 $((100 * MB)) &&
	bk-monitor >out
'

test_expect_success 'without history, .last_backup_size_mb decides the size' '
	fresh_dir &&
	ok_run 3600 $((12 * MB)) &&
	rm "$BACKUP_DIR/.backup_history" &&
	echo 250 >"$BACKUP_DIR/.last_backup_size_mb" &&
	test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: last backup 250 MB, above the maximum 100 MB" >expect &&
	test_cmp expect out &&
	echo 0 >"$BACKUP_DIR/.last_backup_size_mb" &&
	test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: last backup 0 B, below the minimum 1 MB" >expect &&
	test_cmp expect out &&
	echo 12 >"$BACKUP_DIR/.last_backup_size_mb" &&
	bk-monitor >out &&
	echo "healthy: last backup 1h ago, 12 MB, newest $(cat newest)" >expect &&
	test_cmp expect out
'

test_expect_success 'the size limits come from BACKUP_MIN_SIZE_MB and BACKUP_MAX_SIZE_MB' '
	fresh_dir &&
	ok_run 3600 $((250 * MB)) &&
	BACKUP_MAX_SIZE_MB=300 bk-monitor >out &&
	BACKUP_MIN_SIZE_MB=260 BACKUP_MAX_SIZE_MB=300 test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: last backup 250 MB, below the minimum 260 MB" >expect &&
	test_cmp expect out
'

test_expect_success 'newest archive missing from BACKUP_DIR: unhealthy' '
	fresh_dir &&
	ok_run 86400 $((12 * MB)) &&
	ok_run 3600 $((12 * MB)) &&
	rm "$BACKUP_DIR/$(cat newest)" &&
	test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: newest archive $(cat newest) is missing from $BACKUP_DIR" >expect &&
	test_cmp expect out
'

test_expect_success 'without history the newest archive on disk is named; none is unhealthy' '
	fresh_dir &&
	ok_run 86400 $((12 * MB)) &&
	old=$(cat newest) &&
	ok_run 3600 $((12 * MB)) &&
	rm "$BACKUP_DIR/.backup_history" &&
	bk-monitor >out &&
	echo "healthy: last backup 1h ago, 12 MB, newest $(cat newest)" >expect &&
	test_cmp expect out &&
	rm "$BACKUP_DIR"/critical_backup_* &&
	test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: no archive in $BACKUP_DIR" >expect &&
	test_cmp expect out
'

test_expect_success 'the last run failed (mail after a verified backup): unhealthy with its reason' '
	fresh_dir &&
	ok_run 3600 $((12 * MB)) &&
	fail_run 3500 "mail: cannot connect to smtp.example.com:587: Connection refused" &&
	test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: last run failed: mail: cannot connect to smtp.example.com:587: Connection refused" >expect &&
	test_cmp expect out
'

test_expect_success 'a failure followed by a success is healthy again' '
	fresh_dir &&
	fail_run 7200 "export: cannot connect to postgres:5432" &&
	ok_run 3600 $((12 * MB)) &&
	bk-monitor >out &&
	echo "healthy: last backup 1h ago, 12 MB, 1/2 ok, newest $(cat newest)" >expect &&
	test_cmp expect out
'

test_expect_success 'every reason at once, in order, joined by "; "' '
	fresh_dir &&
	ok_run $((30 * 3600)) 0 &&
	rm "$BACKUP_DIR/$(cat newest)" &&
	fail_run 3600 "verify: users.sql: checksum mismatch" &&
	test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: last success 30h ago (max 25h); last backup 0 B, below the minimum 1 MB; newest archive $(cat newest) is missing from $BACKUP_DIR; last run failed: verify: users.sql: checksum mismatch" >expect &&
	test_cmp expect out
'

test_expect_success 'a last success hours in the future: unhealthy, check the clock' '
	fresh_dir &&
	ok_run $((-5 * 3600 - 60)) $((12 * MB)) &&
	test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: last success is 5h in the future; check the clock" >expect &&
	test_cmp expect out
'

test_expect_success 'a malformed status file is a reason, naming the file' '
	fresh_dir &&
	echo yesterday >"$BACKUP_DIR/.last_backup_success" &&
	test_expect_code 1 bk-monitor >out &&
	echo "unhealthy: $BACKUP_DIR/.last_backup_success: not a number: ${SQ}yesterday${SQ}" >expect &&
	test_cmp expect out
'

test_expect_success 'free space below twice the last backup: unhealthy, says so' '
	fresh_dir &&
	free=$(df -B1 --output=avail "$BACKUP_DIR" | tail -n 1 | tr -d " ") &&
	size=$((free / 2 + 64 * MB)) &&
	if [ $((size / MB)) -ge 1000000 ]; then
		echo "# $BACKUP_DIR has too much free space for this test" && exit 0
	fi &&
	ok_run 3600 "$size" &&
	BACKUP_MAX_SIZE_MB=1000000 test_expect_code 1 bk-monitor >out &&
	sed -E "s/is [0-9.]+ [KMGT]?B, /is N MB, /; s/backup \([0-9.]+ [KMGT]?B\)/backup (M MB)/" out >actual &&
	echo "unhealthy: free space in $BACKUP_DIR is N MB, less than twice the last backup (M MB)" >expect &&
	test_cmp expect actual
'

test_expect_success '--json: an object with the documented fields' '
	fresh_dir &&
	ok_run 86400 $((11 * MB)) 80 &&
	fail_run 80000 "pack: No space left on device" &&
	ok_run 7200 $((12 * MB)) 93.5 &&
	bk-monitor --json >out &&
	/usr/bin/python3 - "$(cat newest)" "$((now - 7200))" <<-\EOF
	import json, sys
	o = json.load(open("out"))
	assert o["healthy"] is True, o
	assert o["reasons"] == [], o
	assert o["last_success"] == int(sys.argv[2]), o
	assert abs(o["age_hours"] - 2.0) < 0.1, o
	assert o["size_mb"] == 12.0 and o["size_bytes"] == 12 * 1048576, o
	assert o["duration_seconds"] == 93.5, o
	assert abs(o["success_rate"] - 2 / 3) < 0.001, o
	assert (o["runs"], o["failed"], o["runs_total"], o["failed_total"]) == (3, 1, 3, 1), o
	assert o["newest"] == sys.argv[1], o
	EOF
'

test_expect_success '--json when unhealthy: reasons and nulls' '
	fresh_dir &&
	test_expect_code 1 bk-monitor --json >out &&
	/usr/bin/python3 - <<-\EOF
	import json
	o = json.load(open("out"))
	assert o["healthy"] is False, o
	assert o["reasons"] == ["no successful backup yet"], o
	for k in ("last_success", "age_hours", "size_mb", "success_rate", "newest"):
	    assert o[k] is None, (k, o)
	assert o["runs"] == 0 and o["failed"] == 0, o
	EOF
'

test_expect_success '--json escapes quotes and backslashes in reasons' '
	fresh_dir &&
	ok_run 3600 $((12 * MB)) &&
	fail_run 3000 "export: table \"a\\b\" is odd" &&
	test_expect_code 1 bk-monitor --json >out &&
	/usr/bin/python3 -c "import json; o = json.load(open(\"out\")); assert o[\"reasons\"] == [\"last run failed: export: table \\\"a\\\\b\\\" is odd\"], o"
'

# Prometheus text format, line by line: HELP/TYPE comments and samples.
check_prom() {
	local n=0 line
	while IFS= read -r line; do
		n=$((n + 1))
		if [[ $line =~ ^#\ (HELP|TYPE)\ ([a-z_]+)\ (.+)$ ]]; then
			if [ "${BASH_REMATCH[1]}" = TYPE ]; then
				case ${BASH_REMATCH[3]} in
				gauge|counter) ;;
				*) echo "bad type on line $n: $line"; return 1 ;;
				esac
			fi
		elif ! [[ $line =~ ^[a-z_]+(\{[a-z_]+=\"[^\"]*\"(,[a-z_]+=\"[^\"]*\")*\})?\ [0-9.e+-]+$ ]]; then
			echo "bad line $n: $line"
			return 1
		fi
	done <"$1"
	[ "$n" -gt 0 ]
}

test_expect_success '--prometheus FILE: node_exporter text format, mode 0644' '
	fresh_dir &&
	mkdir -p prom &&
	ok_run 86400 $((11 * MB)) 80 &&
	fail_run 80000 "pack: No space left on device" &&
	ok_run 7200 $((12 * MB)) 93.5 &&
	bk-monitor --prometheus prom/bk.prom >out &&
	check_prom prom/bk.prom &&
	test "$(stat -c %a prom/bk.prom)" = 644 &&
	grep -v "^#" prom/bk.prom | sed -E "s/^(bk_backup_dir_free_bytes) [0-9]+$/\\1 FREE/" >samples &&
	cat >expect <<-EOF &&
	bk_last_success_timestamp_seconds $((now - 7200))
	bk_last_backup_size_bytes $((12 * MB))
	bk_last_backup_duration_seconds 93.5
	bk_backup_success_ratio 0.6667
	bk_backup_runs_total 3
	bk_backup_runs_failed_total 1
	bk_backup_dir_free_bytes FREE
	bk_healthy 1
	EOF
	test_cmp expect samples &&
	for m in $(cut -d" " -f1 expect); do
		grep -q "^# HELP $m " prom/bk.prom &&
		grep -q "^# TYPE $m " prom/bk.prom || exit 1
	done &&
	ls -A prom >files &&
	echo bk.prom >expect &&
	test_cmp expect files
'

test_expect_success '--prometheus when unhealthy: bk_healthy 0, still written' '
	fresh_dir &&
	test_expect_code 1 bk-monitor --prometheus bk.prom >out &&
	check_prom bk.prom &&
	grep -q "^bk_healthy 0$" bk.prom &&
	! grep -q "^bk_last_success_timestamp_seconds" bk.prom
'

test_expect_success '--prometheus into a missing directory: exit 1, status line still printed' '
	fresh_dir &&
	ok_run 3600 $((12 * MB)) &&
	test_expect_code 1 bk-monitor --prometheus nowhere/bk.prom >out 2>err &&
	echo "healthy: last backup 1h ago, 12 MB, 1/1 ok, newest $(cat newest)" >expect &&
	test_cmp expect out &&
	grep -q "ERROR bk-monitor.*nowhere" err
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 bk-monitor extra 2>err &&
	grep -q "unexpected argument" err &&
	test_expect_code 2 bk-monitor --prometheus 2>err &&
	test_expect_code 2 bk-monitor --prometheus "" 2>err
'

test_expect_success 'a bad limit is a configuration error (exit 2) naming it' '
	BACKUP_MAX_AGE_HOURS=soon test_expect_code 2 bk-monitor >out 2>err &&
	grep -q "BACKUP_MAX_AGE_HOURS" err
'

test_expect_success 'bk-monitor writes nothing into BACKUP_DIR without --alert' '
	fresh_dir &&
	ok_run 3600 $((12 * MB)) &&
	ls -A "$BACKUP_DIR" >before &&
	bk-monitor --json >out &&
	bk-monitor >out &&
	ls -A "$BACKUP_DIR" >after &&
	test_cmp before after
'

test_done
