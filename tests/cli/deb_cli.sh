#!/bin/sh
# tests/cli/deb_cli.sh — `make deb`: the package checked with dpkg-deb (fields, runtime Depends with
# their versions, the conffile, maintainer scripts, every file's path, owner and mode, md5sums, no
# /usr/local and no build path, stripped, built reproducibly) and lintian (no error; its warnings
# and infos listed). Then, as root with Debian's mirror in reach, the package's life on a fresh
# Debian 12 (debootstrap --variant=minbase into a scratch root under build/): `apt-get install
# ./vibewatch_*.deb` pulls its dependencies; the user and groups, the owners and modes, the binary
# running there (the Depends are complete) on the installed configuration; an upgrade to a higher
# version that keeps the history and an edited configuration (plainly, and with --force-confold
# when the new default differs); remove keeps both; purge takes them and leaves none of the
# package's files (the user stays: deploy/debian/postrm says why).
# Configuration-independent and slow: runs when tests/run.sh runs the FFTW build (build/fftw) only.
# The debootstrap result is cached as build/deb-test/bookworm-minbase-ARCH.tar.gz (rebuilt when its
# key changes or after 30 days; apt checks every package it installs from it against a fresh
# index), the downloaded .debs in build/deb-test/apt-archives/. The scratch root is removed, and
# /proc unmounted, on every exit.
set -u
: "${VW_BIN:?}" "${VW_TEST_TMP:?}" "${VW_BUILD:?}"
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$VW_BUILD" != build/fftw ]; then
    echo "# deb_cli: runs in the FFTW build only"
    exit 0
fi
T="$VW_TEST_TMP/deb_cli"
rm -rf "$T"
mkdir -p "$T"
ok() { echo "ok - deb_cli: $1"; }
bad() { echo "not ok - deb_cli: $1"; }
skip() { echo "skip - deb_cli: $1"; }
t0=$(date +%s)

arch=$(dpkg --print-architecture)
v=$(sed -n 's/^#define VW_VERSION_STRING "\(.*\)"$/\1/p' "$top/daemon/version.h")
deb="$T/deb/vibewatch_${v}_$arch.deb"

# ---- the package -------------------------------------------------------------------------------
# the Makefile's variables of this run come through MAKEFLAGS; `make deb` sets the release ones
if ! make -s -C "$top" deb DEB_DIR="$T/deb" >"$T/make.log" 2>&1 || [ ! -f "$deb" ]; then
    bad "make deb failed: $(tail -3 "$T/make.log")"
    exit 0
fi
ok "make deb: $(basename "$deb") ($(($(stat -c %s "$deb") / 1024)) KiB)"

dpkg-deb --info "$deb" >"$T/info.txt" 2>&1
dpkg-deb --field "$deb" >"$T/control.txt"
field() { sed -n "s/^$1: //p" "$T/control.txt"; }
desc_lines=$(sed -n '/^Description:/,$p' "$T/control.txt" | grep -c '^ ')
if [ "$(field Package)" = vibewatch ] && [ "$(field Version)" = "$v" ] && [ "$(field Architecture)" = "$arch" ] \
    && [ -n "$(field Maintainer)" ] && [ "$(field Priority)" = optional ] && [ -n "$(field Section)" ] \
    && [ -n "$(field Installed-Size)" ] && [ "$desc_lines" -ge 5 ]; then
    ok "dpkg-deb --info: vibewatch $v $arch, Maintainer, Section, Priority optional, Installed-Size, a $desc_lines-line description"
else
    bad "control fields: $(tr '\n' ';' <"$T/control.txt" | head -c 400)"
fi
dep=$(field Depends)
missing=""
for d in "libfftw3-single3 (>= " "libcjson1 (>= " "libsqlite3-0 (>= " "libmicrohttpd12 (>= " "libcurl4 (>= " \
    "libiio0 (>= " "libasound2 (>= " "libc6 (>= " "libsystemd0 (>= " "zlib1g (>= " "libcrypt1 (>= " "adduser"; do
    case ", $dep" in *", $d"*) ;; *) missing="$missing [$d]" ;; esac
