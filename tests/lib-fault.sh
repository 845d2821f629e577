# Helpers for the fault tests (t10xx), sourced after lib.sh and lib-pg.sh:
# runs of bk-run tagged so that every process of a run can be found, table
# lock "gates" that hold a step still at a known point, bk-run's helpers
# wrapped in strace(1) to deliver SIGKILL at their Nth call of a system call,
# and the checks that must hold after any failure.

# Every process a tagged run starts inherits this variable; nothing else
# (the server, psql sessions of the test) has it.
FAULT_TAG=bk-fault-$TEST_NAME-$$-$(test_random_hex 8)
FAULT_FAKEBIN=$TRASH/fakebin
FAULT_INJECT=$TRASH/inject
FAULT_TRACES=$TRASH/traces
export FAULT_TAG

# fault_poll CMD...: until CMD succeeds, every 20 ms, for at most
# $FAULT_POLL_SECONDS (60) seconds.
fault_poll() {
	TEST_POLL_SECONDS=${FAULT_POLL_SECONDS:-60} test_poll "$@"
}

# fault_sql_true SQL: the query prints 1 (or t).
fault_sql_true() {
	case $(pg_psql -d postgres -At -c "$1" 2>/dev/null) in
	1|t) return 0 ;;
	*) return 1 ;;
	esac
}

# fault_procs: pids of the processes started by tagged runs, still alive.
fault_procs() {
	grep -lzxF "BK_FAULT_RUN=$FAULT_TAG" /proc/[0-9]*/environ 2>/dev/null |
		sed 's|^/proc/||; s|/environ$||'
}

_fault_no_procs() {
	[ -z "$(fault_procs)" ]
}

# fault_wait_no_procs: every process of a tagged run has gone (a killed
# bk-run must not leave its steps running on their own).
fault_wait_no_procs() {
	if ! fault_poll _fault_no_procs; then
		echo "processes of the run still alive:" >&2
		for p in $(fault_procs); do
			ps -o pid=,ppid=,stat=,args= -p "$p" >&2
		done
		return 1
	fi
}

# fault_run [ARGS...]: bk-run tagged, from $FAULT_FAKEBIN when it exists.
fault_run() {
	local bin=$BK_BUILD_DIR/bin
	[ -d "$FAULT_FAKEBIN" ] && bin=$FAULT_FAKEBIN
	BK_FAULT_RUN=$FAULT_TAG "$bin/bk-run" "$@"
}

# fault_start [ARGS...]: fault_run in the background, stdout to ./out and
# stderr to ./err; FAULT_PID is bk-run's pid (wait for it from the same shell).
fault_start() {
	local bin=$BK_BUILD_DIR/bin
	[ -d "$FAULT_FAKEBIN" ] && bin=$FAULT_FAKEBIN
	BK_FAULT_RUN=$FAULT_TAG "$bin/bk-run" "$@" >out 2>err &
	FAULT_PID=$!
}

