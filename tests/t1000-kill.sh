#!/bin/bash
# kill -9 of bk-run, bk-export and pg_dump at points where a table lock held
# by the test keeps the run still (bk-export waiting to lock the scope's
# tables, or pg_dump waiting to lock a table outside the scope): no archive
# under a final name that fails bk-verify, no success status, the lock free,
# no process of the dead run left, and the next run succeeds and cleans up.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-pg.sh"
. "$TEST_DIRECTORY/lib-fault.sh"
test_description 'kill -9 of bk-run and its steps at points held by table locks'

test_need_programs bk-run bk-export bk-pack bk-verify bk-prune bk-mail
command -v flock >/dev/null || test_skip_all "flock(1) not installed (util-linux)"
command -v pgrep >/dev/null || test_skip_all "pgrep(1) not installed (procps)"
pg_start && pg_load_fixture || exit 1
export BACKUP_MIN_SIZE_MB=0
export ADMIN_EMAILS=admin@example.com SMTP_FROM=backup@example.com
export BACKUP_MAIL_OUTBOX=$TRASH/outbox
mkdir -p "$BACKUP_MAIL_OUTBOX" "$BACKUP_CONFIG_DIR"
echo "services: {}" >"$BACKUP_CONFIG_DIR/docker-compose.prod.yml"
test_atexit 'fault_gate_release scope; fault_gate_release schema; for p in $(fault_procs); do kill -9 $p; done'

# A good run first: the archive and status that no later kill may touch.
test_expect_success 'a good run before the kills' '
	fault_run >path &&
	bk-verify "$(cat path)" >/dev/null &&
	test_path_is_file "$BACKUP_DIR/.last_backup_success"
'

# kill_point VICTIM GATE: run bk-run with the gate held (scope: a table of
# the scope, which bk-export locks first; schema: a table outside it, which
# only pg_dump locks), wait until the run is held there, kill -9 VICTIM
# (bk-run, bk-export, pg_dump.pre-data, pg_dump.post-data), release the gate
# and check what the dead run left.
kill_point() {
	local victim=$1 gate=$2 table app run pid rc=0 lines
	case $gate in
	scope) table=public.users app=bk-export ;;
	schema) table=public.sessions app=pg_dump ;;
	esac
	fault_next_second
	fault_snapshot before
	lines=$(wc -l <"$BACKUP_DIR/.backup_history")
	mails=$(find "$BACKUP_MAIL_OUTBOX" -name "*.eml" | wc -l)
	fault_gate_hold "$gate" "$table"
	fault_start
	run=$FAULT_PID
	fault_wait_blocked "$app"
	case $victim in
	bk-run) pid=$run ;;
	bk-export) pid=$(fault_child "$run" bk-export) ;;
	pg_dump.*)
		exp=$(fault_child "$run" bk-export)
		pid=$(pgrep -P "$exp" -f -- "--section=${victim#pg_dump.}")
		test -n "$pid"
		;;
	esac
	kill -9 "$pid"
	# bk-export waits for the pre-data pg_dump before it looks at the
	# post-data one: that run goes on until the gate opens.
	[ "$victim" = pg_dump.post-data ] && fault_gate_release "$gate"
	wait "$run" || rc=$?
	# With the gate still held: what the dead process started must end too,
	# not wait for the lock and carry on alone.
	fault_wait_no_procs
	fault_gate_release "$gate"
	test ! -s out
	fault_check_final_archives
	fault_snapshot after
	test_cmp before after
	fault_check_lock_free
	if [ "$victim" = bk-run ]; then
		test "$rc" = 137
		test "$(wc -l <"$BACKUP_DIR/.backup_history")" = "$lines"
	else
		test "$rc" = 1
		test "$(wc -l <"$BACKUP_DIR/.backup_history")" = $((lines + 1))
		tail -n 1 "$BACKUP_DIR/.backup_history" | cut -f 2,5,6 >last
		grep "^fail	-	export: " last
		test "$(find "$BACKUP_MAIL_OUTBOX" -name "*.eml" | wc -l)" = $((mails + 1))
		grep -l "^Subject: .*backup failed at step export" "$BACKUP_MAIL_OUTBOX"/*.eml
	fi
	fault_leftovers >"leftovers.$victim.$gate"
}

# recover: the next run succeeds and removes what the dead one left.
recover() {
	fault_gate_release scope
	fault_gate_release schema
	fault_next_second
	fault_run >path 2>err
	bk-verify "$(cat path)" >/dev/null
	fault_leftovers >left
	test_cmp /dev/null left
	fault_check_lock_free
}

for point in "bk-run scope" "bk-export scope" "bk-run schema" "bk-export schema" \
	"pg_dump.pre-data schema" "pg_dump.post-data schema"; do
	set -- $point
	test_expect_success "kill -9 $1 while the run waits for a lock ($2 gate)" "
		kill_point $1 $2
	"
	test_expect_success "after killing $1 ($2 gate): the next run succeeds and cleans up" '
		recover
	'
done

# The earliest point: as soon as the run holds its lock (the scope gate keeps
# it before the end of the export).
test_expect_success 'kill -9 bk-run as soon as it holds the lock' '
	fault_next_second &&
	fault_snapshot before &&
	lines=$(wc -l <"$BACKUP_DIR/.backup_history") &&
	fault_gate_hold scope public.users &&
	fault_start &&
	run=$FAULT_PID &&
	fault_poll fault_lock_held &&
	kill -9 $run &&
	rc=0 && { wait $run || rc=$?; } &&
	test $rc = 137 &&
	fault_wait_no_procs &&
	fault_gate_release scope &&
	fault_snapshot after && test_cmp before after &&
	test "$(wc -l <"$BACKUP_DIR/.backup_history")" = "$lines" &&
	fault_check_lock_free
'

test_expect_success 'after that: the next run succeeds and cleans up' '
	recover
'

test_expect_success 'the dead runs left temp files that the next runs removed' '
	cat leftovers.bk-run.scope &&
	grep -q "^tmp/bk-run\.[0-9a-f]\{8\}\.[A-Za-z0-9]\{6\}$" leftovers.bk-run.scope
'

test_done