done
[ -z "$missing" ] && ok "Depends: every library the binary needs, each with its minimum version, and adduser ($dep)" \
    || bad "Depends lacks$missing: $dep"

mkdir -p "$T/x/DEBIAN"
dpkg-deb --extract "$deb" "$T/x" && dpkg-deb --control "$deb" "$T/x/DEBIAN"
[ "$(cat "$T/x/DEBIAN/conffiles" 2>/dev/null)" = /etc/vibewatch/vibewatch.json ] \
    && ok "conffiles: /etc/vibewatch/vibewatch.json only" \
    || bad "conffiles: $(tr '\n' ' ' <"$T/x/DEBIAN/conffiles" 2>/dev/null)"
scripts=""
for s in postinst prerm postrm; do
    f="$T/x/DEBIAN/$s"
    if [ ! -x "$f" ] || [ "$(head -1 "$f")" != "#!/bin/sh" ] || ! grep -q '^set -e$' "$f" || ! sh -n "$f" 2>>"$T/sh-n.txt"; then
        scripts="$scripts $s"
    fi
done
grep -q "adduser --quiet --system" "$T/x/DEBIAN/postinst" && grep -q "deb-systemd-helper" "$T/x/DEBIAN/postinst" \
    && grep -q "deb-systemd-invoke stop" "$T/x/DEBIAN/prerm" && grep -q "rm -rf /etc/vibewatch /var/lib/vibewatch" "$T/x/DEBIAN/postrm" \
    || scripts="$scripts (content)"
[ -z "$scripts" ] && ok "maintainer scripts postinst, prerm, postrm: executable POSIX sh, set -e, parse (sh -n)" \
    || bad "maintainer scripts:$scripts $(cat "$T/sh-n.txt")"

# every entry root/root; these files with these modes; nothing else outside /etc and /usr
dpkg-deb --contents "$deb" >"$T/contents.txt"
awk '$2 != "root/root" { print "owner " $2 ": " $6 }' "$T/contents.txt" >"$T/bad-entries.txt"
want="-rwxr-xr-x ./usr/bin/vibewatch
-rw-r----- ./etc/vibewatch/vibewatch.json
-rw-r--r-- ./usr/lib/systemd/system/vibewatch.service
-rw-r--r-- ./usr/lib/udev/rules.d/60-vibewatch.rules
-rw-r--r-- ./usr/share/man/man1/vibewatch.1.gz
-rw-r--r-- ./usr/share/vibewatch/dashboard/index.html
-rw-r--r-- ./usr/share/vibewatch/dashboard/app.js
-rw-r--r-- ./usr/share/vibewatch/dashboard/app.js.gz
-rw-r--r-- ./usr/share/doc/vibewatch/copyright
-rw-r--r-- ./usr/share/doc/vibewatch/changelog.gz
-rw-r--r-- ./usr/share/lintian/overrides/vibewatch"
printf '%s\n' "$want" | while read -r mode path; do
    awk -v p="$path" -v m="$mode" '$6 == p { found = 1; if ($1 != m) print p ": " $1 " (want " m ")" }
        END { if (!found) print p ": missing" }' "$T/contents.txt"
done >>"$T/bad-entries.txt"
awk '$6 !~ /^\.\/(etc\/vibewatch|usr\/(bin|lib\/systemd|lib\/udev|share\/(vibewatch|doc\/vibewatch|man|lintian)))/ \
     && $6 !~ /^\.\/((etc|usr|usr\/lib|usr\/share|usr\/share\/doc|usr\/share\/lintian)\/)?$/ { print "unexpected: " $6 }
     $1 ~ /^d/ && $1 != "drwxr-xr-x" { print "folder mode: " $1 " " $6 }
     $1 ~ /^-/ && $1 !~ /^-rw[-x]r-[-x]r-[-x]$/ && $6 != "./etc/vibewatch/vibewatch.json" { print "mode: " $1 " " $6 }' \
    "$T/contents.txt" >>"$T/bad-entries.txt"
