//! Measures repair on the broken projects in tests/repair_projects: for each, run the
//! real tool, analyze its output, propose patches, apply the best patch of each
//! finding with validation (re-running the tool), and count what was fixed.
//!
//!     cargo run --release --example repair_eval [-- CASE...]
//!
//! A case is a directory of project files plus `case.toml` with the failing `command`
//! and how many of its errors are `fixable` by a mechanical edit (judged by hand).

use cars::analyze::{Matcher, Options};
use cars::fix::template::Templates;
use cars::log::LogInput;
use cars::repair::{self, run::CommandRunner, run::ShellRunner, ApplyOptions, Verdict};
use cars::rules::RuleSet;
use cars::store::{self, SessionMeta, Store};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[derive(serde::Deserialize)]
struct Case {
    command: String,
    fixable: usize,
}

#[derive(Default)]
struct Tally {
    fixable: usize,
    findings: usize,
    proposed: usize,
    kept: usize,
    rolled_back: usize,
    fixed: usize,
    passing: usize,
    cases: usize,
    kept_but_broke: usize,
}

fn main() {
    let only: Vec<String> = std::env::args().skip(1).collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/repair_projects");
    let rules = RuleSet::builtin().expect("built-in rules");
    let matcher = Matcher::new(&rules);
    let templates = Templates::load(&[]).expect("built-in templates");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("tests/repair_projects")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("case.toml").is_file())
        .filter(|p| only.is_empty() || only.iter().any(|o| p.ends_with(o)))
        .collect();
    cases.sort();
    let mut t = Tally::default();
    println!(
        "{:<24} {:>8} {:>8} {:>8} {:>6} {:>9} {:>6} {:>6}",
        "case", "findings", "fixable", "patches", "kept", "rolled-bk", "fixed", "passes"
    );
    for dir in cases {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let case: Case = toml::from_str(&std::fs::read_to_string(dir.join("case.toml")).unwrap())
            .unwrap_or_else(|e| panic!("{name}/case.toml: {e}"));
        let work = tempfile::tempdir().unwrap();
        copy_tree(&dir, work.path());
        git(work.path(), &["init", "-q"]);
        git(work.path(), &["add", "-A"]);
        git(work.path(), &["commit", "-qm", "broken"]);
        let first = ShellRunner
            .run(&case.command, work.path(), Duration::from_secs(300))
            .expect("run the case command");
        let analysis = analyze(&matcher, &first.output);
        let loc = store::locate(work.path(), None);
        let mut store = Store::open(&loc).unwrap();
        let meta = SessionMeta {
            command: Some(case.command.clone()),
            ..Default::default()
        };
        let session = store.record_session(&analysis, &meta).unwrap();
        let proposals = repair::propose(&mut store, session, &[], &templates, None).unwrap();
        let opts = ApplyOptions {
            validate: Some(case.command.clone()),
            timeout: Duration::from_secs(300),
            commit: false,
            actor: "eval".into(),
            // Every proposal a person could force, as a reviewer accepting each fix.
            approval: repair::Approval::Manual { force: true },
            no_verify: false,
            confirmed: false,
        };
        let gates = repair::Gates::default();
        let lock = store.lock().unwrap();
        let (mut kept, mut rolled_back) = (0, 0);
        let findings: Vec<String> = analysis.findings.iter().map(|f| f.id.clone()).collect();
        for id in &findings {
            // Best first; the next alternative only when one fails validation.
            for p in proposals.patches.iter().filter(|p| &p.patch.finding == id) {
                let stored = store.patch(session, &p.id).unwrap();
                match repair::apply(
                    &mut store,
                    &lock,
                    &stored,
                    &gates,
                    &opts,
                    &ShellRunner,
                    Some(&matcher),
                ) {
                    Ok(r) => match r.validation.map(|v| v.verdict) {
                        Some(Verdict::StillFailing { .. }) => rolled_back += 1,
                        _ => {
                            kept += 1;
                            break;
                        }
                    },
                    Err(e) => eprintln!("  {name} {}: {e}", p.id),
                }
            }
        }
        let last = ShellRunner
            .run(&case.command, work.path(), Duration::from_secs(300))
            .unwrap();
        let after = analyze(&matcher, &last.output);
        let fixed = analysis
            .findings
            .iter()
            .filter(|f| !f.consequence)
            .filter(|f| !after.findings.iter().any(|g| same(f, g)))
            .count()
            .min(case.fixable);
        // A kept patch must never leave an error the original run did not have.
        let new_errors = after
            .findings
            .iter()
            .filter(|g| g.level == cars::rules::model::Level::Error && !g.consequence)
            .filter(|g| !analysis.findings.iter().any(|f| same(f, g)))
            .count();
        println!(
            "{:<24} {:>8} {:>8} {:>8} {:>6} {:>9} {:>6} {:>6}",
            name,
            analysis.findings.len(),
            case.fixable,
            proposals.patches.len(),
            kept,
            rolled_back,
            fixed,
            if last.success { "yes" } else { "no" }
        );
        t.cases += 1;
        t.fixable += case.fixable;
        t.findings += analysis.findings.len();
        t.proposed += proposals.patches.len();
        t.kept += kept;
        t.rolled_back += rolled_back;
        t.fixed += fixed;
        t.passing += usize::from(last.success);
        t.kept_but_broke += new_errors;
    }
    println!(
        "\n{} cases: {}/{} fixable errors fixed by validated patches ({:.0}%), {}/{} commands pass afterwards, \
{} patches kept, {} rolled back by validation, {} new errors left behind",
        t.cases,
        t.fixed,
        t.fixable,
        100.0 * t.fixed as f64 / t.fixable.max(1) as f64,
        t.passing,
        t.cases,
        t.kept,
        t.rolled_back,
        t.kept_but_broke
    );
    let _ = (t.findings, t.proposed);
    bench_patch(&matcher, &templates);
}

