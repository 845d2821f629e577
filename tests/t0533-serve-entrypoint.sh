#!/bin/bash
# The container's entrypoint (bk-run --entrypoint, here without a container)
# with BACKUP_HTTP_ADDR starts bk-monitor --serve with no secret in its
# environment, with BACKUP_PROMETHEUS_FILE keeps the textfile written, and
# stops it on SIGTERM; a bad BACKUP_HTTP_ADDR is refused at start.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-serve.sh"
test_description 'the entrypoint starts the status endpoint'

test_need_programs bk-run

export BACKUP_RUN_DIR=$TRASH/run
export BACKUP_MAIL_OUTBOX=$TRASH/outbox
export ADMIN_EMAILS=admin@example.com
export BACKUP_SCHEDULE='0 0 1 1 *'
export POSTGRES_PASSWORD=not-for-the-monitor-$$
mkdir -p "$BACKUP_MAIL_OUTBOX" prom
serve_fresh_dir

test_expect_success 'a bad BACKUP_HTTP_ADDR: exit 2 at start, naming it, with a hint' '
	BACKUP_HTTP_ADDR=localhost:9187 test_expect_code 2 timeout 60 bk-run --entrypoint 2>err &&
	grep -q "ERROR bk-cron\[[0-9]*\]: configuration: BACKUP_HTTP_ADDR: ${SQ}localhost:9187${SQ}: ${SQ}localhost${SQ} is not an IPv4 address" err &&
	grep -q "hint: a port (listens on 127.0.0.1), 0.0.0.0:9187 for every interface" err &&
	test_path_is_missing "$BACKUP_RUN_DIR"
'

test_expect_success 'BACKUP_PROMETHEUS_FILE in a missing directory: exit 2 at start, naming it' '
	BACKUP_PROMETHEUS_FILE=$TRASH/nowhere/bk.prom test_expect_code 2 timeout 60 bk-run --entrypoint 2>err &&
	grep -q "ERROR bk-cron\[[0-9]*\]: configuration: BACKUP_PROMETHEUS_FILE: cannot write into $TRASH/nowhere: No such file or directory" err &&
	BACKUP_PROMETHEUS_FILE=$TRASH/prom/ test_expect_code 2 timeout 60 bk-run --entrypoint 2>err &&
	grep -q "configuration: BACKUP_PROMETHEUS_FILE: ${SQ}$TRASH/prom/${SQ} is not a file name" err &&
	test_path_is_missing "$BACKUP_RUN_DIR"
'

# ep_start VAR=VALUE...: the entrypoint in the background with these variables.
ep_start() {
	rm -f ep.rc ep.err
	(env "$@" bk-run --entrypoint >ep.out 2>ep.err & echo $! >ep.pid; wait $!; echo $? >ep.rc) &
	serve_poll test -s ep.pid
}
ep_stop() {
	[ -s ep.pid ] || return 0
	kill -TERM "$(cat ep.pid)" 2>/dev/null
	serve_poll test -s ep.rc
	rm -f ep.pid
}
test_atexit 'cd "$TRASH" && ep_stop'

# child_pid: the pid of the bk-monitor the entrypoint started, from its log line.
child_pid() {
	sed -n "s|.*INFO bk-cron\[[0-9]*\]: started .*/bk-monitor --.* (pid \([0-9]*\))$|\1|p" ep.err
}

SERVE_PORT=$(test_free_port)
ep_start BACKUP_HTTP_ADDR="$SERVE_PORT" BACKUP_PROMETHEUS_FILE="$TRASH/prom/bk.prom"

test_expect_success 'BACKUP_HTTP_ADDR=PORT: /health answers on 127.0.0.1:PORT' '
	serve_poll curl -s -o /dev/null "http://127.0.0.1:$SERVE_PORT/health" &&
	serve_get /health &&
	echo 503 >expect && test_cmp expect code &&
	serve_ok_run 600 $((12 * MB)) &&
	serve_get /health &&
	echo 200 >expect && test_cmp expect code
'

test_expect_success 'BACKUP_PROMETHEUS_FILE is written, mode 0644' '
	serve_poll test -s prom/bk.prom &&
	grep -q "^bk_healthy [01]$" prom/bk.prom &&
	test "$(stat -c %a prom/bk.prom)" = 644
'

test_expect_success 'the monitor child has no secret in its environment' '
	pid=$(child_pid) &&
	test -n "$pid" &&
	tr "\0" "\n" </proc/$pid/environ >child.env &&
	grep -q "^BACKUP_DIR=$BACKUP_DIR$" child.env &&
	! grep -q "POSTGRES_PASSWORD\|not-for-the-monitor" child.env &&
	! grep -q "^ADMIN_EMAILS=\|^BACKUP_MAIL_OUTBOX=" child.env &&
	tr "\0" " " </proc/$pid/cmdline >child.cmd &&
	grep -q "bk-monitor --serve $SERVE_PORT --prometheus $TRASH/prom/bk.prom $" child.cmd
'

test_expect_success 'SIGTERM: the entrypoint exits 0, the monitor with it' '
	pid=$(child_pid) &&
	ep_stop &&
	echo 0 >expect && test_cmp expect ep.rc &&
	test_must_fail kill -0 "$pid" 2>/dev/null &&
	test_must_fail curl -s -o /dev/null "http://127.0.0.1:$SERVE_PORT/health"
'

test_expect_success 'the entrypoint killed (SIGKILL): its monitor child does not outlive it' '
	port=$(test_free_port) &&
	ep_start BACKUP_HTTP_ADDR="$port" &&
	serve_poll curl -s -o /dev/null "http://127.0.0.1:$port/health" &&
	pid=$(child_pid) &&
	test -n "$pid" &&
	kill -KILL "$(cat ep.pid)" &&
	serve_poll test -s ep.rc &&
	rm -f ep.pid &&
	child_gone() { ! kill -0 "$pid" 2>/dev/null; } &&
	serve_poll child_gone
'

test_expect_success 'BACKUP_PROMETHEUS_FILE alone: bk-monitor --watch, no HTTP' '
	rm -f prom/bk.prom &&
	ep_start BACKUP_PROMETHEUS_FILE="$TRASH/prom/bk.prom" &&
	serve_poll test -s prom/bk.prom &&
	grep -q "started .*/bk-monitor --watch --prometheus $TRASH/prom/bk.prom (pid" ep.err &&
	ep_stop &&
	echo 0 >expect && test_cmp expect ep.rc
'

test_expect_success 'neither variable: no monitor child' '
	ep_start &&
	serve_poll grep -q "next backup at " ep.err &&
	! grep -q "bk-monitor --" ep.err &&
	ep_stop
'

test_done