grep -q "usr/local" "$T/contents.txt" && echo "a /usr/local path" >>"$T/bad-entries.txt"
grep -q "var/lib/vibewatch" "$T/contents.txt" && echo "var/lib/vibewatch is shipped (the postinst makes it)" >>"$T/bad-entries.txt"
[ ! -s "$T/bad-entries.txt" ] \
    && ok "dpkg-deb --contents: $(grep -c '^-' "$T/contents.txt") files, all root:root, binary 0755, config 0640, others 0644, folders 0755; no /usr/local, no /var/lib/vibewatch (the postinst makes it)" \
    || bad "contents: $(tr '\n' ';' <"$T/bad-entries.txt")"

(cd "$T/x" && md5sum --quiet -c DEBIAN/md5sums) >"$T/md5.txt" 2>&1 \
    && [ "$(wc -l <"$T/x/DEBIAN/md5sums")" -eq "$(grep -c '^-' "$T/contents.txt" | awk '{ print $1 - 1 }')" ] \
    && ok "md5sums: every file but the conffile, all matching" \
    || bad "md5sums: $(head -3 "$T/md5.txt") ($(wc -l <"$T/x/DEBIAN/md5sums") sums)"

# no path of this build machine: none in any file, but the binary's compiled-in fallback dashboard
# folder (the Makefile's DASHBOARD_DIR, used only when nothing is installed beside the binary)
grep -rl -F "$top" "$T/x" | grep -v "/usr/bin/vibewatch$" >"$T/paths.txt"
strings "$T/x/usr/bin/vibewatch" | grep -F "$top" | grep -vx -F "$top/build/dashboard" >>"$T/paths.txt"
LC_ALL=C readelf -S "$T/x/usr/bin/vibewatch" | grep -q -e '\.debug_' -e '\.symtab' && echo "the binary is not stripped" >>"$T/paths.txt"
[ ! -s "$T/paths.txt" ] && ok "no build path in the package (only the binary's fallback $top/build/dashboard); the binary stripped" \
    || bad "build paths or symbols: $(tr '\n' ';' <"$T/paths.txt")"

# (when the second make rebuilt the binary, the sources changed in between: a third compares with it)
make -s -C "$top" deb DEB_DIR="$T/deb2" >"$T/make2.log" 2>&1
a=$deb b="$T/deb2/$(basename "$deb")"
if ! cmp -s "$a" "$b" && grep -q -e '^  LD ' -e '^  CC ' "$T/make2.log"; then
    make -s -C "$top" deb DEB_DIR="$T/deb3" >"$T/make2.log" 2>&1
    a=$b b="$T/deb3/$(basename "$deb")"
fi
if cmp -s "$a" "$b"; then
    ok "reproducible: a second make deb (another folder) gives the same bytes"
else
    bad "a second make deb differs: $(tail -2 "$T/make2.log")"
fi

if command -v lintian >/dev/null 2>&1; then
    lintian --pedantic --display-info "$deb" 2>&1 | grep -v "running with root privileges" >"$T/lintian.txt"
    n_e=$(grep -c '^E:' "$T/lintian.txt")
    [ "$n_e" -eq 0 ] && ok "lintian: no error ($(grep -c '^W:' "$T/lintian.txt") warnings, $(grep -c '^I:' "$T/lintian.txt") infos; deploy/debian/lintian-overrides justifies the rest)" \
        || bad "lintian: $n_e errors: $(grep '^E:' "$T/lintian.txt" | tr '\n' ';')"
    grep -E '^(W|I|P):' "$T/lintian.txt" | sed 's/^/# lintian: /'
else
    bad "lintian is missing (Debian package lintian)"
fi

