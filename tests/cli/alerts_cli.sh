#!/bin/sh
# tests/cli/alerts_cli.sh — alerts from the outside, against real servers started here on loopback
# ports (tests/alert_servers.sh): Debian's python3-aiosmtpd as the mail server (plain, STARTTLS with
# a login) and a webhook receiver (Python's http.server).
#
#   - configuration mistakes in the alerts section are refused with their JSON path;
#   - `vibewatch alert-test` delivers a proper MIME message (checked by Python's e-mail parser) in
#     the clear and over STARTTLS with a login, says what a server answered to a wrong password, and
#     renders the two SMS examples of deploy/alerts/ (form body with basic auth, JSON with a bearer
#     token and a header) exactly;
#   - a pump replayed to failure while the mail server is down: the messages wait in the outbox (the
#     replay says so and exits 1), and the same replay run again once the server is up delivers each
#     of them exactly once (no new alerts, unique Message-IDs, threaded under the first);
#   - a storm of six failing pumps against a destination limited to 2 messages an hour: no hour of
#     data time gets more than 2 messages (but for the last digest, which the end of a replay sends
#     at once), and every alert is either sent or folded into a digest that lists it;
#   - a live box: an acknowledgement stops the reminders, and a sensor that stops delivering raises
#     "acquisition stopped".
set -u
: "${VW_BIN:?}" "${VW_TEST_TMP:?}"
top=$(cd "$(dirname "$0")/../.." && pwd)
T="$VW_TEST_TMP/alerts_cli"
rm -rf "$T"
mkdir -p "$T"
PY=/usr/bin/python3
name=alerts_cli
ok() { echo "ok - $name: $1"; }
bad() { echo "not ok - $name: $1"; }
VW_TOP=$top
. "$top/tests/alert_servers.sh"
if ! alert_servers_have; then
    bad "python3-aiosmtpd or openssl missing (make deps)"
    exit 0
fi
RUNPID=""
cleanup() { alert_servers_stop_all; [ -n "$RUNPID" ] && kill -9 "$RUNPID" 2>/dev/null; }
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM

# the pump of the streaming test: a snapshot every 6 h of its life, fault from day 3, failed on day 9
SIM="sim:pump?fault=outer_race&onset_days=3&failure_days=9&end_days=10&speedup=21600&frame=25600&rate=25600&seed=5&t0=2024-01-01T00:00:00Z"

# config FILE DATA_DIR ALERTS_JSON [NASSETS [SOURCE]] — NASSETS pumps, each its own sensor
config() {
    _n=${4:-1}
    _src=${5:-$SIM}
    _assets=""
    _i=1
    while [ "$_i" -le "$_n" ]; do
        [ -n "$_assets" ] && _assets="$_assets,"
        _s=$(echo "$_src" | sed "s/seed=[0-9]*/seed=$((10 + _i))/")   # a source is opened once: one each
        _assets="$_assets{\"id\": \"p$_i\", \"name\": \"泵站 $_i 号主泵\", \"type\": \"pump\", \"speed\": {\"rpm\": 2970},
          \"bearings\": [{\"id\": \"de\", \"name\": \"Timken 6309\"}],
          \"sensors\": [{\"id\": \"s$_i\", \"name\": \"DE\", \"source\": \"$_s\", \"bearing\": \"de\", \"axes\": [\"radial\"]}]}"
        _i=$((_i + 1))
    done
    cat >"$1" <<CFG
{"box": {"id": "hall.3", "name": "Pumpenhaus 泵站"}, "data_dir": "$2", "web": {"listen": ""},
 "schedule": {"snapshot_s": 1, "interval_s": 60, "continuous": true},
 "models": {"baseline": {"snapshots": 5}},
 "assets": [$_assets],
 "alerts": $3}
CFG
}

# ---- A: configuration mistakes ------------------------------------------------------------------
n_bad=0
check_refused() { # ALERTS_JSON WANT...
    _a=$1; shift
    config "$T/bad.json" "$T/bad" "$_a"
    _out=$("$VW_BIN" check-config "$T/bad.json" 2>&1)
    _rc=$?
    for _w in "$@"; do
        case "$_out" in *"$_w"*) ;; *) bad "config refused: wanted \"$_w\" in: $_out (exit $_rc)"; n_bad=$((n_bad + 1)); return ;; esac
    done
    [ $_rc -eq 2 ] || { bad "config refused: exit $_rc for $_a"; n_bad=$((n_bad + 1)); }
}
check_refused '{"destinations": [{"name": "s", "type": "webhook", "url": "http://127.0.0.1:9/", "body": "x={{txet}}"}]}' \
    "alerts.destinations[0].body" "txet"
