#!/usr/bin/env bash
# The cluster demo: a nats-server with JetStream on loopback (Debian's
# nats-server, a free port, a temporary store), three nodes of
# examples/cluster, their inspector URLs, then a node killed with kill -9:
# watch the survivors take its partitions over (the "partitions" column
# goes from ~341 to 512) and the requests recover. Everything is stopped
# and removed at the end (or on Ctrl-C).
#
#   examples/cluster/demo.sh [--quick] [--keep-going] [path/to/cluster]
#
#   --quick       shorter phases (the smoke test)
#   --keep-going  after the failover, run until Ctrl-C
set -euo pipefail
QUICK=0
KEEP=0
BIN=""
for a in "$@"; do
  case "$a" in
    --quick) QUICK=1 ;;
    --keep-going) KEEP=1 ;;
    *) BIN=$a ;;
  esac
done
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$ROOT/build/examples/cluster/cluster}
[ -x "$BIN" ] || { echo "demo: $BIN is not built (./dev.sh build)" >&2; exit 1; }
NATS=$(command -v nats-server || true)
[ -n "$NATS" ] || NATS=/usr/sbin/nats-server
[ -x "$NATS" ] || { echo "demo: nats-server is not installed (scripts/deps.sh installs it)" >&2; exit 1; }

DIR=$(mktemp -d "${TMPDIR:-/tmp}/backstage-demo-XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The server picks a free port (-p -1) and says which in its log.
"$NATS" -a 127.0.0.1 -p -1 -js -sd "$DIR/js" -l "$DIR/nats.log" &
PIDS+=($!)
PORT=""
for _ in $(seq 100); do
  PORT=$(sed -n 's/.*Listening for client connections on 127.0.0.1:\([0-9]*\).*/\1/p' "$DIR/nats.log" 2>/dev/null | head -n1 || true)
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { echo "demo: nats-server did not start (see $DIR/nats.log)" >&2; exit 1; }
URL=nats://127.0.0.1:$PORT
echo "== nats-server with JetStream on $URL"

declare -A NODE_PID
for n in n1 n2 n3; do
  BACKSTAGE_CLUSTER=$URL BACKSTAGE_CLUSTER_NAME=demo BACKSTAGE_NODE=$n \
    BACKSTAGE_INSPECTOR=127.0.0.1:0 "$BIN" --players 3000 > >(tee "$DIR/$n.out") &
  NODE_PID[$n]=$!
  PIDS+=($!)
done
if [ "$QUICK" -eq 1 ]; then STEADY=6; AFTER=3; else STEADY=10; AFTER=8; fi
sleep "$STEADY"
echo "== kill -9 n3: its partitions expire with its lease (5 s), the leader hands them to n1 and n2"
kill -9 "${NODE_PID[n3]}"
T0=$SECONDS
# Until the survivors report every partition between them (60 s at most).
for _ in $(seq 600); do
  grep -q "nodes 2  partitions  512" "$DIR/n1.out" "$DIR/n2.out" 2>/dev/null && break
  sleep 0.1
done
echo "== failover: n1 and n2 serve all partitions, $((SECONDS - T0)) s after the kill"
sleep "$AFTER"
if [ "$KEEP" -eq 1 ]; then
  echo "== n1 and n2 keep playing; Ctrl-C to stop"
  wait
fi
echo "== stopping n1 and n2 (a graceful leave)"
kill -TERM "${NODE_PID[n1]}" "${NODE_PID[n2]}"
wait "${NODE_PID[n1]}" "${NODE_PID[n2]}" || true
echo "== done"
