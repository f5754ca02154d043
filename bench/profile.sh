#!/usr/bin/env bash
# Profiles Backstage workloads with callgrind (perf often has no hardware
# counters on these machines) and prints, per workload: instructions per
# message, the cost grouped by component (codec, libcbor, pool, dispatch,
# libuv, ...), and the top functions by self and inclusive cost. Only the
# timed part of backstage-bench is collected (it toggles collection around
# it), so setup and warm-up do not count.
#
#   bench/profile.sh [--n N] [--top K] [--inspector off|on] [WORKLOAD...]
#                    (default: pingpong count, N=200000)
#
# Uses the Release build of bench/run.sh (build-bench/, with symbols), or
# with --inspector the same build with the inspector compiled in
# (build-bench-insp/), not started (off) or started (on). Callgrind files
# stay in <build>/profile/ for callgrind_annotate or kcachegrind.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench}
N=200000
TOP=25
INSPECTOR=""
WORKLOADS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --n) N=$2; shift ;;
    --top) TOP=$2; shift ;;
    --inspector) INSPECTOR=$2; shift ;;
    -*) echo "profile.sh: unknown option $1" >&2; exit 2 ;;
    *) WORKLOADS+=("$1") ;;
  esac
  shift
done
[ ${#WORKLOADS[@]} -eq 0 ] && WORKLOADS=(pingpong count)
command -v valgrind >/dev/null || { echo "profile.sh: valgrind is missing (scripts/deps.sh)" >&2; exit 1; }

INSP_OPT=OFF
case "$INSPECTOR" in
  "") ;;
  on|off) INSP_OPT=ON; BUILD=${BENCH_INSP_BUILD_DIR:-$ROOT/build-bench-insp} ;;
  *) echo "profile.sh: --inspector off|on" >&2; exit 2 ;;
esac
export BENCH_INSPECTOR=${INSPECTOR:-off}
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  "-DCMAKE_C_FLAGS_RELEASE=-O3 -DNDEBUG -g" -DBACKSTAGE_BUILD_BENCH=ON \
  -DBACKSTAGE_BUILD_TESTS=OFF -DBACKSTAGE_BUILD_EXAMPLES=OFF -DBACKSTAGE_INSPECTOR=$INSP_OPT >/dev/null
cmake --build "$BUILD" --target backstage-bench >/dev/null
mkdir -p "$BUILD/profile"

# The component a "file:function [object]" line of callgrind_annotate is in.
COMPONENTS='
function component(line,   obj, loc) {
  obj = ""; loc = line
  if (match(line, / \[[^]]*\]$/)) { obj = substr(line, RSTART); loc = substr(line, 1, RSTART - 1) }
  if (obj ~ /libcbor/) return "libcbor";
  if (obj ~ /libuv/) return "libuv (loop, idle handle)";
  if (obj ~ /libc\.so/ || loc ~ /^\.\/(malloc|string|csu)\//) return "libc (malloc, memcpy, ...)";
  if (loc ~ /(^|\/)src\/codec\/|backstage\/codec\.h/) return "codec: bs_reader/bs_writer";
  if (loc ~ /backstage\/gen\.h/) return "codec: generated-code helpers (gen.h)";
  if (loc ~ /(^|\/)src\/msg\//) return "message pool, mailboxes, inbox (src/msg)";
  if (loc ~ /(^|\/)src\/shard\/dispatch\.c|(^|\/)src\/internal\.h|(^|\/)src\/runtime\/runtime\.h/) return "dispatch, turns, run queue";
  if (loc ~ /(^|\/)src\/route\//) return "send path (bs_send_begin/end), routing";
  if (loc ~ /(^|\/)src\/shard\/request\.c/) return "requests";
  if (loc ~ /(^|\/)src\/shard\//) return "shard (loop, registry, cross-shard mail)";
  if (loc ~ /(^|\/)src\/runtime\//) return "engine (runtime)";
  if (loc ~ /(^|\/)src\/stream\//) return "streams";
  if (loc ~ /(^|\/)src\/inspector\//) return "inspector";
  if (loc ~ /(^|\/)src\/base\//) return "allocator, base (src/base)";
  if (loc ~ /(^|\/)src\//) return "other runtime";
  if (loc ~ /\/generated\//) return "generated proxies and thunks";
  if (loc ~ /(^|\/)bench\/actors\//) return "actor methods (user code)";
  if (loc ~ /(^|\/)bench\//) return "benchmark driver";
  if (loc ~ /cbor/) return "libcbor";
  return "other";
}'

for w in "${WORKLOADS[@]}"; do
  out=$BUILD/profile/callgrind.$w
  line=$(valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$out" \
    "$BUILD/bench/backstage-bench" "$w" "$N" 1 2>/dev/null | grep "^$w impl=backstage")
  msgs=$(sed -E 's/.* msgs=([0-9]+).*/\1/' <<<"$line")
  ops=$(sed -E 's/.* ops=([0-9]+).*/\1/' <<<"$line")
  self=$(callgrind_annotate --auto=no --threshold=100 "$out" 2>/dev/null)
  incl=$(callgrind_annotate --auto=no --threshold=100 --inclusive=yes "$out" 2>/dev/null)
  total=$(awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }' <<<"$self")
  echo "## $w: N=$N, $ops ops, $msgs messages, $total instructions${INSPECTOR:+, inspector compiled in, $INSPECTOR}"
  awk -v t="$total" -v m="$msgs" -v o="$ops" 'BEGIN {
    printf "%.0f instructions per message, %.0f per op\n\n", t / m, t / o }'
  echo "### by component (self cost)"
  echo
  echo "| component | share | instr/msg |"
  echo "|---|---:|---:|"
  awk -v t="$total" -v m="$msgs" "$COMPONENTS"'
    /^ *[0-9,]+ \( *[0-9.]+%\)  / && !/PROGRAM TOTALS/ {
      n = $1; gsub(",", "", n)
      loc = $0; sub(/^ *[0-9,]+ \( *[0-9.]+%\) +/, "", loc)
      c[component(loc)] += n
    }
    END { for (k in c) printf "%s\t%d\n", k, c[k] }' <<<"$self" | sort -t$'\t' -k2,2nr |
    awk -F'\t' -v t="$total" -v m="$msgs" '{ printf "| %s | %.1f%% | %.0f |\n", $1, 100 * $2 / t, $2 / m }'
  echo
  for kind in self inclusive; do
    echo "### top $TOP by $kind cost"
    echo
    echo '```'
    if [ $kind = self ]; then text=$self; else text=$incl; fi
    awk -v m="$msgs" -v T="$total" -v top="$TOP" '
      /^ *[0-9,]+ \( *[0-9.]+%\)  / && !/PROGRAM TOTALS/ && shown < top {
        n = $1; gsub(",", "", n)
        loc = $0; sub(/^ *[0-9,]+ \( *[0-9.]+%\) +/, "", loc)
        sub(/ \[.*\]$/, "", loc); sub(/^(.*\/)?(src|bench|build-bench|include)\//, "", loc); sub(/^bench\//, "", loc)
        sub(/^\?\?\?:/, "", loc)
        if (loc ~ /libc-start|libc_start_call_main|below main|^0x|main\.c:main$/ || seen[loc]++) next
        shown++
        printf "%8.1f%% %7.1f/msg  %s\n", 100 * n / T, n / m, loc
      }' <<<"$text"
    echo '```'
    echo
  done
done
