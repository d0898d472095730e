#!/bin/sh
# tests/cli/daemon_cli.sh — the appliance from the outside: `vibewatch replay` over recordings and
# the simulator (history row counts equal the snapshots taken), `vibewatch run` with its API,
# SIGTERM, kill -9 and restart, SIGHUP with a good and a bad configuration, and check-config.
# Servers it starts listen on loopback ports chosen free, and are always stopped.
set -u
: "${VW_BIN:?}" "${VW_TEST_TMP:?}"
T="$VW_TEST_TMP/daemon_cli"
mkdir -p "$T"
PY=/usr/bin/python3
ok() { echo "ok - daemon_cli: $1"; }
bad() { echo "not ok - daemon_cli: $1"; }
[ -x "$PY" ] || { bad "/usr/bin/python3 is missing (make deps)"; exit 0; }
pids=""
cleanup() { for p in $pids; do kill -9 "$p" 2>/dev/null; done; }
trap cleanup EXIT INT TERM

count() { # DB TABLE → rows
    $PY -c "import sqlite3,sys; c=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True); print(c.execute('select count(*) from '+sys.argv[2]).fetchone()[0])" "$1" "$2" 2>/dev/null || echo -1
}
integrity() { $PY -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('pragma integrity_check').fetchone()[0])" "$1" 2>&1; }
free_port() { $PY -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
get() { $PY -c "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())" "$1" 2>/dev/null; }
wait_for() { # URL, tries of 0.2 s
    i=0; while [ $i -lt "${2:-50}" ]; do get "$1" >/dev/null && return 0; sleep 0.2; i=$((i + 1)); done; return 1
}

# ---- replay: a recording, then the simulator, lossless and in data time --------------------
"$VW_BIN" simulate --fault outer --seconds 10 --seed 3 -o "$T/pump.wav" 2>/dev/null
out=$("$VW_BIN" replay "$T/pump.wav" --rpm 1797 --bearing 6205 --data-dir "$T/r1" --json 2>"$T/r1.err")
lines=$(printf '%s\n' "$out" | grep -c '^{')
rows=$(count "$T/r1/history.sqlite3" trend)
[ "$lines" -eq 10 ] && [ "$rows" -eq 10 ] && ok "replay of a 10 s WAV, 1 s snapshots: 10 JSON lines, 10 trend rows" \
    || bad "replay WAV: $lines JSON lines, $rows trend rows (want 10 and 10): $(tail -2 "$T/r1.err")"
first=$(printf '%s\n' "$out" | head -1)
printf '%s' "$first" | $PY -c "
import json,sys
d=json.loads(sys.stdin.read())
assert d['asset']=='replay' and d['sensor']=='replay', d
assert d['t'].endswith('Z') and len(d['t'])==24, d['t']
f=d['features']; assert abs(f['shaft_hz']-29.95)<0.01 and f['accel_rms_g']>0, f
assert d['diagnosis']=='outer_race', d.get('diagnosis')
assert d['state']=='learning' and abs(d['progress']-1/30)<1e-6, (d['state'], d.get('progress'))
" 2>"$T/j.err" && ok "replay --json: t in ISO 8601, asset, sensor, features; the outer race found; learning 1/30" \
    || bad "replay --json line: $first ($(cat "$T/j.err"))"
sp=$(count "$T/r1/history.sqlite3" spectra); mt=$(count "$T/r1/history.sqlite3" metrics)
[ "$mt" -ge 1 ] && ok "replay recorded the box's own metrics ($mt row)" || bad "metrics rows: $mt"
[ "$sp" -ge 10 ] && ok "replay stored the spectra of every snapshot ($sp rows)" || bad "replay spectra rows: $sp"

if [ -d "${VW_DATA:-../shared/data}/ims/test1_raw" ]; then
    out=$("$VW_BIN" replay "${VW_DATA:-../shared/data}/ims/test1_raw" --rpm 2000 --bearing ZA-2115 --data-dir "$T/r2" --json 2>"$T/r2.err")
    lines=$(printf '%s\n' "$out" | grep -c '^{')
    rows=$(count "$T/r2/history.sqlite3" trend)
    ts=$(printf '%s\n' "$out" | $PY -c "import json,sys; print(sorted(set(json.loads(l)['t'][:19] for l in sys.stdin if l.startswith('{')))[0])")
    [ "$lines" -eq 96 ] && [ "$rows" -eq 96 ] && [ "$ts" = "2003-10-22T12:06:24" ] \
        && ok "replay of 12 IMS snapshots × 8 channels: 96 lines and rows, time from the file names ($ts)" \
        || bad "replay IMS: $lines lines, $rows rows, first time $ts (want 96, 96, 2003-10-22T12:06:24): $(tail -2 "$T/r2.err")"
elif [ "${VW_REQUIRE_DATA:-0}" = 1 ]; then
    bad "IMS data missing and VW_REQUIRE_DATA=1"
else
    echo "skip - daemon_cli: replay of IMS snapshots: data missing (set VW_DATA)"
fi

# the simulator in time lapse: 3 days of a pump's life with 1 s snapshots every 10 min of its time
out=$("$VW_BIN" replay "sim:pump?fault=outer_race&onset_days=10&failure_days=40&start_days=30&speedup=600&t0=2024-01-01T00:00:00Z" \
      --rpm 2970 --bearing "Timken 6309" --data-dir "$T/r3" --json 2>"$T/r3.err" & p=$!; sleep 4; kill -INT $p; wait $p)
rows=$(count "$T/r3/history.sqlite3" trend)
lines=$(printf '%s\n' "$out" | grep -c '^{"t"')
[ "$rows" -gt 0 ] && [ "$rows" -eq "$lines" ] && ok "replay of sim: until SIGINT, then stops cleanly: $rows snapshots, every one stored" \
    || bad "replay sim: $rows rows vs $lines JSON lines: $(tail -2 "$T/r3.err")"

# ---- check-config ------------------------------------------------------------------------------
for ex in deploy/pump.json deploy/fan.json; do
    "$VW_BIN" check-config "$ex" >"$T/cc.out" 2>&1 && ok "check-config $ex: valid" || bad "check-config $ex: $(cat "$T/cc.out")"
done
printf '{"box":{"id":"b"},"assets":[{"id":"a","type":"pump","name":"A","sensors":[{"id":"s","name":"S","source":"ioo:x"}]}]}' >"$T/bad.json"
"$VW_BIN" check-config "$T/bad.json" >"$T/cc.out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q 'assets\[0\].sensors\[0\].source' "$T/cc.out" && ok "check-config: a bad source is named by its JSON path, exit 2" \
    || bad "check-config bad: exit $rc: $(cat "$T/cc.out")"

# ---- run: the API, SIGHUP, SIGTERM, kill -9 and restart ---------------------------------------
port=$(free_port)
mk_config() { # NAME, FILE
    cat >"$2" <<CFG
{"box": {"id": "testbox", "name": "$1"}, "data_dir": "$T/run",
 "schedule": {"snapshot_s": 1, "interval_s": 60},
 "web": {"listen": "127.0.0.1:$port"},
 "assets": [{"id": "p1", "name": "泵 1", "type": "pump", "speed": {"rpm": 2970},
   "bearings": [{"id": "de", "name": "Timken 6309"}],
   "sensors": [{"id": "p1-de", "name": "drive end", "bearing": "de",
     "source": "sim:pump?fault=outer_race&onset_days=1&failure_days=5&speedup=60&realtime=1&seed=5"}]}]}
CFG
}
mk_config "first" "$T/run.json"
"$VW_BIN" run -c "$T/run.json" 2>"$T/run.err" & rp=$!; pids="$pids $rp"
if wait_for "http://127.0.0.1:$port/api/v1/status" 50; then
    st=$(get "http://127.0.0.1:$port/api/v1/status")
    printf '%s' "$st" | $PY -c "
import json,sys; d=json.loads(sys.stdin.read())
s=d['sources'][0]; assert s['sensor']=='p1-de' and s['state'] in ('running','starting'), s
assert 'uptime_s' in d and 'queues' in d and d['disk']['data_dir'], d" 2>"$T/st.err" \
        && ok "run: GET /api/v1/status shows the source, queues and disk" || bad "status: $st ($(cat "$T/st.err"))"
    sleep 4
    as=$(get "http://127.0.0.1:$port/api/v1/assets")
    printf '%s' "$as" | $PY -c "
import json,sys; d=json.loads(sys.stdin.read())
a=d['assets'][0]; assert a['name']=='泵 1', a['name']
c=a['sensors'][0]['channels'][0]; assert 'features' in c and c['features']['accel_rms_g']>0, c" 2>"$T/as.err" \
        && ok "run: GET /api/v1/assets shows the asset (UTF-8 name intact) with its latest features" || bad "assets: $as ($(cat "$T/as.err"))"
    # SIGHUP with a bad config: refused, still running
    echo '{"assets": 7}' >"$T/run.json"
    kill -HUP $rp; sleep 1
    if kill -0 $rp 2>/dev/null && get "http://127.0.0.1:$port/api/v1/status" >/dev/null && grep -q "the running configuration stays" "$T/run.err"; then
        ok "SIGHUP with an invalid config: refused, logged, the box keeps running"
    else
        bad "SIGHUP bad config: $(tail -3 "$T/run.err")"
    fi
    # SIGHUP with a good config: the new one is running
    mk_config "second" "$T/run.json"
    kill -HUP $rp
    wait_for "http://127.0.0.1:$port/api/v1/status" 50
    b=$(get "http://127.0.0.1:$port/api/v1/status" | $PY -c "import json,sys; print(json.loads(sys.stdin.read())['box'])" 2>/dev/null)
    grep -q "reloaded" "$T/run.err" && [ "$b" = testbox ] && ok "SIGHUP with a valid config: reloaded, API back" || bad "SIGHUP good: box=$b $(tail -3 "$T/run.err")"
    sleep 3
    # kill -9 at a random moment, then restart: the history is intact and grows
    kill -9 $rp; wait $rp 2>/dev/null
    before=$(count "$T/run/history.sqlite3" trend)
    ic=$(integrity "$T/run/history.sqlite3")
    [ "$ic" = ok ] && [ "$before" -gt 0 ] && ok "kill -9: the history is intact ($before trend rows, integrity ok)" || bad "after kill -9: integrity $ic, rows $before"
    "$VW_BIN" run -c "$T/run.json" 2>>"$T/run.err" & rp=$!; pids="$pids $rp"
    wait_for "http://127.0.0.1:$port/api/v1/status" 50
    sleep 4
    t0=$(date +%s.%N)
    kill -TERM $rp; wait $rp; rc=$?
    t1=$(date +%s.%N)
    secs=$($PY -c "print(round($t1-$t0,2))")
    after=$(count "$T/run/history.sqlite3" trend)
    [ $rc -eq 0 ] && $PY -c "import sys; sys.exit(0 if $secs < 5 else 1)" && ok "SIGTERM: exit 0 in $secs s" || bad "SIGTERM: exit $rc after $secs s"
    [ "$after" -gt "$before" ] && ok "after the restart the history grew ($before → $after trend rows)" || bad "restart: $before → $after rows"
else
    bad "run: the API never answered on 127.0.0.1:$port: $(tail -5 "$T/run.err")"
fi

# ---- systemd: READY, STATUS and WATCHDOG over a notify socket of our own ------------------------
sock="$T/notify.sock"
$PY - "$sock" >"$T/notify.log" 2>&1 <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.5)
end = time.time() + 14
while time.time() < end:
    try:
        print(s.recv(4096).decode(), flush=True)
    except socket.timeout:
        pass
