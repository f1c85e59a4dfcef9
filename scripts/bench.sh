#!/usr/bin/env bash
# Benchmarks `cars analyze` against the project's performance targets:
#   - throughput >= 1 GiB/s on a generated 1 GiB CI log, full rule library, one core
#   - peak RSS < 64 MiB whatever the input size (plain and gzip input)
#   - start-up on a 10-line log < 20 ms
#   - reference: ripgrep with the rule library's regexes (`rg -c -f`) and keywords
#
# Usage: scripts/bench.sh [--size 1GiB] [--runs 3] [--no-build]
#   env: CARS_BIN=path   benchmark this binary instead of building target/release/cars
#        RG=path         the ripgrep to compare with (default: rg on PATH)
#        RG_SAMPLE=8MiB  how much of the log the slow `rg -f REGEXES` run reads
#        RG_TIMEOUT=600  its time limit in seconds
#
# Everything it makes lives in target/bench/ (the generated log is reused when it
# exists with the right size; delete it after changing examples/genlog.rs). Throughput
# is given on wall time and on CPU time (user+sys): on a shared machine the CPU time
# of the pinned process is the fair one-core figure. Missing rg/hyperfine/taskset
# only skip their lines.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/target/bench"
SIZE=1GiB
RUNS=3
BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
        --size) SIZE=$2; shift 2 ;;
        --size=*) SIZE=${1#*=}; shift ;;
        --runs) RUNS=$2; shift 2 ;;
        --runs=*) RUNS=${1#*=}; shift ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

say() { printf '%s\n' "$*"; }
warn() { printf 'bench.sh: %s\n' "$*" >&2; }

to_bytes() {
    local s=$1 num unit
    num=$(printf '%s' "$s" | sed -E 's/^([0-9.]+).*$/\1/')
    unit=$(printf '%s' "$s" | sed -E 's/^[0-9.]+//' | tr 'A-Z' 'a-z')
    case "$unit" in
        ''|b) awk -v n="$num" 'BEGIN{printf "%d", n}' ;;
        k|kib) awk -v n="$num" 'BEGIN{printf "%d", n*1024}' ;;
        m|mib) awk -v n="$num" 'BEGIN{printf "%d", n*1048576}' ;;
        g|gib) awk -v n="$num" 'BEGIN{printf "%d", n*1073741824}' ;;
        kb) awk -v n="$num" 'BEGIN{printf "%d", n*1000}' ;;
        mb) awk -v n="$num" 'BEGIN{printf "%d", n*1000000}' ;;
        gb) awk -v n="$num" 'BEGIN{printf "%d", n*1000000000}' ;;
        *) echo "bad size $s" >&2; return 1 ;;
    esac
}
BYTES=$(to_bytes "$SIZE") || exit 2
mkdir -p "$BENCH"

# ---------------------------------------------------------------------------------
# Tools

