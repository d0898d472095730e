#!/bin/sh
# bench/bench_alerts.sh — alerts delivered end to end to a real SMTP server: a storm of six failing
# pumps replayed (`vibewatch replay`) with an alerts section that mails every notification (no rate
# limit, an alarm repeated every hour of data time), against the same replay without the section.
# The SMTP sink is tests/tools/smtp_sink.py (Debian's python3-aiosmtpd), started on a free loopback
# port through tests/alert_servers.sh. Prints a table; checks nothing (the counts are shown side by
# side so that a loss shows).
#   sh bench/bench_alerts.sh BUILD      (BUILD: e.g. build/fftw, holding vibewatch)
# Environment: VW_BENCH_ALERTS_STEP_H (whole hours of data time between two snapshots of a pump,
# default 1), VW_BENCH_ALERTS_PUMPS (default 6).
set -u
build=${1:?usage: bench_alerts.sh BUILD}
VW_TOP=$(cd "$(dirname "$0")/.." && pwd)
vw=$build/vibewatch
# shellcheck source=tests/alert_servers.sh
. "$VW_TOP/tests/alert_servers.sh"
if ! alert_servers_have; then
    echo "bench_alerts: skipped (needs /usr/bin/python3 with aiosmtpd, and openssl: make deps)"
    exit 0
fi
if [ ! -x "$vw" ]; then
    echo "bench_alerts: $vw is missing (make)" >&2
    exit 1
fi
step_h=${VW_BENCH_ALERTS_STEP_H:-1}
pumps=${VW_BENCH_ALERTS_PUMPS:-6}
case $step_h in ''|*[!0-9]*) echo "bench_alerts: VW_BENCH_ALERTS_STEP_H=$step_h: whole hours, 1 to 24" >&2; exit 2 ;; esac
case $pumps in ''|*[!0-9]*) echo "bench_alerts: VW_BENCH_ALERTS_PUMPS=$pumps: a number, 1 to 32" >&2; exit 2 ;; esac
if [ "$step_h" -lt 1 ] || [ "$step_h" -gt 24 ] || [ "$pumps" -lt 1 ] || [ "$pumps" -gt 32 ]; then
    echo "bench_alerts: VW_BENCH_ALERTS_STEP_H 1…24, VW_BENCH_ALERTS_PUMPS 1…32" >&2
    exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench_alerts.XXXXXX") || exit 1
cleaned=0
cleanup() {
    [ "$cleaned" = 1 ] && return
    cleaned=1
    alert_servers_stop_all
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM

# the pump of tests/cli/alerts_cli.sh: an outer race fault from day 3, failed on day 9, a 1 s snapshot
# every STEP_H hours of its life (speedup), each pump its own seed (a source is opened once)
SIM="sim:pump?fault=outer_race&onset_days=3&failure_days=9&end_days=10&speedup=$((step_h * 3600))&frame=25600&rate=25600&seed=5&t0=2024-01-01T00:00:00Z"

# config FILE DATA_DIR [ALERTS_JSON] — the pumps, each with one sensor; the alerts section if given
config() {
    _assets=""
    _i=1
    while [ "$_i" -le "$pumps" ]; do
        [ -n "$_assets" ] && _assets="$_assets,"
        _s=$(echo "$SIM" | sed "s/seed=[0-9]*/seed=$((10 + _i))/")
        _assets="$_assets{\"id\": \"p$_i\", \"name\": \"泵站 $_i 号主泵\", \"type\": \"pump\", \"speed\": {\"rpm\": 2970},
          \"bearings\": [{\"id\": \"de\", \"name\": \"Timken 6309\"}],
          \"sensors\": [{\"id\": \"s$_i\", \"name\": \"DE\", \"source\": \"$_s\", \"bearing\": \"de\", \"axes\": [\"radial\"]}]}"
        _i=$((_i + 1))
    done
    _alerts=""
    [ -n "${3:-}" ] && _alerts=",
 \"alerts\": $3"
    cat >"$1" <<CFG
{"box": {"id": "hall.3", "name": "Pumpenhaus 泵站"}, "data_dir": "$2", "web": {"listen": ""},
 "schedule": {"snapshot_s": 1, "interval_s": 60, "continuous": true},
 "models": {"baseline": {"snapshots": 5}},
 "assets": [$_assets]$_alerts}
CFG
}

# The replay's stdout (--json, one line per snapshot-channel, flushed as each is stored) goes through
# a Python reader that notes the wall time of the first and the last line: the last is the end of
# the analysis; what follows until the process exits is the flush (the alerts' delivery).
STAMP='import sys, time
n, first, last = 0, 0.0, 0.0
for line in sys.stdin.buffer:
    last = time.time()
    first = first or last
    n += not line.startswith(b"{\"event\"")
print(n, "%.6f" % first, "%.6f" % last)'

# timed FILE CMD... — CMD, with its CPU time and peak RSS in FILE when GNU time is there
timed() {
    _tf=$1; shift
    if [ -x /usr/bin/time ]; then /usr/bin/time -f '%e_%U_%S_%M' -o "$_tf" "$@"; else "$@"; fi
}

# run NAME CONFIG — the replay, timed; NAME.{t0,t1,rc,stamp,err,time,alerts} in $tmp
run() {
    date +%s.%N >"$tmp/$1.t0"
    {
        timed "$tmp/$1.time" "$vw" replay "$SIM" -c "$2" --json --flush-timeout 600 2>"$tmp/$1.err"
        _rc=$?
        date +%s.%N >"$tmp/$1.t1"
        echo $_rc >"$tmp/$1.rc"
    } | "$AS_PY" -c "$STAMP" >"$tmp/$1.stamp"
    "$vw" alerts --data-dir "$tmp/$1" -c "$2" -n 100000 --json >"$tmp/$1.alerts" 2>&1
}

if ! smtp_start "$tmp/smtp"; then
    echo "bench_alerts: the SMTP sink did not start" >&2
    exit 1
fi
config "$tmp/without.json" "$tmp/without"
config "$tmp/with.json" "$tmp/with" "{\"rules\": {\"repeat_alarm\": \"1h\"},
  \"destinations\": [{\"name\": \"mail\", \"type\": \"email\", \"url\": \"$SMTP_URL\", \"tls\": \"none\",
    \"from\": \"vibewatch <vw@plant.example>\", \"to\": [\"maint@plant.example\"], \"min_level\": \"watch\",
    \"max_per_hour\": 0}]}"
nproc=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo "?")
echo "alerts end to end: vibewatch replay of $pumps pumps failing together (sim:pump, outer race, 10 days, a 1 s snapshot"
echo "  at 25.6 kHz every $step_h h of data time), mail to tests/tools/smtp_sink.py (aiosmtpd) at $SMTP_URL, plain SMTP,"
echo "  one destination, max_per_hour 0 (no limit), repeat_alarm 1h; $nproc CPUs; files in $tmp"
run without "$tmp/without.json"
run with "$tmp/with.json"
"$AS_PY" - "$tmp" "$SMTP_MAILDIR" <<'EOF'
import glob, json, os, sys
tmp, maildir = sys.argv[1], sys.argv[2]

