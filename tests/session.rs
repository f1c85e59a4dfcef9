//! `cars session` scripted through stdin: a newcomer's path from a red log to an
//! applied, validated, committed fix, recorded as a transcript snapshot (times, paths
//! and commit ids redacted). And the same actions as plain subcommands.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const APP: &str = "import sys\n\n\ndef greet(name):\n    return \"hello \" + nme\n\n\nprint(greet(sys.argv[0]))\n";

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A git repo with a Python script that fails with a NameError, and its log.
fn broken_project() -> (tempfile::TempDir, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), APP).unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["config", "user.name", "Test"]);
    git(dir.path(), &["config", "user.email", "test@example.com"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "initial"]);
    let out = Command::new("python3")
        .arg("app.py")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    std::fs::write(home.path().join("run.log"), &out.stderr).unwrap();
    (dir, home)
}

fn cars(dir: &Path, home: &Path, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cars"))
        .env_remove("CARS_DATA_DIR")
        .args(args)
        .current_dir(dir)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .env_remove("CARS_STORE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn scripted_session_from_red_log_to_committed_fix() {
    let (dir, home) = broken_project();
    let log = home.path().join("run.log");
    let script = "\
help approve
list
show E1
explain E1
patch
diff P1
approve P1
stats
export markdown report.md
quit
";
    let out = cars(
        dir.path(),
        home.path(),
        &[
            "session",
            log.to_str().unwrap(),
            "--command",
            "python3 app.py",
            "--commit",
        ],
        script,
    );
    let transcript = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{transcript}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The fix landed, was validated by re-running the script, and was committed alone.
    assert!(std::fs::read_to_string(dir.path().join("app.py"))
        .unwrap()
        .contains("+ name"));
    let rerun = Command::new("python3")
        .arg("app.py")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(rerun.status.success());
    assert!(git(dir.path(), &["log", "-1", "--format=%s"])
        .starts_with("cars: fix E1 (python.traceback)"));
    assert!(dir.path().join("report.md").is_file());
    insta::with_settings!({filters => vec![
        (r"/tmp/\.tmp\w+", "[tmp]"),
        (r"\b[0-9a-f]{10}\b", "[commit]"),
        (r"\d+(\.\d+)? (ms|s)\b", "[time]"),
        (r"cars\[\d+\]>", "cars[N]>"),
        (r"session \d+", "session N"),
    ]}, {
        insta::assert_snapshot!(transcript);
    });
}

#[test]
fn a_failing_script_command_is_reported_and_the_session_goes_on() {
    let (dir, home) = broken_project();
    let log = home.path().join("run.log");
    let out = cars(
        dir.path(),
        home.path(),
        &["session", log.to_str().unwrap()],
        "show E9\napprove\nfrobnicate\nlist\n",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a script with failed commands exits 1"
    );
    assert!(text.contains("error: no finding E9"), "{text}");
    assert!(text.contains("error: `approve` needs a patch id"), "{text}");
    assert!(
        text.contains("error: unknown command `frobnicate`"),
        "{text}"
    );
    assert!(text.contains("E1   error"), "list still ran: {text}");
}

#[test]
fn every_session_command_is_also_a_subcommand() {
    let (dir, home) = broken_project();
    let (dir, home) = (dir.path(), home.path());
    let log = home.join("run.log");
    let ok = |args: &[&str]| {
        let out = cars(dir, home, args, "");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "cars {args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let out = cars(dir, home, &["analyze", log.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(ok(&["list"]).contains("NameError"));
    assert!(ok(&["list", "category"]).contains("E1"));
    let show = ok(&["show", "E1"]);
    assert!(
        show.contains(">      5 |     return \"hello \" + nme"),
        "the source line: {show}"
    );
    assert!(ok(&["explain", "E1"]).contains("Rule python.traceback"));
    ok(&["patch"]);
    assert!(ok(&["diff", "P1"]).contains("+    return \"hello \" + name"));
    assert!(ok(&["reject", "P1", "wrong", "name"]).contains("P1: rejected (wrong name)"));
    let history = ok(&["history"]);
    assert!(
        history.contains("reject") && history.contains("reason=wrong name"),
        "{history}"
    );
    // A rejected patch can no longer be approved by accident.
    let out = cars(dir, home, &["session"], "approve P1\n");
    assert!(String::from_utf8_lossy(&out.stdout).contains("error: P1 was rejected"));
}

#[test]
fn run_streams_a_command_and_records_it_for_validation() {
    let (dir, home) = broken_project();
    let out = cars(dir.path(), home.path(), &["run", "python3", "app.py"], "");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("`python3 app.py` failed"), "{text}");
    assert!(text.contains("most likely cause: E1 NameError"), "{text}");
    let out = cars(dir.path(), home.path(), &["session"], "patch\napprove P1\n");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("`python3 app.py` passed"),
        "validated with the recorded command: {text}"
    );
}

#[test]
fn run_takes_the_last_passing_run_of_the_same_command_as_its_baseline() {
    let (dir, home) = broken_project();
    // A line that is there when the command passes is no cause when it fails.
    let script = "echo 'ERROR: connection refused while fetching the cache'\n\
                  if [ -f broken ]; then echo 'error: cannot find value `nme` in this scope'; exit 1; fi\n";
    std::fs::write(dir.path().join("ci.sh"), script).unwrap();
    let run = |args: &[&str]| {
        let out = cars(dir.path(), home.path(), args, "");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let passed = run(&["run", "bash", "ci.sh"]);
    assert!(passed.contains("1 finding"), "no baseline yet: {passed}");
    std::fs::write(dir.path().join("broken"), "").unwrap();
    let failed = run(&["run", "bash", "ci.sh"]);
    assert!(failed.contains("1 finding (1 error)"), "{failed}");
    assert!(
        failed.contains("most likely cause: E1 cannot find value `nme`"),
        "{failed}"
    );
    let unfiltered = run(&["run", "--no-baseline", "bash", "ci.sh"]);
    assert!(unfiltered.contains("2 findings"), "{unfiltered}");
    // Another command has no baseline of its own.
    let other = run(&["run", "bash", "./ci.sh"]);
    assert!(other.contains("2 findings"), "{other}");
}
