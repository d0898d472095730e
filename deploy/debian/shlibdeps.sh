#!/bin/sh
# deploy/debian/shlibdeps.sh — the Depends of an ELF binary, from its DT_NEEDED sonames mapped
# through Debian shlibs files (what dpkg-shlibdeps does, without a debian/ source tree and for any
# architecture). Prints one dependency a line, e.g. "libc6 (>= 2.36)", sorted and deduplicated.
#
#   sh deploy/debian/shlibdeps.sh BINARY SHLIBS_DIR [ARCH]
#
# SHLIBS_DIR holds the libraries' packages' shlibs (and symbols) files:
#   - the host's architecture: /var/lib/dpkg/info (NAME.shlibs or NAME:ARCH.shlibs);
#   - a cross architecture: build/sysroot-ARCH/.debs (PACKAGE.shlibs, PACKAGE.symbols, written by
#     deploy/cross/sysroot.sh from the downloaded debs).
# A shlibs line is "[TYPE:] LIBRARY VERSION DEPENDENCY…" (libcurl.so.4 is "libcurl 4",
# libfoo-1.2.so is "libfoo-1.2"); lines with a TYPE (udeb:) are not for .debs. A soname no shlibs
# line names falls back to the symbols file whose header names it ("libcjson.so.1 libcjson1
# #MINVER#"), with the highest version of its symbols (conservative: the binary may use any).
# Where several packages claim a soname (libc6 and libc6-i386 both say "libc 6"), the one that
# owns the library of ARCH's multiarch folder wins (dpkg -S, host only). A soname nobody claims is
# an error: the package would install and not run.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 BINARY SHLIBS_DIR [ARCH]" >&2; exit 2; }
bin=$1
dir=$2
arch=${3:-$(dpkg --print-architecture)}
die() { echo "shlibdeps: $*" >&2; exit 1; }
[ -f "$bin" ] || die "$bin: no such file"
[ -d "$dir" ] || die "$dir: no such folder (for a cross architecture: deploy/cross/sysroot.sh $arch)"
ls "$dir"/*.shlibs >/dev/null 2>&1 || ls "$dir"/*.symbols >/dev/null 2>&1 \
    || die "$dir holds no .shlibs or .symbols files"
host_arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -a"$arch" -qDEB_HOST_MULTIARCH 2>/dev/null) || die "unknown architecture $arch"

# readelf reads every ELF class and machine (objdump -p only the host's without binutils-multiarch)
needed=$(LC_ALL=C readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
[ -n "$needed" ] || die "$bin: no DT_NEEDED entries (not a dynamically linked ELF binary?)"

# the package a shlibs/symbols file is for: its name without the folder, .shlibs and :ARCH
pkg_of() { basename "$1" | sed -e 's/\.\(shlibs\|symbols\)$//' -e 's/:.*//'; }

# owner of a library of $arch on this machine (the host's architecture only): dpkg -S of the file in
# the multiarch folder, under /lib or /usr/lib (merged /usr or not)
owner_of() {
    for d in /lib /usr/lib; do
        f="$d/$multiarch/$1"
        [ -e "$f" ] || continue
        o=$(dpkg-query -S "$f" 2>/dev/null | sed -n '1s/:.*//p') || true
        [ -n "$o" ] && { echo "$o"; return 0; }
    done
    return 1
}

# every untyped shlibs line of the folder, once: "FILE<TAB>LIBRARY<TAB>VERSION<TAB>DEPENDENCY" (a
# "libfoo-1.2" line has no version field: its dependency starts with a package name)
index=$(mktemp)
trap 'rm -f "$index"' EXIT
find "$dir" -maxdepth 1 -name '*.shlibs' -type f -exec awk '
    $1 ~ /:$/ || NF < 2 { next }                         # udeb: and other types
    {
        if ($2 ~ /^[0-9][0-9.]*$/ && NF >= 3) { v = $2; s = 3 } else { v = ""; s = 2 }
        d = $s
        for (i = s + 1; i <= NF; i++) d = d " " $i
        printf "%s\t%s\t%s\t%s\n", FILENAME, $1, v, d
    }' {} + >"$index"

out=""
for so in $needed; do
    # libfoo.so.1 -> "libfoo 1"; libfoo-1.2.so -> "libfoo-1.2" (no version field)
    case $so in
    *.so.*) name=${so%%.so.*} ver=${so#*.so.} ;;
    *.so) name=${so%.so} ver="" ;;
    *) die "$so: not a soname this script knows how to read" ;;
    esac
    # every untyped shlibs line for it: "FILE<TAB>DEPENDENCY"
    cands=$(awk -F '\t' -v n="$name" -v v="$ver" '$2 == n && $3 == v { print $1 "\t" $4 }' "$index")
    n=$(printf '%s' "$cands" | grep -c . || true)
    if [ "$n" -gt 1 ]; then
        # several packages: keep the one that owns ARCH's library here (same dependency: no question)
        if [ "$(printf '%s\n' "$cands" | cut -f2 | sort -u | wc -l)" -eq 1 ]; then
            cands=$(printf '%s\n' "$cands" | head -1)
        elif [ "$arch" = "$host_arch" ] && o=$(owner_of "$so"); then
            cands=$(printf '%s\n' "$cands" | while IFS="$(printf '\t')" read -r f d; do
                if [ "$(pkg_of "$f")" = "$o" ]; then printf '%s\t%s\n' "$f" "$d"; fi; done)
        fi
        n=$(printf '%s' "$cands" | grep -c . || true)
        [ "$n" -eq 1 ] || die "$so: claimed by several packages, none told apart: $(printf '%s\n' "$cands" | cut -f2 | tr '\n' ';')"
    fi
    if [ "$n" -eq 1 ]; then
        dep=$(printf '%s\n' "$cands" | cut -f2)
    else
        # no shlibs line: the symbols file whose header names the soname
        sym=""
        for f in "$dir"/*.symbols; do
            [ -f "$f" ] || continue
            grep -q "^$so " "$f" && { sym=$f; break; }
        done
        [ -n "$sym" ] || die "$so (needed by $bin): no package in $dir provides it (no shlibs or symbols entry)"
        pkg=$(grep -m1 "^$so " "$sym" | awk '{print $2}')
        maxv=$(awk -v so="$so" '
            /^[^ \t*#|]/ { on = ($1 == so); next }
            on && /^ / { print $NF }' "$sym" | grep -v '^#' | sort -u | {
            m=""
            while read -r v; do
                if [ -z "$m" ] || dpkg --compare-versions "$v" gt "$m"; then m=$v; fi
            done
            echo "$m"
        })
        dep="$pkg${maxv:+ (>= $maxv)}"
    fi
    out="$out$dep
"
done
printf '%s' "$out" | sed '/^$/d' | sort -u
