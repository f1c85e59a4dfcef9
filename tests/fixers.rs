//! Fixer delegation end to end: real ruff, cargo clippy and black runs on a scratch
//! copy become ordinary patches; the project itself is untouched until `cars apply`,
//! and a fixer that would run the project's code in an untrusted project is refused.

mod common;

use common::{from_origin, have, text, Project};

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

/// ruff marks F841's fix unsafe only because it may delete a comment attached to the
/// assignment (`ruff rule F841`, "Fix safety"): one that deletes none is offered at the
/// approve gate, one that would delete a comment stays at --force.
#[test]
fn ruff_unsafe_fix_that_deletes_no_comment_is_offered_for_approval() {
    let plain = "def compute():\n    result = 42\n    return 1\n";
    let commented = "def compute():\n    # the answer\n    result = (  # why\n        42\n    )\n    return 1\n";
    for (text, gate) in [(plain, "approve"), (commented, "force")] {
        let p = Project::new(&[("app.py", text)]);
        let command = "ruff check --no-cache --output-format=concise app.py";
        let (ok, log) = p.run_tool("ruff", command);
        assert!(!ok, "ruff must report F841");
        p.cars(&["analyze", &log.to_string_lossy(), "--command", command]);
        let patch = fixer_patch(&p, "E1", "ruff");
        assert_eq!(patch["gate"], gate, "{patch:#}");
        if gate == "approve" {
            p.cars_ok(&[
                "apply",
                patch["id"].as_str().unwrap(),
                "--validate",
                command,
            ]);
            assert_eq!(p.read("app.py"), "def compute():\n    return 1\n");
        }
    }
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

/// clippy's text suggestion says nothing of how sure it is; `cargo clippy --fix` applies
/// only MachineApplicable ones. When its run makes exactly the change the log
/// suggests, the tool vouches for it: the patch passes `--auto`, validated by the
/// session's command.
#[test]
fn clippy_fix_confirming_the_logs_suggestion_passes_auto() {
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
    let log = log.to_string_lossy().into_owned();
    p.cars(&[
        "analyze",
        &log,
        "--command",
        "cargo clippy --quiet -- -D warnings",
    ]);
    let patch = fixer_patch(&p, "E1", "clippy");
    assert_eq!(patch["gate"], "auto", "{patch:#}");
    p.cars_ok(&["apply", "--auto"]);
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
        ("src/main.rs", "fn main() {\n    let x: u8 = \"five\";\n}\n"),
    ]);
    let log = p.log("error[E0308]: mismatched types\n --> src/main.rs:2:17\n  |\n2 |     let x: u8 = \"five\";\n  |            --   ^^^^^^ expected `u8`, found `&str`\n");
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
fn black_formats_the_whole_file_at_auto_only_for_its_own_failing_check() {
    let app = "x = [1,\n  2, 3]\ndef f( a ):\n    return a\n";
    let formatted = "x = [1, 2, 3]\n\n\ndef f(a):\n    return a\n";
    // The session's command is some other script: black's rewrite waits for a person.
    let p = Project::new(&[("app.py", app)]);
    let (ok, log) = p.run_tool("black", "black --check app.py");
    assert!(!ok);
    let log = log.to_string_lossy().into_owned();
    p.cars(&["analyze", &log, "--command", "./lint.sh"]);
    let patch = fixer_patch(&p, "E1", "black");
    assert_eq!(patch["gate"], "approve", "{patch:#}");
    assert_eq!(p.read("app.py"), app);
    p.cars_ok(&[
        "apply",
        patch["id"].as_str().unwrap(),
        "--validate",
        "black --check app.py",
    ]);
    assert_eq!(p.read("app.py"), formatted);
    // The failing command is black's own check: formatting is what it asks for, and
    // `--auto` applies it, validated by running the check again.
    let p = Project::new(&[("app.py", app)]);
    p.cars(&["analyze", &log, "--command", "black --check app.py"]);
    let patch = fixer_patch(&p, "E1", "black");
    assert_eq!(patch["gate"], "auto", "{patch:#}");
    p.cars_ok(&["apply", "--auto"]);
    assert_eq!(p.read("app.py"), formatted);
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
    // The failing command is ruff's own format check.
    assert_eq!(patch["gate"], "auto", "{patch:#}");
    p.cars_ok(&[
        "apply",
        patch["id"].as_str().unwrap(),
        "--validate",
        "ruff format --check --no-cache pkg/app.py",
    ]);
    assert_eq!(p.read("pkg/app.py"), "x = [1, 2, 3]\n");
}

#[test]
fn phpcbf_fixes_to_the_standard_phpcs_checked() {
    if !have("phpcbf", "phpcbf --version") {
        return;
    }
    // Under PSR12 the brace of a function goes on its own line; far below, a second
    // violation that this finding's patch leaves alone.
    let php = "<?php\n\nfunction add($a, $b) {\n    return $a + $b;\n}\n\n\n\n\n\n\nfunction sub($a, $b) {\n    return $a - $b;\n}\n";
    let p = Project::new(&[("lib/math.php", php)]);
    let check = "phpcs --standard=PSR12 --report=emacs lib";
    let (ok, log) = p.run_tool("phpcs", check);
    assert!(!ok, "phpcs must fail on the braces");
    p.cars(&["analyze", &log.to_string_lossy(), "--command", check]);
    let patch = fixer_patch(&p, "E1", "phpcbf");
    assert_eq!(patch["gate"], "approve", "{patch:#}");
    assert_eq!(p.read("lib/math.php"), php);
    assert_eq!(status(&p), "");
    // The session's phpcs still fails on `sub`, which this patch leaves alone.
    p.cars_ok(&["apply", patch["id"].as_str().unwrap(), "--no-validate"]);
    let fixed = p.read("lib/math.php");
    assert!(
        fixed.starts_with("<?php\n\nfunction add($a, $b)\n{\n    return $a + $b;\n}\n"),
        "{fixed}"
    );
    assert!(fixed.contains("function sub($a, $b) {\n"), "{fixed}");
}

