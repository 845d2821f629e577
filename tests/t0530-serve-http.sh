#!/bin/bash
# bk-monitor --serve with curl: /health 200 or 503 as the status files change
# under it, its JSON fields, /metrics in the text format, /status as --json,
# HEAD, other methods 405, other paths 404, bounded connections, a slow client
# that blocks no one and is dropped, and SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-serve.sh"
test_description 'bk-monitor --serve: the HTTP status endpoint'

serve_fresh_dir
serve_start || test_skip_all "bk-monitor --serve did not start: $(cat serve.err)"
test_atexit serve_stop

test_expect_success 'it says where it listens; PORT alone is 127.0.0.1' '
	grep -q "INFO bk-monitor\[[0-9]*\]: serving http://127.0.0.1:$SERVE_PORT/health, /metrics and /status (read-only)$" serve.err
'

test_expect_success 'no backup yet: /health is 503 with the reason and nulls' '
	serve_get /health &&
	echo 503 >expect && test_cmp expect code &&
	/usr/bin/python3 - <<-\EOF
	import json
	o = json.load(open("body"))
	assert o == {"status": "unhealthy", "last_backup": None, "last_backup_size_mb": None,
	             "last_backup_age_hours": None, "reasons": ["no successful backup yet"]}, o
	EOF
'

test_expect_success 'a good backup appears: 200 at the next request, with its facts' '
	serve_ok_run 7200 $((12 * MB)) &&
	serve_get /health &&
	echo 200 >expect && test_cmp expect code &&
	/usr/bin/python3 - "$(date -d @$((serve_now - 7200)) +%Y-%m-%dT%H:%M:%S+00:00)" <<-\EOF
	import json, sys
	o = json.load(open("body"))
	assert o["status"] == "healthy" and o["reasons"] == [], o
	assert o["last_backup"] == sys.argv[1], o
	assert o["last_backup_size_mb"] == 12.0, o
	assert 1.9 < o["last_backup_age_hours"] < 2.5, o
	EOF
'

test_expect_success 'the last run fails: 503 again, with the failure as the reason' '
	serve_fail_run 60 "export: cannot connect to postgres:5432" &&
	serve_get /health &&
	echo 503 >expect && test_cmp expect code &&
	/usr/bin/python3 -c "import json; r = json.load(open(\"body\"))[\"reasons\"]; assert r == [\"last run failed: export: cannot connect to postgres:5432\"], r"
'

test_expect_success '/status is the bk-monitor --json document' '
	serve_get /status &&
	echo 200 >expect && test_cmp expect code &&
	test_expect_code 1 bk-monitor --json >json &&
	/usr/bin/python3 - <<-\EOF
	import json
	a, b = json.load(open("body")), json.load(open("json"))
	# computed a moment apart: the ages and the free space may differ
	for o in (a, b):
	    for k in ("age_hours", "free_bytes"):
	        o.pop(k)
	assert a == b, (a, b)
	assert a["healthy"] is False and a["runs"] == 2, a
	EOF
	grep -q "^Content-Type: application/json" <(curl -si "http://127.0.0.1:$SERVE_PORT/status")
'

test_expect_success '/metrics: the text format, the samples of the status files' '
	serve_get /metrics -D headers &&
	echo 200 >expect && test_cmp expect code &&
	grep -qi "^Content-Type: text/plain; version=0.0.4" headers &&
	/usr/bin/python3 - "$((serve_now - 7200))" <<-\EOF
	import re, sys
	samples, helped, typed = {}, set(), set()
	for line in open("body").read().splitlines():
	    m = re.fullmatch(r"# (HELP|TYPE) (bk_[a-z_]+) (.+)", line)
	    if m:
	        (helped if m[1] == "HELP" else typed).add(m[2])
	        if m[1] == "TYPE":
	            assert m[3] in ("gauge", "counter"), line
	        continue
	    m = re.fullmatch(r"(bk_[a-z_]+) (-?[0-9.]+)", line)
	    assert m, "not a sample: %r" % line
	    samples[m[1]] = float(m[2])
	assert set(samples) == helped == typed, (samples, helped, typed)
	assert samples["bk_last_success_timestamp_seconds"] == int(sys.argv[1]), samples
	assert samples["bk_last_backup_size_bytes"] == 12 * 1048576, samples
	assert samples["bk_backup_runs_total"] == 2, samples
	assert samples["bk_backup_runs_failed_total"] == 1, samples
	assert samples["bk_backup_success_ratio"] == 0.5, samples
	assert samples["bk_backup_dir_free_bytes"] > 0, samples
	assert samples["bk_healthy"] == 0, samples
	EOF
'

test_expect_success 'HEAD: the GET status and headers, no body' '
	curl -s -I -o headers -w "%{http_code}\n" "http://127.0.0.1:$SERVE_PORT/health" >code &&
	echo 503 >expect && test_cmp expect code &&
	len=$(curl -s "http://127.0.0.1:$SERVE_PORT/health" | wc -c) &&
	grep -qx "Content-Length: $len." headers &&
	curl -s --head "http://127.0.0.1:$SERVE_PORT/metrics" -o /dev/null -w "%{size_download}\n" >size &&
	echo 0 >expect && test_cmp expect size
