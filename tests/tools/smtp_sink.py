#!/usr/bin/python3
"""tests/tools/smtp_sink.py — a real SMTP server for tests (Debian's python3-aiosmtpd 1.4, run with
/usr/bin/python3): listens on 127.0.0.1:PORT and saves every accepted message, byte for byte as the
server received it after dot-unstuffing, as MAILDIR/NNNN.eml (arrival order from 0001) with its
envelope in MAILDIR/NNNN.json: {"mail_from", "rcpt_tos", "tls", "auth_user", "peer"}.

  smtp_sink.py [--port N] [--port-file F] --maildir DIR [options]

  --port N             0 (the default): any free port
  --port-file F        the port is written there (atomically) once the server answers;
                       "ready PORT" is printed on stdout as well
  --starttls CERT KEY  offer STARTTLS (AUTH is then only offered after it: aiosmtpd's default)
  --require-tls        refuse everything but EHLO/NOOP/QUIT/STARTTLS before STARTTLS (530)
  --smtps CERT KEY     TLS from the first byte (no STARTTLS)
  --auth USER:PASSWORD require AUTH PLAIN or LOGIN; other credentials get 535
  --reject-rcpt ADDR   550 for RCPT TO that address (may be repeated; case-insensitive)
  --fail-first N       451 for the first N DATA commands (counted over all connections)

Without --starttls, AUTH is allowed on the connection as it is (clear, or smtps). Stops on
SIGTERM or SIGINT.
"""
import argparse
import json
import logging
import os
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Sink:
    def __init__(self, maildir, reject, fail_first):
        self.maildir = maildir
        self.reject = {a.lower() for a in reject}
        self.fail_left = fail_first
        self.lock = threading.Lock()
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.fail_left > 0:
                self.fail_left -= 1
                return "451 4.3.0 Temporary failure, try again later"
            self.count += 1
            n = self.count
        tls = session.ssl is not None or (
            server.transport is not None and server.transport.get_extra_info("ssl_object") is not None)
        user = None
        if session.authenticated and session.auth_data is not None:
            login = getattr(session.auth_data, "login", None)
            if isinstance(login, bytes):
                user = login.decode("utf-8", "replace")
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos), "tls": tls,
                "auth_user": user, "peer": list(session.peer) if session.peer else None}
        base = os.path.join(self.maildir, f"{n:04d}")
        # the envelope first, the message last: a reader that sees NNNN.eml sees both
        write_atomic(base + ".json", (json.dumps(meta) + "\n").encode())
        write_atomic(base + ".eml", envelope.original_content)
        return f"250 2.0.0 OK: queued as {n:04d}"


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def make_authenticator(user, password):
    want = (user.encode(), password.encode())

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = mechanism in ("PLAIN", "LOGIN") and (auth_data.login, auth_data.password) == want
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return authenticate


class BoundController(Controller):
    """Listens on a socket bound before start, so that port 0 (any free port) works: aiosmtpd's
    Controller connects to self.port to check that the server answers."""

    def __init__(self, handler, sock, **kw):
        self.sock = sock
        super().__init__(handler, hostname="127.0.0.1", port=sock.getsockname()[1], **kw)

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self.sock, ssl=self.ssl_context)


def tls_context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def main():
    ap = argparse.ArgumentParser(description="SMTP sink for tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--require-tls", action="store_true")
    ap.add_argument("--smtps", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--auth", metavar="USER:PASSWORD")
    ap.add_argument("--reject-rcpt", action="append", default=[], metavar="ADDR")
    ap.add_argument("--fail-first", type=int, default=0, metavar="N")
    a = ap.parse_args()
    if a.starttls and a.smtps:
        ap.error("--starttls and --smtps exclude each other")
    if a.require_tls and not a.starttls:
        ap.error("--require-tls needs --starttls")
    os.makedirs(a.maildir, exist_ok=True)

    kw = {"server_hostname": "sink.test", "ready_timeout": 10.0}
    if a.starttls:
        kw["tls_context"] = tls_context(*a.starttls)
        kw["require_starttls"] = a.require_tls
        # auth_require_tls stays True (aiosmtpd's default): AUTH only once STARTTLS is done
    else:
        kw["auth_require_tls"] = False  # clear (tls=none tests) or already TLS (smtps)
    if a.smtps:
        kw["ssl_context"] = tls_context(*a.smtps)
    if a.auth:
        user, sep, password = a.auth.partition(":")
        if not sep:
            ap.error("--auth wants USER:PASSWORD")
        kw["authenticator"] = make_authenticator(user, password)
        kw["auth_required"] = True

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", a.port))
    sock.listen(64)
    sock.setblocking(False)
    port = sock.getsockname()[1]

    import warnings
    warnings.simplefilter("ignore")  # "Requiring AUTH while not requiring TLS": intended here
    logging.getLogger("mail.log").setLevel(logging.ERROR)  # and its deprecation chatter
    ctl = BoundController(Sink(a.maildir, a.reject_rcpt, a.fail_first), sock, **kw)
    ctl.start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if a.port_file:
        write_atomic(a.port_file, f"{port}\n".encode())
    print(f"ready {port}", flush=True)
    while not stop.wait(3600):
        pass
    ctl.stop(no_assert=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
