#!/bin/sh
# The actors' throughput under inspector request load: the showcase
# (examples/showcase, ~2000 actors) runs for SECONDS with the inspector on,
# once with no client, once with 1 and once with 4 clients looping on
#   GET /api/snapshot?limit=1000&sort=id
# as fast as they can (insp-bench-load), interleaved over ROUNDS rounds.
# Per run it prints the actors' messages per wall second and per second of
# the showcase's CPU time (user + system, from GNU time when installed: the
# loop thread is saturated, so this is the actors' share of it, and it does
# not move with other processes on a shared machine the way wall time
# does); then, per load, the medians and their ratios to the unloaded
# ones. Informational: never fails on timings.
#   bench_load.sh SHOWCASE LOAD_CLIENT [SECONDS] [ROUNDS] [TRADERS]
set -eu
showcase=$1 load=$2 secs=${3:-5} rounds=${4:-3} traders=${5:-2000}
path='/api/snapshot?limit=1000&sort=id'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
timer=
[ -x /usr/bin/time ] && timer="/usr/bin/time -f cpu=%U+%S -o $work/cpu"

run() { # clients
  out="$work/out.$1"
  rm -f "$work/cpu"
  : > "$out"
  $timer "$showcase" --seconds "$secs" --traders "$traders" --inspector 127.0.0.1:0 > "$out" 2>&1 &
  pid=$!
  i=0
  while ! grep -q '^inspector: http' "$out" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
  port=$(sed -n 's|^inspector: http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$out")
  load_line="insp_load clients=0"
  if [ "$1" -gt 0 ] && [ -n "$port" ]; then
    load_line=$("$load" "$port" "$1" "$secs" "$path")
  fi
  wait $pid || true
  # "messages: N delivered, 9.30M msg/s"
  msgs=$(sed -n 's/.*messages: *\([0-9]*\) delivered.*/\1/p' "$out")
  wall=$(sed -n 's/.*delivered, \([0-9.]*\)\([kM]*\) msg\/s.*/\1 \2/p' "$out" |
         awk '{ m = $2 == "M" ? 1e6 : $2 == "k" ? 1e3 : 1; printf "%.0f", $1 * m }')
  cpu=$(sed -n 's/^cpu=\(.*\)/\1/p' "$work/cpu" 2>/dev/null | awk -F+ '{ print $1 + $2 }')
  percpu=$(awk -v m="${msgs:-0}" -v c="${cpu:-0}" 'BEGIN { printf "%.0f", (c > 0 ? m / c : 0) }')
  echo "insp_bench_load clients=$1 msg_per_s=${wall:-0} msg_per_cpu_s=$percpu cpu_s=${cpu:-?} $load_line" |
    tee -a "$work/res"
}

for round in $(seq "$rounds"); do
  run 0
  run 1
  run 4
done

awk '
  function val(k,   i, kv) { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) return kv[2] } return 0 }
  { n = val("clients"); w[n] = w[n] " " val("msg_per_s"); c[n] = c[n] " " val("msg_per_cpu_s");
    p[n] = p[n] " " val("rps") }
  function median(s,   a, k, i, j, t) {
    k = split(s, a, " ");
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return k ? a[int((k + 1) / 2)] : 0
  }
  END {
    bw = median(w[0]); bc = median(c[0]);
    printf "\n%-14s %14s %7s %16s %7s %12s\n", "clients", "msg/s (wall)", "ratio", "msg per CPU-s", "ratio", "requests/s";
    split("0 1 4", order, " ");
    for (k = 1; k <= 3; k++) { n = order[k];
      printf "%-14s %14.0f %7.3f %16.0f %7.3f %12.1f\n", n, median(w[n]), bw ? median(w[n]) / bw : 0,
             median(c[n]), bc ? median(c[n]) / bc : 0, median(p[n]); }
    print "(medians of the rounds; each client loops on GET /api/snapshot?limit=1000&sort=id)"
  }' "$work/res"