# ---- the arm64 package, where the cross-build is set up (make ARCH=arm64 made its sysroot) --------
if [ -f "$top/build/sysroot-arm64/.stamp" ] && command -v aarch64-linux-gnu-gcc >/dev/null 2>&1; then
    da="$T/deb-arm64/vibewatch_${v}_arm64.deb"
    if make -s -C "$top" deb ARCH=arm64 DEB_DIR="$T/deb-arm64" >"$T/make-arm64.log" 2>&1 && [ -f "$da" ]; then
        da_dep=$(dpkg-deb --field "$da" Depends)
        dpkg-deb --fsys-tarfile "$da" | tar -xO ./usr/bin/vibewatch >"$T/vibewatch.arm64"
        da_mach=$(LC_ALL=C readelf -h "$T/vibewatch.arm64" | sed -n 's/^ *Machine: *//p')
        da_e=$(lintian "$da" 2>&1 | grep -c '^E:')
        if [ "$(dpkg-deb --field "$da" Architecture)" = arm64 ] && [ "$da_dep" = "$dep" ] && [ "$da_mach" = AArch64 ] && [ "$da_e" -eq 0 ]; then
            ok "make deb ARCH=arm64: an AArch64 binary, the same Depends from the sysroot's shlibs, lintian without errors"
        else
            bad "the arm64 package: machine '$da_mach', $da_e lintian errors, Depends '$da_dep'"
        fi
    else
        bad "make deb ARCH=arm64: $(tail -3 "$T/make-arm64.log")"
    fi
else
    echo "# deb_cli: the arm64 package is checked once its sysroot is there (make ARCH=arm64)"
fi

# ---- install, upgrade, remove, purge on a fresh Debian ----------------------------------------------
t_pkg=$(date +%s)
if [ "$(id -u)" -ne 0 ]; then
    skip "install/upgrade/purge in a scratch root: needs root (debootstrap, chroot)"
    exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
    bad "debootstrap is missing (Debian package debootstrap)"
    exit 0
fi
# the host's Debian mirror (deb822 sources or sources.list), as this machine's apt uses it
srcs=/etc/apt/sources.list.d/debian.sources
if [ -f "$srcs" ]; then
    mirror=$(awk '/^URIs:/ { print $2; exit }' "$srcs")
else
    srcs=/etc/apt/sources.list
    mirror=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^(http|https|ftp):/) { print $i; exit } }' "$srcs" 2>/dev/null)