have() { command -v "$1" >/dev/null 2>&1; }
apt_install() {
    # Best effort, only when we are root and apt exists; never fatal.
    if have apt-get && [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 || true
    fi
}
[ -x /usr/bin/time ] || apt_install time
have rg || apt_install ripgrep
have hyperfine || apt_install hyperfine
TASKSET=()
if have taskset && taskset -c 0 true 2>/dev/null; then TASKSET=(taskset -c 0); fi

# ---------------------------------------------------------------------------------
# Build

CARS=${CARS_BIN:-$ROOT/target/release/cars}
GENLOG="$ROOT/target/release/examples/genlog"
if [ "$BUILD" = 1 ] && [ -z "${CARS_BIN:-}" ]; then
    say "== building (release) =="
    if ! (cd "$ROOT" && cargo build --release --quiet --bin cars 2>"$BENCH/build.err"); then
        tail -n 20 "$BENCH/build.err" >&2
        if [ -x "$CARS" ]; then
            warn "cargo build failed; benchmarking the existing $CARS (may be stale)"
        else
            warn "cargo build failed and there is no binary"; exit 1
        fi
    fi
fi
if [ ! -x "$GENLOG" ] || [ "$ROOT/examples/genlog.rs" -nt "$GENLOG" ]; then
    (cd "$ROOT" && cargo build --release --quiet --example genlog 2>"$BENCH/build.err") \
        || { tail -n 20 "$BENCH/build.err" >&2; warn "cannot build genlog"; exit 1; }
fi
[ -x "$CARS" ] || { warn "no cars binary at $CARS"; exit 1; }

# ---------------------------------------------------------------------------------
# Inputs

LOG="$BENCH/ci-$SIZE.log"
if [ -f "$LOG" ] && [ "$(stat -c %s "$LOG")" = "$BYTES" ]; then
    say "== input: reusing $LOG =="
else
    say "== input: generating $LOG ($SIZE) =="
    "$GENLOG" --size "$BYTES" --out "$LOG" || { warn "genlog failed"; exit 1; }
fi

SMALL="$BENCH/small-10.log"
cat > "$SMALL" <<'EOF'
2024-05-01T10:00:01.3580237Z ##[group]Run cargo build --locked
2024-05-01T10:00:01.9753072Z ##[endgroup]
2024-05-01T10:00:02.0987639Z    Compiling demo v0.1.0 (/home/runner/work/demo/demo)
2024-05-01T10:00:02.2222206Z error[E0425]: cannot find value `y` in this scope
2024-05-01T10:00:02.3456773Z  --> src/main.rs:3:20
2024-05-01T10:00:02.4691340Z   |
2024-05-01T10:00:02.5925907Z 3 |     println!("{}", y);
2024-05-01T10:00:02.7160474Z   |                    ^ help: a local variable with a similar name exists: `x`
2024-05-01T10:00:02.9382680Z error: could not compile `demo` (bin "demo") due to 1 previous error
2024-05-01T10:00:03.0617247Z ##[error]Process completed with exit code 101.
EOF

# Keep user/project rules and saved state out of the measurement.
export XDG_CONFIG_HOME="$BENCH/xdg/config" XDG_DATA_HOME="$BENCH/xdg/data" \
       XDG_CACHE_HOME="$BENCH/xdg/cache" XDG_STATE_HOME="$BENCH/xdg/state"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME"
cd "$BENCH" || exit 1

CARS_ARGS=(--format json)
if "$CARS" analyze --help 2>/dev/null | grep -q -- '--no-save'; then
    CARS_ARGS+=(--no-save)
else
    warn "cars analyze has no --no-save flag yet; running without it"
fi
if ! "$CARS" analyze --help 2>/dev/null | grep -q -- '--format'; then
    warn "cars analyze has no --format flag"; exit 1
fi

# ---------------------------------------------------------------------------------
# Measuring: best wall time of N runs, and the highest peak RSS seen.

now_ns() { date +%s%N; }

# measure NAME OKCODES CMD...
#   -> BEST_S (best wall time), BEST_CPU (best user+sys CPU time), RSS_KIB (highest
#      peak RSS), LAST_RC; the command's output goes to $BENCH/NAME.out.
# CPU time is what one core spends on the job: on a shared machine the wall time of a
# pinned process also counts the time other processes hold that core.
measure() {
    local name=$1 okcodes=$2; shift 2
    local i t0 t1 rc rss cpu best="" bestcpu="" maxrss=0
    for ((i = 1; i <= RUNS; i++)); do
        t0=$(now_ns)
        if [ -x /usr/bin/time ]; then
            /usr/bin/time -f '%M %U %S' -o "$BENCH/$name.rss" "$@" >"$BENCH/$name.out" 2>"$BENCH/$name.err"
            rc=$?
        else
            python3 - "$BENCH/$name.rss" "$@" >"$BENCH/$name.out" 2>"$BENCH/$name.err" <<'PY'
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
u = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write("%d %.2f %.2f\n" % (u.ru_maxrss, u.ru_utime, u.ru_stime))
sys.exit(rc)
PY
            rc=$?
        fi
        t1=$(now_ns)
        LAST_RC=$rc
        if ! [[ ",$okcodes," == *",$rc,"* ]]; then
            warn "$name: exit status $rc (see $BENCH/$name.err)"
            sed -n '1,5p' "$BENCH/$name.err" | cut -c1-300 >&2
            BEST_S=""; BEST_CPU=""; RSS_KIB=""; return 1
        fi
        read -r rss cpu_u cpu_s < <(tail -n 1 "$BENCH/$name.rss" 2>/dev/null)
        cpu=$(awk -v u="${cpu_u:-0}" -v s="${cpu_s:-0}" 'BEGIN{printf "%.2f", u+s}')
        if [ -z "$bestcpu" ] || awk -v a="$cpu" -v b="$bestcpu" 'BEGIN{exit !(a<b)}'; then bestcpu=$cpu; fi
        rss=$(printf '%s' "${rss:-}" | tr -dc '0-9')
        [ -n "$rss" ] && [ "$rss" -gt "$maxrss" ] && maxrss=$rss
        local dt=$((t1 - t0))
        if [ -z "$best" ] || [ "$dt" -lt "$best" ]; then best=$dt; fi
    done
    BEST_S=$(awk -v ns="$best" 'BEGIN{printf "%.3f", ns/1e9}')
    BEST_CPU=$bestcpu
    RSS_KIB=$maxrss
}

count_findings() {
    python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$1" 2>/dev/null \
        || grep -o '"fingerprint"' "$1" | wc -l
}
mibs() { awk -v b="$BYTES" -v s="$1" 'BEGIN{ if (s<=0) print "-"; else { v=b/1048576/s; if (v>=10) printf "%.0f", v; else if (v>=1) printf "%.1f", v; else printf "%.2f", v } }'; }
gibs() { awk -v b="$BYTES" -v s="$1" 'BEGIN{ if (s<=0) print "-"; else { v=b/1073741824/s; if (v>=0.01) printf "%.2f", v; else printf "%.5f", v } }'; }
mib_of_kib() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }

