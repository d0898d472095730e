#!/bin/sh
# tests/cli/stream_cli.sh — streaming to real time-series stores, started here on loopback ports
# (tests/servers.sh): InfluxDB 1.6 (1.x API, with and without authentication) and VictoriaMetrics
# (1.x and 2.x write APIs, and HTTPS with a self-signed CA and a 2.x token). Every point a replay
# produced must be in the store exactly once with its tags and values; a server stopped in the
# middle of a replay and started again, and a kill -9 of vibewatch then a restart, lose nothing and
# double nothing; a scripted server (tests/tools/fake_influx.py) that answers 500 then 204, one
# that answers 400, one that stalls, and a spool that fills show the retries, the dead letter, the
# drops and that a bad output never holds up a good one.
set -u
: "${VW_BIN:?}" "${VW_TEST_TMP:?}"
top=$(cd "$(dirname "$0")/../.." && pwd)
T="$VW_TEST_TMP/stream_cli"
rm -rf "$T"
mkdir -p "$T"
PY=/usr/bin/python3
ok() { echo "ok - stream_cli: $1"; }
bad() { echo "not ok - stream_cli: $1"; }
. "$top/tests/servers.sh"
if ! servers_have; then
    bad "influxd, victoria-metrics, curl or openssl missing (make deps)"
    exit 0
fi
fakes=""
cleanup() { servers_stop_all; for p in $fakes; do kill -9 "$p" 2>/dev/null; done; }
trap cleanup EXIT INT TERM

# the pump: 1 s snapshots, one every 6 h of its life (40 snapshots over 10 days), one channel
SIM="sim:pump?fault=outer_race&onset_days=3&failure_days=9&end_days=10&speedup=21600&frame=25600&rate=25600&seed=5&t0=2024-01-01T00:00:00Z"
# the same paced in real time: one snapshot a second
PACED="sim:pump?fault=none&end_days=2.5&speedup=21600&frame=25600&rate=25600&seed=6&realtime=1&t0=2024-02-01T00:00:00Z"

config() { # FILE DATA_DIR OUTPUTS_JSON
    cat >"$1" <<CFG
{"box": {"id": "box-1"}, "data_dir": "$2", "web": {"listen": ""},
 "schedule": {"snapshot_s": 1, "interval_s": 60, "continuous": true},
 "models": {"baseline": {"snapshots": 5}},
 "outputs": {"influx": $3},
 "assets": [{"id": "p1", "name": "P1", "type": "pump", "speed": {"rpm": 2970},
             "bearings": [{"id": "de", "name": "Timken 6309"}],
             "sensors": [{"id": "s1", "name": "S1", "source": "sim:", "axes": ["radial"], "bearing": "de"}]}]}
CFG
}
sec0=$(date +%s)
took() { echo "# stream_cli: $1 after $(( $(date +%s) - sec0 )) s"; }
json_lines() { grep -c '^{"t"' "$1"; }
influx_count() { # DB MEASUREMENT FIELD → count
    influx_query "$1" "SELECT count($3) FROM $2" | $PY -c "
import json,sys
d=json.load(sys.stdin); s=d['results'][0].get('series')
print(s[0]['values'][0][1] if s else 0)"
}
vm_count() { # METRIC → samples (over all series)
    vm_export "$1" | $PY -c "import json,sys; print(sum(len(json.loads(l)['values']) for l in sys.stdin if l.strip()))"
}

