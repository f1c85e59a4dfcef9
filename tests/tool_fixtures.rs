//! `cars analyze --format json` on real tool outputs (tests/fixtures/<tool>/<case>.log,
//! documented in tests/fixtures/README.md): the rank-1 finding must be the root cause
//! a person would fix first, with the right category, location, test name and CI step.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

/// What the rank-1 finding of a fixture must say. `None` means "not checked".
#[derive(Default)]
struct Expect {
    /// The category must be one of these (more than one only where the taxonomy
    /// honestly allows either, e.g. an unresolved name is a build or a type error);
    /// empty: not checked.
    category: &'static [&'static str],
    /// The location's file, compared after dropping a leading `./`; a finding whose
    /// file is an absolute path ending in `/<file>` also matches.
    file: Option<&'static str>,
    line: Option<u64>,
    /// A substring of the failed test's name; `Some("")` is never used.
    test: Option<&'static str>,
    /// The finding must not name a failed test (compile and lint errors).
    no_test: bool,
    /// The step must be one of these.
    step: &'static [&'static str],
    /// A substring of the message.
    message: Option<&'static str>,
}

struct Run {
    code: i32,
    json: Value,
}

fn analyze(fixture: &str) -> Run {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    assert!(path.is_file(), "missing fixture {}", path.display());
    // Keep user and project rule files (~/.config/cars, ./.cars) out of the run.
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cars"))
        .env_remove("CARS_DATA_DIR")
        .arg("analyze")
        .arg(&path)
        .args(["--format", "json", "--no-save"])
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{fixture}: stdout is not JSON ({e})\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Run {
        code: out.status.code().expect("cars was killed by a signal"),
        json,
    }
}

