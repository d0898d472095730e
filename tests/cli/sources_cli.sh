#!/bin/sh
# tests/cli/sources_cli.sh — the commands that read sources, from the outside: `vibewatch record`,
# `vibewatch analyze --seconds S SOURCE`, and the self-check that keeps a broken sensor from being
# diagnosed as a broken bearing.
set -u
: "${VW_BIN:?}" "${VW_TEST_TMP:?}"
T="$VW_TEST_TMP/sources_cli"
mkdir -p "$T"
ok() { echo "ok - sources_cli: $1"; }
bad() { echo "not ok - sources_cli: $1"; }
command -v jq >/dev/null 2>&1 || { bad "jq is not installed (make deps)"; exit 0; }
PY=/usr/bin/python3
[ -x "$PY" ] || { bad "/usr/bin/python3 is missing (make deps)"; exit 0; }

# record: 1.5 s of a 3-channel simulated pump → a float WAV of 3 channels, 1.5 s at the source's rate
if "$VW_BIN" record "sim:pump?channels=3&rate=25600&t0=2024-01-01T00:00:00Z" --seconds 1.5 -o "$T/rec.wav" 2>"$T/rec.err"; then
    info=$($PY -c "
import struct,sys
b=open('$T/rec.wav','rb').read()
i=12; ch=rate=bits=n=0
while i+8<=len(b):
    cid=b[i:i+4]; sz=struct.unpack('<I',b[i+4:i+8])[0]
    if cid==b'fmt ': fmt,ch,rate,_,_,bits=struct.unpack('<HHIIHH',b[i+8:i+24])
    if cid==b'data': n=sz//(ch*bits//8)
    i+=8+sz+(sz&1)
print(ch,rate,bits,n)")
    [ "$info" = "3 25600 32 38400" ] && ok "record sim:pump 1.5 s, 3 channels: float32 WAV of 3 ch × 38400 samples at 25600 Hz" \
        || bad "record: WAV has (channels rate bits samples) = $info, want 3 25600 32 38400"
    grep -q "rec.wav: 1.500 s of 3 channels at 25600 Hz" "$T/rec.err" && ok "record says what it captured" \
        || bad "record's summary line: $(cat "$T/rec.err")"
else
    bad "record sim:pump failed: $(cat "$T/rec.err")"
fi
# record refuses what is not a source, and reports an unknown scheme / key with the URI part
"$VW_BIN" record /tmp/x.wav --seconds 1 -o "$T/x.wav" 2>"$T/e1"; rc=$?
[ $rc -eq 2 ] && grep -q "not a source URI" "$T/e1" && ok "record of a plain path is refused (exit 2)" || bad "record /tmp/x.wav: exit $rc: $(cat "$T/e1")"
"$VW_BIN" record "sim:pump?colour=red" --seconds 1 -o "$T/x.wav" 2>"$T/e2"; rc=$?
[ $rc -eq 1 ] && grep -q 'unknown key "colour"' "$T/e2" && ok "record with an unknown query key names it" || bad "unknown key: exit $rc: $(cat "$T/e2")"
# a mistyped key is named before the backend connects anywhere (port 1 on loopback: nothing there)
"$VW_BIN" record "iio:ip:127.0.0.1:1?device=adxl355&chanels=accel_x" --seconds 1 -o "$T/x.wav" 2>"$T/e5"; rc=$?
[ $rc -eq 1 ] && grep -q 'unknown key "chanels" for iio: sources (known: device, channels' "$T/e5" \
    && ok "an iio: URI with a mistyped key names the key and the known ones, before connecting" \
    || bad "iio typo: exit $rc: $(cat "$T/e5")"
"$VW_BIN" record "ioo:x" --seconds 1 -o "$T/x.wav" 2>"$T/e3"; rc=$?
[ $rc -ne 0 ] && grep -q "not a source URI\|unknown scheme" "$T/e3" && ok "record of an unknown scheme is refused" || bad "ioo: exit $rc: $(cat "$T/e3")"
[ ! -e "$T/x.wav" ] && ok "a refused record writes no file" || bad "a refused record left $T/x.wav"

# analyze a source: late in a simulated pump's outer-race failure → outer_race; early → none
late=$("$VW_BIN" analyze --json --seconds 2 --rpm 2970 --bearing "Timken 6309" \
    "sim:pump?fault=outer_race&onset_days=10&failure_days=40&start_days=38&t0=2024-01-01T00:00:00Z" 2>"$T/a.err")
d=$(printf '%s' "$late" | jq -r '.[0].channels[0].diagnosis' 2>/dev/null)
[ "$d" = outer_race ] && ok "analyze --seconds 2 sim:pump on day 38 of an outer-race failure: outer_race" \
    || bad "analyze sim late: diagnosis \"$d\" ($(cat "$T/a.err"))"
early=$("$VW_BIN" analyze --json --seconds 2 --rpm 2970 --bearing "Timken 6309" \
    "sim:pump?fault=outer_race&onset_days=10&failure_days=40&start_days=3&t0=2024-01-01T00:00:00Z" 2>>"$T/a.err")
d=$(printf '%s' "$early" | jq -r '.[0].channels[0].diagnosis' 2>/dev/null)
[ "$d" = none ] && ok "analyze sim:pump on day 3, before the onset: none" || bad "analyze sim early: diagnosis \"$d\""
"$VW_BIN" analyze --rpm 1797 "sim:pump" >/dev/null 2>"$T/e4"; rc=$?
[ $rc -eq 1 ] && grep -q "needs --seconds" "$T/e4" && ok "analyze of a source without --seconds says so" || bad "no --seconds: exit $rc: $(cat "$T/e4")"

# the self-check: a saturated and a dead channel are sensor faults, never bearing faults
$PY - "$T" <<'PYEOF'
import struct, math, sys
t = sys.argv[1]
def wav(name, xs):
    data = b''.join(struct.pack('<h', max(-32768, min(32767, int(round(v * 32767))))) for v in xs)
    hdr = b'RIFF' + struct.pack('<I', 36 + len(data)) + b'WAVEfmt ' + struct.pack('<IHHIIHH', 16, 1, 1, 12000, 24000, 2, 16)
    open(t + '/' + name, 'wb').write(hdr + b'data' + struct.pack('<I', len(data)) + data)
n = 36000
wav('saturated.wav', [max(-0.6, min(0.6, 2.0 * math.sin(2 * math.pi * 30 * i / 12000))) for i in range(n)])
wav('dead.wav', [0.0] * n)
# a 30 Hz sine with every 400th sample and the 60 after it zeroed: a link dropping samples
wav('dropouts.wav', [0.0 if (i % 400) < 60 else 0.3 * math.sin(2 * math.pi * 30 * i / 12000) for i in range(n)])
PYEOF
for f in saturated:clipping dead:flatline dropouts:dropout; do
    name=${f%%:*}; word=${f#*:}
    j=$("$VW_BIN" analyze --json --rpm 1797 --bearing 6205 "$T/$name.wav" 2>/dev/null)
    d=$(printf '%s' "$j" | jq -r '.[0].channels[0].diagnosis')
    why=$(printf '%s' "$j" | jq -r '.[0].channels[0].sensor_fault // ""')
    if [ "$d" = sensor_fault ] && printf '%s' "$why" | grep -q "^$word"; then
        ok "a $name channel is a sensor_fault ($word), not a bearing diagnosis"
    else
        bad "$name.wav: diagnosis \"$d\", reason \"$why\" (want sensor_fault: $word…)"
    fi
done
t=$("$VW_BIN" analyze --rpm 1797 --bearing 6205 "$T/dead.wav" 2>&1)
printf '%s' "$t" | grep -q "SENSOR FAULT" && ok "the text report shows SENSOR FAULT" || bad "text report: $t"
