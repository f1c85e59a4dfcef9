#!/usr/bin/env bash
# Measures `cars watch` in tmux (release build):
#  1. file save -> finding on screen, for a job that takes ~1 ms (so the figure is
#     cars' overhead: debounce, spawn, analysis, redraw), median of 10;
#  2. key -> screen latency while a job prints 100,000 lines per second, median and
#     worst of 10 (`?` opens the help overlay, any key closes it);
#  3. resident memory of cars sampled every 5 s during that flood.
# Usage: scripts/bench-watch.sh [FLOOD_SECONDS]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
flood_seconds=${1:-60}
cargo build --release --quiet
cars=$PWD/target/release/cars
work=$(mktemp -d)
session=cars-bench-$$
trap 'tmux kill-session -t $session 2>/dev/null || true; rm -rf "$work"' EXIT
now_ms() { date +%s%3N; }
screen() { tmux capture-pane -p -t "$session"; }
wait_for() { # text, timeout ms; prints the elapsed ms
  local start; start=$(now_ms)
  until screen | grep -qF -- "$1"; do
    if (( $(now_ms) - start > $2 )); then echo "timeout waiting for $1" >&2; screen >&2; exit 1; fi
    sleep 0.002
  done
  echo $(( $(now_ms) - start ))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# 1. save -> finding
mkdir -p "$work/p1"
cat > "$work/p1/.cars.toml" <<'TOML'
[[job]]
name = "compile"
command = "cat err.txt"
watch = ["err.txt"]
[watch]
jobs = ["compile"]
TOML
echo "src/a.c:1:1: error: boom 0" > "$work/p1/err.txt"
tmux new-session -d -s "$session" -x 120 -y 32 "cd $work/p1 && CARS_STORE=$work/store1 $cars watch"
wait_for "boom 0" 10000 >/dev/null
for i in $(seq 1 10); do
  sleep 0.3
  start=$(now_ms)
  echo "src/a.c:1:1: error: boom $i" > "$work/p1/err.txt"
  until screen | grep -qF "boom $i"; do sleep 0.002; done
  echo $(( $(now_ms) - start ))
done > "$work/save.txt"
tmux send-keys -t "$session" q; sleep 0.5; tmux kill-session -t "$session" 2>/dev/null || true
echo "save -> finding on screen (job runs ~1 ms, debounce 50 ms): median $(median < "$work/save.txt") ms, all: $(tr '\n' ' ' < "$work/save.txt")"

# 2 and 3. flood at 100,000 lines/s
mkdir -p "$work/p2"
cat > "$work/p2/flood.py" <<'PY'
import sys, time
start = time.time(); n = 0
while True:
    lines = []
    for i in range(1000):
        n += 1
        lines.append(f"src/m{n % 50}.c:{n % 997}:1: error: flood {n % 50}\n" if n % 100 == 0 else f"[{n}] compiling unit {n}\n")
    sys.stdout.write("".join(lines)); sys.stdout.flush()
    # 100 batches of 1,000 lines per second
    delay = start + n / 100000 - time.time()
    if delay > 0:
        time.sleep(delay)
PY
cat > "$work/p2/.cars.toml" <<'TOML'
[[job]]
name = "flood"
command = "python3 flood.py"
watch = ["nothing-matches"]
[watch]
jobs = ["flood"]
TOML
tmux new-session -d -s "$session" -x 120 -y 32 "cd $work/p2 && CARS_STORE=$work/store2 $cars watch"
wait_for "flood" 10000 >/dev/null
sleep 2
pid=$(pgrep -n -f "$cars watch")
for i in $(seq 1 10); do
  start=$(now_ms); tmux send-keys -t "$session" '?'
  until screen | grep -qF "any key closes this help"; do sleep 0.002; done
  open=$(( $(now_ms) - start ))
  start=$(now_ms); tmux send-keys -t "$session" x
  while screen | grep -qF "any key closes this help"; do sleep 0.002; done
  echo "$open $(( $(now_ms) - start ))"
  sleep 0.2
done > "$work/keys.txt"
all=$(tr ' ' '\n' < "$work/keys.txt")
echo "key -> screen during a 100,000 lines/s flood: median $(echo "$all" | median) ms, worst $(echo "$all" | sort -n | tail -1) ms"
lines_seen() { screen | grep -o 'output: python3 flood.py ([0-9]* lines)' | grep -o '[0-9]* lines' || echo "? lines"; }
echo "memory during the flood (VmRSS):"
for t in $(seq 0 5 "$flood_seconds"); do
  echo "  t=${t}s $(grep VmRSS /proc/$pid/status | awk '{print $2/1024 " MiB"}') $(lines_seen)"
  (( t < flood_seconds )) && sleep 5
done
tmux send-keys -t "$session" q