fi
mirror=${mirror:-http://deb.debian.org/debian}
if ! curl -s -f -m 15 -o /dev/null "$mirror/dists/bookworm/Release"; then
    skip "install/upgrade/purge in a scratch root: $mirror is out of reach"
    exit 0
fi

cache_dir="$top/build/deb-test"
mkdir -p "$cache_dir/apt-archives"
tarball="$cache_dir/bookworm-minbase-$arch.tar.gz"
key="debootstrap bookworm minbase $arch $mirror v1"
C=""
cleanup() {
    # every mount under the scratch root, deepest first, then the folder (never across a mount)
    if [ -n "${C:-}" ] && [ -d "$C" ]; then
        awk -v c="$C" '$2 == c || index($2, c "/") == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
            umount "$m" 2>/dev/null || umount -l "$m"
        done
        if ! awk -v c="$C" '$2 == c || index($2, c "/") == 1 { f = 1 } END { exit !f }' /proc/mounts; then
            rm -rf --one-file-system "$C"
        fi
    fi
}
trap cleanup EXIT
trap 'cleanup; exit 1' INT TERM
# scratch roots a killed run (kill -9) left: unmounted and hours old
find "$cache_dir" -maxdepth 1 -name 'chroot.*' -type d -mmin +360 | while read -r old; do
    grep -q -F " $old" /proc/mounts || rm -rf --one-file-system "$old"
done
C=$(mktemp -d "$cache_dir/chroot.XXXXXX")
in_root() { DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$C" "$@"; }

cached=""
if [ -f "$tarball" ] && [ -n "$(find "$tarball" -mtime -30)" ] \
    && tar -xzpf "$tarball" --numeric-owner -C "$C" 2>"$T/untar.txt" \
    && [ "$(cat "$C/etc/vibewatch-test-root" 2>/dev/null)" = "$key" ] && [ -x "$C/usr/bin/apt-get" ]; then
    cached="from the cached $(basename "$tarball")"
else
    rm -rf --one-file-system "$C" && mkdir "$C"
    if ! debootstrap --variant=minbase bookworm "$C" "$mirror" >"$T/debootstrap.log" 2>&1; then
        bad "debootstrap --variant=minbase bookworm: $(tail -3 "$T/debootstrap.log")"
        exit 0
    fi
    echo "$key" >"$C/etc/vibewatch-test-root"
    in_root apt-get clean
    # written under a temporary name and renamed: an interrupted run never leaves a half tarball
    tar -czf "$tarball.tmp.$$" --numeric-owner -C "$C" . && mv -f "$tarball.tmp.$$" "$tarball" || rm -f "$tarball.tmp.$$"
    cached="debootstrapped"
fi
# the host's sources (updates and security too), no daemon started by a package, /proc
if [ "$srcs" = /etc/apt/sources.list ]; then
    cp "$srcs" "$C/etc/apt/sources.list"
else
    cp "$srcs" "$C/etc/apt/sources.list.d/debian.sources" && rm -f "$C/etc/apt/sources.list"
fi
printf '#!/bin/sh\nexit 101\n' >"$C/usr/sbin/policy-rc.d" && chmod 0755 "$C/usr/sbin/policy-rc.d"
mount -t proc proc "$C/proc" || echo "# deb_cli: /proc could not be mounted in the scratch root (going on without)"
t_root=$(date +%s)
cp "$cache_dir/apt-archives/"*.deb "$C/var/cache/apt/archives/" 2>/dev/null
cp "$deb" "$C/tmp/"
if in_root apt-get update -qq >"$T/apt.log" 2>&1 \
    && in_root apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "/tmp/$(basename "$deb")" >>"$T/apt.log" 2>&1; then
    ok "apt-get install ./$(basename "$deb") on a fresh Debian 12 minbase ($cached): pulls its dependencies, configures"
else
    bad "apt-get install into the scratch root: $(tail -5 "$T/apt.log" | tr '\n' ';')"
    exit 0
fi
# the .debs for the next run: those the mirror still has (autoclean drops superseded versions)
in_root apt-get autoclean -qq >/dev/null 2>&1
rm -f "$cache_dir/apt-archives/"*.deb
cp "$C/var/cache/apt/archives/"*.deb "$cache_dir/apt-archives/" 2>/dev/null
t_inst=$(date +%s)

# the user and groups (postinst)
pw=$(in_root getent passwd vibewatch)
uid=$(echo "$pw" | cut -d: -f3)
groups=$(in_root id -nG vibewatch 2>/dev/null | tr ' ' '\n' | sort | tr '\n' ' ')
iio_gid=$(in_root getent group iio | cut -d: -f3)
if [ -n "$uid" ] && [ "$uid" -lt 1000 ] && [ "$(echo "$pw" | cut -d: -f6-)" = "/var/lib/vibewatch:/usr/sbin/nologin" ] \
    && [ "$groups" = "audio iio vibewatch " ] && [ -n "$iio_gid" ] && [ "$iio_gid" -lt 1000 ]; then
    ok "the system user vibewatch (uid $uid, home /var/lib/vibewatch, no shell) in the groups vibewatch, audio and iio (a system group made for it)"
else
    bad "user: '$pw', groups '$groups', iio gid '$iio_gid'"
fi
perms() { in_root stat -c '%U:%G %a' "$1" 2>/dev/null; }
p_conf=$(perms /etc/vibewatch/vibewatch.json)
p_state=$(perms /var/lib/vibewatch)
[ "$p_conf" = "root:vibewatch 640" ] && [ "$p_state" = "vibewatch:vibewatch 750" ] \
    && ok "/etc/vibewatch/vibewatch.json root:vibewatch 0640, /var/lib/vibewatch vibewatch:vibewatch 0750" \
    || bad "owners and modes: config '$p_conf', state '$p_state'"
[ -L "$C/etc/systemd/system/multi-user.target.wants/vibewatch.service" ] \
    && ok "the unit is enabled (deb-systemd-helper), nothing started without a running systemd" \
    || bad "vibewatch.service not enabled in multi-user.target.wants"
vout=$(in_root /usr/bin/vibewatch --version 2>&1)
case $vout in
"vibewatch $v "*) ok "vibewatch --version runs in the scratch root ($vout): the Depends are complete" ;;
*) bad "vibewatch --version in the scratch root: $vout" ;;
esac
cc=$(in_root chroot --userspec=vibewatch:vibewatch / /usr/bin/vibewatch check-config /etc/vibewatch/vibewatch.json 2>&1) \
    && ok "as the user vibewatch: vibewatch check-config /etc/vibewatch/vibewatch.json: $cc" \
    || bad "check-config as vibewatch: $cc"
