#!/bin/sh
# deploy/cross/sysroot.sh ARCH DIR — a sysroot for cross-building vibewatch for ARCH (arm64 or
# armhf) in DIR, from Debian's own ARCH packages: the -dev packages the Makefile's pkg-config
# modules need, plus every package they depend on (Depends and Pre-Depends, recursively), each
# fetched with `apt-get download` and unpacked with `dpkg-deb -x`. Nothing is installed on the
# build host and no foreign architecture is added to its dpkg: apt runs on a private state in
# DIR.apt/ (its own sources list copied from the host's, its own lists, cache and an empty
# status), which also keeps the downloaded .debs so that a rebuild does not fetch them again.
#
# The result serves `gcc --sysroot=DIR`, `PKG_CONFIG_SYSROOT_DIR=DIR pkg-config` and
# `qemu-aarch64-static -L DIR` alike: absolute symlinks inside it are made relative, and every
# pkg-config module the Makefile asks for is checked. DIR/.debs/ keeps, for each package, the
# shlibs and symbols files of its control archive (PACKAGE.shlibs, PACKAGE.symbols) and a
# manifest of "package version" lines, from which the Debian packaging computes the runtime
# Depends of an ARCH .deb. DIR/.stamp marks a complete sysroot: with it in place (and the same
# architecture and package list) the script only says so. The sysroot is built in DIR.new and
# moved to DIR when complete, so an interrupted run never leaves a half sysroot that looks whole.
#
# Needs apt-get and dpkg-deb (both on every Debian host) and the network to Debian's mirror named
# in the host's /etc/apt/sources.list.d/debian.sources (or /etc/apt/sources.list).
set -eu

usage() { echo "usage: deploy/cross/sysroot.sh arm64|armhf DIR" >&2; exit 2; }
die() { echo "sysroot: $*" >&2; exit 1; }
[ $# -eq 2 ] || usage
arch=$1
dir=${2%/}
case $arch in
    arm64) triplet=aarch64-linux-gnu ;;
    armhf) triplet=arm-linux-gnueabihf ;;
    *) echo "sysroot: ARCH must be arm64 or armhf, not \"$arch\"" >&2; usage ;;
esac
case $dir in
    "" | / | . | ..) die "refusing to build a sysroot in \"$2\"" ;;
esac

# The -dev packages behind the Makefile's PKGS (fftw3f kissfft-float libcjson sqlite3
# libmicrohttpd libsystemd libcurl zlib libiio alsa), -lcrypt and the C library.
DEV_PKGS="libfftw3-dev libkissfft-dev libcjson-dev libsqlite3-dev libmicrohttpd-dev libsystemd-dev \
libcurl4-openssl-dev zlib1g-dev libiio-dev libasound2-dev libcrypt-dev libc6-dev"
# what must resolve through pkg-config in the finished sysroot (the Makefile's PKGS, both FFTs)
PC_MODULES="fftw3f kissfft-float libcjson sqlite3 libmicrohttpd libsystemd libcurl zlib libiio alsa"
# bump when the layout of the result changes, so that an older sysroot is rebuilt
LAYOUT=1
key="sysroot $LAYOUT $arch $DEV_PKGS"

stamp="$dir/.stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
    touch "$stamp" # newer than this script again, so make stops asking
    exit 0
fi

mkdir -p "$(dirname "$dir")"
top=$(cd "$(dirname "$dir")" && pwd)
dir="$top/$(basename "$dir")"
apt="$dir.apt"
new="$dir.new"
debs="$apt/debs"
echo "sysroot: building the $arch sysroot in $dir (Debian packages, private apt state in $apt)"

# ---- a private apt: the host's Debian sources, ARCH only, nothing from the host's dpkg state ----
mkdir -p "$apt/etc/sources.list.d" "$apt/etc/preferences.d" "$apt/state/lists/partial" \
    "$apt/cache/archives/partial" "$debs"
: > "$apt/state/status"
: > "$apt/etc/sources.list"
rm -f "$apt/etc/sources.list.d/"*
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    # deb822: an Architectures: field there would fight APT::Architectures below
    sed '/^Architectures:/d' /etc/apt/sources.list.d/debian.sources > "$apt/etc/sources.list.d/debian.sources"
elif [ -f /etc/apt/sources.list ] && grep -q '^deb .*debian' /etc/apt/sources.list; then
    grep '^deb .*debian' /etc/apt/sources.list | sed 's/\[[^]]*\] *//' > "$apt/etc/sources.list"
else
    die "no Debian sources on this host (/etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list)"
