#!/bin/bash
# bk_ping (BACKUP_PING_URL, the dead man's switch) against a local HTTP server
# that records each request: /start, success, /fail; failures only warn.
. "$(dirname "$0")/lib.sh"
test_description 'bk_ping against a local HTTP server'

unit=$BK_BUILD_DIR/tests/unit/bin/test-ping
test -x "$unit" || test_skip_all "$unit is not built (make units)"
test -x /usr/bin/python3 || test_skip_all "no /usr/bin/python3 for the HTTP server"

: >"$TRASH/requests"
# t0520-httpd.py forks once it listens: its first line has port and pid.
read -r port pid < <(/usr/bin/python3 "$TEST_DIRECTORY/t0520-httpd.py" "$TRASH/requests")
test -n "$pid" || test_skip_all "cannot start the HTTP server"
test_atexit "kill $pid"
dead_port=$(test_free_port)

test_expect_success 'bk_ping: requests and return values (unit test)' '
	BK_TEST_PING_URL=http://127.0.0.1:$port \
	BK_TEST_PING_DEAD_URL=http://127.0.0.1:$dead_port/dead-tok3n \
		"$unit" >tap 2>"$TRASH/err" &&
	cat tap "$TRASH/err" &&
	! grep -q "^not ok" tap &&
	grep -q "^1\.\.8$" tap
'

test_expect_success 'the server saw /start, success, /fail, and one retry of a failure' '
	cat >expect <<-\EOF &&
	GET /check-tok3n/start
	GET /check-tok3n
	GET /check-tok3n/fail
	GET /slash/start
	GET /broken-tok3n
	GET /broken-tok3n
	EOF
	test_cmp expect "$TRASH/requests"
'

test_expect_success 'failures are warnings naming the host, never the URL path' '
	grep -q "WARN test-ping\[[0-9]*\]: ping success to 127.0.0.1:$port failed after 2 attempts: HTTP status 500; the backup goes on" err &&
	grep -q "WARN test-ping\[[0-9]*\]: ping start to 127.0.0.1:$dead_port failed after 2 attempts: .*; the backup goes on" err &&
	! grep -q "tok3n" err
'

test_done
