#!/usr/bin/env bash
# Runs the benchmark suite and prints one table: per workload, ns per op for
# Backstage, the direct-call baseline, CAF with one scheduler thread and
# Erlang with one scheduler, medians of several repetitions measured in this
# run, with the ratios Backstage/best peer and Backstage/direct; then memory
# per idle actor and heap allocations per message. ./dev.sh bench calls it
# after installing the packages (scripts/deps.sh).
#
#   bench/run.sh [--quick] [--reps R] [--no-peers] [--inspector] [WORKLOAD...]
#
#   --quick      small sizes, one repetition (a smoke run, well under 60 s)
#   --reps R     timed repetitions per program (default 5), after a warm-up
#   --no-peers   Backstage and direct only
#   --inspector  also the inspector's cost: Backstage built with it compiled
#                in (build-bench-insp/), not started and started (counters
#                and rates, no HTTP server), in a table of its own
#   WORKLOAD    only these (pingpong count spawn ring fanout reply await
#               large large-blob idle)
#
# Build tree: build-bench/ (Release; BENCH_BUILD_DIR overrides). Raw lines
# of the run: build-bench/results.txt. The table is Markdown, ready for
# docs/performance.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench}
JOBS=${JOBS:-$(nproc)}

QUICK=0
REPS=5
PEERS=1
INSPECTOR=0
ONLY=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --reps) REPS=$2; shift ;;
    --no-peers) PEERS=0 ;;
    --inspector) INSPECTOR=1 ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) ONLY+=("$1") ;;
  esac
  shift
done
[ "$QUICK" -eq 1 ] && REPS=1

# workload  N  quick-N  unit  (the same N for every implementation)
WORKLOADS=(
  "pingpong 1000000 20000 ns/msg"
  "count    1000000 20000 ns/msg"
  "spawn    1000000 20000 ns/actor"
  "ring     1000000 20000 ns/hop"
  "fanout   1000000 20000 ns/delivery"
  "reply    1000000 20000 ns/round-trip"
  "await    100000  5000  ns/round-trip"
  "large    20000   500   ns/64KiB-msg"
  "large-blob 20000 500   ns/64KiB-msg"
)
IDLE_N=1000000
IDLE_QUICK=20000

