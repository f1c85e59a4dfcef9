"""Python: ruff, flake8, pylint, mypy, pytest, black, bandit, the interpreter, pip."""
from _case import case, err

A = "app.py"
RUFF = "ruff check --no-cache"
CONCISE = "ruff check --no-cache --output-format=concise"
PYTEST = "pytest -p no:cacheprovider"
NODAC = "setpriv --bounding-set=-dac_override,-dac_read_search "
NOBODY = "setpriv --reuid=65534 --regid=65534 --clear-groups "


def py(name, tool, cmd, files, errors, fix=None, **kw):
    if isinstance(files, str):
        files = {A: files}
    return case(name, tool, cmd, files, errors, fix=fix, **kw)


CASES = [
    # ruff, default (full) output
    py("ruff-unused-import", "ruff", RUFF + " app.py", """
        import os
        import sys


        def main():
            print(sys.argv)
    """, err("lint", A, "`os` imported but unused", at="import os", fixable=True),
       fix={A: [("import os\n", "")]}),
    py("ruff-undefined-name", "ruff", RUFF + " app.py", """
        def total(items):
            return sum(itmes)
    """, err("lint", A, "Undefined name `itmes`", at="sum(itmes)", fixable=True),
       fix={A: [("sum(itmes)", "sum(items)")]}),
    py("ruff-none-comparison", "ruff", RUFF + " --select E711 app.py", """
        def is_missing(value):
            return value == None
    """, err("lint", A, "Comparison to `None` should be `cond is None`", at="== None", fixable=True),
       fix={A: [("== None", "is None")]}),
    py("ruff-syntax-error", "ruff", RUFF + " app.py", """
        def broken(:
            return 1
    """, err("syntax", A, "Expected a parameter or the end of the parameter list", at="def broken(")),
    py("ruff-bandit-subprocess-shell", "ruff", RUFF + " --select S app.py", """
        import subprocess


        def run(cmd):
            return subprocess.call(cmd, shell=True)
    """, err("security", A, "S602", at="shell=True")),
    py("ruff-bandit-hardcoded-password", "ruff", RUFF + " --select S105 app.py", """
        PASSWORD = "not-a-real-secret"


        def login(user):
            return user, PASSWORD
    """, err("security", A, "S105", at="PASSWORD =")),
    py("ruff-isort-unsorted", "ruff", RUFF + " --select I app.py", """
        import sys
        import os

        print(os.sep, sys.argv)
    """, err("lint", A, "I001", at="import sys", fixable=True),
       fix={A: [("import sys\nimport os\n", "import os\nimport sys\n")]}),
    # ruff, concise output
    py("ruff-concise-unused-import", "ruff", CONCISE + " .", """
        import json


        def names(xs):
            return sorted(xs)
    """, err("lint", A, "F401", at="import json", fixable=True), fix={A: [("import json\n", "")]}),
    py("ruff-concise-unused-variable", "ruff", CONCISE + " .", """
        def compute():
            result = 42
            return None
    """, err("lint", A, "F841", at="result = 42", fixable=True),
       fix={A: [("    result = 42\n", "")]}),
    py("ruff-concise-bandit-eval", "ruff", CONCISE + " --select S307 .", """
        def calc(expr):
            return eval(expr)
    """, err("security", A, "S307", at="eval(expr)")),
    py("ruff-concise-multi", "ruff", CONCISE + " --extend-select E711 .", {"pkg/__init__.py": "", "pkg/util.py": """
        import re


        def f(x):
            if x == None:
                return undefined_thing
            return x
    """}, [err("lint", "pkg/util.py", "F401", at="import re", fixable=True),
           err("lint", "pkg/util.py", "E711", at="== None", fixable=True),
           err("lint", "pkg/util.py", "F821", at="undefined_thing")]),
    # flake8
    py("flake8-unused-import", "flake8", "flake8 app.py", """
        import os


        def main():
            return 1
    """, err("lint", A, "F401 'os' imported but unused", at="import os", fixable=True),
       fix={A: [("import os\n\n\n", "")]}),
    py("flake8-blank-lines", "flake8", "flake8 app.py", """
        import sys
        def main():
            return sys.argv
    """, err("lint", A, "E302 expected 2 blank lines", at="def main", fixable=True),
       fix={A: [("import sys\n", "import sys\n\n\n")]}),
    py("flake8-line-too-long", "flake8", "flake8 app.py", """
        MESSAGE = "this line is deliberately much longer than seventy nine characters for flake8"
    """, err("lint", A, "E501 line too long", at="MESSAGE")),
    py("flake8-undefined-name", "flake8", "flake8 app.py", """
        def area(r):
            return PI * r * r
    """, err("lint", A, "F821 undefined name 'PI'", at="PI *")),
    py("flake8-syntax", "flake8", "flake8 app.py", """
        def f():
            return [1, 2
    """, err("syntax", A, "E999", line=2)),
    # pylint
    py("pylint-no-member", "pylint", "pylint --score=n app.py", """
        \"\"\"Strings.\"\"\"


        def shout(text: str) -> str:
            \"\"\"Upper-case the text.\"\"\"
            return text.upper() + "!".uper()
    """, err("type", A, "E1101", at="uper()", fixable=True), fix={A: [('"!".uper()', '"!".upper()')]}),
    py("pylint-undefined-variable", "pylint", "pylint --score=n app.py", """
        \"\"\"Counter.\"\"\"


        def count(items):
            \"\"\"Count the items.\"\"\"
            return len(itms)
    """, err("lint", A, "E0602", at="itms", fixable=True), fix={A: [("itms", "items")]}),
    py("pylint-unused-import", "pylint", "pylint --score=n app.py", """
        \"\"\"Paths.\"\"\"
        import os
        import sys


        def args():
            \"\"\"Arguments.\"\"\"
            return sys.argv
    """, err("lint", A, "W0611", at="import os", fixable=True), fix={A: [("import os\n", "")]}),
    py("pylint-import-error", "pylint", "pylint --score=n app.py", """
        \"\"\"Needs a package that is not installed.\"\"\"
        import yamlish_cars_missing


        def load(path):
            \"\"\"Load a file.\"\"\"
            return yamlish_cars_missing.load(path)
    """, err("dependency", A, "E0401", at="import yamlish")),
    # mypy
    py("mypy-arg-type", "mypy", "mypy --no-incremental app.py", """
        def double(x: int) -> int:
            return x * 2


        print(double("3"))
    """, err("type", A, "Argument 1 to \"double\" has incompatible type \"str\"", at='double("3")')),
    py("mypy-return-value", "mypy", "mypy --no-incremental app.py", """
        def name() -> str:
            return 42
    """, err("type", A, "Incompatible return value type", at="return 42")),
    py("mypy-attr-defined", "mypy", "mypy --no-incremental app.py", """
        class User:
            def __init__(self, name: str) -> None:
                self.name = name


        def greet(u: User) -> str:
            return "hi " + u.nmae
    """, err("type", A, "\"User\" has no attribute \"nmae\"", at="u.nmae", fixable=True),
       fix={A: [("u.nmae", "u.name")]}),
    py("mypy-import-not-found", "mypy", "mypy --no-incremental app.py", """
        import cars_missing_package


        def f() -> int:
            return cars_missing_package.VALUE
    """, err("dependency", A, "Cannot find implementation or library stub", at="import cars_missing")),
    py("mypy-union-attr", "mypy", "mypy --no-incremental --strict-optional app.py", """
        from typing import Optional


        def length(s: Optional[str]) -> int:
            return len(s.strip())
    """, err("type", A, "Item \"None\" of \"str | None\" has no attribute \"strip\"", at="s.strip()")),
    py("mypy-call-arg", "mypy", "mypy --no-incremental app.py", """
        def connect(host: str, port: int) -> str:
            return f"{host}:{port}"


        connect("localhost")
    """, err("type", A, "Missing positional argument \"port\"", at='connect("localhost")')),
    py("mypy-syntax", "mypy", "mypy --no-incremental app.py", """
        def f() -> int:
            return (1
    """, err("syntax", A, "Unexpected EOF while parsing", line=3)),
    # black
    py("black-check", "black", "black --check app.py", """
        def f(a,b):
            return {'a':a,'b':b}
    """, err("lint", A, "would reformat app.py", fixable=True), fix_check="black --check app.py",
       fix={A: [(None, 'def f(a, b):\n    return {"a": a, "b": b}\n')]}),
    py("black-check-diff", "black", "black --check --diff src", {"src/pkg/mod.py": """
        x = [1,2,
          3]
    """}, err("lint", "src/pkg/mod.py", "would reformat", fixable=True)),
    # bandit
    py("bandit-subprocess-shell", "bandit", "bandit -q -r .", """
        import subprocess


        def run(cmd):
            return subprocess.run(cmd, shell=True)
    """, err("security", A, "B602", at="shell=True")),
    py("bandit-yaml-load", "bandit", "bandit -q -r .", """
        import pickle


        def load(blob):
            return pickle.loads(blob)
    """, err("security", A, "B301", at="pickle.loads")),
    # pytest
    py("pytest-assert-equal", "pytest", PYTEST, {"calc.py": """
        def add(a, b):
            return a - b
    """, "test_calc.py": """
        from calc import add


        def test_add():
            assert add(2, 3) == 5
    """}, err("test", "test_calc.py", "assert -1 == 5", at="assert add")),
    py("pytest-exception-in-code", "pytest", PYTEST, {"calc.py": """
        def mean(xs):
            return sum(xs) / len(xs)
    """, "test_calc.py": """
        from calc import mean


        def test_mean_empty():
            assert mean([]) == 0
    """}, err("test", "calc.py", "ZeroDivisionError", at="return sum")),
    py("pytest-module-not-found", "pytest", PYTEST, {"test_client.py": """
        import requests_cars_missing


        def test_get():
            assert requests_cars_missing.get("x")
    """}, err("dependency", "test_client.py", "ModuleNotFoundError: No module named 'requests_cars_missing'",
              at="import requests_cars_missing")),
    py("pytest-connection-refused", "pytest", PYTEST, {"test_api.py": """
        import urllib.request


        def test_health():
            with urllib.request.urlopen("http://127.0.0.1:9/health", timeout=2) as r:
                assert r.status == 200
    """}, err("network", "test_api.py", "Connection refused", at="urlopen")),
    py("pytest-permission-error", "pytest", NODAC + PYTEST, {"report.py": """
        def write_report(path, text):
            with open(path, "w") as f:
                f.write(text)
    """, "test_report.py": """
        from report import write_report


        def test_overwrites_report(tmp_path):
            p = tmp_path / "report.txt"
            p.write_text("old")
            p.chmod(0o444)
            write_report(p, "new")
            assert p.read_text() == "new"
    """}, err("permission", "report.py", "PermissionError", at="open(path"), needs=["setpriv", "pytest"]),
    py("pytest-subprocess-timeout", "pytest", PYTEST, {"test_slow.py": """
        import subprocess


        def test_finishes_quickly():
            subprocess.run(["sleep", "5"], timeout=0.5, check=True)
    """}, err("timeout", "test_slow.py", "TimeoutExpired", at="subprocess.run")),
    py("pytest-socket-timeout", "pytest", PYTEST, {"test_sock.py": """
        import socket


        def test_server_answers():
            srv = socket.socket()
            srv.bind(("127.0.0.1", 0))
            srv.listen(1)
            c = socket.create_connection(srv.getsockname(), timeout=0.3)
            assert c.recv(10) == b"hello"
    """}, err("timeout", "test_sock.py", "timed out", at="c.recv")),
    py("pytest-fixture-not-found", "pytest", PYTEST, {"test_db.py": """
        def test_query(database):
            assert database.query("select 1") == 1
    """}, err("test", "test_db.py", "fixture 'database' not found", at="def test_query")),
    py("pytest-collection-syntax-error", "pytest", PYTEST, {"test_bad.py": """
        def test_one():
            assert [1, 2 == [1, 2]

        def test_two():
            pass
    """}, err("syntax", "test_bad.py", "SyntaxError", at="assert [1")),
    py("pytest-env-var-missing", "pytest", PYTEST, {"settings.py": """
        import os

        API_URL = os.environ["CARS_API_URL"]
    """, "test_settings.py": """
        import settings


        def test_url():
            assert settings.API_URL.startswith("https://")
    """}, err("config", "settings.py", "KeyError: 'CARS_API_URL'", at="os.environ")),
    py("pytest-multiple-failures", "pytest", PYTEST, {"strings.py": """
        def title(s):
            return s.upper()


        def strip_all(xs):
            return [x.strip() for x in xs]
    """, "test_strings.py": """
        from strings import title, strip_all


        def test_title():
            assert title("ab") == "Ab"


        def test_strip_all():
            assert strip_all([" a", "b "]) == ["a", "b", "c"]
    """}, [err("test", "test_strings.py", "AssertionError", at='title("ab")'),
           err("test", "test_strings.py", "assert ['a', 'b'] == ['a', 'b', 'c']", at="strip_all([")]),
    # the interpreter
    py("python-name-error", "python", "python3 app.py", """
        def greet(name):
            return "hello " + nmae


        print(greet("ann"))
    """, err("type", A, "NameError: name 'nmae' is not defined", at="+ nmae", fixable=True),
       fix={A: [("+ nmae", "+ name")]}),
    py("python-attribute-error", "python", "python3 app.py", """
        class Config:
            def __init__(self):
                self.debug = False


        cfg = Config()
        print(cfg.debg)
    """, err("type", A, "AttributeError: 'Config' object has no attribute 'debg'", at="cfg.debg", fixable=True),
       fix={A: [("cfg.debg", "cfg.debug")]}),
    py("python-type-error", "python", "python3 app.py", """
        def label(n):
            return "item " + n


        print(label(3))
    """, err("type", A, "TypeError: can only concatenate str", at='"item " + n')),
    py("python-module-not-found", "python", "python3 app.py", """
        import yaml_cars_missing

        print(yaml_cars_missing.safe_load("a: 1"))
    """, err("dependency", A, "ModuleNotFoundError", at="import yaml_cars_missing")),
    py("python-syntax-error", "python", "python3 app.py", """
        def main()
            print("hi")
    """, err("syntax", A, "SyntaxError", at="def main()", fixable=True),
       fix={A: [("def main()", "def main():")]}),
    py("python-indentation-error", "python", "python3 app.py", """
        def main():
        print("hi")
    """, err("syntax", A, "IndentationError", at='print("hi")')),
    py("python-file-not-found-config", "python", "python3 app.py", """
        import json


        def load():
            with open("config/settings.json") as f:
                return json.load(f)


        print(load())
    """, err("config", A, "FileNotFoundError", at="open(")),
    py("python-recursion-error", "python", "python3 app.py", """
        def walk(n):
            return walk(n + 1)


        walk(0)
    """, err("resource", A, "RecursionError", at="return walk")),
    py("python-memory-error", "python", "python3 app.py", """
        def buffer():
            return bytearray(10**14)


        buffer()
    """, err("resource", A, "MemoryError", at="bytearray")),
    py("python-connection-refused", "python", "python3 app.py", """
        import socket


        def ping():
            s = socket.create_connection(("127.0.0.1", 9), timeout=2)
            s.close()


        ping()
    """, err("network", A, "ConnectionRefusedError", at="create_connection")),
    py("python-zero-division", "python", "python3 app.py", """
        def ratio(a, b):
            return a / b


        print(ratio(1, 0))
    """, err("unknown", A, "ZeroDivisionError", at="a / b")),
    py("python-permission-error", "python", NOBODY + "python3 app.py", """
        def save(text):
            with open("/etc/cars-realtool.conf", "w") as f:
                f.write(text)


        save("x")
    """, err("permission", A, "PermissionError", at="open("), needs=["setpriv", "python3"]),
    # pip
    py("pip-nonexistent-version", "pip", "pip install --dry-run --no-deps --disable-pip-version-check -r requirements.txt",
       {"requirements.txt": """
        packaging==24.0
        idna==99.0.0
    """}, err("dependency", "requirements.txt", "No matching distribution found for idna==99.0.0", fixable=True),
       needs=["pip"]),
    py("pip-invalid-requirement", "pip", "pip install --dry-run --no-deps --disable-pip-version-check -r requirements.txt",
       {"requirements.txt": """
        packaging==24.0
        idna=3.7
    """}, err("syntax", "requirements.txt", "Invalid requirement", line=2, fixable=True), needs=["pip"],
       fix={"requirements.txt": [("idna=3.7", "idna==3.7")]}),
    py("pip-unsatisfiable-range", "pip", "pip install --dry-run --no-deps --disable-pip-version-check -r requirements.txt",
       {"requirements.txt": """
        idna>=3.0,<2.0
    """}, err("dependency", "requirements.txt", "No matching distribution found for idna"), needs=["pip"]),
    py("pip-missing-requirements-file", "pip", "pip install --dry-run --disable-pip-version-check -r requirements-dev.txt",
       {"requirements.txt": "idna==3.7\n"},
       err("config", None, "No such file or directory: 'requirements-dev.txt'"), needs=["pip"]),
]
