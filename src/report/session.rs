//! The report of one session (`cars export`, schema `cars/session/v1`): its findings,
//! the patches proposed for them, the decisions taken and what applying them did.
//! Built from the store only; written as markdown, json or plain text.

use super::paths::ProjectPaths;
use super::repair::{format_duration, format_time};
use super::{md, plural, truncate, Summary};
use crate::analyze::Finding;
use crate::fix::Strategy;
use crate::store::{AppState, Decision, PatchStatus, Store, StoreError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

pub const SCHEMA: &str = "cars/session/v1";

/// Lines of the text format are at most this many characters.
pub const TEXT_WIDTH: usize = 100;

/// Output formats of `cars export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Markdown,
    Json,
    Text,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionReport {
    pub schema: &'static str,
    pub session: SessionInfo,
    pub summary: SessionSummary,
    pub findings: Vec<FindingEntry>,
    pub patches: Vec<PatchEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    pub id: i64,
    /// Unix milliseconds.
    pub created_at: i64,
    pub source: String,
    pub project: String,
    pub command: Option<String>,
    pub log_lines: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionSummary {
    pub findings: u64,
    #[serde(flatten)]
    pub counts: Summary,
    pub analysis_ms: u64,
    pub first_finding_ms: Option<u64>,
    pub patches: PatchCounts,
}

/// Patches by what ever happened to them: one that failed validation and later
/// passed counts as both failed and validated.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PatchCounts {
    pub proposed: u64,
    pub approved: u64,
    pub rejected: u64,
    /// Written to the files at least once.
    pub applied: u64,
    pub validated: u64,
    /// Failed validation (and were rolled back at once).
    pub failed: u64,
    /// Undone by `cars rollback`.
    pub rolled_back: u64,
}

/// The `cars/analysis/v1` finding object and its log excerpt.
#[derive(Debug, Clone, Serialize)]
pub struct FindingEntry {
    #[serde(flatten)]
    pub finding: Finding,
    pub excerpt: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PatchEntry {
    pub id: String,
    pub finding: String,
    pub rule: String,
    pub strategy: Strategy,
    pub origin: String,
    pub confidence: f64,
    pub rationale: String,
    pub status: PatchStatus,
    pub files: Vec<String>,
    pub diff: String,
    pub decisions: Vec<Decision>,
    /// The last application; `None` when never applied.
    pub outcome: Option<PatchOutcome>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PatchOutcome {
    /// How many times the patch was applied.
    pub attempts: usize,
    pub state: AppState,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub validation_command: Option<String>,
    /// `None`: not validated.
    pub validation_passed: Option<bool>,
    pub commit: Option<String>,
    pub revert_commit: Option<String>,
}

impl SessionReport {
    pub fn load(store: &Store, session: i64) -> Result<SessionReport, StoreError> {
        let row = store.session(session)?;
        let findings = store.findings(session)?;
        let mut counts = PatchCounts::default();
        let mut patches = Vec::new();
        for p in store.patches(session)? {
            let decisions = store.decisions(p.key)?;
            let apps = store.applications(p.key)?;
            let h = store.patch_history(p.key)?;
            counts.proposed += 1;
            counts.approved += u64::from(h.approved);
            counts.rejected += u64::from(h.rejected);
            counts.applied += u64::from(h.applied);
            counts.validated += u64::from(h.validated);
            counts.failed += u64::from(h.failed);
            counts.rolled_back += u64::from(h.rolled_back);
            let outcome = apps.last().map(|a| PatchOutcome {
                attempts: apps.len(),
                state: a.state,
                started_at: a.started_at,
                finished_at: a.finished_at,
                validation_command: a.validation_cmd.clone(),
                validation_passed: a.validation_ok,
                commit: a.commit_id.clone(),
                revert_commit: a.revert_commit.clone(),
            });
            patches.push(PatchEntry {
                id: p.id,
                finding: p.patch.finding.clone(),
                rule: p.patch.rule.clone(),
                strategy: p.patch.strategy,
                origin: p.patch.origin.clone(),
                confidence: p.patch.confidence,
                rationale: p.patch.rationale.clone(),
                status: p.status,
                files: p.patch.files.iter().map(|f| f.path.clone()).collect(),
                diff: p.patch.redacted_diff(),
                decisions,
                outcome,
            });
        }
        Ok(SessionReport {
            schema: SCHEMA,
            summary: SessionSummary {
                findings: findings.len() as u64,
                counts: Summary::of(&findings),
                analysis_ms: row.analysis_ms,
                first_finding_ms: row.first_finding_ms,
                patches: counts,
            },
            session: SessionInfo {
                id: row.id,
                created_at: row.created_at,
                source: row.source,
                project: row.project,
                command: row.command,
                log_lines: row.log_lines,
            },
            findings: findings
                .into_iter()
                .map(|mut f| FindingEntry {
                    excerpt: std::mem::take(&mut f.excerpt),
                    finding: f,
                })
                .collect(),
            patches,
        })
    }

    /// File paths relative to the session's project (runner paths included).
    fn paths(&self) -> ProjectPaths {
        ProjectPaths::new(Some(std::path::Path::new(&self.session.project)))
    }

    fn patches_of(&self, finding: &str) -> Vec<&str> {
        self.patches
            .iter()
            .filter(|p| p.finding == finding)
            .map(|p| p.id.as_str())
            .collect()
    }
}

/// Writes `report` in `format`.
pub fn write(report: &SessionReport, format: ExportFormat, out: &mut dyn Write) -> io::Result<()> {
    match format {
        ExportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        ExportFormat::Markdown => write_markdown(report, out),
        ExportFormat::Text => write_text(report, out),
    }
}

impl FindingEntry {
    /// The excerpt without the blank lines that end it.
    fn excerpt(&self) -> &[String] {
        let keep = self
            .excerpt
            .iter()
            .rposition(|l| !l.trim().is_empty())
            .map_or(0, |i| i + 1);
        &self.excerpt[..keep]
    }

    fn log_range(&self) -> String {
        let r = self.finding.log_lines;
        if r.start == r.end {
            r.start.to_string()
        } else {
            format!("{}-{}", r.start, r.end)
        }
    }
}

fn decision_text(d: &Decision) -> String {
    let verb = if d.approve { "approved" } else { "rejected" };
    let mut s = format!("{verb} by {} at {} UTC", d.actor, format_time(d.at));
    if let Some(r) = &d.reason {
        s.push_str(&format!(": {r}"));
    }
    s
}

/// The outcome as a sentence; `code` renders a command or commit id.
fn outcome_text(o: Option<&PatchOutcome>, code: &dyn Fn(&str) -> String) -> String {
    let Some(o) = o else {
        return "not applied.".into();
    };
    let at = |ms: i64| format!("{} UTC", format_time(ms));
    let started = at(o.started_at);
    let first = match o.state {
        AppState::Interrupted => format!("interrupted at {started}; the originals were restored"),
        AppState::Applying | AppState::Validating | AppState::RollingBack => {
            format!("unfinished (started {started})")
        }
        AppState::Applied | AppState::RolledBack => format!("applied at {started}"),
    };
    let mut parts = vec![if o.attempts > 1 {
        format!("last of {} attempts: {first}", o.attempts)
    } else {
        first
    }];
    if let Some(cmd) = &o.validation_command {
        let verdict = match o.validation_passed {
            Some(true) => "passed",
            Some(false) => "failed",
            None => "not finished",
        };
        parts.push(format!("validation {} {verdict}", code(cmd)));
    }
    if let Some(c) = &o.commit {
        parts.push(format!("commit {}", code(c)));
    }
    match (o.state, o.validation_passed, o.finished_at) {
        (AppState::Applied, ..) => parts.push("in effect".into()),
        (AppState::RolledBack, Some(false), _) => parts.push("rolled back at once".into()),
        (AppState::RolledBack, _, Some(end)) => parts.push(format!("rolled back at {}", at(end))),
        _ => {}
    }
    if let Some(c) = &o.revert_commit {
        parts.push(format!("revert commit {}", code(c)));
    }
    parts.join("; ") + "."
}

fn counts_text(map: &BTreeMap<String, u64>) -> String {
    map.iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn timing_text(r: &SessionReport) -> String {
    let mut s = format!(
        "{}, analysed in {}",
        plural(r.session.log_lines, "log line"),
        format_duration(r.summary.analysis_ms)
    );
    if let Some(ms) = r.summary.first_finding_ms {
        s.push_str(&format!(", first finding after {}", format_duration(ms)));
    }
    s
}

// ---- markdown ----

fn count_rows(map: &BTreeMap<String, u64>) -> Vec<Vec<String>> {
    map.iter()
        .map(|(k, n)| vec![md::inline(k), n.to_string()])
        .collect()
}

fn write_markdown(r: &SessionReport, out: &mut dyn Write) -> io::Result<()> {
    let s = &r.session;
    let paths = r.paths();
    writeln!(out, "# cars session {}: {}\n", s.id, md::code(&s.source))?;
    writeln!(out, "- **created:** {} UTC", format_time(s.created_at))?;
    writeln!(out, "- **project:** {}", md::code(&s.project))?;
    if let Some(cmd) = &s.command {
        writeln!(out, "- **command:** {}", md::code(cmd))?;
    }
    writeln!(out, "- **log:** {}\n", timing_text(r))?;

    writeln!(out, "## Summary\n")?;
    let sum = &r.summary;
    writeln!(
        out,
        "{}, {}.\n",
        plural(sum.findings, "finding"),
        plural(sum.patches.proposed, "patch")
    )?;
    if sum.findings > 0 {
        md::table(
            out,
            &["category", "findings"],
            &count_rows(&sum.counts.by_category),
        )?;
        md::table(
            out,
            &["severity", "findings"],
            &count_rows(&sum.counts.by_severity),
        )?;
        if !sum.counts.by_step.is_empty() {
            md::table(out, &["step", "findings"], &count_rows(&sum.counts.by_step))?;
        }
    }
    let c = &sum.patches;
    let patch_rows: Vec<Vec<String>> = [
        ("proposed", c.proposed),
        ("approved", c.approved),
        ("rejected", c.rejected),
        ("applied", c.applied),
        ("validated", c.validated),
        ("failed validation", c.failed),
        ("rolled back", c.rolled_back),
    ]
    .iter()
    .map(|(k, n)| vec![k.to_string(), n.to_string()])
    .collect();
    md::table(out, &["patches", "count"], &patch_rows)?;

    if r.findings.is_empty() {
        return writeln!(out, "No errors found.");
    }
    writeln!(out, "## Findings\n")?;
    let rows: Vec<Vec<String>> = r
        .findings
        .iter()
        .map(|e| {
            let f = &e.finding;
            let loc = paths.location_text(f.location.as_ref());
            vec![
                f.id.clone(),
                f.level.to_string(),
                f.category.to_string(),
                f.severity.to_string(),
                format!("{:.2}", f.confidence),
                if loc.is_empty() { loc } else { md::code(&loc) },
                md::inline(&truncate(&f.message, 120)),
                r.patches_of(&f.id).join(", "),
            ]
        })
        .collect();
    md::table(
        out,
        &[
            "id",
            "level",
            "category",
            "severity",
            "confidence",
            "location",
            "message",
            "patches",
        ],
        &rows,
    )?;
    for e in &r.findings {
        let f = &e.finding;
        writeln!(
            out,
            "### {}: {}\n",
            f.id,
            md::inline(&truncate(&f.message, 200))
        )?;
        writeln!(
            out,
            "- **rule:** {} ({}), confidence {:.2}",
            md::code(&f.rule),
            md::inline(&f.tool),
            f.confidence
        )?;
        let loc = paths.location_text(f.location.as_ref());
        if !loc.is_empty() {
            writeln!(out, "- **location:** {}", md::code(&loc))?;
        }
        if let Some(t) = &f.test {
            writeln!(out, "- **test:** {}", md::code(t))?;
        }
        if let Some(step) = &f.step {
            writeln!(out, "- **step:** {}", md::inline(step))?;
        }
        let times = if f.occurrences > 1 {
            format!(" ({} times)", f.occurrences)
        } else {
            String::new()
        };
        writeln!(out, "- **log lines:** {}{times}", e.log_range())?;
        let patches = r.patches_of(&f.id);
        if !patches.is_empty() {
            writeln!(out, "- **patches:** {}", patches.join(", "))?;
        }
        writeln!(out, "\n{}\n", md::inline(&paths.explanation(f)))?;
        if !e.excerpt().is_empty() {
            let body = e.excerpt().join("\n");
            let fence = md::fence(&body);
            writeln!(out, "<details><summary>log excerpt</summary>\n")?;
            writeln!(out, "{fence}text\n{body}\n{fence}\n\n</details>\n")?;
        }
    }

    if r.patches.is_empty() {
        return Ok(());
    }
    writeln!(out, "## Patches\n")?;
    for p in &r.patches {
        writeln!(
            out,
            "### {} for {}: {}\n",
            p.id,
            p.finding,
            p.status.as_str()
        )?;
        writeln!(
            out,
            "- **strategy:** {}, confidence {:.2}",
            p.strategy.as_str(),
            p.confidence
        )?;
        writeln!(
            out,
            "- **rule:** {}, from {}",
            md::code(&p.rule),
            md::inline(&p.origin)
        )?;
        let files: Vec<String> = p.files.iter().map(|f| md::code(f)).collect();
        writeln!(out, "- **files:** {}", files.join(", "))?;
        writeln!(out, "\n{}\n", md::inline(&p.rationale))?;
        let body = p.diff.trim_end_matches('\n');
        let fence = md::fence(body);
        writeln!(out, "{fence}diff\n{body}\n{fence}\n")?;
        if p.decisions.is_empty() {
            writeln!(out, "**Decisions:** none.\n")?;
        } else {
            writeln!(out, "**Decisions:**\n")?;
            for d in &p.decisions {
                writeln!(out, "- {}", md::inline(&decision_text(d)))?;
            }
            writeln!(out)?;
        }
        writeln!(
            out,
            "**Outcome:** {}\n",
            outcome_text(p.outcome.as_ref(), &md::code)
        )?;
    }
    Ok(())
}

// ---- text ----

/// A line safe for a terminal: tabs expanded, control characters (ANSI escapes
/// included) shown as `?`.
fn plain(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\t' => {
                let col = out.chars().count();
                out.push_str(&" ".repeat(8 - col % 8));
            }
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// Word-wraps `text` to `width` characters; the first line starts with `first`, the
/// others with `rest`. A word too long for a line of its own is cut.
fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in plain(text).split_whitespace() {
        let mut word = word;
        while !word.is_empty() {
            let (len, wlen) = (line.chars().count(), word.chars().count());
            let gap = usize::from(!empty);
            if len + gap + wlen <= width {
                if !empty {
                    line.push(' ');
                }
                line.push_str(word);
                empty = false;
                break;
            }
            if empty {
                let room = width.saturating_sub(len).max(1);
                let cut = word.char_indices().nth(room).map_or(word.len(), |(i, _)| i);
                line.push_str(&word[..cut]);
                word = &word[cut..];
            }
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            empty = true;
        }
    }
    if !empty || lines.is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// A verbatim line (log, diff) cut into pieces of at most `width` characters, each
/// starting with `indent`.
fn cut(text: &str, width: usize, indent: &str) -> Vec<String> {
    let room = width.saturating_sub(indent.chars().count()).max(1);
    let chars: Vec<char> = plain(text).chars().collect();
    if chars.is_empty() {
        return vec![indent.trim_end().to_string()];
    }
    chars
        .chunks(room)
        .map(|c| format!("{indent}{}", c.iter().collect::<String>()))
        .collect()
}

const IND: &str = "    ";

/// Writes `text` word-wrapped; lines after the first are indented.
fn para(out: &mut dyn Write, text: &str, first: &str) -> io::Result<()> {
    for l in wrap(text, TEXT_WIDTH, first, IND) {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

/// Writes a verbatim line, cut to the width.
fn verbatim(out: &mut dyn Write, text: &str, indent: &str) -> io::Result<()> {
    for l in cut(text, TEXT_WIDTH, indent) {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

fn write_text(r: &SessionReport, out: &mut dyn Write) -> io::Result<()> {
    let s = &r.session;
    let paths = r.paths();
    para(out, &format!("cars session {}: {}", s.id, s.source), "")?;
    para(
        out,
        &format!("created {} UTC", format_time(s.created_at)),
        IND,
    )?;
    para(out, &format!("project {}", s.project), IND)?;
    if let Some(cmd) = &s.command {
        para(out, &format!("command {cmd}"), IND)?;
    }
    para(out, &timing_text(r), IND)?;

    let sum = &r.summary;
    writeln!(out)?;
    para(out, &plural(sum.findings, "finding"), "")?;
    for (name, map) in [
        ("by category:", &sum.counts.by_category),
        ("by severity:", &sum.counts.by_severity),
        ("by step:", &sum.counts.by_step),
    ] {
        if !map.is_empty() {
            para(out, &format!("{name} {}", counts_text(map)), IND)?;
        }
    }
    let c = &sum.patches;
    para(
        out,
        &format!(
            "{}: {} approved, {} rejected, {} applied, {} validated, {} failed validation, {} rolled back",
            plural(c.proposed, "patch"), c.approved, c.rejected, c.applied, c.validated, c.failed, c.rolled_back
        ),
        "",
    )?;

    for e in &r.findings {
        let f = &e.finding;
        writeln!(out)?;
        let loc = paths.location_text(f.location.as_ref());
        let loc = if loc.is_empty() {
            format!("{}:{}", s.source, f.log_lines.start)
        } else {
            loc
        };
        let head = format!(
            "{} {} {} [{}] {:.2} {}: {}",
            f.id, f.level, f.category, f.rule, f.confidence, loc, f.message
        );
        para(out, &head, "")?;
        if let Some(t) = &f.test {
            para(out, &format!("test: {t}"), IND)?;
        }
        if let Some(step) = &f.step {
            para(out, &format!("step: {step}"), IND)?;
        }
        let times = if f.occurrences > 1 {
            format!(" ({} times)", f.occurrences)
        } else {
            String::new()
        };
        para(out, &format!("log lines: {}{times}", e.log_range()), IND)?;
        let patches = r.patches_of(&f.id);
        if !patches.is_empty() {
            para(out, &format!("patches: {}", patches.join(", ")), IND)?;
        }
        para(out, &paths.explanation(f), IND)?;
        for l in e.excerpt() {
            verbatim(out, l, "    | ")?;
        }
    }

    for p in &r.patches {
        writeln!(out)?;
        let head = format!(
            "{} {} for {} {} {:.2} [{}] {}",
            p.id,
            p.status.as_str(),
            p.finding,
            p.strategy.as_str(),
            p.confidence,
            p.rule,
            p.files.join(", ")
        );
        para(out, &head, "")?;
        para(out, &p.rationale, IND)?;
        para(out, &format!("from {}", p.origin), IND)?;
        for d in &p.decisions {
            para(out, &decision_text(d), IND)?;
        }
        let outcome = outcome_text(p.outcome.as_ref(), &|s: &str| format!("`{s}`"));
        para(out, &format!("outcome: {outcome}"), IND)?;
        for l in p.diff.lines() {
            verbatim(out, l, IND)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_long_words() {
        let text = "one two three four five";
        assert_eq!(
            wrap(text, 10, "", "  "),
            ["one two", "  three", "  four", "  five"]
        );
        assert_eq!(wrap("", 10, "> ", "  "), [">"]);
        let long = "x".repeat(25);
        let lines = wrap(&format!("a {long} b"), 10, "", "");
        assert_eq!(lines, ["a", "xxxxxxxxxx", "xxxxxxxxxx", "xxxxx b"]);
        assert!(wrap(&"é".repeat(250), 100, "    ", "    ")
            .iter()
            .all(|l| l.chars().count() <= 100));
    }

    #[test]
    fn cut_keeps_verbatim_lines_whole_and_drops_escapes() {
        assert_eq!(cut("  a  b", 10, "| "), ["|   a  b"]);
        assert_eq!(cut("abcdefgh", 6, "| "), ["| abcd", "| efgh"]);
        assert_eq!(cut("", 6, "    "), [""]);
        // Tabs go to the next multiple of 8; an ANSI escape is not passed through.
        assert_eq!(cut("ab\tc", 40, ""), ["ab      c"]);
        assert_eq!(cut("\x1b[31mred", 40, ""), ["?[31mred"]);
    }
}
