#!/bin/sh
# tests/cli/dashboard_browser.sh — the dashboard in Debian's Chromium against a real box: a replay
# of a pump's first 7 days (outer race from day 2) writes a history with alerts; `vibewatch run`
# continues on it live (loopback, an operator and a viewer made with `vibewatch passwd`, the built
# dashboard); tests/browser/dashboard.mjs (playwright-core driving /usr/bin/chromium, never a
# downloaded browser) then logs in and checks every page, and prints the TAP-like lines counted by
# tests/run.sh. Screenshots go to tests/out/screenshots/.
#
# Installs the npm packages (npm ci, from the committed lock files) when node_modules is missing;
# uses the Makefile's build/dashboard when it is newer than the sources, else builds the dashboard
# into $VW_TEST_TMP. vibewatch is stopped by its pid on any exit.
set -u
: "${VW_BIN:?}" "${VW_TEST_TMP:?}"
top=$(cd "$(dirname "$0")/../.." && pwd)
T="$VW_TEST_TMP/dashboard_browser"
rm -rf "$T"
mkdir -p "$T"
name=dashboard_browser
ok() { echo "ok - $name: $1"; }
bad() { echo "not ok - $name: $1"; }
RUNPID=""
cleanup() {
    if [ -n "$RUNPID" ]; then
        kill -TERM "$RUNPID" 2>/dev/null
        _i=0
        while kill -0 "$RUNPID" 2>/dev/null && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
        kill -9 "$RUNPID" 2>/dev/null
        RUNPID=""
    fi
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM
CHROMIUM=${VW_CHROMIUM:-/usr/bin/chromium}

# ---- tools --------------------------------------------------------------------------------------------
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { bad "node and npm are missing (make deps)"; exit 0; }
[ -x "$CHROMIUM" ] || { bad "$CHROMIUM is missing (make deps: apt-get install chromium)"; exit 0; }
for d in tests/browser web/dashboard; do
    if [ ! -d "$top/$d/node_modules" ]; then
        (cd "$top/$d" && npm ci --no-audit --no-fund --loglevel=error) >"$T/npm.log" 2>&1 ||
            { bad "npm ci in $d failed: $(tail -3 "$T/npm.log")"; exit 0; }
    fi
done

# ---- the dashboard ------------------------------------------------------------------------------------
DASH="$top/build/dashboard"
fresh=1
[ -f "$DASH/index.html" ] || fresh=0
if [ $fresh = 1 ]; then
    for f in "$top"/web/dashboard/src/* "$top/web/dashboard/build.sh" "$top/web/dashboard/package-lock.json"; do
        [ "$f" -nt "$DASH/index.html" ] && { fresh=0; break; }
    done
fi
if [ $fresh = 0 ]; then
    DASH="$T/dashboard"
    if ! sh "$top/web/dashboard/build.sh" "$DASH" >"$T/build.log" 2>&1; then
        bad "web/dashboard/build.sh failed: $(tail -3 "$T/build.log")"
        exit 0
    fi
fi
gz=0
for f in index.html app.js app.css favicon.svg; do
    [ -f "$DASH/$f.gz" ] && gz=$((gz + $(wc -c <"$DASH/$f.gz")))
done
ok "the dashboard is built ($DASH: $gz bytes gzip-compressed)"

# ---- users, history, the box --------------------------------------------------------------------------
m_ana=$(printf 'ana-S3cret!\n' | "$VW_BIN" passwd --role operator ana 2>"$T/pw.err")
m_vic=$(printf 'vic-p@ss\n' | "$VW_BIN" passwd vic 2>>"$T/pw.err")
case "$m_ana$m_vic" in
    *password_hash*password_hash*) ;;
    *) bad "vibewatch passwd: $(head -2 "$T/pw.err")"; exit 0 ;;
esac
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
REPLAY="sim:pump?fault=outer_race&onset_days=2&failure_days=8&end_days=7&speedup=4320&frame=25600&rate=25600&seed=5&t0=2024-01-01T00:00:00Z"
LIVE="sim:pump?fault=outer_race&onset_days=2&failure_days=8&start_days=7&speedup=600&frame=25600&rate=25600&seed=6&realtime=1&t0=2024-01-08T00:00:00Z"
# config FILE LISTEN SOURCE EXTRA
config() {
    cat >"$1" <<CFG
{"box": {"id": "hall.3", "name": "Pumpenhaus 泵站"}, "data_dir": "$T/data",
 "schedule": {"snapshot_s": 1, "interval_s": 600},
 "models": {"baseline": {"snapshots": 5}},
 "web": {"listen": "$2", "dashboard_dir": "$DASH"}$4,
 "assets": [{"id": "p101", "name": "Cooling water pump 1 冷却水泵", "type": "pump", "iso": {"group": 2, "foundation": "rigid"},
   "speed": {"rpm": 2970}, "bearings": [{"id": "de", "name": "Timken 6309"}],
   "sensors": [{"id": "p101-de", "name": "Pump drive end", "source": "$3", "channels": [0], "axes": ["radial"],
     "units": "g", "mounting": "drive-end bearing housing, radial horizontal", "bearing": "de"}]}]}
CFG
}
config "$T/replay.json" "" "$REPLAY" ""
if ! "$VW_BIN" replay "$REPLAY" -c "$T/replay.json" --flush-timeout 0 >"$T/replay.out" 2>"$T/replay.err"; then
    bad "the replay that makes the history failed: $(tail -2 "$T/replay.err")"
    exit 0
fi
config "$T/run.json" "127.0.0.1:$port" "$LIVE" ", \"users\": {$m_ana, $m_vic}"
"$VW_BIN" run -c "$T/run.json" >"$T/run.log" 2>&1 &
RUNPID=$!
URL="http://127.0.0.1:$port"
_i=0
until curl -sf -o /dev/null "$URL/api/v1/session"; do
    _i=$((_i + 1))
    if [ $_i -gt 150 ] || ! kill -0 "$RUNPID" 2>/dev/null; then
        bad "vibewatch run never answered on $URL: $(tail -3 "$T/run.log")"
        exit 0
    fi
    sleep 0.2
done

# ---- the browser ----------------------------------------------------------------------------------------
mkdir -p "$top/tests/out/screenshots"
timeout 150 node "$top/tests/browser/dashboard.mjs" "$URL" --operator 'ana:ana-S3cret!' --viewer 'vic:vic-p@ss' \
    --asset p101 --chromium "$CHROMIUM" --out "$top/tests/out/screenshots" 2>"$T/browser.err"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
    bad "tests/browser/dashboard.mjs exited with $rc: $(tail -5 "$T/browser.err" | tr '\n' ' ')"
fi
if ! kill -0 "$RUNPID" 2>/dev/null; then
    bad "vibewatch died during the browser test: $(tail -3 "$T/run.log")"
    RUNPID=""
fi
exit 0