fi
set -- -o "Dir::Etc=$apt/etc" -o Dir::Etc::sourcelist=sources.list -o Dir::Etc::sourceparts=sources.list.d \
    -o Dir::Etc::preferences=preferences -o Dir::Etc::preferencesparts=preferences.d \
    -o "Dir::State=$apt/state" -o "Dir::State::status=$apt/state/status" -o "Dir::Cache=$apt/cache" \
    -o "APT::Architecture=$arch" -o "APT::Architectures=$arch" -o Acquire::Languages=none \
    -o APT::Get::List-Cleanup=true -q
# as root, apt fetches as the user _apt, which must be able to write where it downloads to
if [ "$(id -u)" -eq 0 ] && id _apt > /dev/null 2>&1; then
    chown _apt "$debs" "$apt/state/lists/partial" "$apt/cache/archives/partial" 2> /dev/null || true
fi

echo "sysroot: apt-get update ($arch)"
if ! apt-get "$@" update > "$apt/update.log" 2>&1; then
    # One suite's index may fail while the others came (seen: bookworm-security's armhf index
    # served at a stale size through a caching proxy). Go on with the suites that came, loudly;
    # stop when there is none.
    if ls "$apt/state/lists/"*_Packages* > /dev/null 2>&1; then
        grep '^[WE]:' "$apt/update.log" >&2 || true
        echo "sysroot: WARNING: apt-get update for $arch failed for the index(es) above; going on with the suites that came" >&2
    else
        cat "$apt/update.log" >&2
        die "apt-get update for $arch failed (log above; the private apt state is $apt)"
    fi
elif grep -q '^[WE]:' "$apt/update.log"; then
    grep '^[WE]:' "$apt/update.log" >&2
fi

# ---- the closure: Depends and Pre-Depends, recursively; of alternatives the first that exists,
# of a virtual package its first provider (apt-cache depends lists them under it) ----
echo "sysroot: resolving the dependencies of: $DEV_PKGS"
all=" "
todo=$DEV_PKGS
# every one must exist (apt-cache show, under -q, just leaves out a name it does not know)
# shellcheck disable=SC2086
apt-cache "$@" show --no-all-versions $todo 2> /dev/null | sed -n 's/^Package: //p' > "$apt/known"
bad=""
for p in $todo; do grep -qxF "$p" "$apt/known" || bad="$bad $p"; done
[ -z "$bad" ] || die "no $arch package in the Debian sources for:$bad"
while [ -n "$todo" ]; do
    for p in $todo; do all="$all$p "; done
    # shellcheck disable=SC2086
    deps=$(apt-cache "$@" depends --important $todo 2> "$apt/depends.err") || {
        cat "$apt/depends.err" >&2
        die "apt-cache depends failed for:$todo"
    }
    next=$(echo "$deps" | awk '
        /^[^ ]/ { prev_alt = 0; want = 0; next }           # a package of the list
        /^    [^ ]/ {                                      # a provider of the virtual above
            if (want && !taken) { print $1; taken = 1 }
            want = 0; next
        }
        /^ [ |](Pre)?Depends: / {
            alt = substr($0, 2, 1) == "|"
            if (!prev_alt) taken = 0                       # a new group of alternatives
            prev_alt = alt
            name = $2; sub(/:.*/, "", name)                # python3:any → python3
            want = 0
            if (taken) next
            if (name ~ /^</) { want = 1; next }            # virtual: take a provider, if any
            print name; taken = 1
        }' | sort -u)
    todo=""
    for p in $next; do
        case $all in *" $p "*) ;; *) todo="$todo $p" ;; esac
    done
done
# shellcheck disable=SC2086
set_count=$(printf '%s\n' $all | wc -l)
echo "sysroot: $set_count packages"

