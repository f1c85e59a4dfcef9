//! Human-facing output, pinned: the table, text and markdown views of the example
//! log. Review changes with `cargo insta review` (or INSTA_UPDATE=always).

use assert_cmd::Command;

fn render(format: &str) -> String {
    let out = Command::cargo_bin("cars")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("HOME", "/nonexistent-cars-test")
        .env("XDG_CONFIG_HOME", "/nonexistent-cars-test")
        .env(
            "CARS_STORE",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/snapshot-store"),
        )
        .env("COLUMNS", "120")
        .args([
            "analyze",
            "examples/logs/github-actions-cargo.log",
            "--format",
            format,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn table_view_of_the_example_log() {
    insta::assert_snapshot!(render("table"));
}

#[test]
fn text_view_of_the_example_log() {
    insta::assert_snapshot!(render("text"));
}

#[test]
fn markdown_view_of_the_example_log() {
    insta::assert_snapshot!(render("markdown"));
}
