//! Checks rules against their own samples by running the real analyzer on them: a
//! sample passes when its first line yields a finding from that very rule (not one
//! shadowed by another rule) with the expected captures.

use super::{Analyzer, Matcher, Options};
use crate::rules::RuleSet;

/// A sample that did not produce what its rule promises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleProblem {
    pub rule: String,
    pub origin: String,
    pub line: String,
    pub problem: String,
}

/// Checks the samples of every rule for which `select` returns true.
pub fn check_samples(rules: &RuleSet, select: &dyn Fn(&str) -> bool) -> Vec<SampleProblem> {
    let matcher = Matcher::new(rules);
    let opts = Options::default();
    let mut problems = Vec::new();
    for rule in rules.rules.iter().filter(|r| select(&r.spec.id)) {
        for sample in &rule.spec.samples {
            let problem = |what: String| SampleProblem {
                rule: rule.spec.id.clone(),
                origin: rule.origin.clone(),
                line: sample.line.clone(),
                problem: what,
            };
            if rule.regex().is_none() {
                problems.push(problem("regex does not compile".into()));
                continue;
            }
            let mut text = String::new();
            for b in &sample.before {
                text.push_str(b);
                text.push('\n');
            }
            text.push_str(&sample.line);
            for a in &sample.after {
                text.push('\n');
                text.push_str(a);
            }
            text.push('\n');
            let mut analyzer = Analyzer::new(&matcher, &opts, "sample".into());
            if rule.spec.ignore {
                match analyzer.try_rules(&sample.line) {
                    Some((ri, _)) if rules.rules[ri as usize].spec.id == rule.spec.id => {}
                    Some((ri, _)) => problems.push(problem(format!(
                        "matched by `{}` instead",
                        rules.rules[ri as usize].spec.id
                    ))),
                    None => problems.push(problem("no rule matches the line".into())),
                }
                continue;
            }
            analyzer.feed(text.as_bytes());
            analyzer.close_block();
            let at = sample.before.len() as u64 + 1;
            let first = analyzer.cands.iter().find(|c| c.start == at);
            let Some(cand) = first else {
                problems.push(problem("produced no finding".into()));
                continue;
            };
            let got = cand
                .rule
                .map(|r| rules.rules[r as usize].spec.id.as_str())
                .unwrap_or("(none)");
            if got != rule.spec.id {
                problems.push(problem(format!("matched by `{got}` instead")));
                continue;
            }
            for (k, want) in &sample.captures {
                match cand.captures.get(k) {
                    Some(v) if v == want => {}
                    Some(v) => problems.push(problem(format!(
                        "capture `{k}`: expected {want:?}, got {v:?}"
                    ))),
                    None => problems.push(problem(format!(
                        "capture `{k}`: expected {want:?}, got nothing"
                    ))),
                }
            }
        }
    }
    problems
}
