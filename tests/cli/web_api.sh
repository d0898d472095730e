#!/bin/sh
# tests/cli/web_api.sh — the box's HTTP API (web/API.md) from the outside, against `vibewatch run`
# on free loopback ports. The checks themselves are tests/tools/api_check.py (/usr/bin/python3,
# standard library only); this script makes the history, the configurations, the users and tokens
# (`vibewatch passwd`, `vibewatch token`), a CA and a certificate, and starts and stops the servers:
#
#   1. a replay of a pump's first 7 days (outer race from day 2) writes a history with alerts;
#      `run` then continues on it (loopback, 3 users, 2 tokens, secrets in the alerts section, a
#      dashboard folder of our own): every endpoint's shape, truths against history.sqlite3,
#      sessions, roles, CSRF, Origin, tokens, bad inputs, SSE, /metrics, throttling;
#   2. the listening rule: beyond loopback without users `run` refuses to start (naming users and
#      web.anonymous), as it does anonymous operators; with "anonymous": "viewer" it starts and
#      refuses writes;
#   3. loopback without users: anonymous operator, CSRF still required;
#   4. HTTPS with a certificate of a CA made here: HSTS, the cookie's Secure.
# Each server is stopped by its pid (SIGTERM, then SIGKILL after 10 s), also on any exit.
set -u
: "${VW_BIN:?}" "${VW_TEST_TMP:?}"
top=$(cd "$(dirname "$0")/../.." && pwd)
T="$VW_TEST_TMP/web_api"
rm -rf "$T"
mkdir -p "$T"
PY=/usr/bin/python3
CHECK="$top/tests/tools/api_check.py"
name=web_api
ok() { echo "ok - $name: $1"; }
bad() { echo "not ok - $name: $1"; }
[ -x "$PY" ] || { bad "/usr/bin/python3 is missing (make deps)"; exit 0; }
RUNPID=""
cleanup() { [ -n "$RUNPID" ] && kill -9 "$RUNPID" 2>/dev/null; }
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM
t_start=$(date +%s)

free_port() { $PY -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }
# gone PID — the process has exited (a zombie child still answers kill -0)
gone() {
    kill -0 "$1" 2>/dev/null || return 0
    case "$(ps -o stat= -p "$1" 2>/dev/null)" in Z*|"") return 0 ;; esac
    return 1
}
# up URL [CAFILE] — until the server answers anything over HTTP(S), up to 30 s, while RUNPID lives
up() {
    _i=0
    while [ $_i -lt 150 ]; do
        gone "$RUNPID" && return 1
        $PY - "$1" "${2:-}" <<'EOF' 2>/dev/null && return 0
import ssl, sys, urllib.request, urllib.error
ctx = ssl.create_default_context(cafile=sys.argv[2]) if sys.argv[2] else None
try:
    urllib.request.urlopen(sys.argv[1], timeout=2, context=ctx)
except urllib.error.HTTPError:
    pass
EOF
        sleep 0.2
        _i=$((_i + 1))
    done
    return 1
}
# stop — SIGTERM to RUNPID, up to 10 s, then SIGKILL; sets STOP_RC and STOP_S
stop() {
    STOP_RC=""; STOP_S=""
    [ -n "$RUNPID" ] || return 0
    _t0=$(date +%s.%N)
    kill -TERM "$RUNPID" 2>/dev/null
    _i=0
    while ! gone "$RUNPID" && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
    gone "$RUNPID" || kill -9 "$RUNPID" 2>/dev/null
    wait "$RUNPID"
    STOP_RC=$?
    STOP_S=$($PY -c "import sys; print(round($(date +%s.%N) - $_t0, 1))")
    RUNPID=""
}

# ---- users, tokens, secrets ------------------------------------------------------------------------
if ! "$VW_BIN" passwd --help >/dev/null 2>&1 || ! "$VW_BIN" token --help >/dev/null 2>&1; then
    bad "vibewatch passwd / token: not there ($("$VW_BIN" passwd --help 2>&1 | head -1))"
    exit 0
