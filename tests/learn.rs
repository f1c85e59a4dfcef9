//! The learning engine end to end: outcomes recorded by real applies, and imported
//! ones, move a fix source's confidence across the gates, in both directions.

mod common;

use common::{text, Project};

const LOG: &str = "error[E0425]: cannot find value `coutn` in this scope\n --> src/main.rs:3:20\n  |\n3 |     println!(\"{}\", coutn);\n  |                    ^^^^^\n  |\nhelp: a local variable with a similar name exists\n  |\n3 -     println!(\"{}\", coutn);\n3 +     println!(\"{}\", count);\n  |\n";
const MAIN: &str = "fn main() {\n    let count = 3;\n    println!(\"{}\", coutn);\n}\n";

/// The first proposed patch's confidence and calibration, for a fresh analysis.
fn propose(p: &Project) -> serde_json::Value {
    let log = p.log(LOG);
    // Exit 1: errors found.
    p.cars(&["analyze", log.to_str().unwrap()]);
    let patches = p.patches();
    patches["patches"][0].clone()
}

#[test]
fn a_failed_validation_lowers_the_next_proposal_and_successes_raise_it() {
    let p = Project::new(&[("src/main.rs", MAIN)]);
    let first = propose(&p);
    assert_eq!(first["confidence"], 0.8, "{first:#}");
    assert_eq!(first["gate"], "approve");

    // The validation command fails: the patch is rolled back and the failure recorded.
    let out = p.cars(&["apply", "P1", "--validate", "false"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert_eq!(p.read("src/main.rs"), MAIN);
    let after_failure = propose(&p);
    let lowered = after_failure["confidence"].as_f64().unwrap();
    assert!(lowered < 0.75, "{after_failure:#}");
    assert_eq!(after_failure["gate"], "force");
    assert_eq!(after_failure["calibration"]["failures"], 1);

    // Outcomes from elsewhere (an export of another machine's knowledge): the source
    // kept working on this rule since.
    let outcome = |i: i64| {
        format!(
            r#"{{"project": "/elsewhere", "rule": "rust.E0425", "source": "tool suggestion rustc", "kind": "validated", "at": {}}}"#,
            4_000_000_000_000i64 + i
        )
    };
    let outcomes: Vec<String> = (0..10).map(outcome).collect();
    let export = format!(
        r#"{{"schema": "cars/knowledge/v1", "outcomes": [{}]}}"#,
        outcomes.join(",")
    );
    p.write_home("knowledge.json", &export);
    let file = p.home.path().join("knowledge.json");
    let imported = p.cars_ok(&["learn", "import", file.to_str().unwrap()]);
    assert!(imported.contains("imported 10 outcomes"), "{imported}");
    let raised = propose(&p);
    assert!(raised["confidence"].as_f64().unwrap() >= 0.90, "{raised:#}");

    // `explain` shows the parts; `learn stats` the counts; `reset` forgets the rule.
    let explain = p.cars_ok(&["explain", "E1"]);
    assert!(
        explain.contains("base 0.80") && explain.contains("10 worked, 1 failed"),
        "{explain}"
    );
    let stats = p.cars_ok(&["learn", "stats", "--format", "json"]);
    assert!(stats.contains("\"key\": \"rule rust.E0425\""), "{stats}");
    p.cars_ok(&["learn", "reset", "--rule", "rust.E0425"]);
    assert_eq!(propose(&p)["confidence"], 0.8);
}

#[test]
fn a_bad_import_is_an_error_naming_the_file() {
    let p = Project::new(&[("src/main.rs", MAIN)]);
    p.write_home(
        "bad.json",
        "{\"schema\": \"cars/knowledge/v0\", \"outcomes\": []}",
    );
    let file = p.home.path().join("bad.json");
    let out = p.cars(&["learn", "import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.json") && err.contains("cars/knowledge/v1"),
        "{err}"
    );
}

#[test]
fn rules_suggest_clusters_unknown_errors_and_writes_a_draft_that_passes_check() {
    let p = Project::new(&[("src/main.rs", MAIN)]);
    // Three runs of a deploy script fail with an error no rule knows; the run that
    // passed prints a harmless ERROR line too, which must not be suggested.
    p.write(
        "deploy.sh",
        "n=$(cat n 2>/dev/null || echo 0); echo $((n + 1)) > n\n\
         echo 'ERROR: cache warm-up skipped for shard 4'\n\
         [ \"$n\" -ge 3 ] && exit 0\n\
         echo \"ERROR: Segfault in worker $((n * 5 + 2)) while reading /var/data/part-$n.bin\"; exit 1\n",
    );
    for _ in 0..4 {
        p.cars(&["run", "sh deploy.sh"]);
    }
    let out = p.cars_ok(&["rules", "suggest", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let first = &v["clusters"][0];
    assert_eq!(first["count"], 3, "{v:#}");
    assert_eq!(first["sessions"], 3, "{v:#}");
    assert!(
        first["template"]
            .as_str()
            .unwrap()
            .contains("Segfault in worker <*>"),
        "{v:#}"
    );
    assert_eq!(
        v["clusters"].as_array().unwrap().len(),
        1,
        "the passing run's line: {v:#}"
    );
    let out = p.cars_ok(&["rules", "suggest", "--write"]);
    assert!(
        out.contains("suggested.toml") && out.contains("ok:"),
        "{out}"
    );
    let draft = p.read(".cars/patterns/suggested.toml");
    assert!(draft.contains("keywords = [\"Segfault\"]"), "{draft}");
}

#[test]
fn a_label_and_train_teach_the_classifier_a_category_no_rule_names() {
    let p = Project::new(&[("src/main.rs", MAIN)]);
    let category_of_first = |p: &Project, line: &str| -> String {
        let log = p.log(&format!("step 1\n{line}\n"));
        let out = p.cars(&["analyze", log.to_str().unwrap(), "--format", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["findings"][0]["category"].as_str().unwrap().to_string()
    };
    let before = category_of_first(&p, "ERROR: flux capacitor overheated in chamber 7");
    assert_ne!(before, "deployment");
    let log = p.log("step 1\nERROR: flux capacitor overheated in chamber 7\n");
    p.cars(&["analyze", log.to_str().unwrap()]);
    let out = p.cars_ok(&["label", "E1", "deployment"]);
    assert!(out.contains("recorded as deployment"), "{out}");
    let out = p.cars_ok(&["learn", "train"]);
    assert!(out.contains("1 correction"), "{out}");
    // The same kind of error, another chamber: now the classifier knows it.
    assert_eq!(
        category_of_first(&p, "ERROR: flux capacitor overheated in chamber 9"),
        "deployment"
    );
    // A bad category is a usage error naming the valid ones.
    let out = p.cars(&["label", "E1", "weather"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("deployment"),
        "{}",
        text(&out.stderr)
    );
}
