//! Reports: the serde model of an analysis (`cars/analysis/v1`) and its writers for
//! table, json, markdown, text, sarif and github; `session` reports a whole session,
//! `detail` one finding, `repair` patches and history. Writers take `impl Write`;
//! they never decide where output goes.

pub mod detail;
mod github;
pub mod heal;
mod markdown;
mod md;
pub mod paths;
pub mod repair;
mod sarif;
pub mod session;
mod table;
mod text;

use crate::analyze::{Analysis, Finding};
use crate::rules::model::Level;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

pub const SCHEMA: &str = "cars/analysis/v1";

/// Output formats of `cars analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Markdown,
    Text,
    Sarif,
    Github,
}

/// Counts shown under the findings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub by_category: BTreeMap<String, u64>,
    pub by_severity: BTreeMap<String, u64>,
    pub by_step: BTreeMap<String, u64>,
}

impl Summary {
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Summary {
        let mut summary = Summary::default();
        for f in findings {
            *summary
                .by_category
                .entry(f.category.to_string())
                .or_default() += 1;
            *summary
                .by_severity
                .entry(f.severity.to_string())
                .or_default() += 1;
            if let Some(step) = &f.step {
                *summary.by_step.entry(step.clone()).or_default() += 1;
            }
        }
        summary
    }
}

/// What is written: the analysis after filters.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub source: String,
    pub lines: u64,
    pub findings: Vec<Finding>,
    pub summary: Summary,
    /// How the human-facing formats show file paths; JSON keeps them as reported.
    #[serde(skip)]
    pub paths: paths::ProjectPaths,
}

/// Which findings to keep.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub min_confidence: Option<f64>,
    pub categories: Vec<crate::rules::model::Category>,
    pub top: Option<usize>,
}

impl Report {
    /// Applies the filter (rank order is kept; ids and ranks stay those of the full
    /// analysis so that `E3` means the same finding whatever the filter).
    pub fn new(analysis: Analysis, filter: &Filter) -> Report {
        let mut findings: Vec<Finding> = analysis
            .findings
            .into_iter()
            .filter(|f| filter.min_confidence.is_none_or(|m| f.confidence >= m))
            .filter(|f| filter.categories.is_empty() || filter.categories.contains(&f.category))
            .collect();
        if let Some(top) = filter.top {
            findings.truncate(top);
        }
        let summary = Summary::of(&findings);
        Report {
            schema: SCHEMA,
            source: analysis.source,
            lines: analysis.lines,
            findings,
            summary,
            paths: paths::ProjectPaths::default(),
        }
    }

    /// Shows file paths relative to the project at `root` (CI runner paths included).
    pub fn in_project(mut self, root: &std::path::Path) -> Report {
        self.paths = paths::ProjectPaths::new(Some(root));
        self
    }

    /// `file:line:column` of `f`, the file relative to the project.
    pub fn location_text(&self, f: &Finding) -> String {
        self.paths.location_text(f.location.as_ref())
    }

    /// `f.explanation` with the reported file path shown as `location_text` shows it
    /// (rules often repeat `{file}` in the explanation).
    pub fn explanation(&self, f: &Finding) -> String {
        self.paths.explanation(f)
    }

    /// True when at least one reported finding is an error (exit status 1).
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.level == Level::Error)
    }
}

/// How human-facing formats are laid out.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Terminal width for tables; `None` lets the table take what it needs.
    pub width: Option<u16>,
}

/// Writes `report` in `format`.
pub fn write(report: &Report, format: Format, style: Style, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        Format::Table => table::write(report, style, out),
        Format::Markdown => markdown::write(report, out),
        Format::Text => text::write(report, out),
        Format::Sarif => sarif::write(report, out),
        Format::Github => github::write(report, out),
    }
}

/// `file:line:column`, as far as known, with the file as reported.
pub fn location_text(f: &Finding) -> String {
    format_location(f.location.as_ref())
}

/// `file:line:column`, as far as known; empty for `None`.
pub fn format_location(location: Option<&crate::analyze::Location>) -> String {
    match location {
        None => String::new(),
        Some(l) => {
            let mut s = l.file.clone();
            if let Some(line) = l.line {
                s.push_str(&format!(":{line}"));
                if let Some(c) = l.column {
                    s.push_str(&format!(":{c}"));
                }
            }
            s
        }
    }
}

/// `1 finding`, `2 findings`, `0 patches`: `n` and `noun` in the right number. Nouns
/// ending in s, x, ch or sh take `es`; callers pass singular nouns.
pub fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        return format!("1 {noun}");
    }
    let es = ["s", "x", "ch", "sh"].iter().any(|end| noun.ends_with(end));
    format!("{n} {noun}{}", if es { "es" } else { "s" })
}

/// Shortens `s` to at most `max` characters, marking the cut with `…`.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn counts_line(map: &BTreeMap<String, u64>) -> String {
    let mut v: Vec<(&String, &u64)> = map.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    v.iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn one_finding_is_not_one_findings() {
        assert_eq!(plural(1, "finding"), "1 finding");
        assert_eq!(plural(0, "finding"), "0 findings");
        assert_eq!(plural(2, "error"), "2 errors");
        assert_eq!(plural(1, "patch"), "1 patch");
        assert_eq!(plural(3, "patch"), "3 patches");
        assert_eq!(plural(1, "line"), "1 line");
    }
}
