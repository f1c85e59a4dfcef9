//! `cars heal -- CMD`: the loop from red to green, run on temp projects whose check
//! script prints real rustc output for as long as the error is in the source.

mod common;

use common::typos::{project, COUTN, MAIN};
use common::{text, Project};

#[test]
fn heal_approving_fixes_errors_round_after_round_and_exits_0() {
    let p = project();
    let out = p.cars_input(&["heal", "--approve", "--", "sh", "check.sh"], "y\ny\n");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("passes after 2 rounds"), "{stdout}");
    let src = p.read("src/main.rs");
    assert!(src.contains("count);") && src.contains("total);"), "{src}");
    // Each round is a recorded session; the summary says how to undo.
    assert!(
        stdout.contains("undo: `cars rollback P2`, then `cars rollback P1`"),
        "{stdout}"
    );
    p.cars_ok(&["rollback", "P2"]);
    p.cars_ok(&["rollback", "P1"]);
    assert_eq!(p.read("src/main.rs"), MAIN);
}

/// rustc's real output for a `&str` returned as `String`, printed by `check.sh` for as
/// long as the error is in the source: its conversion is a suggestion rustc marks
/// for review, and not a name the diagnostic gives.
const E0308: &str = "error[E0308]: mismatched types\n --> src/main.rs:2:5\n  |\n1 | fn name() -> String {\n  |              ------ expected `String` because of return type\n2 |     \"cars\"\n  |     ^^^^^^ expected `String`, found `&str`\n  |\nhelp: try using a conversion method\n  |\n2 |     \"cars\".to_string()\n  |           ++++++++++++\n";

fn review_project() -> Project {
    Project::new(&[
        (
            "src/main.rs",
            "fn name() -> String {\n    \"cars\"\n}\n\nfn main() {\n    println!(\"{}\", name());\n}\n",
        ),
        (
            "check.sh",
            "grep -q 'to_string' src/main.rs || { cat e0308.log; exit 1; }\nexit 0\n",
        ),
        ("e0308.log", E0308),
    ])
}

#[test]
fn heal_applies_the_renames_its_own_runs_print_and_passes() {
    // The heal's own runs print rustc's "similar name" rename, so without --approve
    // it applies each one (validated by the next run), round after round.
    let p = project();
    let out = p.cars(&["heal", "--", "sh", "check.sh"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("passes after 2 rounds"), "{stdout}");
    p.cars_ok(&["rollback", "P2"]);
    p.cars_ok(&["rollback", "P1"]);
    assert_eq!(p.read("src/main.rs"), MAIN);
}

#[test]
fn heal_without_approve_leaves_review_patches_and_says_why() {
    let p = review_project();
    let before = p.read("src/main.rs");
    let out = p.cars(&["heal", "--", "sh", "check.sh"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("found nothing it could apply"), "{stdout}");
    assert!(
        stdout.contains("`cars heal --approve` offers it"),
        "{stdout}"
    );
    assert_eq!(p.read("src/main.rs"), before);
    // Approving it fixes the project.
    let out = p.cars_input(&["heal", "--approve", "--", "sh", "check.sh"], "y\n");
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(p.read("src/main.rs").contains("\"cars\".to_string()"));
}

#[test]
fn heal_auto_never_applies_a_fix_its_source_marks_for_review() {
    let p = review_project();
    // The user's own config lowers the auto gate to 0.75, below rustc's suggestion:
    // a source that marks its fix for review is never applied unattended, so the
    // user's gates alone do not make this heal apply anything.
    p.write_home("config/cars/config.toml", "[gates]\nauto = 0.75\n");
    let out = p.cars(&["heal", "--format", "json", "--", "sh", "check.sh"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["passed"], false);
    assert_eq!(report["stop"], "no-progress");
    assert_eq!(report["rounds"].as_array().unwrap().len(), 1);
}

#[test]
fn heal_answers_no_and_quit_are_kept() {
    let p = project();
    let out = p.cars_input(&["heal", "--approve", "--", "sh", "check.sh"], "n\n");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("P1 for E1: rejected"), "{stdout}");
    assert!(
        stdout.contains("why not fixed: you declined P1"),
        "{stdout}"
    );
    assert_eq!(p.read("src/main.rs"), MAIN);

    let p = project();
    let out = p.cars_input(&["heal", "--approve", "--", "sh", "check.sh"], "q\n");
    assert!(
        text(&out.stdout).contains("stopped at your request"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(p.read("src/main.rs"), MAIN);
}

#[test]
fn heal_on_a_passing_command_changes_nothing() {
    let p = project();
    let out = p.cars(&["heal", "--", "true"]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("passes; nothing to heal"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn heal_stops_at_the_round_limit() {
    let p = project();
    let out = p.cars_input(
        &["heal", "--approve", "--rounds", "1", "--", "sh", "check.sh"],
        "y\n",
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("after 1 round, the limit"), "{stdout}");
    // The first fix stays (it made progress); the second error is what remains.
    assert!(stdout.contains("cannot find value `totl`"), "{stdout}");
    assert!(p.read("src/main.rs").contains("count);"));
}

#[test]
fn heal_rejects_a_bad_duration() {
    let p = project();
    let out = p.cars(&["heal", "--time", "5x", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("the unit is ms, s, m or h"),
        "{}",
        text(&out.stderr)
    );
}

/// cargo test's report of `tests::NAME` failing.
fn test_failure(name: &str) -> String {
    format!(
        "test tests::{name} ... FAILED\n\nfailures:\n\n---- tests::{name} stdout ----\n\nthread 'tests::{name}' panicked at src/lib.rs:20:9:\nassertion `left == right` failed\n  left: 1\n right: 2\n\n"
    )
}

#[test]
fn heal_undoes_its_patches_when_a_test_that_passed_now_fails() {
    // The fix removes its target error and is kept by validation (the failure that
    // appears is in another file), but `tests::fast`, which passed at the start,
    // fails at the end: the heal rolls its patch back.
    let p = Project::new(&[
        ("src/main.rs", MAIN),
        (
            "check.sh",
            "grep -q coutn src/main.rs && { cat coutn.log slow.log; exit 1; }\ncat slow.log fast.log; exit 1\n",
        ),
        ("coutn.log", COUTN),
        ("slow.log", &format!("running 2 tests\ntest tests::fast ... ok\n{}", test_failure("slow"))),
        ("fast.log", &test_failure("fast")),
    ]);
    let out = p.cars_input(
        &[
            "heal",
            "--approve",
            "--format",
            "json",
            "--",
            "sh",
            "check.sh",
        ],
        "y\n",
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(report["stop"], "worse", "{report:#}");
    assert_eq!(report["undone"], serde_json::json!(["P1"]), "{report:#}");
    assert_eq!(p.read("src/main.rs"), MAIN);
}
