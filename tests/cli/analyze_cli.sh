#!/bin/sh
# tests/cli/analyze_cli.sh — `vibewatch analyze` and `vibewatch simulate` tested from the outside,
# as a user runs them: exit statuses, what reaches stderr, the JSON document's shape, and a few
# truths the answers must hold (a simulated outer-race fault is found at its BPFO, the same samples
# in g and in m/s² give the same level, a sine's RMS is A/√2).
#
# Every input is made on the fly in $VW_TEST_TMP (printf, head -c, awk, `vibewatch simulate`, and
# /usr/bin/python3 with only its standard library for binary WAV files); nothing binary is kept in
# the repository. Each check prints one line: "ok - analyze_cli: NAME", "not ok - analyze_cli:
# NAME: WHY" or "skip - analyze_cli: NAME: WHY" (see tests/run.sh).
#
# Environment: VW_BIN (the vibewatch binary), VW_TEST_TMP (a scratch folder), VW_DATA (unused here).
set -u
PROG=analyze_cli

ok()   { echo "ok - $PROG: $1"; }
nok()  { echo "not ok - $PROG: $1: $2"; failures=$((failures + 1)); }
skip() { echo "skip - $PROG: $1: $2"; }
failures=0

if ! command -v jq >/dev/null 2>&1; then
    echo "not ok - $PROG: jq is not installed: it is needed to read \`vibewatch analyze --json\` (apt-get install -y jq)"
    exit 1
fi
if [ -z "${VW_BIN:-}" ] || [ ! -x "$VW_BIN" ]; then
    echo "not ok - $PROG: VW_BIN (\"${VW_BIN:-}\") is not an executable vibewatch binary; build with \`make -s\`"
    exit 1
