#!/bin/bash
# bk_ping (BACKUP_PING_URL, the dead man's switch) against a local HTTP server
# that records each request: /start, success, /fail; failures only warn.
. "$(dirname "$0")/lib.sh"
test_description 'bk_ping against a local HTTP server'

unit=$BK_BUILD_DIR/tests/unit/bin/test-ping
test -x "$unit" || test_skip_all "$unit is not built (make units)"
test -x /usr/bin/python3 || test_skip_all "no /usr/bin/python3 for the HTTP server"

# A tiny HTTP server on a free loopback port: logs "METHOD PATH" of each
# request before answering (500 for /broken*, else 200). It forks once it
# listens, so the port is known as soon as its first line is read.
cat >"$TRASH/httpd.py" <<-\EOF
import http.server, os, sys

log = sys.argv[1]

class Handler(http.server.BaseHTTPRequestHandler):
    def handle_one(self):
        with open(log, "a") as f:
            f.write("%s %s\n" % (self.command, self.path))
        code = 500 if self.path.startswith("/broken") else 200
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(b"OK")

    do_GET = do_HEAD = do_POST = handle_one

    def log_message(self, *args):
        pass

server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
pid = os.fork()
if pid:
    print(server.server_address[1], pid, flush=True)
    os._exit(0)
os.setsid()
null = os.open(os.devnull, os.O_RDWR)
for fd in (0, 1, 2):
    os.dup2(null, fd)
server.serve_forever()
EOF

: >"$TRASH/requests"
read -r port pid < <(/usr/bin/python3 "$TRASH/httpd.py" "$TRASH/requests")
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
