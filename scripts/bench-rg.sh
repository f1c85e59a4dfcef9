#!/usr/bin/env bash
# The speed table of the throughput issue, side by side with ripgrep, in one run:
#   1. the generated 1 GiB CI log (../shared/bench/genlog.py 1024)
#   2. real Travis logs: the development logchunks logs, decompressed, concatenated 4x
#   3. a 3-line log (start-up)
# For each input, `cars analyze FILE --format json` and the reference
# `rg --no-mmap -c -f ../shared/bench/patterns.txt FILE` run alternately, RUNS times
# each, pinned to one core when taskset works; the medians of wall time, CPU time
# (user+sys) and peak RSS are printed with the rg/cars ratio (on CPU time: on a shared
# machine the pinned process's CPU time is the fair one-core figure).
#
# With a cars that has --threads, the one-core rows pass --threads 1 and a last
# section runs all cores.
#
# Usage: scripts/bench-rg.sh [--runs 5] [--size-mib 1024] [--no-build]
#   env: CARS_BIN=path   benchmark this binary instead of target/release/cars
#        RG=path         the ripgrep to compare with (default: rg on PATH)
# Inputs are made once under target/bench/rg/ and reused.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED="$ROOT/../shared"
OUT="$ROOT/target/bench/rg"
RUNS=5
SIZE_MIB=1024
BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift 2 ;;
        --size-mib) SIZE_MIB=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "bench-rg.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

die() { echo "bench-rg.sh: $*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
if [ "$(id -u)" = 0 ] && have apt-get; then
    [ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null 2>&1
    have rg || apt-get install -y -qq ripgrep >/dev/null 2>&1
fi
[ -x /usr/bin/time ] || die "needs GNU time (/usr/bin/time)"
RG=${RG:-$(command -v rg)}
[ -n "$RG" ] || die "needs ripgrep (rg) on PATH or RG=path"
[ -f "$SHARED/bench/genlog.py" ] || die "needs ../shared/bench (genlog.py, patterns.txt)"
PATTERNS="$SHARED/bench/patterns.txt"

CARS=${CARS_BIN:-$ROOT/target/release/cars}
if [ -z "${CARS_BIN:-}" ] && [ "$BUILD" = 1 ]; then
    (cd "$ROOT" && cargo build --release --locked --quiet) || die "release build failed"
fi
[ -x "$CARS" ] || die "no binary at $CARS"

mkdir -p "$OUT"
BIG="$OUT/big-${SIZE_MIB}.log"
REAL="$OUT/real.log"
TINY="$OUT/tiny.log"
if [ ! -s "$BIG" ]; then
    echo "generating $BIG ..." >&2
    python3 "$SHARED/bench/genlog.py" "$SIZE_MIB" > "$BIG.tmp" && mv "$BIG.tmp" "$BIG" || die "genlog.py failed"
fi
if [ ! -s "$REAL" ]; then
    one="$OUT/real-once.log"
    : > "$one"
    find "$SHARED/corpus/logchunks/logs" -name '*.log.gz' | sort | while read -r f; do
        gzip -dc "$f" >> "$one"
    done
    for _ in 1 2 3 4; do cat "$one"; done > "$REAL.tmp" && mv "$REAL.tmp" "$REAL"
    rm -f "$one"
fi
printf 'Run tests\nerror: could not compile `app` due to previous error\nProcess completed with exit code 1.\n' > "$TINY"

PIN=()
if have taskset && taskset -c 0 true 2>/dev/null; then PIN=(taskset -c 0); fi
# The one-core figures run cars on one thread; a cars that has --threads also gets a
# row with all cores (wall time, unpinned).
ONE=()
THREADED=0
if "$CARS" analyze --help 2>/dev/null | grep -q -- '--threads'; then
    ONE=(--threads 1)
    THREADED=$(nproc 2>/dev/null || echo 1)
fi

# measure CMD...: prints "wall cpu rss_kib" of one run
measure() {
    local t
    t=$(mktemp)
    /usr/bin/time -f '%e %U %S %M' -o "$t" "${PIN[@]}" "$@" >/dev/null 2>&1
    # GNU time puts "Command exited with non-zero status N" first: cars exits 1 on
    # findings, so read the last line.
    tail -n 1 "$t" | awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }'
    rm -f "$t"
}
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# bench NAME FILE: alternate cars and rg RUNS times, print one table row pair
bench() {
    local name=$1 file=$2 i c r
    local cw=() cc=() cm=() rw=() rc=() rm_=()
    for ((i = 0; i < RUNS; i++)); do
        read -r a b m < <(measure "$CARS" analyze "$file" --format json "${ONE[@]}")
        cw+=("$a"); cc+=("$b"); cm+=("$m")
        read -r a b m < <(measure "$RG" --no-mmap -c -f "$PATTERNS" "$file")
        rw+=("$a"); rc+=("$b"); rm_+=("$m")
    done
    local bytes gib
    bytes=$(stat -c %s "$file")
    gib=$(awk -v b="$bytes" 'BEGIN { printf "%.3f", b / 1073741824 }')
    c=$(printf '%s\n' "${cc[@]}" | median); r=$(printf '%s\n' "${rc[@]}" | median)
    local cwm rwm cmm rmm
    cwm=$(printf '%s\n' "${cw[@]}" | median); rwm=$(printf '%s\n' "${rw[@]}" | median)
    cmm=$(printf '%s\n' "${cm[@]}" | median); rmm=$(printf '%s\n' "${rm_[@]}" | median)
    awk -v n="$name" -v g="$gib" -v cw="$cwm" -v cc="$c" -v cm="$cmm" -v rw="$rwm" -v rc="$r" -v rm="$rmm" 'BEGIN {
        tp = (cc > 0) ? sprintf("%.2f GiB/s", g / cc) : "-";
        rtp = (rc > 0) ? sprintf("%.2f GiB/s", g / rc) : "-";
        ratio = (cc > 0) ? sprintf("%.2f", rc / cc) : "-";
        printf "| %s (%.3f GiB) | %.2f s wall, %.2f s CPU, %s, %.1f MiB | %.2f s wall, %.2f s CPU, %s, %.1f MiB | %s |\n",
            n, g, cw, cc, tp, cm / 1024, rw, rc, rtp, rm / 1024, ratio }'
}

