#!/usr/bin/env python3
"""heal_eval.py: how `cars heal` does on the real-tool corpus.

usage: heal_eval.py [--cars BIN] [--cases DIR] [--only REGEX] [--mode auto|approve|force] [--jobs N]

For every case of tests/realtool whose errors are all marked fixable, in a fresh git copy
of its project (as ../shared/eval/repair_eval.py makes them), runs
  cars heal [--approve [--force]] --format json -- FIX_CHECK
answering `y` to every offered patch, then runs FIX_CHECK itself: exit 0 means fixed.
Prints one line per case (fixed, rounds, patches kept, wall time), then a summary with the
cases of several errors apart, since those are the ones a single round cannot fix.
The tools must be on PATH (see scripts/realtool/VERSIONS.txt).
"""
import argparse, json, os, re, shutil, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor

ENV = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1", NO_COLOR="1")


def sh(cmd, cwd, inp=None, timeout=900):
    try:
        p = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, timeout=timeout,
                           shell=isinstance(cmd, str), input=inp)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return 124, "", "timeout"


def one(a, work, cid):
    lab = json.load(open(os.path.join(a.cases, cid, "label.json")))
    errs = lab.get("errors") or [lab]
    if not all(e.get("fixable") for e in errs):
        return None
    d = os.path.join(work, cid)
    shutil.copytree(os.path.join(a.cases, cid, "project"), d, symlinks=True)
    sh(["git", "init", "-q"], d)
    with open(os.path.join(d, ".git", "info", "exclude"), "a") as f:
        f.write("node_modules\ntarget/\n")
    sh("git add -A && git -c user.name=eval -c user.email=eval@example.invalid commit -qm broken", d)
    args = [a.cars, "heal", "--format", "json", "--rounds", "5"]
    if a.mode != "auto":
        args.append("--approve")
    if a.mode == "force":
        args.append("--force")
    started = time.time()
    rc, out, err = sh(args + ["--", lab["fix_check"]], d, inp=b"y\n" * 50)
    wall = time.time() - started
    try:
        rep = json.loads(out)
    except ValueError:
        rep = {"rounds": [], "fixed": [], "stop": f"exit {rc}: {err.strip()[-160:]}"}
    fixed = sh(lab["fix_check"], d)[0] == 0
    return {"case": cid, "errors": len(errs), "fixed": fixed, "rounds": len(rep.get("rounds", [])),
            "kept": len(rep.get("fixed", [])), "stop": rep.get("stop"), "wall": wall,
            "harm": (not fixed) and len(rep.get("fixed", [])) > 0}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cars", default="target/release/cars")
    p.add_argument("--cases", default="tests/realtool")
    p.add_argument("--only", default="")
    p.add_argument("--mode", choices=["auto", "approve", "force"], default="approve")
    p.add_argument("--jobs", type=int, default=2)
    a = p.parse_args()
    a.cars, a.cases = os.path.abspath(a.cars), os.path.abspath(a.cases)
    work = tempfile.mkdtemp(prefix="cars-heal-eval-")
    ids = [c for c in sorted(os.listdir(a.cases)) if re.search(a.only, c)]
    with ThreadPoolExecutor(a.jobs) as ex:
        rows = [r for r in ex.map(lambda c: one(a, work, c), ids) if r]
    shutil.rmtree(work, ignore_errors=True)
    if not rows:
        sys.exit("heal_eval: no case has all its errors marked fixable")
    for r in rows:
        print(f"{r['case']:40s} errors={r['errors']} fixed={'Y' if r['fixed'] else '-'} "
              f"rounds={r['rounds']} kept={r['kept']} {r['wall']:.1f}s stop={r['stop']}")
    for label, group in (("all", rows), ("multi-error", [r for r in rows if r["errors"] > 1])):
        if not group:
            continue
        n = len(group)
        fixed = [r for r in group if r["fixed"]]
        rounds = sorted(r["rounds"] for r in fixed) or [0]
        walls = sorted(r["wall"] for r in group)
        print(f"heal {a.mode} {label}: n={n} fixed={len(fixed)} ({len(fixed) / n:.3f}) "
              f"harm={sum(r['harm'] for r in group)} median rounds when fixed={rounds[len(rounds) // 2]} "
              f"median wall={walls[len(walls) // 2]:.1f}s max wall={walls[-1]:.1f}s")


if __name__ == "__main__":
    main()
