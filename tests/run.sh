#!/bin/sh
# tests/run.sh — runs every unit-test program of $VW_BUILD and every script in tests/cli/, counts
# the "ok" / "not ok" / "skip" lines they print, and ends with "N passed, N failed[, N skipped]".
# A program that crashes or exits non-zero without reporting a failure counts as one failure.
# VW_RUNNER: a command each unit-test program runs under (`make ARCH=arm64 test`: qemu-aarch64-static
# -L SYSROOT); VW_UNIT_ONLY=1: the unit tests alone, not tests/cli/ (which needs the native binary,
# the servers and the browser).
set -u
: "${VW_BUILD:?VW_BUILD is the build folder, e.g. build/fftw}"
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out="$top/tests/out/$(basename "$VW_BUILD")"
mkdir -p "$out"
VW_TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vwtests.XXXXXX")
export VW_TEST_TMP VW_BIN="$top/$VW_BUILD/vibewatch" VW_BUILD
export VW_DATA="${VW_DATA:-../shared/data}"
log="$out/log.txt"
: > "$log"

run_one() { # name, command...
    name=$1; shift
    tmp="$out/$name.out"
    "$@" > "$tmp" 2> "$out/$name.err"
    rc=$?
    cat "$tmp" >> "$log"
    cat "$tmp"
    if [ $rc -ne 0 ] && ! grep -q '^not ok' "$tmp"; then
        echo "not ok - $name: exited with status $rc without reporting a failure (see $out/$name.err)" | tee -a "$log"
        tail -5 "$out/$name.err"
    fi
}

runner=${VW_RUNNER:-}
for t in "$VW_BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    # shellcheck disable=SC2086 # the runner is a command with its arguments
    run_one "$(basename "$t")" $runner "$t"
done
if [ "${VW_UNIT_ONLY:-0}" = 1 ]; then
    echo "# tests/cli/*.sh not run (VW_UNIT_ONLY=1)" | tee -a "$log"
else
    for s in tests/cli/*.sh; do
        [ -f "$s" ] || continue
        run_one "$(basename "$s" .sh)" sh "$s"
    done
fi

passed=$(grep -c '^ok ' "$log")
failed=$(grep -c '^not ok ' "$log")
skipped=$(grep -c '^skip ' "$log")
rm -rf "$VW_TEST_TMP"
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
