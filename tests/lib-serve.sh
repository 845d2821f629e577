# Helpers for the status endpoint tests (t053x), sourced after lib.sh:
# status files as bk-run and its steps write them, bk-monitor --serve on a
# free loopback port, and a poll for conditions (no sleep as synchronisation).

command -v curl >/dev/null || test_skip_all "curl is not installed"
[ -x "$BK_BUILD_DIR/bin/bk-monitor" ] || test_skip_all "bin/bk-monitor is not built"

MB=1048576
serve_now=$(date +%s)

# serve_poll CMD...: until CMD succeeds, every 20 ms, for at most 60 s.
serve_poll() {
	test_poll "$@"
}

# serve_fresh_dir: an empty BACKUP_DIR.
serve_fresh_dir() {
	rm -rf "$BACKUP_DIR" && mkdir -m 700 -p "$BACKUP_DIR"
}

# serve_ok_run AGE_SECONDS BYTES: the status files and history line of a
# successful run AGE_SECONDS ago, and its archive.
serve_ok_run() {
	test_ok_run "$serve_now" "$1" "$2"
}

# serve_fail_run AGE_SECONDS REASON: the history line of a failed run.
serve_fail_run() {
	printf '%s\tfail\t0\t4.0\t-\t%s\n' $((serve_now - $1)) "$2" >>"$BACKUP_DIR/.backup_history"
}

# serve_offsite AGE_SECONDS: the upload step's .last_offsite_success.
serve_offsite() {
	echo $((serve_now - $1)) >"$BACKUP_DIR/.last_offsite_success"
}

# serve_restore_test AGE_SECONDS ok|fail SECONDS REASON: .last_restore_test.
serve_restore_test() {
	printf '%s\t%s\t%s\t%s\n' $((serve_now - $1)) "$2" "$3" "$4" >"$BACKUP_DIR/.last_restore_test"
}

_serve_up() {
	curl -s -o /dev/null "http://127.0.0.1:$SERVE_PORT/health" && return 0
	# gone already: no point in waiting
	kill -0 "$(cat "$TRASH/serve.pid")" 2>/dev/null || { cat "$TRASH/serve.err" >&2; exit 1; }
	return 1
}

# serve_start [ARGS...]: bk-monitor --serve 127.0.0.1:$SERVE_PORT ARGS in the
# background (pid in $TRASH/serve.pid, exit code in serve.rc), until it answers.
serve_start() {
	SERVE_PORT=$(test_free_port)
	rm -f "$TRASH/serve.rc"
	(bk-monitor --serve "127.0.0.1:$SERVE_PORT" "$@" >"$TRASH/serve.out" 2>"$TRASH/serve.err" &
	 echo $! >"$TRASH/serve.pid"; wait $!; echo $? >"$TRASH/serve.rc") &
	serve_poll test -s "$TRASH/serve.pid" && serve_poll _serve_up
}

# serve_stop: SIGTERM, and wait for its exit code in $TRASH/serve.rc.
serve_stop() {
	[ -s "$TRASH/serve.pid" ] || return 0
	kill -TERM "$(cat "$TRASH/serve.pid")" 2>/dev/null
	serve_poll test -s "$TRASH/serve.rc"
	rm -f "$TRASH/serve.pid"
}

# serve_get PATH [CURL ARGS...]: the body in `body`, the status code in `code`.
serve_get() {
	local path=$1
	shift
	curl -s -o body -w '%{http_code}\n' "$@" "http://127.0.0.1:$SERVE_PORT$path" >code
}
