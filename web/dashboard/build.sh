#!/bin/sh
# web/dashboard/build.sh OUT_DIR — builds the dashboard the box serves: OUT_DIR/index.html,
# app.js (uPlot + the app, bundled and minified by esbuild), app.css (uPlot's CSS + ours),
# favicon.svg, and a .gz of each (gzip -9 -n). index.html names app.js and app.css with
# ?v=CONTENT-HASH so the server may let browsers cache them long. Needs node and, once,
# `npm ci --no-audit --no-fund` in this folder; then works offline and is reproducible
# (same sources and lock file, same bytes).
set -eu
out=${1:?usage: build.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
src=$here/src
nm=$here/node_modules
esbuild=$nm/.bin/esbuild
uplot=$nm/uplot/dist
if [ ! -x "$esbuild" ] || [ ! -f "$uplot/uPlot.iife.min.js" ]; then
    echo "build.sh: run 'npm ci --no-audit --no-fund' in $here first (uplot, esbuild)" >&2
    exit 1
fi
# every t('key') used has an English and a Chinese text
node "$here/check_i18n.mjs" "$src"

mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vwdash.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

"$esbuild" "$src/main.js" --bundle --format=iife --minify --target=es2020,chrome90,firefox100,safari15 \
    --legal-comments=none --charset=utf8 --log-level=warning --outfile="$tmp/main.js"
"$esbuild" "$src/style.css" --minify --target=chrome90,firefox100,safari15 --log-level=warning --outfile="$tmp/style.css"

{ cat "$uplot/uPlot.iife.min.js"; printf '\n'; cat "$tmp/main.js"; } >"$tmp/app.js"
{ cat "$uplot/uPlot.min.css"; printf '\n'; cat "$tmp/style.css"; } >"$tmp/app.css"
cp "$src/favicon.svg" "$tmp/favicon.svg"

hash() { sha256sum "$1" | cut -c1-16; }
sed -e "s/@JS_HASH@/$(hash "$tmp/app.js")/" -e "s/@CSS_HASH@/$(hash "$tmp/app.css")/" "$src/index.html" >"$tmp/index.html"

for f in app.js app.css favicon.svg index.html; do   # index.html last: the Makefile's target
    gzip -9 -n -c "$tmp/$f" >"$tmp/$f.gz"
    chmod 644 "$tmp/$f" "$tmp/$f.gz"
    mv -f "$tmp/$f" "$tmp/$f.gz" "$out/"
done
