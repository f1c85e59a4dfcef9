#!/usr/bin/env python3
"""Generate the real-tool corpus: tests/realtool/CASE/{project/, output.log, label.json}.

usage: generate.py [--only REGEX] [--check-fixes] [--keep-going] [--list]

Each case is described in scripts/realtool/cases/*.py (a list CASES of `case(...)` values):
the files of a tiny broken project, the command that runs the real tool on it, and the
labelled errors. For each case this script writes the project under
/tmp/realtool/CASE/project (a fixed directory, so paths in the logs are stable), runs the
command there with stdout and stderr combined, and copies the declared project files (never
build outputs), the log and the label into tests/realtool/CASE.

A label's line comes from `at`: the first line of the file containing that text (so editing
a case never leaves a stale line number). The script checks that the log contains every
`message_contains` and warns when the labelled line number is not in the log.

--check-fixes applies each case's `fix` (file -> [(old, new)]) in a scratch copy and checks
that `fix_check` then exits 0: the label's fix_check really is the test of a fix.
Tools that are not installed are reported and their cases skipped (old outputs are kept).
"""
import argparse, glob, importlib.util, json, os, re, shutil, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "tests", "realtool")
WORK = "/tmp/realtool"

ENV = dict(os.environ, NO_COLOR="1", TERM="dumb", LANG="C.UTF-8", LC_ALL="C.UTF-8",
           CARGO_TERM_COLOR="never", PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0",
           GOTOOLCHAIN="local", GOPROXY="off",
           MYPY_FORCE_COLOR="0", PY_COLORS="0", npm_config_color="false", npm_config_update_notifier="false",
           npm_config_fund="false", npm_config_audit="false", CI="true", RUST_BACKTRACE="0")
for k in ("CARGO_TARGET_DIR", "VIRTUAL_ENV", "PYTHONPATH", "NODE_PATH"):
    ENV.pop(k, None)


def load_cases():
    sys.path.insert(0, os.path.join(HERE, "cases"))
    cases = []
    for path in sorted(glob.glob(os.path.join(HERE, "cases", "*.py"))):
        if os.path.basename(path).startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        cases += mod.CASES
    names = [c["name"] for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        sys.exit(f"duplicate case names: {sorted(dup)}")
    return cases


def write_project(c, d):
    if os.path.exists(os.path.dirname(d)):
        shutil.rmtree(os.path.dirname(d))
    os.makedirs(d)
    for rel, content in c["files"].items():
        mode = None
        if isinstance(content, tuple):
            content, mode = content
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(content)
        if mode is not None:
            os.chmod(p, mode)


def sh(cmd, cwd, timeout):
    try:
        p = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=ENV, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=timeout)
        return p.returncode, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        return 124, (e.stdout or b"").decode(errors="replace") + f"\n[generate.py: killed after {timeout}s]\n"


def line_of(c, e):
    if "line" in e:
        return e["line"]
    if not e.get("at") or not e.get("file"):
        return None
    content = c["files"][e["file"]]
    content = content[0] if isinstance(content, tuple) else content
    for i, text in enumerate(content.splitlines(), 1):
        if e["at"] in text:
            return i
    raise SystemExit(f"{c['name']}: `{e['at']}` not in {e['file']}")


def label(c):
    errs = []
    for e in c["errors"]:
        x = {"tool": e.get("tool", c["tool"]), "category": e["category"], "file": e["file"]}
        ln = line_of(c, e)
        if ln:
            x["line"] = ln
        x["message_contains"] = e["msg"]
        x["fixable"] = e.get("fixable", False)
        errs.append(x)
    if len(errs) == 1:
        return dict(errs[0], fix_check=c["fix_check"])
    return {"tool": c["tool"], "errors": errs, "fix_check": c["fix_check"]}