# figures NAME: one line with wall and CPU throughput of the last measure.
figures() {
    printf 'wall %s s  %s MiB/s (%s GiB/s)   CPU %s s  %s MiB/s (%s GiB/s)   peak RSS %s MiB\n' \
        "$BEST_S" "$(mibs "$BEST_S")" "$(gibs "$BEST_S")" \
        "$BEST_CPU" "$(mibs "$BEST_CPU")" "$(gibs "$BEST_CPU")" "$(mib_of_kib "$RSS_KIB")"
}

# Warm the page cache so that every run reads from memory.
cat "$LOG" >/dev/null

declare -A R   # results for the summary
say ""
say "== input =="
say "file:  $LOG"
say "size:  $BYTES bytes ($(awk -v b="$BYTES" 'BEGIN{printf "%.2f GiB", b/1073741824}'))"
say "cars:  $CARS ($("$CARS" --version 2>/dev/null | head -n 1))"
say "rules: $(cat "$ROOT"/patterns/*.toml | grep -c '^\[\[rule\]\]') in $(ls "$ROOT"/patterns/*.toml | wc -l) files of patterns/"
say "runs:  best of $RUNS; load average now: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
say "       (wall = elapsed; CPU = user+sys of the process, the fair figure when the"
say "        pinned core is shared with other work)"

say ""
say "== cars analyze ${CARS_ARGS[*]} (no pinning) =="
if measure cars_all 0,1 "$CARS" analyze "$LOG" "${CARS_ARGS[@]}"; then
    R[all_s]=$BEST_S; R[all_cpu]=$BEST_CPU; R[all_rss]=$RSS_KIB
    say "$(figures)"
    say "exit status $LAST_RC; findings: $(count_findings "$BENCH/cars_all.out") (JSON output $(stat -c %s "$BENCH/cars_all.out") bytes, in $BENCH/cars_all.out)"
fi

