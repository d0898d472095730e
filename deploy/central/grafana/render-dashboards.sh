#!/bin/sh
# deploy/central/grafana/render-dashboards.sh — the vibewatch dashboards, ready for Grafana's file
# provisioning.
#
#   render-dashboards.sh SRC_DIR DST_DIR [DATASOURCE_UID [DATASOURCE_NAME]]
#
# deploy/grafana/*.json are made for Grafana's import dialog: their data-source variable
# ("datasource", which every panel and query uses) defaults to the import input ${DS_INFLUXDB},
# which only the import dialog replaces. Provisioned from files, the placeholder would stay as it
# is and Grafana would fall back to the first InfluxDB data source it knows (not necessarily the
# boxes'). This writes a copy of every SRC_DIR/*.json into DST_DIR with the variable's default
# set to the provisioned data source: its text to DATASOURCE_NAME, its value and every other
# occurrence to DATASOURCE_UID (Grafana matches the default by value or text, so it resolves in
# versions that key the variable by name and in those that key it by uid). The drop-down still
# lists every InfluxDB data source. Nothing else changes: uids, panels, queries.
#
# Defaults: vibewatch-influxdb and "vibewatch InfluxDB", as in
# provisioning/datasources/vibewatch.yaml. POSIX sh and sed only: compose.yaml runs it inside the
# Grafana container before Grafana starts; tests/cli/central_config.sh runs it here.
set -eu
if [ $# -lt 2 ] || [ $# -gt 4 ]; then
    echo "usage: $0 SRC_DIR DST_DIR [DATASOURCE_UID [DATASOURCE_NAME]]" >&2
    exit 2
fi
src=$1 dst=$2 uid=${3:-vibewatch-influxdb} name=${4:-vibewatch InfluxDB}
# Grafana's uids are letters, digits, - and _ (at most 40); the name is kept to a set that needs
# no escaping in sed or JSON.
case $uid in '' | *[!A-Za-z0-9_-]*) echo "$0: the uid must be letters, digits, - or _: '$uid'" >&2; exit 2 ;; esac
[ ${#uid} -le 40 ] || { echo "$0: the uid is longer than 40 characters" >&2; exit 2; }
case $name in '' | *[!A-Za-z0-9_.\ -]*) echo "$0: the name must be letters, digits, space, ., - or _: '$name'" >&2; exit 2 ;; esac

set -- "$src"/*.json
[ -f "$1" ] || { echo "$0: no dashboard (*.json) in $src" >&2; exit 1; }
mkdir -p "$dst"
# beside DST_DIR, not in it: Grafana reads the provider's folder and its subfolders
tmp=$(mktemp -d "$(dirname "$dst")/.vibewatch-render.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for f in "$@"; do
    out="$tmp/$(basename "$f")"
    sed -e "s|\"text\": *\"\\\${DS_INFLUXDB}\"|\"text\": \"$name\"|g" \
        -e "s|\\\${DS_INFLUXDB}|$uid|g" "$f" >"$out"
    if grep -q '\${DS_' "$out"; then
        echo "$0: $f: an import placeholder is left: $(grep -o '\${DS_[A-Za-z0-9_]*}' "$out" | sort -u | tr '\n' ' ')" >&2
        exit 1
    fi
done
# Replace the whole set at once: dashboards removed from SRC_DIR go too.
for f in "$dst"/*.json; do
    [ -f "$f" ] && [ ! -f "$tmp/$(basename "$f")" ] && rm -f "$f"
done
for f in "$tmp"/*.json; do
    mv -f "$f" "$dst/$(basename "$f")"
done
echo "render-dashboards: $# dashboard(s) from $src in $dst, data source $uid ($name)"
