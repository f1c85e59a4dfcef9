"""The shape of one case; see generate.py. Helpers keep the case files short."""
import textwrap


def d(s):
    """Dedent a source text and end it with one newline."""
    return textwrap.dedent(s).lstrip("\n").rstrip() + "\n"


def err(category, file, msg, at=None, fixable=False, line=None, tool=None):
    e = {"category": category, "file": file, "msg": msg, "fixable": fixable}
    if at is not None:
        e["at"] = at
    if line is not None:
        e["line"] = line
    if tool:
        e["tool"] = tool
    return e


def case(name, tool, cmd, files, errors, fix_check=None, fix=None, setup=None, needs=None,
         keep=(), timeout=180, expect_fail=True):
    if isinstance(errors, dict):
        errors = [errors]
    files = {k: (d(v) if isinstance(v, str) else (d(v[0]), v[1])) for k, v in files.items()}
    return {"name": name, "tool": tool, "cmd": cmd, "files": files, "errors": errors,
            "fix_check": fix_check or cmd, "fix": fix, "setup": setup,
            "needs": needs or [cmd.split()[0]], "keep": list(keep), "timeout": timeout,
            "expect_fail": expect_fail}


CARGO = '[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n{deps}'


def cargo_toml(name, deps=""):
    return CARGO.format(name=name, deps=deps)