#[test]
fn phpcbf_runs_only_when_the_session_ran_phpcs_or_the_project_is_trusted() {
    let php = "<?php\n\nfunction add($a, $b) {\n    return $a + $b;\n}\n";
    let p = Project::new(&[("lib/math.php", php)]);
    let log = p.log(&format!(
        "{}/lib/math.php:3:23: error - Opening brace should be on a new line\n",
        p.root().display()
    ));
    p.cars(&["analyze", &log.to_string_lossy()]);
    let patches = p.patches();
    assert!(
        patches["unfixable"]
            .to_string()
            .contains("phpcbf runs the project's own code"),
        "{patches:#}"
    );
}

#[test]
fn goimports_removes_the_unused_import_go_build_names() {
    if !have("goimports", "command -v goimports") || !have("go", "go version") {
        return;
    }
    let main = "package main\n\nimport (\n\t\"fmt\"\n\t\"strings\"\n)\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n";
    let p = Project::new(&[
        ("go.mod", "module example.com/tiny\n\ngo 1.19\n"),
        ("cmd/tiny/main.go", main),
    ]);
    let (ok, log) = p.run_tool("go", "GOFLAGS=-mod=mod go build ./...");
    assert!(!ok, "go build must fail on the unused import");
    p.cars(&[
        "analyze",
        &log.to_string_lossy(),
        "--command",
        "go build ./...",
    ]);
    let patch = fixer_patch(&p, "E1", "goimports");
    assert_eq!(patch["gate"], "approve", "{patch:#}");
    p.cars_ok(&["apply", patch["id"].as_str().unwrap()]);
    assert_eq!(
        p.read("cmd/tiny/main.go"),
        main.replace("\t\"strings\"\n", "")
    );
}

#[test]
fn stylelint_fix_drops_the_duplicate_property() {
    if !have("stylelint", "stylelint --version") {
        return;
    }
    let css = "a {\n  margin: 0;\n  margin: 1px;\n}\n";
    let p = Project::new(&[
        (
            ".stylelintrc.json",
            "{ \"rules\": { \"declaration-block-no-duplicate-properties\": true } }\n",
        ),
        ("styles/site.css", css),
    ]);
    let check = "stylelint styles/site.css";
    let (ok, log) = p.run_tool("stylelint", check);
    assert!(!ok, "stylelint must fail on the duplicate");
    p.cars(&["analyze", &log.to_string_lossy(), "--command", check]);
    let patch = fixer_patch(&p, "E1", "stylelint");
    assert_eq!(patch["gate"], "approve", "{patch:#}");
    p.cars_ok(&["apply", patch["id"].as_str().unwrap(), "--validate", check]);
    assert_eq!(p.read("styles/site.css"), "a {\n  margin: 1px;\n}\n");
}

#[test]
fn eslint_suggestions_become_patches_for_a_person_to_approve() {
    if !have("eslint", "eslint --version") {
        return;
    }
    // Two rules with a suggestion and no fix: `eqeqeq` (to ===) and `no-unused-vars`
    // (remove the declaration); `eslint --fix` leaves both.
    let js = "export function check(a, b) {\n  const stale = 1;\n  return a != b;\n}\n";
    let p = Project::new(&[
        (
            "eslint.config.mjs",
            "export default [{ rules: { eqeqeq: \"error\", \"no-unused-vars\": \"error\" } }];\n",
        ),
        ("lib/check.js", js),
    ]);
    let check = "eslint lib";
    let (ok, log) = p.run_tool("eslint", check);
    assert!(!ok, "eslint must fail");
    p.cars(&["analyze", &log.to_string_lossy(), "--command", check]);
    let patches = p.patches();
    let eslint = from_origin(&patches, "eslint fixer");
    assert_eq!(eslint.len(), 2, "{patches:#}");
    for patch in &eslint {
        assert_eq!(patch["gate"], "approve", "{patch:#}");
        assert!(
            patch["rationale"]
                .as_str()
                .unwrap()
                .contains("does not apply by itself"),
            "{patch:#}"
        );
    }
    assert_eq!(p.read("lib/check.js"), js, "proposing writes nothing");
    // Neither is taken unattended.
    let out = p.cars(&["apply", "--auto", "--validate", check]);
    assert!(text(&out.stdout).contains("No patch at or above the auto gate"));
    for patch in &eslint {
        p.cars_ok(&["apply", patch["id"].as_str().unwrap(), "--validate", check]);
    }
    assert_eq!(
        p.read("lib/check.js"),
        "export function check(a, b) {\n  \n  return a !== b;\n}\n"
    );
    let (ok, _) = p.run_tool("eslint-again", check);
    assert!(ok, "eslint passes");
}
