#!/usr/bin/python3
"""A scripted HTTP server in place of a time-series store, for the failure cases a real one does
not produce on demand: answers from a script, stalls, Retry-After. Every request is logged as a
JSON line (path, query, headers, the body gunzipped) to LOG.

usage: fake_influx.py PORTFILE LOG [--script 500,500,204] [--stall] [--retry-after S] [--message TEXT]
                     [--tls CERT KEY [--client-ca CA]]

The script's statuses are answered in turn, the last one for ever after; --stall accepts and never
answers; --tls serves HTTPS, and with --client-ca asks for a client certificate signed by CA and
refuses the handshake without one (the subject it got is logged). The chosen port (bound on 127.0.0.1) is written to PORTFILE. Stdlib only."""
import gzip, http.server, json, socketserver, sys, threading, time

args = sys.argv[1:]
portfile, log = args[0], args[1]
script, stall, retry_after, message = [204], False, None, "bad line"
tls, client_ca = None, None
i = 2
while i < len(args):
    if args[i] == "--script":
        script = [int(x) for x in args[i + 1].split(",")]; i += 2
    elif args[i] == "--stall":
        stall = True; i += 1
    elif args[i] == "--retry-after":
        retry_after = args[i + 1]; i += 2
    elif args[i] == "--message":
        message = args[i + 1]; i += 2
    elif args[i] == "--tls":
        tls = (args[i + 1], args[i + 2]); i += 3
    elif args[i] == "--client-ca":
        client_ca = args[i + 1]; i += 2
    else:
        sys.exit("unknown argument " + args[i])
lock = threading.Lock()
count = [0]

class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        with lock:
            k = count[0]
            count[0] += 1
            status = script[min(k, len(script) - 1)]
            with open(log, "a") as f:
                peer = self.connection.getpeercert() if tls else None
                subject = dict(x[0] for x in peer["subject"]).get("commonName") if peer else None
                f.write(json.dumps({"n": k, "path": self.path, "status": status, "t": time.time(), "client": subject,
                                    "headers": {h.lower(): v for h, v in self.headers.items()},
                                    "body": body.decode("utf-8", "replace")}) + "\n")
        if stall:
            time.sleep(3600)
            return
        self.send_response(status)
        if retry_after and status in (429, 503):
            self.send_header("Retry-After", retry_after)
        payload = b"" if status == 204 else json.dumps({"error": message}).encode()
        self.send_header("Content-Length", str(len(payload)))
        if payload:
            self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

srv = S(("127.0.0.1", 0), H)
if tls:
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tls[0], tls[1])
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(client_ca)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
