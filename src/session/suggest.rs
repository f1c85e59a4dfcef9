//! `cars rules suggest`: the unknown errors of recorded sessions (findings only the
//! generic rules explain), clustered by template, with draft rules for the frequent
//! ones. Lines that also occur in the last passing run of the same command (a run
//! whose exit status said it passed) are left out: they are the build's usual noise,
//! not its errors.

use super::{Result, Session};
use crate::learn::drain::{self, Cluster};
use serde::Serialize;

/// Rules that only generic keywords matched: what no real rule names.
const GENERIC: &[&str] = &[
    "generic.error",
    "generic.shouted-summary",
    "cars.failure-context",
];

#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    #[serde(flatten)]
    pub cluster: Cluster,
    pub template: String,
    pub regex: String,
    pub keyword: Option<String>,
    pub category: crate::rules::model::Category,
    /// Back-test: stored finding lines outside the cluster the regex also matches.
    pub false_matches: usize,
    pub lines_tested: usize,
}

impl Session {
    /// Clusters of unknown error lines across the project's sessions, most frequent
    /// first, each with a proposed regex, keyword and category, back-tested.
    pub fn suggest_rules(&self) -> Result<Vec<Suggestion>> {
        let sessions = self.store.sessions()?;
        let mut unknown: Vec<(i64, String)> = Vec::new();
        let mut all: Vec<(i64, String)> = Vec::new();
        // The masked lines of the newest passing run of each command.
        type Masked = Vec<Vec<String>>;
        let mut passing: std::collections::HashMap<String, (i64, Masked)> = Default::default();
        let first_line = |f: &crate::analyze::Finding| {
            f.excerpt
                .first()
                .cloned()
                .unwrap_or_else(|| f.message.clone())
        };
        let mut runs = Vec::new();
        for s in &sessions {
            let findings = self.store.findings(s.id)?;
            for f in &findings {
                all.push((s.id, first_line(f)));
            }
            if let (Some(true), Some(cmd)) = (s.passed, &s.command) {
                let newest = passing.get(cmd).is_none_or(|(at, _)| *at < s.created_at);
                if newest {
                    let masked = findings
                        .iter()
                        .map(|f| drain::mask(&first_line(f)))
                        .collect();
                    passing.insert(cmd.clone(), (s.created_at, masked));
                }
            } else {
                runs.push((s, findings));
            }
        }
        for (s, findings) in &runs {
            for f in findings
                .iter()
                .filter(|f| GENERIC.contains(&f.rule.as_str()))
            {
                let line = first_line(f);
                let noise = s
                    .command
                    .as_ref()
                    .and_then(|c| passing.get(c))
                    .is_some_and(|(_, p)| p.contains(&drain::mask(&line)));
                if !noise {
                    unknown.push((s.id, line));
                }
            }
        }
        let clusters = drain::cluster(unknown.iter().map(|(s, l)| (*s, l.as_str())));
        Ok(clusters
            .into_iter()
            .map(|c| {
                let regex = c.regex();
                let (false_matches, lines_tested) = back_test(&regex, &c, &all);
                Suggestion {
                    template: c.template_text(),
                    keyword: c.keyword(),
                    category: crate::analyze::classify::classify(&c.examples.join("\n")),
                    regex,
                    false_matches,
                    lines_tested,
                    cluster: c,
                }
            })
            .collect())
    }
}

/// How many stored lines outside the cluster the regex matches.
fn back_test(regex: &str, c: &Cluster, lines: &[(i64, String)]) -> (usize, usize) {
    let Ok(re) = regex::Regex::new(regex) else {
        return (0, 0);
    };
    let template = &c.template;
    let outside = lines
        .iter()
        .filter(|(_, l)| re.is_match(l))
        .filter(|(_, l)| {
            let m = drain::mask(l);
            m.len() != template.len()
                || m.iter()
                    .zip(template)
                    .any(|(a, b)| b != drain::WILD && a != b)
        })
        .count();
    (outside, lines.len())
}

/// A draft rule file (TOML) for the suggestions, each with its examples as samples.
pub fn draft_rules(suggestions: &[Suggestion]) -> String {
    let mut out = String::from(
        "# Drafts written by `cars rules suggest --write` from unknown errors in recorded\n\
         # sessions. Review each: give it a real id, tool, category and explanation.\n",
    );
    for (i, s) in suggestions.iter().enumerate() {
        let Some(keyword) = &s.keyword else { continue };
        let toml_str = |v: &str| toml::Value::String(v.to_string()).to_string();
        out.push_str(&format!(
            "\n[[rule]]\nid = \"local.suggested-{}\"\ntool = \"local\"\ncategory = \"{}\"\nseverity = \"medium\"\nconfidence = 0.6\nkeywords = [{}]\nregex = {}\nexplanation = {}\n",
            i + 1,
            s.category,
            toml_str(keyword),
            toml_str(&s.regex),
            toml_str(&format!(
                "Seen {} times in {} sessions ({} other stored lines match): {{message}}",
                s.cluster.count, s.cluster.sessions, s.false_matches
            )),
        ));
        for e in &s.cluster.examples {
            out.push_str(&format!("[[rule.sample]]\nline = {}\n", toml_str(e.trim())));
        }
    }
    out
}
