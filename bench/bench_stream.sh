#!/bin/sh
# bench/bench_stream.sh — the streaming output against a real VictoriaMetrics: starts one on a free
# loopback port (tests/servers.sh, -dedup.minScrapeInterval=1ms), runs bench_stream against it,
# and stops and restarts it on the same port when the program asks (its backlog part: "stop" and
# "start" come over a FIFO, "ok" goes back over another). Prints bench_stream's table.
#   sh bench/bench_stream.sh BUILD      (BUILD: e.g. build/fftw, holding bench/bench_stream)
set -u
build=${1:?usage: bench_stream.sh BUILD}
bin=$build/bench/bench_stream
. tests/servers.sh
if [ ! -x "$VICTORIA" ] || [ ! -x "$SRV_PY" ] || ! command -v curl >/dev/null 2>&1; then
    echo "bench_stream: skipped (needs $VICTORIA, $SRV_PY and curl: make deps)"
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench_stream.XXXXXX")
# The server's data goes to a tmpfs when there is one: in real life the server is another machine,
# and its disk writes would otherwise slow the spool's fsyncs (ext4 commits others' dirty data too).
vmdir=$(mktemp -d /dev/shm/bench_stream_vm.XXXXXX 2>/dev/null) || vmdir=$tmp/vm
export VW_BENCH_STREAM_VMDATA="$vmdir"
ended=0
cleanup() {
    [ "$ended" = 0 ] && [ -s "$tmp/pid" ] && kill "$(cat "$tmp/pid")" 2>/dev/null
    vm_stop
    rm -rf "$tmp" "$vmdir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
flags=-dedup.minScrapeInterval=1ms
vm_start "$vmdir" $flags || exit 1
port=$VM_PORT
mkdir "$tmp/spool"
mkfifo "$tmp/ctl" "$tmp/ack" || exit 1
# Both FIFOs are opened read-write here, so that neither side's open blocks. This shell's own
# write end keeps ctl from ever reaching EOF, so a subshell says when the program has ended
# (whichever way) and with what status.
exec 3<>"$tmp/ctl" 4<>"$tmp/ack"
(
    "$bin" "$VM_URL" "$tmp/spool" "$tmp/ctl" "$tmp/ack" 3>&- 4>&- &
    echo $! >"$tmp/pid"
    wait $!
    echo "exited $?" >"$tmp/ctl"
) 3>&- 4>&- &
sub=$!
rc=1
while read -r cmd arg <&3; do
    case $cmd in
    stop) vm_stop; echo ok >&4 ;;
    start)
        if VM_REUSE_PORT=$port vm_start "$vmdir" $flags; then echo ok >&4; else echo failed >&4; fi ;;
    exited) rc=$arg; ended=1; break ;;
    *) echo "bench_stream.sh: unknown request \"$cmd\"" >&2; echo failed >&4 ;;
    esac
done
wait "$sub"
exit "$rc"
