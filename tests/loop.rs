//! The repair loop as a new user meets it: each test is named after a bug the session
//! issue found, and runs the real binary on a temp project.

mod common;

use common::{text, Project};
use std::process::{Command, Stdio};

/// Two rustc typo suggestions on neighbouring lines of one file, and the log.
fn two_typos() -> (Project, std::path::PathBuf) {
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
fn rollback_out_of_order_keeps_the_later_patch() {
    let (p, log) = two_typos();
    let original = p.read("src/main.rs");
    p.cars(&["analyze", log.to_str().unwrap()]);
    p.patches();
    p.cars_ok(&["apply", "P1", "P2", "--no-validate"]);
    let both = p.read("src/main.rs");
    assert!(
        both.contains("count);") && both.contains("total);"),
        "{both}"
    );
    // P1 first, though P2 came after it: P2's edit stays.
    p.cars_ok(&["rollback", "P1"]);
    let only_p2 = p.read("src/main.rs");
    assert!(
        only_p2.contains("coutn);") && only_p2.contains("total);"),
        "{only_p2}"
    );
    p.cars_ok(&["rollback", "P2"]);
    assert_eq!(p.read("src/main.rs"), original);
}

#[test]
fn patch_ids_stay_valid_after_a_new_session() {
    let (p, log) = two_typos();
    p.cars(&["analyze", log.to_str().unwrap()]);
    p.patches();
    // A second analysis starts session 2, which has no patches yet.
    p.cars(&["analyze", log.to_str().unwrap()]);
    p.cars_ok(&["apply", "P1", "--no-validate"]);
    assert!(p.read("src/main.rs").contains("count);"));
    p.cars_ok(&["rollback", "P1"]);
    assert!(p.read("src/main.rs").contains("coutn);"));
    // Patches of the new session get new ids, not P1 again.
    let again = p.patches();
    let ids: Vec<&str> = again["patches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"P1") && !ids.contains(&"P2"), "{ids:?}");
}

#[test]
fn a_patch_already_applied_is_not_proposed_again() {
    let (p, log) = two_typos();
    p.cars(&["analyze", log.to_str().unwrap()]);
    p.patches();
    p.cars_ok(&["apply", "P1", "--no-validate"]);
    let out = p.cars_ok(&["patch"]);
    assert!(out.contains("already fixed by P1"), "{out}");
    let json = p.patches();
    let proposed: Vec<&serde_json::Value> = json["patches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["finding"] == "E1")
        .collect();
    assert!(proposed.is_empty(), "{json:#}");
}

#[test]
fn cars_run_passes_the_commands_output_through_when_piped() {
    let p = Project::new(&[("x.txt", "x\n")]);
    let out = p.cars(&["run", "echo from-stdout; echo from-stderr >&2; exit 3"]);
    assert!(text(&out.stdout).contains("from-stdout"), "{out:?}");
    assert!(text(&out.stderr).contains("from-stderr"), "{out:?}");
}

#[test]
fn a_command_that_succeeded_has_no_failure_context_finding() {
    let p = Project::new(&[("x.txt", "x\n")]);
    // A tolerated failure inside a passing script: the script itself succeeded.
    let out = p.cars(&[
        "run",
        "echo 'warning: something odd'; echo 'The command \"make lint\" exited with 1.'; true",
    ]);
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(!all.contains("failure-context"), "{all}");
    let list = p.cars(&["list"]);
    assert!(!text(&list.stdout).contains("no rule explains"), "{list:?}");
}

#[test]
fn a_new_error_in_another_file_after_a_fix_is_progress_not_failure() {
    // Fixing main.rs lets the build get to lib.rs: the next error was hidden.
    let p = Project::new(&[
        (
            "src/main.rs",
            "fn main() {\n    let count = 3;\n    println!(\"{}\", coutn);\n}\n",
        ),
        (
            "check.sh",
            "grep -q coutn src/main.rs && { cat main.log; exit 1; }\ncat lib.log; exit 1\n",
        ),
    ]);
    let main_err = "error[E0425]: cannot find value `coutn` in this scope\n --> src/main.rs:3:20\n  |\n3 |     println!(\"{}\", coutn);\n  |                    ^^^^^\n  |\nhelp: a local variable with a similar name exists\n  |\n3 -     println!(\"{}\", coutn);\n3 +     println!(\"{}\", count);\n  |\n";
    let lib_err = "error[E0308]: mismatched types\n --> src/lib.rs:7:5\n  |\n7 |     1\n  |     ^ expected `String`, found integer\n";
    p.write("main.log", main_err);
    p.write("lib.log", lib_err);
    let log = p.log(main_err);
    p.cars(&["analyze", log.to_str().unwrap(), "--command", "sh check.sh"]);
    p.patches();
    let out = p.cars_ok(&["apply", "P1"]);
    assert!(out.contains("no longer reports E1"), "{out}");
    assert!(
        p.read("src/main.rs").contains("count);"),
        "the fix was rolled back"
    );
}

#[test]
fn no_patch_reasons_name_only_the_templates_that_could_apply() {
    let p = Project::new(&[("app.py", "print(1)\n")]);
    let log = p.log("Traceback (most recent call last):\n  File \"app.py\", line 1, in <module>\n    print(1)\nZeroDivisionError: division by zero\n");
    p.cars(&["analyze", log.to_str().unwrap()]);
    let out = p.cars_ok(&["patch"]);
    assert!(!out.contains("env.missing-variable"), "{out}");
    assert!(out.contains("no patch"), "{out}");
}

#[test]
fn refusals_come_before_applying() {
    let (p, log) = two_typos();
    p.cars(&["analyze", log.to_str().unwrap(), "--command", "true"]);
    p.patches();
    p.write("src/main.rs", "fn main() {}\n");
    let out = Command::new(env!("CARGO_BIN_EXE_cars"))
        .env_remove("CARS_DATA_DIR")
        .args(["apply", "P1"])
        .current_dir(p.root())
        .env("HOME", p.home.path())
        .env("XDG_DATA_HOME", p.home.path().join("data"))
        .env("XDG_CONFIG_HOME", p.home.path().join("config"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(!err.contains("applying P1"), "{err}");
    assert!(err.contains("changed since"), "{err}");
}

/// Runs `cars session` with a script on stdin, in the project.
fn repl(p: &Project, script: &str) -> std::process::Output {
    use std::io::Write;
    let mut c = Command::new(env!("CARGO_BIN_EXE_cars"));
    common::git_env(&mut c)
        .arg("session")
        .current_dir(p.root())
        .env("HOME", p.home.path())
        .env("XDG_CONFIG_HOME", p.home.path().join("config"))
        .env("XDG_DATA_HOME", p.home.path().join("data"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_cli_and_the_repl_take_the_same_gate_decision() {
    // rustc's one-alternative suggestion has confidence 0.80; the user's gates put it
    // in each band in turn.
    for (gates, plain, forced) in [
        ("auto = 0.9\napprove = 0.75\nforce = 0.6", true, true),
        ("auto = 0.95\napprove = 0.85\nforce = 0.7", false, true),
        ("auto = 0.99\napprove = 0.95\nforce = 0.9", false, false),
    ] {
        let (p, log) = two_typos();
        p.write_home("config/cars/config.toml", &format!("[gates]\n{gates}\n"));
        p.cars(&["analyze", log.to_str().unwrap()]);
        p.patches();
        let cli = p.cars(&["apply", "P1", "--no-validate"]);
        let session = repl(&p, "approve P2\n");
        let repl_text = text(&session.stdout) + &text(&session.stderr);
        let repl_applied = repl_text.contains("P2: applied");
        assert_eq!(cli.status.success(), plain, "{gates}: cli {cli:?}");
        assert_eq!(repl_applied, plain, "{gates}: repl {repl_text}");
        if !plain {
            let cli = p.cars(&["apply", "P1", "--no-validate", "--force"]);
            let session = repl(&p, "approve P2 force\n");
            let repl_text = text(&session.stdout) + &text(&session.stderr);
            assert_eq!(cli.status.success(), forced, "{gates}: cli --force {cli:?}");
            assert_eq!(
                repl_text.contains("P2: applied"),
                forced,
                "{gates}: {repl_text}"
            );
        }
    }
}

#[test]
fn stats_and_export_count_a_rolled_back_patch_the_same_way() {
    let (p, log) = two_typos();
    p.cars(&["analyze", log.to_str().unwrap()]);
    p.patches();
    p.cars_ok(&["apply", "P1", "--validate", "true"]);
    p.cars_ok(&["rollback", "P1"]);
    let export: serde_json::Value =
        serde_json::from_str(&p.cars_ok(&["export", "--format", "json"])).unwrap();
    let counts = &export["summary"]["patches"];
    let stats = p.cars_ok(&["stats", "--format", "json"]);
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    let rule = stats["stats"]["by_rule"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == "rust.E0425")
        .unwrap_or_else(|| panic!("{stats:#}"));
    for key in ["applied", "validated", "rolled_back"] {
        assert_eq!(
            rule[key], counts[key],
            "{key}: stats {rule} export {counts}"
        );
    }
    assert_eq!(rule["applied"], 1);
}

#[test]
fn cars_config_shows_each_value_and_where_it_came_from() {
    let p = Project::new(&[(
        ".cars.toml",
        "[gates]\nauto = 0.95\n[[job]]\nname = \"lint\"\ncommand = \"make lint\"\n",
    )]);
    p.write_home("config/cars/config.toml", "[watch]\noutput_lines = 500\n");
    let out = p.cars_ok(&["config"]);
    assert!(
        out.contains("auto = 0.95  # ") && out.contains(".cars.toml"),
        "{out}"
    );
    assert!(out.contains("approve = 0.75  # built-in"), "{out}");
    assert!(
        out.contains("output_lines = 500  # ") && out.contains("config.toml"),
        "{out}"
    );
    assert!(out.contains("shown but not run"), "{out}");
    assert!(p.cars_ok(&["config", "--defaults"]).contains("[gates]"));
}

#[test]
fn validation_knows_the_same_error_under_a_runner_path() {
    let (p, _) = two_typos();
    let block = |path: &str, n: usize, bad: &str, good: &str| {
        format!(
            "error[E0425]: cannot find value `{bad}` in this scope\n --> {path}:{n}:20\n  |\n{n} |     println!(\"{{}}\", {bad});\n  |                    ^^^^^\n  |\nhelp: a local variable with a similar name exists\n  |\n{n} -     println!(\"{{}}\", {bad});\n{n} +     println!(\"{{}}\", {good});\n  |\n\n"
        )
    };
    let ci = "/home/runner/work/demo/demo/src/main.rs";
    let log = p.log(&(block(ci, 4, "coutn", "count") + &block(ci, 5, "totl", "total")));
    // The local re-run prints the remaining error with a relative path.
    p.write("rest.log", &block("src/main.rs", 5, "totl", "total"));
    p.cars(&[
        "analyze",
        log.to_str().unwrap(),
        "--command",
        "cat rest.log; exit 1",
    ]);
    p.patches();
    let out = p.cars_ok(&["apply", "P1"]);
    assert!(out.contains("no longer reports E1"), "{out}");
    assert!(p.read("src/main.rs").contains("count);"));
}

#[test]
fn apply_of_two_patches_on_neighbouring_lines_applies_both() {
    let (p, log) = two_typos();
    p.cars(&["analyze", log.to_str().unwrap()]);
    p.patches();
    let out = p.cars_ok(&["apply", "P1", "P2", "--no-validate"]);
    assert!(
        out.contains("P1: applied") && out.contains("P2: applied"),
        "{out}"
    );
    let src = p.read("src/main.rs");
    assert!(src.contains("count);") && src.contains("total);"), "{src}");
}