fi
case "$VW_BIN" in /*) ;; *) VW_BIN="$(pwd)/$VW_BIN" ;; esac

if [ -n "${VW_TEST_TMP:-}" ]; then
    W="$VW_TEST_TMP/$PROG"
    rm -rf "$W"
    mkdir -p "$W" || { echo "not ok - $PROG: cannot create $W"; exit 1; }
else
    W=$(mktemp -d "${TMPDIR:-/tmp}/$PROG.XXXXXX") || { echo "not ok - $PROG: mktemp failed"; exit 1; }
    trap 'rm -rf "$W"' EXIT
fi
# Files are named relative to $W, so that messages and JSON show them exactly as given.
cd "$W" || exit 1

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 2>/dev/null || true)

# ---- helpers -------------------------------------------------------------------------------------

# Runs a command with stdout in $W/out, stderr in $W/err and the exit status in $rc.
run() { "$@" >"$W/out" 2>"$W/err"; rc=$?; }

# stderr (or another file) on one line, bounded, for a reason.
oneline() { head -c "${2:-300}" "${1:-$W/err}" | tr '\n\t' '| '; }

# Lines in a file, counting an unterminated last line.
nlines() { grep -c '' "$1"; }

# status_text RC: "exit status N" or a note that the program died of a signal.
status_text() {
    if [ "$1" -gt 128 ]; then echo "exit status $1 (killed by signal $(($1 - 128)): a crash)"
    else echo "exit status $1"; fi
}

# bad_input NAME FILE KEYWORD_ERE KEYWORD_DESC [ANALYZE_ARGS...]
# The bad-input contract: exit status ≠ 0 (and no crash), exactly one line on stderr, naming the
# file and the problem. The file's name is removed before looking for the key word, so that a
# name like "nan.wav" cannot satisfy the search for "NaN" by itself.
bad_input() {
    bi_name=$1 bi_file=$2 bi_kw=$3 bi_desc=$4
    shift 4
    run "$VW_BIN" analyze "$@" "$bi_file"
    bi_lines=$(nlines "$W/err")
    if [ "$rc" -eq 0 ]; then
        nok "$bi_name" "exit status 0, expected non-zero; stdout: $(oneline "$W/out" 200)"
    elif [ "$rc" -gt 128 ] || grep -q 'Sanitizer\|runtime error' "$W/err"; then
        nok "$bi_name" "$(status_text "$rc"); stderr: $(oneline "$W/err" 600)"
    elif [ "$bi_lines" -ne 1 ]; then
        nok "$bi_name" "stderr has $bi_lines lines, expected exactly one: $(oneline)"
    elif ! grep -qF -- "$bi_file" "$W/err"; then
        nok "$bi_name" "stderr does not name the file \"$bi_file\": $(oneline)"
    elif ! sed "s|$bi_file||g" "$W/err" | grep -qiE -e "$bi_kw"; then
        nok "$bi_name" "stderr does not say $bi_desc (looked for /$bi_kw/): $(oneline)"
    else
        ok "$bi_name"
    fi
}

# flag_error NAME EXPECTED_RC "WORD..." ANALYZE_ARGS...
# A refused option: the expected exit status, every WORD (fixed strings, e.g. the flag) on
# stderr, and no report on stdout.
flag_error() {
    fe_name=$1 fe_want=$2 fe_words=$3
    shift 3
    run "$VW_BIN" analyze "$@"
    fe_missing=
    for fe_w in $fe_words; do
        grep -qF -- "$fe_w" "$W/err" || fe_missing="$fe_missing \"$fe_w\""
    done
    if [ "$rc" -ne "$fe_want" ]; then
        nok "$fe_name" "$(status_text "$rc"), expected $fe_want; stderr: $(oneline)"
    elif [ -n "$fe_missing" ]; then
        nok "$fe_name" "stderr does not mention$fe_missing: $(oneline)"
    elif [ -s "$W/out" ]; then
        nok "$fe_name" "a refused command still printed a report on stdout: $(oneline "$W/out" 200)"
    else
        ok "$fe_name"
    fi
}

# json_check NAME JQ_PROGRAM FILE [JQ_ARGS...]
# JQ_PROGRAM reads the document in FILE and prints a JSON string: "" when all is well, else the
# reason. Invalid JSON, or more than one document, is a failure of its own.
json_check() {
    jc_name=$1 jc_prog=$2 jc_file=$3
    shift 3
    if ! jq -e . "$jc_file" >/dev/null 2>&1; then
        nok "$jc_name" "stdout is not valid JSON: $(oneline "$jc_file" 200)"
        return
    fi
    jc_docs=$(jq -s length "$jc_file")
    if [ "$jc_docs" != 1 ]; then
        nok "$jc_name" "stdout holds $jc_docs JSON documents, expected one"
        return
    fi
    if ! jc_why=$(jq -r "$@" "$jc_prog" "$jc_file" 2>&1); then
        nok "$jc_name" "jq could not evaluate the check: $(echo "$jc_why" | head -c 300)"
    elif [ -n "$jc_why" ]; then
        nok "$jc_name" "$jc_why"
    else
        ok "$jc_name"
    fi
}

# jq definitions shared by the checks: chk(WHAT; COND) yields WHAT when COND is not true (an
# error in COND, e.g. a missing field, counts as not true); report joins the failures. jq 1.6 has
# no portable fabs, hence absv.
JQ_LIB='
def absv: if . < 0 then -. else . end;
def chk(what; cond):
  if ([try (cond) catch false] | (length > 0 and all)) then empty
  else (try what catch "a check failed (its message could not be built: \(.))") end;
def near(a; b; tol): (a | type) == "number" and ((a - b) | absv) <= tol;
def rel(a; b; tol): (a | type) == "number" and ((a - b) | absv) <= tol * (b | absv);
def report(checks): [checks] | join("; ");
'

# ---- inputs --------------------------------------------------------------------------------------

# The simulated machine: 1797 rpm (29.95 Hz), SKF 6205, 12 kHz, 10 s; an outer-race fault and a
# healthy one.
run "$VW_BIN" simulate --fault outer -o fault.wav
if [ "$rc" -eq 0 ] && [ -s fault.wav ]; then
    ok "simulate --fault outer writes fault.wav"
else
    nok "simulate --fault outer writes fault.wav" "$(status_text "$rc"); stderr: $(oneline)"
fi
run "$VW_BIN" simulate --fault none -o healthy.wav
if [ "$rc" -eq 0 ] && [ -s healthy.wav ]; then
    ok "simulate --fault none writes healthy.wav"
else
    nok "simulate --fault none writes healthy.wav" "$(status_text "$rc"); stderr: $(oneline)"
fi

# Binary WAV files that simulate cannot make, written with the standard library only.
cat > mkwav.py <<'EOF'
import math, struct, sys, wave

def wav_f32(path, samples, fs=12000, nchan=1, data_size=None):
    data = b"".join(struct.pack("<f", s) for s in samples)
    fmt = struct.pack("<HHIIHH", 3, nchan, fs, fs * 4 * nchan, 4 * nchan, 32)
    size = len(data) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size) + data
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)

def tone(n, amp, hz, fs=12000):
    return [amp * math.sin(2 * math.pi * hz * i / fs) for i in range(n)]

def pcm16(path, channels, fs=12000):
    """channels: equal-length lists of samples in [-1, 1)."""
    w = wave.open(path, "wb")
    w.setnchannels(len(channels))
    w.setsampwidth(2)
    w.setframerate(fs)
    frames = bytearray()
    for frame in zip(*channels):
        for s in frame:
            frames += struct.pack("<h", max(-32768, min(32767, round(32768 * s))))
    w.writeframes(bytes(frames))
    w.close()

what = sys.argv[1]
if what == "nan":          # a NaN at sample 5000 of 12000, past the reader's first block
    s = tone(12000, 0.1, 157); s[5000] = float("nan"); wav_f32("nan.wav", s)
elif what == "inf":
    s = tone(12000, 0.1, 157); s[7777] = float("inf"); wav_f32("inf.wav", s)
elif what == "zero":       # a valid header whose data chunk holds no sample
    wav_f32("zero_samples.wav", [])
elif what == "stereo":     # channel 0: 0.5 FS at 157 Hz, channel 1: 0.25 FS at 400 Hz, 1 s
    pcm16("stereo.wav", [tone(12000, 0.5, 157), tone(12000, 0.25, 400)])
elif what == "tone":       # a pure 1 kHz tone, 0.5 FS, 2 s: no impacts at all
    pcm16("tone.wav", [tone(24000, 0.5, 1000)])
EOF
if [ -n "$PY" ]; then
    for k in nan inf zero stereo tone; do
        "$PY" mkwav.py "$k" 2>>mkwav.err || echo "mkwav.py $k failed" >>mkwav.err
    done
fi
have_py() { # NAME FILE: true when FILE was made; else prints a skip (no python) or a failure
    if [ -z "$PY" ]; then
        skip "$1" "no /usr/bin/python3 to write $2"
        return 1
    fi
    if [ ! -s "$2" ]; then
        nok "$1" "could not write $2 with $PY: $(oneline mkwav.err)"
        return 1
    fi
    return 0
}

# Text files.
printf 'Maintenance notes\nPump P-101 was greased on Monday.\n' > notes.md
head -c 10 fault.wav 2>/dev/null > truncated_riff.wav      # inside the 12-byte RIFF header
head -c 30 fault.wav 2>/dev/null > truncated_fmt.wav       # inside the fmt chunk
head -c 1000 fault.wav 2>/dev/null > truncated_data.wav    # 480 000 bytes of samples announced
awk 'BEGIN { for (i = 0; i < 3000; i++) printf "%.6f\n", 0.1 * sin(i * 0.3) }' > no_fs.csv
awk 'BEGIN { for (i = 1; i <= 3000; i++) if (i == 1500) print "abc"; else printf "%.6f\n", 0.1 * sin(i * 0.3) }' \
    > not_number.csv
# The same 2 s of samples (0.5 g at 157 Hz + 0.05 g at 1234 Hz) in g and in m/s²; whole numbers of
# periods, so the RMS is exactly sqrt(0.5²/2 + 0.05²/2) = 0.355317 g.
awk 'BEGIN { pi = atan2(0, -1); print "accel_g"
             for (i = 0; i < 24000; i++) { t = i / 12000
                 printf "%.9g\n", 0.5 * sin(2 * pi * 157 * t) + 0.05 * sin(2 * pi * 1234 * t) } }' > level_g.csv
awk 'BEGIN { pi = atan2(0, -1); print "accel_m_s2"
             for (i = 0; i < 24000; i++) { t = i / 12000
                 printf "%.9g\n", 9.80665 * (0.5 * sin(2 * pi * 157 * t) + 0.05 * sin(2 * pi * 1234 * t)) } }' > level_ms2.csv
# Two columns: 0.5 g at 157 Hz and 0.25 g at 400 Hz.
awk 'BEGIN { pi = atan2(0, -1); print "x,y"
             for (i = 0; i < 12000; i++) { t = i / 12000
                 printf "%.9g,%.9g\n", 0.5 * sin(2 * pi * 157 * t), 0.25 * sin(2 * pi * 400 * t) } }' > two_columns.csv

# ---- 1. bad input: exit ≠ 0, one line on stderr naming the file and the problem -----------------

bad_input "bad input: missing file" no_such_file.wav 'no such file|cannot open|not found|does not exist' \
    "that it does not exist"
bad_input "bad input: a text file that is neither WAV nor CSV" notes.md 'recogni[sz]|unknown format|not a (WAV|CSV)' \
    "that the format is not recognised"
bad_input "bad input: WAV truncated inside the RIFF header" truncated_riff.wav 'truncat|too short' \
    "that it is truncated"
bad_input "bad input: WAV truncated inside the fmt chunk" truncated_fmt.wav 'truncat|too short' \
    "that it is truncated"
bad_input "bad input: WAV whose data chunk is truncated" truncated_data.wav 'truncat' \
    "that the data is truncated"
if have_py "bad input: WAV with zero samples" zero_samples.wav; then
    bad_input "bad input: WAV with zero samples" zero_samples.wav 'zero samples|no samples|0 samples|empty' \
        "that there are no samples"
fi
if have_py "bad input: WAV containing NaN" nan.wav; then
    bad_input "bad input: WAV containing NaN" nan.wav 'NaN.*5000|5000.*NaN' \
        "NaN and its sample index 5000"
fi
if have_py "bad input: WAV containing +Inf" inf.wav; then
    bad_input "bad input: WAV containing +Inf" inf.wav 'Inf.*7777|7777.*Inf' \
        "Inf and its sample index 7777"
fi
bad_input "bad input: CSV without --fs" no_fs.csv '--fs|sample rate' "that --fs (the sample rate) is needed"
bad_input "bad input: CSV with a non-number on line 1500" not_number.csv 'not a number.*abc|1500.*(number|abc)' \
    "that \"abc\" is not a number" --fs 12000

# ---- 2. flag errors: exit 2 and the flag named --------------------------------------------------

flag_error "flags: unknown bearing name" 2 "--bearing NoSuchBearing42" --bearing NoSuchBearing42 fault.wav
flag_error "flags: --rpm with --shaft-hz" 2 "--rpm --shaft-hz" --rpm 1797 --shaft-hz 29.95 fault.wav
flag_error "flags: --bearing with --geometry" 2 "--bearing --geometry" \
    --bearing 6205 --geometry 9,7.94,39.04,0 fault.wav
flag_error "flags: --geometry with three fields" 2 "--geometry" --geometry 9,7.94,39.04 fault.wav
flag_error "flags: --geometry with five fields" 2 "--geometry" --geometry 9,7.94,39.04,0,1 fault.wav
flag_error "flags: --geometry with ball diameter > pitch" 2 "--geometry" --geometry 9,40,39.04,0 fault.wav
flag_error "flags: --geometry with ball diameter = pitch" 2 "--geometry" --geometry 9,39.04,39.04,0 fault.wav
flag_error "flags: --band 5000,4000 (lo > hi)" 2 "--band" --band 5000,4000 fault.wav
flag_error "flags: --rpm abc" 2 "--rpm abc" --rpm abc fault.wav
flag_error "flags: --rpm=abc" 2 "--rpm abc" --rpm=abc fault.wav
flag_error "flags: --units furlongs" 2 "--units furlongs" --units furlongs fault.wav
flag_error "flags: unknown option --frobnicate" 2 "--frobnicate" --frobnicate fault.wav
# --channel is checked per file: the file is named and the run fails with 1, not 2.
flag_error "flags: --channel 3 on a mono file names the file" 1 "--channel fault.wav" --channel 3 fault.wav

# ---- 3. several files, one of them bad ------------------------------------------------------------

name="several files (text): the good ones are analysed, the bad one reported, exit 1"
run "$VW_BIN" analyze --rpm 1797 --bearing 6205 fault.wav truncated_data.wav healthy.wav
if [ "$rc" -ne 1 ]; then
    nok "$name" "$(status_text "$rc"), expected 1; stderr: $(oneline)"
elif ! grep -q '^fault\.wav: ' "$W/out" || ! grep -q '^healthy\.wav: ' "$W/out"; then
    nok "$name" "a report of fault.wav or healthy.wav is missing from stdout: $(oneline "$W/out" 300)"
elif [ "$(grep -c 'diagnosis' "$W/out")" -ne 2 ]; then
    nok "$name" "expected two diagnosis lines (one per good file): $(grep diagnosis "$W/out" | oneline /dev/stdin)"
elif ! grep -qF truncated_data.wav "$W/err"; then
    nok "$name" "stderr does not name truncated_data.wav: $(oneline)"
elif grep -qF -e fault.wav -e healthy.wav "$W/err"; then
    nok "$name" "stderr names a good file as bad: $(oneline)"
else
    ok "$name"
fi

name="several files (--json): one array, one object per file, the bad one with \"error\", exit 1"
run "$VW_BIN" analyze --json --rpm 1797 --bearing 6205 fault.wav truncated_data.wav healthy.wav
if [ "$rc" -ne 1 ]; then
    nok "$name" "$(status_text "$rc"), expected 1; stderr: $(oneline)"
else
    json_check "$name" "$JQ_LIB"'
      if type != "array" then "top level is a \(type), not an array" else report(
        chk("\(length) objects, expected 3"; length == 3),
        chk("[0] is not fault.wav with one channel and no error";
            .[0].file == "fault.wav" and (.[0].channels | length) == 1 and (.[0] | has("error") | not)),
        chk("[0] (fault.wav) is not diagnosed outer_race: \(.[0].channels[0].diagnosis)";
            .[0].channels[0].diagnosis == "outer_race"),
        chk("[1] is not truncated_data.wav with an \"error\" string naming the problem: \(.[1])";
            .[1].file == "truncated_data.wav" and (.[1].error | type) == "string"
            and (.[1].error | test("truncat"; "i")) and (.[1] | has("channels") | not)),
        chk("[2] is not healthy.wav with one channel and no error";
            .[2].file == "healthy.wav" and (.[2].channels | length) == 1 and (.[2] | has("error") | not)))
      end' "$W/out"
fi

# ---- 4. the JSON document of a simulated outer-race fault ---------------------------------------

run "$VW_BIN" analyze --json --rpm 1797 --bearing 6205 fault.wav
cp "$W/out" fault.json
if [ "$rc" -ne 0 ]; then
    nok "json: analyze --json --rpm 1797 --bearing 6205 fault.wav exits 0" "$(status_text "$rc"); stderr: $(oneline)"
else
    ok "json: analyze --json --rpm 1797 --bearing 6205 fault.wav exits 0"
fi
json_check "json: shape of the document (file, rate, length, channels[0] fields)" "$JQ_LIB"'
  if type != "array" then "top level is a \(type), not an array" else
  .[0] as $f | ($f.channels[0] // {}) as $c | report(
    chk("\(length) file objects, expected 1"; length == 1),
    chk("file is \($f.file | tojson), expected \"fault.wav\""; $f.file == "fault.wav"),
    chk("fs_hz is \($f.fs_hz | tojson), expected 12000"; $f.fs_hz == 12000),
    chk("samples is \($f.samples | tojson), expected 120000 (10 s)"; $f.samples == 120000),
    chk("channels is not an array of one object"; ($f.channels | type) == "array" and ($f.channels | length) == 1),
    chk("channel is \($c.channel | tojson), expected 0"; $c.channel == 0),
    (("accel_rms_g", "accel_peak_g", "crest", "kurtosis", "skewness", "velocity_rms_mm_s") as $k
        | chk("\($k) is \($c[$k] | tojson), not a number"; ($c[$k] | type) == "number")),
    chk("accel_rms_g \($c.accel_rms_g) is not > 0"; $c.accel_rms_g > 0),
    chk("accel_peak_g \($c.accel_peak_g) < accel_rms_g \($c.accel_rms_g)"; $c.accel_peak_g >= $c.accel_rms_g),
    chk("crest \($c.crest) is not peak/rms = \($c.accel_peak_g / $c.accel_rms_g) (±1 %)";
        rel($c.crest; $c.accel_peak_g / $c.accel_rms_g; 0.01)),
    chk("velocity_rms_mm_s \($c.velocity_rms_mm_s) is negative"; $c.velocity_rms_mm_s >= 0),
    chk("iso_zone is \($c.iso_zone | tojson), not one of A-D"; $c.iso_zone | test("^[A-D]$")),
    chk("shaft_hz is \($c.shaft_hz | tojson), expected 29.95 (1797 rpm)"; near($c.shaft_hz; 29.95; 0.001)),
    chk("shaft_hz_source is \($c.shaft_hz_source | tojson), expected \"given\""; $c.shaft_hz_source == "given"),
    chk("band_hz is \($c.band_hz | tojson), expected [lo, hi] with lo < hi";
        ($c.band_hz | length) == 2 and ($c.band_hz | map(type == "number") | all) and $c.band_hz[0] < $c.band_hz[1]),
    chk("harmonics_1x_2x_3x_mm_s is \($c.harmonics_1x_2x_3x_mm_s | tojson), expected 3 numbers";
        ($c.harmonics_1x_2x_3x_mm_s | length) == 3 and ($c.harmonics_1x_2x_3x_mm_s | map(type == "number") | all)),
    chk("faults types are \([$c.faults[]?.type] | tojson), expected BPFO, BPFI, BSF, FTF";
        ($c.faults | type) == "array" and ([$c.faults[].type] | sort) == (["BPFO", "BPFI", "BSF", "FTF"] | sort)),
    ($c.faults[]? as $x | ("expected_hz", "found_hz", "strength_db", "harmonics") as $k
        | chk("faults[\($x.type)].\($k) is \($x[$k] | tojson), not a number"; ($x[$k] | type) == "number")),
    ($c.faults[]? as $x
        | chk("faults[\($x.type)].detected is \($x.detected | tojson), not a boolean"; ($x.detected | type) == "boolean")),
    chk("diagnosis is \($c.diagnosis | tojson), not a string"; ($c.diagnosis | type) == "string"))
  end' fault.json
json_check "json: BPFO expected_hz = 3.5848 x 29.95 Hz (107.365 ± 0.05)" "$JQ_LIB"'
  ([.[0].channels[0].faults[]? | select(.type == "BPFO")][0]) as $b |
  report(chk("BPFO expected_hz is \($b.expected_hz | tojson)"; near($b.expected_hz; 3.5848 * 29.95; 0.05)))' fault.json
json_check "json: the simulated outer-race fault is diagnosed outer_race, BPFO found within 2 %" "$JQ_LIB"'
  .[0].channels[0] as $c | ([$c.faults[]? | select(.type == "BPFO")][0]) as $b |
  report(
    chk("diagnosis is \($c.diagnosis | tojson), expected \"outer_race\"; faults: \([$c.faults[]? | "\(.type) \(.strength_db) dB \(if .detected then "detected" else "-" end)"] | join(", "))";
        $c.diagnosis == "outer_race"),
    chk("BPFO is not detected"; $b.detected == true),
    chk("BPFO found at \($b.found_hz) Hz, expected \($b.expected_hz) Hz ± 2 %"; rel($b.found_hz; $b.expected_hz; 0.02)))' fault.json

# ---- 5. where the speed came from ---------------------------------------------------------------

run "$VW_BIN" analyze --json --bearing 6205 fault.wav
json_check "speed: without --rpm it is estimated, within 1 % of 29.95 Hz" "$JQ_LIB"'
  .[0].channels[0] as $c | report(
    chk("shaft_hz_source is \($c.shaft_hz_source | tojson), expected \"estimated\""; $c.shaft_hz_source == "estimated"),
    chk("shaft_hz is \($c.shaft_hz | tojson), expected 29.95 ± 1 %"; rel($c.shaft_hz; 29.95; 0.01)))' "$W/out"
run "$VW_BIN" analyze --json --shaft-hz 29.95 --bearing 6205 fault.wav
json_check "speed: with --shaft-hz 29.95 it is given" "$JQ_LIB"'
  .[0].channels[0] as $c | report(
    chk("shaft_hz_source is \($c.shaft_hz_source | tojson), expected \"given\""; $c.shaft_hz_source == "given"),
    chk("shaft_hz is \($c.shaft_hz | tojson), expected 29.95"; near($c.shaft_hz; 29.95; 0.001)))' "$W/out"

# ---- 6. units -----------------------------------------------------------------------------------

run "$VW_BIN" analyze --json --fs 12000 level_g.csv
cp "$W/out" level_g.json
run "$VW_BIN" analyze --json --fs 12000 --units m/s2 level_ms2.csv
cp "$W/out" level_ms2.json
json_check "units: the same samples in m/s2 (--units m/s2) give the same levels in g (0.1 %)" "$JQ_LIB"'
  .[0].channels[0] as $m | ($g[0][0].channels[0] // {}) as $c | report(
    chk("the g file was not analysed: \($g[0][0] | tojson)"; ($c.accel_rms_g | type) == "number"),
    chk("accel_rms_g: \($m.accel_rms_g) from m/s2, \($c.accel_rms_g) from g"; rel($m.accel_rms_g; $c.accel_rms_g; 0.001)),
    chk("velocity_rms_mm_s: \($m.velocity_rms_mm_s) from m/s2, \($c.velocity_rms_mm_s) from g";
        rel($m.velocity_rms_mm_s; $c.velocity_rms_mm_s; 0.001)))' level_ms2.json --slurpfile g level_g.json
json_check "units: a sine mix of 0.5 g + 0.05 g has accel_rms_g = sqrt(0.5²/2 + 0.05²/2) = 0.35532 (0.5 %)" "$JQ_LIB"'
  .[0].channels[0] as $c | report(
    chk("accel_rms_g is \($c.accel_rms_g | tojson)"; rel($c.accel_rms_g; ((0.125 + 0.00125) | sqrt); 0.005)))' level_g.json

# ---- 7. several channels ------------------------------------------------------------------------

if have_py "channels: a 2-channel PCM16 WAV gives two channel objects" stereo.wav; then
    run "$VW_BIN" analyze --json stereo.wav
    json_check "channels: a 2-channel PCM16 WAV gives two channel objects" "$JQ_LIB"'
      .[0] as $f | report(
        chk("error: \($f.error)"; $f | has("error") | not),
        chk("channels are \([$f.channels[]?.channel] | tojson), expected [0,1]"; [$f.channels[].channel] == [0, 1]),
        chk("channel 0 accel_rms_g is \($f.channels[0].accel_rms_g), expected 0.5/sqrt(2) = 0.35355 (0.5 %)";
            rel($f.channels[0].accel_rms_g; 0.5 / (2 | sqrt); 0.005)),
        chk("channel 1 accel_rms_g is \($f.channels[1].accel_rms_g), expected 0.25/sqrt(2) = 0.17678 (0.5 %)";
            rel($f.channels[1].accel_rms_g; 0.25 / (2 | sqrt); 0.005)))' "$W/out"
    run "$VW_BIN" analyze --json --channel 1 stereo.wav
    json_check "channels: --channel 1 gives only channel 1" "$JQ_LIB"'
      .[0] as $f | report(
        chk("error: \($f.error)"; $f | has("error") | not),
        chk("channels are \([$f.channels[]?.channel] | tojson), expected [1]"; [$f.channels[].channel] == [1]),
        chk("its accel_rms_g is \($f.channels[0].accel_rms_g), expected channel 1'"'"'s 0.17678 (0.5 %)";
            rel($f.channels[0].accel_rms_g; 0.25 / (2 | sqrt); 0.005)))' "$W/out"
fi
run "$VW_BIN" analyze --json --fs 12000 two_columns.csv
json_check "channels: a 2-column CSV gives two channel objects" "$JQ_LIB"'
  .[0] as $f | report(
    chk("error: \($f.error)"; $f | has("error") | not),
    chk("channels are \([$f.channels[]?.channel] | tojson), expected [0,1]"; [$f.channels[].channel] == [0, 1]),
    chk("accel_rms_g are \([$f.channels[]?.accel_rms_g] | tojson), expected [0.35355, 0.17678] (0.5 %)";
        rel($f.channels[0].accel_rms_g; 0.5 / (2 | sqrt); 0.005) and rel($f.channels[1].accel_rms_g; 0.25 / (2 | sqrt); 0.005)))' "$W/out"

# ---- 8. healthy machines are not diagnosed ------------------------------------------------------

DIAG_NONE='
  .[0].channels[0] as $c | report(
    chk("diagnosis is \($c.diagnosis | tojson), expected \"none\"; faults: \([$c.faults[]? | "\(.type) \(.found_hz) Hz \(.strength_db) dB \(.harmonics)/4 \(if .detected then "detected" else "-" end)"] | join(", "))";
        $c.diagnosis == "none"))'
run "$VW_BIN" analyze --json --bearing 6205 --rpm 1797 healthy.wav
json_check "healthy: simulate --fault none is diagnosed none" "$JQ_LIB$DIAG_NONE" "$W/out"
# A pure tone has no impacts, so no bearing defect: its envelope is flat.
if have_py "healthy: a pure 1 kHz tone (PCM16) is not diagnosed as a bearing fault" tone.wav; then
    run "$VW_BIN" analyze --json --bearing 6205 --rpm 1797 tone.wav
    json_check "healthy: a pure 1 kHz tone (PCM16) is not diagnosed as a bearing fault" "$JQ_LIB$DIAG_NONE" "$W/out"
fi

# ---- 9. the text report -------------------------------------------------------------------------

name="text report names the file, the ISO zone, BPFO and the diagnosis outer_race"
run "$VW_BIN" analyze --rpm 1797 --bearing 6205 fault.wav
missing=
for w in fault.wav zone BPFO outer_race; do
    grep -qF -- "$w" "$W/out" || missing="$missing \"$w\""
done
if [ "$rc" -ne 0 ]; then
    nok "$name" "$(status_text "$rc"); stderr: $(oneline)"
elif [ -n "$missing" ]; then
    nok "$name" "stdout lacks$missing: $(oneline "$W/out" 400)"
else
    ok "$name"
fi

# ---- 10. catalogue, version, unknown command ----------------------------------------------------

name="analyze --list-bearings lists SKF 6205-2RS JEM and Rexnord ZA-2115"
run "$VW_BIN" analyze --list-bearings
missing=
for w in "SKF 6205-2RS JEM" "Rexnord ZA-2115"; do
    grep -qF -- "$w" "$W/out" || missing="$missing \"$w\""
done
if [ "$rc" -ne 0 ]; then nok "$name" "$(status_text "$rc"); stderr: $(oneline)"
elif [ -n "$missing" ]; then nok "$name" "the list lacks$missing"
else ok "$name"; fi

# The backend the binary was built with: build/fftw*, build/kiss*; either when it cannot be told.
case "$VW_BIN" in
*/kiss*/vibewatch) backend=kiss ;;
*/fftw*/vibewatch) backend=fftw ;;
*) backend='fftw\|kiss' ;;
esac
name="version prints the FFT backend"
run "$VW_BIN" version
if [ "$rc" -ne 0 ]; then nok "$name" "$(status_text "$rc"); stderr: $(oneline)"
elif ! grep -qi "$backend" "$W/out"; then nok "$name" "expected \"$backend\" in: $(oneline "$W/out")"
else ok "$name"; fi