# the candidate version of each, and so the name apt-get download gives its .deb (an epoch's ':'
# becomes %3a there)
# shellcheck disable=SC2086
apt-cache "$@" show --no-all-versions $all > "$apt/show.txt" 2> "$apt/show.err" || {
    cat "$apt/show.err" >&2
    die "apt-cache show failed on the $arch packages"
}
files=$(awk '
    function out() { if (p != "") { gsub(/:/, "%3a", v); print p "_" v "_" a ".deb" }; p = "" }
    /^Package: / { p = $2 } /^Version: / { v = $2 } /^Architecture: / { a = $2 }
    /^$/ { out() } END { out() }' "$apt/show.txt")
bad=""
for p in $all; do echo "$files" | grep -q "^${p}_" || bad="$bad $p"; done
[ -z "$bad" ] || die "no installable $arch version of:$bad (a dependency that only a virtual package satisfies?)"

# ---- download (apt-get skips the .debs it already has) ----
echo "sysroot: apt-get download ($arch)"
# shellcheck disable=SC2086
if ! (cd "$debs" && apt-get "$@" download $all > "$apt/download.log" 2>&1); then
    grep '^[WE]:' "$apt/download.log" >&2 || cat "$apt/download.log" >&2
    # the package(s) whose .deb is not there
    bad=""
    for f in $files; do [ -f "$debs/$f" ] || bad="$bad ${f%%_*}"; done
    die "could not download the $arch package(s):${bad:- (see the log above)}"
fi

# ---- unpack, with each package's shlibs and symbols and a manifest ----
echo "sysroot: unpacking into $new"
rm -rf "$new"
mkdir -p "$new/.debs"
ctl="$apt/control"
: > "$new/.debs/manifest"
for f in $files; do
    deb="$debs/$f"
    [ -f "$deb" ] || die "$f is missing from $debs after the download"
    p=${f%%_*}
    dpkg-deb -x "$deb" "$new" || die "dpkg-deb -x failed on $deb"
    rm -rf "$ctl"
    dpkg-deb -e "$deb" "$ctl" || die "dpkg-deb -e failed on $deb"
    for c in shlibs symbols; do
        [ ! -f "$ctl/$c" ] || cp "$ctl/$c" "$new/.debs/$p.$c"
    done
    printf '%s %s\n' "$p" "$(dpkg-deb -f "$deb" Version)" >> "$new/.debs/manifest"
done
rm -rf "$ctl"
sort -o "$new/.debs/manifest" "$new/.debs/manifest"
# .debs of versions no longer wanted (a point release replaced them) go
for f in "$debs"/*.deb; do
    echo "$files" | grep -qxF "${f##*/}" || rm -f "$f"
done

# ---- absolute symlinks → relative (lib*.so → /lib/…, the dynamic loader, …), so that they
# point into the sysroot for the linker and for qemu -L alike. Where the target is shipped under
# the other half of a merged /usr (/lib vs /usr/lib), the link points at the one that exists. ----
find "$new" -type l | while IFS= read -r link; do
    target=$(readlink "$link")
    case $target in /*) ;; *) continue ;; esac
    if [ ! -e "$new$target" ] && [ ! -L "$new$target" ]; then
        case $target in
            /usr/*) [ -e "$new${target#/usr}" ] && target=${target#/usr} ;;
            /*) [ -e "$new/usr$target" ] && target=/usr$target ;;
        esac
    fi
    rel=${link#"$new"/}
    up=""
    while case $rel in */*) true ;; *) false ;; esac do
        rel=${rel#*/}
        up="../$up"
    done
    ln -sfn "$up${target#/}" "$link"
done

# ---- checks: the linker's and pkg-config's view of the result ----
for f in "usr/lib/$triplet/libc.so" "usr/lib/$triplet/crt1.o" "usr/include/stdio.h"; do
    [ -e "$new/$f" ] || die "$f is missing from the sysroot (libc6-dev unpacked?)"
done
dangling=$(find "$new/lib" "$new/usr/lib" -name 'lib*.so*' -type l ! -exec test -e {} \; -print 2> /dev/null) || true
[ -z "$dangling" ] || die "symlinks that point nowhere in the sysroot: $dangling"
command -v pkg-config > /dev/null 2>&1 || die "pkg-config is not installed on this host (apt-get install pkg-config)"
pcpath="$new/usr/lib/$triplet/pkgconfig:$new/usr/share/pkgconfig"
missing=""
for m in $PC_MODULES; do
    [ -f "$new/usr/lib/$triplet/pkgconfig/$m.pc" ] || [ -f "$new/usr/share/pkgconfig/$m.pc" ] || missing="$missing $m"
done
[ -z "$missing" ] || die "pkg-config files missing from the sysroot:$missing"
# shellcheck disable=SC2086
flags=$(env -u PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR="$new" PKG_CONFIG_LIBDIR="$pcpath" \
    pkg-config --cflags --libs $PC_MODULES 2> "$apt/pkg-config.err") || {
    cat "$apt/pkg-config.err" >&2
    die "pkg-config fails on the sysroot's modules"
}
for f in $flags; do
    case $f in
        -I* | -L*)
            d=${f#-?}
            case $d in "$new"/*) ;; *) die "pkg-config names a path outside the sysroot: $f" ;; esac
            ;;
    esac
done

echo "$key" > "$new/.stamp"
rm -rf "$dir"
mv "$new" "$dir"
echo "sysroot: $dir is complete ($set_count packages; manifest in $dir/.debs/manifest)"
