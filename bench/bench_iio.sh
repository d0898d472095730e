#!/bin/sh
# bench/bench_iio.sh — how much tests/iiod/fake_iiod.py streams in real time, and whether
# vibewatch's iio: source keeps up with it. Prints a table; checks and fails nothing.
#
#   sh bench/bench_iio.sh [VIBEWATCH_BINARY] [SECONDS]     (defaults: ./vibewatch, 5)
#
# For each rate (4 channels of ad7768-4, 32-bit samples; the server is started with rates beyond
# the real part's 256 kHz) it reads SECONDS of data twice over loopback:
#   readdev  — iio_readdev (libiio's own client): wall time for SECONDS of data; "real time" when
#              within 5 % + 0.3 s of SECONDS, and the samples the server had to drop for a slow reader
#   record   — `vibewatch record` through the iio: source: wall time and the gaps it reports
# with the server's CPU use (user + system time over wall time, from /proc) beside each.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$top/vibewatch}
secs=${2:-5}
py=/usr/bin/python3
[ -x "$py" ] || { echo "bench_iio: $py is missing"; exit 1; }
command -v iio_readdev >/dev/null || echo "bench_iio: iio_readdev missing (libiio-utils): readdev column skipped"
[ -x "$bin" ] || echo "bench_iio: $bin missing (make): record column skipped"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench_iio.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

rates="51200 256000 1024000 2048000 4096000 8192000"
$py "$top/tests/iiod/fake_iiod.py" --port 0 --port-file "$tmp/port" --log "$tmp/log" \
    --adc-rates "$(echo $rates | tr ' ' ',')" 2> "$tmp/err" &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$tmp/port" ] || { echo "bench_iio: the server did not start:"; cat "$tmp/err"; exit 1; }
port=$(cat "$tmp/port")

cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
now() { date +%s.%N; }
hz=$(getconf CLK_TCK)

printf '%-9s %3s %8s | %-28s | %-34s\n' "rate_Hz" "ch" "MB/s" "readdev: wall  drops srv_CPU" "record: wall  gaps  lost  srv_CPU"
for r in $rates; do
    mbs=$(echo "$r" | awk '{printf "%.1f", $1 * 4 * 4 / 1e6}')
    rd="-"
    if command -v iio_readdev >/dev/null; then
        iio_attr -u "ip:127.0.0.1:$port" -d ad7768-4 sampling_frequency "$r" >/dev/null 2>&1
        d0=$(grep -c DROP "$tmp/log"); c0=$(cpu_ticks); t0=$(now)
        timeout $((secs * 4 + 20)) iio_readdev -u "ip:127.0.0.1:$port" -b $((r / 10)) -s $((r * secs)) \
            ad7768-4 voltage0 voltage1 voltage2 voltage3 > /dev/null 2>> "$tmp/readdev.err"
        t1=$(now); c1=$(cpu_ticks); d1=$(grep -c DROP "$tmp/log")
        rd=$(echo "$t0 $t1 $c0 $c1 $hz $secs $((d1 - d0))" | awk '{w = $2 - $1; rt = (w <= $6 * 1.05 + 0.3) ? "real time" : "SLOW";
            printf "%5.2f s %-9s %2d %4.0f %%", w, rt, $7, 100 * ($4 - $3) / $5 / w}')
    fi
    rec="-"
    if [ -x "$bin" ]; then
        c0=$(cpu_ticks); t0=$(now)
        "$bin" record "iio:ip:127.0.0.1:$port?device=ad7768-4&channels=voltage0,voltage1,voltage2,voltage3&rate=$r&sensitivity_mv_per_g=100" \
            --seconds "$secs" -o "$tmp/rec.wav" 2> "$tmp/rec.err"
        t1=$(now); c1=$(cpu_ticks)
        gaps=$(sed -n 's/.*; \([0-9]*\) gap(s), \([0-9]*\) samples lost.*/\1 \2/p' "$tmp/rec.err")
        [ -n "$gaps" ] || gaps="? ?"
        rec=$(echo "$t0 $t1 $c0 $c1 $hz $gaps" | awk '{w = $2 - $1;
            printf "%5.2f s  %4s %6s %4.0f %%", w, $6, $7, 100 * ($4 - $3) / $5 / w}')
        grep -q "gap(s)" "$tmp/rec.err" || rec="$rec  ($(head -c 120 "$tmp/rec.err"))"
    fi
    printf '%-9s %3s %8s | %-28s | %-34s\n' "$r" 4 "$mbs" "$rd" "$rec"
done
echo "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1); $secs s per run"