check_refused '{"destinations": [{"name": "m", "type": "email", "url": "http://mail:25", "from": "a@b.c", "to": ["d@e.f"]}]}' \
    "alerts.destinations[0].url" "smtp://"
check_refused '{"destinations": [{"name": "m", "type": "email", "url": "smtp://mail", "tls": "try", "user": "u", "password": "p", "from": "a@b.c", "to": ["d@e.f"]}]}' \
    "alerts.destinations[0].tls" "in the clear"
check_refused '{"destinations": [{"name": "m", "type": "email", "url": "smtp://mail", "from": "a@b.c", "to": ["not an address"]}]}' \
    "alerts.destinations[0].to[0]"
check_refused '{"maintenance_windows": [{"asset": "p9", "from": "2024-01-01", "to": "2024-01-02"}]}' \
    "alerts.maintenance_windows[0].asset" "p9"
check_refused '{"rules": {"debounce_k": 4, "debounce_n": 3}}' "alerts.rules.debounce_k"
check_refused '{"rules": {"repeat_alarm": "4 hours"}}' "alerts.rules.repeat_alarm"
check_refused '{"assets": {"p1": {"temp_warning_c": 90, "temp_alarm_c": 80}}}' "alerts.assets.p1.temp_alarm_c"
check_refused '{"destinations": [{"name": "s", "type": "webhook", "url": "http://h/", "headers": {"Authorization": "x"}}]}' \
    "alerts.destinations[0].headers.Authorization"
[ $n_bad -eq 0 ] && ok "9 mistakes in the alerts section are refused, each naming its JSON path"

# secrets: a mistake in a password, token or header value is named, its value never shown
n_leak=0
for k in '"password": "hunter2SECRET\n", "user": "u"' '"token": "tok3nSECRET\u0007"' '"headers": {"X-Api-Key": "k3ySECRET\r\n"}'; do
    config "$T/sec.json" "$T/sec" "{\"destinations\": [{\"name\": \"s\", \"type\": \"webhook\", \"url\": \"http://127.0.0.1:9/\", $k}]}"
    out=$("$VW_BIN" check-config "$T/sec.json" 2>&1)
    case "$out" in
    *SECRET*) bad "a secret shown in: $out"; n_leak=$((n_leak + 1)) ;;
    *"control characters"*"not shown"*) ;;
    *) bad "a bad secret not refused as such: $out"; n_leak=$((n_leak + 1)) ;;
    esac
done
[ $n_leak -eq 0 ] && ok "a control character in a password, a token or a header value is refused without showing the value"
# `vibewatch alerts` on a data folder without a history creates nothing (the box must still start there)
mkdir -p "$T/empty"
config "$T/min.json" "$T/min" '{}'
out=$("$VW_BIN" alerts --data-dir "$T/empty" -c "$T/min.json" 2>&1)
if [ -z "$(ls -A "$T/empty")" ] && case "$out" in "no alerts: "*) true ;; *) false ;; esac; then
    ok "vibewatch alerts on a data folder without a history says so and creates nothing"
else
    bad "vibewatch alerts on an empty folder: $out; left: $(ls -A "$T/empty")"
fi

# ---- B: alert-test ------------------------------------------------------------------------------
smtp_start "$T/plain" || { bad "the SMTP sink did not start"; exit 0; }
config "$T/b1.json" "$T/b1" "{\"destinations\": [{\"name\": \"mail\", \"type\": \"email\", \"url\": \"$SMTP_URL\",
    \"tls\": \"none\", \"from\": \"vibewatch <vw@plant.example>\", \"to\": [\"maint@plant.example\", \"Li Wei <li@plant.example>\"]}]}"
