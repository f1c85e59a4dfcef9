//! Text edits that fix templates apply: dependency manifests, workflows and single source lines.
//! Each edit keeps what it does not touch byte for byte (line endings, indentation, quoting,
//! comments, order) and refuses (Err / None) whenever the right edit is not certain.
//! One file per kind of file edited; the shared line and layout helpers are here.

mod go_mod;
mod lines;
mod manifest;
mod package_json;
mod workflow;

pub use go_mod::go_mod_add_require;
pub use lines::{
    env_file_add_var, insert_decorator, python_remove_import, raise_timeout, replace_identifier,
    rust_remove_use, unquote_number, update_assertion_literal,
};
pub use manifest::{cargo_add_dependency, pyproject_add_dependency, requirements_add};
pub use package_json::package_json_add_dependency;
pub use workflow::workflow_bump_action;

use regex::Regex;
use std::ops::Range;
use std::sync::LazyLock;
use toml_edit::{Array, DocumentMut, Item, RawString, Table, Value};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("{file} does not parse: {reason}")]
    Parse { file: &'static str, reason: String },
    #[error("`{name}` is already in {place}")]
    AlreadyPresent { name: String, place: String },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("refusing to edit: {0}")]
    Unsupported(String),
    #[error("invalid {what}: `{value}`")]
    Invalid { what: &'static str, value: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepKind {
    Normal,
    Dev,
}

fn invalid(what: &'static str, value: &str) -> EditError {
    let value = value.to_string();
    EditError::Invalid { what, value }
}

fn refuse(why: impl Into<String>) -> EditError {
    EditError::Unsupported(why.into())
}

fn present(name: &str, place: impl Into<String>) -> EditError {
    let (name, place) = (name.to_string(), place.into());
    EditError::AlreadyPresent { name, place }
}

fn parse_err(file: &'static str, e: impl std::fmt::Display) -> EditError {
    let reason = e.to_string();
    EditError::Parse { file, reason }
}

type Edit = Result<String, EditError>;

/// Edits run on `\n` text and a consistently CRLF file is converted back afterwards. Mixed
/// endings are refused: converting back would rewrite lines the edit never touched.
fn with_lf(text: &str, edit: impl FnOnce(&str) -> Edit) -> Edit {
    let crlf = text.matches("\r\n").count();
    if crlf == 0 {
        return edit(text);
    }
    if crlf != text.matches('\n').count() {
        return Err(refuse("mixed line endings"));
    }
    edit(&text.replace("\r\n", "\n")).map(|out| out.replace('\n', "\r\n"))
}

/// Line functions take a line with or without its terminator and hand the terminator back.
fn split_eol(line: &str) -> (&str, &str) {
    let body = line.trim_end_matches(['\r', '\n']);
    (body, &line[body.len()..])
}

fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// Inserts `line` before line `at` (`at == count` appends), keeping whether the file ends with a
/// newline; an empty file gets one.
fn insert_line(text: &str, at: usize, line: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(at, line);
    let mut out = lines.join("\n");
    if text.is_empty() || text.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Slot for a new key among sorted keys: right after its predecessor, so a comment heading the
/// next group stays with that group. None when the keys are not sorted (the caller appends).
fn sorted_slot<K: AsRef<str>>(keys: &[K], new: &str) -> Option<usize> {
    let sorted = keys.windows(2).all(|w| w[0].as_ref() <= w[1].as_ref());
    let after = keys.iter().rposition(|k| k.as_ref() < new);
    (sorted && !keys.is_empty()).then(|| after.map_or(0, |i| i + 1))
}

/// Line index for a new entry given the line indexes of the existing (maybe sorted) entries.
fn entry_line(entries: &[usize], slot: Option<usize>, append_at: usize) -> usize {
    match slot {
        Some(0) => entries[0],
        Some(k) => entries[k - 1] + 1,
        None => append_at,
    }
}

/// Plain tokens (module paths, refs, package names) go into files unquoted or hand-quoted.
fn plain(s: &str) -> bool {
    !s.is_empty() && !s.contains(|c: char| c.is_whitespace() || "\"'\\#".contains(c))
}

static PKG_SEP: LazyLock<Regex> = LazyLock::new(|| Regex::new("[-_.]+").expect("valid regex"));

#[cfg(test)]
mod tests {
    use super::*;
    use DepKind::{Dev, Normal};

    /// The refusal's variant, so a refusal case fits on one line.
    fn why<T: std::fmt::Debug>(r: Result<T, EditError>) -> &'static str {
        match r.expect_err("should refuse") {
            EditError::Parse { .. } => "parse",
            EditError::AlreadyPresent { .. } => "present",
            EditError::NotFound(_) => "missing",
            EditError::Unsupported(_) => "unsupported",
            EditError::Invalid { .. } => "invalid",
        }
    }

    fn crlf(s: &str) -> String {
        s.replace('\n', "\r\n")
    }

    const CARGO: &str = r#"[package]
name = "demo"
version = "0.1.0"

[dependencies]
# Parsing.
regex = "1"
serde = { version = "1", features = ["derive"] } # derive for the config
tokio = { version = "1", features = ["rt"] }

[dev-dependencies]
tempfile = "3"
"#;

    #[test]
    fn cargo_adds_sorted_or_appends() {
        let out = cargo_add_dependency(CARGO, "serde_json", "1.0", Normal);
        let want = CARGO.replace("config\n", "config\nserde_json = \"1.0\"\n");
        assert_eq!(out.unwrap(), want);
        let out = cargo_add_dependency(CARGO, "anyhow", "1", Normal);
        let want = CARGO.replace("# Parsing.\n", "anyhow = \"1\"\n# Parsing.\n");
        assert_eq!(out.unwrap(), want);
        let unsorted = "[package]\n\n[dependencies]\nzip = \"2\"\nanyhow = \"1\"\n";
        let out = cargo_add_dependency(unsorted, "bytes", "1", Normal);
        assert_eq!(out.unwrap(), format!("{unsorted}bytes = \"1\"\n"));
    }

    #[test]
    fn cargo_creates_table_and_keeps_line_endings() {
        let bare = "[package]\nname = \"x\"\n\n[dependencies]\nanyhow = \"1\"\n";
        let out = cargo_add_dependency(bare, "insta", "1", Dev);
        let expected = format!("{bare}\n[dev-dependencies]\ninsta = \"1\"\n");
        assert_eq!(out.unwrap(), expected);
        let out = cargo_add_dependency(&crlf(bare), "log", "0.4", Normal);
        assert_eq!(out.unwrap(), crlf(&format!("{bare}log = \"0.4\"\n")));
        let out = cargo_add_dependency("[package]\nname = \"x\"", "a", "1", Normal);
        let expected = "[package]\nname = \"x\"\n\n[dependencies]\na = \"1\"";
        assert_eq!(out.unwrap(), expected);
    }

    #[test]
    fn cargo_refuses() {
        let dup = cargo_add_dependency(CARGO, "serde", "1", Normal);
        assert_eq!(dup, Err(present("serde", "[dependencies]")));
        let renamed = "[package]\n[dependencies]\nfoo = { package = \"bar-baz\" }\n";
        #[rustfmt::skip]
        let cases = [
            (renamed, "bar_baz", "present"),
            ("[workspace]\nmembers = []\n", "a", "unsupported"),
            ("[package\n", "a", "parse"),
            (CARGO, "bad name", "invalid"),
            (CARGO, "serde.x", "invalid"),
        ];
        for (text, name, want) in cases {
            let got = why(cargo_add_dependency(text, name, "1", Normal));
            assert_eq!(got, want, "{name}");
        }
    }

    const PEP621: &str = r#"[project]
name = "demo"
dependencies = [
    "click>=8",
    # HTTP
    "requests>=2.31",
]

[tool.ruff]
line-length = 100
"#;

    const POETRY_TOML: &str = r#"[tool.poetry]
name = "demo"

[tool.poetry.dependencies]
python = "^3.11"
requests = "^2.31"

[build-system]
requires = ["poetry-core"]
"#;

    #[test]
    fn pyproject_pep621_keeps_array_layout() {
        let out = pyproject_add_dependency(PEP621, "rich>=13");
        let want = PEP621.replace("2.31\",\n", "2.31\",\n    \"rich>=13\",\n");
        assert_eq!(out.unwrap(), want);
        let no_comma = PEP621.replace("2.31\",\n]", "2.31\"\n]");
        let out = pyproject_add_dependency(&no_comma, "rich");
        let expected = no_comma.replace("1\"\n]", "1\",\n    \"rich\"\n]");
        assert_eq!(out.unwrap(), expected);
        let inline = "[project]\ndependencies = [\"click\", \"rich\"]  # runtime\n";
        let out = pyproject_add_dependency(inline, "httpx==0.27");
        let expected = inline.replace("h\"]", "h\", \"httpx==0.27\"]");
        assert_eq!(out.unwrap(), expected);
        let out = pyproject_add_dependency("[project]\ndependencies = [\n]", "a");
        assert_eq!(out.unwrap(), "[project]\ndependencies = [\"a\"]");
        let out = pyproject_add_dependency("[project]\nname = \"d\"\n", "attrs");
        let expected = "[project]\nname = \"d\"\ndependencies = [\"attrs\"]\n";
        assert_eq!(out.unwrap(), expected);
    }

    #[test]
    fn pyproject_poetry_table() {
        let out = pyproject_add_dependency(POETRY_TOML, "PyYAML >= 6.0, <7");
        let want = POETRY_TOML.replace("2.31\"\n", "2.31\"\nPyYAML = \">=6.0,<7\"\n");
        assert_eq!(out.unwrap(), want);
        let out = pyproject_add_dependency(&crlf(POETRY_TOML), "toml");
        let want = POETRY_TOML.replace("2.31\"\n", "2.31\"\ntoml = \"*\"\n");
        assert_eq!(out.unwrap(), crlf(&want));
    }

    #[test]
    fn pyproject_refuses() {
        let dup = pyproject_add_dependency(PEP621, "Click[extra]");
        assert_eq!(dup, Err(present("Click", "[project] dependencies")));
        let commented = "[project]\ndependencies = [\n  \"a\",  # why\n]\n";
        let dynamic = "[project]\ndynamic = [\"dependencies\"]\n";
        #[rustfmt::skip]
        let cases = [
            (POETRY_TOML, "Requests", "present"),
            (POETRY_TOML, "httpx[http2]", "unsupported"),
            ("[tool.black]\nline-length = 88\n", "rich", "missing"),
            (commented, "b", "unsupported"),
            (dynamic, "rich", "unsupported"),
            (PEP621, "not a requirement", "invalid"),
        ];
        for (text, req, want) in cases {
            assert_eq!(why(pyproject_add_dependency(text, req)), want, "{req}");
        }
    }

    const REQS: &str = r#"# Runtime
celery ; python_version >= "3.8"
Django>=4.2

# Web
requests[socks]==2.31.0  # proxies
"#;

    #[test]
    fn requirements_add_lines() {
        let out = requirements_add(REQS, "pillow>=10");
        assert_eq!(out.unwrap(), REQS.replace("4.2\n", "4.2\npillow>=10\n"));
        let out = requirements_add(REQS, "boto3");
        let expected = REQS.replace("# Runtime\n", "# Runtime\nboto3\n");
        assert_eq!(out.unwrap(), expected);
        let out = requirements_add("requests\nattrs\n\n", "six");
        assert_eq!(out.unwrap(), "requests\nattrs\nsix\n\n");
        let out = requirements_add("-r base.txt\r\nflask\r\nzope.interface", "gunicorn");
        let expected = "-r base.txt\r\nflask\r\ngunicorn\r\nzope.interface";
        assert_eq!(out.unwrap(), expected);
        assert_eq!(requirements_add("", "rich").unwrap(), "rich\n");
    }

    #[test]
    fn requirements_refuses() {
        let dup = requirements_add(REQS, "Requests>=2");
        assert_eq!(dup, Err(present("Requests", "requirements")));
        #[rustfmt::skip]
        let cases = [
            (REQS, "CELERY[redis]", "present"),
            ("six==1.16.0 \\\n    --hash=sha256:abc\n", "rich", "unsupported"),
            ("a\r\nb\n", "c", "unsupported"),
            (REQS, "# nothing", "invalid"),
        ];
        for (text, req, want) in cases {
            assert_eq!(why(requirements_add(text, req)), want, "{req}");
        }
    }

    const PKG2: &str = r#"{
  "name": "web",
  "dependencies": {
    "express": "^4.18.2",
    "zod": "^3.22.0"
  }
}
"#;

    const PKG4: &str = r#"{
    "name": "web",
    "scripts": {
        "test": "jest"
    }
}"#;

    #[test]
    fn package_json_two_spaces_sorted() {
        let out = package_json_add_dependency(PKG2, "lodash", "^4.17.21", Normal);
        let want = PKG2.replace("2\",\n", "2\",\n    \"lodash\": \"^4.17.21\",\n");
        assert_eq!(out.unwrap(), want);
        let out = package_json_add_dependency(PKG2, "axios", "^1.6.0", Normal);
        let want = PKG2.replace("    \"express", "    \"axios\": \"^1.6.0\",\n    \"express");
        assert_eq!(out.unwrap(), want);
        let out = package_json_add_dependency(&crlf(PKG2), "zzz", "1", Normal);
        let want = PKG2.replace("3.22.0\"\n", "3.22.0\",\n    \"zzz\": \"1\"\n");
        assert_eq!(out.unwrap(), crlf(&want));
    }

    #[test]
    fn package_json_four_spaces_tabs_and_new_sections() {
        let out = package_json_add_dependency(PKG4, "jest", "^29.7.0", Dev);
        let added = "    },\n    \"devDependencies\": {\n        \"jest\": \"^29.7.0\"\n    }\n}";
        assert_eq!(out.unwrap(), PKG4.replace("    }\n}", added));
        let tabs = "{\n\t\"name\": \"x\",\n\t\"devDependencies\": {}\n}\n";
        let out = package_json_add_dependency(tabs, "vitest", "^1.0.0", Dev);
        let expected = tabs.replace("{}", "{\n\t\t\"vitest\": \"^1.0.0\"\n\t}");
        assert_eq!(out.unwrap(), expected);
        let inline = "{\n  \"dependencies\": {\"b\": \"1\", \"d\": \"1\"}\n}";
        let out = package_json_add_dependency(inline, "c", "2", Normal);
        let expected = inline.replace("\"1\", ", "\"1\", \"c\": \"2\", ");
        assert_eq!(out.unwrap(), expected);
    }

    #[test]
    fn package_json_refuses() {
        let dup = package_json_add_dependency(PKG2, "zod", "^3", Dev);
        assert_eq!(dup, Err(present("zod", "dependencies")));
        #[rustfmt::skip]
        let cases = [
            ("{\"name\":\"x\"}", "unsupported"),
            ("{\n  \"dependencies\": []\n}", "unsupported"),
            ("[]", "unsupported"),
            ("{", "parse"),
        ];
        for (text, want) in cases {
            let got = why(package_json_add_dependency(text, "a", "1", Normal));
            assert_eq!(got, want, "{text}");
        }
    }

    const GOMOD: &str = "module example.com/svc

