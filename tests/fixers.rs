//! Fixer delegation end to end: real ruff, cargo clippy and black runs on a scratch
//! copy become ordinary patches; the project itself is untouched until `cars apply`,
//! and a fixer that would run the project's code in an untrusted project is refused.

mod common;

use common::{text, Project};

/// The patch of `finding` whose origin names a fixer of `tool`.
fn fixer_patch(p: &Project, finding: &str, tool: &str) -> serde_json::Value {
    let patches = p.patches();
    patches["patches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| {
            x["finding"] == finding
                && x["origin"]
                    .as_str()
                    .is_some_and(|o| o.starts_with(&format!("{tool} fixer")))
        })
        .cloned()
        .unwrap_or_else(|| panic!("no {tool} fixer patch for {finding}: {patches:#}"))
}

fn status(p: &Project) -> String {
    p.git(&["status", "--porcelain", "--untracked-files=all"])
}

// A parenthesized import: no template removes one name from it, ruff does.
const APP_PY: &str =
    "from os import (\n    path,\n    sep,\n)\n\n\ndef main():\n    print(f\"args\")\n    return path\n";

#[test]
fn ruff_fixes_in_a_scratch_copy_and_the_patch_applies_and_rolls_back() {
    let p = Project::new(&[("app.py", APP_PY)]);
    let (ok, log) = p.run_tool("ruff", "ruff check --no-cache app.py");
    assert!(!ok, "ruff must fail on the unused import");
    let log = log.to_string_lossy().into_owned();
    p.cars(&["analyze", &log, "--command", "ruff check --no-cache app.py"]);
    let before = p.snapshot();
    // F401 on line 3: `sep` is unused, `path` is not.
    let unused = fixer_patch(&p, "E1", "ruff");
    assert_eq!(unused["gate"], "auto", "{unused:#}");
    let fstring = fixer_patch(&p, "E2", "ruff");
    // The scratch copy left the project as it was: bytes and git status.
    assert_eq!(p.snapshot(), before);
    assert_eq!(status(&p), "");
    let id = unused["id"].as_str().unwrap();
    p.cars_ok(&[
        "apply",
        id,
        "--validate",
        "ruff check --no-cache --select F401 app.py",
    ]);
    let fixed = p.read("app.py");
    assert_eq!(fixed, APP_PY.replace("    sep,\n", ""));
    // The f-string patch was made against the file before; it rebases.
    let fid = fstring["id"].as_str().unwrap();
    p.cars_ok(&["apply", fid]);
    assert!(
        p.read("app.py").contains("print(\"args\")"),
        "{}",
        p.read("app.py")
    );
    p.cars_ok(&["rollback", fid]);
    assert_eq!(p.read("app.py"), fixed);
    p.cars_ok(&["rollback", id]);
    assert_eq!(p.read("app.py"), APP_PY);
}

