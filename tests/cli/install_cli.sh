#!/bin/sh
# tests/cli/install_cli.sh — `make install PREFIX=/usr DESTDIR=…` into a scratch root: every file
# where a Debian system expects it, with its mode; the default configuration valid and never
# overwritten; the systemd unit clean under `systemd-analyze verify` (pointed at the installed
# binary, with the installed man page); the man page without groff warnings; the installed binary
# serving the installed dashboard with no rebuild and no configured path.
set -u
: "${VW_BIN:?}" "${VW_TEST_TMP:?}" "${VW_BUILD:?}"
top=$(cd "$(dirname "$0")/../.." && pwd)
T="$VW_TEST_TMP/install_cli"
R="$T/root"
rm -rf "$T"
mkdir -p "$T"
PY=/usr/bin/python3
ok() { echo "ok - install_cli: $1"; }
bad() { echo "not ok - install_cli: $1"; }
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; }
trap cleanup EXIT INT TERM

# the Makefile's variables of this configuration (FFT=, SANITIZE=) come through MAKEFLAGS
if ! make -s -C "$top" install BUILD="$VW_BUILD" PREFIX=/usr DESTDIR="$R" >"$T/install.log" 2>&1; then
    bad "make install failed: $(tail -3 "$T/install.log")"
    exit 0
fi

# ---- what is where, with which mode --------------------------------------------------------------
want="755 usr/bin/vibewatch
640 etc/vibewatch/vibewatch.json
644 usr/lib/systemd/system/vibewatch.service
644 usr/lib/udev/rules.d/60-vibewatch.rules
644 usr/share/man/man1/vibewatch.1.gz
644 usr/share/vibewatch/dashboard/index.html
644 usr/share/vibewatch/dashboard/app.js.gz
750 var/lib/vibewatch"
missing=""
printf '%s\n' "$want" | {
    while read -r mode path; do
        got=$(stat -c %a "$R/$path" 2>/dev/null || echo none)
        [ "$got" = "$mode" ] || echo "$path: $got (want $mode)"
    done
} >"$T/modes.txt"
[ ! -s "$T/modes.txt" ] && ok "make install PREFIX=/usr DESTDIR=…: binary, config (0640), unit, udev rule, man page, dashboard, state folder (0750)" \
    || bad "installed files: $(tr '\n' ';' <"$T/modes.txt")"
cmp -s "$R/usr/bin/vibewatch" "$top/$VW_BUILD/vibewatch" && ok "the installed binary is the one built (no rebuild)" \
    || bad "the installed binary differs from $VW_BUILD/vibewatch"

# ---- the configuration ---------------------------------------------------------------------------
"$R/usr/bin/vibewatch" check-config "$R/etc/vibewatch/vibewatch.json" >"$T/cc.out" 2>&1 \
    && grep -q '"/var/lib/vibewatch"' "$R/etc/vibewatch/vibewatch.json" \
    && ok "the default configuration is valid and keeps its history in /var/lib/vibewatch" \
    || bad "default config: $(cat "$T/cc.out")"
printf '{"box":{"id":"mine"},"assets":[{"id":"a","type":"fan","sensors":[{"id":"s","source":"sim:fan"}]}]}\n' \
    >"$R/etc/vibewatch/vibewatch.json"
make -s -C "$top" install BUILD="$VW_BUILD" PREFIX=/usr DESTDIR="$R" >"$T/install2.log" 2>&1
grep -q '"mine"' "$R/etc/vibewatch/vibewatch.json" && grep -q "KEEP" "$T/install2.log" \
    && ok "a second make install keeps the administrator's configuration (and says so)" \
    || bad "the configuration was overwritten: $(head -c 200 "$R/etc/vibewatch/vibewatch.json") / $(cat "$T/install2.log")"

# ---- the systemd unit ----------------------------------------------------------------------------
unit="$R/usr/lib/systemd/system/vibewatch.service"
for k in "Type=notify" "WatchdogSec=" "Restart=on-failure" "User=vibewatch" "SupplementaryGroups=audio iio" \
    "NoNewPrivileges=yes" "ProtectSystem=strict" "StateDirectory=vibewatch" "ProtectHome=yes" "PrivateTmp=yes" \
    "RestrictAddressFamilies=" "ExecStart=/usr/bin/vibewatch run -c /etc/vibewatch/vibewatch.json"; do
    grep -q "^$k" "$unit" || echo "$k" >>"$T/unit-missing.txt"
done
[ ! -s "$T/unit-missing.txt" ] && ok "the unit: Type=notify, WatchdogSec, Restart=on-failure, its own user and groups, hardening" \
    || bad "the unit lacks: $(tr '\n' ';' <"$T/unit-missing.txt")"