go 1.22

require (
\tgithub.com/google/uuid v1.6.0
\tgolang.org/x/sync v0.7.0
)

require (
\tgithub.com/kr/text v0.2.0 // indirect
)
";

    #[test]
    fn go_mod_block_or_single_line() {
        let out = go_mod_add_require(GOMOD, "github.com/stretchr/testify", "v1.9.0");
        let want = GOMOD.replace("v1.6.0\n", "v1.6.0\n\tgithub.com/stretchr/testify v1.9.0\n");
        assert_eq!(out.unwrap(), want);
        let bare = "module example.com/svc\n\ngo 1.22\ntoolchain go1.22.1\n";
        let out = go_mod_add_require(bare, "github.com/google/uuid", "v1.6.0");
        let expected = format!("{bare}\nrequire github.com/google/uuid v1.6.0\n");
        assert_eq!(out.unwrap(), expected);
        let single = "module m\r\n\r\ngo 1.21\r\n\r\nrequire golang.org/x/mod v0.17.0\r\n";
        let out = go_mod_add_require(single, "golang.org/x/net", "v0.25.0");
        let expected = format!("{single}require golang.org/x/net v0.25.0\r\n");
        assert_eq!(out.unwrap(), expected);
    }

    #[test]
    fn go_mod_refuses() {
        let dup = go_mod_add_require(GOMOD, "github.com/kr/text", "v0.2.0");
        assert_eq!(dup, Err(present("github.com/kr/text", "go.mod")));
        #[rustfmt::skip]
        let cases = [
            ("module m\n", "v1.0.0", "missing"),
            (GOMOD, "1.0.0", "invalid"),
            ("go 1.22\nrequire (\n\ta v1\n", "v1.0.0", "parse"),
        ];
        for (text, version, want) in cases {
            let got = why(go_mod_add_require(text, "a.b/c", version));
            assert_eq!(got, want, "{text}");
        }
    }

    const WORKFLOW: &str = r#"name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v3
      - name: Cache
        uses: "actions/cache@v3" # keep
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: 'actions/checkout@v3'  # pinned
      - uses: actions/checkout-extra@v3
      - uses: actions/checkout/sub@v3
