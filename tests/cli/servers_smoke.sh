#!/bin/sh
# tests/cli/servers_smoke.sh — the test servers of tests/servers.sh work: a real InfluxDB 1.6 and a
# real VictoriaMetrics on loopback ports chosen free take 3 points of known line protocol over
# curl and give back exactly those values and timestamps; VictoriaMetrics's /api/v2/write with a
# Token header, its Basic auth, and both servers over TLS with a CA of our own. Servers are always
# stopped. The facts checked here are the ones a line-protocol writer depends on.
set -u
: "${VW_TEST_TMP:?}"
top=$(cd "$(dirname "$0")/../.." && pwd)
T="$VW_TEST_TMP/servers_smoke"
rm -rf "$T"; mkdir -p "$T"
ok() { echo "ok - servers_smoke: $1"; }
bad() { echo "not ok - servers_smoke: $1"; }
. "$top/tests/servers.sh"
if ! servers_have; then
    bad "influxd, victoria-metrics, curl, openssl or /usr/bin/python3 is missing (run make deps)"
    exit 0
fi
trap servers_stop_all EXIT
trap 'servers_stop_all; exit 1' INT TERM
PY=/usr/bin/python3
now() { date +%s.%N; }
secs() { $PY -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
# check JSON on stdin with a Python expression over d (the parsed document) or L (JSON lines)
check() { # PYTHON-STATEMENTS — assert ...; prints the failing assertion on stderr
    $PY -c "
import json, sys
raw = sys.stdin.read()
try: d = json.loads(raw)
except ValueError: d = None
try: L = [json.loads(l) for l in raw.splitlines() if l.strip()]
except ValueError: L = None
$1
"
}
# code METHOD URL [CURL ARGS] → prints the HTTP status only
code() { _m=$1; _u=$2; shift 2; curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -X "$_m" "$@" "$_u"; }

# The 3 points: a space in a tag value, an integer, a string field on the first, nanosecond times
# whose last digits matter (…2999999999 ns is 2999 ms after truncation, not 3000).
LP='vibration,asset=pump\ 1,sensor=de accel_rms_g=0.125,kurtosis=3.5,alarms=2i,state="ok" 1700000000123456789
vibration,asset=pump\ 1,sensor=de accel_rms_g=0.25,kurtosis=4,alarms=0i 1700000001000000001
vibration,asset=pump\ 1,sensor=de accel_rms_g=0.5,kurtosis=4.5,alarms=1i 1700000002999999999'
TS_NS="1700000000123456789, 1700000001000000001, 1700000002999999999"
TS_MS="1700000000123, 1700000001000, 1700000002999"

# ---- InfluxDB 1.6 ---------------------------------------------------------------------------------
t0=$(now)
if influx_start "$T/influx" 2>"$T/influx.err"; then
    ok "influxd 1.6 answers /ping 204 on 127.0.0.1:$INFLUX_PORT after $(secs "$t0" "$(now)") s ($(ps -o rss= -p "$INFLUX_PID" | tr -d ' ') KiB)"
    c=$(code POST "$INFLUX_URL/write?db=vw&precision=ns" --data-binary "$LP")
    [ "$c" = 404 ] && grep -q 'database not found' "$T/body" && ok "influx: /write to a database not created: 404 database not found" \
        || bad "influx: write before CREATE DATABASE: HTTP $c $(cat "$T/body")"
    influx_create_db vw 2>"$T/influx.err" || bad "influx: CREATE DATABASE vw: $(cat "$T/influx.err")"
    c=$(code POST "$INFLUX_URL/write?db=vw&precision=ns" --data-binary "$LP")
    [ "$c" = 204 ] && ok "influx: POST /write?db=vw&precision=ns of 3 lines: 204" || bad "influx: write: HTTP $c $(cat "$T/body")"
    influx_query vw 'SELECT count(*) FROM vibration' | check "
v = d['results'][0]['series'][0]
got = dict(zip(v['columns'], v['values'][0]))
assert got == {'time': 0, 'count_accel_rms_g': 3, 'count_kurtosis': 3, 'count_alarms': 3, 'count_state': 1}, got
" 2>"$T/chk" && ok "influx: SELECT count(*) FROM vibration: count_<field> per field (3, 3, 3 and 1 string)" \
        || bad "influx: count(*): $(tail -1 "$T/chk")"
    influx_query vw 'SELECT accel_rms_g, kurtosis, alarms, state, asset, sensor FROM vibration' | check "
v = d['results'][0]['series'][0]
assert v['columns'] == ['time', 'accel_rms_g', 'kurtosis', 'alarms', 'state', 'asset', 'sensor'], v['columns']
want = [[1700000000123456789, 0.125, 3.5, 2, 'ok', 'pump 1', 'de'],
        [1700000001000000001, 0.25, 4, 0, None, 'pump 1', 'de'],
        [1700000002999999999, 0.5, 4.5, 1, None, 'pump 1', 'de']]
assert v['values'] == want, v['values']
" 2>"$T/chk" && ok "influx: the 3 points read back exactly, nanosecond timestamps intact ($TS_NS)" \
        || bad "influx: read back: $(tail -1 "$T/chk")"
    c=$(code POST "$INFLUX_URL/api/v2/write?org=o&bucket=vw&precision=ns" -H 'Authorization: Token t' --data-binary "$LP")
    [ "$c" = 404 ] && ok "influx 1.6 has no /api/v2/write (404)" || bad "influx: /api/v2/write answered $c"
    influx_stop
else
    bad "influxd did not start: $(tail -5 "$T/influx.err" | tr '\n' ' ')"
fi

# ---- VictoriaMetrics: /write and /api/v2/write ---------------------------------------------------
t0=$(now)
if vm_start "$T/vm" 2>"$T/vm.err"; then
    ok "victoria-metrics answers /health on 127.0.0.1:$VM_PORT after $(secs "$t0" "$(now)") s ($(ps -o rss= -p "$VM_PID" | tr -d ' ') KiB)"
    c1=$(code POST "$VM_URL/write?db=vw&precision=ns" --data-binary "$LP")
    c2=$(code POST "$VM_URL/api/v2/write?org=vibewatch&bucket=vw&precision=ns" -H 'Authorization: Token not-checked' --data-binary "$LP")
    [ "$c1" = 204 ] && [ "$c2" = 204 ] && ok "vm: POST /write?db=vw and /api/v2/write?org=&bucket= with a Token header (no auth configured): 204, 204" \
        || bad "vm: writes answered $c1, $c2"
    vm_flush || bad "vm: /internal/force_flush failed"
    vm_export '{__name__=~"vibration_.*"}' >"$T/export"
    check "
want_ts = [1700000000123, 1700000001000, 1700000002999]
want = {'accel_rms_g': [0.125, 0.25, 0.5], 'kurtosis': [3.5, 4, 4.5], 'alarms': [2, 0, 1]}
seen = {}
for s in L:
    m = dict(s['metric']); name = m.pop('__name__')
    key = (name, m.get('db', ''))
    assert key not in seen, ('twice', key)
    seen[key] = s
    field = name[len('vibration_'):]
    assert m.get('asset') == 'pump 1' and m.get('sensor') == 'de', m
    if field == 'state':
        assert s['values'] == [0] and s['timestamps'] == want_ts[:1], ('string field', s)
        continue
    assert s['values'] == want[field] and s['timestamps'] == want_ts, s
names = sorted(seen)
assert names == sorted([('vibration_' + f, db) for f in list(want) + ['state'] for db in ('vw', '')]), names
" <"$T/export" 2>"$T/chk" \
        && ok "vm: both endpoints stored vibration_<field> series with the exact values at ms times ($TS_MS: ns truncated); /write?db= adds label db=\"vw\", bucket/org add nothing; a string field becomes value 0" \
        || bad "vm: export: $(tail -1 "$T/chk") — export: $(head -c 600 "$T/export")"
    vm_stop
else
    bad "victoria-metrics did not start: $(tail -5 "$T/vm.err" | tr '\n' ' ')"
fi

# ---- VictoriaMetrics with -httpAuth.*: Basic only --------------------------------------------------
if vm_start "$T/vma" -httpAuth.username=vw -httpAuth.password=s3cret 2>"$T/vma.err"; then
    ct=$(code POST "$VM_URL/api/v2/write?bucket=vw&precision=ns" -H 'Authorization: Token s3cret' --data-binary "$LP")
    cb=$(code POST "$VM_URL/api/v2/write?bucket=vw&precision=ns" -u vw:s3cret --data-binary "$LP")
    VM_CURL_AUTH="-u vw:s3cret"
    vm_flush
    n=$(vm_export 'vibration_accel_rms_g' | grep -c '"values":\[0.125,0.25,0.5\]')
    VM_CURL_AUTH=""
    [ "$ct" = 401 ] && [ "$cb" = 204 ] && [ "$n" = 1 ] \
        && ok "vm -httpAuth.username/password: a Token header is refused (401), Basic auth writes (204)" \
        || bad "vm auth: Token → $ct (want 401), Basic → $cb (want 204), series read back: $n"
    vm_stop
else
    bad "victoria-metrics with -httpAuth did not start: $(tail -5 "$T/vma.err" | tr '\n' ' ')"
fi

# ---- TLS: a CA of our own, VictoriaMetrics -tls, influxd https-enabled with auth --------------------
if tls_make_ca "$T/tls" >/dev/null 2>"$T/tls.err"; then
    if vm_start_tls "$T/vmt" "$TLS_CERT" "$TLS_KEY" 2>"$T/vmt.err"; then
        c=$(code POST "$VM_URL/write?precision=ns" --cacert "$TLS_CA" --data-binary "$LP")
        cn=$(code POST "$VM_URL/write?precision=ns" --data-binary "$LP")
        vm_flush
        n=$(vm_export 'vibration_kurtosis' | grep -c '"values":\[3.5,4,4.5\]')
        [ "$c" = 204 ] && [ "$cn" = 000 ] && [ "$n" = 1 ] \
            && ok "vm -tls: https://127.0.0.1:$VM_PORT verified against the test CA (IP SAN), refused without it" \
            || bad "vm tls: with CA → $c, without → $cn (want 000), read back $n"
        vm_stop
    else
        bad "victoria-metrics -tls did not start: $(tail -5 "$T/vmt.err" | tr '\n' ' ')"
    fi
    if influx_start_tls "$T/influxt" "$TLS_CERT" "$TLS_KEY" auth 2>"$T/it.err"; then
        influx_create_db vw 2>>"$T/it.err"
        cu=$(code POST "$INFLUX_URL/write?db=vw&precision=ns" --cacert "$TLS_CA" --data-binary "$LP")
        c=$(code POST "$INFLUX_URL/write?db=vw&precision=ns" --cacert "$TLS_CA" -u "$INFLUX_USER:$INFLUX_PASSWORD" --data-binary "$LP")
        influx_query vw 'SELECT count(accel_rms_g) FROM vibration' | check "
assert d['results'][0]['series'][0]['values'] == [[0, 3]], d" 2>"$T/chk"; q=$?
        [ "$cu" = 401 ] && [ "$c" = 204 ] && [ $q -eq 0 ] \
            && ok "influx https-enabled + auth-enabled: no credentials 401, Basic auth 204 over TLS, 3 points counted" \
            || bad "influx tls+auth: without credentials → $cu (want 401), with → $c, query: $(tail -1 "$T/chk")"
        influx_stop
    else
        bad "influxd with TLS and auth did not start: $(tail -5 "$T/it.err" | tr '\n' ' ')"
    fi
else
    bad "tls_make_ca: $(cat "$T/tls.err")"
fi