def num(path):
    try:
        return float(open(path).read().split()[0])
    except Exception:
        return float("nan")

def row(name, mails):
    t0, t1, rc = num(f"{tmp}/{name}.t0"), num(f"{tmp}/{name}.t1"), open(f"{tmp}/{name}.rc").read().strip()
    try:
        snaps, first, last = open(f"{tmp}/{name}.stamp").read().split()
        snaps, first, last = int(snaps), float(first), float(last)
    except Exception:
        snaps, first, last = 0, float("nan"), float("nan")
    cpu = rss = float("nan")
    try:
        e, u, s, m = open(f"{tmp}/{name}.time").read().strip().split("\n")[-1].split("_")
        cpu, rss = float(u) + float(s), float(m) / 1024
    except Exception:
        pass
    alerts = []
    for l in open(f"{tmp}/{name}.alerts"):
        try:
            alerts.append(json.loads(l))
        except ValueError:
            pass
    sent = sum(1 for a in alerts if "mail: sent" in a.get("deliveries", ""))
    times = sorted(os.stat(m).st_mtime_ns / 1e9 for m in mails)
    after = [t for t in times if t > last]
    analysis, total, tail = last - t0, t1 - t0, t1 - last
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    r = dict(name=name, rc=rc, snaps=snaps, analysis=analysis, rate=snaps / analysis if analysis > 0 else 0,
             total=total, cpu=cpu, rss=rss, alerts=len(alerts), sent=sent, mails=len(times), tail=tail,
             after=len(after), span=span,
             mps=(len(times) - 1) / span if span > 0 else float("nan"),
             mps_after=len(after) / tail if after and tail > 0 else float("nan"))
    return r

rows = [row("without", []), row("with", sorted(glob.glob(maildir + "/*.eml")))]
h = ("run", "rc", "snaps", "analys_s", "snap/s", "total_s", "cpu_s", "rss_MB", "alerts", "sent", "mails",
     "after_s", "after_n", "span_s", "mail/s", "after/s")
print("%-8s %3s %6s %8s %7s %7s %7s %6s %6s %6s %6s %7s %7s %7s %7s %7s" % h)
for r in rows:
    print("%-8s %3s %6d %8.2f %7.1f %7.2f %7.2f %6.1f %6d %6d %6d %7.2f %7d %7.2f %7.1f %7.1f" % (
        r["name"], r["rc"], r["snaps"], r["analysis"], r["rate"], r["total"], r["cpu"], r["rss"], r["alerts"],
        r["sent"], r["mails"], r["tail"], r["after"], r["span"], r["mps"], r["mps_after"]))
w, wo = rows[1], rows[0]
ok = w["rc"] == "0" and w["alerts"] == w["sent"] == w["mails"]
print("  with alerts, mail costs the analysis %.0f %% of its snapshot rate (%.1f → %.1f snap/s); every alert mailed once: %s"
      % (100 * (1 - w["rate"] / wo["rate"]) if wo["rate"] else float("nan"), wo["rate"], w["rate"],
         "yes" if ok else "NO (rc %s, %d alerts, %d sent, %d mails)" % (w["rc"], w["alerts"], w["sent"], w["mails"])))

# The sink's own floor: the same messages sent by Python's smtplib, one connection each (as the box
# connects per message), after the counts above were taken.
import smtplib, time
sample = sorted(glob.glob(maildir + "/*.eml"))[:40]
port = int(open(os.path.join(os.path.dirname(maildir), "smtp.port")).read())
ehlo = total = 0.0
for m in sample:
    data = open(m, "rb").read()
    t0 = time.perf_counter()
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    t1 = time.perf_counter()
    s.ehlo()
    ehlo += time.perf_counter() - t1
    s.sendmail("vw@plant.example", ["maint@plant.example"], data)
    s.quit()
    total += time.perf_counter() - t0
if sample:
    n = len(sample)
    own = 1000 / w["mps_after"] - 1000 * total / n if w["mps_after"] == w["mps_after"] else float("nan")
    print("  the sink alone (smtplib, a connection per message, %d of these mails): %.1f ms a message, %.1f ms of it"
          " in EHLO;\n  so at most %.0f mail/s for a client that connects per message; the box's own share of"
          " after/s: %.1f ms a message" % (n, 1000 * total / n, 1000 * ehlo / n, n / total, own))
EOF
