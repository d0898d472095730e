#!/usr/bin/python3
"""bench/bench_web_load.py — the web benchmark's load generator when wrk is not installed: C
threads, each with one keep-alive HTTP/1.1 connection, send GET URL back to back for SECONDS and
time every request. Prints one JSON line: {"requests", "errors", "rps", "p50_ms", "p99_ms",
"bytes"} (bytes: the body of one answer). Standard library only.

    bench_web_load.py URL CONNECTIONS SECONDS"""
import http.client
import json
import sys
import threading
import time
import urllib.parse


def main():
    url, conns, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    u = urllib.parse.urlsplit(url)
    target = u.path + ("?" + u.query if u.query else "")
    lat, errors, size = [], [0], [0]
    lock = threading.Lock()
    start = threading.Event()
    end_at = [0.0]

    def worker():
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        mine, bad = [], 0
        start.wait()
        while time.perf_counter() < end_at[0]:
            t0 = time.perf_counter()
            try:
                c.request("GET", target)
                r = c.getresponse()
                body = r.read()
                if r.status != 200:
                    bad += 1
                else:
                    size[0] = len(body)
            except (OSError, http.client.HTTPException):
                bad += 1
                c.close()
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
                continue
            mine.append(time.perf_counter() - t0)
        c.close()
        with lock:
            lat.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=worker) for _ in range(conns)]
    for t in threads:
        t.start()
    t_begin = time.perf_counter()
    end_at[0] = t_begin + secs
    start.set()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t_begin
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")
    print(json.dumps({"requests": len(lat), "errors": errors[0], "rps": len(lat) / wall, "p50_ms": q(0.5),
                      "p99_ms": q(0.99), "bytes": size[0]}))


if __name__ == "__main__":
    main()
