#!/usr/bin/env python3
"""Per-tool figures of score.py's realtool suite: category and location accuracy by label tool.

usage: by_tool.py [--cars BIN] [--cases DIR] [--score PATH] [--misses]

Uses score.py's own run_cars and path_match (imported from --score), and its rules: the
category is right when one of the first max(3, errors) findings has it; the location is right
when any finding has the file (and the line, when labelled).
"""
import argparse, collections, importlib.util, json, os

p = argparse.ArgumentParser()
p.add_argument("--cars", default="target/release/cars")
p.add_argument("--cases", default="tests/realtool")
p.add_argument("--score", default="/work/shared/eval/score.py")
p.add_argument("--misses", action="store_true")
a = p.parse_args()
spec = importlib.util.spec_from_file_location("score", a.score)
score = importlib.util.module_from_spec(spec)
spec.loader.exec_module(score)

root, cars = os.path.abspath(a.cases), os.path.abspath(a.cars)
by = collections.defaultdict(lambda: [0, 0, 0])  # tool -> [n, category ok, location ok]
by_cat = collections.defaultdict(lambda: [0, 0, 0])
for case in sorted(os.listdir(root)):
    if not os.path.isfile(f"{root}/{case}/label.json"):
        continue
    lab = json.load(open(f"{root}/{case}/label.json"))
    errs = lab.get("errors") or [lab]
    r, _ = score.run_cars(cars, f"{root}/{case}/output.log", cwd=f"{root}/{case}/project")
    fs = (r or {}).get("findings", [])
    for e in errs:
        c_ok = any(f.get("category") == e["category"] for f in fs[:max(3, len(errs))])
        l_ok = (not e.get("file")) or any(
            score.path_match((f.get("location") or {}).get("file"), e["file"])
            and (not e.get("line") or (f.get("location") or {}).get("line") == e["line"]) for f in fs)
        for t in (by[e.get("tool") or lab.get("tool")], by_cat[e["category"]]):
            t[0] += 1; t[1] += c_ok; t[2] += l_ok
        if a.misses and not (c_ok and l_ok):
            got = sorted({f.get("category") for f in fs[:max(3, len(errs))]} - {None})
            locs = [(f.get("location") or {}) for f in fs[:3]]
            print(f"miss {case}: want {e['category']} {e.get('file')}:{e.get('line')}; "
                  f"top categories {got} locations {[(l.get('file'), l.get('line')) for l in locs]}")


def table(title, rows):
    print(f"{title:<12} {'n':>3} {'category':>8} {'location':>8}")
    for k, (n, c, l) in sorted(rows.items(), key=lambda kv: (-kv[1][0], kv[0])):
        print(f"{k:<12} {n:>3} {c / n:>8.2f} {l / n:>8.2f}")


table("tool", by)
print()
table("category", by_cat)
n = sum(v[0] for v in by.values())
print(f"\nall n={n} category_acc={sum(v[1] for v in by.values()) / n:.3f} "
      f"location_acc={sum(v[2] for v in by.values()) / n:.3f}")
