#!/usr/bin/env bash
# Runs the libFuzzer targets (fuzz/), sanitized (ASan + UBSan), each for
# SECONDS (default 60), and prints executions and findings per target.
#
#   scripts/fuzz.sh            # 60 s each: fuzz_codec, fuzz_dispatch, fuzz_gen, fuzz_state, fuzz_remote
#   scripts/fuzz.sh 3600       # an hour each
#   FUZZ_TARGETS="fuzz_codec" scripts/fuzz.sh 600
#
# Builds build-fuzz/ with clang-14 (-DBACKSTAGE_FUZZ=ON) first. Each target
# starts from its checked-in seeds (fuzz/corpus/<name>/) plus what earlier
# runs found (build-fuzz/fuzz/long/<name>/corpus/, kept between runs).
# Findings (crash-*, leak-*, timeout-*, oom-*) are written to
# build-fuzz/fuzz/long/<name>/; reproduce one with
#   build-fuzz/fuzz/<target> build-fuzz/fuzz/long/<name>/crash-...
# Extra libFuzzer flags: FUZZ_FLAGS="-fork=2 -ignore_crashes=1" to go on
# after a finding, with two processes, for instance.
# Minimised findings are kept as failing tests in fuzz/regressions/<name>/
# (ctest -L fuzz runs them once each).
# Exit status: 0 when no target found anything.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER=${1:-60}
TARGETS=${FUZZ_TARGETS:-fuzz_codec fuzz_dispatch fuzz_gen fuzz_state fuzz_remote}
BUILD=${FUZZ_BUILD:-build-fuzz}
CC_FUZZ=${CC_FUZZ:-clang-14}

scripts/deps.sh
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_C_COMPILER="$CC_FUZZ" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBACKSTAGE_FUZZ=ON >/dev/null
fi
# shellcheck disable=SC2086
cmake --build "$BUILD" --target $TARGETS -j "${JOBS:-$(nproc)}" >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/fuzz/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

total_findings=0
summary=()
for t in $TARGETS; do
  name=${t#fuzz_}
  work="$BUILD/fuzz/long/$name"
  mkdir -p "$work/corpus"
  dict=()
  [ -f "fuzz/$name.dict" ] && dict=(-dict="fuzz/$name.dict")
  log="$work/last.log"
  touch "$work/.start"
  sleep 1 # findings are files newer than .start
  echo "== $t: ${SECONDS_PER} s"
  set +e
  # shellcheck disable=SC2086
  "$BUILD/fuzz/$t" "$work/corpus" "fuzz/corpus/$name" "${dict[@]}" \
    -max_total_time="$SECONDS_PER" -print_final_stats=1 -timeout=25 \
    -rss_limit_mb=4096 -artifact_prefix="$work/" ${FUZZ_FLAGS:-} </dev/null >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" |
    grep -Eo '[0-9]+$' | awk '{s += $1} END {print s + 0}')
  if [ "$execs" -eq 0 ]; then # -fork=N prints no final stats: its last "#N:"
    execs=$(grep -Eo '^#[0-9]+' "$log" | tail -n 1 | tr -d '#' || true)
    execs=${execs:-0}
  fi
  findings=$(find "$work" -maxdepth 1 -newer "$work/.start" \
    \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) \
    2>/dev/null | wc -l || true)
  if [ "$rc" -ne 0 ] && [ "$findings" -eq 0 ]; then findings=1; fi
  total_findings=$((total_findings + findings))
  line=$(printf '%-14s %10s executions  %s finding(s)  (exit %s, log %s)' \
    "$t" "$execs" "$findings" "$rc" "$log")
  echo "$line"
  summary+=("$line")
  if [ "$findings" -ne 0 ]; then
    grep -E 'ERROR|check failed|SUMMARY|Test unit written' "$log" | head -20 || true
  fi
done
echo
echo "== fuzz summary (${SECONDS_PER} s per target)"
printf '%s\n' "${summary[@]}"
[ "$total_findings" -eq 0 ]