if [ ${#TASKSET[@]} -gt 0 ]; then
    say ""
    say "== cars analyze ${CARS_ARGS[*]} (taskset -c 0: one core) =="
    if measure cars_one 0,1 "${TASKSET[@]}" "$CARS" analyze "$LOG" "${CARS_ARGS[@]}"; then
        R[one_s]=$BEST_S; R[one_cpu]=$BEST_CPU; R[one_rss]=$RSS_KIB
        say "$(figures)"
    fi
fi

say ""
say "== cars analyze on the same log gzip-compressed (memory check, 1 run) =="
GZ="$LOG.gz"
if [ ! -f "$GZ" ] || [ "$LOG" -nt "$GZ" ]; then gzip -1 -c "$LOG" >"$GZ"; fi
RUNS_SAVE=$RUNS; RUNS=1
if measure cars_gz 0,1 "$CARS" analyze "$GZ" "${CARS_ARGS[@]}"; then
    R[gz_rss]=$RSS_KIB
    say "$(figures)   (throughput counts uncompressed bytes; $(stat -c %s "$GZ") bytes compressed)"
fi
RUNS=$RUNS_SAVE

# ---------------------------------------------------------------------------------
# Start-up on a 10-line log

say ""
say "== start-up: cars analyze small-10.log ${CARS_ARGS[*]} =="
if have hyperfine; then
    if hyperfine -N -i --warmup 10 --runs 100 --style none \
        --export-json "$BENCH/startup.json" \
        "$CARS analyze $SMALL ${CARS_ARGS[*]}" >/dev/null 2>"$BENCH/startup.err"; then
        read -r mean sd min med < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.2f %.2f %.2f %.2f" % (r["mean"]*1e3, r["stddev"]*1e3, r["min"]*1e3, r["median"]*1e3))' "$BENCH/startup.json" 2>/dev/null)
        if [ -n "${mean:-}" ]; then
            R[start_ms]=$mean; R[start_min]=$min
            say "hyperfine, 100 runs: mean $mean ms ± $sd ms, median $med ms, min $min ms"
        fi
    else
        warn "hyperfine failed: $(head -n 3 "$BENCH/startup.err")"
    fi
fi
if [ -z "${R[start_ms]:-}" ]; then
    t0=$(now_ns)
    for ((i = 0; i < 100; i++)); do "$CARS" analyze "$SMALL" "${CARS_ARGS[@]}" >/dev/null 2>&1; done
    t1=$(now_ns)
    R[start_ms]=$(awk -v ns=$((t1 - t0)) 'BEGIN{printf "%.2f", ns/100/1e6}')
    say "loop of 100 runs: mean ${R[start_ms]} ms"
fi
RUNS_SAVE=$RUNS; RUNS=1
if measure cars_small 0,1 "$CARS" analyze "$SMALL" "${CARS_ARGS[@]}"; then
    R[small_rss]=$RSS_KIB
    say "peak RSS $(mib_of_kib "$RSS_KIB") MiB; findings: $(count_findings "$BENCH/cars_small.out")"
fi
RUNS=$RUNS_SAVE

# ---------------------------------------------------------------------------------
# Real logs: every log of ../shared/corpus concatenated (when it is there)

CORPUS="$ROOT/../shared/corpus"
if [ -d "$CORPUS" ]; then
    say ""
    say "== real logs: all of shared/corpus concatenated (taskset -c 0) =="
    REAL="$BENCH/corpus-all.log"
    if [ ! -s "$REAL" ]; then
        find "$CORPUS" -type f \( -name '*.log' -o -name '*.log.gz' \) | sort | while read -r f; do
            case "$f" in *.gz) gzip -dc "$f" ;; *) cat "$f" ;; esac
        done >"$REAL" 2>/dev/null
    fi
    REAL_BYTES=$(stat -c %s "$REAL")
    BYTES_SAVE=$BYTES; BYTES=$REAL_BYTES
    if measure cars_real 0,1 "${TASKSET[@]}" "$CARS" analyze "$REAL" "${CARS_ARGS[@]}"; then
        R[real_cpu]=$BEST_CPU; R[real_bytes]=$REAL_BYTES; R[real_rss]=$RSS_KIB
        say "$REAL_BYTES bytes, $(wc -l <"$REAL") lines"
        say "$(figures)"
    fi
    BYTES=$BYTES_SAVE
fi

# ---------------------------------------------------------------------------------
# Reference: ripgrep with the rule library's regexes (and with its keywords)
#
# rg -f joins all patterns into one regex; with ~150 rule regexes (Unicode classes,
# lazy .+? and optional groups) its automaton gives up and it falls back to a slow
# engine (~1 MB/s with ripgrep 13 and 15 alike), so the regex run is done on a
# sample of RG_SAMPLE (default 8MiB) bytes of the log, once, with a time limit.
# The keyword run (`rg -c -i -F -f keywords`) scans the whole log: it is what a
# literal prefilter alone costs.

