#!/bin/sh
# deploy/run-demo.sh — what `make run` does until the appliance daemon (`vibewatch run`) lands:
# a simulated pump (SKF 6205 bearings at 1797 rpm) recorded twice, healthy and with an outer-race
# defect, and `vibewatch analyze` reading both, as an engineer would with two recordings.
set -eu
bin=${1:?usage: run-demo.sh PATH/TO/vibewatch}
dir=vibewatch-data/demo
mkdir -p "$dir"
"$bin" simulate --fault none  --rpm 1797 --seconds 10 --seed 7 -o "$dir/pump-healthy.wav"
"$bin" simulate --fault outer --rpm 1797 --seconds 10 --seed 7 --impact-g 1.5 --noise-g 0.4 -o "$dir/pump-outer-race.wav"
echo "Simulated pump, 10 s at 12 kHz each: $dir/pump-healthy.wav and $dir/pump-outer-race.wav"
echo "Analysing them with: $bin analyze --rpm 1797 --bearing 6205 FILE..."
echo
"$bin" analyze --rpm 1797 --bearing 6205 "$dir/pump-healthy.wav" "$dir/pump-outer-race.wav"
echo
echo "Try your own recordings: $bin analyze --bearing 6205 --rpm RPM FILE.wav (WAV or CSV; --json for scripts)."