# start-up: wall time of many runs on the 3-line log, median in ms
startup() {
    local i s e ms=()
    for ((i = 0; i < 30; i++)); do
        s=$(date +%s%N); "${PIN[@]}" "$@" >/dev/null 2>&1; e=$(date +%s%N)
        ms+=("$(( (e - s) / 1000 ))")
    done
    printf '%s\n' "${ms[@]}" | median | awk '{ printf "%.1f", $1 / 1000 }'
}

echo "cars: $CARS ($("$CARS" --version 2>/dev/null))"
echo "rg:   $RG ($("$RG" --version | head -1)), $(grep -c . "$PATTERNS") patterns"
echo "runs: $RUNS each, alternating, medians; pinned: ${PIN[*]:-no}"
echo
echo "| input | cars analyze (full rules) | rg --no-mmap -c -f patterns.txt | rg / cars (CPU) |"
echo "|---|---|---|---|"
bench "generated CI log" "$BIG"
bench "real Travis logs (logchunks dev x4)" "$REAL"
cs=$(startup "$CARS" analyze "$TINY" --format json "${ONE[@]}")
rs=$(startup "$RG" --no-mmap -c -f "$PATTERNS" "$TINY")
read -r _ _ tm < <(measure "$CARS" analyze "$TINY" --format json "${ONE[@]}")
awk -v c="$cs" -v r="$rs" -v m="$tm" 'BEGIN {
    printf "| a 3-line log (start-up, median of 30) | %.1f ms wall, %.1f MiB | %.1f ms | %.2f (wall) |\n", c, m / 1024, r, r / c }'

if [ "$THREADED" -gt 1 ]; then
    echo
    echo "cars --threads $THREADED (not pinned), wall time, medians of $RUNS:"
    for f in "$BIG" "$REAL"; do
        walls=()
        for ((i = 0; i < RUNS; i++)); do
            t=$(mktemp)
            /usr/bin/time -f '%e %M' -o "$t" "$CARS" analyze "$f" --format json --threads "$THREADED" >/dev/null 2>&1
            walls+=("$(tail -n 1 "$t")")
            rm -f "$t"
        done
        w=$(printf '%s\n' "${walls[@]}" | awk '{ print $1 }' | median)
        m=$(printf '%s\n' "${walls[@]}" | awk '{ print $2 }' | median)
        awk -v n="$(basename "$f")" -v w="$w" -v m="$m" -v b="$(stat -c %s "$f")" 'BEGIN {
            printf "  %s: %.2f s wall, %.2f GiB/s, %.1f MiB\n", n, w, b / 1073741824 / w, m / 1024 }'
    done
fi
