#!/bin/sh
# Runs bench_counters against both builds, interleaved, and prints ns/msg
# with ratios to the compiled-out baseline. Informational: never fails on
# timings.   bench_counters.sh BENCH_IN BENCH_OUT [N] [REPS]
set -eu
in=$1 out=$2 n=${3:-2000000} reps=${4:-5}
res=$(mktemp)
trap 'rm -f "$res"' EXIT
for round in 1 2 3; do
  "$out" "$n" "$reps" >> "$res"
  "$in" "$n" "$reps" >> "$res"
done
cat "$res"
# best (lowest) of the rounds per build/mode
awk '
  { split($2, b, "="); split($3, m, "="); split($4, t, "="); split($5, d, "=");
    k = b[2] "/" m[2];
    if (!(k in tot) || t[2] < tot[k]) tot[k] = t[2];
    if (!(k in dis) || d[2] < dis[k]) dis[k] = d[2]; }
  END {
    base = tot["out/off"]; dbase = dis["out/off"];
    printf "\n%-28s %12s %8s %14s %8s\n", "build / run-time state", "send+disp ns", "ratio", "dispatch ns", "ratio";
    split("out/off in/off in/on in/traced", order, " ");
    names["out/off"] = "compiled out";
    names["in/off"] = "compiled in, not started";
    names["in/on"] = "compiled in, started";
    names["in/traced"] = "started, actor traced";
    for (i = 1; i <= 4; i++) { k = order[i];
      printf "%-28s %12.2f %8.3f %14.2f %8.3f\n", names[k], tot[k], tot[k] / base, dis[k], dis[k] / dbase; }
  }' "$res"