selected() { # workload
  [ ${#ONLY[@]} -eq 0 ] && return 0
  local w
  for w in "${ONLY[@]}"; do [ "$w" = "$1" ] && return 0; done
  return 1
}

# ---- Build ---------------------------------------------------------------------

echo "== building backstage-bench (Release, $BUILD)" >&2
# -g only adds symbols (for callgrind/perf: bench/profile.sh); code is the same.
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  "-DCMAKE_C_FLAGS_RELEASE=-O3 -DNDEBUG -g" -DBACKSTAGE_BUILD_BENCH=ON \
  -DBACKSTAGE_BUILD_TESTS=OFF -DBACKSTAGE_BUILD_EXAMPLES=OFF -DBACKSTAGE_INSPECTOR=OFF >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target backstage-bench >/dev/null
BENCH=$BUILD/bench/backstage-bench
INSP_BUILD=${BENCH_INSP_BUILD_DIR:-$ROOT/build-bench-insp}
if [ "$INSPECTOR" -eq 1 ]; then
  echo "== building backstage-bench with the inspector compiled in ($INSP_BUILD)" >&2
  cmake -S "$ROOT" -B "$INSP_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_C_FLAGS_RELEASE=-O3 -DNDEBUG -g" -DBACKSTAGE_BUILD_BENCH=ON \
    -DBACKSTAGE_BUILD_TESTS=OFF -DBACKSTAGE_BUILD_EXAMPLES=OFF -DBACKSTAGE_INSPECTOR=ON >/dev/null
  cmake --build "$INSP_BUILD" -j "$JOBS" --target backstage-bench >/dev/null
fi

PEER_DIR=$BUILD/peers
mkdir -p "$PEER_DIR"
CAF=""
ERL=""
if [ "$PEERS" -eq 1 ]; then
  if [ -f /usr/include/caf/all.hpp ] && command -v g++ >/dev/null; then
    if [ ! -x "$PEER_DIR/caf_bench" ] || [ "$ROOT/bench/peers/caf_bench.cpp" -nt "$PEER_DIR/caf_bench" ]; then
      echo "== building the CAF peer" >&2
      g++ -O2 -std=c++17 "$ROOT/bench/peers/caf_bench.cpp" -o "$PEER_DIR/caf_bench" \
        -lcaf_core -lpthread
    fi
    CAF=$PEER_DIR/caf_bench
  else
    echo "== CAF peer skipped: libcaf-dev or g++ missing (./dev.sh bench installs them)" >&2
  fi
  if command -v erlc >/dev/null && command -v erl >/dev/null; then
    if [ ! -f "$PEER_DIR/bs_peer.beam" ] || [ "$ROOT/bench/peers/bs_peer.erl" -nt "$PEER_DIR/bs_peer.beam" ]; then
      echo "== building the Erlang peer" >&2
      erlc -o "$PEER_DIR" "$ROOT/bench/peers/bs_peer.erl"
    fi
    ERL=erl
  else
    echo "== Erlang peer skipped: erlang-base missing (./dev.sh bench installs it)" >&2
  fi
fi

# ---- Run -------------------------------------------------------------------------

RESULTS=$BUILD/results.txt
: >"$RESULTS"
FAILURES=0

run_prog() { # label, command...
  local label=$1; shift
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [ $rc -ne 0 ]; then
    echo "!! $label failed (exit $rc):" >&2
    echo "$out" | tail -n 5 >&2
    FAILURES=$((FAILURES + 1))
  fi
  echo "$out" | grep -E '^[a-z][a-z0-9-]* impl=' >>"$RESULTS" || true
}

caf_run() { "$CAF" "$@" 1; }
insp_run() { # off|on, WORKLOAD N [REPS]: lines renamed impl=inspector-off|on
  local mode=$1; shift
  BENCH_INSPECTOR=$mode "$INSP_BUILD/bench/backstage-bench" "$@" |
    sed -E "s/ impl=backstage / impl=inspector-$mode /"
}
erl_run() { # WORKLOAD N REPS
  "$ERL" +S 1:1 +P 4000000 -noshell -pa "$PEER_DIR" -run bs_peer main "$@" -s init stop
}

START=$(date +%s)
for spec in "${WORKLOADS[@]}"; do
  read -r w n qn _unit <<<"$spec"
  selected "$w" || continue
  [ "$QUICK" -eq 1 ] && n=$qn
  echo "== $w (N=$n, $REPS reps)" >&2
  run_prog "backstage $w" "$BENCH" "$w" "$n" "$REPS"
  [ -n "$CAF" ] && run_prog "caf $w" caf_run "$w" "$n" "$REPS"
  [ -n "$ERL" ] && run_prog "erlang $w" erl_run "$w" "$n" "$REPS"
  if [ "$INSPECTOR" -eq 1 ]; then
    run_prog "inspector off $w" insp_run off "$w" "$n" "$REPS"
    run_prog "inspector on $w" insp_run on "$w" "$n" "$REPS"
  fi
done
if selected idle; then
  n=$IDLE_N
  [ "$QUICK" -eq 1 ] && n=$IDLE_QUICK
  echo "== idle (N=$n)" >&2
  run_prog "backstage idle" "$BENCH" idle "$n"
  [ -n "$CAF" ] && run_prog "caf idle" caf_run idle "$n" 1
  [ -n "$ERL" ] && run_prog "erlang idle" erl_run idle "$n" 1
  if [ "$INSPECTOR" -eq 1 ]; then
    run_prog "inspector off idle" insp_run off idle "$n"
    run_prog "inspector on idle" insp_run on idle "$n"
  fi
fi
ELAPSED=$(($(date +%s) - START))

# ---- Table -------------------------------------------------------------------------

# median of field KEY over the lines of WORKLOAD and IMPL; empty if none.
median() { # workload impl key
  awk -v w="$1" -v impl="impl=$2" -v key="$3" '
    $1 == w && $2 == impl {
      for (i = 3; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == key) print kv[2]
      }
    }' "$RESULTS" | sort -g | awk '
    { a[NR] = $1 }
    END {
      if (NR == 0) exit
      if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2
    }'
}

fmt() { # number -> short form; empty -> n/a
  [ -z "$1" ] && { echo "n/a"; return; }
  awk -v x="$1" 'BEGIN {
    if (x < 10) printf "%.2f", x; else if (x < 1000) printf "%.1f", x; else printf "%.0f", x }'
}

