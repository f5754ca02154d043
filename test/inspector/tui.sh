#!/bin/sh
# backstage-inspector through tmux against insp-busy: actor ids and moving
# numbers appear, '/' filters, 'q' quits.
#   tui.sh INSP_BUSY BACKSTAGE_INSPECTOR WORK_DIR
set -eu
busy=$1 tui=$2 work=$3
command -v tmux >/dev/null || { echo "skip: needs tmux (scripts/deps.sh)"; exit 77; }
mkdir -p "$work"
session="bs-insp-$$"
rm -f "$work/url"
"$busy" --actors 200 --seconds 60 --odd-ids 1 --url-file "$work/url" >/dev/null &
pid=$!
cleanup() { tmux kill-session -t "$session" 2>/dev/null || true; kill $pid 2>/dev/null || true; }
trap cleanup EXIT
i=0
while [ ! -s "$work/url" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
hostport=$(sed -e 's|^http://||' -e 's|/$||' "$work/url")
fail() { echo "FAIL: $*"; tmux capture-pane -p -t "$session" 2>/dev/null || true; exit 1; }

tmux new-session -d -s "$session" -x 120 -y 40 "LC_ALL=C.UTF-8 $tui $hostport --interval 500"
# wait for a screen with actors, up to 10 s
wait_for() {
  i=0
  while [ $i -lt 100 ]; do
    tmux capture-pane -p -t "$session" > "$work/screen.txt" 2>/dev/null || true
    grep -q "$1" "$work/screen.txt" && return 0
    sleep 0.1; i=$((i + 1))
  done
  return 1
}
wait_for "worker-" || fail "no actor ids on screen"
grep -q "live" "$work/screen.txt" || fail "not live"
line1=$(grep '^delivered' "$work/screen.txt")
sleep 1.5
tmux capture-pane -p -t "$session" > "$work/screen2.txt"
line2=$(grep '^delivered' "$work/screen2.txt")
[ "$line1" != "$line2" ] || fail "numbers did not move: $line1"
# sort by id, then filter
tmux send-keys -t "$session" i
wait_for "^worker-000 " || fail "sort by id"
tmux send-keys -t "$session" / "worker-01" Enter
wait_for "filter:worker-01" || fail "filter not applied"
sleep 1
tmux capture-pane -p -t "$session" > "$work/screen3.txt"
rows=$(grep -c '^worker-' "$work/screen3.txt" || true)
[ "$rows" -eq 10 ] || fail "filter shows $rows rows, not 10"
# ids with an escape sequence, umlauts, wide characters and a non-UTF-8
# byte (U+FFFD in the JSON): escaped, and the TYPE column still lines up
# (each wide character is two columns, so it is replaced by two ASCII
# characters before the byte offsets are compared)
tmux send-keys -t "$session" c / "odd-" Enter
wait_for "filter:odd-" || fail "odd filter not applied"
sleep 1
tmux capture-pane -p -t "$session" > "$work/screen4.txt"
grep -qF 'odd-\x1b[31m-red' "$work/screen4.txt" || fail "escape sequence not shown escaped"
cols=$(grep '^odd-' "$work/screen4.txt" | LC_ALL=C sed -e 's/\xc3\xbc/u/g' -e 's/\xe4\xb8\xad/XX/g' \
       -e 's/\xe6\x96\x87/XX/g' -e 's/\xef\xbf\xbd/?/g' | awk '{ print index($0, " Worker ") }' | sort -u)
[ "$(grep -c '^odd-' "$work/screen4.txt")" -eq 4 ] || fail "not 4 odd rows"
[ "$cols" = "29" ] || fail "TYPE column not aligned: $cols"
# the engine goes away: the viewer stays up and says so
kill $pid
wait_for "disconnected" || fail "no disconnected state"
tmux send-keys -t "$session" q
i=0
while tmux has-session -t "$session" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
tmux has-session -t "$session" 2>/dev/null && fail "did not quit on q"
cp "$work/screen.txt" "$work/tui-screen.txt"
echo "ok: $(head -3 "$work/screen2.txt" | tail -1)"