RG=${RG:-rg}
RG_SAMPLE=${RG_SAMPLE:-8MiB}
if have "$RG"; then
    say ""
    say "== reference: $("$RG" --version 2>/dev/null | head -n 1) =="
    PAT="$BENCH/rg-patterns.txt"
    KW="$BENCH/rg-keywords.txt"
    RAW="$BENCH/rg-patterns.raw"
    # Every rule's `regex` and `keywords` in patterns/*.toml (TOML-parsed with python3's
    # tomllib when available, else the single-line `regex = '...'` form). rg -f joins
    # the patterns into one alternation, where repeated group names are an error, so
    # named groups become non-capturing (same matches); patterns rg rejects are dropped.
    if ! python3 - "$KW" "$ROOT"/patterns/*.toml >"$RAW" 2>/dev/null <<'PY'
import sys, tomllib
kws = set()
for path in sys.argv[2:]:
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    for rule in doc.get("rule", []):
        rx = rule.get("regex")
        if isinstance(rx, str) and "\n" not in rx:
            print(rx)
        kws.update(k.lower() for k in rule.get("keywords", []) if k and "\n" not in k)
with open(sys.argv[1], "w") as f:
    f.write("".join(k + "\n" for k in sorted(kws)))
PY
    then
        sed -nE "s/^[[:space:]]*regex[[:space:]]*=[[:space:]]*'(.*)'[[:space:]]*$/\1/p" "$ROOT"/patterns/*.toml >"$RAW"
        : >"$KW"
    fi
    sed -E 's/\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/(?:/g' "$RAW" >"$RAW.nocap"
    : >"$PAT"
    total=0; dropped=0
    while IFS= read -r rx; do
        [ -z "$rx" ] && continue
        total=$((total + 1))
        "$RG" -q -e "$rx" /dev/null 2>/dev/null
        if [ $? -eq 2 ]; then dropped=$((dropped + 1)); continue; fi
        printf '%s\n' "$rx" >>"$PAT"
    done <"$RAW.nocap"
    NPAT=$(wc -l <"$PAT")
    R[rg_n]=$NPAT
    say "patterns: $NPAT of $total rule regexes ($dropped rejected by rg) in $PAT"

    if [ -s "$KW" ]; then
        R[kw_n]=$(wc -l <"$KW")
        if measure rg_kw 0,1 "${TASKSET[@]}" "$RG" -c -i -F -f "$KW" "$LOG"; then
            R[rg_kw_cpu]=$BEST_CPU
            say "keywords (${R[kw_n]}, -i -F), whole log, one core: $(figures)"
            say "    lines holding a keyword: $(tr -dc 0-9 <"$BENCH/rg_kw.out") of $(wc -l <"$LOG") (lines that must take cars' slow path)"
            say "    (rg maps the file: its peak RSS counts the mapped log)"
        fi
    fi
    if [ "$NPAT" -gt 0 ]; then
        SAMPLE_BYTES=$(to_bytes "$RG_SAMPLE")
        SAMPLE="$BENCH/sample-$RG_SAMPLE.log"
        if [ ! -f "$SAMPLE" ] || [ "$LOG" -nt "$SAMPLE" ]; then
            head -c "$SAMPLE_BYTES" "$LOG" | sed '$d' >"$SAMPLE"   # whole lines only
        fi
        SAMPLE_BYTES=$(stat -c %s "$SAMPLE")
        BYTES_SAVE=$BYTES; BYTES=$SAMPLE_BYTES; RUNS_SAVE=$RUNS; RUNS=1
        TIMEOUT=(); have timeout && TIMEOUT=(timeout "${RG_TIMEOUT:-600}")
        if measure rg_re 0,1 "${TIMEOUT[@]}" "${TASKSET[@]}" "$RG" -c -f "$PAT" "$SAMPLE"; then
            R[rg_re_cpu]=$BEST_CPU
            say "regexes ($NPAT), first $SAMPLE_BYTES bytes, one core: $(figures)"
            say "    matching lines: $(tr -dc 0-9 <"$BENCH/rg_re.out")$([ -s "$BENCH/rg_re.out" ] || echo 0) (most rule regexes are anchored with ^, and raw lines start with a timestamp)"
        elif [ "${LAST_RC:-}" = 124 ]; then
            say "regexes: no result within ${RG_TIMEOUT:-600} s on $SAMPLE_BYTES bytes"
        fi
        # cars on the same sample, for a like-for-like ratio
        if measure cars_sample 0,1 "${TASKSET[@]}" "$CARS" analyze "$SAMPLE" "${CARS_ARGS[@]}"; then
            R[cars_sample_cpu]=$BEST_CPU
            say "cars on the same sample, one core:    $(figures)   (includes cars' start-up)"
        fi
        BYTES=$BYTES_SAVE; RUNS=$RUNS_SAVE
    fi
else
    say ""
    say "(rg not available: reference comparison skipped)"
fi

# ---------------------------------------------------------------------------------
# Summary

verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN{ if (v=="" || v=="-") print "n/a"; else if ((op=="ge" && v+0>=t+0) || (op=="lt" && v+0<t+0)) print "PASS"; else print "FAIL" }'; }
row() { printf '%-44s %-26s %-12s %s\n' "$@"; }
tp() { printf '%s GiB/s (%s MiB/s)' "$(gibs "$1")" "$(mibs "$1")"; }

say ""
say "== summary: $(awk -v b="$BYTES" 'BEGIN{printf "%.2f GiB", b/1073741824}') log, best of $RUNS =="
row "measure" "value" "target" "verdict"
row "--------------------------------------------" "--------------------------" "------------" "-------"
one_cpu=${R[one_cpu]:-${R[all_cpu]:-}}
if [ -n "$one_cpu" ]; then
    row "throughput, one core (CPU time)" "$(tp "$one_cpu")" ">= 1 GiB/s" "$(verdict "$(gibs "$one_cpu")" 1 ge)"
fi
[ -n "${R[one_s]:-}" ] && row "throughput, taskset -c 0 (wall)" "$(tp "${R[one_s]}")" ">= 1 GiB/s" "$(verdict "$(gibs "${R[one_s]}")" 1 ge)"
[ -n "${R[all_s]:-}" ] && row "throughput, no pinning (wall)" "$(tp "${R[all_s]}")" "" ""
max_rss=0
for k in all_rss one_rss gz_rss; do v=${R[$k]:-0}; [ "$v" -gt "$max_rss" ] && max_rss=$v; done
[ "$max_rss" -gt 0 ] && row "peak RSS (plain and gzip input)" "$(mib_of_kib "$max_rss") MiB" "< 64 MiB" "$(verdict "$(mib_of_kib "$max_rss")" 64 lt)"
[ -n "${R[small_rss]:-}" ] && row "peak RSS, 10-line log" "$(mib_of_kib "${R[small_rss]}") MiB" "" ""
[ -n "${R[start_ms]:-}" ] && row "start-up, 10-line log (mean)" "${R[start_ms]} ms" "< 20 ms" "$(verdict "${R[start_ms]}" 20 lt)"
[ -n "${R[start_min]:-}" ] && row "start-up, 10-line log (min)" "${R[start_min]} ms" "" ""
if [ -n "${R[real_cpu]:-}" ]; then
    row "real logs (shared/corpus), one core (CPU)" "$(BYTES=${R[real_bytes]}; tp "${R[real_cpu]}")" "" ""
fi
if [ -n "${R[rg_kw_cpu]:-}" ]; then
    row "rg -c -i -F (${R[kw_n]} keywords), one core" "$(tp "${R[rg_kw_cpu]}")" "" ""
fi
if [ -n "${R[rg_re_cpu]:-}" ]; then
    BYTES_SAVE=$BYTES; BYTES=$SAMPLE_BYTES
    row "rg -c -f (${R[rg_n]} regexes), one core, sample" "$(tp "${R[rg_re_cpu]}")" "" ""
    [ -n "${R[cars_sample_cpu]:-}" ] && row "cars, same sample, one core" "$(tp "${R[cars_sample_cpu]}")" "" ""
    [ -n "${R[cars_sample_cpu]:-}" ] && row "speed ratio cars / rg -f (same sample)" "$(awk -v a="${R[cars_sample_cpu]}" -v b="${R[rg_re_cpu]}" 'BEGIN{ if (a>0) printf "%.1fx", b/a; else print "-" }')" "~2x" ""
    BYTES=$BYTES_SAVE
fi
