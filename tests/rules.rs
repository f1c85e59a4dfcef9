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

/// Every category table parses and compiles, and every entry's samples (real tool
/// output) resolve, through all tables in their real order, to that entry: an entry
/// shadowed by an earlier one would fail here.
#[test]
fn every_category_table_sample_resolves_to_its_entry() {
    use cars::analyze::category::{builtin_files, parse_table, Tables};
    let tables = Tables::parse(builtin_files()).unwrap_or_else(|e| panic!("{e}"));
    let mut problems = Vec::new();
    let mut entries = 0;
    for (name, text) in builtin_files() {
        let spec = parse_table(name, text).unwrap();
        for (i, entry) in spec.entries.iter().enumerate() {
            entries += 1;
            let ours = format!("{name}: {} (", entry.why);
            if entry.samples.is_empty() {
                problems.push(format!("{name} entry {}: no sample", i + 1));
            }
            let sources: HashSet<&str> = entry.samples.iter().map(|s| s.source.as_str()).collect();
            if sources.len() < 2 || !sources.iter().any(|s| s.starts_with("run: ")) {
                problems.push(format!(
                    "{name} entry {} ({}): needs samples from two sources, one a `run: ` of the tool",
                    i + 1,
                    entry.why
                ));
            }
            for sample in &entry.samples {
                match tables.resolve(&sample.diagnostic(entry)) {
                    Some(v) if v.category == entry.category && v.reason.starts_with(&ours) => {}
                    other => problems.push(format!(
                        "{name} entry {} ({}): sample {:?} resolves to {other:?}",
                        i + 1,
                        entry.why,
                        sample.message
                    )),
                }
            }
        }
    }
    assert!(entries > 0);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
