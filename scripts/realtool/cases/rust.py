"""Rust: rustc via cargo build, clippy, rustfmt, cargo test, manifests, publishing."""
from _case import case, err, cargo_toml as ct

M = "src/main.rs"
L = "src/lib.rs"


def rs(name, cmd, src, errors, fix=None, deps="", fix_check=None, extra=None, path=M, **kw):
    files = {"Cargo.toml": ct(name.replace("-", "_"), deps), path: src}
    files.update(extra or {})
    tool = kw.pop("tool", "cargo test" if cmd.startswith("cargo test") else "cargo")
    return case(name, tool, cmd, files, errors, fix=fix and {path: fix},
                fix_check=fix_check, needs=["cargo"], **kw)


B = "cargo build"
CASES = [
    rs("rust-e0425-typo", B, """
        fn main() {
            let count = 3;
            println!("{}", coutn);
        }
    """, err("build", M, "cannot find value `coutn` in this scope", at="coutn)", fixable=True),
       fix=[("coutn)", "count)")], tool="rustc"),
    rs("rust-e0599-method-typo", B, """
        fn main() {
            let v = vec![1, 2, 3];
            println!("{}", v.lenn());
        }
    """, err("type", M, "no method named `lenn` found", at="lenn", fixable=True),
       fix=[("lenn", "len")], tool="rustc"),
    rs("rust-e0308-mismatch", B, """
        fn name() -> String {
            "cars"
        }

        fn main() {
            println!("{}", name());
        }
    """, err("type", M, "mismatched types", at='"cars"', fixable=True),
       fix=[('"cars"', '"cars".to_string()')], tool="rustc"),
    rs("rust-e0433-missing-use", B, """
        fn main() {
            let mut m = HashMap::new();
            m.insert(1, 2);
            println!("{:?}", m);
        }
    """, err("build", M, "HashMap", at="HashMap::new", fixable=True),
       fix=[("fn main", "use std::collections::HashMap;\n\nfn main")], tool="rustc"),
    rs("rust-missing-crate", B, """
        use serde::Serialize;

        #[derive(Serialize)]
        struct Point {
            x: i32,
        }

        fn main() {
            let _ = Point { x: 1 };
        }
    """, err("dependency", M, "serde", at="use serde", fixable=True), tool="rustc"),
    rs("rust-syntax-missing-semicolon", B, """
        fn main() {
            let x = 5
            println!("{}", x);
        }
    """, err("syntax", M, "expected `;`", at="let x = 5", fixable=True),
       fix=[("let x = 5", "let x = 5;")], tool="rustc"),
    rs("rust-syntax-unclosed-delimiter", B, """
        fn main() {
            let v = vec![1, 2, 3;
            println!("{:?}", v);
        }
    """, err("syntax", M, "mismatched closing delimiter", at="vec![", fixable=False), tool="rustc"),
    rs("rust-e0382-use-after-move", B, """
        fn consume(v: Vec<i32>) -> usize {
            v.len()
        }

        fn main() {
            let v = vec![1, 2, 3];
            let n = consume(v);
            println!("{} {:?}", n, v);
        }
    """, err("build", M, "borrow of moved value: `v`", at='println!("{} {:?}"', fixable=False), tool="rustc"),
    rs("rust-e0061-arg-count", B, """
        fn add(a: i32, b: i32) -> i32 {
            a + b
        }

        fn main() {
            println!("{}", add(1));
        }
    """, err("type", M, "this function takes 2 arguments but 1 argument was supplied", at="add(1)"), tool="rustc"),
    rs("rust-e0277-trait-bound", B, """
        struct Meters(f64);

        fn main() {
            let m = Meters(3.0);
            println!("{}", m);
        }
    """, err("type", M, "`Meters` doesn't implement `std::fmt::Display`", at='println!("{}", m)'), tool="rustc"),
    rs("rust-deny-unused-variable", B, """
        #![deny(warnings)]

        fn main() {
            let unused = 42;
            println!("hello");
        }
    """, err("lint", M, "unused variable: `unused`", at="let unused", fixable=True),
       fix=[("let unused", "let _unused")], tool="rustc"),
    rs("rust-deny-unused-mut", B, """
        #![deny(warnings)]

        fn main() {
            let mut total = 2;
            println!("{}", total);
        }
    """, err("lint", M, "variable does not need to be mutable", at="let mut total", fixable=True),
       fix=[("let mut total", "let total")], tool="rustc"),
    rs("rust-unused-import-rustflags", "RUSTFLAGS='-D warnings' cargo build", """
        use std::fmt;
        use std::io::Write;

        fn main() {
            let mut out = std::io::stdout();
            writeln!(out, "hi").unwrap();
        }
    """, err("lint", M, "unused import: `std::fmt`", at="use std::fmt", fixable=True),
       fix=[("use std::fmt;\n", "")], tool="rustc"),
    rs("rust-multi-errors", B, """
        fn main() {
            let total: u32 = "7";
            let items = vec![1, 2];
            println!("{} {}", total, itmes.len());
        }
    """, [err("type", M, "mismatched types", at='"7"', fixable=True, tool="rustc"),
          err("build", M, "cannot find value `itmes` in this scope", at="itmes", fixable=True, tool="rustc")],
       fix=[('"7"', "7"), ("itmes", "items")]),
    rs("rust-e0603-private", B, """
        mod shapes {
            fn area(w: u32, h: u32) -> u32 {
                w * h
            }
        }

        fn main() {
            println!("{}", shapes::area(2, 3));
        }
    """, err("build", M, "function `area` is private", at="shapes::area", fixable=True),
       fix=[("    fn area", "    pub fn area")], tool="rustc"),
    # clippy
    rs("clippy-needless-return", "cargo clippy -- -D warnings", """
        fn double(x: i32) -> i32 {
            return x * 2;
        }

        fn main() {
            println!("{}", double(2));
        }
    """, err("lint", M, "unneeded `return` statement", at="return x * 2", fixable=True),
       fix=[("return x * 2;", "x * 2")], tool="clippy"),
    rs("clippy-len-zero", "cargo clippy -- -D warnings", """
        fn main() {
            let v: Vec<i32> = Vec::new();
            if v.len() == 0 {
                println!("empty");
            }
        }
    """, err("lint", M, "length comparison to zero", at="v.len() == 0", fixable=True),
       fix=[("v.len() == 0", "v.is_empty()")], tool="clippy"),
    rs("clippy-redundant-clone", "cargo clippy -- -D warnings -W clippy::redundant_clone", """
        fn main() {
            let s = String::from("a");
            let t = s.clone();
            println!("{}", t);
        }
    """, err("lint", M, "redundant clone", at="s.clone()", fixable=True),
       fix=[("s.clone()", "s")], tool="clippy"),
    rs("clippy-approx-pi", "cargo clippy -- -D warnings", """
        fn main() {
            let r = 2.0_f64;
            println!("{}", 3.14159 * r * r);
        }
    """, err("lint", M, "approximate value of `f{32, 64}::consts::PI` found", at="3.14159", fixable=True),
       fix=[("3.14159", "std::f64::consts::PI")], tool="clippy"),
    rs("clippy-unwrap-used-lib", "cargo clippy -- -D clippy::unwrap_used", """
        pub fn first(v: &[i32]) -> i32 {
            *v.first().unwrap()
        }
    """, err("lint", L, "used `unwrap()` on an `Option` value", at="unwrap()"), path=L, tool="clippy"),
    rs("clippy-json-message-format", "cargo clippy --message-format=short -- -D warnings", """
        fn main() {
            let x = 5;
            if x == x {
                println!("same");
            }
        }
    """, err("lint", M, "equal expressions as operands to `==`", at="x == x"), tool="clippy"),
    # rustfmt
    rs("rustfmt-check-spacing", "cargo fmt --check", """
        fn main() {
            let x=1+2;
            println!("{}",x);
        }
    """, err("lint", M, "Diff in", line=1, fixable=True), fix_check="cargo fmt --check",
       fix=[("let x=1+2;", "let x = 1 + 2;"), ('println!("{}",x);', 'println!("{}", x);')], tool="rustfmt"),
    rs("rustfmt-check-long-signature", "cargo fmt --check", """
        pub fn configure(name: &str, retries: u32, verbose: bool, timeout_seconds: u64, label: &str) -> String {
            format!("{name}{retries}{verbose}{timeout_seconds}{label}")
        }
    """, err("lint", L, "Diff in", at="pub fn configure", fixable=True), path=L, tool="rustfmt"),
    rs("rustfmt-direct-check", "rustfmt --check --edition 2021 src/main.rs", """
        fn main()
        {
            println!("braces");
        }
    """, err("lint", M, "Diff in", at="fn main()", fixable=True), tool="rustfmt"),
    # cargo test
    rs("cargo-test-assert-eq", "cargo test", """
        pub fn add(a: i32, b: i32) -> i32 {
            a - b
        }

        #[cfg(test)]
        mod tests {
            use super::*;

            #[test]
            fn adds_two_numbers() {
                assert_eq!(add(2, 2), 4);
            }
        }
    """, err("test", L, "assertion `left == right` failed", at="assert_eq!(add(2, 2), 4)"), path=L),
    rs("cargo-test-panic", "cargo test", """
        pub fn parse_port(s: &str) -> u16 {
            s.parse().expect("port must be a number")
        }

        #[cfg(test)]
        mod tests {
            #[test]
            fn parses_port() {
                assert_eq!(super::parse_port("80x"), 80);
            }
        }
    """, err("test", L, "port must be a number", at='s.parse().expect'), path=L),
    rs("cargo-test-assert-message", "cargo test", """
        pub fn is_even(n: u32) -> bool {
            n % 2 == 1
        }

        #[cfg(test)]
        mod tests {
            #[test]
            fn four_is_even() {
                assert!(super::is_even(4), "4 should be even");
            }
        }
    """, err("test", L, "4 should be even", at='assert!(super::is_even(4)'), path=L),
    rs("cargo-test-integration-file", "cargo test", """
        pub fn greet(name: &str) -> String {
            format!("Hello {name}")
        }
    """, err("test", "tests/greet.rs", "assertion `left == right` failed", at="assert_eq!"), path=L,
       extra={"tests/greet.rs": """
        #[test]
        fn greets_with_comma() {
            assert_eq!(cargo_test_integration_file::greet("Ann"), "Hello, Ann");
        }
       """}),
    rs("cargo-test-env-var-panic", "cargo test", """
        pub fn database_url() -> String {
            std::env::var("DATABASE_URL").expect("DATABASE_URL must be set")
        }

        #[cfg(test)]
        mod tests {
            #[test]
            fn reads_url() {
                assert!(super::database_url().starts_with("postgres://"));
            }
        }
    """, err("config", L, "DATABASE_URL must be set", at='std::env::var("DATABASE_URL")'), path=L),
    rs("cargo-test-compile-error", "cargo test", """
        pub fn square(x: i32) -> i32 {
            x * x
        }

        #[cfg(test)]
        mod tests {
            use super::*;

            #[test]
            fn squares() {
                assert_eq!(sqaure(3), 9);
            }
        }
    """, err("build", L, "cannot find function `sqaure` in this scope", at="sqaure(3)", fixable=True, tool="rustc"),
       path=L, fix=[("sqaure(3)", "square(3)")]),
    rs("rust-stack-overflow", "cargo run -q", """
        fn depth(n: u64) -> u64 {
            if n == u64::MAX { 0 } else { 1 + depth(n + 1) }
        }

        fn main() {
            println!("{}", depth(0));
        }
    """, err("resource", None, "has overflowed its stack"), tool="cargo"),
    rs("rust-index-out-of-bounds", "cargo run -q", """
        fn main() {
            let v = vec![1, 2, 3];
            let i = v.len();
            println!("{}", v[i]);
        }
    """, err("unknown", M, "index out of bounds", at="v[i]")),
    # manifests
    case("cargo-bad-edition", "cargo", "cargo build", {
        "Cargo.toml": '[package]\nname = "bad_edition"\nversion = "0.1.0"\nedition = "2030"\n',
        M: 'fn main() {}\n'}, err("config", "Cargo.toml", "failed to parse the `edition` key", fixable=True)),
    case("cargo-misspelled-crate", "cargo", "cargo build", {
        "Cargo.toml": '[package]\nname = "misspelled"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nserde_jsonn = "1"\n',
        M: 'fn main() {}\n'}, err("dependency", "Cargo.toml", "no matching package named `serde_jsonn` found", fixable=True)),
    case("cargo-nonexistent-version", "cargo", "cargo build", {
        "Cargo.toml": '[package]\nname = "badver"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nanyhow = "99.0"\n',
        M: 'fn main() {}\n'}, err("dependency", "Cargo.toml", "failed to select a version for the requirement `anyhow = \"^99.0\"`", fixable=True)),
    case("cargo-toml-syntax", "cargo", "cargo build", {
        "Cargo.toml": '[package]\nname = "tomlsyntax"\nversion = "0.1.0\nedition = "2021"\n',
        M: 'fn main() {}\n'}, err("syntax", "Cargo.toml", "invalid basic string", line=3)),
    case("cargo-missing-path-dependency", "cargo", "cargo build", {
        "Cargo.toml": '[package]\nname = "pathdep"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nutils = { path = "../utils" }\n',
        M: 'fn main() {}\n'}, err("dependency", "Cargo.toml", "failed to get `utils` as a dependency")),
    case("cargo-publish-missing-metadata", "cargo", "cargo publish --dry-run --allow-dirty", {
        "Cargo.toml": '[package]\nname = "cars-realtool-publish-meta"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nlocal_helper = { path = "helper" }\n',
        M: 'fn main() {}\n',
        "helper/Cargo.toml": '[package]\nname = "local_helper"\nversion = "0.1.0"\nedition = "2021"\n',
        "helper/src/lib.rs": 'pub fn help() {}\n'},
        err("deployment", "Cargo.toml", "all dependencies must have a version")),
]