fn same(a: &cars::analyze::Finding, b: &cars::analyze::Finding) -> bool {
    a.rule == b.rule
        && a.message == b.message
        && a.location.as_ref().map(|l| &l.file) == b.location.as_ref().map(|l| &l.file)
}

fn analyze(matcher: &Matcher, output: &str) -> cars::analyze::Analysis {
    let input = LogInput::from_reader(
        "run".into(),
        Box::new(std::io::Cursor::new(output.as_bytes().to_vec())),
    )
    .unwrap();
    matcher.analyze(input, &Options::default()).unwrap()
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_name() == "case.toml" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "eval")
        .env("GIT_AUTHOR_EMAIL", "eval@example.com")
        .env("GIT_COMMITTER_NAME", "eval")
        .env("GIT_COMMITTER_EMAIL", "eval@example.com")
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

/// `cars patch` cost on a 50-finding session: 50 rustc findings with suggestions in
/// one 2,000-line file, proposed from the store (no validation runs).
fn bench_patch(matcher: &Matcher, templates: &Templates) {
    let work = tempfile::tempdir().unwrap();
    let mut src = String::new();
    let mut log = String::new();
    for i in 0..50 {
        let line = i * 40 + 6;
        while src.lines().count() < line - 1 {
            src.push_str("// filler\n");
        }
        src.push_str(&format!("    let x{i} = coutn{i};\n"));
        log.push_str(&format!(
            "error[E0425]: cannot find value `coutn{i}` in this scope\n --> src/main.rs:{line}:14\n  |\n{line} |     let x{i} = coutn{i};\n  |              ^^^^^^\n  |\nhelp: a local variable with a similar name exists\n  |\n{line} -     let x{i} = coutn{i};\n{line} +     let x{i} = count{i};\n  |\n\n"
        ));
    }
    std::fs::create_dir_all(work.path().join("src")).unwrap();
    std::fs::write(work.path().join("src/main.rs"), &src).unwrap();
    let analysis = analyze(matcher, &log);
    let loc = store::StoreLocation {
        dir: work.path().join("store"),
        project_root: work.path().to_path_buf(),
    };
    let mut store = Store::open(&loc).unwrap();
    let session = store
        .record_session(&analysis, &SessionMeta::default())
        .unwrap();
    let started = Instant::now();
    let proposals = repair::propose(&mut store, session, &[], templates, None).unwrap();
    let elapsed = started.elapsed();
    println!(
        "\ncars patch on a {}-finding session: {} patches in {:.1} ms",
        analysis.findings.len(),
        proposals.patches.len(),
        elapsed.as_secs_f64() * 1000.0
    );
}
