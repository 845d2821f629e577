#!/bin/bash
# kill -9 of each tool bk-run starts, at points spread over its whole life:
# bk-export, both pg_dump runs, bk-pack and bk-verify run under strace(1),
# which delivers SIGKILL when the tool enters its Nth call of a system call
# (from the first file it opens to its exit, and each rename and fsync), N
# taken from a reference run.
# After each: the run fails at that step, no archive under a final name, no
# success status, the lock free, and the next run succeeds and cleans up.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-fault.sh"
test_description 'kill -9 of bk-export, pg_dump, bk-pack, bk-verify at many points'

test_need_programs bk-run bk-export bk-pack bk-verify bk-prune
fault_have_strace || test_skip_all "strace(1) missing or not allowed to trace (tools/install-deps)"
command -v flock >/dev/null || test_skip_all "flock(1) not installed (util-linux)"
pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0
mkdir -p "$BACKUP_CONFIG_DIR/ssl"
echo "services: {}" >"$BACKUP_CONFIG_DIR/docker-compose.prod.yml"
echo "CERT" >"$BACKUP_CONFIG_DIR/ssl/cert.pem"
fault_make_fakebin || test_skip_all "cannot make the wrappers (no pg_dump on PATH?)"
test_atexit 'for p in $(fault_procs); do kill -9 $p; done'

STEPS="bk-export:export:6 pg_dump.pre-data:export:3 pg_dump.post-data:export:3 bk-pack:pack:6 bk-verify:verify:5"

test_expect_success 'a reference run with every step traced' '
	fault_run --no-mail >path &&
	fault_next_second &&
	for s in $STEPS; do echo trace >"$FAULT_INJECT/${s%%:*}"; done &&
	fault_run --no-mail >path &&
	for s in $STEPS; do rm "$FAULT_INJECT/${s%%:*}"; done &&
	bk-verify "$(cat path)" >/dev/null &&
	for s in $STEPS; do
		name=${s%%:*} want=${s##*:} &&
		fault_points "$FAULT_TRACES/$name" $want >"points.$name" &&
		test $(wc -l <"points.$name") = $want &&
		awk "match(\$0, /^[a-z_0-9]+\\(/) {
			name = substr(\$0, 1, RLENGTH - 1); n[name]++
			if (name ~ /^(rename|renameat2|link|linkat|fsync)$/) print name, n[name]
		}" "$FAULT_TRACES/$name" >>"points.$name" || exit 1
	done &&
	grep -q "^renameat2 1$" points.bk-pack && grep -q "^rename 1$" points.bk-export
'

for s in $STEPS; do
	name=${s%%:*} rest=${s#*:}
	step=${rest%%:*}
	[ -s "points.$name" ] || continue
	while read -r sc n; do
		test_expect_success "SIGKILL at $name's call $n of $sc: the run fails at $step" "
			fault_kill_step $name $sc $n $step
		"
		test_expect_success "  then the next run succeeds and cleans up" '
			fault_recover
		'
	done <"points.$name"
done

test_done