if command -v systemd-analyze >/dev/null 2>&1; then
    mkdir -p "$T/verify"
    sed "s|^ExecStart=/usr/bin/vibewatch|ExecStart=$R/usr/bin/vibewatch|" "$unit" >"$T/verify/vibewatch.service"
    MANPATH="$R/usr/share/man" systemd-analyze verify "$T/verify/vibewatch.service" >"$T/verify.out" 2>&1
    rc=$?
    grep -v "PR_SET_MM_ARG_START" "$T/verify.out" >"$T/verify.txt"
    [ $rc -eq 0 ] && [ ! -s "$T/verify.txt" ] && ok "systemd-analyze verify: clean (the unit, its binary, its man page)" \
        || bad "systemd-analyze verify (exit $rc): $(tr '\n' ';' <"$T/verify.txt")"
else
    bad "systemd-analyze is missing (the systemd package)"
fi

# ---- the udev rule: the program it runs, on a stand-in for an IIO device's sysfs folder ----------
# (as udev would: %p is the device path under /sys; the group is the test's own, not iio, and the
# folder is not /sys, so the command is taken from the installed rule and those two swapped)
rules="$R/usr/lib/udev/rules.d/60-vibewatch.rules"
cmd=$(sed -n "s/^SUBSYSTEM==\"iio\", ACTION==\"add|change\", RUN+=\"\/bin\/sh -c '\(.*\)'\"$/\1/p" "$rules")
grp=$(id -gn)
S="$T/sys/devices/platform/adc/iio:device0"
mkdir -p "$S/scan_elements" "$S/buffer"
for f in sampling_frequency scan_elements/in_voltage0_en buffer/enable buffer/length; do : >"$S/$f"; chmod 0644 "$S/$f"; done
for f in name scan_elements/in_voltage0_type; do : >"$S/$f"; chmod 0444 "$S/$f"; done
if [ -n "$cmd" ] && grep -q '^SUBSYSTEM=="iio", GROUP="iio", MODE="0660"$' "$rules"; then
    run=$(printf '%s' "$cmd" | sed -e "s|/sys%p|$S|" -e "s| iio | $grp |")
    sh -c "$run" 2>"$T/udev.err"
    got=$(cd "$S" && find . -type f -printf '%P %m\n' | sort | tr '\n' ' ')
    want="buffer/enable 664 buffer/length 664 name 444 sampling_frequency 664 scan_elements/in_voltage0_en 664 scan_elements/in_voltage0_type 444 "
    [ "$got" = "$want" ] && [ ! -s "$T/udev.err" ] \
        && ok "udev rule: /dev/iio:* to group iio 0660; the device's writable sysfs attributes group-writable, read-only ones untouched" \
        || bad "udev rule's program on a stand-in sysfs folder: got [$got], want [$want] $(head -c 200 "$T/udev.err")"
else
    bad "udev rule: the IIO lines are not as expected: $(cat "$rules")"
fi
grep -q '^ProtectKernelTunables=yes' "$unit" \
    && bad "the unit has ProtectKernelTunables=yes: /sys would be read-only and libiio could not set an ADC's rate" \
    || ok "the unit leaves /sys writable for libiio (ReadOnlyPaths keeps /proc/sys and /sys/kernel… read-only)"

# ---- the man page --------------------------------------------------------------------------------
if command -v groff >/dev/null 2>&1; then
    gzip -dc "$R/usr/share/man/man1/vibewatch.1.gz" | groff -man -Tutf8 -ww -z >"$T/groff.out" 2>&1
    gzip -dc "$R/usr/share/man/man1/vibewatch.1.gz" | groff -man -Tutf8 -P-cbou 2>/dev/null | grep -q "passwd \[--role" \
        && [ ! -s "$T/groff.out" ] && ok "vibewatch(1) renders without warnings and documents the commands" \
        || bad "man page: $(head -3 "$T/groff.out")"
else
    bad "groff is missing"
fi

# ---- the installed binary serves the installed dashboard -----------------------------------------
port=$($PY -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
sed -e "s|\"/var/lib/vibewatch\"|\"$T/data\"|" -e "s|127.0.0.1:8080|127.0.0.1:$port|" "$top/deploy/vibewatch.json" >"$T/run.json"
"$R/usr/bin/vibewatch" run -c "$T/run.json" >"$T/run.log" 2>&1 &
pid=$!
i=0
while [ $i -lt 100 ]; do
    curl -s -m 2 -o "$T/index.html" "http://127.0.0.1:$port/" 2>/dev/null && [ -s "$T/index.html" ] && break
    sleep 0.1
    i=$((i + 1))
done
if grep -q "app.js?v=" "$T/index.html" 2>/dev/null && cmp -s "$R/usr/share/vibewatch/dashboard/index.html" "$T/index.html"; then
    ok "the installed binary serves PREFIX/share/vibewatch/dashboard with no path configured"
else
    bad "GET / from the installed binary: $(head -c 200 "$T/index.html" 2>/dev/null) ($(tail -2 "$T/run.log"))"
fi
kill -TERM "$pid" 2>/dev/null
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
pid=""