fi
PW_ROOT="root-Pa55 wörd"; PW_ANA="ana-S3cret!"; PW_VIC="vic-p@ss"
m_root=$(printf '%s\n' "$PW_ROOT" | "$VW_BIN" passwd --role admin root 2>"$T/pw.err")
m_ana=$(printf '%s\n' "$PW_ANA" | "$VW_BIN" passwd --role operator ana 2>>"$T/pw.err")
m_vic=$(printf '%s\n' "$PW_VIC" | "$VW_BIN" passwd vic 2>>"$T/pw.err")
"$VW_BIN" token grafana >"$T/tok1" 2>>"$T/pw.err"
"$VW_BIN" token script --role operator >"$T/tok2" 2>>"$T/pw.err"
tok1=$(sed -n 's/^token: *//p' "$T/tok1"); tok2=$(sed -n 's/^token: *//p' "$T/tok2")
m_tok1=$(grep '^"grafana"' "$T/tok1"); m_tok2=$(grep '^"script"' "$T/tok2")
SMTP_PW="smtp-Pa55-9f3k"; HOOK_TOKEN="hook-T0ken-77aa"; HOOK_KEY="hdr-K3y-1234"
# the members as the commands printed them, their secrets for the config check, the passwords
$PY - "$T/creds.json" "$m_root" "$m_ana" "$m_vic" "$m_tok1" "$m_tok2" "$PW_ROOT" "$PW_ANA" "$PW_VIC" \
    "$tok1" "$tok2" "$SMTP_PW" "$HOOK_TOKEN" "$HOOK_KEY" <<'EOF' 2>"$T/creds.err"
import json, sys
out, mr, ma, mv, mt1, mt2, pr, pa, pv, t1, t2, smtp, hook, key = sys.argv[1:]
u = json.loads("{%s, %s, %s}" % (mr, ma, mv))
t = json.loads("{%s, %s}" % (mt1, mt2))
assert [u[n]["role"] for n in ("root", "ana", "vic")] == ["admin", "operator", "viewer"], u
assert u["ana"]["password_hash"].startswith(("$y$", "$6$")), u["ana"]
assert t["grafana"]["role"] == "viewer" and t["script"]["role"] == "operator", t
assert all(len(x["sha256"]) == 64 for x in t.values()), t
assert len(t1) >= 32 and len(t2) >= 32 and t1 != t2, (t1, t2)
import hashlib
assert hashlib.sha256(t1.encode()).hexdigest() == t["grafana"]["sha256"], "sha256 of the token"
secrets = [x["password_hash"] for x in u.values()] + [x["sha256"] for x in t.values()] + [smtp, hook, key]
json.dump({"users": {"root": [pr, "admin"], "ana": [pa, "operator"], "vic": [pv, "viewer"]},
           "tokens": {"grafana": [t1, "viewer"], "script": [t2, "operator"]}, "secrets": secrets,
           "members": {"users": "%s, %s, %s" % (mr, ma, mv), "tokens": "%s, %s" % (mt1, mt2)}}, open(out, "w"))
EOF
if [ -s "$T/creds.json" ]; then
    ok "vibewatch passwd prints a user's member (yescrypt or sha512-crypt, the role asked), vibewatch token a token and the member with its SHA-256"
else
    bad "vibewatch passwd / token output: $(tail -2 "$T/creds.err") $(cat "$T/pw.err")"
    exit 0
fi
USERS=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['members']['users'])" "$T/creds.json")
TOKENS=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['members']['tokens'])" "$T/creds.json")

# a dashboard folder of our own, and a file beside it that must never be served
mkdir -p "$T/dash"
printf '<!doctype html><title>vibewatch test dashboard</title>\n' >"$T/dash/index.html"
printf 'console.log("vibewatch test");\n' >"$T/dash/app.js"
printf 'TOP SECRET\n' >"$T/secret.txt"

