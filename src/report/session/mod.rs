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

mod markdown;
mod text;

use markdown::write_markdown;
use text::write_text;

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
