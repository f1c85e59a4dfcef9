//! Every shipped pattern file parses, every rule is valid, and every rule's sample
//! lines produce a finding from that rule with the captures the sample promises.

use cars::analyze::check::check_samples;
use cars::rules::{builtin_files, parse_rules, validate, RuleSet};
use std::collections::HashSet;

#[test]
fn every_shipped_rule_file_parses_and_validates() {
    let mut ids = HashSet::new();
    let mut count = 0;
    for (name, text) in builtin_files() {
        let specs = parse_rules(name, text).unwrap_or_else(|e| panic!("{e}"));
        for spec in specs {
            validate(&spec, name).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                ids.insert(spec.id.clone()),
                "{name}: duplicate rule id {}",
                spec.id
            );
            count += 1;
        }
    }
    assert!(count > 0);
}

#[test]
fn every_rule_sample_matches_its_rule() {
    let rules = RuleSet::builtin().unwrap();
    let problems = check_samples(&rules, &|_| true);
    let report: Vec<String> = problems
        .iter()
        .map(|p| format!("{} ({}): {}\n    {}", p.rule, p.origin, p.problem, p.line))
        .collect();
    assert!(
        problems.is_empty(),
        "{} sample problems:\n{}",
        problems.len(),
        report.join("\n")
    );
}