'

test_expect_success 'POST, PUT, DELETE: 405 with Allow: GET, HEAD, and nothing changes' '
	ls -A "$BACKUP_DIR" >before &&
	for m in POST PUT DELETE OPTIONS; do
		curl -s -X $m -d "status=ok" -D headers -o body -w "%{http_code}\n" \
			"http://127.0.0.1:$SERVE_PORT/health" >code &&
		echo 405 >expect && test_cmp expect code &&
		grep -qx "Allow: GET, HEAD." headers || exit 1
	done &&
	ls -A "$BACKUP_DIR" >after &&
	test_cmp before after
'

test_expect_success 'an unknown path is 404; a query string does not matter' '
	for p in / /healthz /health/x /metrics.txt "/../health"; do
		serve_get "$p" --path-as-is &&
		echo 404 >expect && test_cmp expect code || exit 1
	done &&
	serve_get "/health?verbose=1" &&
	echo 503 >expect && test_cmp expect code
'

# Connections that sent half a request hold a slot each, as a slow client does.
queued() {	# connections waiting in the kernel, not accepted by the server
	[ "$(ss -Hltn "sport = :$SERVE_PORT" | awk "{print \$2}")" = "$1" ]
}
open_slow() {	# open_slow N: N half requests on fds 10.., kept by this shell
	for i in $(seq 1 "$1"); do
		eval "exec $((9 + i))<>/dev/tcp/127.0.0.1/$SERVE_PORT" &&
		printf "GET /health HTTP/1.1\r\nHost: x\r\n" >&$((9 + i)) || return 1
	done
}

test_expect_success 'a slow client does not block others' '
	open_slow 1 &&
	serve_get /health &&
	echo 503 >expect && test_cmp expect code &&
	serve_get /metrics &&
	echo 200 >expect && test_cmp expect code
'

test_expect_success 'the slow client is dropped after the per-connection timeout' '
	open_slow 1
	# cat ends when the server closes the connection
	(cat <&10 >slow.out; echo done >slow.done) &
	serve_poll test -f slow.done &&
	test ! -s slow.out
'

test_expect_success 'connections are bounded (16): the 17th waits until one ends' '
	open_slow 16
	serve_poll queued 0
	(curl -s -o late.body -w "%{http_code}\n" "http://127.0.0.1:$SERVE_PORT/health" >late.code;
	 echo done >late.done) &
	serve_poll queued 1 &&
	test_path_is_missing late.done &&
	exec 10>&- &&
	serve_poll test -f late.done &&
	echo 503 >expect && test_cmp expect late.code
'

test_expect_success 'a usage error for a bad address, before anything starts' '
	for a in "" 0 65536 abc 1.2.3:80 "localhost:80" "::1:80" ":80" 8080x; do
		test_expect_code 2 bk-monitor --serve "$a" 2>err &&
		grep -q "^bk-monitor: --serve: ${SQ}$a${SQ}: " err || exit 1
	done &&
	test_expect_code 2 bk-monitor --serve 80 --json 2>err &&
	grep -q "take no --alert or --json" err &&
	test_expect_code 2 bk-monitor --watch 2>err &&
	grep -q -- "--watch needs --prometheus FILE" err
'

test_expect_success 'a port in use: exit 1, naming it' '
	test_expect_code 1 bk-monitor --serve "127.0.0.1:$SERVE_PORT" 2>err &&
	grep -q "ERROR bk-monitor\[[0-9]*\]: --serve 127.0.0.1:$SERVE_PORT: cannot listen: Address already in use" err
'

if grep -q " lo$" /proc/net/if_inet6 2>/dev/null; then
test_expect_success 'IPv6 in brackets' '
	port=$(test_free_port)
	(bk-monitor --serve "[::1]:$port" 2>v6.err & echo $! >v6.pid; wait) &
	serve_poll test -s v6.pid &&
	serve_poll curl -s -o /dev/null "http://[::1]:$port/health" &&
	kill "$(cat v6.pid)" &&
	grep -q "serving http://\[::1\]:$port/health" v6.err
'
else
	test_skip 'IPv6 in brackets' 'no IPv6 loopback'
fi

test_expect_success 'SIGTERM: exit 0, the port is closed' '
	serve_stop &&
	echo 0 >expect && test_cmp expect serve.rc &&
	grep -q "INFO bk-monitor\[[0-9]*\]: Terminated: stopping$" serve.err &&
	test_must_fail curl -s -o /dev/null "http://127.0.0.1:$SERVE_PORT/health"
'

test_expect_success 'with --prometheus FILE, the file is written while serving' '
	serve_start --prometheus "$TRASH/bk.prom" &&
	serve_poll test -s bk.prom &&
	grep -q "^bk_healthy 0$" bk.prom &&
	test "$(stat -c %a bk.prom)" = 644 &&
	serve_stop
'

test_done
