//! `cars export` on a real session: the rust-typos project (tests/repair_projects) in a
//! sandboxed git repository, its build log analyzed, patched, one patch applied
//! (validated by the real `cargo build`) and committed, one failing validation and
//! then rejected, one applied and rolled back; then the report in each format, pinned by snapshots and checked for
//! well-formed markdown, valid JSON and text that fits in 100 columns.

mod common;

use common::{text, Project};
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};
use std::path::Path;

/// The real output of `cargo build --quiet` on tests/repair_projects/rust-typos
/// (rustc 1.95.0, `CARGO_TERM_COLOR=never`). Recorded, so that the snapshots do not
/// change with the toolchain; validation still runs the real cargo.
const BUILD_LOG: &str = r#"error[E0425]: cannot find value `coutn` in this scope
 --> src/main.rs:6:20
  |
6 |     println!("{}", coutn);
  |                    ^^^^^
  |
help: a local variable with a similar name exists
  |
6 -     println!("{}", coutn);
6 +     println!("{}", count);
  |

warning: unused import: `std::fmt`
 --> src/main.rs:1:5
  |
1 | use std::fmt;
  |     ^^^^^^^^
  |
  = note: `#[warn(unused_imports)]` (part of `#[warn(unused)]`) on by default

error[E0599]: no method named `lenn` found for struct `Vec<i32>` in the current scope
 --> src/main.rs:8:22
  |
8 |     let n: usize = v.lenn();
  |                      ^^^^
  |
help: there is a method `len` with a similar name
  |
8 -     let n: usize = v.lenn();
8 +     let n: usize = v.len();
  |

error[E0308]: mismatched types
  --> src/main.rs:10:21
   |
10 |     let s: String = "abc";
   |            ------   ^^^^^ expected `String`, found `&str`
   |            |
   |            expected due to this
   |
help: try using a conversion method
   |
10 |     let s: String = "abc".to_string();
   |                          ++++++++++++

Some errors have detailed explanations: E0308, E0425, E0599.
For more information about an error, try `rustc --explain E0308`.
error: could not compile `typos` (bin "typos") due to 3 previous errors; 1 warning emitted
"#;

const COMMAND: &str = "cargo build --quiet";

/// The rust-typos repair project: three rustc errors with suggestions, one warning.
fn rust_typos() -> Project {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/repair_projects/rust-typos");
    let read = |f: &str| std::fs::read_to_string(src.join(f)).unwrap();
    Project::new(&[
        ("Cargo.toml", &read("Cargo.toml")),
        ("src/main.rs", &read("src/main.rs")),
    ])
}

/// Times, durations, temp paths, commit ids and session ids, redacted.
fn filters(p: &Project) -> Vec<(String, String)> {
    let home = p.home.path().canonicalize().unwrap();
    vec![
        (
            regex::escape(&p.root().to_string_lossy()),
            "[project]".into(),
        ),
        (regex::escape(&home.to_string_lossy()), "[home]".into()),
        (
            r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}".into(),
            "[time]".into(),
        ),
        (
            r"(analysed in|first finding after) [0-9.]+ (ms|s|min|h)\b".into(),
            "$1 [duration]".into(),
        ),
        (
            r#""(created_at|at|started_at|finished_at|analysis_ms|first_finding_ms)": \d+"#.into(),
            r#""$1": [ms]"#.into(),
        ),
        (r"\b[0-9a-f]{40}\b".into(), "[commit]".into()),
        (r"session \d+".into(), "session [id]".into()),
        (r#""id": \d+"#.into(), r#""id": [session]"#.into()),
    ]
}

