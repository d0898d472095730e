#!/bin/sh
# bench/bench_acq.sh — `make bench`'s acquisition part: 4 channels at 51.2 kHz in real time for
# SECONDS, from the simulator (two 2-channel sensors) and from the test device server through the
# real libiio client (one 4-channel ADC), with the samples dropped and the CPU per channel-second.
#   sh bench/bench_acq.sh BUILD_DIR [SECONDS]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: bench_acq.sh BUILD_DIR [SECONDS]}
secs=${2:-5}
bin="$top/$build/bench/bench_acq"
echo "acquisition: 4 channels at 51.2 kHz, $secs s in real time"
echo "simulator (sim:, realtime=1, two 2-channel pumps):"
"$bin" "$secs" "sim:pump?channels=2&rate=51200&realtime=1&seed=1" "sim:pump?channels=2&rate=51200&realtime=1&seed=2"
py=/usr/bin/python3
if [ ! -x "$py" ]; then
    echo "test device server: skipped ($py missing)"
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench_acq.XXXXXX")
$py "$top/tests/iiod/fake_iiod.py" --port 0 --port-file "$tmp/port" 2>"$tmp/err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -s "$tmp/port" ]; then
    echo "test device server: did not start: $(cat "$tmp/err")"
    exit 0
fi
port=$(cat "$tmp/port")
echo "test device server (tests/iiod/fake_iiod.py, iio: through libiio's network client, ad7768-4, 100 mV/g):"
"$bin" "$secs" "iio:ip:127.0.0.1:$port?device=ad7768-4&channels=voltage0,voltage1,voltage2,voltage3&rate=51200&sensitivity_mv_per_g=100"
