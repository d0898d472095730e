#!/usr/bin/python3
"""tests/tools/webhook_sink.py — a real HTTP(S) server for tests (the standard library's
ThreadingHTTPServer, run with /usr/bin/python3) on 127.0.0.1:PORT that records every request as one
JSON line in the --log file, written before the answer is sent:

  {"n": 1, "method": "POST", "path": "/hook", "query": "a=1", "headers": {"Content-Type": ...},
   "body": "text (UTF-8, undecodable bytes replaced)", "body_b64": "the exact bytes",
   "tls": false, "time": 1700000000.123}

Header names keep the case the client sent; a repeated header's values are joined with ", ".

  webhook_sink.py [--port N] [--port-file F] --log FILE [options]

  --port N          0 (the default): any free port
  --port-file F     the port is written there (atomically) once the server listens;
                    "ready PORT" is printed on stdout as well
  --status CODE     the answer's status (default 200)
  --location URL    a Location header on every answer (for 3xx tests)
  --body TEXT       the answer's body (default: a short JSON object naming the status)
  --fail-first N    500 with "Retry-After: 1" to the first N requests, then --status
  --tls CERT KEY    HTTPS

Any method is accepted. Stops on SIGTERM or SIGINT.
"""
import argparse
import base64
import json
import os
import signal
import ssl
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

MAX_BODY = 16 << 20


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "webhook_sink/1"

    def setup(self):
        super().setup()
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()  # here, in this request's thread, not in accept()

    def log_message(self, fmt, *args):  # quiet: the JSON log is the record
        pass

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(out)
                if len(out) + size > MAX_BODY:
                    raise ValueError("body too large")
                out += self.rfile.read(size)
                self.rfile.readline(1024)
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n) if n else b""

    def handle_any(self):
        srv = self.server
        try:
            body = self.read_body()
        except ValueError as e:
            self.send_error(400, str(e))
            return
        headers = {}
        for name, value in self.headers.items():
            headers[name] = headers[name] + ", " + value if name in headers else value
        u = urlsplit(self.path)
        with srv.lock:
            srv.count += 1
            n = srv.count
            failing = srv.fail_left > 0
            if failing:
                srv.fail_left -= 1
            rec = {"n": n, "method": self.command, "path": u.path, "query": u.query, "headers": headers,
                   "body": body.decode("utf-8", "replace"), "body_b64": base64.b64encode(body).decode(),
                   "tls": isinstance(self.request, ssl.SSLSocket), "time": time.time()}
            srv.log.write(json.dumps(rec) + "\n")
            srv.log.flush()
        code = 500 if failing else srv.status
        try:
            reason = HTTPStatus(code).phrase
        except ValueError:
            reason = "Status"
        if failing or srv.body is None:
            text = json.dumps({"sink": n, "status": code, "reason": reason}) + "\n"
        else:
            text = srv.body
        out = text.encode()
        self.send_response(code, reason)
        if failing:
            self.send_header("Retry-After", "1")
        if srv.location and not failing:
            self.send_header("Location", srv.location)
        self.send_header("Content-Type", "application/json" if srv.body is None or failing else "text/plain")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        print(f"webhook_sink: {client_address}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(data)
    os.rename(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="webhook sink for tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log", required=True)
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--location")
    ap.add_argument("--body")
    ap.add_argument("--fail-first", type=int, default=0, metavar="N")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    a = ap.parse_args()
    if not 100 <= a.status <= 599:
        ap.error("--status wants 100…599")

    srv = Server(("127.0.0.1", a.port), Handler)
    srv.lock = threading.Lock()
    srv.count = 0
    srv.fail_left = a.fail_first
    srv.status = a.status
    srv.location = a.location
    srv.body = a.body
    srv.log = open(a.log, "a", encoding="utf-8")
    if a.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*a.tls)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    port = srv.server_address[1]

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if a.port_file:
        write_atomic(a.port_file, f"{port}\n")
    print(f"ready {port}", flush=True)
    srv.serve_forever(poll_interval=0.1)
    srv.server_close()
    srv.log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
