#!/usr/bin/env bash
# The cluster benchmark: two nodes on loopback through one nats-server
# (bench/cluster/cluster_bench.c), in the same run as raw libnats between
# two processes (publish -> subscribe; ping-pong on two subjects; and
# natsConnection_Request) and Erlang distribution between two `erl -sname`
# nodes (bench/peers/bs_dist.erl). Prints one Markdown table of medians.
#
#   bench/cluster.sh [--quick] [--reps R] [--no-erlang]
#
#   one-way      N messages of 16 and 64 bytes of payload to 8 actors on the
#                other node, msgs/s (windows of 100,000 closed by a request)
#   round trip   sequential requests, p50 and p99 in microseconds
#
# Build tree: build-bench/ (Release, as bench/run.sh). Raw lines:
# build-bench/cluster-results.txt. Needs nats-server and libnats-dev
# (scripts/deps.sh), erlang-base for the Erlang column (./dev.sh bench
# installs it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench}
JOBS=${JOBS:-$(nproc)}
QUICK=0
REPS=3
ERLANG=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --reps) REPS=$2; shift ;;
    --no-erlang) ERLANG=0 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
N=2000000
RTT=5000
if [ "$QUICK" -eq 1 ]; then N=100000; RTT=300; REPS=1; fi

echo "== building cluster-bench (Release, $BUILD)" >&2
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  "-DCMAKE_C_FLAGS_RELEASE=-O3 -DNDEBUG -g" -DBACKSTAGE_BUILD_BENCH=ON \
  -DBACKSTAGE_BUILD_TESTS=OFF -DBACKSTAGE_BUILD_EXAMPLES=OFF -DBACKSTAGE_INSPECTOR=OFF >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target cluster-bench >/dev/null
BENCH=$BUILD/bench/cluster/cluster-bench
NATS=$(command -v nats-server || echo /usr/sbin/nats-server)
OUT=$BUILD/cluster-results.txt
: > "$OUT"
DIR=$(mktemp -d "${TMPDIR:-/tmp}/bs-cluster-bench-XXXXXX")
PIDS=()
EPMD_BEFORE=$(pgrep -x epmd || true)
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # erl starts epmd when none runs: stop the one this run started.
  if [ -z "$EPMD_BEFORE" ]; then
    local e
    e=$(pgrep -x epmd || true)
    [ -n "$e" ] && kill "$e" 2>/dev/null || true
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT

# A fresh nats-server (JetStream, loopback, free port); sets URL and NPID.
nats_up() {
  rm -rf "$DIR/js" "$DIR/nats.log"
  "$NATS" -a 127.0.0.1 -p -1 -js -sd "$DIR/js" -l "$DIR/nats.log" &
  NPID=$!
  PIDS+=("$NPID")
  local port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/.*Listening for client connections on 127.0.0.1:\([0-9]*\).*/\1/p' "$DIR/nats.log" 2>/dev/null | head -n1 || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "cluster.sh: nats-server did not start" >&2; exit 1; }
  URL=nats://127.0.0.1:$port
}
nats_down() { kill "$NPID" 2>/dev/null || true; wait "$NPID" 2>/dev/null || true; }

# Starts a background process whose first line is READY; sets BGPID.
start_ready() { # log, command...
  local log=$1; shift
  "$@" > "$log" 2>&1 &
  BGPID=$!
  PIDS+=("$BGPID")
  for _ in $(seq 300); do
    grep -q READY "$log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "cluster.sh: $* did not start (see $log)" >&2
  cat "$log" >&2
  exit 1
}

for rep in $(seq "$REPS"); do
  for size in 16 64; do
    echo "== rep $rep, $size B: backstage" >&2
    nats_up
    start_ready "$DIR/node.log" "$BENCH" node --url "$URL" --node b
    NODE=$BGPID
    "$BENCH" drive --url "$URL" --node a --peer b --n "$N" --size "$size" --rtt "$RTT" | tee -a "$OUT" >&2
    kill "$NODE"; wait "$NODE" 2>/dev/null || true
    echo "== rep $rep, $size B: raw libnats" >&2
    start_ready "$DIR/sub.log" "$BENCH" raw-sub --url "$URL"
    SUB=$BGPID
    "$BENCH" raw-pub --url "$URL" --n "$N" --size "$size" --rtt "$RTT" | tee -a "$OUT" >&2
    kill "$SUB"; wait "$SUB" 2>/dev/null || true
    nats_down
    if [ "$ERLANG" -eq 1 ] && command -v erl >/dev/null && command -v erlc >/dev/null; then
      echo "== rep $rep, $size B: Erlang distribution" >&2
      [ -f "$DIR/bs_dist.beam" ] || erlc -o "$DIR" "$ROOT/bench/peers/bs_dist.erl"
      HOST=$(hostname -s)
      export ERL_CRASH_DUMP=$DIR/erl_crash.dump
      start_ready "$DIR/esink.log" erl -sname "bssink$$" -setcookie bench -noshell \
        -pa "$DIR" -run bs_dist sink
      ESINK=$BGPID
      erl -sname "bsdrive$$" -setcookie bench -noshell -pa "$DIR" -run bs_dist drive \
        "bssink$$@$HOST" "$N" "$size" "$RTT" -s init stop | tee -a "$OUT" >&2
      kill "$ESINK" 2>/dev/null || true
      wait "$ESINK" 2>/dev/null || true
    fi
  done
done

# ---- The table: medians over the repetitions ----------------------------------------
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print (NR % 2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2); else print "-"}'; }
field() { # impl kind size field
  grep "^$1 $2" "$OUT" | { if [ "$3" != "-" ]; then grep " size $3 "; else cat; fi; } |
    sed -n "s/.* $4 \([0-9.]*\).*/\1/p" | median
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
echo
echo "| workload | Backstage cluster | raw libnats | Erlang distribution | Backstage / raw NATS |"
echo "|---|---|---|---|---|"
for size in 16 64; do
  b=$(field backstage oneway "$size" msgs_per_s); r=$(field nats oneway "$size" msgs_per_s)
  e=$(field erlang oneway "$size" msgs_per_s)
  echo "| one-way, $size B payload, msgs/s | $b | $r | $e | $(ratio "$b" "$r") |"
  b=$(field backstage oneway "$size" ns_per_msg); r=$(field nats oneway "$size" ns_per_msg)
  e=$(field erlang oneway "$size" ns_per_msg)
  echo "| one-way, $size B payload, ns/msg | $b | $r | $e | $(ratio "$b" "$r") |"
done
b=$(field backstage rtt_p50_us - rtt_p50_us); r=$(field nats-pingpong rtt_p50_us - rtt_p50_us)
q=$(field nats-request rtt_p50_us - rtt_p50_us); e=$(field erlang rtt_p50_us - rtt_p50_us)
echo "| request round trip p50, us | $b | $r (ping-pong), $q (natsConnection_Request) | $e | $(ratio "$b" "$r") |"
b=$(field backstage rtt_p50_us - rtt_p99_us); r=$(field nats-pingpong rtt_p50_us - rtt_p99_us)
q=$(field nats-request rtt_p50_us - rtt_p99_us); e=$(field erlang rtt_p50_us - rtt_p99_us)
echo "| request round trip p99, us | $b | $r (ping-pong), $q (natsConnection_Request) | $e | $(ratio "$b" "$r") |"
echo
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; raw lines in $OUT"