# fault_newest_stamp: unix time of the newest archive under a final name, 0
# if none. Archive names have one-second resolution: a run started in the
# same second as a published archive fails with "already exists".
fault_newest_stamp() {
	local f s newest=0 t
	for f in "$BACKUP_DIR"/critical_backup_*.tar.gz; do
		[ -f "$f" ] || continue
		s=${f##*/critical_backup_}
		s=${s%.tar.gz}
		t=$(date -d "${s:0:4}-${s:4:2}-${s:6:2} ${s:9:2}:${s:11:2}:${s:13:2}" +%s) || return 1
		[ "$t" -gt "$newest" ] && newest=$t
	done
	echo "$newest"
}

_fault_after() {
	[ "$(date +%s)" -gt "$1" ]
}

# fault_next_second: wait until the clock is past the newest archive's name.
fault_next_second() {
	fault_poll _fault_after "$(fault_newest_stamp)"
}

# ---- gates: table locks held by a psql session of the test ----

# fault_gate_hold NAME TABLE: session NAME holds ACCESS EXCLUSIVE on TABLE
# in an open transaction, until fault_gate_release NAME.
fault_gate_hold() {
	PGAPPNAME=gate-$1 pg_psql -c "BEGIN" -c "LOCK TABLE $2 IN ACCESS EXCLUSIVE MODE" \
		-c "SELECT pg_sleep(3600)" >/dev/null 2>&1 &
	fault_poll fault_sql_true "SELECT count(*) > 0 FROM pg_stat_activity
		WHERE application_name = 'gate-$1' AND query LIKE '%pg_sleep%'"
}

fault_gate_release() {
	pg_psql -d postgres -At -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'gate-$1'" >/dev/null
	fault_poll fault_sql_true "SELECT count(*) = 0 FROM pg_stat_activity
		WHERE application_name = 'gate-$1'"
}

# fault_wait_blocked APP: a session of application APP waits for a lock.
fault_wait_blocked() {
	fault_poll fault_sql_true "SELECT count(*) > 0 FROM pg_stat_activity
		WHERE application_name = '$1' AND wait_event_type = 'Lock'"
}

# fault_child PID NAME: print the pid of PID's child NAME once it exists.
fault_child() {
	local end=$((SECONDS + 60)) c
	while :; do
		c=$(pgrep -P "$1" -x "$2" | head -n 1)
		[ -n "$c" ] && { echo "$c"; return 0; }
		[ $SECONDS -lt $end ] || { echo "no child $2 of $1" >&2; return 1; }
		sleep 0.02
	done
}

# ---- strace: SIGKILL at the Nth call of a system call ----

# fault_have_strace: strace is there and may trace (ptrace is allowed).
fault_have_strace() {
	command -v strace >/dev/null 2>&1 &&
		strace -qq -o /dev/null -e trace=none true >/dev/null 2>&1
}

# fault_make_fakebin: $FAULT_FAKEBIN holds copies of bin/* (bk-run finds its
# steps next to itself) in which bk-export, bk-pack and bk-verify are
# wrappers, and a pg_dump wrapper that bk-export finds first on PATH. A
# wrapper runs the real program alone, or under strace when
# $FAULT_INJECT/NAME says how: "trace" (record its calls in
# $FAULT_TRACES/NAME), "SYSCALL N" (SIGKILL at its Nth call of SYSCALL) or
# "stop SYSCALL N" (SIGSTOP there: see fault_wait_stopped).
# For pg_dump, NAME is pg_dump.pre-data or pg_dump.post-data.
fault_make_fakebin() {
	local p real
	mkdir -p "$FAULT_FAKEBIN" "$FAULT_INJECT" "$FAULT_TRACES" "$TRASH/fakepath"
	cp "$BK_BUILD_DIR"/bin/* "$FAULT_FAKEBIN/"
	for p in bk-export bk-pack bk-verify; do
		_fault_wrapper "$p" "$BK_BUILD_DIR/bin/$p" >"$FAULT_FAKEBIN/$p"
		chmod +x "$FAULT_FAKEBIN/$p"
	done
	real=$(command -v pg_dump) || return 1
	_fault_wrapper pg_dump "$real" >"$TRASH/fakepath/pg_dump"
	chmod +x "$TRASH/fakepath/pg_dump"
	PATH=$TRASH/fakepath:$PATH
}

# The system calls counted for the kill points: ones whose number and order
# do not depend on timing (no reads of pipes or sockets, no futex).
FAULT_SYSCALLS=openat,close,write,sendto,pipe2,clone,clone3,wait4,rename,renameat2,link,linkat,unlink,unlinkat,mkdir,rmdir,fsync,fdatasync,flock,ftruncate,exit_group

_fault_wrapper() {
	cat <<-EOF
	#!/bin/bash
	# Test wrapper made by tests/lib-fault.sh: $1 alone or under strace.
	name=$1
	if [ "\$name" = pg_dump ]; then
		case " \$* " in
		*" --section=pre-data "*) name=pg_dump.pre-data ;;
		*" --section=post-data "*) name=pg_dump.post-data ;;
		esac
	fi
	spec=
	[ -f "$FAULT_INJECT/\$name" ] && read -r spec <"$FAULT_INJECT/\$name"
	# LeakSanitizer cannot stop the world in a process that strace traces.
	[ -n "\$spec" ] && export ASAN_OPTIONS=\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}detect_leaks=0
	case \$spec in
	'') exec "$2" "\$@" ;;
	trace) exec strace -qq -o "$FAULT_TRACES/\$name" -e trace=$FAULT_SYSCALLS "$2" "\$@" ;;
	stop\ *) spec=\${spec#stop }
	   rm -f "$FAULT_TRACES/\$name.stop"
	   exec strace -qq -o "$FAULT_TRACES/\$name.stop" -e trace=\${spec% *} \\
		-e inject=\${spec% *}:signal=SIGSTOP:when=\${spec#* } "$2" "\$@" ;;
	*) exec strace -qq -o /dev/null -e trace=\${spec% *} \\
		-e inject=\${spec% *}:signal=SIGKILL:when=\${spec#* } "$2" "\$@" ;;
	esac
	EOF
}

# fault_points TRACE COUNT: up to COUNT kill points "SYSCALL N" spread
# evenly over the calls recorded in TRACE (strace -o output of one process).
fault_points() {
	awk -v want="$2" '
		match($0, /^[a-z_0-9]+\(/) { name[++n] = substr($0, 1, RLENGTH - 1) }
		END {
			if (n == 0) exit 1
			for (k = 0; k < want; k++) {
				pos = want > 1 ? 1 + int(k * (n - 1) / (want - 1) + 0.5) : n
				if (pos in done) continue
				done[pos] = 1
				c = 0
				for (i = 1; i <= pos; i++) if (name[i] == name[pos]) c++
				print name[pos], c
			}
		}' "$1"
}

# ---- what must hold after a failure ----

# fault_snapshot FILE: the state a failed run must not change: archives
# under final names, their checksums, the success status files.
fault_snapshot() {
	{
		for f in "$BACKUP_DIR"/critical_backup_*.tar.gz; do
			[ -f "$f" ] && echo "archive $(sha256sum <"$f" | cut -c1-64) ${f##*/}"
		done
		for f in .last_backup_success .last_backup_size_mb; do
			[ -f "$BACKUP_DIR/$f" ] && echo "$f $(cat "$BACKUP_DIR/$f")"
		done
	} >"$1"
}

