#!/bin/bash
# Concurrency. A second bk-run while one is running exits 1 with "another
# backup is running" and leaves the first alone, which then completes.
# bk-monitor and bk-prune run during a backup return and touch neither the
# unverified archive in .incoming (nor its temp file while it is written)
# nor the run's temp dir. The running backup is held still by a table lock
# (during the export) or by SIGSTOP at a system call of bk-pack or
# bk-verify (strace), then let go.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-fault.sh"
test_description 'two runs at once; bk-monitor and bk-prune during a backup'

test_need_programs bk-run bk-export bk-pack bk-verify bk-prune bk-monitor
command -v flock >/dev/null || test_skip_all "flock(1) not installed (util-linux)"
pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0 BACKUP_RETENTION_DAYS=30 BACKUP_KEEP_MIN=2
mkdir -p "$BACKUP_CONFIG_DIR"
echo "services: {}" >"$BACKUP_CONFIG_DIR/docker-compose.prod.yml"
test_atexit 'fault_gate_release scope; for p in $(fault_procs); do kill -CONT $p; kill -9 $p; done'

test_expect_success 'setup: a good run' '
	fault_run --no-mail >path &&
	bk-verify "$(cat path)" >/dev/null
'

test_expect_success 'a second run while the first waits in the export: exit 1, nothing touched' '
	fault_next_second &&
	fault_gate_hold scope public.users &&
	fault_start --no-mail &&
	first=$FAULT_PID &&
	fault_wait_blocked bk-export &&
	ls -laR "$BACKUP_DIR" "$BACKUP_TMPDIR" >state.before &&
	cp "$BACKUP_DIR/.backup_history" history.before &&
	test_expect_code 1 fault_run --no-mail >out2 2>err2 &&
	test ! -s out2 &&
	grep "ERROR bk-run\[[0-9]*\]: another backup is running (lock $BACKUP_DIR/.lock is held)" err2 &&
	test $(grep -c " ERROR " err2) = 1 &&
	ls -laR "$BACKUP_DIR" "$BACKUP_TMPDIR" >state.after &&
	test_cmp state.before state.after &&
	test_cmp history.before "$BACKUP_DIR/.backup_history" &&
	kill -0 $first &&
	fault_gate_release scope &&
	wait $first &&
	bk-verify "$(cat out)" >/dev/null &&
	tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f 2,5 >last &&
	printf "ok\t%s\n" "$(basename "$(cat out)")" >expect &&
	test_cmp expect last
'

if ! fault_have_strace; then
	test_skip 'bk-monitor and bk-prune while the archive is written' 'strace(1) missing'
	test_skip 'bk-monitor and bk-prune while the archive waits for bk-verify' 'strace(1) missing'
	test_done
fi
fault_make_fakebin

# Old archives that bk-prune removes: copies of a good one, named and dated
# 40 and 50 days ago.
old_archives() {
	local d f
	for d in 40 50; do
		f=$BACKUP_DIR/critical_backup_$(date -d "-$d days" +%Y%m%d_%H%M%S).tar.gz
		cp "$(cat path)" "$f"
		touch -d "-$d days" "$f"
	done
}

# state: what a running backup has in .incoming and its temp dir, with
# sizes, modes and checksums.
state() {
	(cd "$BACKUP_DIR" && find .incoming -printf "%p %s %m\n" | sort &&
		find .incoming -type f -exec sha256sum {} + | sort)
	(cd "$BACKUP_TMPDIR" && find . -printf "%p %s %m\n" | sort &&
		find . -type f -exec sha256sum {} + | sort)
}

# during STEP SYSCALL N WHAT: hold STEP at its Nth call of SYSCALL, check
# that WHAT (a pattern of a file in .incoming) is there, run bk-monitor and
# bk-prune and a second bk-run, then let the backup finish.
during() {
	local step=$1 sc=$2 n=$3 what=$4 pid
	fault_next_second
	old_archives
	echo "stop $sc $n" >"$FAULT_INJECT/$step"
	fault_start --no-mail
	pid=$(fault_wait_stopped "$FAULT_PID" "$step")
	rm "$FAULT_INJECT/$step"
	ls -a "$BACKUP_DIR/.incoming" >incoming
	cat incoming
	grep -x "$what" incoming
	state >state.before
	rc=0
	bk-monitor >monitor || rc=$?
	test $rc -le 1
	bk-prune >pruned
	test $(wc -l <pruned) = 2
	test_expect_code 1 fault_run --no-mail >out2 2>err2
	grep "another backup is running" err2
	state >state.after
	test_cmp state.before state.after
	kill -CONT "$pid"
	wait "$FAULT_PID"
	bk-verify "$(cat out)" >/dev/null
	tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f 2,5 >last
	printf "ok\t%s\n" "$(basename "$(cat out)")" >expect
	test_cmp expect last
	fault_leftovers >left
	test_cmp /dev/null left
}

test_expect_success 'bk-monitor, bk-prune, a second run while the archive is written' '
	during bk-pack fsync 1 "\.critical_backup_[0-9_]*\.tar\.gz\.tmp\.[A-Za-z0-9]*"
'

test_expect_success 'bk-monitor, bk-prune, a second run while the archive waits for bk-verify' '
	during bk-verify openat 1 "critical_backup_[0-9_]*\.tar\.gz"
'

test_done