# ---- 1. a replay into InfluxDB 1.6 (1.x API) and VictoriaMetrics (2.x API, no strings) ----------
influx_start "$T/influx" || { bad "influxd did not start"; exit 0; }
influx_create_db vw
vm_start "$T/vm" -dedup.minScrapeInterval=1ms || { bad "victoria-metrics did not start"; exit 0; }
config "$T/c1.json" "$T/d1" "[{\"name\": \"central\", \"url\": \"$INFLUX_URL\", \"db\": \"vw\", \"batch_s\": 0.2},
  {\"name\": \"vm\", \"url\": \"$VM_URL\", \"api\": 2, \"org\": \"plant\", \"bucket\": \"vw\", \"token\": \"t0k\",
   \"strings\": false, \"batch_s\": 0.2},
  {\"name\": \"vm1\", \"url\": \"$VM_URL\", \"db\": \"one\", \"strings\": false, \"batch_s\": 0.2}]"
"$VW_BIN" replay "$SIM" -c "$T/c1.json" --json >"$T/r1.jsonl" 2>"$T/r1.err"; rc=$?
n=$(json_lines "$T/r1.jsonl")
fi_=$(influx_count vw vw_features accel_rms_g); hi=$(influx_count vw vw_health state_code)
vm_flush; fv=$(vm_count 'vw_features_accel_rms_g{db=""}'); hv=$(vm_count 'vw_health_state_code{db=""}')
f1=$(vm_count 'vw_features_accel_rms_g{db="one"}')
[ $rc -eq 0 ] && [ "$n" -gt 30 ] && [ "$fi_" = "$n" ] && [ "$hi" = "$n" ] && [ "$fv" = "$n" ] && [ "$hv" = "$n" ] && [ "$f1" = "$n" ] \
    && ok "replay of $n snapshots: $fi_ vw_features and $hi vw_health points in InfluxDB; $fv and $hv in VictoriaMetrics by its 2.x API, $f1 by its 1.x API" \
    || bad "replay: exit $rc, $n lines; influx $fi_/$hi, vm $fv/$hv, vm 1.x $f1: $(tail -3 "$T/r1.err")"
# spot checks: tags, exact values and timestamps against the replay's own lines
influx_query vw "SELECT accel_rms_g, velocity_rms_mm_s, state, diagnosis FROM vw_features GROUP BY *" >"$T/q1.json"
vm_export 'vw_features_accel_rms_g{db=""}' >"$T/v1.jsonl"
$PY - "$T/r1.jsonl" "$T/q1.json" "$T/v1.jsonl" >"$T/spot.out" 2>&1 <<'PYEOF'
import json, sys
from datetime import datetime, timezone
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"t"')]
ns = lambda s: int(round(datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1e3)) * 1000000
series = json.load(open(sys.argv[2]))["results"][0]["series"]
assert len(series) == 1, [s["tags"] for s in series]
tags = series[0]["tags"]
assert tags == {"box": "box-1", "asset": "p1", "sensor": "s1", "axis": "radial", "bearing": "de"}, tags
cols = series[0]["columns"]
rows = {r[0]: dict(zip(cols, r)) for r in series[0]["values"]}
for d in lines:
    r = rows[ns(d["t"])]
    for k in ("accel_rms_g", "velocity_rms_mm_s"):
        # the replay's JSON rounds to 1e-6; the store has the exact double
        assert abs(r[k] - d["features"][k]) <= 5.01e-7, (k, r[k], d["features"][k])
    assert r["state"] == d["state"] and (r["diagnosis"] or "") == d.get("diagnosis", ""), (r, d["state"])
vm = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
assert len(vm) == 1 and vm[0]["metric"]["axis"] == "radial" and vm[0]["metric"]["box"] == "box-1", vm[0]["metric"]
ts = sorted(vm[0]["timestamps"])
assert ts == sorted(ns(d["t"]) // 1000000 for d in lines), "VictoriaMetrics timestamps differ"
print("%d points: tags, values (to the replay's 6 decimals) and timestamps agree in both stores" % len(lines))
PYEOF
[ $? -eq 0 ] && ok "$(cat "$T/spot.out")" || bad "spot check: $(tail -3 "$T/spot.out")"
# the same replay again: the same points overwrite themselves
"$VW_BIN" replay "$SIM" -c "$T/c1.json" >/dev/null 2>"$T/r1b.err"
fi2=$(influx_count vw vw_features accel_rms_g); vm_flush; fv2=$(vm_count 'vw_features_accel_rms_g{db=""}')
[ "$fi2" = "$n" ] && [ "$fv2" = "$n" ] && ok "the same replay again: still $fi2 and $fv2 points (nothing doubled)" \
    || bad "replayed twice: influx $fi2, vm $fv2 (want $n): $(tail -2 "$T/r1b.err")"

took "2"
# ---- 2. the server stops in the middle of a replay and comes back -------------------------------
influx_create_db vw2
config "$T/c2.json" "$T/d2" "[{\"name\": \"central\", \"url\": \"$INFLUX_URL\", \"db\": \"vw2\", \"batch_s\": 0.2}]"
"$VW_BIN" replay "$PACED" -c "$T/c2.json" --json --flush-timeout 30 >"$T/r2.jsonl" 2>"$T/r2.err" &
rp=$!
sleep 3
influx_stop
sleep 3
INFLUX_REUSE_PORT=$INFLUX_PORT influx_start "$T/influx" || bad "influxd did not restart"
wait $rp; rc=$?
n2=$(json_lines "$T/r2.jsonl"); c2=$(influx_count vw2 vw_features accel_rms_g)
[ $rc -eq 0 ] && [ "$n2" -ge 8 ] && [ "$c2" = "$n2" ] && grep -q "retrying" "$T/r2.err" \
    && ok "InfluxDB down for 3 s of a replay: retried, then all $c2 of $n2 points arrived" \
    || bad "server down mid-replay: exit $rc, $n2 lines, $c2 points: $(grep -i output "$T/r2.err" | tail -3)"

took "3"
# ---- 3. kill -9 of vibewatch mid-stream, then a restart -----------------------------------------
influx_create_db vw3
config "$T/c3.json" "$T/d3" "[{\"name\": \"central\", \"url\": \"$INFLUX_URL\", \"db\": \"vw3\", \"batch_s\": 2}]"
"$VW_BIN" replay "$PACED" -c "$T/c3.json" >/dev/null 2>"$T/r3a.err" &
rp=$!
sleep 3.5
kill -9 $rp; wait $rp 2>/dev/null
pending=$($PY -c "import os,sys; print(sum(os.path.getsize(os.path.join(sys.argv[1],f)) for f in os.listdir(sys.argv[1]) if f.startswith('seg-')))" "$T/d3/spool/central" 2>/dev/null || echo 0)
"$VW_BIN" replay "$PACED" -c "$T/c3.json" --json >"$T/r3.jsonl" 2>"$T/r3b.err"; rc=$?
n3=$(json_lines "$T/r3.jsonl"); c3=$(influx_count vw3 vw_features accel_rms_g)
[ $rc -eq 0 ] && [ "$c3" = "$n3" ] && [ "$n3" -ge 8 ] \
    && ok "kill -9 mid-stream ($pending spool bytes on disk), then a restart: $c3 points for $n3 snapshots, none missing, none doubled" \
    || bad "kill -9: exit $rc, $n3 snapshots, $c3 points: $(grep -i output "$T/r3b.err" | tail -2)"

took "4"
# ---- 4. a scripted server: 500, 500 then 204; one that answers 400; one that stalls ----------------
fake() { # NAME ARGS… → sets FAKE_PORT
    _n=$1; shift
    rm -f "$T/$_n.port"
    $PY "$top/tests/tools/fake_influx.py" "$T/$_n.port" "$T/$_n.log" "$@" >"$T/$_n.out" 2>&1 &
    fakes="$fakes $!"
    i=0; while [ ! -s "$T/$_n.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    FAKE_PORT=$(cat "$T/$_n.port")
}
fake f500 --script 500,503,204 --retry-after 1; P500=$FAKE_PORT
fake f400 --script 400 --message "unable to parse: bad timestamp"; P400=$FAKE_PORT
fake fstall --stall; PSTALL=$FAKE_PORT
influx_create_db vw4
config "$T/c4.json" "$T/d4" "[{\"name\": \"good\", \"url\": \"$INFLUX_URL\", \"db\": \"vw4\", \"batch_s\": 0.2},
  {\"name\": \"flaky\", \"url\": \"http://127.0.0.1:$P500\", \"api\": 2, \"org\": \"o\", \"bucket\": \"b\", \"token\": \"s3cret\", \"batch_s\": 0.2, \"batch_kb\": 1024},
  {\"name\": \"refusing\", \"url\": \"http://127.0.0.1:$P400\", \"db\": \"x\", \"batch_s\": 0.2},
  {\"name\": \"stalled\", \"url\": \"http://127.0.0.1:$PSTALL\", \"db\": \"x\", \"batch_s\": 0.2, \"timeout_s\": 1}]"
t0=$(date +%s)
"$VW_BIN" replay "$SIM" -c "$T/c4.json" --json --flush-timeout 8 >"$T/r4.jsonl" 2>"$T/r4.err"; rc=$?
t1=$(date +%s)
n4=$(json_lines "$T/r4.jsonl"); c4=$(influx_count vw4 vw_features accel_rms_g)
[ "$c4" = "$n4" ] && ok "a stalled, a refusing and a flaky output beside it: the good one got all $c4 points" \
    || bad "good output beside bad ones: $c4 of $n4 points"
$PY - "$T/f500.log" "$n4" >"$T/f500.out" 2>&1 <<'PYEOF'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert [r["status"] for r in reqs[:3]] == [500, 503, 204], [r["status"] for r in reqs]
assert reqs[1]["body"].startswith(reqs[0]["body"]) and reqs[2]["body"].startswith(reqs[1]["body"]), "the retry lost lines"
h = reqs[0]["headers"]
assert h.get("authorization") == "Token s3cret" and h.get("content-encoding") == "gzip", h
assert reqs[0]["path"].startswith("/api/v2/write?org=o&bucket=b&precision=ns"), reqs[0]["path"]
assert reqs[2]["t"] - reqs[1]["t"] >= 0.9, "Retry-After: 1 not honoured (%.2f s)" % (reqs[2]["t"] - reqs[1]["t"])
lines = sum(r["body"].count("\n") for r in reqs if r["status"] == 204)
want = 2 * int(sys.argv[2])  # vw_features and vw_health per snapshot
assert lines >= want, "accepted %d lines, want at least %d" % (lines, want)
print("500 and 503 retried (each retry carries the same lines first, gzipped, with the 2.x token), Retry-After honoured, then 204; %d lines accepted" % lines)
PYEOF
[ $? -eq 0 ] && ok "flaky server: $(cat "$T/f500.out")" || bad "flaky server: $(tail -3 "$T/f500.out")"
dl="$T/d4/spool/refusing/deadletter.lp"
dlines=$(grep -vc '^#' "$dl" 2>/dev/null || echo 0)
[ -s "$dl" ] && grep -q "HTTP 400: .*unable to parse: bad timestamp" "$dl" && [ "$dlines" -ge "$n4" ] \
    && grep -q "refused a batch .* for good" "$T/r4.err" \
    && ok "a 400 batch goes to the dead letter with the server's message ($dlines lines), logged, not retried" \
    || bad "dead letter: $(head -2 "$dl" 2>/dev/null | cut -c1-200); $(grep refusing "$T/r4.err" | head -2)"
[ $rc -eq 1 ] && grep -q "still unsent after 8 s" "$T/r4.err" && [ $((t1 - t0)) -lt 30 ] \
    && ok "the stalled server: the replay gives up after --flush-timeout 8 and says what is unsent (exit 1, $((t1 - t0)) s)" \
    || bad "stalled: exit $rc after $((t1 - t0)) s: $(tail -2 "$T/r4.err")"

took "5"
# ---- 5. a spool that fills: the oldest dropped, counted, logged --------------------------------
config "$T/c5.json" "$T/d5" "[{\"name\": \"nowhere\", \"url\": \"http://127.0.0.1:9\", \"db\": \"x\", \"spool_mb\": 0.0625, \"batch_kb\": 4}]"
"$VW_BIN" replay "$(echo "$SIM" | sed 's/end_days=10/end_days=40/')" -c "$T/c5.json" --flush-timeout 0 >/dev/null 2>"$T/r5.err"; rc=$?
sz=$($PY -c "import os,sys; print(sum(os.path.getsize(os.path.join(sys.argv[1],f)) for f in os.listdir(sys.argv[1]) if f.startswith('seg-')))" "$T/d5/spool/nowhere")
[ $rc -eq 1 ] && grep -q "spool is full" "$T/r5.err" && [ "$sz" -le 70000 ] \
    && ok "a full spool (64 kB) drops the oldest, logs and counts it ($sz bytes on disk): $(grep -m1 'spool is full' "$T/r5.err" | cut -c1-150)" \
    || bad "full spool: exit $rc, $sz bytes: $(grep -i nowhere "$T/r5.err" | tail -2)"

took "6"
# ---- 6. HTTPS with a self-signed CA, a 2.x token; InfluxDB with authentication ----------------------
vm_stop
tls_make_ca "$T/tls" >/dev/null || bad "openssl could not make the test CA"
vm_start_tls "$T/vmtls" "$TLS_CERT" "$TLS_KEY" -dedup.minScrapeInterval=1ms || bad "victoria-metrics -tls did not start"
config "$T/c6.json" "$T/d6" "[{\"name\": \"tls\", \"url\": \"$VM_URL\", \"api\": 2, \"org\": \"o\", \"bucket\": \"b\", \"token\": \"t\", \"ca_file\": \"$TLS_CA\", \"strings\": false, \"batch_s\": 0.2}]"
"$VW_BIN" replay "$SIM" -c "$T/c6.json" --json >"$T/r6.jsonl" 2>"$T/r6.err"; rc=$?
vm_flush; c6=$(vm_count 'vw_features_accel_rms_g'); n6=$(json_lines "$T/r6.jsonl")
[ $rc -eq 0 ] && [ "$c6" = "$n6" ] && ok "HTTPS to a server with a self-signed certificate, checked against its CA: $c6 points" \
    || bad "https: exit $rc, $c6 of $n6: $(tail -2 "$T/r6.err")"
config "$T/c7.json" "$T/d7" "[{\"name\": \"tls\", \"url\": \"$VM_URL\", \"api\": 2, \"org\": \"o\", \"bucket\": \"b\", \"batch_s\": 0.2}]"
"$VW_BIN" replay "$SIM" -c "$T/c7.json" --flush-timeout 3 >/dev/null 2>"$T/r7.err"; rc=$?
[ $rc -eq 1 ] && grep -qi "certificate" "$T/r7.err" && ok "without the CA the certificate is refused, named in the log, and nothing is lost (exit 1, spooled)" \
    || bad "https without CA: exit $rc: $(grep -i tls "$T/r7.err" | tail -2)"
# a server that asks for a client certificate
fake fmtls --tls "$TLS_CERT" "$TLS_KEY" --client-ca "$TLS_CA"; PM=$FAKE_PORT
config "$T/c9.json" "$T/d9" "[{\"name\": \"mtls\", \"url\": \"https://127.0.0.1:$PM\", \"db\": \"x\", \"ca_file\": \"$TLS_CA\", \"client_cert\": \"$TLS_CLIENT_CERT\", \"client_key\": \"$TLS_CLIENT_KEY\", \"batch_s\": 0.2}]"
"$VW_BIN" replay "$SIM" -c "$T/c9.json" --json >"$T/r9.jsonl" 2>"$T/r9.err"; rc=$?
n9=$(json_lines "$T/r9.jsonl")
got=$($PY -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(sum(x['body'].count('vw_features,') for x in r if x['status']==204), r[0]['client'] if r else '-')" "$T/fmtls.log" 2>/dev/null)
[ $rc -eq 0 ] && [ "$got" = "$n9 vibewatch box" ] && ok "a server that asks for a client certificate: the box's was presented (CN \"vibewatch box\") and all $n9 snapshots went" \
    || bad "client certificate: exit $rc, got \"$got\" for $n9: $(tail -2 "$T/r9.err")"
config "$T/c10.json" "$T/d10" "[{\"name\": \"mtls\", \"url\": \"https://127.0.0.1:$PM\", \"db\": \"x\", \"ca_file\": \"$TLS_CA\", \"batch_s\": 0.2}]"
"$VW_BIN" replay "$SIM" -c "$T/c10.json" --flush-timeout 2 >/dev/null 2>"$T/r10.err"; rc=$?
[ $rc -eq 1 ] && ok "without the client certificate the handshake is refused and the data stays spooled (exit 1): $(grep -m1 -o 'output mtls: [^;]*' "$T/r10.err" | cut -c1-120)" \
    || bad "no client certificate: exit $rc: $(tail -2 "$T/r10.err")"
influx_stop
influx_start "$T/influxauth" auth || bad "influxd with auth did not start"
influx_create_db vwa
config "$T/c8.json" "$T/d8" "[{\"name\": \"auth\", \"url\": \"$INFLUX_URL\", \"db\": \"vwa\", \"user\": \"$INFLUX_USER\", \"password\": \"$INFLUX_PASSWORD\", \"batch_s\": 0.2}]"
"$VW_BIN" replay "$SIM" -c "$T/c8.json" --json >"$T/r8.jsonl" 2>"$T/r8.err"; rc=$?
c8=$(influx_count vwa vw_features accel_rms_g); n8=$(json_lines "$T/r8.jsonl")
[ $rc -eq 0 ] && [ "$c8" = "$n8" ] && ok "InfluxDB with authentication (1.x user and password): $c8 points" \
    || bad "influx auth: exit $rc, $c8 of $n8: $(tail -2 "$T/r8.err")"
took "end"
