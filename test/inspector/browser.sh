#!/bin/sh
# The dashboard in headless Chromium against insp-busy.
#   browser.sh INSP_BUSY SRC_DIR WORK_DIR
# Installs playwright-core (npm, no browser download) into WORK_DIR/node on
# first use; exits 77 (skipped) when chromium, node or npm is missing.
set -eu
busy=$1 src=$2 work=$3
command -v chromium >/dev/null && command -v node >/dev/null && command -v npm >/dev/null || {
  echo "skip: needs chromium, node and npm (scripts/deps.sh)"; exit 77; }
mkdir -p "$work/node"
if [ ! -d "$work/node/node_modules/playwright-core" ]; then
  cp "$src/browser/package.json" "$work/node/"
  (cd "$work/node" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 120 npm install --no-audit --no-fund --silent) ||
    { echo "skip: npm install playwright-core failed"; exit 77; }
fi
cp "$src/browser/dashboard.mjs" "$work/node/"
rm -f "$work/url"
"$busy" --actors 300 --seconds 60 --odd-ids 1 --url-file "$work/url" >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
i=0
while [ ! -s "$work/url" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
url=$(cat "$work/url")
timeout 90 node "$work/node/dashboard.mjs" "$url" "$work/inspector-dashboard.png"
