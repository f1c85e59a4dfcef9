//! The `cars` binary as a user meets it: inputs, exit codes, formats, filters, errors.

use assert_cmd::Command;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn cars() -> Command {
    let mut c = Command::cargo_bin("cars").unwrap();
    // Keep user and project rules out of the tests.
    c.env("XDG_CONFIG_HOME", "/nonexistent-cars-test")
        .env("HOME", "/nonexistent-cars-test")
        // Sessions go to a scratch store, never into this repository's .git/cars.
        .env(
            "CARS_STORE",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/cli-store"),
        )
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn json_of(args: &[&str]) -> (Value, i32) {
    let out = cars().args(args).arg("--format=json").output().unwrap();
    let code = out.status.code().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (v, code)
}

const CARGO_LOG: &str = "tests/fixtures/cli/cargo-build.log";
const GHA_LOG: &str = "examples/logs/github-actions-cargo.log";

#[test]
fn rustc_errors_are_found_with_locations_and_exit_1() {
    let (v, code) = json_of(&["analyze", CARGO_LOG]);
    assert_eq!(code, 1);
    assert_eq!(v["schema"], "cars/analysis/v1");
    assert_eq!(v["lines"], 24);
    let f = v["findings"].as_array().unwrap();
    let top = &f[0];
    assert_eq!(top["id"], "E1");
    assert_eq!(top["rank"], 1);
    assert_eq!(top["level"], "error");
    assert_eq!(top["tool"], "rustc");
    // Both compile errors are reported, each at its own place, before the summary.
    let locs: Vec<String> = f
        .iter()
        .filter(|f| !f["location"].is_null())
        .map(|f| {
            format!(
                "{}:{}",
                f["location"]["file"].as_str().unwrap(),
                f["location"]["line"]
            )
        })
        .collect();
    assert!(locs.contains(&"src/main.rs:3".to_string()), "{locs:?}");
    assert!(locs.contains(&"src/main.rs:2".to_string()), "{locs:?}");
    let could_not = f
        .iter()
        .position(|f| f["message"].as_str().unwrap().contains("could not compile"));
    if let Some(i) = could_not {
        assert!(
            i >= 2,
            "the `could not compile` summary must rank below both causes"
        );
    }
    // The E0425 block spans the header to the end of its help text.
    let e0425 = f
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("cannot find value"))
        .unwrap();
    assert_eq!(e0425["log_lines"]["start"], 2);
    assert!(e0425["log_lines"]["end"].as_u64().unwrap() >= 3);
    for f in f {
        let c = f["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c));
        assert_eq!(f["fingerprint"].as_str().unwrap().len(), 16);
    }
}

#[test]
fn github_actions_framing_gives_steps_and_the_cause_first() {
    let (v, code) = json_of(&["analyze", GHA_LOG]);
    assert_eq!(code, 1);
    let top = &v["findings"][0];
    assert_eq!(top["step"], "Run cargo build --locked");
    assert_eq!(top["tool"], "rustc");
    let exit = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .position(|f| f["message"].as_str().unwrap().contains("exit code 101"));
    if let Some(i) = exit {
        assert!(i > 0, "the exit-code line is a consequence, not the cause");
    }
}

#[test]
fn stdin_and_gzip_give_the_same_findings_as_the_plain_file() {
    let plain = std::fs::read(fixture(CARGO_LOG)).unwrap();
    let (from_file, _) = json_of(&["analyze", CARGO_LOG]);

    let out = cars()
        .args(["analyze", "-", "--format", "json"])
        .write_stdin(plain.clone())
        .output()
        .unwrap();
    let from_stdin: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(from_stdin["findings"], from_file["findings"]);
    assert_eq!(from_stdin["source"], "-");

    // Gzip is detected by content, not by name.
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("build.log");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(&plain).unwrap();
    enc.finish().unwrap();
    let (from_gz, code) = json_of(&["analyze", gz.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(from_gz["findings"], from_file["findings"]);
    assert_eq!(from_gz["lines"], from_file["lines"]);
}

fn fails_with(args: &[&str], stdin: Option<Vec<u8>>, needle: &str) {
    let mut c = cars();
    c.args(args);
    if let Some(s) = stdin {
        c.write_stdin(s);
    }
    let out = c.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(needle), "expected {needle:?} in {err:?}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one-line error, got {err:?}"
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn a_missing_file_is_a_one_line_error_with_exit_2() {
    fails_with(
        &["analyze", "no/such/file.log"],
        None,
        "no/such/file.log: no such file",
    );
}

#[test]
fn a_directory_is_a_one_line_error_with_exit_2() {
    fails_with(&["analyze", "tests"], None, "is a directory");
}

#[test]
fn binary_garbage_is_refused() {
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    fails_with(&["analyze", "-"], Some(garbage), "binary data");
}

#[test]
fn a_corrupt_gzip_stream_is_refused() {
    let mut bytes = vec![0x1f, 0x8b, 0x08, 0x00];
    bytes.extend_from_slice(b"this is not deflate data at all, it is cut short");
    fails_with(&["analyze", "-"], Some(bytes), "gzip");
}

#[test]
fn bad_flag_values_are_usage_errors() {
    let out = cars()
        .args(["analyze", CARGO_LOG, "--min-confidence", "1.5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = cars()
        .args(["analyze", CARGO_LOG, "--category", "nonsense"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = cars().args(["analyze"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_clean_log_exits_0() {
    let out = cars()
        .args(["analyze", "-", "--format", "json"])
        .write_stdin("Compiling demo v0.1.0\nFinished dev profile in 0.5s\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
    assert_eq!(v["lines"], 2);
}

#[test]
fn line_numbers_count_newlines_only_not_bare_carriage_returns() {
    // Line 1 ends with \r\n, line 2 holds a bare \r progress overwrite, line 3 the error.
    let log = b"start\r\nDownloading 10%\rDownloading 100%\nerror: the thing broke\nend".to_vec();
    let out = cars()
        .args(["analyze", "-", "--format", "json"])
        .write_stdin(log)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["lines"], 4);
    assert_eq!(v["findings"][0]["log_lines"]["start"], 3);
}

#[test]
fn filters_keep_rank_order_and_ids() {
    let (all, _) = json_of(&["analyze", CARGO_LOG]);
    let (top1, _) = json_of(&["analyze", CARGO_LOG, "--top", "1"]);
    assert_eq!(top1["findings"].as_array().unwrap().len(), 1);
    assert_eq!(top1["findings"][0], all["findings"][0]);

    let (strict, _) = json_of(&["analyze", CARGO_LOG, "--min-confidence", "0.99"]);
    assert!(strict["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["confidence"].as_f64().unwrap() >= 0.99));

    let (types, _) = json_of(&["analyze", CARGO_LOG, "--category", "type"]);
    let types = types["findings"].as_array().unwrap();
    assert!(!types.is_empty());
    assert!(types.iter().all(|f| f["category"] == "type"));
    let (none, code) = json_of(&["analyze", CARGO_LOG, "--category", "network"]);
    assert_eq!(none["findings"].as_array().unwrap().len(), 0);
    assert_eq!(code, 0, "nothing reported means exit 0");
}

#[test]
fn baseline_drops_errors_that_also_happen_in_a_passing_run() {
    let dir = tempfile::tempdir().unwrap();
    let failed = dir.path().join("failed.log");
    let passed = dir.path().join("passed.log");
    std::fs::write(
        &failed,
        "error: flaky mirror 3 unreachable\nstep two\nerror: assertion failed in test_login\n",
    )
    .unwrap();
    std::fs::write(
        &passed,
        "error: flaky mirror 7 unreachable\nstep two\nall good\n",
    )
    .unwrap();
    let (without, _) = json_of(&["analyze", failed.to_str().unwrap()]);
    let (with, _) = json_of(&[
        "analyze",
        failed.to_str().unwrap(),
        "--baseline",
        passed.to_str().unwrap(),
    ]);
    let msgs = |v: &Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(msgs(&without).len(), 2);
    assert_eq!(
        msgs(&with),
        vec!["assertion failed in test_login".to_string()]
    );
}

#[test]
fn sarif_is_2_1_0_with_a_location_for_every_result() {
    let out = cars()
        .args(["analyze", GHA_LOG, "--format", "sarif"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    for r in results {
        // A source file and line, or (for a summary finding) the step it came from.
        let location = &r["locations"][0];
        match location.get("physicalLocation") {
            Some(loc) => {
                assert!(loc["artifactLocation"]["uri"].is_string());
                assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
            }
            None => assert!(location["logicalLocations"][0]["name"].is_string(), "{r}"),
        }
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        assert!(matches!(r["level"].as_str().unwrap(), "error" | "warning"));
    }
}

#[test]
fn github_format_prints_workflow_commands() {
    let out = cars()
        .args(["analyze", CARGO_LOG, "--format", "github"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("::error file=src/main.rs,line="),
        "{first}"
    );
    assert!(text
        .lines()
        .all(|l| l.starts_with("::error ") || l.starts_with("::warning ")));
}

#[test]
fn output_file_is_written_and_stdout_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.md");
    let out = cars()
        .args(["analyze", CARGO_LOG, "--format", "markdown", "-o"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let md = std::fs::read_to_string(&path).unwrap();
    assert!(md.starts_with("# cars analysis of"));
    assert!(md.contains("| E1 |"));
}

#[test]
fn a_closed_pipe_exits_quietly() {
    use std::process::{Command as StdCommand, Stdio};
    let bin = assert_cmd::cargo::cargo_bin("cars");
    // Enough findings that the writer is still writing when the reader goes away.
    let mut log = String::new();
    for i in 0..20_000 {
        log.push_str(&format!(
            "src/f{i}.c:{i}:1: error: unknown type name 'foo{i}'\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.log");
    std::fs::write(&path, log).unwrap();
    let mut child = StdCommand::new(bin)
        .args([
            "analyze",
            path.to_str().unwrap(),
            "--format",
            "text",
            "--no-save",
        ])
        .env("HOME", "/nonexistent-cars-test")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // like `| head` exiting at once
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn rules_check_reports_the_bad_regex_and_rule() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        r#"[[rule]]
id = "mine.broken"
tool = "x"
category = "build"
severity = "high"
confidence = 0.5
keywords = ["boom"]
regex = '^boom (unclosed'
explanation = "x"
[[rule.sample]]
line = "boom (unclosed"
"#,
    )
    .unwrap();
    let out = cars().args(["rules", "check"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("mine.broken") && text.contains("invalid regex"),
        "{text}"
    );
}

#[test]
fn project_rules_add_to_the_library() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".cars/patterns")).unwrap();
    std::fs::write(
        dir.path().join(".cars/patterns/house.toml"),
        r#"[[rule]]
id = "house.deploy-lock"
tool = "deploy"
category = "deployment"
severity = "high"
confidence = 0.9
keywords = ["DEPLOY LOCKED"]
regex = '^DEPLOY LOCKED by (?P<message>.+)$'
explanation = "Someone holds the deploy lock: {message}"
[[rule.sample]]
line = "DEPLOY LOCKED by alice"
captures = { message = "alice" }
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("ci.log"),
        "prepare\nDEPLOY LOCKED by alice\n",
    )
    .unwrap();
    let out = cars()
        .current_dir(dir.path())
        .args(["analyze", "ci.log", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["rule"], "house.deploy-lock");
    assert_eq!(v["findings"][0]["category"], "deployment");
    assert_eq!(
        v["findings"][0]["explanation"],
        "Someone holds the deploy lock: alice"
    );
}

/// A log written on a CI runner: one path under the GitHub workspace whose file is in
/// the project, one under a GitLab workspace whose file is not.
const RUNNER_LOG: &str = "\
/home/runner/work/repo/repo/src/x.py:1:1: F401 'os' imported but unused
/builds/group/project/lib/gone.py:2:5: E225 missing whitespace around operator
";

#[test]
fn runner_paths_are_shown_relative_to_the_project_in_every_format() {
    let project = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(project.path().join("src")).unwrap();
    std::fs::write(project.path().join("src/x.py"), "import os\n").unwrap();
    let log = project.path().join("ci.log");
    std::fs::write(&log, RUNNER_LOG).unwrap();
    let render = |format: &str| {
        let out = cars()
            .current_dir(project.path())
            .arg("analyze")
            .arg(&log)
            .args(["--no-save", "--format", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        String::from_utf8(out.stdout).unwrap()
    };
    for format in ["table", "text", "markdown", "github", "sarif"] {
        let out = render(format);
        assert!(out.contains("src/x.py"), "{format}:\n{out}");
        assert!(out.contains("lib/gone.py"), "{format}:\n{out}");
        // Only the verbatim log excerpt may keep the runner's path.
        let outside_excerpts: String = out
            .split("<details>")
            .map(|part| part.split("</details>").last().unwrap())
            .collect();
        assert!(
            !outside_excerpts.contains("/home/runner") && !outside_excerpts.contains("/builds/"),
            "{format}:\n{out}"
        );
    }
    let github = render("github");
    assert!(
        github.starts_with("::error file=src/x.py,line=1,col=1,"),
        "{github}"
    );
    // JSON keeps `location.file` as the log reported it (the cars/analysis/v1 contract).
    let json: Value = serde_json::from_str(&render("json")).unwrap();
    assert_eq!(
        json["findings"][0]["location"]["file"],
        "/home/runner/work/repo/repo/src/x.py"
    );
}

#[test]
fn one_finding_is_not_one_findings() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("one.log");
    std::fs::write(&log, "src/x.py:1:1: F401 'os' imported but unused\n").unwrap();
    for (format, want) in [
        ("table", "1 finding in "),
        ("markdown", "1 finding in 1 line."),
    ] {
        let out = cars()
            .arg("analyze")
            .arg(&log)
            .args(["--no-save", "--format", format])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(want), "{format}:\n{text}");
        assert!(
            !text.contains("1 findings") && !text.contains("1 lines"),
            "{text}"
        );
    }
}