out=$("$VW_BIN" alert-test -c "$T/b1.json" 2>&1)
rc=$?
eml=$(ls "$SMTP_MAILDIR"/*.eml 2>/dev/null | head -1)
if [ $rc -ne 0 ] || [ -z "$eml" ]; then
    bad "alert-test over plain SMTP: exit $rc, $(ls "$SMTP_MAILDIR" | wc -l) files: $out"
else
    $PY - "$eml" "${eml%.eml}.json" "$top/tests/tools/check_mail.py" <<'EOF' >"$T/b1.check" 2>&1
import json, subprocess, sys
s = json.loads(subprocess.run(["/usr/bin/python3", sys.argv[3], sys.argv[1]], capture_output=True, check=True).stdout)
env = json.load(open(sys.argv[2]))
want = "[vibewatch] Test notification from Pumpenhaus 泵站"
problems = []
if s["subject"] != want: problems.append("subject %r" % s["subject"])
if s["content_type"] != "multipart/alternative": problems.append("content type " + s["content_type"])
if [p["content_type"] for p in s["parts"]] != ["text/plain", "text/html"]: problems.append("parts %r" % s["parts"])
if s["defects"]: problems.append("defects %r" % s["defects"])
if sorted(a["addr"] for a in s["to"]) != ["li@plant.example", "maint@plant.example"]: problems.append("to %r" % s["to"])
if sorted(env["rcpt_tos"]) != ["li@plant.example", "maint@plant.example"]: problems.append("envelope %r" % env)
if not s["message_id"].startswith("<vw.hall-3.test."): problems.append("message-id " + s["message_id"])
if "Pumpenhaus 泵站" not in s["text"] or "mail" not in s["text"]: problems.append("text")
print("; ".join(problems) or "fine")
EOF
    if [ "$(cat "$T/b1.check")" = fine ]; then
        case "$out" in *"250"*) ok "alert-test over plain SMTP: a valid MIME message (multipart/alternative, RFC 2047 subject with Chinese intact, 2 recipients), the server's 250 shown" ;;
                       *) bad "alert-test did not show the server's answer: $out" ;; esac
    else
        bad "alert-test over plain SMTP: $(cat "$T/b1.check")"
    fi
fi
smtp_stop

tls_make_ca "$T/tls" >/dev/null 2>&1 || { bad "cannot make a test CA"; exit 0; }
smtp_start "$T/tls-smtp" --starttls "$TLS_CERT" "$TLS_KEY" --require-tls --auth "vw:s3cret pass" || { bad "the STARTTLS sink did not start"; exit 0; }
for pw in "s3cret pass" "wrong"; do
    config "$T/b2.json" "$T/b2" "{\"delivery\": {\"retry_min\": \"1s\", \"retry_max\": \"1s\"},
        \"destinations\": [{\"name\": \"mail\", \"type\": \"email\", \"url\": \"$SMTP_URL\",
        \"tls\": \"required\", \"ca_file\": \"$TLS_CA\", \"user\": \"vw\", \"password\": \"$pw\",
        \"from\": \"vw@plant.example\", \"to\": [\"maint@plant.example\"]}]}"
    out=$("$VW_BIN" alert-test -c "$T/b2.json" 2>&1)
    rc=$?
    if [ "$pw" = wrong ]; then
        case "$out" in
        *535*"would retry"*) [ $rc -eq 1 ] && ok "alert-test with a wrong password: exit 1, the server's 535 shown, and that a box would retry" ||
                                 bad "wrong password: exit $rc" ;;
        *) bad "wrong password: $out (exit $rc)" ;;
        esac
        case "$out" in *"$pw"*) bad "the password appears in the output: $out" ;; esac
        # the box itself: the refused login is recorded with each message, and retried
        "$VW_BIN" replay "$SIM" -c "$T/b2.json" --flush-timeout 3 >"$T/b2.out" 2>"$T/b2.err"
        rc=$?
        "$VW_BIN" alerts --data-dir "$T/b2" -c "$T/b2.json" --json >"$T/b2.alerts" 2>&1
        n_all=$(grep -c "\"deliveries\":\"mail" "$T/b2.alerts")   # watch is below this destination's min_level
        # the server is asked once per backoff (the oldest message); the others wait with its error
        n_535=$(grep -cE '"deliveries":"mail: pending(, attempt [0-9]+)?: smtp://127.0.0.1:[0-9]+: authentication as \\"vw\\" refused: 535' "$T/b2.alerts")
        if [ $rc -eq 1 ] && [ "$n_all" -ge 2 ] && [ "$n_535" -eq "$n_all" ] && grep -q '"deliveries":"mail: pending, attempt [2-9]' "$T/b2.alerts"; then
            ok "a box with a wrong mail password: each message pending with \"authentication as \\\"vw\\\" refused: 535\", retried, the replay exits 1"
        else
            bad "wrong password in a box: exit $rc: $(head -c 400 "$T/b2.alerts")"
        fi
    else
        side=$(ls "$SMTP_MAILDIR"/*.json 2>/dev/null | head -1)
        if [ $rc -eq 0 ] && [ -n "$side" ] && $PY -c 'import json,sys; e=json.load(open(sys.argv[1])); sys.exit(0 if e["tls"] and e["auth_user"]=="vw" else 1)' "$side"; then
            ok "alert-test over STARTTLS (required, certificate checked against the CA) with a login: delivered"
        else
            bad "alert-test over STARTTLS with a login: exit $rc: $out"
        fi
    fi
done
smtp_stop

# the SMS examples of deploy/alerts/, pointed at the receiver
webhook_start "$T/hook" || { bad "the webhook receiver did not start"; exit 0; }
for ex in sms-form sms-json; do
    jq --arg u "$HOOK_URL/$ex" '.url = $u' "$top/deploy/alerts/$ex.json" >"$T/$ex.dest.json"
    config "$T/$ex.json" "$T/$ex" "{\"destinations\": [$(cat "$T/$ex.dest.json")]}"
    out=$("$VW_BIN" alert-test -c "$T/$ex.json" 2>&1) || bad "alert-test $ex: $out"
done
# a URL with credentials and a token in its query: alert-test shows neither
jq --arg u "http://gwuser:gwPASSWORD@127.0.0.1:$HOOK_PORT/sms-url?api_key=KEYSECRET" '.url = $u' \
    "$top/deploy/alerts/sms-json.json" >"$T/url.dest.json"
config "$T/url.json" "$T/url" "{\"destinations\": [$(cat "$T/url.dest.json")]}"
out=$("$VW_BIN" alert-test -c "$T/url.json" 2>&1)
case "$out" in
*PASSWORD*|*KEYSECRET*) bad "alert-test shows a URL's secrets: $out" ;;
*"delivered to http://127.0.0.1:$HOOK_PORT/sms-url?..."*) ok "alert-test shows a URL without its user, password and query" ;;
*) bad "alert-test with secrets in the URL: $out" ;;
esac
$PY - "$HOOK_LOG" <<'EOF' >"$T/hook.check" 2>&1
import base64, json, sys, urllib.parse
reqs = [json.loads(l) for l in open(sys.argv[1])]
problems = []
form = [r for r in reqs if r["path"] == "/sms-form"]
js = [r for r in reqs if r["path"] == "/sms-json"]
if len(form) != 1 or len(js) != 1:
    print("requests: %d form, %d json" % (len(form), len(js))); sys.exit()
f, j = form[0], js[0]
q = urllib.parse.parse_qs(f["body"], strict_parsing=True)
want_text = "vibewatch test from Pumpenhaus 泵站: alerts reach you here."
if q.get("To") != ["+4915112345678"] or q.get("From") != ["+4930123456789"] or q.get("Body") != [want_text]:
    problems.append("form body %r" % f["body"])
if f["headers"].get("Content-Type") != "application/x-www-form-urlencoded": problems.append("form content type")
auth = f["headers"].get("Authorization", "")
if not auth.startswith("Basic ") or base64.b64decode(auth[6:]).decode() != "AC00000000000000000000000000000000:the-account-auth-token":
    problems.append("basic auth %r" % auth)
b = json.loads(j["body"])
if b["message"] != want_text or b["to"] != ["+4915112345678", "+4915187654321"] or b["priority"] != "test" or not b["reference"].startswith("vw.hall-3.test."):
    problems.append("json body %r" % b)
if j["headers"].get("Authorization") != "Bearer the-gateway-api-token": problems.append("bearer %r" % j["headers"].get("Authorization"))
if j["headers"].get("X-Request-Source") != "vibewatch-hall.3": problems.append("header %r" % j["headers"].get("X-Request-Source"))
if j["headers"].get("Idempotency-Key") != b["reference"]: problems.append("idempotency key")
if j["method"] != "POST" or j["headers"].get("Content-Type") != "application/json": problems.append("json method/type")
print("; ".join(problems) or "fine")
EOF
[ "$(cat "$T/hook.check")" = fine ] &&
    ok "the SMS examples (deploy/alerts/): the form body with basic auth and the JSON body with a bearer token and a templated header arrive exactly as rendered" ||
    bad "SMS examples: $(cat "$T/hook.check")"
hooks_before=$(wc -l <"$HOOK_LOG")

# ---- C: the mail server down during the pump's failure, then back -------------------------------
PORT=$(srv_free_port)
ALERTS_C="{\"dashboard_url\": \"http://hall3.plant.example:8080\",
  \"delivery\": {\"retry_min\": \"1s\", \"retry_max\": \"2s\"},
  \"destinations\": [
    {\"name\": \"mail\", \"type\": \"email\", \"url\": \"smtp://127.0.0.1:$PORT\", \"tls\": \"none\",
     \"from\": \"vw@plant.example\", \"to\": [\"maint@plant.example\"], \"min_level\": \"watch\"},
    {\"name\": \"sms\", \"type\": \"webhook\", \"url\": \"$HOOK_URL/sms\", \"min_level\": \"alarm\"}]}"
config "$T/c.json" "$T/c" "$ALERTS_C"
"$VW_BIN" replay "$SIM" -c "$T/c.json" --flush-timeout 2 >"$T/c1.out" 2>"$T/c1.err"
rc=$?
"$VW_BIN" alerts --data-dir "$T/c" -c "$T/c.json" --json >"$T/c1.alerts" 2>&1
n1=$(wc -l <"$T/c1.alerts")
if [ $rc -eq 1 ] && grep -q "still undelivered" "$T/c1.err" && [ "$n1" -ge 2 ] &&
   grep -q '"deliveries":"mail: pending, attempt' "$T/c1.alerts"; then
    ok "mail server down: $n1 alerts decided, their mail waits in the outbox (pending, with the error), the replay says so and exits 1"
else
    bad "mail server down: exit $rc, $n1 alerts: $(tail -2 "$T/c1.err") $(head -c 400 "$T/c1.alerts")"
fi
smtp_start "$T/late" --port "$PORT" || { bad "the SMTP sink did not start on $PORT"; exit 0; }
"$VW_BIN" replay "$SIM" -c "$T/c.json" --flush-timeout 30 >"$T/c2.out" 2>"$T/c2.err"
rc=$?
"$VW_BIN" alerts --data-dir "$T/c" -c "$T/c.json" --json >"$T/c2.alerts" 2>&1
$PY - "$T/c2.alerts" "$SMTP_MAILDIR" "$HOOK_LOG" "$hooks_before" "$n1" "$top/tests/tools/check_mail.py" <<'EOF' >"$T/c.check" 2>&1
import glob, json, subprocess, sys
alerts = [json.loads(l) for l in open(sys.argv[1])][::-1]   # oldest first
mails = sorted(glob.glob(sys.argv[2] + "/*.eml"))
hooks = [json.loads(l) for l in open(sys.argv[3])][int(sys.argv[4]):]
problems = []
if len(alerts) != int(sys.argv[5]): problems.append("the second replay changed the alerts: %d → %d" % (int(sys.argv[5]), len(alerts)))
if not all("mail: sent" in a["deliveries"] for a in alerts): problems.append("not all mail sent: %r" % [a["deliveries"] for a in alerts])
if len(mails) != len(alerts): problems.append("%d mails for %d alerts" % (len(mails), len(alerts)))
parsed = [json.loads(subprocess.run(["/usr/bin/python3", sys.argv[6], m], capture_output=True, check=True).stdout) for m in mails]
by_alert = {int(p["alert"]): p for p in parsed}   # X-Vibewatch-Alert: the mail of each alert
parsed = [by_alert.get(a["id"]) for a in alerts]
if None in parsed: problems.append("alerts without their mail"); parsed = [p for p in parsed if p]
ids = [p["message_id"] for p in parsed]
if len(set(ids)) != len(ids): problems.append("repeated Message-IDs")
levels = [a["level"] for a in alerts]
if levels[0] != "watch" or "alarm" not in levels or levels.index("alarm") < 1:
    problems.append("levels in order %r" % levels)
alarm = next(p for p, a in zip(parsed, alerts) if a["level"] == "alarm")
order = [int(p["alert"]) for p in (json.loads(subprocess.run(["/usr/bin/python3", sys.argv[6], m], capture_output=True, check=True).stdout) for m in mails)]
if order != sorted(order): problems.append("after the outage the mails arrived out of order: %r" % order)
if "ALARM" not in alarm["subject"] or "outer race" not in alarm["subject"] or "泵站 1 号主泵" not in alarm["subject"]:
    problems.append("alarm subject %r" % alarm["subject"])
for want in ("BPFO", "RUL", "P(failure)", "http://hall3.plant.example:8080/#/assets/p1", "Last days", "DE / radial"):
    if want not in alarm["text"]: problems.append("%r missing from the alarm's text" % want)
if "BPFO" not in alarm["html"]: problems.append("BPFO missing from the HTML")
if alarm.get("in_reply_to") != parsed[0]["message_id"]: problems.append("the alarm is not threaded under the first mail")
if any(p["defects"] for p in parsed): problems.append("MIME defects")
ev = next(a for a in alerts if a["level"] == "alarm")["evidence"]["channels"][0]
if ev.get("defect") != "BPFO" or not ev.get("defect_hz") or ev.get("iso_zone") not in "ABCD": problems.append("evidence %r" % ev)
sms_alerts = [a for a in alerts if "sms: sent" in a["deliveries"]]
keys = [h["headers"].get("Idempotency-Key") for h in hooks]
if len(hooks) != len(sms_alerts) or len(set(keys)) != len(keys) or not hooks:
    problems.append("%d SMS requests for %d alarm alerts" % (len(hooks), len(sms_alerts)))
for h in hooks:
    t = json.loads(h["body"])["text"]
    if len(t) > 160 or not t.startswith(("ALARM", "RECOVERED", "WATCH", "WARNING")): problems.append("sms text %r" % t)
print("; ".join(problems) or "fine %d %d" % (len(mails), len(hooks)))
EOF
case "$(cat "$T/c.check")" in
fine*) set -- $(cat "$T/c.check")
       [ $rc -eq 0 ] && ok "mail server back: the replay run again decided nothing new and delivered the $2 waiting mails once each (unique Message-IDs, threaded, evidence: BPFO, RUL, P(failure), trend, link) and $3 SMS (alarms only, ≤ 160 characters, unique Idempotency-Keys)" ||
           bad "mail server back: exit $rc: $(tail -2 "$T/c2.err")" ;;
*) bad "mail server back: $(cat "$T/c.check")" ;;
esac
smtp_stop

# a mail server that never comes back: given up after alerts.delivery.give_up, recorded and shown
DEAD=$(srv_free_port)
config "$T/g.json" "$T/g" "{\"delivery\": {\"retry_min\": \"1s\", \"retry_max\": \"1s\", \"give_up\": \"3s\"},
  \"destinations\": [{\"name\": \"mail\", \"type\": \"email\", \"url\": \"smtp://127.0.0.1:$DEAD\", \"tls\": \"none\",
     \"from\": \"vw@plant.example\", \"to\": [\"maint@plant.example\"], \"min_level\": \"watch\"}]}"
"$VW_BIN" replay "$SIM" -c "$T/g.json" --flush-timeout 20 >"$T/g.out" 2>"$T/g.err"
rc=$?
"$VW_BIN" alerts --data-dir "$T/g" -c "$T/g.json" --json >"$T/g.alerts" 2>&1
ng=$(grep -cE '"deliveries":"mail: failed(, attempt [0-9]+)?: given up after 0.000833 h: smtp://127.0.0.1:'"$DEAD" "$T/g.alerts")
na=$(wc -l <"$T/g.alerts")
if [ $rc -eq 1 ] && grep -q "given up or refused for good" "$T/g.err" && [ "$na" -ge 2 ] && [ "$ng" -eq "$na" ]; then
    ok "a mail server that never comes back: all $na messages given up after 3 s with their last error recorded, the replay says so and exits 1"
else
    bad "give up: exit $rc, $ng of $na given up: $(tail -2 "$T/g.err") $(head -c 300 "$T/g.alerts")"
fi

# ---- D: a storm: six pumps failing together, 2 messages an hour allowed --------------------------
smtp_start "$T/storm-smtp" || { bad "the SMTP sink did not start"; exit 0; }
config "$T/d.json" "$T/d" "{\"destinations\": [{\"name\": \"mail\", \"type\": \"email\", \"url\": \"$SMTP_URL\", \"tls\": \"none\",
    \"from\": \"vw@plant.example\", \"to\": [\"maint@plant.example\"], \"min_level\": \"watch\", \"max_per_hour\": 2}]}" 6
"$VW_BIN" replay "$SIM" -c "$T/d.json" --flush-timeout 30 >"$T/d.out" 2>"$T/d.err"
rc=$?
"$VW_BIN" alerts --data-dir "$T/d" -c "$T/d.json" -n 10000 --json >"$T/d.alerts" 2>&1
$PY - "$T/d.alerts" "$SMTP_MAILDIR" "$top/tests/tools/check_mail.py" <<'EOF' >"$T/d.check" 2>&1
import glob, json, subprocess, sys
alerts = [json.loads(l) for l in open(sys.argv[1])][::-1]
mails = sorted(glob.glob(sys.argv[2] + "/*.eml"))
problems = []
normal = [a for a in alerts if a["kind"] != "digest"]
digests = [a for a in alerts if a["kind"] == "digest"]
sent = [a for a in alerts if a["deliveries"] == "mail: sent"]
folded = [a for a in normal if a["deliveries"] == "mail: folded"]
if len(normal) < 12: problems.append("only %d alerts for six failing pumps" % len(normal))
if not digests: problems.append("no digest")
if len(sent) + len(folded) != len(alerts): problems.append("alerts neither sent nor folded: %r" % [a["deliveries"] for a in alerts if a not in sent and a not in folded])
if len(mails) != len(sent): problems.append("%d mails for %d sent" % (len(mails), len(sent)))
# the end of a replay folds what is still held into one last digest, whatever the hour: not counted
last = digests[-1] if digests and digests[-1]["t_s"] == max(a["t_s"] for a in alerts) else None
ts = sorted(a["t_s"] for a in sent if a is not last)
worst = max(sum(1 for u in ts if t <= u < t + 3600) for t in ts)
if worst > 2: problems.append("%d messages within one hour of data time" % worst)
texts = [json.loads(subprocess.run(["/usr/bin/python3", sys.argv[3], m], capture_output=True, check=True).stdout)["text"] for m in mails]
listed = sum(sum(1 for l in t.splitlines() if l.endswith(")") and " UTC  " in l) for t in texts if "came in above this destination's rate limit" in t)
if listed != len(folded): problems.append("the digests list %d alerts, %d were folded" % (listed, len(folded)))
print("; ".join(problems) or "fine %d %d %d %d" % (len(normal), len(mails), len(digests), worst))
EOF
case "$(cat "$T/d.check")" in
fine*) set -- $(cat "$T/d.check")
       [ $rc -eq 0 ] && ok "a storm of $2 alerts from six pumps against 2 messages an hour: $3 mails, $4 of them digests listing every folded alert; at most $5 in any hour of data time" ||
           bad "storm: exit $rc: $(tail -2 "$T/d.err")" ;;
*) bad "storm: $(cat "$T/d.check")" ;;
esac
smtp_stop

# ---- E: a live box: acknowledge stops the reminders; a sensor that stops raises an alert ---------
smtp_start "$T/live-smtp" || { bad "the SMTP sink did not start"; exit 0; }
HOT="sim:pump?fault=none&end_days=1000&speedup=21600&frame=25600&rate=25600&seed=8&realtime=1&t0=2024-03-01T00:00:00Z"
SHORT="sim:pump?fault=none&end_days=0.75&speedup=21600&frame=25600&rate=25600&seed=9&realtime=1&t0=2024-03-01T00:00:00Z"
cat >"$T/e.json" <<CFG
{"box": {"id": "live"}, "data_dir": "$T/e", "web": {"listen": ""},
 "schedule": {"snapshot_s": 1, "interval_s": 60, "continuous": true},
 "models": {"baseline": {"snapshots": 3}},
 "assets": [
   {"id": "hot", "name": "Hot pump", "type": "pump", "speed": {"rpm": 2970}, "bearings": [{"id": "de", "name": "Timken 6309"}],
    "sensors": [{"id": "h1", "name": "DE", "source": "$HOT", "bearing": "de"}]},
   {"id": "short", "name": "Short pump", "type": "pump", "speed": {"rpm": 2970}, "bearings": [{"id": "de", "name": "Timken 6309"}],
    "sensors": [{"id": "t1", "name": "DE", "source": "$SHORT", "bearing": "de"}]}],
 "alerts": {"rules": {"repeat_warning": "12h"}, "assets": {"hot": {"temp_warning_c": 20}},
   "delivery": {"retry_min": "1s", "retry_max": "2s", "stopped_after": "3s"},
   "destinations": [{"name": "mail", "type": "email", "url": "$SMTP_URL", "tls": "none",
     "from": "vw@plant.example", "to": ["maint@plant.example"]}]}}
CFG
"$VW_BIN" run -c "$T/e.json" >"$T/e.log" 2>&1 &
RUNPID=$!
# poll_alerts PYTHON_CONDITION SECONDS — until the alerts (a list, newest first) satisfy it
poll_alerts() {
    _i=0
    while [ $_i -lt $(($2 * 5)) ]; do
        "$VW_BIN" alerts --data-dir "$T/e" -c "$T/e.json" -n 1000 --json >"$T/e.alerts" 2>/dev/null
        $PY -c "import json,sys; a=[json.loads(l) for l in open(sys.argv[1])]; sys.exit(0 if ($1) else 1)" "$T/e.alerts" && return 0
        sleep 0.2
        _i=$((_i + 1))
    done
    return 1
}
if poll_alerts 'sum(1 for x in a if x["asset"]=="hot" and x["kind"]=="repeat") >= 2' 40; then
    "$VW_BIN" ack hot --user "Anna Berger" --note "bearing ordered, change on Friday" -c "$T/e.json" >"$T/ack.out" 2>&1
    if poll_alerts 'any(x.get("acked_by")=="Anna Berger" and x.get("ack_note")=="bearing ordered, change on Friday" for x in a)' 10; then
        n_ack=$($PY -c "import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)['asset']=='hot'))" "$T/e.alerts")
        sleep 4   # 4 s of this box is 24 h of its data time: two repeats were due
        poll_alerts 'True' 1
        n_after=$($PY -c "import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)['asset']=='hot'))" "$T/e.alerts")
        [ "$n_after" -eq "$n_ack" ] &&
            ok "live: a warning repeated every 12 h of data time until 'vibewatch ack' (user and note recorded); no reminder in the 24 h after" ||
            bad "live: $((n_after - n_ack)) reminders after the acknowledgement"
    else
        bad "live: the acknowledgement was not recorded: $(cat "$T/ack.out") $(tail -3 "$T/e.log")"
    fi
else
    bad "live: no repeated warning for the hot pump within 40 s: $(tail -5 "$T/e.log")"
fi
if poll_alerts 'any(x["asset"]=="short" and "acquisition stopped" in x["summary"] for x in a)' 30; then
    if poll_alerts 'any(x["asset"]=="short" and "acquisition stopped" in x["summary"] and x["deliveries"]=="mail: sent" for x in a)' 10; then
        ok "live: a sensor whose source ended raised \"acquisition stopped\" after alerts.delivery.stopped_after, mailed"
    else
        bad "live: the acquisition-stopped alert was not mailed: $(grep short "$T/e.alerts" | head -2)"
    fi
else
    bad "live: no acquisition-stopped alert within 30 s: $(tail -5 "$T/e.log")"
fi
kill -TERM "$RUNPID" 2>/dev/null
wait "$RUNPID"
rc=$?
RUNPID=""
[ $rc -eq 0 ] || bad "live: vibewatch run exited $rc after SIGTERM: $(tail -3 "$T/e.log")"
exit 0
