#!/bin/sh
# tests/cli/ims_healthy.sh — false alarms on real healthy bearings: the first snapshots of IMS
# test 1 (Rexnord ZA-2115 at 2000 rpm, 20 kHz, 8 accelerometer channels) are the rig's healthy
# run-in; `vibewatch analyze` must read every channel of every one as `none`.
set -u
: "${VW_BIN:?}" "${VW_TEST_TMP:?}"
DATA="${VW_DATA:-../shared/data}/ims/test1_raw"
name=ims_healthy
if [ ! -d "$DATA" ]; then
    if [ "${VW_REQUIRE_DATA:-0}" = 1 ]; then
        echo "not ok - $name: $DATA is missing and VW_REQUIRE_DATA=1"
    else
        echo "skip - $name: $DATA is missing (set VW_DATA)"
    fi
    exit 0
fi
command -v jq >/dev/null 2>&1 || { echo "not ok - $name: jq is not installed (make deps)"; exit 0; }
files=0 channels=0 alarms=""
for f in "$DATA"/*; do
    [ -f "$f" ] || continue
    files=$((files + 1))
    out=$("$VW_BIN" analyze --json --fs 20000 --rpm 2000 --bearing ZA-2115 "$f" 2>"$VW_TEST_TMP/ims.err")
    if [ $? -ne 0 ]; then
        alarms="$alarms $(basename "$f"): analyze failed: $(head -1 "$VW_TEST_TMP/ims.err");"
        continue
    fi
    n=$(printf '%s' "$out" | jq '.[0].channels | length')
    channels=$((channels + n))
    bad=$(printf '%s' "$out" | jq -r '.[0].channels[] | select(.diagnosis != "none") | "ch\(.channel)=\(.diagnosis)"' | tr '\n' ' ')
    [ -z "$bad" ] || alarms="$alarms $(basename "$f"): $bad;"
done
if [ "$files" -eq 0 ]; then
    echo "not ok - $name: no snapshot files in $DATA"
elif [ -n "$alarms" ]; then
    echo "not ok - $name: false alarms on the healthy run-in:$alarms"
else
    echo "ok - $name: $channels channels of $files healthy IMS snapshots all read none"
fi