in_root dpkg -L vibewatch | sort >"$T/files-installed.txt"

# ---- upgrade: the history and the administrator's configuration stay ------------------------------
echo "history of pump house 3" >"$C/var/lib/vibewatch/marker"
in_root chown vibewatch:vibewatch /var/lib/vibewatch/marker
sed -i 's/"vibewatch box (not configured yet)"/"pump house 3"/' "$C/etc/vibewatch/vibewatch.json"
v1="$v+test1"
if ! make -s -C "$top" deb DEB_DIR="$T/deb" VERSION="$v1" >"$T/make3.log" 2>&1; then
    bad "make deb VERSION=$v1: $(tail -3 "$T/make3.log")"
    exit 0
fi
deb1="$T/deb/vibewatch_${v1}_$arch.deb"
cp "$deb1" "$C/tmp/"
# same default configuration in both: dpkg keeps the edited one without asking (stdin is closed)
if in_root dpkg -i "/tmp/$(basename "$deb1")" </dev/null >"$T/upgrade.log" 2>&1; then
    got=$(in_root dpkg-query -W -f '${Version} ${Status}' vibewatch)
    dpkg-deb --fsys-tarfile "$deb1" | tar -xO ./usr/bin/vibewatch >"$T/bin1"
    if [ "$got" = "$v1 install ok installed" ] && cmp -s "$T/bin1" "$C/usr/bin/vibewatch" \
        && gzip -dc "$C/usr/share/doc/vibewatch/changelog.gz" | grep -q "($v1)"; then
        ok "upgrade $v -> $v1 with plain dpkg -i, no question asked: $v1 installed, its files in place"
    else
        bad "after the upgrade: '$got'"
    fi
else
    bad "dpkg -i $v1: $(tail -5 "$T/upgrade.log" | tr '\n' ';')"
fi
[ "$(cat "$C/var/lib/vibewatch/marker" 2>/dev/null)" = "history of pump house 3" ] \
    && grep -q '"pump house 3"' "$C/etc/vibewatch/vibewatch.json" \
    && [ "$(perms /etc/vibewatch/vibewatch.json)" = "root:vibewatch 640" ] \
    && [ "$(perms /var/lib/vibewatch)" = "vibewatch:vibewatch 750" ] \
    && [ -z "$(find "$C/etc/vibewatch" -name '*.dpkg-*')" ] \
    && ok "the upgrade kept /var/lib/vibewatch's data and the edited configuration (owners and modes too)" \
    || bad "after the upgrade: marker '$(cat "$C/var/lib/vibewatch/marker" 2>/dev/null)', config $(grep -c '"pump house 3"' "$C/etc/vibewatch/vibewatch.json"), $(ls "$C/etc/vibewatch")"

# a new default configuration (the package repacked as $v+test2 with one): --force-confold keeps
# the administrator's and leaves the new default beside it as vibewatch.json.dpkg-dist
v2="$v+test2"
deb2="$T/deb/vibewatch_${v2}_$arch.deb"
rm -rf "$T/r2"
dpkg-deb -R "$deb1" "$T/r2"
sed -i "s/^Version: .*/Version: $v2/" "$T/r2/DEBIAN/control"
sed -i 's/"vibewatch box (not configured yet)"/"vibewatch box (a new default)"/' "$T/r2/etc/vibewatch/vibewatch.json"
dpkg-deb --root-owner-group -b "$T/r2" "$deb2" >/dev/null
cp "$deb2" "$C/tmp/"
if in_root apt-get install -y -q -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confold "/tmp/$(basename "$deb2")" </dev/null >"$T/upgrade2.log" 2>&1 \
    && grep -q '"pump house 3"' "$C/etc/vibewatch/vibewatch.json" \
    && grep -q '"vibewatch box (a new default)"' "$C/etc/vibewatch/vibewatch.json.dpkg-dist" \
    && [ "$(cat "$C/var/lib/vibewatch/marker" 2>/dev/null)" = "history of pump house 3" ] \
    && [ "$(perms /etc/vibewatch/vibewatch.json)" = "root:vibewatch 640" ]; then
    ok "upgrade to $v2 whose default configuration changed (apt-get, --force-confold): the edited one kept, the new default in vibewatch.json.dpkg-dist, the data kept"
