#!/bin/sh
# bench/bench_web.sh — the box's HTTP API under load: a history of DAYS days of one channel at one
# snapshot every 10 minutes (`vibewatch replay` of a simulated pump in time lapse), then
# `vibewatch run` on it (loopback, no users: anonymous operator, so no login in the way) with a
# simulated sensor that takes its next snapshot only 10 minutes later, so the history holds still.
# Measures latency (median, p99) and requests per second of
#   GET /api/v1/assets                                   (the overview)
#   GET /api/v1/assets/p1/trend?from=…&to=…&points=1000   (DAYS days of velocity, 1000 buckets)
# with 2 and 8 keep-alive connections: with wrk (Debian package wrk) when installed, else with
# bench/bench_web_load.py (Python threads; slower, and it shares the 2 cores with the server).
# Also the dashboard's first load: the gzip sizes of index.html, app.js, app.css and favicon.svg
# in build/dashboard (or as served with Accept-Encoding: gzip). Prints a markdown table; checks
# nothing.
#   sh bench/bench_web.sh BUILD         (BUILD: e.g. build/fftw, holding vibewatch)
# VW_BENCH_WEB_DAYS (default 30), VW_BENCH_WEB_SECONDS per measurement (default 5),
# VW_BENCH_WEB_DASHBOARD (the built dashboard folder, default build/dashboard), VW_BENCH_WEB_TOOL=python
# (the Python load generator even where wrk is installed).
set -u
build=${1:?usage: bench_web.sh BUILD}
bin=$build/vibewatch
days=${VW_BENCH_WEB_DAYS:-30}
secs=${VW_BENCH_WEB_SECONDS:-5}
py=/usr/bin/python3
top=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$py" ] || { echo "bench_web: skipped (needs /usr/bin/python3: make deps)"; exit 0; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench_web.XXXXXX")
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

t0=1704067200   # 2024-01-01T00:00:00Z
config() { # FILE LISTEN SOURCE DASHBOARD_DIR
    _dash=""
    [ -n "$4" ] && _dash=", \"dashboard_dir\": \"$4\""
    cat >"$1" <<CFG
{"box": {"id": "bench"}, "data_dir": "$tmp/data", "web": {"listen": "$2"$_dash},
 "schedule": {"snapshot_s": 1, "interval_s": 600},
 "assets": [{"id": "p1", "name": "Pump 1", "type": "pump", "speed": {"rpm": 2970},
   "bearings": [{"id": "de", "name": "Timken 6309"}],
   "sensors": [{"id": "s1", "name": "DE", "source": "$3", "bearing": "de"}]}]}
CFG
}

# ---- the history ------------------------------------------------------------------------------------
src="sim:pump?fault=outer_race&onset_days=$((days / 2))&failure_days=$((days * 2))&end_days=$days&speedup=600&frame=25600&rate=25600&seed=3&t0=2024-01-01T00:00:00Z"
config "$tmp/replay.json" "" "$src" ""
r0=$(date +%s.%N)
"$bin" replay "$src" -c "$tmp/replay.json" --flush-timeout 0 >/dev/null 2>"$tmp/replay.err"
r1=$(date +%s.%N)
rows=$($py -c "import sqlite3,sys; print(sqlite3.connect('file:'+sys.argv[1]+'?mode=ro',uri=True).execute('select count(*) from trend').fetchone()[0])" "$tmp/data/history.sqlite3" 2>/dev/null || echo 0)
mb=$($py -c "import os,sys; print('%.0f' % (os.path.getsize(sys.argv[1]) / 1e6))" "$tmp/data/history.sqlite3" 2>/dev/null || echo "?")
if [ "$rows" -lt 10 ]; then
    echo "bench_web: the replay made $rows snapshots: $(tail -2 "$tmp/replay.err")"
    exit 0
fi

