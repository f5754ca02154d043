#!/usr/bin/env bash
# Installs the Debian packages Backstage needs to build and test, quietly and
# only when something is missing. Safe to run again. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libuv1-dev libcbor-dev libclang-14-dev clang-14 llvm-14-dev
  libcriterion-dev libcjson-dev
  valgrind
  # fuzzing (fuzz/, scripts/fuzz.sh): libFuzzer and the sanitizer runtimes
  # of clang-14, only recommended by it
  libclang-rt-14-dev
  # inspector (-DBACKSTAGE_INSPECTOR=ON): HTTP parsing, the terminal UI, and
  # its browser (node runs playwright-core against Debian's chromium) and
  # tmux tests
  libhttp-parser-dev libncurses-dev chromium tmux nodejs
  # persistent state: the embedded store (SQLite in WAL mode); LMDB only
  # for the measurement that chose SQLite (bench/store/choose_store.c)
  libsqlite3-dev liblmdb-dev
  # cluster and cluster store: the NATS client library, and the server
  # (JetStream, KV) that the tests start on loopback
  libnats-dev nats-server
)
# Debian's npm (inspector browser test), unless node already brings its own.
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
# Extra packages from the caller (./dev.sh bench adds the CAF and Erlang
# peers of bench/peers/).
PACKAGES+=("$@")

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
