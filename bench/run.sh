#!/usr/bin/env bash
# Runs the benchmark suite and prints its tables, medians of several
# repetitions measured in this run:
#  - single-threaded: per workload, ns per op for Backstage (1 shard), the
#    direct-call baseline, CAF with one scheduler thread and Erlang with one
#    scheduler, with the ratios Backstage/best peer and Backstage/direct;
#    then memory per idle actor and heap allocations per message;
#  - multi-core (the x* workloads and the work unit): Backstage on 1 and on
#    2 shards, CAF with 2 scheduler threads and Erlang with 2 schedulers,
#    with the speedup 2 shards / 1 shard and the ratio Backstage (2 shards)
#    / best 2-thread peer.
# ./dev.sh bench calls it after installing the packages (scripts/deps.sh).
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
#               large large-blob idle; work xpingpong xcount xring xring-work
#               xfanout xfanout-work xspawn)
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
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

# Multi-core workloads (backstage-bench list describes them): Backstage on 1
# and 2 shards, the peers on 2 threads. work: the compute unit of the *-work
# workloads alone, the same loop in every implementation.
XWORKLOADS=(
  "work         1000000 20000 ns/unit"
  "xpingpong    100000  2000  ns/msg"
  "xcount       1000000 20000 ns/msg"
  "xring        1000000 20000 ns/hop"
  "xring-work   200000  4000  ns/hop"
  "xfanout      1000000 20000 ns/delivery"
  "xfanout-work 200000  4000  ns/delivery"
  "xspawn       1000000 20000 ns/actor"
)

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
cmake --build "$BUILD" -j "$JOBS" --target backstage-bench backstage-bench-store >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target choose-store >/dev/null 2>&1 || true
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
caf2_run() { "$CAF" "$@" 2; }
insp_run() { # off|on, WORKLOAD N [REPS]: lines renamed impl=inspector-off|on
  local mode=$1; shift
  BENCH_INSPECTOR=$mode "$INSP_BUILD/bench/backstage-bench" "$@" |
    sed -E "s/ impl=backstage / impl=inspector-$mode /"
}
erl_run() { # WORKLOAD N REPS
  "$ERL" +S 1:1 +P 4000000 -noshell -pa "$PEER_DIR" -run bs_peer main "$@" -s init stop
}
erl2_run() { # WORKLOAD N REPS, two schedulers
  "$ERL" +S 2:2 +P 4000000 -noshell -pa "$PEER_DIR" -run bs_peer main "$@" -s init stop
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
for spec in "${XWORKLOADS[@]}"; do
  read -r w n qn _unit <<<"$spec"
  selected "$w" || continue
  [ "$QUICK" -eq 1 ] && n=$qn
  echo "== $w (N=$n, $REPS reps, multi-core)" >&2
  if [ "$w" = work ]; then
    run_prog "backstage $w" "$BENCH" "$w" "$n" "$REPS"
  else
    run_prog "backstage $w, 1 shard" "$BENCH" "$w" "$n" "$REPS" 1
    run_prog "backstage $w, 2 shards" "$BENCH" "$w" "$n" "$REPS" 2
  fi
  [ -n "$CAF" ] && run_prog "caf $w, 2 threads" caf2_run "$w" "$n" "$REPS"
  [ -n "$ERL" ] && run_prog "erlang $w, 2 schedulers" erl2_run "$w" "$n" "$REPS"
done
ELAPSED=$(($(date +%s) - START))

# ---- Table -------------------------------------------------------------------------

# median of field KEY over the lines of WORKLOAD and IMPL (and, if given,
# those with field FKEY=FVAL); empty if none.
median() { # workload impl key [fkey fval]
  awk -v w="$1" -v impl="impl=$2" -v key="$3" -v fkey="${4:-}" -v fval="${5:-}" '
    $1 == w && $2 == impl {
      v = ""; ok = fkey == ""
      for (i = 3; i <= NF; i++) {
        split($i, kv, "=")
        if (kv[1] == key) v = kv[2]
        if (kv[1] == fkey && kv[2] == fval) ok = 1
      }
      if (ok && v != "") print v
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
sel1=0
for spec in "${WORKLOADS[@]}"; do
  read -r w _rest <<<"$spec"
  selected "$w" && sel1=1
done
[ "$sel1" -eq 1 ] && {
  echo "| workload | unit | Backstage | direct | CAF 1 thread | Erlang 1 sched | Backstage / best peer | Backstage / direct | allocs/msg |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
}
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
xsel=0
for spec in "${XWORKLOADS[@]}"; do
  read -r w _rest <<<"$spec"
  selected "$w" && xsel=1
done
best_of() { # caf erlang -> "value name" of the lower, or empty
  local best="" name=""
  if [ -n "$1" ]; then best=$1; name=CAF; fi
  if [ -n "$2" ] && { [ -z "$best" ] || awk -v a="$2" -v b="$best" 'BEGIN { exit !(a < b) }'; }; then
    best=$2; name=Erlang
  fi
  [ -n "$best" ] && echo "$best $name"
  return 0
}
xrow() { # label unit bs1 bs2 caf erl allocs
  local label=$1 unit=$2 b1=$3 b2=$4 ca=$5 er=$6 al=$7 best bestname r sp
  read -r best bestname <<<"$(best_of "$ca" "$er")"
  r=$(ratio "$b2" "$best")
  [ "$r" != "n/a" ] && r="$r ($bestname)"
  sp=$(ratio "$b1" "$b2")
  echo "| $label | $unit | $(fmt "$b1") | $(fmt "$b2") | $sp | $(fmt "$ca") | $(fmt "$er") | $r | $al |"
}
if [ "$xsel" -eq 1 ]; then
  echo
  echo "| multi-core workload | unit | Backstage 1 shard | Backstage 2 shards | speedup 2 shards / 1 | CAF 2 threads | Erlang 2 scheds | Backstage 2 shards / best peer | allocs/msg (2 shards) |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  for spec in "${XWORKLOADS[@]}"; do
    read -r w _n _qn unit <<<"$spec"
    selected "$w" || continue
    ca=$(median "$w" caf ns_per_op threads 2)
    er=$(median "$w" erlang ns_per_op threads 2)
    if [ "$w" = work ]; then # a direct call in each language: no shards
      iters=$(awk '$1 == "work" && $2 == "impl=backstage" {
        for (i = 3; i <= NF; i++) if (sub(/^iters=/, "", $i)) { print $i; exit } }' "$RESULTS")
      bw=$(median work backstage ns_per_op)
      read -r best bestname <<<"$(best_of "$ca" "$er")"
      r=$(ratio "$bw" "$best")
      [ "$r" != "n/a" ] && r="$r ($bestname)"
      echo "| work unit (${iters:-?} LCG steps, one call) | $unit | $(fmt "$bw") (C) | | | $(fmt "$ca") | $(fmt "$er") | $r | |"
      continue
    fi
    b1=$(median "$w" backstage ns_per_op shards 1)
    b2=$(median "$w" backstage ns_per_op shards 2)
    xrow "$w" "$unit" "$b1" "$b2" "$ca" "$er" "$(allocs "$(median "$w" backstage allocs_per_msg shards 2)")"
    if [ "$w" = xpingpong ]; then
      for p in p50 p99; do
        xrow "xpingpong round trip $p" ns \
          "$(median "$w" backstage ${p}_ns shards 1)" "$(median "$w" backstage ${p}_ns shards 2)" \
          "$(median "$w" caf ${p}_ns threads 2)" "$(median "$w" erlang ${p}_ns threads 2)" ""
      done
    fi
  done
fi
echo
echo "ns per op: lower is better; ratios below 1 mean Backstage is faster; speedup above 1 means"
echo "2 shards are faster than 1 (1-shard ns / 2-shard ns). allocs/msg: engine allocator calls per"
echo "message queued during the timed runs (after warm-up). Raw lines: $RESULTS"
# Persistent state (docs/persistence.md): durable actor writes next to raw
# writes into the same embedded store, load latency, dispatch gaps.
if [ ${#ONLY[@]} -eq 0 ] || selected store; then
  echo
  echo "Persistent state (backstage-bench-store$([ "$QUICK" -eq 1 ] && echo " --quick")):"
  echo
  if ! "$BUILD/bench/backstage-bench-store" $([ "$QUICK" -eq 1 ] && echo --quick) | sed 's/^/    /'; then
    FAILURES=$((FAILURES + 1))
  fi
  if [ -x "$BUILD/bench/choose-store" ]; then
    echo
    echo "The embedded store's choice, raw versioned writes in transactions of 1600 (bench/store/choose_store.c):"
    echo
    "$BUILD/bench/choose-store" $([ "$QUICK" -eq 1 ] && echo 40000) | sed 's/^/    /'
  fi
fi
if [ "$FAILURES" -ne 0 ]; then
  echo "$FAILURES program(s) failed: see above" >&2
  exit 1
fi