# config FILE LISTEN SOURCE DATA_DIR WEB_EXTRA TOP_EXTRA — the embedded default's pump
config() {
    cat >"$1" <<CFG
{"box": {"id": "webtest", "name": "Web API test"}, "data_dir": "$4",
 "schedule": {"snapshot_s": 1, "interval_s": 600},
 "models": {"baseline": {"snapshots": 5}},
 "web": {"listen": "$2"$5},
 "assets": [{"id": "p101", "name": "Cooling water pump 1", "type": "pump", "iso": {"group": 2, "foundation": "rigid"},
   "speed": {"rpm": 2970}, "bearings": [{"id": "de", "name": "Timken 6309"}],
   "sensors": [{"id": "p101-de", "name": "Pump drive end", "source": "$3", "channels": [0], "axes": ["radial"],
     "units": "g", "mounting": "drive-end bearing housing, radial horizontal", "bearing": "de"}]}]$6}
CFG
}
# data time: the replay covers [T0, T0 + 7 d); live servers continue after it, each from its own t0
T0=1704067200   # 2024-01-01T00:00:00Z
T1=$((T0 + 7 * 86400))
REPLAY="sim:pump?fault=outer_race&onset_days=2&failure_days=8&end_days=7&speedup=4320&frame=25600&rate=25600&seed=5&t0=2024-01-01T00:00:00Z"
LIVE="sim:pump?fault=outer_race&onset_days=2&failure_days=8&start_days=7&speedup=600&frame=25600&rate=25600&seed=6&realtime=1&t0=2024-01-08T00:00:00Z"
live_later() { echo "sim:pump?fault=none&speedup=600&frame=25600&rate=25600&seed=$1&realtime=1&t0=2024-01-1$1T00:00:00Z"; }

# ---- 1. the history, then the main server -----------------------------------------------------------
config "$T/replay.json" "" "$REPLAY" "$T/data" "" ""
"$VW_BIN" replay "$REPLAY" -c "$T/replay.json" --flush-timeout 0 >"$T/replay.out" 2>"$T/replay.err"
rows=$($PY -c "import sqlite3,sys; c=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro',uri=True); print(c.execute('select count(*) from trend').fetchone()[0], c.execute('select count(*) from alert').fetchone()[0])" "$T/data/history.sqlite3" 2>/dev/null)
set -- $rows
if [ "${1:-0}" -lt 100 ] || [ "${2:-0}" -lt 1 ]; then
    bad "the replay made ${1:-no} trend rows and ${2:-no} alerts (want ≥ 100 and ≥ 1): $(tail -2 "$T/replay.err")"
    exit 0
fi

