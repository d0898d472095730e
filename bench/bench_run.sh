#!/bin/sh
# bench/bench_run.sh — the appliance as it runs on the box: `vibewatch run` with 4 simulated
# sensors at 25.6 kHz taking a 1 s snapshot every 10 s (goal: under 32 MB resident), measured from
# /proc over SECONDS; and replay throughput in snapshots per second.
#   sh bench/bench_run.sh VIBEWATCH [SECONDS]
set -u
bin=${1:?usage: bench_run.sh VIBEWATCH [SECONDS]}
secs=${2:-40}
py=/usr/bin/python3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench_run.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
sensor() { # ID SEED
    printf '{"id": "%s", "source": "sim:pump?rate=25600&realtime=1&seed=%s&fault=outer_race&onset_days=0.001&failure_days=1"}' "$1" "$2"
}
cat >"$tmp/run.json" <<CFG
{"box": {"id": "bench"}, "data_dir": "$tmp/data", "web": {"listen": "127.0.0.1:0"},
 "schedule": {"snapshot_s": 1, "interval_s": 10},
 "assets": [
  {"id": "p1", "type": "pump", "speed": {"rpm": 2970}, "bearings": [{"id": "de", "name": "Timken 6309"}],
   "sensors": [$(sensor s1 1), $(sensor s2 2)]},
  {"id": "p2", "type": "pump", "speed": {"rpm": 2970}, "bearings": [{"id": "de", "name": "Timken 6309"}],
   "sensors": [$(sensor s3 3), $(sensor s4 4)]}]}
CFG
"$bin" run -c "$tmp/run.json" 2>"$tmp/run.err" &
pid=$!
sleep 2
hz=$(getconf CLK_TCK)
c0=$(awk '{print $14 + $15}' /proc/$pid/stat 2>/dev/null || echo 0)
rss_max=0
i=0
while [ $i -lt "$secs" ] && kill -0 $pid 2>/dev/null; do
    r=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)
    [ "${r:-0}" -gt "$rss_max" ] && rss_max=$r
    sleep 1
    i=$((i + 1))
done
c1=$(awk '{print $14 + $15}' /proc/$pid/stat 2>/dev/null || echo 0)
hwm=$(awk '/^VmHWM/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
kill -TERM $pid; wait $pid 2>/dev/null; pid=
snaps=$($py -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from trend').fetchone()[0])" "$tmp/data/history.sqlite3" 2>/dev/null || echo "?")
echo "vibewatch run: 4 sensors × 25.6 kHz, 1 s snapshot every 10 s, $secs s:"
$py -c "
cpu=($c1-$c0)/$hz
print('  resident memory: %.1f MB now at most, %.1f MB peak (VmHWM); goal under 32 MB' % ($rss_max/1024, $hwm/1024))
print('  CPU: %.2f s in %d s = %.1f %% of one core; %s snapshot-channels stored' % (cpu, $secs, 100*cpu/$secs, '$snaps'))"
# replay throughput: a simulated pump in time lapse, as fast as the pipeline goes, for 10 s
"$bin" replay "sim:pump?speedup=600&t0=2024-01-01T00:00:00Z" --rpm 2970 --bearing "Timken 6309" \
    --data-dir "$tmp/replay" >/dev/null 2>"$tmp/replay.err" &
pid=$!
sleep 10
kill -INT $pid; wait $pid 2>/dev/null; pid=
n=$(grep -o '[0-9]* snapshot-channels* analysed' "$tmp/replay.err" | grep -o '^[0-9]*')
echo "vibewatch replay: ${n:-?} snapshots of 1 s at 25.6 kHz in 10 s = $((${n:-0} / 10)) snapshots per second (2 analysis workers, history on)"