allocs() { # allocations per message, 2 decimals
  if [ -z "$1" ]; then echo "n/a"; else awk -v x="$1" 'BEGIN { printf "%.2f", x }'; fi
}

ratio() { # a b -> a/b, or n/a
  if [ -z "$1" ] || [ -z "$2" ]; then echo "n/a"; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (b <= 0) { print "n/a"; exit }
    r = a / b
    if (r < 10) printf "%.2f", r; else if (r < 100) printf "%.1f", r; else printf "%.0f", r }'
}

echo
echo "Backstage benchmarks — $(date -u +%Y-%m-%d), $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $([ "$QUICK" -eq 1 ] && echo "quick mode, " )median of $REPS, ${ELAPSED} s"
echo
echo "| workload | unit | Backstage | direct | CAF 1 thread | Erlang 1 sched | Backstage / best peer | Backstage / direct | allocs/msg |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
for spec in "${WORKLOADS[@]}"; do
  read -r w _n _qn unit <<<"$spec"
  selected "$w" || continue
  bs=$(median "$w" backstage ns_per_op)
  di=$(median "$w" direct ns_per_op)
  ca=$(median "$w" caf ns_per_op)
  er=$(median "$w" erlang ns_per_op)
  al=$(median "$w" backstage allocs_per_msg)
  best="" bestname=""
  if [ -n "$ca" ]; then best=$ca; bestname=CAF; fi
  if [ -n "$er" ] && { [ -z "$best" ] || awk -v a="$er" -v b="$best" 'BEGIN { exit !(a < b) }'; }; then
    best=$er; bestname=Erlang
  fi
  r=$(ratio "$bs" "$best")
  [ "$r" != "n/a" ] && r="$r ($bestname)"
  echo "| $w | $unit | $(fmt "$bs") | $(fmt "$di") | $(fmt "$ca") | $(fmt "$er") | $r | $(ratio "$bs" "$di") | $(allocs "$al") |"
done
if selected idle; then
  bsi=$(median idle backstage bytes_per_actor)
  hpi=$(median idle backstage heap_bytes_per_actor)
  sti=$(median idle backstage state_bytes)
  cai=$(median idle caf bytes_per_actor)
  eri=$(median idle erlang bytes_per_actor)
  evm=$(median idle erlang vm_bytes_per_actor)
  echo
  echo "| memory per idle actor (RSS growth / N, N=$n, activated) | Backstage | CAF 1 thread | Erlang 1 sched |"
  echo "|---|---:|---:|---:|"
  echo "| bytes per actor | $(fmt "$bsi") | $(fmt "$cai") | $(fmt "$eri") |"
  echo "| as the runtime accounts it | $(fmt "$hpi") (engine allocator; state $sti B) | n/a | $(fmt "$evm") (erlang:memory) |"
fi
if [ "$INSPECTOR" -eq 1 ]; then
  echo
  echo "| inspector cost (ns/op) | compiled out | compiled in, off | compiled in, on | in, off / out | in, on / out |"
  echo "|---|---:|---:|---:|---:|---:|"
  for spec in "${WORKLOADS[@]}"; do
    read -r w _n _qn _unit <<<"$spec"
    selected "$w" || continue
    out=$(median "$w" backstage ns_per_op)
    off=$(median "$w" inspector-off ns_per_op)
    on=$(median "$w" inspector-on ns_per_op)
    echo "| $w | $(fmt "$out") | $(fmt "$off") | $(fmt "$on") | $(ratio "$off" "$out") | $(ratio "$on" "$out") |"
  done
  if selected idle; then
    echo "| idle (bytes per actor) | $(fmt "$(median idle backstage bytes_per_actor)") | $(fmt "$(median idle inspector-off bytes_per_actor)") | $(fmt "$(median idle inspector-on bytes_per_actor)") | | |"
  fi
fi
echo
echo "ns per op: lower is better; ratios below 1 mean Backstage is faster. allocs/msg: engine allocator"
echo "calls per message queued during the timed runs (after warm-up). Raw lines: $RESULTS"
if [ "$FAILURES" -ne 0 ]; then
  echo "$FAILURES program(s) failed: see above" >&2
  exit 1
fi
