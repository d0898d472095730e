#!/bin/sh
# tests/cli/scorecard_cwru.sh — the CWRU scorecard: `vibewatch analyze` over every record of
# $VW_DATA/cwru (speed from index.csv, bearing SKF 6205), a table of record, fault, Smith &
# Randall grade, diagnosis and strength, and the share of Y1/Y2 records diagnosed with the right
# fault type. Records graded P or N are shown, not counted. The floor asserted sits a little under
# what the analyser reaches, so a regression fails; the healthy record 97 must read "none".
set -u
: "${VW_BIN:?}" "${VW_TEST_TMP:?}"
DATA="${VW_DATA:-../shared/data}/cwru"
FLOOR_PERCENT=93   # reached: 42 of 44 (95.5 %); one record less (41, 93.2 %) still passes
name=scorecard_cwru

if [ ! -f "$DATA/index.csv" ]; then
    if [ "${VW_REQUIRE_DATA:-0}" = 1 ]; then
        echo "not ok - $name: $DATA/index.csv is missing and VW_REQUIRE_DATA=1"
    else
        echo "skip - $name: $DATA is missing (set VW_DATA)"
    fi
    exit 0
fi
command -v jq >/dev/null 2>&1 || { echo "not ok - $name: jq is not installed (make deps)"; exit 0; }

out="$VW_TEST_TMP/scorecard.txt"
counted=0 right=0 failures=0 healthy=""
printf '%-9s %-5s %-6s %-4s %-6s %-11s %-7s %-6s %s\n' record fault size load grade diagnosis strength ok \
    "strongest family (dB over floor, harmonics)" > "$out"
# columns: file,record,fs_hz,channel,bearing,fault,diameter_in,or_position,load_hp,rpm,samples,sr2015_grade,known_anomalies
tail -n +2 "$DATA/index.csv" | tr -d '\r' | while IFS=, read -r file rec fs ch bearing fault dia orpos load rpm samples grade anomalies; do
    [ -n "$file" ] || continue
    json=$("$VW_BIN" analyze --json --rpm "$rpm" --bearing 6205 "$DATA/$file" 2>"$VW_TEST_TMP/sc.err")
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "ERROR $file: exit $rc: $(head -1 "$VW_TEST_TMP/sc.err")"
        continue
    fi
    diag=$(printf '%s' "$json" | jq -r '.[0].channels[0].diagnosis')
    strength=$(printf '%s' "$json" | jq -r '.[0].channels[0].diagnosis_strength')
    best=$(printf '%s' "$json" | jq -r '.[0].channels[0].faults | max_by(.score) | "\(.type) \(.strength_db) dB, \(.harmonics)"')
    case $fault in IR) want=inner_race ;; OR) want=outer_race ;; B) want=ball ;; *) want=none; grade=Y-normal ;; esac
    mark="-"
    case $grade in Y*) if [ "$diag" = "$want" ]; then mark=yes; else mark=NO; fi ;; esac
    printf '%-9s %-5s %-6s %-4s %-6s %-11s %-7s %-6s %s\n' "$rec" "$fault" "$dia" "$load" "$grade" "$diag" \
        "$strength" "$mark" "$best"
done >> "$out"

cat "$out" | sed 's/^/# /'
errors=$(grep -c '^ERROR' "$out")
counted=$(awk 'NR > 1 && $5 ~ /^Y/ { n++ } END { print n + 0 }' "$out")
right=$(awk 'NR > 1 && $5 ~ /^Y/ && $8 == "yes" { n++ } END { print n + 0 }' "$out")
healthy=$(awk '$1 == "97" { print $6 }' "$out")
total=$(awk 'NR > 1 && !/^ERROR/ { n++ } END { print n + 0 }' "$out")
pct=$(awk -v r="$right" -v c="$counted" 'BEGIN { printf "%.1f", c ? 100 * r / c : 0 }')
echo "# Y1/Y2 records diagnosed right: $right of $counted ($pct %); records analysed: $total; floor $FLOOR_PERCENT %"

if [ "$errors" -ne 0 ]; then
    echo "not ok - $name: $errors record(s) could not be analysed: $(grep '^ERROR' "$out" | head -3 | tr '\n' ' ')"
elif [ "$total" -ne 61 ]; then
    echo "not ok - $name: expected 61 records in the index, analysed $total"
elif awk -v r="$right" -v c="$counted" -v f="$FLOOR_PERCENT" 'BEGIN { exit !(c > 0 && 100 * r >= f * c) }'; then
    echo "ok - $name: $right of $counted Y1/Y2 records diagnosed right ($pct %, floor $FLOOR_PERCENT %)"
else
    echo "not ok - $name: only $right of $counted Y1/Y2 records diagnosed right ($pct %, floor $FLOOR_PERCENT %)"
fi
if [ "$healthy" = none ]; then
    echo "ok - $name: healthy record 97 diagnosed none"
else
    echo "not ok - $name: healthy record 97 diagnosed \"$healthy\", not none"
fi
