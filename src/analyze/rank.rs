//! Turns candidates into ranked findings: confidence from rule, evidence and context;
//! root causes before consequences, errors before warnings, the failed step first.
//!
//! confidence = clamp(base × evidence + context, 0.01, 0.99), where
//!   evidence: parser with location 1.00, rule with location or test 0.95,
//!             rule on a keyword line 0.85, fallback (no rule) 0.70;
//!   context:  +0.05 in a step that failed, −0.15 in a step that passed while
//!             another failed, +0.03 when the step name mentions the tool;
//!   consequences (summaries of an earlier error) are then halved.

use super::category::{Diagnostic, Tables};
use super::{mask, Candidate, Evidence, Finding, LineRange, Location, Step};
use crate::rules::model::{Category, Level, Severity};
use crate::rules::{render_explanation, RuleSet};
use std::collections::HashMap;

pub(crate) fn message_of(c: &Candidate) -> String {
    c.captures
        .get("message")
        .cloned()
        .or_else(|| c.excerpt.first().map(|l| l.trim().to_string()))
        .unwrap_or_default()
}

/// Identity of a finding: the rule, the message with run-specific parts masked, and
/// the source location (the same message at two places is two findings; the same
/// line repeated by retries is one finding with more occurrences).
pub(crate) fn fingerprint(rule_id: &str, c: &Candidate) -> u64 {
    let get = |k: &str| c.captures.get(k).map(String::as_str).unwrap_or("");
    mask::hash_str(&[
        rule_id,
        &mask::mask(&message_of(c)),
        get("file"),
        get("line"),
        get("test"),
    ])
}

struct Scored {
    finding: Finding,
    in_failed_step: bool,
    start: u64,
}

pub(crate) fn rank(rules: &RuleSet, cands: Vec<Candidate>, steps: &[Step]) -> Vec<Finding> {
    let any_failed = steps.iter().any(|s| s.failed);
    let cands = merge_tests(cands);
    let mut scored: Vec<Scored> = cands
        .into_iter()
        .map(|c| {
            let step = c.step.map(|i| &steps[i]);
            let in_failed_step = step.is_some_and(|s| s.failed);
            let finding = to_finding(rules, c, step, any_failed);
            Scored {
                finding,
                in_failed_step,
                start: 0,
            }
        })
        .collect();
    for s in &mut scored {
        s.start = s.finding.log_lines.start;
    }
    scored.sort_by(|a, b| {
        let key = |s: &Scored| {
            (
                s.finding.consequence,
                s.finding.level == Level::Warning,
                any_failed && !s.in_failed_step,
            )
        };
        key(a)
            .cmp(&key(b))
            .then(b.finding.confidence.total_cmp(&a.finding.confidence))
            .then(a.start.cmp(&b.start))
    });
    scored
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let mut f = s.finding;
            f.rank = i + 1;
            f.id = format!("E{}", i + 1);
            f
        })
        .collect()
}

/// A failed test often shows up twice (its failure block and a summary line): keep
/// one finding per test, filling gaps from the other.
fn merge_tests(cands: Vec<Candidate>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::with_capacity(cands.len());
    let mut by_test: HashMap<String, usize> = HashMap::new();
    for c in cands {
        let key = c.captures.get("test").map(|t| test_key(t));
        match key.as_ref().and_then(|k| by_test.get(k)) {
            Some(&i) => {
                let kept = &mut out[i];
                // The better-evidenced sighting (the failure block with a location,
                // not the one-line summary) gives the finding its lines and excerpt;
                // on a tie, the one that names a file.
                let located = |x: &Candidate| x.captures.contains_key("file");
                if c.evidence > kept.evidence
                    || (c.evidence == kept.evidence && located(&c) && !located(kept))
                {
                    kept.start = c.start;
                    kept.end = c.end;
                    kept.excerpt = c.excerpt.clone();
                    kept.step = c.step;
                }
                for (k, v) in c.captures {
                    kept.captures.entry(k).or_insert(v);
                }
                kept.evidence = kept.evidence.max(c.evidence);
                kept.occurrences += c.occurrences;
            }
            None => {
                if let Some(k) = key {
                    by_test.insert(k, out.len());
                }
                out.push(c);
            }
        }
    }
    out
}

