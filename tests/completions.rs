//! The checked-in shell completions in `completions/` match what `cars completions`
//! generates. After changing the CLI, regenerate them with:
//!     UPDATE_COMPLETIONS=1 cargo test --test completions

use assert_cmd::Command;
use std::path::Path;

fn check(shell: &str, file: &str) {
    let out = Command::cargo_bin("cars")
        .unwrap()
        .args(["completions", shell])
        .output()
        .unwrap();
    assert!(out.status.success());
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("completions")
        .join(file);
    if std::env::var_os("UPDATE_COMPLETIONS").is_some() {
        std::fs::write(&path, &out.stdout).unwrap();
        return;
    }
    let current = std::fs::read(&path).unwrap_or_default();
    assert!(
        current == out.stdout,
        "completions/{file} is stale; run: UPDATE_COMPLETIONS=1 cargo test --test completions"
    );
}

#[test]
fn bash_completions_are_current() {
    check("bash", "cars.bash");
}

#[test]
fn zsh_completions_are_current() {
    check("zsh", "_cars");
}

#[test]
fn fish_completions_are_current() {
    check("fish", "cars.fish");
}
