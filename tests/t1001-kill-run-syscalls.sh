#!/bin/bash
# kill -9 of bk-run at every step of its own work: strace(1) delivers SIGKILL
# when bk-run enters its Nth call of a system call that marks a step (taking
# the lock, making dirs, starting and reaping each tool, publishing the
# archive, each fsync and rename of the status files, removing the temp dir),
# for every such call of a reference run. After each: no archive under a
# final name that fails bk-verify, no status naming a backup that is not
# there, the lock free, no process left, and the next run cleans up.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-fault.sh"
test_description 'kill -9 of bk-run at each of its steps'

test_need_programs bk-run bk-export bk-pack bk-verify bk-prune
fault_have_strace || test_skip_all "strace(1) missing or not allowed to trace (tools/install-deps)"
command -v flock >/dev/null || test_skip_all "flock(1) not installed (util-linux)"
pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0
mkdir -p "$BACKUP_CONFIG_DIR"
echo "services: {}" >"$BACKUP_CONFIG_DIR/docker-compose.prod.yml"
test_atexit 'for p in $(fault_procs); do kill -9 $p; done'

MILESTONES=flock,mkdir,clone,clone3,wait4,rename,renameat2,fsync,rmdir,unlinkat,exit_group

# Points: each call of the reference run but the mkdir of directories that
# exist already, and of the removal of the temp dir only its first unlinkat.
test_expect_success 'a reference run (the second one), its calls recorded' '
	fault_run --no-mail >path &&
	fault_next_second &&
	BK_FAULT_RUN=$FAULT_TAG ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -qq -o trace.bk-run -e trace=$MILESTONES \
		"$BK_BUILD_DIR/bin/bk-run" --no-mail >path &&
	bk-verify "$(cat path)" >/dev/null &&
	awk "match(\$0, /^[a-z_0-9]+\\(/) {
		name = substr(\$0, 1, RLENGTH - 1); n[name]++
		if (/= -1 EEXIST/ || (name == \"unlinkat\" && n[name] > 1)) next
		print name, n[name]
	}" trace.bk-run >points &&
	cat points &&
	grep -q "^rename 1$" points && grep -q "^wait4 3$" points &&
	test $(wc -l <points) -ge 15
'
test -s points || test_skip_all "no reference trace"

while read -r sc n; do
	test_expect_success "SIGKILL at bk-run's call $n of $sc" "
		fault_kill_run $sc $n
	"
	test_expect_success "  then the next run succeeds and cleans up" '
		fault_recover
	'
done <points

test_done
