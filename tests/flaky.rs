//! Flaky tests end to end on a real pytest project: one test fails on every other run
//! (it reads and flips a file), another fails every time and must not be called flaky.

mod common;

use common::{text, Project};

fn project() -> Project {
    let p = Project::new(&[(
        "test_app.py",
        "import pathlib\n\n\
             def test_flip():\n    state = pathlib.Path('state.txt')\n    \
             was = state.read_text() if state.exists() else '0'\n    \
             state.write_text('1' if was == '0' else '0')\n    assert was == '1'\n\n\
             def test_stable():\n    assert 1 + 1 == 3\n",
    )]);
    p.write(".gitignore", "state.txt\n__pycache__/\n.pytest_cache/\n");
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "tests"]);
    p
}

const PYTEST: &str = "python3 -m pytest -q -p no:cacheprovider";

#[test]
fn rerun_tells_the_flaky_test_from_the_real_failure() {
    let p = project();
    let out = p.cars(&["flaky", "--rerun", "4", "--format", "json", "--", PYTEST]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
    let verdict = |name: &str| {
        r["tests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["test"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} in {r:#}"))["verdict"]
            .clone()
    };
    assert_eq!(verdict("test_flip"), "flaky", "{r:#}");
    assert_eq!(verdict("test_stable"), "fails every run", "{r:#}");
    // test_stable is only known to fail every run once all runs are spent.
    assert_eq!(r["runs"], 4, "{r:#}");
    assert_eq!(out.status.code(), Some(1), "a real failure remains");

    // The record: `cars flaky` lists the flaky test only, and the next run's finding
    // for it says so and ranks below the real failure.
    let list = p.cars_ok(&["flaky", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let names: Vec<&str> = list["flaky"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["test"].as_str().unwrap())
        .collect();
    assert!(
        names.len() == 1 && names[0].ends_with("test_flip"),
        "{list:#}"
    );
    // The fifth run: test_flip fails again (it fails on odd runs).
    p.cars(&["run", PYTEST]);
    let listed = p.cars_ok(&["export", "--format", "json"]);
    let findings: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let marked: Vec<&serde_json::Value> = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("flaky").is_some())
        .collect();
    assert_eq!(marked.len(), 1, "{findings:#}");
    assert!(marked[0]["test"].as_str().unwrap().ends_with("test_flip"));
    assert_eq!(marked[0]["flaky"]["why"], "intermittent", "{:#}", marked[0]);
    assert!(marked[0]["flaky"]["runs"].as_u64().unwrap() >= 2);
    let tests: Vec<(String, String)> = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| {
            Some((
                f["test"].as_str()?.to_string(),
                f["message"].as_str()?.to_string(),
            ))
        })
        .collect();
    if let Some(pos) = tests.iter().position(|(t, _)| t.ends_with("test_flip")) {
        assert!(tests[pos].1.contains("known flaky"), "{tests:?}");
        let stable = tests
            .iter()
            .position(|(t, _)| t.ends_with("test_stable"))
            .unwrap();
        assert!(stable < pos, "the real failure ranks first: {tests:?}");
        assert!(!tests[stable].1.contains("flaky"), "{tests:?}");
    } else {
        panic!("test_flip did not fail in the fifth run: {tests:?}");
    }
}
