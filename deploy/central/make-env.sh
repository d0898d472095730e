#!/bin/sh
# deploy/central/make-env.sh — .env for compose.yaml from .env.example, with every CHANGE-ME
# replaced by a random secret of its own (24 bytes from /dev/urandom as 48 hex digits).
#
#   sh make-env.sh [OUT]        OUT: .env beside this script by default; never overwritten
#
# Then read OUT, set COMPOSE_PROFILES and VW_BIND_ADDR, and give the boxes their passwords
# (VW_INFLUX_BOX_PASSWORD or VW_VM_BOX_PASSWORD). Needs only sh, od and tr.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/.env}
if [ -e "$out" ]; then
    echo "make-env: $out exists; not overwritten (remove it first to start afresh)" >&2
    exit 1
fi
umask 077
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
while IFS= read -r line || [ -n "$line" ]; do
    case $line in
        *=CHANGE-ME)
            secret=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
            [ ${#secret} -eq 48 ] || { echo "make-env: could not read /dev/urandom" >&2; exit 1; }
            printf '%s=%s\n' "${line%%=*}" "$secret" ;;
        *) printf '%s\n' "$line" ;;
    esac
done <"$here/.env.example" >"$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "make-env: wrote $out (mode 0600); set COMPOSE_PROFILES and VW_BIND_ADDR in it"