# fault_check_final_archives: every archive under a final name passes bk-verify.
fault_check_final_archives() {
	local f
	for f in "$BACKUP_DIR"/critical_backup_*.tar.gz; do
		[ -f "$f" ] || continue
		bk-verify "$f" >/dev/null 2>"$TRASH/verify.err" || {
			echo "archive under a final name fails bk-verify: $f" >&2
			cat "$TRASH/verify.err" >&2
			return 1
		}
	done
}

# fault_check_lock_free: the kernel released the lock of the dead run.
# fault_lock_held: some process holds the run lock. Read from /proc/locks, not
# probed with flock -n: a probe takes the lock for a moment, and a run that
# starts in that moment fails with "another backup is running".
fault_lock_held() {
	local ino
	ino=$(stat -c %i "$BACKUP_DIR/.lock" 2>/dev/null) || return 1
	grep -q "^[0-9]*: FLOCK .*:$ino " /proc/locks
}

fault_check_lock_free() {
	flock -n "$BACKUP_DIR/.lock" true || {
		echo "the lock $BACKUP_DIR/.lock is still held" >&2
		return 1
	}
}

# fault_leftovers: what is in BACKUP_DIR and BACKUP_TMPDIR besides the
# archives and status files of finished runs.
fault_leftovers() {
	(cd "$BACKUP_DIR" && find . -mindepth 1 ! -name .lock ! -name .backup_history \
		! -name .last_backup_success ! -name .last_backup_size_mb \
		! -name .alert_state ! -name 'critical_backup_*.tar.gz' | sed 's|^\./||' | sort)
	(cd "$BACKUP_TMPDIR" && find . -mindepth 1 | sed 's|^\./|tmp/|' | sort)
}

