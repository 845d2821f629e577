#!/usr/bin/python3
"""A fault-injecting HTTP proxy in front of the real S3 store (radosgw) for the
off-site copy tests: every request goes through unchanged (the Host header
too, so SigV4 signatures still verify at the store) except those matching a
rule of the rules file, read at each request:

    METHOD REGEX COUNT ACTION     e.g.  PUT partNumber=2& 1 500

REGEX is searched in the request target; COUNT requests matching it get
ACTION (500: an InternalError answer, without forwarding; drop: the
connection is closed without an answer; gather: each is held until COUNT of
them are open together, or GATHER_SECONDS pass, then goes on to the rules
below), then the rule is spent (COUNT -1: never spent). Each request is
logged to the log file as "METHOD TARGET -> STATUS" so a test can count
attempts. The most requests of each method open at once (received, not yet
answered) are kept in LOG_FILE.open as "METHOD N" lines; emptying that file
starts the count again.

usage: s3proxy.py LISTEN_PORT BACKEND_PORT RULES_FILE LOG_FILE
"""
import http.client
import http.server
import re
import sys
import threading

LISTEN, BACKEND, RULES, LOG = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
GATHER_SECONDS = 30  # a client that sends one at a time is not held forever
lock = threading.Lock()
gathered = threading.Condition(lock)
spent = {}
open_now = {}


def rule_for(method, target, after=-1):
    """The action of the first rule below line after that is not spent, its
    line number and COUNT; (None, -1, 0) when there is none."""
    with lock:
        try:
            lines = open(RULES).read().splitlines()
        except FileNotFoundError:
            return None, -1, 0
        for i, line in enumerate(lines):
            f = line.split()
            if i <= after or len(f) != 4 or f[0] != method or not re.search(f[1], target):
                continue
            count = int(f[2])
            if count >= 0 and spent.get(i, 0) >= count:
                continue
            spent[i] = spent.get(i, 0) + 1
            return f[3], i, count
    return None, -1, 0


def gather(i, count):
    """Hold this request until count requests reached rule i."""
    with gathered:
        gathered.notify_all()
        return gathered.wait_for(lambda: spent.get(i, 0) >= count, GATHER_SECONDS)


def action_for(method, target):
    action, i, count = rule_for(method, target)
    while action == "gather":
        if not gather(i, count):
            log("%s %s -> gather timed out" % (method, target))
        action, i, count = rule_for(method, target, i)
    return action


def opened(method, n):
    """n requests of method more (or fewer) are open; record a new most."""
    with lock:
        open_now[method] = open_now.get(method, 0) + n
        most = {}
        try:
            for line in open(LOG + ".open"):
                k, v = line.split()
                most[k] = int(v)
        except FileNotFoundError:
            pass
        if open_now[method] > most.get(method, 0):
            most[method] = open_now[method]
            with open(LOG + ".open", "w") as f:
                f.writelines("%s %d\n" % kv for kv in sorted(most.items()))


def log(line):
    with lock, open(LOG, "a") as f:
        f.write(line + "\n")


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        opened(self.command, 1)
        try:
            self.answer()
        finally:
            opened(self.command, -1)

    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        action = action_for(self.command, self.path)
        if action == "drop":
            log("%s %s -> drop" % (self.command, self.path))
            self.close_connection = True
            self.connection.close()
            return
        if action == "500":
            log("%s %s -> 500" % (self.command, self.path))
            err = b"<?xml version=\"1.0\"?><Error><Code>InternalError</Code></Error>"
            self.send_response(500)
            self.send_header("Content-Length", str(len(err)))
            self.end_headers()
            self.wfile.write(err)
            return
        c = http.client.HTTPConnection("127.0.0.1", BACKEND, timeout=60)
        c.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            c.putheader(k, v)
        c.endheaders(body)
        r = c.getresponse()
        data = r.read()
        log("%s %s -> %d" % (self.command, self.path, r.status))
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(r.getheader("Content-Length") or len(data))
                         if self.command == "HEAD" else str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        c.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


srv = http.server.ThreadingHTTPServer(("127.0.0.1", LISTEN), Proxy)
srv.serve_forever()
