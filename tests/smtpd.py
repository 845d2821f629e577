#!/usr/bin/python3
"""A real SMTP server for bk-mail's tests (Debian python3-aiosmtpd).

usage: smtpd.py --dir DIR [--tls starttls|tls|none] [--cert FILE --key FILE]
                [--user USER --password PASS] [--slow SECONDS] [--max-size BYTES]

Listens on a port of 127.0.0.1 the kernel picks and writes it to DIR/ready
(atomically) once it accepts connections. STARTTLS is required before AUTH
(--tls starttls), or the whole connection is TLS (--tls tls), or there is no
TLS (--tls none). With --user, AUTH (PLAIN, LOGIN) is required. Stores each
message as DIR/msg-NNNN.eml (the data) and DIR/msg-NNNN.json (envelope),
appends one line per AUTH attempt to DIR/auth.log ("MECH USER ok|fail") and
one per connection to DIR/connections.log. With --slow, the reply to DATA
comes SECONDS late, and a message whose client has hung up by then is not
kept (it was never accepted). --max-size refuses larger messages (552, as
SIZE in EHLO announces). Stops on SIGTERM.
"""
import argparse
import asyncio
import json
import os
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def append_line(path, line):
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


class Store:
    """handle_DATA: keep every message; the reply comes after the files exist."""

    def __init__(self, directory, slow=0.0):
        self.dir = directory
        self.slow = slow
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.slow:
            await asyncio.sleep(self.slow)
            if server.transport is None or server.transport.is_closing():
                return "451 4.3.0 too late: the client is gone"
        self.count += 1
        base = os.path.join(self.dir, "msg-%04d" % self.count)
        env = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "authenticated": bool(session.authenticated),
        }
        write_atomic(base + ".json", json.dumps(env, indent=1).encode())
        write_atomic(base + ".eml", envelope.content)
        return "250 2.0.0 stored as %s" % os.path.basename(base)


class Authenticator:
    def __init__(self, directory, user, password):
        self.log = os.path.join(directory, "auth.log")
        self.user = user.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == self.user
              and auth_data.password == self.password)
        login = getattr(auth_data, "login", b"?").decode("utf-8", "replace")
        append_line(self.log, "%s %s %s" % (mechanism, login, "ok" if ok else "fail"))
        return AuthResult(success=ok, handled=False)


async def serve(args):
    loop = asyncio.get_running_loop()
    ctx = None
    if args.tls != "none":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)
    handler = Store(args.dir, args.slow)
    kw = {"hostname": "bk-test-smtpd", "loop": loop}
    if args.max_size:
        kw.update(data_size_limit=args.max_size)
    if args.user:
        kw.update(auth_required=True,
                  authenticator=Authenticator(args.dir, args.user, args.password))
    if args.tls == "starttls":
        kw.update(tls_context=ctx, require_starttls=True, auth_require_tls=True)
    else:
        # implicit TLS is TLS all along; "none" is the loopback-only case
        kw.update(auth_require_tls=False)
    connections = os.path.join(args.dir, "connections.log")

    def factory():
        append_line(connections, "connection")
        return SMTP(handler, **kw)

    server = await loop.create_server(factory, "127.0.0.1", 0,
                                      ssl=ctx if args.tls == "tls" else None)
    port = server.sockets[0].getsockname()[1]
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    write_atomic(os.path.join(args.dir, "ready"), b"%d\n" % port)
    await stop
    server.close()
    await server.wait_closed()


def main():
    p = argparse.ArgumentParser(description="test SMTP server for bk-mail")
    p.add_argument("--dir", required=True)
    p.add_argument("--tls", choices=["starttls", "tls", "none"], default="starttls")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--slow", type=float, default=0.0, metavar="SECONDS")
    p.add_argument("--max-size", type=int, default=0, metavar="BYTES")
    args = p.parse_args()
    if args.tls != "none" and not (args.cert and args.key):
        p.error("--tls %s needs --cert and --key" % args.tls)
    if bool(args.user) != bool(args.password):
        p.error("--user and --password go together")
    warnings.simplefilter("ignore")
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
