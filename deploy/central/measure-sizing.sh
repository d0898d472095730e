#!/bin/sh
# deploy/central/measure-sizing.sh — what one box sends to the central store and what the store
# keeps of it, measured rather than guessed (README.md beside this file, "Sizing", has the
# figures of a run).
#
#   sh deploy/central/measure-sizing.sh [VW_BIN [HOURS [INTERVAL_S [SENSORS]]]]
#
# A box with SENSORS simulated pump sensors (default 4) of 3 axes each, one snapshot every
# INTERVAL_S seconds of data time (default 600, the configuration's default), replays HOURS hours
# (default 24) into three outputs at once: a capturing HTTP server (tests/tools/fake_influx.py:
# the line protocol as sent), a real InfluxDB 1.x started here with deploy/central/influxdb/
# influxdb.conf (paths and ports changed, auth off, compaction after 1 s idle instead of 10 min
# and 4 h) and a real single-node VictoriaMetrics (tests/servers.sh; the cluster's vmstorage keeps
# data in the same format, times its -replicationFactor). It prints lines, points and bytes: raw,
# gzipped as the live box would send them (one batch per snapshot), and on disk in both stores
# after compaction. Needs influxd and victoria-metrics (make deps), curl and /usr/bin/python3;
# takes a few minutes (the simulated sensors produce every sample of the replayed hours).
set -u   # not -e: tests/servers.sh's functions test commands that fail on purpose
top=$(cd "$(dirname "$0")/../.." && pwd)
VW_BIN=${1:-$top/vibewatch}
HOURS=${2:-24}
INTERVAL=${3:-600}
SENSORS=${4:-4}
PY=/usr/bin/python3
. "$top/tests/servers.sh"
servers_have || { echo "measure-sizing: influxd, victoria-metrics, curl or openssl missing (make deps)" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/vw-sizing.XXXXXX")
FAKE_PID=
IPID=
cleanup() {
    servers_stop_all
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
    [ -n "$IPID" ] && srv_stop_pid "$IPID"
    if [ -n "${VW_SIZING_KEEP:-}" ]; then echo "measure-sizing: kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# the capturing server
"$PY" "$top/tests/tools/fake_influx.py" "$W/fake.port" "$W/fake.log" &
FAKE_PID=$!
i=0; while [ ! -s "$W/fake.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
FAKE_URL="http://127.0.0.1:$(cat "$W/fake.port")"

# VictoriaMetrics as the box's documentation asks for it
vm_start "$W/vm" -dedup.minScrapeInterval=1ms || exit 1

# InfluxDB with the central configuration
mkdir -p "$W/influx"
IPORT=$(srv_free_port); RPORT=$(srv_free_port)
sed -e "s#/var/lib/influxdb#$W/influx#" -e "s#127.0.0.1:8088#127.0.0.1:$RPORT#" \
    -e "s#\":8086\"#\"127.0.0.1:$IPORT\"#" -e 's#auth-enabled = true#auth-enabled = false#' \
    -e 's#cache-snapshot-write-cold-duration = "10m"#cache-snapshot-write-cold-duration = "1s"#' \
    -e 's#compact-full-write-cold-duration = "4h"#compact-full-write-cold-duration = "1s"#' \
    -e 's#store-enabled = true#store-enabled = false#' \
    "$top/deploy/central/influxdb/influxdb.conf" >"$W/influx/influxdb.conf" || exit 1
"$INFLUXD" run -config "$W/influx/influxdb.conf" >"$W/influx/influxd.log" 2>&1 &
IPID=$!
IURL="http://127.0.0.1:$IPORT"
srv_wait_http "$IURL/ping" 204 "$IPID" "$W/influx/influxd.log" || exit 1
# the statement of influxdb/init/10-vibewatch.sh
curl -sS -XPOST "$IURL/query" --data-urlencode \
    'q=CREATE DATABASE "vibewatch" WITH DURATION 730d REPLICATION 1 SHARD DURATION 7d NAME "vibewatch_rp"' >/dev/null

# the box: SENSORS sensors x 3 axes, data starting HOURS + 1 h ago (inside both retentions)
t0=$("$PY" -c "import time; t=int(time.time()) - ($HOURS + 1) * 3600; print(time.strftime('%Y-%m-%dT%H:00:00Z', time.gmtime(t)))")
end_days=$("$PY" -c "print($HOURS / 24)")
SIM="sim:pump?fault=none&speedup=1&channels=3&rate=25600&end_days=$end_days&t0=$t0"
"$PY" - "$W/box.json" "$W/data" "$SIM" "$SENSORS" "$INTERVAL" "$FAKE_URL" "$IURL" "$VM_URL" <<'EOF'
import json, sys
out, data, sim, n, interval, fake, influx, vm = sys.argv[1:]
out_common = {"batch_s": 0.2}
cfg = {
    "box": {"id": "pumphouse-3"}, "data_dir": data, "web": {"listen": ""},
    "schedule": {"snapshot_s": 1, "interval_s": float(interval)},
    # a short baseline, so that the health lines have their steady-state fields for most of the run
    "models": {"baseline": {"snapshots": 5}},
    "outputs": {"influx": [
        dict(name="capture", url=fake, db="vibewatch", **out_common),
        dict(name="influxdb", url=influx, db="vibewatch", **out_common),
        dict(name="victoriametrics", url=vm, db="vibewatch", strings=False, **out_common)]},
    "assets": [{"id": "p101", "name": "P-101", "type": "pump", "speed": {"rpm": 2970},
                "bearings": [{"id": "de", "name": "Timken 6309"}],
                "sensors": [{"id": "p101-s%d" % k, "source": "%s&seed=%d" % (sim, k), "channels": [0, 1, 2],
                             "axes": ["x", "y", "z"], "bearing": "de"} for k in range(1, int(n) + 1)]}]}
json.dump(cfg, open(out, "w"), indent=1)
EOF
echo "measure-sizing: replaying $HOURS h of $SENSORS sensors x 3 axes, a snapshot every $INTERVAL s ($W)" >&2
start=$(date +%s)
"$VW_BIN" replay "$SIM&seed=1" -c "$W/box.json" --flush-timeout 120 >"$W/replay.out" 2>"$W/replay.err" \
    || { echo "measure-sizing: the replay failed:" >&2; tail -5 "$W/replay.err" >&2; exit 1; }
echo "measure-sizing: replay took $(( $(date +%s) - start )) s" >&2

# the stores on disk, compacted
vm_flush
curl -sS -o /dev/null "$VM_URL/internal/force_merge"
sleep 20
curl -sS "$VM_URL/metrics" >"$W/vm.metrics"
# InfluxDB: the cache is snapshotted 1 s after the last write and the cold shard fully compacted
# 1 s after that (the configuration above); give it time
sleep 20
# allocated blocks, not apparent sizes: the series file's segments are sparse 4 MiB files
du -s -B1 "$W/influx/data/vibewatch" >"$W/influx.du"
find "$W/influx/data/vibewatch" -name '*.tsm' -printf '%s\n' | awk '{n++; s += $1} END {print s + 0, n + 0}' >"$W/influx.tsm"
du -s -B1 "$W/influx/wal/vibewatch" >"$W/influx.waldu"

"$PY" - "$W" "$HOURS" "$INTERVAL" "$SENSORS" <<'EOF'
import gzip, json, re, sys
from collections import defaultdict
W, hours, interval, sensors = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
body = "".join(json.loads(l)["body"] for l in open(W + "/fake.log") if l.strip())
lines = [l for l in body.split("\n") if l]
per = defaultdict(lambda: {"lines": 0, "bytes": 0, "fields": 0, "num_fields": 0})
by_time = defaultdict(list)
for l in lines:
    # measurement,tags fields timestamp; string fields are quoted (no spaces inside in this schema)
    head, fields, ts = l.rsplit(" ", 2) if l.count(" ") >= 2 else (l, "", "")
    m = head.split(",")[0]
    fs = re.findall(r'([A-Za-z0-9_]+)=("(?:[^"\\]|\\.)*"|[^,]+)', fields)
    p = per[m]
    p["lines"] += 1
    p["bytes"] += len(l.encode()) + 1
    p["fields"] += len(fs)
    p["num_fields"] += sum(1 for k, v in fs if not v.startswith('"'))
    if m != "vw_box":
        by_time[ts].append(l)
snap = [("\n".join(v) + "\n").encode() for v in by_time.values()]
raw_snap = sum(len(s) for s in snap)
gz_snap = sum(len(gzip.compress(s, 6)) for s in snap)
raw_all = len(body.encode())
gz_all = len(gzip.compress(body.encode(), 6))
metrics = open(W + "/vm.metrics").read()
def msum(name, filt=""):
    return sum(float(v) for k, v in re.findall(r"^(%s(?:\{[^}]*\})?) ([0-9.e+]+)$" % re.escape(name), metrics, re.M)
               if filt in k)
vm_bytes = msum("vm_data_size_bytes")
vm_rows = msum("vm_rows", 'type="storage/')
ix_bytes = msum("vm_data_size_bytes", "indexdb")
influx_bytes = int(open(W + "/influx.du").read().split()[0])
tsm_bytes, tsm_files = (int(x) for x in open(W + "/influx.tsm").read().split())
wal_bytes = int(open(W + "/influx.waldu").read().split()[0])
snaps = len(by_time)
chan_snaps = per["vw_features"]["lines"]
print("replayed: %g h, %d sensors x 3 axes, one snapshot per %g s: %d snapshots, %d channel-snapshots"
      % (hours, sensors, interval, snaps, chan_snaps))
print("%-12s %8s %10s %8s %12s" % ("measurement", "lines", "bytes/line", "fields", "numeric"))
for m in ("vw_features", "vw_health", "vw_events", "vw_box"):
    p = per.get(m)
    if p and p["lines"]:
        print("%-12s %8d %10.0f %8.1f %12.1f" % (m, p["lines"], p["bytes"] / p["lines"], p["fields"] / p["lines"],
                                                  p["num_fields"] / p["lines"]))
pts_all = sum(p["fields"] for p in per.values())
pts_num = sum(p["num_fields"] for p in per.values())
print("line protocol: %d bytes raw, %d gzipped as one stream (%.1fx)" % (raw_all, gz_all, raw_all / gz_all))
print("per snapshot batch (all channels of one snapshot, as the live box sends them): %.0f bytes raw, %.0f gzipped"
      % (raw_snap / max(snaps, 1), gz_snap / max(snaps, 1)))
print("per channel-snapshot: %.0f bytes raw, %.0f gzipped (live batches), %.1f points"
      % (raw_snap / max(chan_snaps, 1), gz_snap / max(chan_snaps, 1),
         (per["vw_features"]["fields"] + per["vw_health"]["fields"]) / max(chan_snaps, 1)))
print("VictoriaMetrics: %d samples (numeric fields), %d bytes on disk (%d of them index): %.2f bytes per sample"
      % (vm_rows, vm_bytes, ix_bytes, vm_bytes / max(vm_rows, 1)))
print("InfluxDB: %d points (all fields); %d TSM files of %d bytes: %.2f bytes per point; %d bytes allocated in "
      "data/vibewatch with the index (%.2f per point); WAL left: %d bytes"
      % (pts_all, tsm_files, tsm_bytes, tsm_bytes / max(pts_all, 1), influx_bytes, influx_bytes / max(pts_all, 1),
         wal_bytes))
print("RESULT %s" % json.dumps({"hours": hours, "interval_s": interval, "sensors": sensors, "snapshots": snaps,
      "channel_snapshots": chan_snaps, "raw_per_channel_snapshot": raw_snap / max(chan_snaps, 1),
      "gz_per_channel_snapshot": gz_snap / max(chan_snaps, 1), "points_all": pts_all, "points_numeric": pts_num,
      "vm_bytes": vm_bytes, "vm_index_bytes": ix_bytes, "vm_rows": vm_rows, "influx_bytes": influx_bytes,
      "influx_tsm_bytes": tsm_bytes,
      "per": {m: dict(p) for m, p in per.items()}}))
EOF