else
    bad "upgrade to $v2: $(tail -3 "$T/upgrade2.log" | tr '\n' ';') / $(ls "$C/etc/vibewatch" | tr '\n' ' ')"
fi

# ---- remove keeps the configuration and the history; purge takes them -----------------------------
in_root dpkg -L vibewatch | sort >"$T/files-before.txt"
if in_root dpkg -r vibewatch >"$T/remove.log" 2>&1 && [ ! -e "$C/usr/bin/vibewatch" ] \
    && [ -f "$C/etc/vibewatch/vibewatch.json" ] && [ -f "$C/var/lib/vibewatch/marker" ]; then
    ok "dpkg -r: the program gone, the configuration and /var/lib/vibewatch kept$([ -L "$C/etc/systemd/system/multi-user.target.wants/vibewatch.service" ] && echo " (the unit's link too, until the purge)")"
else
    bad "dpkg -r: $(tail -3 "$T/remove.log" | tr '\n' ';')"
fi
if in_root dpkg --purge vibewatch >"$T/purge.log" 2>&1; then
    left=$(while read -r f; do
        [ -e "$C$f" ] || [ -L "$C$f" ] || continue
        # a folder that other packages share (/usr/bin, /etc, …) stays; any of vibewatch's own goes
        if [ -d "$C$f" ] && ! [ -L "$C$f" ]; then
            case $f in *vibewatch*) echo "$f" ;; esac
        else
            echo "$f"
        fi
    done <"$T/files-before.txt")
    st=$(in_root dpkg-query -W -f '${Status}' vibewatch 2>/dev/null)
    # the enablement and mask links and deb-systemd-helper's state
    units=$(find "$C/etc/systemd" "$C/var/lib/systemd" -name '*vibewatch*' 2>/dev/null | sed "s|^$C||")
    if [ -z "$left" ] && [ -z "$units" ] && [ ! -e "$C/etc/vibewatch" ] && [ ! -e "$C/var/lib/vibewatch" ] \
        && { [ -z "$st" ] || [ "$st" = "unknown ok not-installed" ]; }; then
        ok "dpkg --purge: /etc/vibewatch and /var/lib/vibewatch gone, none of the $(wc -l <"$T/files-before.txt") paths of dpkg -L left, no unit link or mask left"
    else
        bad "after the purge: left '$(echo "$left" $units | tr '\n' ' ')', status '$st', $(ls -d "$C/etc/vibewatch" "$C/var/lib/vibewatch" 2>/dev/null)"
    fi
    in_root getent passwd vibewatch >/dev/null && in_root getent group iio >/dev/null \
        && ok "the purge keeps the system user vibewatch and the group iio (Debian's practice: no uid reused)" \
        || bad "the purge removed the user or the group iio"
else
    bad "dpkg --purge: $(tail -3 "$T/purge.log" | tr '\n' ';')"
fi

cleanup
if [ ! -e "$C" ] && ! grep -q -F "$C" /proc/mounts; then
    t_end=$(date +%s)
    ok "the scratch root is removed and nothing stays mounted ($((t_end - t0)) s in all: the package's checks $((t_pkg - t0)) s, the scratch root $((t_root - t_pkg)) s, apt-get install $((t_inst - t_root)) s, the rest $((t_end - t_inst)) s)"
else
    bad "the scratch root $C is still there or mounted"
fi