port=$(free_port)
ALERTS=", \"alerts\": {\"destinations\": [
  {\"name\": \"mail\", \"type\": \"email\", \"url\": \"smtp://127.0.0.1:9\", \"tls\": \"required\", \"user\": \"vw\",
   \"password\": \"$SMTP_PW\", \"from\": \"vw@plant.example\", \"to\": [\"maint@plant.example\"]},
  {\"name\": \"sms\", \"type\": \"webhook\", \"url\": \"http://127.0.0.1:9/hook\", \"token\": \"$HOOK_TOKEN\",
   \"headers\": {\"X-Api-Key\": \"$HOOK_KEY\"}}]}"
config "$T/main.json" "127.0.0.1:$port" "$LIVE" "$T/data" \
    ", \"session_hours\": 2, \"dashboard_dir\": \"$T/dash\", \"tokens\": {$TOKENS}" ", \"users\": {$USERS}$ALERTS"
"$VW_BIN" run -c "$T/main.json" >"$T/main.log" 2>&1 &
RUNPID=$!
if up "http://127.0.0.1:$port/api/v1/session"; then
    $PY "$CHECK" main --base "http://127.0.0.1:$port" --data "$T/data" --creds "$T/creds.json" --t0 $T0 --t1 $T1 \
        2>"$T/check-main.err"
    [ -s "$T/check-main.err" ] && bad "api_check.py main: $(tail -3 "$T/check-main.err")"
    if gone "$RUNPID"; then
        bad "the server died during the checks: $(tail -5 "$T/main.log")"
        RUNPID=""
    fi
    stop
    [ "$STOP_RC" = 0 ] && ok "the main server: SIGTERM → exit 0 in $STOP_S s" || bad "the main server: SIGTERM → exit $STOP_RC in $STOP_S s: $(tail -3 "$T/main.log")"
else
    bad "run with users: the API never answered on 127.0.0.1:$port: $(tail -5 "$T/main.log")"
    stop
fi
if grep -q -e "$SMTP_PW" -e "$HOOK_TOKEN" -e "$HOOK_KEY" -e "$PW_ANA" "$T/main.log"; then
    bad "a secret appears in the server's log"
else
    ok "no secret (passwords, tokens, header values) in the server's log"
fi

# ---- 2. the listening rule ---------------------------------------------------------------------------
# refused CONFIG WHAT WANT... — run must exit non-zero within 15 s, its message naming each WANT
refused() {
    _cfg=$1; _what=$2; shift 2
    "$VW_BIN" run -c "$_cfg" >"$T/refused.log" 2>&1 &
    RUNPID=$!
    _i=0
    while ! gone "$RUNPID" && [ $_i -lt 150 ]; do sleep 0.1; _i=$((_i + 1)); done
    if ! gone "$RUNPID"; then
        bad "$_what: still running after 15 s"
        stop
        return
    fi
    wait "$RUNPID"; _rc=$?; RUNPID=""
    for _w in "$@"; do
        grep -q -- "$_w" "$T/refused.log" || { bad "$_what: exit $_rc, the message does not name \"$_w\": $(head -3 "$T/refused.log")"; return; }
    done
    [ $_rc -ne 0 ] && ok "$_what: refused (exit $_rc in $((_i / 10)).$((_i % 10)) s), naming $*" || bad "$_what: exit 0"
}
port=$(free_port)
config "$T/open.json" "0.0.0.0:$port" "$(live_later 1)" "$T/data-open" "" ""
refused "$T/open.json" "run on 0.0.0.0 without users" "users" "anonymous"
"$VW_BIN" check-config "$T/open.json" >"$T/cc.out" 2>&1; rc=$?
[ $rc -eq 2 ] && grep -q "web.listen\|web.anonymous\|users" "$T/cc.out" && ok "check-config refuses it too (exit 2)" || bad "check-config on 0.0.0.0 without users: exit $rc: $(cat "$T/cc.out")"
config "$T/open-op.json" "0.0.0.0:$port" "$(live_later 1)" "$T/data-open" ", \"anonymous\": \"operator\"" ""
refused "$T/open-op.json" "run on 0.0.0.0 with anonymous operators" "web.anonymous"
[ -e "$T/data-open" ] && bad "a refused run created its data folder" || ok "a refused run touched nothing (no data folder)"

config "$T/open-view.json" "0.0.0.0:$port" "$(live_later 1)" "$T/data" ", \"anonymous\": \"viewer\"" ""
"$VW_BIN" run -c "$T/open-view.json" >"$T/open-view.log" 2>&1 &
RUNPID=$!
if up "http://127.0.0.1:$port/api/v1/session"; then
    ok "run on 0.0.0.0 with \"anonymous\": \"viewer\" and no users: starts"
    $PY "$CHECK" anon --role viewer --base "http://127.0.0.1:$port" 2>"$T/check-view.err"
    [ -s "$T/check-view.err" ] && bad "api_check.py anon viewer: $(tail -3 "$T/check-view.err")"
else
    bad "run on 0.0.0.0 with anonymous viewer: no answer: $(tail -5 "$T/open-view.log")"
fi
stop

# ---- 3. loopback without users: anonymous operator ------------------------------------------------------
port=$(free_port)
config "$T/local.json" "127.0.0.1:$port" "$(live_later 2)" "$T/data" "" ""
"$VW_BIN" run -c "$T/local.json" >"$T/local.log" 2>&1 &
RUNPID=$!
if up "http://127.0.0.1:$port/api/v1/session"; then
    $PY "$CHECK" anon --role operator --base "http://127.0.0.1:$port" 2>"$T/check-local.err"
    [ -s "$T/check-local.err" ] && bad "api_check.py anon operator: $(tail -3 "$T/check-local.err")"
else
    bad "run on loopback without users: no answer: $(tail -5 "$T/local.log")"
fi
stop

# ---- 4. HTTPS --------------------------------------------------------------------------------------------
VW_TOP=$top
. "$top/tests/servers.sh"
if command -v openssl >/dev/null 2>&1 && tls_make_ca "$T/tls" >/dev/null; then
    port=$(free_port)
    config "$T/tls.json" "127.0.0.1:$port" "$(live_later 3)" "$T/data" \
        ", \"tls\": {\"cert\": \"$TLS_CERT\", \"key\": \"$TLS_KEY\"}, \"tokens\": {$TOKENS}" ", \"users\": {$USERS}"
    "$VW_BIN" run -c "$T/tls.json" >"$T/tls.log" 2>&1 &
    RUNPID=$!
    if up "https://127.0.0.1:$port/api/v1/session" "$TLS_CA"; then
        $PY "$CHECK" tls --base "https://127.0.0.1:$port" --ca "$TLS_CA" --creds "$T/creds.json" 2>"$T/check-tls.err"
        [ -s "$T/check-tls.err" ] && bad "api_check.py tls: $(tail -3 "$T/check-tls.err")"
    else
        bad "run with web.tls: no answer over HTTPS: $(tail -5 "$T/tls.log")"
    fi
    stop
    # a key that does not belong to the certificate: refused at start, saying so
    openssl ecparam -name prime256v1 -genkey -noout -out "$T/tls/other.key" 2>/dev/null
    config "$T/tls-bad.json" "127.0.0.1:$port" "$(live_later 4)" "$T/data" \
        ", \"tls\": {\"cert\": \"$TLS_CERT\", \"key\": \"$T/tls/other.key\"}" ""
    refused "$T/tls-bad.json" "run with a TLS key that does not match the certificate" "web.tls"
else
    bad "openssl could not make a CA and a certificate (make deps)"
fi
# ---- 5. how often an asset's snapshots are due, and when it is stale ------------------------------------
# The dashboard marks an asset stale by the API's stale_after_s: the acquisition watchdog's rule
# (alerts.delivery.stopped_after, by default 3 × interval + 60 s), not a fixed 300 s that a box
# with the default 600 s interval would pass in every interval.
# interval_check CONFIG_TOP_EXTRA WANT_INTERVAL WANT_STALE WHAT
interval_check() {
    port=$(free_port)
    config "$T/interval.json" "127.0.0.1:$port" "$(live_later 5)" "$T/data-interval" "" "$1"
    "$VW_BIN" run -c "$T/interval.json" >"$T/interval.log" 2>&1 &
    RUNPID=$!
    if up "http://127.0.0.1:$port/api/v1/session"; then
        _got=$($PY - "http://127.0.0.1:$port/api/v1/assets" "http://127.0.0.1:$port/api/v1/assets/p101" <<'PYEOF' 2>&1
import json, sys, urllib.request
many = json.load(urllib.request.urlopen(sys.argv[1], timeout=5))["assets"][0]
one = json.load(urllib.request.urlopen(sys.argv[2], timeout=5))
print(many.get("interval_s"), many.get("stale_after_s"), one.get("interval_s"), one.get("stale_after_s"))
PYEOF
)
        [ "$_got" = "$2 $3 $2 $3" ] && ok "$4: assets (and the asset) give interval_s $2, stale_after_s $3" \
            || bad "$4: interval_s, stale_after_s of /assets and /assets/p101: $_got (want $2 $3 twice)"
    else
        bad "$4: no answer: $(tail -5 "$T/interval.log")"
    fi
    stop
}
interval_check "" 600 1860 "the default watchdog (one snapshot every 600 s)"
interval_check ", \"alerts\": {\"delivery\": {\"stopped_after\": \"45m\"}}" 600 2700 "alerts.delivery.stopped_after 45m"
interval_check ", \"alerts\": {\"delivery\": {\"stopped_after\": \"never\"}}" 600 1860 "the watchdog off (never): stale still by the default rule"

echo "# web_api: $(($(date +%s) - t_start)) s" >&2
