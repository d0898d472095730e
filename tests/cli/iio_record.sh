#!/bin/sh
# tests/cli/iio_record.sh — the iio: source from the outside: `vibewatch record` captures from
# tests/iiod/fake_iiod.py (iiod's protocol on a free loopback port, run with /usr/bin/python3)
# through the real libiio client, and says what it captured; a wrong device or rate is one line on
# stderr naming the URI part. The server is killed on every exit (trap).
#
# Each check prints one line: "ok - iio_record: NAME", "not ok - iio_record: NAME: WHY" or
# "skip - iio_record: NAME: WHY" (see tests/run.sh).
# Environment: VW_BIN (the vibewatch binary), VW_TEST_TMP (a scratch folder).
set -u
PROG=iio_record
PY=/usr/bin/python3

ok()   { echo "ok - $PROG: $1"; }
nok()  { echo "not ok - $PROG: $1: $2"; failures=$((failures + 1)); }
skip() { echo "skip - $PROG: $1: $2"; }
failures=0

top=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${VW_BIN:-}" ] || [ ! -x "$VW_BIN" ]; then
    echo "not ok - $PROG: VW_BIN (\"${VW_BIN:-}\") is not an executable vibewatch binary; build with \`make -s\`"
    exit 1
fi
case "$VW_BIN" in /*) ;; *) VW_BIN="$(pwd)/$VW_BIN" ;; esac
if [ ! -x "$PY" ]; then
    echo "not ok - $PROG: $PY is missing: the iio: tests serve a device with tests/iiod/fake_iiod.py (apt-get install python3)"
    exit 1
fi
if ! "$VW_BIN" record --help >/dev/null 2>&1; then
    skip "record" "this vibewatch has no record command"
    exit 0
fi

if "$VW_BIN" record "iio:?device=x&channels=y" --seconds 1 -o /dev/null 2>&1 | grep -q "WITH_IIO=0"; then
    skip "record" "this vibewatch was built without libiio (WITH_IIO=0)"
    exit 0
fi

W=$(mktemp -d "${VW_TEST_TMP:-${TMPDIR:-/tmp}}/$PROG.XXXXXX") || { echo "not ok - $PROG: mktemp failed"; exit 1; }
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

"$PY" "$top/tests/iiod/fake_iiod.py" --port 0 --port-file "$W/port" --log "$W/server.log" 2> "$W/server.err" &
pid=$!
i=0
while [ ! -s "$W/port" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -s "$W/port" ]; then
    echo "not ok - $PROG: fake_iiod.py did not start: $(head -c 300 "$W/server.err")"
    exit 1
fi
port=$(cat "$W/port")
base="iio:ip:127.0.0.1:$port"

if "$VW_BIN" record "$base?device=adxl355&channels=accel_x,accel_y,accel_z&rate=4000&temp=adxl355/temp" \
        --seconds 1 -o "$W/a.wav" 2> "$W/a.err"; then
    size=$(wc -c < "$W/a.wav")
    # float32 × 3 channels × 4000 samples, plus the header
    if [ "$size" -ge 48000 ] && [ "$size" -lt 48200 ] && grep -q "3 channels at 4000 Hz" "$W/a.err" &&
        grep -q "IIO adxl355 at ip:127.0.0.1:$port" "$W/a.err" && grep -q "; 0 gap(s), 0 samples lost" "$W/a.err"; then
        ok "record 1 s of 3 accelerometer channels"
    else
        nok "record 1 s of 3 accelerometer channels" "$size bytes; $(head -c 300 "$W/a.err")"
    fi
else
    nok "record 1 s of 3 accelerometer channels" "exit status $?: $(head -c 300 "$W/a.err")"
fi

if "$VW_BIN" record "$base?device=ad7768-4&channels=voltage0,voltage1,voltage2,voltage3&rate=51200&sensitivity_mv_per_g=100" \
        --seconds 2 -o "$W/v.wav" 2> "$W/v.err" && grep -q "4 channels at 51200 Hz.*; 0 gap(s)" "$W/v.err"; then
    ok "record 4 channels at 51.2 kHz without a gap"
else
    nok "record 4 channels at 51.2 kHz without a gap" "$(head -c 300 "$W/v.err")"
fi

"$VW_BIN" record "$base?device=adxl356&channels=accel_x&rate=4000" --seconds 1 -o "$W/x.wav" 2> "$W/x.err"
rc=$?
if [ $rc -ne 0 ] && [ "$(wc -l < "$W/x.err")" -eq 1 ] && grep -q "device=adxl356: no such device" "$W/x.err" &&
    grep -q "adxl355, ad7768-4" "$W/x.err" && [ ! -e "$W/x.wav" ]; then
    ok "unknown device: one line naming it and the devices there"
else
    nok "unknown device: one line naming it and the devices there" "status $rc: $(head -c 300 "$W/x.err")"
fi

"$VW_BIN" record "$base?device=adxl355&channels=accel_x&rate=3000" --seconds 1 -o "$W/r.wav" 2> "$W/r.err"
rc=$?
if [ $rc -ne 0 ] && grep -q "rate=3000: adxl355 runs at 4000 Hz, not the 3000 Hz requested" "$W/r.err"; then
    ok "a rate the device refuses is reported"
else
    nok "a rate the device refuses is reported" "status $rc: $(head -c 300 "$W/r.err")"
fi

[ "$failures" -eq 0 ]
