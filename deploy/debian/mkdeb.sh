#!/bin/sh
# deploy/debian/mkdeb.sh — turns a `make install PREFIX=/usr DESTDIR=ROOT` staging root into
# OUT/vibewatch_VERSION_ARCH.deb with dpkg-deb (no debian/ source package, no debhelper). Called by
# `make deb` (README: Install and run as a service); the options make it usable on its own:
#
#   sh deploy/debian/mkdeb.sh --root ROOT --out OUT [--arch ARCH] [--version VERSION]
#                             [--shlibs DIR] [--strip PROGRAM]
#
#   --arch     Debian architecture of the binary (default: this machine's)
#   --version  the package's version (default: VW_VERSION_STRING of daemon/version.h)
#   --shlibs   where the libraries' shlibs/symbols files are (default: /var/lib/dpkg/info for this
#              machine's architecture, build/sysroot-ARCH/.debs for another: deploy/cross/sysroot.sh)
#   --strip    the strip of ARCH (default: strip, or TRIPLET-strip for another architecture)
#   DEB_MAINTAINER  the Maintainer field (default below: the repository's commit identity)
#
# What it adds to ROOT: the binary stripped (dh_strip's options), /usr/share/doc/vibewatch/
# copyright (DEP-5) and changelog.gz, the lintian overrides, and DEBIAN/ with control (Depends from
# the binary's DT_NEEDED through deploy/debian/shlibdeps.sh, plus adduser for the maintainer
# scripts), conffiles, md5sums, postinst, prerm and postrm. /var/lib/vibewatch is taken out: the
# postinst creates it, so dpkg never owns (or resets) the folder that holds the history.
# Reproducible: every timestamp is SOURCE_DATE_EPOCH (default: the last commit's time), gzip -n,
# owners root:root (--root-owner-group), dpkg-deb sorts the members; same tree, same bytes.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
die() { echo "mkdeb: $*" >&2; exit 1; }

root="" out="" arch="" version="" shlibs="" strip=""
while [ $# -gt 0 ]; do
    case $1 in
    --root) root=$2 ;;
    --out) out=$2 ;;
    --arch) arch=$2 ;;
    --version) version=$2 ;;
    --shlibs) shlibs=$2 ;;
    --strip) strip=$2 ;;
    *) die "unknown option $1 (see the header of $0)" ;;
    esac
    shift 2 || die "$1 needs a value"
done
[ -n "$root" ] && [ -n "$out" ] || die "--root and --out are needed"
host_arch=$(dpkg --print-architecture)
arch=${arch:-$host_arch}
if [ -z "$version" ]; then
    version=$(sed -n 's/^#define VW_VERSION_STRING "\(.*\)"$/\1/p' "$top/daemon/version.h")
    [ -n "$version" ] || die "no VW_VERSION_STRING in daemon/version.h"
fi
dpkg --validate-version "$version" >/dev/null 2>&1 || die "\"$version\" is not a Debian version"
if [ -z "$shlibs" ]; then
    if [ "$arch" = "$host_arch" ]; then shlibs=/var/lib/dpkg/info; else shlibs=$top/build/sysroot-$arch/.debs; fi
fi
if [ -z "$strip" ]; then
    if [ "$arch" = "$host_arch" ]; then
        strip="strip"
    else
        strip=$(dpkg-architecture -a"$arch" -qDEB_HOST_GNU_TYPE 2>/dev/null)-strip || die "unknown architecture $arch"
    fi
fi
command -v "$strip" >/dev/null 2>&1 || die "$strip not found (binutils for $arch)"
maintainer=${DEB_MAINTAINER:-vibewatch maintainers <maintainers@users.noreply.r-seed-5fafd41a.example>}
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git -c safe.directory="$top" -C "$top" log -1 --format=%ct 2>/dev/null) \
        || SOURCE_DATE_EPOCH=$(stat -c %Y "$top/daemon/version.h")
fi
export SOURCE_DATE_EPOCH

# ---- the staging root: what make install put there, and nothing of a build machine ---------------
bin=$root/usr/bin/vibewatch
[ -f "$bin" ] || die "$bin: missing (make install PREFIX=/usr DESTDIR=$root first)"
[ -e "$root/usr/local" ] && die "$root/usr/local exists: install with PREFIX=/usr"
[ -d "$root/DEBIAN" ] && die "$root/DEBIAN exists: give a fresh staging root"
file_arch=$(LC_ALL=C readelf -h "$bin" | sed -n 's/^ *Machine: *//p')
case "$arch:$file_arch" in
amd64:*X86-64* | arm64:*AArch64* | armhf:*ARM | i386:*80386*) ;;
*) die "$bin is for \"$file_arch\", not $arch" ;;
esac
if [ -d "$root/var/lib/vibewatch" ]; then
    rmdir "$root/var/lib/vibewatch" 2>/dev/null || die "$root/var/lib/vibewatch is not empty"
    rmdir "$root/var/lib" "$root/var" 2>/dev/null || true