/// A rule that reads a test as JUnit names it, a class and a method (gradle's
/// `Class > method FAILED`), captures `test_class` and `test_name`; the test is then
/// `Class.method`, the id surefire prints and `--tests` filters take.
pub(crate) fn join_test_id(captures: &mut std::collections::BTreeMap<String, String>) {
    if captures.contains_key("test") {
        return;
    }
    if let (Some(class), Some(name)) = (captures.get("test_class"), captures.get("test_name")) {
        let id = format!("{class}.{name}");
        captures.insert("test".to_string(), id);
    }
}

/// `tests/test_x.py::TestA::test_b`, `TestA.test_b`, `test_b (tests.TestA)` all key as
/// `test_b`. Titles with spaces (jest, mocha, vitest: `Suite › does x`) are kept whole,
/// so two tests of one suite never merge. Parameters stay: `test_b[1]` and `test_b[2]`
/// are two tests.
fn test_key(test: &str) -> String {
    let t = test.trim();
    // `name[params]`: the key of `name`, then the parameters as printed.
    if let Some(open) = t.find('[') {
        if t.ends_with(']') && !t[..open].contains(char::is_whitespace) {
            return format!("{}{}", test_key(&t[..open]), &t[open..]);
        }
    }
    // unittest: `test_b (tests.test_x.TestA)`
    let t = match t.split_once(" (") {
        Some((name, rest)) if rest.ends_with(')') && !name.contains(' ') => name,
        _ => t,
    };
    if t.contains(char::is_whitespace) {
        return t.to_string();
    }
    let t = t.split('(').next().unwrap_or(t);
    // Erlang names carry an arity: `mod:fun/0`.
    let t = match t.rsplit_once('/') {
        Some((name, arity)) if !arity.is_empty() && arity.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => t,
    };
    t.rsplit([':', '.', '/', '#', '>'])
        .find(|s| !s.is_empty())
        .unwrap_or(t)
        .to_string()
}