# fault_check_history_ok_lines: every "ok" line names an archive that is
# there under its final name (prune keeps them all in these tests).
fault_check_history_ok_lines() {
	local epoch result bytes secs file reason
	while IFS='	' read -r epoch result bytes secs file reason; do
		[ "$result" = ok ] || continue
		[ -f "$BACKUP_DIR/$file" ] || {
			echo "history says ok for $file, which is not there" >&2
			return 1
		}
	done <"$BACKUP_DIR/.backup_history"
}

# fault_recover: the next run succeeds, its archive verifies, and nothing of
# the dead run is left.
fault_recover() {
	fault_next_second
	fault_run --no-mail >path 2>err || { cat err >&2; return 1; }
	bk-verify "$(cat path)" >/dev/null
	fault_leftovers >left
	test_cmp /dev/null left
	fault_check_lock_free
}

# fault_kill_step NAME SYSCALL N STEP: a run whose NAME (a wrapped step)
# gets SIGKILL at its Nth call of SYSCALL must fail at STEP and change nothing.
fault_kill_step() {
	local name=$1 sc=$2 n=$3 step=$4 rc=0 lines
	fault_next_second
	fault_snapshot before
	lines=$(wc -l <"$BACKUP_DIR/.backup_history")
	echo "$sc $n" >"$FAULT_INJECT/$name"
	fault_run --no-mail >out 2>err || rc=$?
	rm -f "$FAULT_INJECT/$name"
	test "$rc" = 1 || { echo "run exited $rc: the point was not reached?" >&2; cat err >&2; return 1; }
	test ! -s out
	fault_wait_no_procs
	fault_check_final_archives
	fault_snapshot after
	test_cmp before after
	test "$(wc -l <"$BACKUP_DIR/.backup_history")" = $((lines + 1))
	tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f 2,6 >last
	case $(cat last) in
	"fail	$step: "*"killed by signal 9"*|"fail	$step: "*"(exit 137)"*) ;;
	*) echo "unexpected history line: $(cat last)" >&2; return 1 ;;
	esac
	fault_check_lock_free
}

# fault_kill_run SYSCALL N: bk-run itself gets SIGKILL at its Nth call of
# SYSCALL: whatever it did by then, no archive under a final name fails
# bk-verify and no status claims a backup that is not there.
fault_kill_run() {
	local sc=$1 n=$2 rc=0 bin=$BK_BUILD_DIR/bin
	[ -d "$FAULT_FAKEBIN" ] && bin=$FAULT_FAKEBIN
	fault_next_second
	fault_snapshot before
	BK_FAULT_RUN=$FAULT_TAG ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -qq -o /dev/null -e trace="$sc" -e inject="$sc:signal=SIGKILL:when=$n" \
		"$bin/bk-run" --no-mail >out 2>err || rc=$?
	test "$rc" = 137 || { echo "run exited $rc: the point was not reached?" >&2; cat err >&2; return 1; }
	fault_wait_no_procs
	fault_check_final_archives
	fault_check_history_ok_lines
	fault_snapshot after
	# Only a new archive may have appeared (killed after publishing it), and
	# the success time may only move if it did.
	grep -v "^archive " before >b.status || :
	grep -v "^archive " after >a.status || :
	if ! cmp -s b.status a.status; then
		test "$(grep -c "^archive " after)" -gt "$(grep -c "^archive " before)" || {
			echo "status changed without a new archive:" >&2
			diff b.status a.status >&2
			return 1
		}
	fi
	grep "^archive " before >b.archives || :
	grep "^archive " after >a.archives || :
	test -z "$(comm -23 b.archives a.archives)"
	fault_check_lock_free
}

# fault_wait_stopped STRACE_PARENT NAME: the wrapped step NAME (a child of
# the strace that bk-run's child became) is held by a "stop" spec; print
# its pid (kill -CONT it to go on). The state in /proc cannot tell the
# SIGSTOP from strace's own stops at each system call; strace's log can.
fault_wait_stopped() {
	local s
	s=$(fault_child "$1" strace) || return 1
	fault_poll grep -qs -- "^--- stopped by SIGSTOP ---" "$FAULT_TRACES/$2.stop" || return 1
	fault_child "$s" "$2"
}