/// Runs the fixture and checks the whole expectation; on failure lists every
/// mismatch together with all the findings.
fn check(fixture: &str, want: Expect) {
    let run = analyze(fixture);
    let json = &run.json;
    assert_eq!(json["schema"], "cars/analysis/v1", "{fixture}: {json:#}");
    let findings = json["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("{fixture}: no findings array in {json:#}"));
    let listing: Vec<String> = findings
        .iter()
        .map(|f| {
            format!(
                "  #{} {} {} {} {} test={} step={} | {}",
                f["rank"],
                f["level"],
                f["category"],
                f["rule"],
                f["location"],
                f["test"],
                f["step"],
                f["message"]
            )
        })
        .collect();
    let mut problems = Vec::new();
    if run.code != 1 {
        problems.push(format!("exit code is {}, want 1 (errors found)", run.code));
    }
    let Some(top) = findings.first() else {
        panic!("{fixture}: no findings at all (exit code {})", run.code);
    };
    if top["rank"] != 1 {
        problems.push(format!("first finding has rank {}, want 1", top["rank"]));
    }
    if top["level"] != "error" {
        problems.push(format!("rank-1 level is {}, want \"error\"", top["level"]));
    }
    let category = top["category"].as_str().unwrap_or("<none>");
    if !want.category.is_empty() && !want.category.contains(&category) {
        problems.push(format!(
            "rank-1 category is {category:?}, want one of {:?}",
            want.category
        ));
    }
    if let Some(file) = want.file {
        let got = top["location"]["file"].as_str().unwrap_or("<none>");
        let got_rel = got.strip_prefix("./").unwrap_or(got);
        if !(got_rel == file || got.ends_with(&format!("/{file}"))) {
            problems.push(format!("rank-1 file is {got:?}, want {file:?}"));
        }
    }
    if let Some(line) = want.line {
        if top["location"]["line"].as_u64() != Some(line) {
            problems.push(format!(
                "rank-1 line is {}, want {line}",
                top["location"]["line"]
            ));
        }
    }
    if let Some(test) = want.test {
        assert!(!test.is_empty());
        let got = top["test"].as_str().unwrap_or("<none>");
        if !got.contains(test) {
            problems.push(format!(
                "rank-1 test is {got:?}, want one containing {test:?}"
            ));
        }
    }
    if want.no_test && !top["test"].is_null() {
        problems.push(format!(
            "rank 1 is a compile/lint error but names test {}",
            top["test"]
        ));
    }
    if !want.step.is_empty() {
        let got = top["step"].as_str().unwrap_or("<none>");
        if !want.step.contains(&got) {
            problems.push(format!(
                "rank-1 step is {got:?}, want one of {:?}",
                want.step
            ));
        }
    }
    if let Some(message) = want.message {
        let got = top["message"].as_str().unwrap_or("<none>");
        if !got.contains(message) {
            problems.push(format!(
                "rank-1 message is {got:?}, want one containing {message:?}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{fixture}:\n  - {}\nfindings:\n{}",
        problems.join("\n  - "),
        listing.join("\n")
    );
}

// ---------------------------------------------------------------- Rust

#[test]
fn rustc_mismatched_types_is_a_type_error_at_main_rs_6_not_the_note_at_line_1() {
    check(
        "rustc/type_error.log",
        Expect {
            category: &["type"],
            file: Some("src/main.rs"),
            line: Some(6),
            no_test: true,
            message: Some("mismatched types"),
            ..Expect::default()
        },
    );
}

#[test]
fn rustc_unresolved_name_points_at_main_rs_4() {
    check(
        "rustc/unresolved_name.log",
        Expect {
            category: &["build", "type"],
            file: Some("src/main.rs"),
            line: Some(4),
            no_test: true,
            message: Some("totl"),
            ..Expect::default()
        },
    );
}

#[test]
fn cargo_message_format_json_type_error_at_primary_span_main_rs_6() {
    check(
        "cargo/message_format_json.log",
        Expect {
            category: &["type"],
            file: Some("src/main.rs"),
            line: Some(6),
            no_test: true,
            message: Some("mismatched types"),
            ..Expect::default()
        },
    );
}

#[test]
fn clippy_deny_warnings_first_lint_len_zero_at_main_rs_3() {
    check(
        "clippy/deny_warnings.log",
        Expect {
            category: &["lint"],
            file: Some("src/main.rs"),
            line: Some(3),
            no_test: true,
            message: Some("length comparison to zero"),
            ..Expect::default()
        },
    );
}

#[test]
fn cargo_test_failure_names_rejects_garbage_panicking_at_lib_rs_16() {
    check(
        "cargo/test_failure.log",
        Expect {
            category: &["test"],
            file: Some("src/lib.rs"),
            line: Some(16),
            test: Some("tests::rejects_garbage"),
            ..Expect::default()
        },
    );
}

// ---------------------------------------------------------------- Python

#[test]
fn python_traceback_key_error_at_innermost_frame_app_py_11() {
    // No category is pinned: a runtime KeyError has no category of its own in the
    // taxonomy (build syntax type lint test ... unknown); the location and the
    // exception are what matter.
    check(
        "python/traceback.log",
        Expect {
            file: Some("app.py"),
            line: Some(11),
            no_test: true,
            message: Some("KeyError"),
            ..Expect::default()
        },
    );
}

#[test]
fn pytest_assert_failure_names_test_ten_percent_at_test_calc_py_9() {
    check(
        "pytest/assert_failure.log",
        Expect {
            category: &["test"],
            file: Some("tests/test_calc.py"),
            line: Some(9),
            test: Some("test_ten_percent"),
            ..Expect::default()
        },
    );
}

#[test]
fn pytest_collection_import_error_is_a_missing_dependency_httpclientx() {
    check(
        "pytest/collection_import_error.log",
        Expect {
            category: &["dependency"],
            file: Some("tests/test_client.py"),
            line: Some(1),
            message: Some("httpclientx"),
            ..Expect::default()
        },
    );
}

#[test]
fn mypy_incompatible_assignment_is_a_type_error_at_service_py_9() {
    check(
        "mypy/incompatible_assignment.log",
        Expect {
            category: &["type"],
            file: Some("service.py"),
            line: Some(9),
            no_test: true,
            message: Some("Incompatible types in assignment"),
            ..Expect::default()
        },
    );
}

#[test]
fn ruff_unused_import_is_a_lint_error_at_utils_py_1() {
    check(
        "ruff/unused_import.log",
        Expect {
            category: &["lint"],
            file: Some("utils.py"),
            line: Some(1),
            no_test: true,
            message: Some("imported but unused"),
            ..Expect::default()
        },
    );
}

#[test]
fn flake8_unused_import_is_a_lint_error_at_utils_py_1() {
    check(
        "flake8/unused_import.log",
        Expect {
            category: &["lint"],
            file: Some("utils.py"),
            line: Some(1),
            no_test: true,
            message: Some("imported but unused"),
            ..Expect::default()
        },
    );
}

#[test]
fn pip_no_matching_version_is_a_dependency_error_for_requests_99() {
    check(
        "pip/no_matching_version.log",
        Expect {
            category: &["dependency"],
            no_test: true,
            message: Some("requests==99.0.0"),
            ..Expect::default()
        },
    );
}

// ---------------------------------------------------------------- JavaScript / TypeScript

#[test]
fn tsc_ts2322_is_a_type_error_at_user_ts_7() {
    check(
        "tsc/type_error.log",
        Expect {
            category: &["type"],
            file: Some("src/user.ts"),
            line: Some(7),
            no_test: true,
            message: Some("not assignable"),
            ..Expect::default()
        },
    );
}

#[test]
fn eslint_stylish_first_problem_is_a_lint_error_in_index_js_line_1() {
    check(
        "eslint/stylish.log",
        Expect {
            category: &["lint"],
            file: Some("src/index.js"),
            line: Some(1),
            no_test: true,
            message: Some("'fs' is assigned a value but never used"),
            ..Expect::default()
        },
    );
}

#[test]
fn jest_failing_test_names_applies_quantity_at_cart_test_js_9() {
    check(
        "jest/failing_test.log",
        Expect {
            category: &["test"],
            file: Some("cart.test.js"),
            line: Some(9),
            test: Some("applies quantity"),
            ..Expect::default()
        },
    );
}

#[test]
fn mocha_failing_test_names_collapses_repeated_spaces_at_slug_test_js_10() {
    check(
        "mocha/failing_test.log",
        Expect {
            category: &["test"],
            file: Some("test/slug.test.js"),
            line: Some(10),
            test: Some("collapses repeated spaces"),
            ..Expect::default()
        },
    );
}

#[test]
fn node_uncaught_type_error_at_server_js_4() {
    // As for the Python traceback, no category is pinned: a runtime exception has no
    // category of its own in the taxonomy (a JS TypeError is not a type-check error).
    check(
        "node/uncaught_exception.log",
        Expect {
            file: Some("server.js"),
            line: Some(4),
            no_test: true,
            message: Some("Cannot read properties of undefined"),
            ..Expect::default()
        },
    );
}

#[test]
fn npm_install_404_is_a_dependency_error_naming_the_package() {
    check(
        "npm/install_404.log",
        Expect {
            category: &["dependency"],
            no_test: true,
            message: Some("left-padz-cars-fixture-nonexistent"),
            ..Expect::default()
        },
    );
}

#[test]
fn a_failed_npm_script_is_explained_by_its_own_output_above_npms_error_paragraph() {
    // No rule knows the script's message: the failure-context fallback looks above
    // npm's own `npm error` paragraph (a consequence) for it.
    check(
        "npm/workspace_build.log",
        Expect {
            message: Some("unable to read the source map styles.css.map"),
            step: &["Run npm run build --workspaces"],
            ..Expect::default()
        },
    );
}

// ---------------------------------------------------------------- C / make

#[test]
fn gcc_expected_semicolon_is_a_syntax_error_at_parse_c_9() {
    check(
        "gcc/compile_error.log",
        Expect {
            category: &["syntax"],
            file: Some("parse.c"),
            line: Some(9),
            no_test: true,
            message: Some("expected"),
            ..Expect::default()
        },
    );
}

#[test]
fn ld_undefined_reference_to_area_is_a_build_error_not_collect2() {
    check(
        "ld/undefined_reference.log",
        Expect {
            category: &["build"],
            no_test: true,
            message: Some("undefined reference to `area'"),
            ..Expect::default()
        },
    );
}

#[test]
fn make_werror_root_cause_is_util_c_4_not_the_make_error_line() {
    check(
        "make/werror.log",
        Expect {
            category: &["build", "lint"],
            file: Some("util.c"),
            line: Some(4),
            no_test: true,
            message: Some("unused variable"),
            ..Expect::default()
        },
    );
}

// ---------------------------------------------------------------- Java

#[test]
fn javac_incompatible_types_is_a_type_error_at_inventory_java_10() {
    check(
        "javac/compile_error.log",
        Expect {
            category: &["type"],
            file: Some("src/com/example/Inventory.java"),
            line: Some(10),
            no_test: true,
            message: Some("incompatible types"),
            ..Expect::default()
        },
    );
}

// ---------------------------------------------------------------- Go

#[test]
fn go_build_cannot_use_is_a_type_error_at_main_go_6() {
    check(
        "go/build_error.log",
        Expect {
            category: &["type"],
            file: Some("main.go"),
            line: Some(6),
            no_test: true,
            message: Some("cannot use"),
            ..Expect::default()
        },
    );
}

#[test]
fn go_test_failure_names_test_abs_negative_at_mathx_test_go_13() {
    check(
        "go/test_failure.log",
        Expect {
            category: &["test"],
            file: Some("mathx_test.go"),
            line: Some(13),
            test: Some("TestAbsNegative"),
            ..Expect::default()
        },
    );
}

#[test]
fn go_test_verbose_failure_names_test_abs_negative_not_the_passing_test() {
    check(
        "go/test_failure_verbose.log",
        Expect {
            category: &["test"],
            file: Some("mathx_test.go"),
            line: Some(13),
            test: Some("TestAbsNegative"),
            ..Expect::default()
        },
    );
}

// ---------------------------------------------------------------- CI-shaped logs

#[test]
fn github_actions_cargo_test_failure_in_step_run_cargo_test_beats_clippy_warning() {
    check(
        "ci/github_actions_cargo_test.log",
        Expect {
            category: &["test"],
            file: Some("src/lib.rs"),
            line: Some(16),
            test: Some("tests::rejects_garbage"),
            step: &["Run cargo test --locked"],
            ..Expect::default()
        },
    );
}

#[test]
fn gitlab_pytest_failure_in_step_script_names_test_ten_percent() {
    // GitLab runs every script command inside the `step_script` section; the command
    // itself (`$ python -m pytest ...`) is the more precise step, both are right.
    check(
        "ci/gitlab_pytest.log",
        Expect {
            category: &["test"],
            file: Some("tests/test_calc.py"),
            line: Some(9),
            test: Some("test_ten_percent"),
            step: &[
                "python -m pytest -p no:cacheprovider --color=no",
                "step_script",
            ],
            ..Expect::default()
        },
    );
}

#[test]
fn travis_jest_failure_in_step_npm_test_not_npm_install_warnings() {
    check(
        "ci/travis_jest.log",
        Expect {
            category: &["test"],
            file: Some("cart.test.js"),
            line: Some(9),
            test: Some("applies quantity"),
            step: &["npm test"],
            ..Expect::default()
        },
    );
}

// Header captures: the file comes from the line above the rows, per file.
#[test]
fn eslint_stylish_rows_of_the_second_file_name_that_file() {
    let run = analyze("eslint/two_files.log");
    let findings = run.json["findings"].as_array().unwrap();
    let undefined = findings
        .iter()
        .find(|f| f["message"] == "'y' is not defined")
        .expect("the no-undef row is a finding");
    assert!(undefined["location"]["file"]
        .as_str()
        .unwrap()
        .ends_with("web/lib/b.js"));
    assert_eq!(undefined["location"]["line"], 2);
    check(
        "eslint/two_files.log",
        Expect {
            category: &["lint"],
            file: Some("/tmp/ahs/web/a.js"),
            line: Some(1),
            no_test: true,
            ..Expect::default()
        },
    );
}

#[test]
fn ruff_full_output_without_a_fix_keeps_code_and_message() {
    check(
        "ruff/full_no_fix.log",
        Expect {
            category: &["lint"],
            file: Some("py/m.py"),
            line: Some(6),
            message: Some("Undefined name `undefined_x`"),
            no_test: true,
            ..Expect::default()
        },
    );
}

#[test]
fn yamllint_standard_rows_take_the_file_from_the_header() {
    check(
        "yamllint/standard.log",
        Expect {
            category: &["lint"],
            file: Some("y.yml"),
            line: Some(2),
            message: Some("duplication of key"),
            ..Expect::default()
        },
    );
}

#[test]
fn actionlint_problems_point_at_the_workflow() {
    check(
        "actionlint/workflow.log",
        Expect {
            category: &["config"],
            file: Some(".github/workflows/w.yml"),
            line: Some(5),
            ..Expect::default()
        },
    );
}

#[test]
fn hadolint_rules_point_at_their_dockerfile_line() {
    check(
        "hadolint/dockerfile.log",
        Expect {
            category: &["lint"],
            file: Some("Dockerfile"),
            line: Some(1),
            message: Some("Using latest"),
            ..Expect::default()
        },
    );
}

#[test]
fn bandit_issues_are_security_findings_with_their_location() {
    check(
        "bandit/shell.log",
        Expect {
            category: &["security"],
            file: Some("py/m.py"),
            line: Some(1),
            ..Expect::default()
        },
    );
}
