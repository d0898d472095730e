#!/bin/sh
# tests/cli/models_cli.sh — baselines, anomaly, RUL and states from the outside: a simulated pump
# replayed from healthy to failure (its fault starts on day 10 and fails it on day 25: no state
# above ok may come before day 10, an alarm must come before day 25, every change is an event
# line), the model kept in the history and restored by the next run (and refused when built for
# other features), fit-prior and a prior's failure criterion checked, the replay flags' errors,
# and "maintenance done" taken by a running box.
set -u
: "${VW_BIN:?}" "${VW_TEST_TMP:?}"
T="$VW_TEST_TMP/models_cli"
mkdir -p "$T"
PY=/usr/bin/python3
ok() { echo "ok - models_cli: $1"; }
bad() { echo "not ok - models_cli: $1"; }
[ -x "$PY" ] || { bad "/usr/bin/python3 is missing (make deps)"; exit 0; }
pids=""
cleanup() { for p in $pids; do kill -9 "$p" 2>/dev/null; done; }
trap cleanup EXIT INT TERM
sql() { $PY -c "import sqlite3,sys; c=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True); print(c.execute(sys.argv[2]).fetchone()[0])" "$1" "$2" 2>/dev/null || echo -1; }
free_port() { $PY -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
get() { $PY -c "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())" "$1" 2>/dev/null; }

# one 1 s snapshot every 6 h of the pump's life, 26 days: finite and deterministic
SIM="sim:pump?fault=outer_race&onset_days=10&failure_days=25&end_days=26&speedup=21600&frame=25600&rate=25600&seed=3&t0=2024-01-01T00:00:00Z"
"$VW_BIN" replay "$SIM" --rpm 2970 --bearing "Timken 6309" --baseline-snapshots 12 --data-dir "$T/r1" --json \
    >"$T/r1.jsonl" 2>"$T/r1.err"
$PY - "$T/r1.jsonl" >"$T/r1.check" 2>&1 <<'PYEOF'
import json, sys
from datetime import datetime
day = lambda s: (datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ") - datetime(2024, 1, 1)).total_seconds() / 86400
lines = [json.loads(l) for l in open(sys.argv[1])]
snaps = [d for d in lines if "event" not in d]
events = [d for d in lines if d.get("event") == "state"]
need = ["state", "anomaly", "threshold", "health", "rul_h", "rul_lo_h", "rul_hi_h", "rul_basis", "p_fail_7d", "p_fail_14d"]
missing = [k for k in need if k not in snaps[-1]]
assert not missing, "fields missing: %s" % missing
learning = [d for d in snaps if d["state"] == "learning"]
assert len(learning) == 11 and abs(learning[-1]["progress"] - 11 / 12) < 1e-6, (len(learning), learning[-1].get("progress"))
# every change of state is an event line, with the right from and to
prev, changes = None, []
for d in snaps:
    if prev is not None and d["state"] != prev:
        changes.append((d["t"], prev, d["state"]))
    prev = d["state"]
got = [(e["t"], e["from"], e["to"]) for e in events]
assert got == changes, (got, changes)
first_bad = min((day(d["t"]) for d in snaps if d["state"] not in ("learning", "ok")), default=None)
alarm = min((day(d["t"]) for d in snaps if d["state"] == "alarm"), default=None)
assert first_bad is not None and first_bad >= 10, "first state above ok on day %s (the fault starts on day 10)" % first_bad
assert alarm is not None and alarm < 25, "first alarm on day %s (the bearing fails on day 25)" % alarm
healthy = [d for d in snaps if day(d["t"]) < 10 and d["state"] != "learning"]
assert all(d["state"] == "ok" and d["rul_basis"] == "null" and d["rul_h"] is None for d in healthy), "healthy life"
trend = [d for d in snaps if d["rul_basis"] == "trend" and d["rul_h"] and d["rul_h"] > 0]
assert trend and all(d["rul_lo_h"] <= d["rul_h"] <= d["rul_hi_h"] for d in trend if d["rul_hi_h"] is not None), "trend RUL"
print("watch from day %.1f, alarm on day %.1f, %d trend estimates, %d state events" % (first_bad, alarm, len(trend), len(events)))
PYEOF
[ $? -eq 0 ] && ok "simulated pump to failure: $(cat "$T/r1.check")" || bad "simulated pump: $(tail -3 "$T/r1.check") $(tail -2 "$T/r1.err")"

m=$(sql "$T/r1/history.sqlite3" "select count(*) from models")
ev=$(sql "$T/r1/history.sqlite3" "select count(*) from events where kind = 'state_change'")
[ "$m" = 1 ] && [ "$ev" -ge 2 ] && ok "the learned model is kept in the history ($m), state changes are events ($ev)" \
    || bad "history: $m models, $ev state_change events"

# ---- the next run restores the model; one built for other features is refused -----------------
cat >"$T/cfg.json" <<CFG
{"box": {"id": "t"}, "data_dir": "$T/r2", "web": {"listen": ""},
 "schedule": {"snapshot_s": 1, "interval_s": 60, "continuous": true},
 "models": {"baseline": {"snapshots": 5}},
 "assets": [{"id": "p1", "name": "P1", "type": "pump", "speed": {"rpm": 2970},
             "bearings": [{"id": "de", "name": "Timken 6309"}],
             "sensors": [{"id": "s1", "name": "S1", "source": "sim:", "bearing": "de"}]}]}
CFG
S1="sim:pump?fault=none&end_days=3&speedup=21600&frame=25600&rate=25600&seed=4&t0=2024-01-01T00:00:00Z"
S2="sim:pump?fault=none&end_days=3&speedup=21600&frame=25600&rate=25600&seed=5&t0=2024-02-01T00:00:00Z"
S3="sim:pump?fault=none&end_days=3&speedup=21600&frame=25600&rate=25600&seed=6&t0=2024-03-01T00:00:00Z"
"$VW_BIN" replay "$S1" -c "$T/cfg.json" --json >"$T/r2a.jsonl" 2>"$T/r2a.err"
"$VW_BIN" replay "$S2" -c "$T/cfg.json" --json >"$T/r2b.jsonl" 2>"$T/r2b.err"
first_a=$(head -1 "$T/r2a.jsonl" | $PY -c "import json,sys; print(json.loads(sys.stdin.read())['state'])")
first_b=$(head -1 "$T/r2b.jsonl" | $PY -c "import json,sys; print(json.loads(sys.stdin.read())['state'])")
[ "$first_a" = learning ] && [ "$first_b" = ok ] && grep -q "baseline model in the history is in use" "$T/r2b.err" \
    && ok "a restart uses the model in the history: first run $first_a, second $first_b" \
    || bad "restore: first states $first_a, $first_b; $(tail -2 "$T/r2b.err")"
$PY -c "
import sqlite3,sys
c=sqlite3.connect(sys.argv[1]); c.execute(\"update models set data = replace(data, '\\\"feature_schema\\\":\\\"vw-features-1\\\"', '\\\"feature_schema\\\":\\\"vw-features-0\\\"')\"); c.commit()" "$T/r2/history.sqlite3"
"$VW_BIN" replay "$S3" -c "$T/cfg.json" --json >"$T/r2c.jsonl" 2>"$T/r2c.err"
first_c=$(head -1 "$T/r2c.jsonl" | $PY -c "import json,sys; print(json.loads(sys.stdin.read())['state'])")
[ "$first_c" = learning ] && grep -q 'vw-features-0.*vw-features-1' "$T/r2c.err" \
    && ok "a stored model built for other features is refused with both schemas named, and relearned" \
    || bad "mismatched model: first state $first_c; $(grep models "$T/r2c.err" | tail -2)"

# ---- a restart past onset goes on with its trend: the pump's life replayed in two halves ----------
sed -e "s#$T/r2#$T/r6#" -e 's/"snapshots": 5/"snapshots": 12/' "$T/cfg.json" >"$T/cfg6.json"
H1="sim:pump?fault=outer_race&onset_days=10&failure_days=25&end_days=19&speedup=21600&frame=25600&rate=25600&seed=3&t0=2024-01-01T00:00:00Z"
H2="sim:pump?fault=outer_race&onset_days=10&failure_days=25&start_days=19&end_days=26&speedup=21600&frame=25600&rate=25600&seed=3&t0=2024-01-20T00:00:00Z"
"$VW_BIN" replay "$H1" -c "$T/cfg6.json" --json >"$T/h1.jsonl" 2>"$T/h1.err"
"$VW_BIN" replay "$H2" -c "$T/cfg6.json" --json >"$T/h2.jsonl" 2>"$T/h2.err"
$PY - "$T/h1.jsonl" "$T/h2.jsonl" >"$T/h.check" 2>&1 <<'PYEOF'
import json, sys
h1 = [json.loads(l) for l in open(sys.argv[1]) if '"event"' not in l]
h2 = [json.loads(l) for l in open(sys.argv[2]) if '"event"' not in l]
last, first = h1[-1], h2[0]
assert last.get("onset"), "the first half ends without onset: %s" % last["state"]
assert first["state"] not in ("learning", "ok"), "after the restart: %s" % first["state"]
assert first.get("onset") == last["onset"], (first.get("onset"), last["onset"])
print("first half ends %s (onset %s), the second starts %s with the same onset" % (last["state"], last["onset"][:16], first["state"]))
PYEOF
[ $? -eq 0 ] && grep -q "caught up with [1-9][0-9]* snapshots" "$T/h2.err" \
    && ok "a restart past onset keeps the trend: $(cat "$T/h.check")" \
    || bad "restart past onset: $(tail -2 "$T/h.check") $(grep models "$T/h2.err" | tail -1)"

# ---- fit-prior, and priors checked against the failure criterion -------------------------------
R1="sim:pump?fault=outer_race&onset_days=5&failure_days=15&end_days=15&speedup=21600&frame=25600&rate=25600&seed=8&t0=2024-01-01T00:00:00Z"
R2="sim:pump?fault=outer_race&onset_days=8&failure_days=20&end_days=20&speedup=21600&frame=25600&rate=25600&seed=9&t0=2024-01-01T00:00:00Z"
"$VW_BIN" fit-prior --rpm 2970 --bearing "Timken 6309" --baseline-snapshots 8 -o "$T/prior.json" "$R1" "$R2" 2>"$T/fit.err"
$PY - "$T/prior.json" >"$T/fit.check" 2>&1 <<'PYEOF'
import json, math, sys
p = json.load(open(sys.argv[1]))
assert p["format"] == "vibewatch-prior" and p["version"] == 1 and p["failure"]["feature"] == "", p["failure"]
runs = p["runs"]
assert len(runs) == 2 and [round(r["life_h"] / 24) for r in runs] == [15, 20], [r["life_h"] for r in runs]
lives = [r["life_h"] for r in runs]
mu = sum(math.log(x) for x in lives) / 2
assert abs(p["life_h"]["mu"] - mu) < 1e-9 and p["life_h"]["dof"] == 1, p["life_h"]
assert all(r["onset_h"] is not None and 5 * 24 <= r["onset_h"] < r["life_h"] for r in runs), runs
print("lives %.0f h and %.0f h, onsets %.0f h and %.0f h" % (lives[0], lives[1], runs[0]["onset_h"], runs[1]["onset_h"]))
PYEOF
[ $? -eq 0 ] && ok "fit-prior over two simulated runs to failure: $(cat "$T/fit.check")" || bad "fit-prior: $(tail -3 "$T/fit.check") $(tail -3 "$T/fit.err")"
"$VW_BIN" replay "$S1" --rpm 2970 --failure accel_peak_g=20 --prior "$T/prior.json" --data-dir "$T/r3" >/dev/null 2>"$T/r3.err"; rc=$?
[ $rc -ne 0 ] && grep -q "fitted for failure at anomaly" "$T/r3.err" \
    && ok "a prior fitted for another failure criterion is refused, both named (exit $rc)" || bad "prior mismatch: exit $rc $(tail -2 "$T/r3.err")"
"$VW_BIN" fit-prior --failure accel_peak_g=20 -o "$T/p2.json" "$T/prior.json" >/dev/null 2>"$T/fp.err"; rc=$?
[ $rc -eq 2 ] && grep -q "fitted for failure" "$T/fp.err" && ok "fit-prior refuses to merge runs fitted for another failure criterion" \
    || bad "fit-prior merge mismatch: exit $rc $(cat "$T/fp.err")"

# ---- the flags' errors ---------------------------------------------------------------------------
for args in "--warn-within 14" "--alarm-within -3d" "--failure accel_peak_g" "--failure nonsense=3" "--baseline-snapshots 2.5"; do
    "$VW_BIN" replay "$S1" $args --data-dir "$T/r4" >/dev/null 2>"$T/flag.err"; rc=$?
    [ $rc -eq 2 ] && [ -s "$T/flag.err" ] && ok "replay $args: refused (exit 2): $(head -1 "$T/flag.err")" \
        || bad "replay $args: exit $rc: $(cat "$T/flag.err")"
done

# ---- maintenance done on a running box ---------------------------------------------------------
port=$(free_port)
# live_cfg DATA_DIR LISTEN: a box with one simulated pump, a snapshot a second, a 3-snapshot baseline
live_cfg() {
    cat <<CFG
{"box": {"id": "m"}, "data_dir": "$1", "web": {"listen": "$2"},
 "schedule": {"snapshot_s": 1, "interval_s": 60, "continuous": true},
 "models": {"baseline": {"snapshots": 3}},
 "assets": [{"id": "p1", "name": "P1", "type": "pump", "speed": {"rpm": 2970},
             "sensors": [{"id": "s1", "name": "S1",
               "source": "sim:pump?fault=none&speedup=3600&frame=25600&rate=25600&realtime=1&seed=2"}]}]}
CFG
}
live_cfg "$T/r5" "127.0.0.1:$port" >"$T/run.json"
"$VW_BIN" run -c "$T/run.json" >"$T/run.out" 2>&1 &
rp=$!
pids="$pids $rp"
state() { get "http://127.0.0.1:$port/api/v1/assets" | $PY -c "import json,sys; print(json.load(sys.stdin)['assets'][0]['sensors'][0]['channels'][0]['state'])" 2>/dev/null; }
i=0; while [ $i -lt 100 ] && [ "$(state)" != ok ]; do sleep 0.2; i=$((i + 1)); done
before=$(state)
"$VW_BIN" maintenance p1 -c "$T/run.json" >"$T/maint.out" 2>&1; mrc=$?
i=0; while [ $i -lt 50 ] && [ "$(state)" != learning ]; do sleep 0.1; i=$((i + 1)); done
after=$(state)
kill -TERM $rp; wait $rp 2>/dev/null
me=$(sql "$T/r5/history.sqlite3" "select count(*) from events where kind = 'maintenance'")
[ "$before" = ok ] && [ $mrc -eq 0 ] && [ "$after" = learning ] && [ "$me" -ge 1 ] \
    && ok "maintenance done on a running box: $before → $after, a maintenance event in the history" \
    || bad "maintenance: before $before, exit $mrc, after $after, events $me: $(tail -3 "$T/run.out")"
# a restart before the new baseline is learned must not bring the old model back
"$VW_BIN" replay "sim:pump?fault=none&end_days=1&speedup=21600&frame=25600&rate=25600&seed=2&t0=2030-01-01T00:00:00Z" \
    -c "$T/run.json" --json >"$T/r5b.jsonl" 2>"$T/r5b.err"
fs=$(head -1 "$T/r5b.jsonl" | $PY -c "import json,sys; print(json.loads(sys.stdin.read())['state'])" 2>/dev/null)
[ "$fs" = learning ] && grep -q "maintenance was done after its model" "$T/r5b.err" \
    && ok "after maintenance, a restart learns the new baseline instead of restoring the old model" \
    || bad "restart after maintenance: first state $fs; $(grep models "$T/r5b.err" | tail -1)"
"$VW_BIN" maintenance nosuch -c "$T/run.json" >/dev/null 2>"$T/maint.err"; rc=$?
[ $rc -eq 2 ] && grep -q 'no asset "nosuch"' "$T/maint.err" && ok "maintenance for an unknown asset is refused (exit 2)" \
    || bad "maintenance nosuch: exit $rc $(cat "$T/maint.err")"

# ---- maintenance and ack made by root for a box that runs as its own user ----------------------
# The service runs as user vibewatch and owns its data dir (0750); `sudo vibewatch maintenance`
# must leave a request that user can take, and the box must say so when it finds one it cannot.
# Here the box's user is `nobody`, in a folder of its own under /tmp (the test dir is root's 0700).
# until_log FILE PATTERN TRIES_OF_0.2_S
until_log() { _i=0; while [ $_i -lt "$3" ]; do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.2; _i=$((_i + 1)); done; return 1; }
if [ "$(id -u)" != 0 ]; then
    echo "skip - models_cli: requests made by root for a box of another user: not running as root"
elif ! getent passwd nobody >/dev/null || ! command -v setpriv >/dev/null; then
    echo "skip - models_cli: requests made by root for a box of another user: no user nobody or no setpriv"
else
    O=$(mktemp -d /tmp/vw-models-owner.XXXXXX)
    chmod 755 "$O"
    grp=$(id -gn nobody)
    mkdir -m 750 "$O/data" && chown "nobody:$grp" "$O/data"
    live_cfg "$O/data" "" >"$O/run.json"
    chmod 644 "$O/run.json"
    "$VW_BIN" maintenance p1 -c "$O/run.json" >"$T/own.out" 2>&1; m=$?
    "$VW_BIN" ack p1 --user "Anna Berger" -c "$O/run.json" >>"$T/own.out" 2>&1; a=$?
    owners=$(stat -c '%U:%G' "$O/data/maintenance" "$O/data/maintenance/p1" "$O/data/ack" "$O/data/ack/p1" 2>&1 | sort -u | tr '\n' ' ')
    [ $m -eq 0 ] && [ $a -eq 0 ] && [ "$owners" = "nobody:$grp " ] \
        && grep -q "maintenance on p1 queued in $O/data/maintenance/ (owned by nobody" "$T/own.out" \
        && grep -q "acknowledgement of p1 by Anna Berger queued in $O/data/ack/ (owned by nobody" "$T/own.out" \
        && ok "maintenance and ack run as root: folders and files owned by the data dir's owner (nobody:$grp), and said" \
        || bad "requests by root: exits $m $a, owners $owners: $(cat "$T/own.out")"
    if setpriv --reuid=nobody --regid="$grp" --clear-groups "$VW_BIN" --version >/dev/null 2>&1; then
        # an ack folder left by root (as an older vibewatch made it): the box cannot read it
        chown -R root:root "$O/data/ack" && chmod 700 "$O/data/ack"
        setpriv --reuid=nobody --regid="$grp" --clear-groups "$VW_BIN" run -c "$O/run.json" 2>"$O/run.log" &
        op=$!
        pids="$pids $op"
        until_log "$O/run.log" "maintenance done" 50 && [ ! -e "$O/data/maintenance/p1" ] \
            && ok "the box running as nobody took root's maintenance request and removed it" \
            || bad "maintenance request not taken by the box as nobody: $(ls -l "$O/data/maintenance"; tail -3 "$O/run.log")"
        until_log "$O/run.log" "^<4>run: ack requests in $O/data/ack cannot be read (Permission denied): not taken" 25 \
            && ok "a request folder the box cannot read: a warning (<4>) naming it, not silence" \
            || bad "no warning about the unreadable ack folder: $(tail -3 "$O/run.log")"
        # root makes the request again: the folder is given back to the box's user, the ack taken
        "$VW_BIN" ack p1 --user "Anna Berger" -c "$O/run.json" >"$T/own2.out" 2>&1
        until_log "$O/run.log" "acknowledged by Anna Berger" 50 && [ ! -e "$O/data/ack/p1" ] \
            && [ "$(stat -c %U "$O/data/ack")" = nobody ] && until_log "$O/run.log" "taking the ack requests recovered" 10 \
            && ok "ack again as root: the folder given back to nobody, the acknowledgement taken, recovery logged" \
            || bad "ack after repair: $(cat "$T/own2.out"; stat -c %U "$O/data/ack"; tail -3 "$O/run.log")"
        kill -TERM $op 2>/dev/null
        wait $op 2>/dev/null
    else
        echo "skip - models_cli: the box as nobody: $VW_BIN is not executable by nobody"
    fi
    rm -rf "$O"
fi