PYEOF
np=$!; pids="$pids $np"
sleep 0.5
port=$(free_port)
mk_config "notify" "$T/notify.json"
NOTIFY_SOCKET="$sock" WATCHDOG_USEC=2000000 "$VW_BIN" run -c "$T/notify.json" 2>"$T/notify.err" & rp=$!; pids="$pids $rp"
sleep 12
kill -TERM $rp; wait $rp
wait $np 2>/dev/null
grep -q '^READY=1' "$T/notify.log" && grep -q '^STATUS=.*sensors running' "$T/notify.log" \
    && [ "$(grep -c '^WATCHDOG=1' "$T/notify.log")" -ge 5 ] && grep -q '^STOPPING=1' "$T/notify.log" \
    && ok "sd_notify: READY, STATUS, WATCHDOG at half of WatchdogSec, STOPPING" \
    || bad "sd_notify messages: $(tr '\n' '|' < "$T/notify.log" | head -c 300)"

# ---- log lines name their module once: the same recording replayed again into the same history ----
"$VW_BIN" replay "$T/pump.wav" --rpm 1797 --bearing 6205 --data-dir "$T/r1" >/dev/null 2>"$T/again.err"
kept=$(grep -c '^<6>history: .*already stored' "$T/again.err")
twice=$(grep -c 'history: history:' "$T/again.err")
[ "$kept" -eq 10 ] && [ "$twice" -eq 0 ] \
    && ok "a snapshot stored already is logged once each, as <6>history: PATH: … (the module not said twice)" \
    || bad "replay again: $kept 'already stored' lines (want 10), $twice with the module twice: $(head -2 "$T/again.err")"