#[test]
fn cargo_clippy_fix_runs_when_the_session_command_runs_cargo() {
    let main = "fn main() {\n    let v: Vec<i32> = Vec::new();\n    if v.len() == 0 {\n        println!(\"empty\");\n    }\n}\n";
    let p = Project::new(&[
        (
            "Cargo.toml",
            "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("src/main.rs", main),
    ]);
    let (ok, log) = p.run_tool("clippy", "cargo clippy --quiet -- -D warnings");
    assert!(!ok, "clippy must fail on len_zero");
    std::fs::remove_dir_all(p.root().join("target")).unwrap();
    // clippy's own text suggestion (`help: using `is_empty` ...`) would make the same
    // patch, and a fixer patch that repeats another source's is dropped: leave the help
    // out, as older clippy versions and many lints do, so only the fixer can fix it.
    let text = std::fs::read_to_string(&log).unwrap();
    let bare: String = text
        .lines()
        .filter(|l| !l.contains("help:") && !l.contains("is_empty"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&log, bare).unwrap();
    let log = log.to_string_lossy().into_owned();
    p.cars(&["analyze", &log, "--command", "cargo clippy -- -D warnings"]);
    let patch = fixer_patch(&p, "E1", "clippy");
    assert_eq!(patch["gate"], "approve", "{patch:#}");
    // The fixer built elsewhere: the project has no target/ of its own.
    assert!(!p.root().join("target").exists());
    assert_eq!(status(&p), "");
    p.cars_ok(&[
        "apply",
        patch["id"].as_str().unwrap(),
        "--validate",
        "cargo clippy --quiet -- -D warnings",
    ]);
    assert_eq!(
        p.read("src/main.rs"),
        main.replace("v.len() == 0", "v.is_empty()")
    );
}

#[test]
fn a_fixer_that_runs_project_code_needs_trust_or_the_sessions_command() {
    let home = tempfile::tempdir().unwrap();
    let marker = home.path().join("build-script-ran");
    let p = Project::new(&[
        (
            "Cargo.toml",
            "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        // A build script is project code: it leaves a mark when it runs.
        (
            "build.rs",
            &format!(
                "fn main() {{ std::fs::write({:?}, \"\").unwrap(); }}\n",
                marker
            ),
        ),
        ("src/main.rs", "fn main() {\n    let x: u8 = \"5\";\n}\n"),
    ]);
    let log = p.log("error[E0308]: mismatched types\n --> src/main.rs:2:17\n  |\n2 |     let x: u8 = \"5\";\n  |            --   ^^^ expected `u8`, found `&str`\n");
    let log = log.to_string_lossy().into_owned();
    // The session's command is make, not cargo, and the project is not trusted.
    p.cars(&["analyze", &log, "--command", "make check"]);
    let patches = p.patches();
    let reasons = patches["unfixable"].to_string();
    assert!(
        reasons.contains("runs the project's own code") && reasons.contains("cars trust"),
        "{patches:#}"
    );
    assert!(!marker.exists(), "cars ran the project's build script");
    // With cargo as the session's command, clippy --fix may run (and so the script).
    p.cars(&["analyze", &log, "--command", "cargo build"]);
    let again = p.patches();
    assert!(
        !again["unfixable"]
            .to_string()
            .contains("runs the project's own code"),
        "{again:#}"
    );
    assert!(marker.exists(), "the fixer did not run");
    assert!(!p.root().join("target").exists());
    assert_eq!(status(&p), "");
}

#[test]
fn black_formats_the_whole_file_at_the_approve_gate() {
    let app = "x = [1,\n  2, 3]\ndef f( a ):\n    return a\n";
    let p = Project::new(&[("app.py", app)]);
    let (ok, log) = p.run_tool("black", "black --check app.py");
    assert!(!ok);
    let log = log.to_string_lossy().into_owned();
    p.cars(&["analyze", &log, "--command", "black --check app.py"]);
    let patch = fixer_patch(&p, "E1", "black");
    assert_eq!(patch["gate"], "approve", "{patch:#}");
    assert_eq!(p.read("app.py"), app);
    p.cars_ok(&[
        "apply",
        patch["id"].as_str().unwrap(),
        "--validate",
        "black --check app.py",
    ]);
    assert_eq!(
        p.read("app.py"),
        "x = [1, 2, 3]\n\n\ndef f(a):\n    return a\n"
    );
}

#[test]
fn a_missing_fixer_is_a_reason_not_an_error() {
    let p = Project::new(&[("app.py", "x = [1,\n  2]\n")]);
    let log = p.log("would reformat app.py\nOh no! 1 file would be reformatted.\n");
    p.cars(&[
        "analyze",
        &log.to_string_lossy(),
        "--command",
        "black --check app.py",
    ]);
    // A PATH with sh and git but no black.
    let bin = p.home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["sh", "git"] {
        let found = String::from_utf8(
            std::process::Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        std::os::unix::fs::symlink(found.trim(), bin.join(tool)).unwrap();
    }
    let out = p.cars_with(
        &["patch", "--format", "json"],
        &[("PATH", bin.to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        json["unfixable"]
            .to_string()
            .contains("black is not installed"),
        "{json:#}"
    );
}

#[test]
fn ruff_format_rewrites_the_file_ruff_format_check_names() {
    let app = "x = [1,\n  2, 3]\n";
    let p = Project::new(&[("pkg/app.py", app)]);
    let (ok, log) = p.run_tool("ruff-format", "ruff format --check --no-cache pkg/app.py");
    assert!(!ok);
    let log = log.to_string_lossy().into_owned();
    p.cars(&[
        "analyze",
        &log,
        "--command",
        "ruff format --check --no-cache pkg/app.py",
    ]);
    let patch = fixer_patch(&p, "E1", "ruff");
    assert_eq!(patch["gate"], "approve", "{patch:#}");
    p.cars_ok(&[
        "apply",
        patch["id"].as_str().unwrap(),
        "--validate",
        "ruff format --check --no-cache pkg/app.py",
    ]);
    assert_eq!(p.read("pkg/app.py"), "x = [1, 2, 3]\n");
}
