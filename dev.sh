#!/usr/bin/env bash
# Backstage developer entry point.
#
#   ./dev.sh demo [--cluster]
#                   install missing Debian packages, build, run the demo
#                   (--cluster: three nodes through a local nats-server, and
#                   a failover)
#   ./dev.sh test   install missing Debian packages, build and run the whole
#                   test suite: plain (-Werror, with valgrind runs of the
#                   examples), a Release -Werror build (built, not run),
#                   ASan+UBSan, TSan for the foreign-thread tests, and
#                   short libFuzzer runs
#   ./dev.sh build  just configure and build (build/)
#   ./dev.sh bench [--quick]
#                   install missing packages (CAF, Erlang too), build in
#                   Release (build-bench/), run every benchmark next to its
#                   CAF and Erlang peers and print the table (bench/run.sh)
#   ./dev.sh bench --cluster [--quick]
#                   two cluster nodes through a nats-server next to raw
#                   libnats and Erlang distribution (bench/cluster.sh)
#
# Build trees: build/ (plain), build-release/, build-asan/, build-tsan/,
# build-fuzz/. Set JOBS to limit parallelism (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")"

JOBS=${JOBS:-$(nproc)}
GEN=(-G Ninja)

deps() { scripts/deps.sh; }

configure() { # dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" "${GEN[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBACKSTAGE_INSPECTOR=ON "$@" >/dev/null
}

build() { # dir, extra cmake args...
  local dir=$1; shift
  configure "$dir" "$@"
  cmake --build "$dir" -j "$JOBS"
}

PASSED=0
FAILED=0
SKIPPED=0
run_ctest() { # dir, label, extra ctest args...
  local dir=$1 label=$2; shift 2
  echo "== ctest: $label"
  local log
  log=$(mktemp)
  set +e
  ctest --test-dir "$dir" --output-on-failure -j "$JOBS" "$@" 2>&1 | tee "$log"
  set -e
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n1 || true)
  if [ -z "$line" ]; then
    echo "ctest ($label) printed no summary"; FAILED=$((FAILED + 1)); rm -f "$log"; return
  fi
  local failed total skipped
  failed=$(sed -E 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
  total=$(sed -E 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
  skipped=$(grep -c '(Skipped)' "$log" || true)
  PASSED=$((PASSED + total - failed - skipped))
  FAILED=$((FAILED + failed))
  SKIPPED=$((SKIPPED + skipped))
  rm -f "$log"
}

# A build that must succeed, counted as one test: optimised builds warn
# about things the others do not (GCC's -Wmaybe-uninitialized at -O3).
build_check() { # dir, label, extra cmake args...
  local dir=$1 label=$2; shift 2
  echo "== build: $label"
  if configure "$dir" "$@" && cmake --build "$dir" -j "$JOBS"; then
    PASSED=$((PASSED + 1))
  else
    echo "build ($label) failed"; FAILED=$((FAILED + 1))
  fi
}

cmd_test() {
  deps
  build build -DBACKSTAGE_WERROR=ON
  run_ctest build "plain, -Werror"
  build_check build-release "Release, -Werror" -DCMAKE_BUILD_TYPE=Release \
    -DBACKSTAGE_WERROR=ON -DBACKSTAGE_BUILD_BENCH=OFF
  # Sanitized: everything that runs our C code in-process; not the install
  # test (a separate project), valgrind runs, the browser/TUI drivers or the
  # benchmark smoke test.
  build build-asan -DBACKSTAGE_WERROR=ON -DBACKSTAGE_ASAN=ON -DCMAKE_BUILD_TYPE=Debug \
    -DBACKSTAGE_BUILD_BENCH=OFF
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_ctest build-asan "ASan+UBSan" -LE 'install|valgrind|bench' -E 'insp_browser|insp_tui_tmux'
  build build-tsan -DBACKSTAGE_TSAN=ON -DBACKSTAGE_BUILD_GEN=OFF -DBACKSTAGE_INSPECTOR=ON \
    -DBACKSTAGE_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
  TSAN_OPTIONS=halt_on_error=1 run_ctest build-tsan "TSan (threads, shards, persistence, cluster)" \
    -R '^test_(threads|shards|persist_mt|cluster_threads)$'
  # libFuzzer targets, briefly (20 s each, sanitized); scripts/fuzz.sh runs
  # them long.
  configure build-fuzz -DCMAKE_C_COMPILER=clang-14 -DBACKSTAGE_FUZZ=ON \
    -DBACKSTAGE_BUILD_TESTS=OFF -DBACKSTAGE_BUILD_EXAMPLES=OFF -DBACKSTAGE_BUILD_BENCH=OFF
  cmake --build build-fuzz -j "$JOBS" --target fuzz_codec fuzz_dispatch fuzz_gen fuzz_state fuzz_remote
  run_ctest build-fuzz "fuzz (libFuzzer, ASan+UBSan, 20 s per target)" -L fuzz
  echo
  echo "all: $PASSED passed, $FAILED failed, $SKIPPED skipped"
  [ "$FAILED" -eq 0 ]
}

# The showcase (examples/showcase): a market simulation of ~2000 actors and
# 42 streams, 3 s by default. Arguments go to it: --seconds N, --forever
# (until Ctrl-C), --traders N, --quick.
# With --cluster: examples/cluster/demo.sh - a nats-server on loopback,
# three nodes, their inspector URLs, a failover (--quick, --keep-going).
cmd_demo() {
  deps
  build build
  if [ "${1:-}" = "--cluster" ]; then
    shift
    exec examples/cluster/demo.sh "$@" build/examples/cluster/cluster
  fi
  ./build/examples/showcase/showcase "$@"
}

cmd_bench() {
  scripts/deps.sh libcaf-dev erlang-base
  if [ "${1:-}" = "--cluster" ]; then
    shift
    exec bench/cluster.sh "$@"
  fi
  bench/run.sh "$@"
}

case "${1:-}" in
  test) shift; cmd_test "$@" ;;
  demo) shift; cmd_demo "$@" ;;
  build) shift; deps; build build "$@" ;;
  bench) shift; cmd_bench "$@" ;;
  *) echo "usage: $0 demo|test|build|bench" >&2; exit 2 ;;
esac