fn to_finding(rules: &RuleSet, c: Candidate, step: Option<&Step>, any_failed: bool) -> Finding {
    let rule = c.rule.map(|r| &rules.rules[r as usize].spec);
    let message = message_of(&c);
    let (rule_id, tool, category, severity, base, consequence) = match rule {
        Some(r) => (
            r.id.clone(),
            r.tool.clone(),
            r.category,
            r.severity,
            r.confidence,
            r.consequence,
        ),
        None => (
            "cars.failure-context".to_string(),
            "ci".to_string(),
            c.category.unwrap_or(Category::Unknown),
            Severity::High,
            0.6,
            false,
        ),
    };
    let level = match c.captures.get("level").map(|l| l.to_ascii_lowercase()) {
        Some(l) if l.starts_with("warn") => Level::Warning,
        Some(l) if l.starts_with("err") || l.starts_with("fatal") => Level::Error,
        _ => rule.map(|r| r.level).unwrap_or(Level::Error),
    };
    let evidence = match c.evidence {
        Evidence::Parsed => 1.0,
        Evidence::Located => 0.95,
        Evidence::Keyword => 0.85,
        Evidence::Fallback => 0.70,
    };
    let mut context = 0.0;
    if let Some(s) = step {
        if s.failed {
            context += 0.05;
        } else if any_failed {
            context -= 0.15;
        }
        if s.name
            .to_ascii_lowercase()
            .contains(&tool.to_ascii_lowercase())
        {
            context += 0.03;
        }
    }
    let mut confidence = (base * evidence + context).clamp(0.01, 0.99);
    if consequence {
        confidence /= 2.0;
    }
    let confidence = (confidence * 100.0).round() / 100.0;
    let location = c.captures.get("file").map(|f| Location {
        file: f.clone(),
        line: c.captures.get("line").and_then(|l| l.parse().ok()),
        column: c.captures.get("column").and_then(|l| l.parse().ok()),
    });
    let explanation = match rule {
        Some(r) => render_explanation(&r.explanation, &|name| {
            c.captures
                .get(name)
                .cloned()
                .or_else(|| (name == "message").then(|| message.clone()))
        }),
        None => format!(
            "The step failed and no rule explains why; this is the nearest line before the failure that reads like an error: {message}"
        ),
    };
    // The diagnostic, not the rule, decides: one rule reads many kinds of error.
    let verdict = Tables::builtin().and_then(|t| {
        t.resolve(&Diagnostic {
            tool: &tool,
            category,
            code: c.captures.get("code").map(String::as_str),
            message: &message,
            lines: &c.excerpt,
        })
    });
    let (category, category_reason) = match verdict {
        Some(v) => (v.category, Some(v.reason)),
        // Only generic words matched: the fallback classifier (cue words, then the
        // naive-Bayes model) proposes a category from the block's text.
        None if category == Category::Unknown && rule.is_some() => {
            match super::classify::fallback_guess(&c.excerpt.join("\n")) {
                None => (category, None),
                Some((guess, why)) => (
                    guess,
                    Some(format!(
                        "no rule names it: the fallback classifier's guess ({why})"
                    )),
                ),
            }
        }
        // The failure-context fallback was categorized from its line when it was made.
        None if rule.is_none() => {
            let why = c
                .captures
                .get("message")
                .and_then(|m| super::classify::fallback_guess(m))
                .filter(|(guess, _)| *guess == category)
                .map(|(_, why)| format!("the fallback classifier's guess ({why})"));
            (category, why)
        }
        None => (category, None),
    };
    let fingerprint = format!("{:016x}", fingerprint(&rule_id, &c));
    Finding {
        id: String::new(),
        rank: 0,
        level,
        category,
        category_reason,
        severity,
        confidence,
        tool,
        rule: rule_id,
        message,
        location,
        test: c.captures.get("test").cloned(),
        log_lines: LineRange {
            start: c.start,
            end: c.end,
        },
        step: step.map(|s| s.name.clone()),
        fingerprint,
        occurrences: c.occurrences,
        explanation,
        flaky: None,
        excerpt: c.excerpt,
        consequence,
        captures: c.captures,
    }
}

#[cfg(test)]
mod tests {
    use super::{join_test_id, test_key};

    #[test]
    fn a_class_and_a_method_make_the_test_id() {
        let mut c = std::collections::BTreeMap::new();
        c.insert("test_class".to_string(), "com.acme.FooTest".to_string());
        c.insert("test_name".to_string(), "adds[1: 2]".to_string());
        join_test_id(&mut c);
        assert_eq!(c["test"], "com.acme.FooTest.adds[1: 2]");
        // A test already named is left alone.
        c.insert("test".to_string(), "FooTest > adds".to_string());
        join_test_id(&mut c);
        assert_eq!(c["test"], "FooTest > adds");
    }

    #[test]
    fn test_names_in_different_spellings_share_a_key() {
        assert_eq!(test_key("tests/test_x.py::TestA::test_b"), "test_b");
        assert_eq!(test_key("tests/test_x.py::test_b[1-2]"), "test_b[1-2]");
        assert_eq!(test_key("com.acme.T.test_b[0: a.B c]"), "test_b[0: a.B c]");
        assert_ne!(test_key("T.test_b[1]"), test_key("T.test_b[2]"));
        assert_eq!(test_key("test_b (tests.test_x.TestA)"), "test_b");
        assert_eq!(test_key("com.acme.FooTest.test_b"), "test_b");
        assert_ne!(test_key("Suite › does a"), test_key("Suite › does b"));
        assert_ne!(
            test_key("mod_tests:parses_test/0"),
            test_key("mod_tests:rejects_test/0")
        );
        assert_ne!(
            test_key("vt/a.test.ts > s > t1"),
            test_key("vt/a.test.ts > s > t2")
        );
    }
}
