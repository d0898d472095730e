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
# shellcheck disable=SC2086
exec sh "$(dirname "$0")/../install-deps.sh" $PKGS
