//! SARIF as GitHub code scanning ingests it. The official validator
//! (`@microsoft/sarif-multitool` from npm, which `.ci/run` installs) checks the SARIF
//! of every example and fixture log under GitHub's rules and the SARIF rules; without
//! the validator the check is skipped locally and fails in CI (`CI` set).

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn cars() -> Command {
    let mut c = Command::cargo_bin("cars").unwrap();
    c.env("XDG_CONFIG_HOME", "/nonexistent-cars-test")
        .env("HOME", "/nonexistent-cars-test")
        .env(
            "CARS_STORE",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/sarif-store"),
        )
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn sarif_of(log: &Path) -> Value {
    let out = cars()
        .arg("analyze")
        .arg(log)
        .args(["--format", "sarif", "--no-save"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: not JSON ({e}): {}",
            log.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The example logs and every recorded fixture log.
fn logs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut logs = Vec::new();
    let mut dirs = vec![root.join("examples/logs"), root.join("tests/fixtures")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "log" || e == "gz") {
                logs.push(path);
            }
        }
    }
    logs.sort();
    assert!(logs.len() > 10, "found only {logs:?}");
    logs
}

/// The validator's native program and the `--rule-kind` argument it needs, or `None`
/// when it is not installed. `SARIF_MULTITOOL` names the program; else the npm
/// package behind `sarif-multitool` on PATH is used. Its `bin.js` passes arguments
/// through a shell (where `;` ends the command, and the rule kinds are accepted
/// only as one `Gh;Sarif` list), so the native program it wraps is run when found,
/// and the wrapper with a quoted list otherwise.
fn validator() -> Option<(PathBuf, &'static str)> {
    let works = |program: &Path| {
        std::process::Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if let Some(program) = std::env::var_os("SARIF_MULTITOOL") {
        let program = PathBuf::from(program);
        return works(&program).then_some((program, "Gh;Sarif"));
    }
    let wrapper = std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("sarif-multitool"))
        .find(|p| p.is_file())?;
    let package = wrapper.canonicalize().ok()?.parent()?.to_path_buf();
    let native = std::fs::read_dir(package.join("node_modules/@microsoft"))
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("Sarif.Multitool"))
        .find(|p| p.is_file() && works(p));
    match native {
        Some(native) => Some((native, "Gh;Sarif")),
        None => works(&wrapper).then_some((wrapper, "\"Gh;Sarif\"")),
    }
}

#[test]
fn sarif_of_every_example_log_passes_githubs_ingestion_rules() {
    let Some((validator, rule_kinds)) = validator() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the SARIF validator is not installed \
             (npm install --global @microsoft/sarif-multitool; .ci/run does this)"
        );
        eprintln!("skipped: sarif-multitool is not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, log) in logs().iter().enumerate() {
        let file = dir.path().join(format!("{i:02}.sarif"));
        std::fs::write(&file, serde_json::to_vec_pretty(&sarif_of(log)).unwrap()).unwrap();
        files.push(file);
    }
    let out = std::process::Command::new(&validator)
        .args(["validate", "--rule-kind", rule_kinds])
        .args(&files)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let problems: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(": error ") || l.contains(": warning "))
        // SARIF2005 asks for the tool's informationUri. cars has no published home
        // yet (no `repository` in Cargo.toml), and a made-up address would be worse
        // than none; with one set, this warning counts again.
        .filter(|l| !(env!("CARGO_PKG_REPOSITORY").is_empty() && l.contains("SARIF2005")))
        .collect();
    assert!(
        out.status.success() && problems.is_empty(),
        "{} exited {:?}:\n{}\n{}",
        validator.display(),
        out.status.code(),
        if problems.is_empty() {
            stdout.to_string()
        } else {
            problems.join("\n")
        },
        String::from_utf8_lossy(&out.stderr)
    );
    // A validator that checked nothing must not pass.
    assert!(
        stdout.contains(&format!("{} files scanned", files.len())),
        "{stdout}"
    );
}

#[test]
fn sarif_rules_have_a_name_unlike_their_id_a_full_description_and_help() {
    let v = sarif_of(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/logs/github-actions-cargo.log"),
    );
    let driver = &v["runs"][0]["tool"]["driver"];
    // Links go to `repository` of Cargo.toml; none is set, and none is made up.
    let repository = env!("CARGO_PKG_REPOSITORY");
    assert_eq!(
        driver["informationUri"].as_str(),
        (!repository.is_empty())
            .then(|| format!("{repository}#readme"))
            .as_deref()
    );
    let rules = driver["rules"].as_array().unwrap();
    assert!(!rules.is_empty());
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        let name = rule["name"].as_str().unwrap();
        assert!(!name.is_empty() && name != id, "{rule}");
        for text in [&rule["fullDescription"]["text"], &rule["help"]["text"]] {
            assert!(text.as_str().is_some_and(|t| t.len() > 20), "{rule}");
        }
        assert!(rule["help"]["markdown"].is_string(), "{rule}");
    }
    // Built-in rules link to their definition.
    let e0308 = rules.iter().find(|r| r["id"] == "rust.E0308").unwrap();
    if !repository.is_empty() {
        assert!(e0308["helpUri"]
            .as_str()
            .unwrap()
            .ends_with("/patterns/rust.toml"));
    }
    assert!(e0308["fullDescription"]["text"]
        .as_str()
        .unwrap()
        .starts_with("Type mismatch"));
}

#[test]
fn sarif_summary_findings_are_not_pointed_at_the_log_file() {
    let log = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/logs/github-actions-cargo.log");
    let v = sarif_of(&log);
    let results = v["runs"][0]["results"].as_array().unwrap();
    let mut summaries = 0;
    for r in results {
        let location = &r["locations"][0];
        match location.get("physicalLocation") {
            Some(p) => {
                let uri = p["artifactLocation"]["uri"].as_str().unwrap();
                assert!(!uri.ends_with(".log"), "{r}");
            }
            None => {
                summaries += 1;
                let logical = &location["logicalLocations"][0];
                assert!(logical["name"].is_string(), "{r}");
                assert!(r["properties"]["logLines"]["start"].as_u64().is_some());
            }
        }
    }
    // `could not compile` and the step's exit code have no source location.
    assert_eq!(summaries, 2, "{v}");
}
