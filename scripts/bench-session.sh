#!/usr/bin/env bash
# REPL latency on a 1,000-finding session: times `cars session` over a script of N
# commands and over a script of one, and prints the mean cost of a command without
# process start-up. Usage: scripts/bench-session.sh [N]   (release build)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300}
cargo build --release --quiet
cars=$PWD/target/release/cars
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CARS_STORE=$work/store
for i in $(seq 1 1000); do
  echo "src/f$i.c:$i:1: error: unknown type name 'foo$i'"
done > "$work/many.log"
"$cars" analyze "$work/many.log" --format text >/dev/null || true
: > "$work/script"
for i in $(seq 1 "$n"); do
  case $((i % 4)) in
    0) echo "list" ;;
    1) echo "show E$(( (i * 7) % 1000 + 1 ))" ;;
    2) echo "explain E$(( (i * 13) % 1000 + 1 ))" ;;
    3) echo "list category" ;;
  esac
done >> "$work/script"
echo "list" > "$work/one"
time_of() { local s e; s=$(date +%s%N); "$cars" session < "$1" >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000 )); }
one=$(time_of "$work/one")
many=$(time_of "$work/script")
echo "1,000-finding session: $n commands (list, show, explain, list category)"
echo "  one command incl. start-up: $((one / 1000)) ms"
awk -v m="$many" -v o="$one" -v n="$n" 'BEGIN { printf "  mean per command: %.2f ms\n", (m - o) / (n - 1) / 1000 }'