fi

"$strip" --remove-section=.comment --remove-section=.note "$bin"

doc=$root/usr/share/doc/vibewatch
install -d -m 0755 "$doc" "$root/usr/share/lintian/overrides"
first=$(git -c safe.directory="$top" -C "$top" log --reverse --format=%ad --date=format:%Y 2>/dev/null | head -1) || true
last=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y)
years=${first:-$last}
[ "$years" = "$last" ] || years="$years-$last"
sed "s/@YEARS@/$years/" "$here/copyright" >"$doc/copyright"
# a native package (no Debian revision): its changelog is changelog.gz (Policy 12.7)
{
    printf 'vibewatch (%s) bookworm; urgency=medium\n\n' "$version"
    printf '  * vibewatch %s, packaged from its sources by deploy/debian/mkdeb.sh.\n\n' "$version"
    printf ' -- %s  %s\n' "$maintainer" "$(LC_ALL=C date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9 -n >"$doc/changelog.gz"
install -m 0644 "$here/lintian-overrides" "$root/usr/share/lintian/overrides/vibewatch"

# ---- DEBIAN/ -------------------------------------------------------------------------------------
deps=$(sh "$here/shlibdeps.sh" "$bin" "$shlibs" "$arch") || die "the Depends could not be computed"
depends=$(printf 'adduser\n%s\n' "$deps" | sort -u | paste -sd, - | sed 's/,/, /g')

install -d -m 0755 "$root/DEBIAN"
for s in postinst prerm postrm; do
    install -m 0755 "$here/$s" "$root/DEBIAN/$s"
done
# every file under /etc is a conffile (dh_installdeb's rule)
(cd "$root" && find etc -type f | LC_ALL=C sort | sed 's|^|/|') >"$root/DEBIAN/conffiles"
# md5sums of every file but the conffiles (dpkg keeps those itself; dh_md5sums' rule)
(cd "$root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -print | sed 's|^\./||' \
    | LC_ALL=C sort | xargs -r md5sum) >"$root/DEBIAN/md5sums"
# Installed-Size as dpkg-gencontrol counts it: KiB per file rounded up, 1 per folder or link
size=$(cd "$root" && find . -path ./DEBIAN -prune -o ! -path . -printf '%y %s\n' \
    | awk '{ n += ($1 == "f") ? int(($2 + 1023) / 1024) : 1 } END { print n }')
cat >"$root/DEBIAN/control" <<EOF
Package: vibewatch
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $depends
Section: misc
Priority: optional
Description: predictive-maintenance appliance for pumps and fans
 vibewatch runs on a box bolted next to pumps and fans. Accelerometers on the
 bearing housings feed it (IIO ADCs, ALSA inputs, recordings or a built-in
 simulator); it turns their signals into spectra, envelope spectra and
 condition indicators (ISO 10816 zones, bearing defect frequencies), learns
 what healthy looks like for each machine, estimates the remaining useful
 life of a degrading one, and warns maintenance engineers days before a
 failure: on its own web dashboard, by e-mail and through SMS hooks, while
 streaming its figures to InfluxDB or VictoriaMetrics.
 .
 This package runs it as the systemd service vibewatch (user vibewatch, groups
 audio and iio) on /etc/vibewatch/vibewatch.json, which out of the box watches
 one simulated pump; its history is kept in /var/lib/vibewatch.
EOF
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

# ---- modes, times, the archive --------------------------------------------------------------------
# (whatever the umask: 0755 folders and programs, 0644 the rest, the configuration 0640; DEBIAN/
# keeps the modes set above)
find "$root" -path "$root/DEBIAN" -prune -o -type d -exec chmod 0755 {} +
find "$root" -path "$root/DEBIAN" -prune -o -type f -perm /111 -exec chmod 0755 {} +
find "$root" -path "$root/DEBIAN" -prune -o -type f ! -perm /111 -exec chmod 0644 {} +
chmod 0640 "$root/etc/vibewatch/vibewatch.json"
chmod 0755 "$root/DEBIAN"
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
mkdir -p "$out"
deb=$out/vibewatch_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
