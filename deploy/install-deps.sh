#!/bin/sh
# Installs the Debian packages that vibewatch's build and tests need (chromium and a CJK font
# for the dashboard's browser test; lintian and debootstrap for the package's; the cross
# compilers and qemu come from deploy/cross/deps.sh with ARCH=). Idempotent: silent when
# everything is there; uses sudo when not run as root. Called by `make deps`, `make test`,
# `make run` and CI. With arguments, installs those packages instead (deploy/cross/deps.sh).
set -eu
PKGS="build-essential pkg-config libfftw3-dev libkissfft-dev libcjson-dev libiio-dev libasound2-dev libsqlite3-dev libmicrohttpd-dev libsystemd-dev jq python3 libcurl4-openssl-dev zlib1g-dev openssl curl influxdb victoria-metrics python3-aiosmtpd chromium fonts-wqy-microhei wrk systemd man-db groff-base python3-yaml lintian debootstrap"
[ $# -eq 0 ] || PKGS="$*"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# the dashboard's build and browser test need node and npm: Debian's, unless a node is there already
if [ $# -eq 0 ] && { ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; }; then
    missing="$missing nodejs npm"
fi
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done"