"#;

    #[test]
    fn workflow_bumps_every_exact_use() {
        let (out, n) = workflow_bump_action(WORKFLOW, "actions/checkout", "v4").unwrap();
        let want = WORKFLOW.replace("checkout@v3\n", "checkout@v4\n");
        let want = want.replace("'actions/checkout@v3'", "'actions/checkout@v4'");
        assert_eq!((&out, n), (&want, 2));
        let (out, n) = workflow_bump_action(&crlf(WORKFLOW), "actions/cache", "v4").unwrap();
        let expected = (crlf(&WORKFLOW.replace("cache@v3", "cache@v4")), 1);
        assert_eq!((out, n), expected);
        #[rustfmt::skip]
        let cases = [
            (WORKFLOW, "actions/setup-go", "v5", "missing"),
            (&want, "actions/checkout", "v4", "present"),
            (WORKFLOW, "actions/checkout", "v4 # x", "invalid"),
        ];
        for (text, action, new_ref, want) in cases {
            let got = why(workflow_bump_action(text, action, new_ref));
            assert_eq!(got, want, "{new_ref}");
        }
    }

    #[test]
    fn python_imports() {
        #[rustfmt::skip]
        let cases = [
            ("import os\n", "os", Some("")),
            ("import os, sys  # noqa\n", "os", Some("import sys  # noqa\n")),
            ("    import os, sys", "sys", Some("    import os")),
            ("from t import A, B, C\r\n", "B", Some("from t import A, C\r\n")),
            ("from x import a as b, c", "b", Some("from x import c")),
            ("from . import util", "util", Some("")),
            ("import os.path, re", "os.path", Some("import re")),
            ("from x import a as b", "a", None),
            ("from x import (a, b)", "a", None),
            ("import os; import sys", "os", None),
            ("import os, \\", "os", None),
            ("from x import *", "x", None),
            ("print(os)", "os", None),
        ];
        for (line, name, want) in cases {
            assert_eq!(python_remove_import(line, name).as_deref(), want, "{line}");
        }
    }

    #[test]
    fn rust_uses() {
        #[rustfmt::skip]
        let cases = [
            ("use std::fmt;\n", "std::fmt", Some("")),
            ("    use a::{Map, Set};", "Map", Some("    use a::Set;")),
            ("pub(crate) use a::{B, C, D}; // x\n", "C", Some("pub(crate) use a::{B, D}; // x\n")),
            ("use std::io::{self, Read};", "Read", Some("use std::io::{self};")),
            ("use std::io::{self, Read};", "self", Some("use std::io::Read;")),
            ("use a::{B, C, D,};", "a::B", Some("use a::{C, D,};")),
            ("pub use crate::x::Y;", "Y", Some("")),
            ("use a::{b::{C, D}, E};", "E", None),
            ("use std::collections::{", "HashMap", None),
            ("use std::fmt;", "HashMap", None),
            ("let x = 1;", "x", None),
        ];
        for (line, path, want) in cases {
            assert_eq!(rust_remove_use(line, path).as_deref(), want, "{line}");
        }
    }

    #[test]
    fn env_vars() {
        let env = "# Database\nDATABASE_URL=postgres://db/app\nexport SECRET_KEY=\n# SENTRY_DSN=\n";
        let expected = format!("{env}REDIS_URL=\n");
        assert_eq!(env_file_add_var(env, "REDIS_URL").unwrap(), expected);
        assert_eq!(env_file_add_var("A=1", "B").unwrap(), "A=1\nB=\n");
        assert_eq!(env_file_add_var("A=1\r\n", "B").unwrap(), "A=1\r\nB=\r\n");
        for taken in ["DATABASE_URL", "SECRET_KEY", "SENTRY_DSN"] {
            let expected = Err(present(taken, "the env file"));
            assert_eq!(env_file_add_var(env, taken), expected);
        }
        assert_eq!(why(env_file_add_var(env, "BAD-NAME")), "invalid");
    }

    #[test]
    fn identifiers() {
        let line = "    let total = totl + totl_count;\n";
        let fixed = Some("    let total = total + totl_count;\n");
        let at_column = replace_identifier(line, Some(17), "totl", "total");
        assert_eq!(at_column.as_deref(), fixed);
        let only_once = replace_identifier(line, None, "totl", "total");
        assert_eq!(only_once.as_deref(), fixed);
        assert_eq!(replace_identifier(line, Some(16), "totl", "total"), None);
        assert_eq!(replace_identifier(line, Some(99), "totl", "total"), None);
        assert_eq!(replace_identifier("x = foo(foo)", None, "foo", "bar"), None);
        let unicode = replace_identifier("é = fooo(1)", Some(5), "fooo", "foo");
        assert_eq!(unicode.as_deref(), Some("é = foo(1)"));
        assert_eq!(replace_identifier("a = b", Some(1), "a", "not ident"), None);
    }

    #[test]
    fn assertion_literals() {
        #[rustfmt::skip]
        let cases = [
            ("    assert f(2) == 5\n", "5", "4", Some("    assert f(2) == 4\n")),
            ("assert_eq!(n(\"1_0\"), 1_000);", "1000", "9", Some("assert_eq!(n(\"1_0\"), 9);")),
            ("assert f() == \"hi\"", "'hi'", "'yo'", Some("assert f() == \"yo\"")),
            ("expect(f()).toBe('bob');", "\"bob\"", "\"al\"", Some("expect(f()).toBe('al');")),
            ("self.assertEqual(f(), None)", "None", "3", Some("self.assertEqual(f(), 3)")),
            ("assert_eq!(d(), -5);", "-5", "-6", Some("assert_eq!(d(), -6);")),
            ("assert x == 2.0  # don't", "2.0", "2.5", Some("assert x == 2.5  # don't")),
            ("assert 5 == f()", "5", "6", Some("assert 6 == f()")),
            ("assert f(5) == 5", "5", "4", None),
            ("total = 5", "5", "4", None),
            ("assert f() == 'a'", "'a'", "1", None),
            ("assert f() == \"a\"", "'a'", "'say \"b\"'", None),
            ("assert_eq!(x, 15);", "5", "4", None),
            ("assert_eq!(x, y - 5);", "5", "4", None),
            ("assert f() == \"a\" + b", "'a'", "'c'", None),
            ("assert f() == x", "x", "y", None),
        ];
        for (line, expected, actual, want) in cases {
            let got = update_assertion_literal(line, expected, actual);
            assert_eq!(got.as_deref(), want, "{line}");
        }
    }

    #[test]
    fn timeouts() {
        #[rustfmt::skip]
        let cases = [
            ("@pytest.mark.timeout(5)\n", Some("@pytest.mark.timeout(10)\n")),
            ("    get(url, timeout=2.5)", Some("    get(url, timeout=5.0)")),
            ("jest.setTimeout(30_000);", Some("jest.setTimeout(60_000);")),
            ("  it('a', async () => {}, 5000);", Some("  it('a', async () => {}, 10000);")),
            ("    this.timeout(2000);", Some("    this.timeout(4000);")),
            ("#[timeout(100)]", Some("#[timeout(200)]")),
            ("    timeout-minutes: 10\r\n", Some("    timeout-minutes: 20\r\n")),
            ("cfg = { timeout: '30s' }", Some("cfg = { timeout: '60s' }")),
            ("f(timeout=1, connect_timeout=2)", None),
            ("time.sleep(5)", None),
            ("setTimeout(() => done(), 100)", None),
        ];
        for (line, want) in cases {
            assert_eq!(raise_timeout(line, 2).as_deref(), want, "{line}");
        }
        assert_eq!(raise_timeout("timeout=5", 1), None);
    }

    const PYTEST: &str = "import pytest


