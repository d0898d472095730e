#!/bin/sh
# deploy/cross/deps.sh ARCH — installs what `make ARCH=arm64|armhf` and its `make test` need on
# the (amd64) build host: the cross compiler for ARCH and qemu's user-mode emulators. Only native
# packages: the target's libraries come from a private sysroot (deploy/cross/sysroot.sh), never
# from `dpkg --add-architecture`. Idempotent: silent when everything is there; uses sudo when not
# run as root. Called by `make ARCH=… test` (and `make ARCH=…` for the compiler alone).
set -eu
arch=${1:?usage: deploy/cross/deps.sh arm64|armhf}
case $arch in
    arm64) PKGS="gcc-aarch64-linux-gnu" ;;
    armhf) PKGS="gcc-arm-linux-gnueabihf" ;;
    *) echo "deploy/cross/deps.sh: ARCH must be arm64 or armhf, not \"$arch\"" >&2; exit 2 ;;
esac
# pkg-config and make run on the host; dpkg-deb (from dpkg) and apt-get, which the sysroot script uses, are always there
PKGS="$PKGS qemu-user-static pkg-config make"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "cross deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "cross deps: done"