/// The id of the patch for the finding of `rule`.
fn patch_for(patches: &serde_json::Value, rule: &str) -> String {
    patches["patches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["rule"] == rule)
        .unwrap_or_else(|| panic!("no patch for {rule}: {patches:#}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Checks what a markdown renderer would choke on: fences left open, tables with
/// ragged rows, raw HTML other than the `<details>` around excerpts. Returns the
/// info strings of the fenced code blocks, in order, and the number of tables.
fn check_markdown(md: &str) -> (Vec<String>, usize) {
    let mut fences = Vec::new();
    let mut tables = 0;
    for (event, range) in Parser::new_ext(md, Options::ENABLE_TABLES).into_offset_iter() {
        let source = &md[range];
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let open = source.lines().next().unwrap();
                let fence: String = open.chars().take_while(|&c| c == '`').collect();
                assert!(fence.len() >= 3, "{open}");
                let close = source.trim_end().lines().last().unwrap();
                assert!(
                    source.trim_end().lines().count() > 1 && close.trim() == fence,
                    "a code block is not closed by its fence {fence}:\n{source}"
                );
                fences.push(info.to_string());
            }
            Event::Start(Tag::Table(columns)) => {
                tables += 1;
                for line in source.lines().filter(|l| !l.trim().is_empty()) {
                    let cells = line.trim().trim_matches('|');
                    let pipes = cells.matches('|').count() - cells.matches("\\|").count();
                    assert_eq!(pipes + 1, columns.len(), "ragged table row: {line}");
                }
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                let tag = html.trim();
                assert!(
                    ["<details><summary>log excerpt</summary>", "</details>"].contains(&tag),
                    "unexpected raw HTML: {tag}"
                );
            }
            _ => {}
        }
    }
    (fences, tables)
}

#[test]
fn a_session_exports_as_markdown_json_and_text() {
    let p = rust_typos();
    let log = p.log(BUILD_LOG);
    let out = p.cars(&["analyze", log.to_str().unwrap(), "--command", COMMAND]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let patches: serde_json::Value =
        serde_json::from_str(&p.cars_ok(&["patch", "--format", "json"])).unwrap();
    let fixed = patch_for(&patches, "rust.E0425");
    let rejected = patch_for(&patches, "rust.E0599");
    let undone = patch_for(&patches, "rust.E0308");

    let applied = p.cars_ok(&["apply", &fixed, "--commit"]);
    assert!(applied.contains("no longer reports"), "{applied}");
    // A validation that fails rolls the patch back at once; then it is rejected.
    let out = p.cars(&["apply", &rejected, "--validate", "false"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    p.cars_ok(&["reject", &rejected, "not now"]);
    p.cars_ok(&["apply", &undone, "--no-validate"]);
    p.cars_ok(&["rollback", &undone]);

    let markdown = p.cars_ok(&["export"]);
    p.cars_ok(&["export", "--format", "json", "-o", "session.json"]);
    let json = std::fs::read_to_string(p.root().join("session.json")).unwrap();
    std::fs::remove_file(p.root().join("session.json")).unwrap();
    let plain = p.cars_ok(&["export", "--format", "text", "--session", "1"]);

    let (fences, tables) = check_markdown(&markdown);
    assert_eq!(tables, 4, "category, severity, patch and findings tables");
    assert_eq!(
        fences.iter().filter(|f| *f == "diff").count(),
        4,
        "{fences:?}"
    );
    assert_eq!(
        fences.iter().filter(|f| *f == "text").count(),
        5,
        "{fences:?}"
    );
    assert!(markdown.contains("<details><summary>log excerpt</summary>"));

    let doc: serde_json::Value = serde_json::from_str(&json).expect("export json parses");
    assert_eq!(doc["schema"], "cars/session/v1");
    let counts = &doc["summary"]["patches"];
    for (key, n) in [
        ("proposed", 4),
        ("approved", 3),
        ("rejected", 1),
        ("applied", 3),
        ("validated", 1),
        ("failed", 1),
        ("rolled_back", 1),
    ] {
        assert_eq!(counts[key], n, "{key}: {counts}");
    }
    let patch = |id: &str| {
        doc["patches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()
            .clone()
    };
    let outcome = &patch(&fixed)["outcome"];
    assert_eq!(outcome["validation_command"], COMMAND);
    assert_eq!(outcome["validation_passed"], true);
    let head = p.git(&["rev-parse", "HEAD"]);
    assert_eq!(outcome["commit"], head.trim(), "the commit the apply made");
    let decisions = &patch(&rejected)["decisions"];
    assert_eq!(decisions[0]["approve"], true, "{decisions}");
    assert_eq!(decisions[1]["approve"], false, "{decisions}");
    assert_eq!(decisions[1]["reason"], "not now");
    assert_eq!(patch(&rejected)["outcome"]["validation_passed"], false);
    assert_eq!(patch(&undone)["outcome"]["state"], "rolled-back");
    assert!(doc["findings"][0]["excerpt"][0]
        .as_str()
        .unwrap()
        .starts_with("error[E0425]"));

    for line in plain.lines() {
        assert!(line.chars().count() <= 100, "{} chars: {line}", line.len());
        assert!(!line.contains('\x1b'), "{line:?}");
    }

    let filters = filters(&p);
    let filters: Vec<(&str, &str)> = filters
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    insta::with_settings!({ filters => filters }, {
        insta::assert_snapshot!("export_markdown", markdown);
        insta::assert_snapshot!("export_json", json);
        insta::assert_snapshot!("export_text", plain);
    });
}

#[test]
fn export_writes_files_whole_and_names_an_unknown_session() {
    let p = Project::new(&[("README", "nothing to build\n")]);
    let out = p.cars(&["export"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no session recorded yet"),
        "{}",
        text(&out.stderr)
    );

    let log = p.log("Compiling demo v0.1.0\n    Finished `dev` profile\n");
    p.cars_ok(&["analyze", log.to_str().unwrap()]);
    let target = p.home.path().join("report.md");
    std::fs::write(&target, "an older report\n").unwrap();
    assert_eq!(
        p.cars_ok(&["export", "-o", target.to_str().unwrap()]),
        "",
        "-o writes nothing to stdout"
    );
    let md = std::fs::read_to_string(&target).unwrap();
    assert!(md.starts_with("# cars session 1: "), "{md}");
    assert!(md.contains("0 findings, 0 patches.") && md.ends_with("No errors found.\n"));
    assert_eq!(
        check_markdown(&md),
        (vec![], 1),
        "the patch counts table only"
    );
    let leftovers: Vec<_> = std::fs::read_dir(p.home.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    let out = p.cars(&["export", "--session", "7"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no session 7"),
        "{}",
        text(&out.stderr)
    );
}

/// The HTML a PR comment would show for `md`, as far as the test needs it: text and
/// code escaped, raw HTML passed through, emphasis and headings as tags.
/// (pulldown-cmark's own `html` writer is a feature this crate does not enable.)
fn to_html(md: &str) -> String {
    use pulldown_cmark::TagEnd;
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut html = String::new();
    for event in Parser::new_ext(md, Options::ENABLE_TABLES) {
        match event {
            Event::Text(t) => html.push_str(&escape(&t)),
            Event::Code(c) => html.push_str(&format!("<code>{}</code>", escape(&c))),
            Event::Html(h) | Event::InlineHtml(h) => html.push_str(&h),
            Event::Start(Tag::Emphasis) => html.push_str("<em>"),
            Event::End(TagEnd::Emphasis) => html.push_str("</em>"),
            Event::Start(Tag::Heading { level, .. }) => html.push_str(&format!("<{level}>")),
            Event::End(TagEnd::Heading(level)) => html.push_str(&format!("</{level}>\n")),
            Event::SoftBreak | Event::HardBreak | Event::End(_) => html.push('\n'),
            _ => {}
        }
    }
    html
}

#[test]
fn markdown_shows_expected_t_instead_of_eating_it_as_html() {
    let p = Project::new(&[("src/x.py", "import os\n")]);
    let log = p.log(
        "src/x.py:1:1: E999 expected <T> here & | there, see *this* and `a<b>`\n\
         src/x.py:2:1: E999 # not a heading\n",
    );
    let log = log.to_str().unwrap();
    let out = p.cars(&["analyze", log, "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let analysis = text(&out.stdout);
    let export = p.cars_ok(&["export", "--format", "markdown"]);
    for (name, md) in [("analyze", &analysis), ("export", &export)] {
        check_markdown(md);
        let html = to_html(md);
        for want in [
            "expected &lt;T&gt; here &amp; | there, see *this* and <code>a&lt;b&gt;</code>",
            ": # not a heading</h",
        ] {
            assert!(
                html.contains(want),
                "{name}: no {want:?} in\n{html}\nfrom\n{md}"
            );
        }
        assert!(
            !html.contains("<T>") && !html.contains("<em>this"),
            "{name}:\n{html}"
        );
    }
}