class TestApi:
    @pytest.mark.slow
    def test_get(self):
        pass
";

    #[test]
    fn decorators() {
        let out = insert_decorator(PYTEST, 6, "@pytest.mark.flaky(reruns=3)").unwrap();
        let want = "    @pytest.mark.flaky(reruns=3)\n    @pytest.mark.slow";
        assert_eq!(out, PYTEST.replace("    @pytest.mark.slow", want));
        let rs = "mod tests {\r\n    /// Doc.\r\n    #[test]\r\n    fn works() {}\r\n}\r\n";
        let out = insert_decorator(rs, 4, "#[ignore]").unwrap();
        let expected = rs.replace("    #[test]", "    #[ignore]\r\n    #[test]");
        assert_eq!(out, expected);
        let bare = insert_decorator("def test_a():\n    pass", 1, "@flaky").unwrap();
        assert_eq!(bare, "@flaky\ndef test_a():\n    pass");
        let multi = "@pytest.mark.parametrize(\n    \"x\", [1, 2]\n)\ndef test_x(x):\n";
        #[rustfmt::skip]
        let cases = [
            (out.as_str(), 5, "#[ignore]", "present"),
            (PYTEST, 6, "@pytest.mark.slow(reason='x')", "present"),
            (multi, 4, "@flaky", "unsupported"),
            (PYTEST, 7, "@flaky", "missing"),
            (PYTEST, 99, "@flaky", "missing"),
        ];
        for (text, line, decorator, want) in cases {
            let got = why(insert_decorator(text, line, decorator));
            assert_eq!(got, want, "{decorator}");
        }
    }
}
