//! TypeScript's language-service code fixes end to end: the real `tsc --noEmit` output
//! of a tiny project, its own `node_modules/typescript` (5.x: typescript 7 is native
//! and has no JavaScript language service), `cars analyze` -> `patch` -> `apply`,
//! tsc passes, and rollback restores the bytes.

mod common;

use common::{text, Project};
use std::path::{Path, PathBuf};
use std::process::Command;

const TYPESCRIPT: &str = "5.9.3";

/// A typescript package with the JavaScript API, installed once under `target/`
/// (`.ci/run` installs it before the tests).
fn typescript() -> PathBuf {
    let prefix =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/typescript-{TYPESCRIPT}"));
    let package = prefix.join("node_modules/typescript");
    if !package.join("lib/typescript.js").is_file() {
        let out = Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg(format!("typescript@{TYPESCRIPT}"))
            .output()
            .expect("npm runs");
        assert!(
            out.status.success(),
            "npm install typescript: {}",
            text(&out.stderr)
        );
    }
    package
}

/// A project with `src/index.ts` and its own copy of typescript 5.
fn project(index: &str) -> Project {
    let p = Project::new(&[("src/index.ts", index)]);
    std::fs::write(p.root().join(".git/info/exclude"), "node_modules/\n").unwrap();
    let to = p.root().join("node_modules");
    std::fs::create_dir_all(&to).unwrap();
    let out = Command::new("cp")
        .arg("-R")
        .arg(typescript())
        .arg(&to)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    p
}

/// Runs the global tsc (7.x) as CI would, then analyzes its output.
fn analyze(p: &Project, command: &str) {
    let (ok, log) = p.run_tool("tsc", &format!("tsc {command}"));
    assert!(!ok, "tsc must fail first");
    let out = p.cars(&[
        "analyze",
        &log.to_string_lossy(),
        "--command",
        &format!("tsc {command}"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

/// The first patch of `finding` from TypeScript's code fixes.
fn typescript_patch(p: &Project, finding: &str) -> serde_json::Value {
    let patches = p.patches();
    patches["patches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| {
            x["finding"] == finding
                && x["origin"]
                    .as_str()
                    .is_some_and(|o| o.starts_with("typescript "))
        })
        .cloned()
        .unwrap_or_else(|| panic!("no typescript patch for {finding}: {patches:#}"))
}

fn tsc_passes(p: &Project, command: &str) -> bool {
    p.run_tool("tsc-after", &format!("tsc {command}")).0
}

const UNUSED: &str = "export function total(xs: number[]): number {\n  const scale = 2;\n  let sum = 0;\n  for (const x of xs) sum += x;\n  return sum;\n}\n";

#[test]
fn an_unused_local_ts6133_is_removed_by_the_language_service() {
    let command = "--noEmit --pretty false --noUnusedLocals src/index.ts";
    let p = project(UNUSED);
    analyze(&p, command);
    let patch = typescript_patch(&p, "E1");
    assert_eq!(patch["gate"], "approve", "{patch:#}");
    assert_eq!(p.read("src/index.ts"), UNUSED, "patch must not write");
    let id = patch["id"].as_str().unwrap();
    p.cars_ok(&["apply", id]);
    assert_eq!(
        p.read("src/index.ts"),
        UNUSED.replace("  const scale = 2;\n", "")
    );
    assert!(tsc_passes(&p, command));
    p.cars_ok(&["rollback", id]);
    assert_eq!(p.read("src/index.ts"), UNUSED);
    assert_eq!(p.git(&["status", "--porcelain"]), "");
}

#[test]
fn the_projects_own_typescript_needs_trust_or_a_command_that_runs_it() {
    let p = project(UNUSED);
    let (_, log) = p.run_tool(
        "tsc",
        "tsc --noEmit --pretty false --noUnusedLocals src/index.ts",
    );
    // Analyzed without the command: nothing says tsc already runs in this project.
    p.cars(&["analyze", &log.to_string_lossy()]);
    let json = p.patches();
    assert!(
        json["unfixable"]
            .to_string()
            .contains("node_modules/typescript"),
        "{json:#}"
    );
    assert!(
        !json["patches"].to_string().contains("typescript "),
        "{json:#}"
    );
}
