# A tiny HTTP server for the ping tests (t0520, t0521), on a free loopback
# port: appends "METHOD PATH" of each request to the file argv[1] before
# answering (500 for paths starting /broken, else 200). It forks once it
# listens and prints "PORT PID", so the caller knows it is ready.
import http.server
import os
import sys

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