name="an unknown command (frobnicate) exits 2 and is named"
run "$VW_BIN" frobnicate
if [ "$rc" -ne 2 ]; then nok "$name" "$(status_text "$rc"), expected 2"
elif ! grep -qF frobnicate "$W/err"; then nok "$name" "stderr does not name it: $(oneline)"
else ok "$name"; fi

# ---- 11. simulate refuses bad values ------------------------------------------------------------

# sim_error NAME "WORD..." SIMULATE_ARGS...: exit 2, the words on stderr, and no file written.
sim_error() {
    se_name=$1 se_words=$2
    shift 2
    rm -f refused.wav
    run "$VW_BIN" simulate "$@"
    se_missing=
    for se_w in $se_words; do
        grep -qF -- "$se_w" "$W/err" || se_missing="$se_missing \"$se_w\""
    done
    if [ "$rc" -ne 2 ]; then nok "$se_name" "$(status_text "$rc"), expected 2; stderr: $(oneline)"
    elif [ -n "$se_missing" ]; then nok "$se_name" "stderr does not mention$se_missing: $(oneline)"
    elif [ -e refused.wav ]; then nok "$se_name" "refused, but refused.wav was written anyway"
    else ok "$se_name"; fi
}
sim_error "simulate: --fault x is refused" "--fault" --fault x -o refused.wav
sim_error "simulate: --rpm abc is refused" "--rpm abc" --rpm abc -o refused.wav
sim_error "simulate: --rpm=abc is refused, naming --rpm" "--rpm abc" --rpm=abc -o refused.wav
sim_error "simulate: --seconds -1 is refused" "--seconds" -o refused.wav --seconds -1

[ "$failures" -eq 0 ]