def check_fix(c):
    d = os.path.join(WORK, c["name"] + ".fixed", "project")
    write_project(c, d)
    for rel, edits in c["fix"].items():
        p = os.path.join(d, rel)
        text = open(p).read() if os.path.exists(p) else ""
        for old, new in edits:
            if old is None:
                text = new
            elif old not in text:
                return f"fix text {old!r} not in {rel}"
            else:
                text = text.replace(old, new, 1)
        with open(p, "w") as f:
            f.write(text)
    if c.get("setup"):
        sh(c["setup"], d, c["timeout"])
    rc, out = sh(c["fix_check"], d, c["timeout"])
    return None if rc == 0 else f"fix_check exit {rc}: {out.strip()[-300:]}"


def generate(c, a):
    d = os.path.join(WORK, c["name"], "project")
    write_project(c, d)
    if c.get("setup"):
        rc, out = sh(c["setup"], d, c["timeout"])
        if rc != 0:
            return f"setup failed ({rc}): {out[-300:]}"
    rc, out = sh(c["cmd"], d, c["timeout"])
    problems = []
    if rc == 0 and c.get("expect_fail", True):
        problems.append("command exited 0")
    if not out.strip():
        problems.append("empty output")
    lab = label(c)
    for e in lab.get("errors") or [lab]:
        if e["message_contains"] not in out:
            problems.append(f"message {e['message_contains']!r} not in output")
        if e.get("line") and not re.search(rf"(?<!\d){e['line']}(?!\d)", out):
            print(f"  warn {c['name']}: line {e['line']} of {e['file']} not in the log")
    dst = os.path.join(OUT, c["name"])
    if os.path.exists(dst):
        shutil.rmtree(dst)
    os.makedirs(os.path.join(dst, "project"))
    for rel in list(c["files"]) + c.get("keep", []):
        src = os.path.join(d, rel)
        if os.path.exists(src):
            os.makedirs(os.path.dirname(os.path.join(dst, "project", rel)), exist_ok=True)
            shutil.copy2(src, os.path.join(dst, "project", rel))
    with open(os.path.join(dst, "output.log"), "w") as f:
        f.write(out)
    with open(os.path.join(dst, "label.json"), "w") as f:
        json.dump(lab, f, indent=2)
        f.write("\n")
    if a.check_fixes and c.get("fix"):
        err = check_fix(c)
        if err:
            problems.append(err)
    return "; ".join(problems) or None


VERSION_ARGS = {"go": "version", "java": "-version", "javac": "-version", "actionlint": "-version",
                "shellcheck": "--version | sed -n 2p", "php": "--version | head -1"}


def write_versions(tools):
    """scripts/realtool/VERSIONS.txt: which versions of the tools made the logs."""
    with open(os.path.join(HERE, "VERSIONS.txt"), "w") as f:
        for t in tools:
            if t in ("bash", "timeout", "setpriv"):
                continue
            rc, out = sh(f"{t} {VERSION_ARGS.get(t, '--version')} 2>&1 | head -1", "/tmp", 60)
            f.write(f"{t}: {out.strip()}\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--only", help="regex on case names")
    p.add_argument("--check-fixes", action="store_true")
    p.add_argument("--list", action="store_true")
    a = p.parse_args()
    cases = load_cases()
    if a.only:
        cases = [c for c in cases if re.search(a.only, c["name"])]
    if a.list:
        for c in cases:
            print(c["name"], c["tool"], " ".join(e["category"] for e in c["errors"]))
        return
    missing = sorted({n for c in cases for n in c["needs"] if not shutil.which(n)})
    print("missing tools (their cases are skipped): " + (" ".join(missing) or "none"))
    if not a.only:
        write_versions(sorted({n for c in cases for n in c["needs"]} - set(missing)))
    bad, done = [], 0
    for c in cases:
        if any(not shutil.which(n) for n in c["needs"]):
            continue
        err = generate(c, a)
        done += 1
        print(f"{'FAIL' if err else 'ok  '} {c['name']}" + (f": {err}" if err else ""), flush=True)
        if err:
            bad.append(c["name"])
    print(f"generated {done} cases, {len(bad)} with problems" + (f": {' '.join(bad)}" if bad else ""))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