# ---- the server ---------------------------------------------------------------------------------------
port=$($py -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
live="sim:pump?speedup=1&realtime=1&rate=25600&seed=4&t0=$($py -c "import datetime; print(datetime.datetime.fromtimestamp($t0 + $days * 86400 + 3600, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))")"
dash=""
d=${VW_BENCH_WEB_DASHBOARD:-$top/build/dashboard}
[ -f "$d/index.html" ] && dash=$(cd "$d" && pwd)
config "$tmp/run.json" "127.0.0.1:$port" "$live" "$dash"
"$bin" run -c "$tmp/run.json" >"$tmp/run.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$port"
i=0
until $py -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$base/api/v1/status" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "bench_web: the server did not answer: $(tail -3 "$tmp/run.log")"
        exit 0
    fi
    sleep 0.1
done
sleep 2   # the live sensor's first snapshot, then quiet for 10 minutes
trend="$base/api/v1/assets/p1/trend?from=$t0&to=$((t0 + days * 86400))&points=1000"
tool=wrk
{ command -v wrk >/dev/null 2>&1 && [ "${VW_BENCH_WEB_TOOL:-wrk}" = wrk ]; } || tool="python (bench/bench_web_load.py)"

# measure URL CONNECTIONS → "p50_ms p99_ms rps bytes errors"
measure() {
    if [ "$tool" = wrk ]; then
        wrk -t "$2" -c "$2" -d "${secs}s" --latency "$1" >"$tmp/wrk.out" 2>&1
        bytes=$($py -c "import urllib.request,sys; print(len(urllib.request.urlopen(sys.argv[1]).read()))" "$1")
        $py - "$tmp/wrk.out" "$bytes" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
def ms(s):
    m = re.match(r"([\d.]+)(us|ms|s)", s)
    return float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)]
p50 = re.search(r"^\s+50%\s+(\S+)", t, re.M)
p99 = re.search(r"^\s+99%\s+(\S+)", t, re.M)
rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
err = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
sock = re.search(r"Socket errors: (.*)", t)
if not (p50 and p99 and rps):
    print("? ? ? ? wrk-failed")
else:
    print("%.2f %.2f %.0f %s %s" % (ms(p50.group(1)), ms(p99.group(1)), float(rps.group(1)), sys.argv[2],
                                   (err.group(1) if err else "0") + ("+sock" if sock else "")))
EOF
    else
        $py "$top/bench/bench_web_load.py" "$1" "$2" "$secs" | $py -c "
import json,sys; d=json.loads(sys.stdin.read())
print('%.2f %.2f %.0f %d %d' % (d['p50_ms'], d['p99_ms'], d['rps'], d['bytes'], d['errors']))"
    fi
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
every=$($py -c "print(round($days * 86400 / $rows / 60, 1))")
echo "vibewatch web API: $rows snapshots ($days days, one per $every min of data time) in a ${mb} MB history, replayed in $($py -c "print(round($r1 - $r0, 1))") s;"
echo "$(nproc) cores ($cpu); load by $tool, ${secs} s per row, server and client on the same machine."
echo
echo "| request | conns | median ms | p99 ms | req/s | body bytes | errors |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for c in 2 8; do
    set -- $(measure "$base/api/v1/assets" $c)
    echo "| GET /api/v1/assets (overview) | $c | $1 | $2 | $3 | $4 | $5 |"
done
for c in 2 8; do
    set -- $(measure "$trend" $c)
    echo "| GET …/trend, $days days, points=1000 | $c | $1 | $2 | $3 | $4 | $5 |"
done
rss=$(awk '/^VmHWM/ {print $2}' /proc/$pid/status 2>/dev/null)
echo
echo "server peak resident memory (VmHWM) after the load: $($py -c "print('%.1f MB' % (${rss:-0} / 1024))")"

# ---- the dashboard's first load -------------------------------------------------------------------------
files="index.html app.js app.css favicon.svg"
if [ -n "$dash" ]; then
    $py - "$base" "$dash" $files <<'EOF'
import http.client, os, sys, urllib.parse
base, d, files = sys.argv[1], sys.argv[2], sys.argv[3:]
u = urllib.parse.urlsplit(base)
rows, on_disk, served, raw = [], 0, 0, 0
for f in files:
    gz = os.path.join(d, f + ".gz")
    disk = os.path.getsize(gz) if os.path.exists(gz) else None
    plain = os.path.getsize(os.path.join(d, f)) if os.path.exists(os.path.join(d, f)) else None
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.request("GET", "/" if f == "index.html" else "/" + f, headers={"Accept-Encoding": "gzip"})
    r = c.getresponse()
    body = r.read()
    c.close()
    enc = r.getheader("Content-Encoding") or "identity"
    rows.append("| %s | %s | %s | %d (%s, %d) |" % (f, plain if plain is not None else "–", disk if disk is not None else "–", len(body), enc, r.status))
    on_disk += disk or 0
    served += len(body)
    raw += plain or 0
print()
print("dashboard first load (%s):" % d)
print()
print("| file | bytes | .gz bytes | served with Accept-Encoding: gzip |")
print("|---|---:|---:|---:|")
for x in rows:
    print(x)
print("| **total** | %d | %d | %d |" % (raw, on_disk, served))
EOF
else
    echo
    echo "dashboard first load: $d is not built (web/dashboard/build.sh): no sizes"
fi
