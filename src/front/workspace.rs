//! The actions a user takes on a session, shared by the subcommands (`cars show E3`)
//! and the REPL (`show E3`): each writes to the given output and calls the engine.

use anyhow::{bail, Context};
use cars::analyze::{Analysis, Finding, Matcher, Options};
use cars::log::{LogInput, Source};
use cars::repair::{self, run::ShellRunner, Refusal, RepairError};
use cars::report::{detail, repair as view};
use cars::session::{Approve, Progress, Session, SessionError};
use cars::store::SessionMeta;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

pub struct Workspace {
    /// The engine's session: store, config, gates, rules, templates.
    pub engine: Session,
    pub color: bool,
    pub width: Option<u16>,
    /// Approvals commit with git.
    pub commit: bool,
    /// Who acts: cli, repl.
    pub actor: &'static str,
    findings: Option<(i64, Vec<Finding>)>,
}

/// Progress on stderr: a spinner while a step runs (on a terminal), notes as lines.
pub struct Spinner {
    bar: std::cell::RefCell<Option<indicatif::ProgressBar>>,
}

impl Spinner {
    pub fn new() -> Spinner {
        Spinner {
            bar: std::cell::RefCell::new(None),
        }
    }
}

impl Progress for Spinner {
    fn step(&self, what: &str) {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            *self.bar.borrow_mut() = Some(super::progress::spinner(&format!("{what}...")));
        } else {
            eprintln!("cars: {what}...");
        }
    }
    fn done(&self) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
    }
    fn note(&self, text: &str) {
        eprintln!("cars: {text}");
    }
}

impl Workspace {
    /// Opens the engine session; `session` picks one, else the latest (if any).
    pub fn open(
        store_dir: Option<&Path>,
        session: Option<i64>,
        to_terminal: bool,
    ) -> anyhow::Result<Workspace> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let mut engine = super::open_session(&cwd, store_dir)?;
        if session.is_some() {
            engine.select(session)?;
        }
        Ok(Workspace {
            engine,
            color: super::use_color(to_terminal),
            width: super::table_width(to_terminal),
            commit: false,
            actor: "cli",
            findings: None,
        })
    }

    /// The current session, if any.
    pub fn current(&self) -> Option<i64> {
        self.engine.current().ok()
    }

    pub fn store(&self) -> &cars::store::Store {
        &self.engine.store
    }

    pub fn session(&self) -> anyhow::Result<i64> {
        self.engine
            .current()
            .context("no session yet: `analyze <log>` or `run <command>` starts one")
    }

    /// The session's findings, read once and kept.
    pub fn findings(&mut self) -> anyhow::Result<&[Finding]> {
        let session = self.session()?;
        if self.findings.as_ref().is_none_or(|(s, _)| *s != session) {
            self.findings = Some((session, self.engine.findings()?));
        }
        Ok(&self.findings.as_ref().unwrap().1)
    }

    fn finding(&mut self, id: &str) -> anyhow::Result<Finding> {
        let want = format!("E{}", cars::store::parse_id(id, 'E')?);
        let session = self.session()?;
        self.findings()?
            .iter()
            .find(|f| f.id == want)
            .cloned()
            .with_context(|| format!("no finding {id} in session {session}; `list` shows them"))
    }

    /// Analyzes a log file and makes it the current session.
    pub fn analyze(
        &mut self,
        log: &str,
        command: Option<String>,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let matcher = Matcher::new(self.engine.rules()?);
        let input = LogInput::open(&Source::parse(log))?;
        let analysis = super::progress::while_running("analyzing", || {
            matcher.analyze(input, &Options::default())
        })?;
        self.record(analysis, command, started, None, None, out)
    }

    /// Runs a command, streaming its output with a live count, then analyzes it.
    pub fn run(&mut self, command: &str, out: &mut dyn Write) -> anyhow::Result<()> {
        let mut tee = super::stream::Tee::new(command);
        let ran = self.engine.run(command, None, &mut |stream, line, found| {
            tee.line(stream, line, found)
        });
        tee.finish();
        let ran = ran?;
        self.findings = None;
        writeln!(
            out,
            "`{command}` {} after {} ({})",
            if ran.exit.success {
                "succeeded"
            } else {
                "failed"
            },
            view::format_duration(ran.exit.elapsed.as_millis() as u64),
            cars::report::plural(ran.lines, "line")
        )?;
        self.summarize(ran.session, &ran.analysis, out)
    }

    fn record(
        &mut self,
        analysis: Analysis,
        command: Option<String>,
        started: Instant,
        first_finding_ms: Option<u64>,
        passed: Option<bool>,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let elapsed = started.elapsed().as_millis() as u64;
        let meta = SessionMeta {
            command,
            analysis_ms: elapsed,
            first_finding_ms: first_finding_ms
                .or((!analysis.findings.is_empty()).then_some(elapsed)),
            passed,
        };
        let (id, analysis) = self.engine.record(analysis, &meta, passed)?;
        self.findings = None;
        self.summarize(id, &analysis, out)
    }

    fn summarize(&self, id: i64, analysis: &Analysis, out: &mut dyn Write) -> anyhow::Result<()> {
        let errors = analysis
            .findings
            .iter()
            .filter(|f| f.level == cars::rules::model::Level::Error)
            .count();
        writeln!(
            out,
            "session {id}: {} ({}) in {}",
            cars::report::plural(analysis.findings.len() as u64, "finding"),
            cars::report::plural(errors as u64, "error"),
            cars::report::plural(analysis.lines, "line")
        )?;
        if let Some(top) = analysis.findings.first() {
            writeln!(out, "most likely cause: {} {}", top.id, top.message)?;
        }
        Ok(())
    }

    /// Findings in rank order, or grouped by category, severity or step.
    pub fn list(&mut self, by: Option<&str>, out: &mut dyn Write) -> anyhow::Result<()> {
        if let Some(by) = by {
            if !matches!(by, "category" | "severity" | "step") {
                bail!("list by `category`, `severity` or `step`, not `{by}`");
            }
        }
        let width = self.width;
        let findings = self.findings()?.to_vec();
        match by {
            Some(by) => detail::write_grouped(&findings, by, out)?,
            None => {
                let report = cars::report::Report::new(
                    Analysis {
                        source: String::new(),
                        lines: 0,
                        findings,
                        steps: Vec::new(),
                    },
                    &Default::default(),
                )
                .in_project(&self.engine.store.project_root);
                for f in &report.findings {
                    let loc = report.location_text(f);
                    let line = format!(
                        "{:<4} {:<7} {:<10} {:.2}  {:<28} {}",
                        f.id,
                        f.level.to_string(),
                        f.category.to_string(),
                        f.confidence,
                        cars::report::truncate(&loc, 28),
                        f.message
                    );
                    let max = width.map(usize::from).unwrap_or(usize::MAX);
                    writeln!(out, "{}", cars::report::truncate(&line, max))?;
                }
            }
        }
        Ok(())
    }

    pub fn show(&mut self, id: &str, out: &mut dyn Write) -> anyhow::Result<()> {
        let f = self.finding(id)?;
        detail::write_show(&f, self.engine.root(), self.color, out)?;
        Ok(())
    }

    pub fn explain(&mut self, id: &str, out: &mut dyn Write) -> anyhow::Result<()> {
        let f = self.finding(id)?;
        detail::write_explain(&f, out)?;
        let session = self.session()?;
        let patches: Vec<_> = self
            .engine
            .store
            .patches(session)?
            .into_iter()
            .filter(|p| p.patch.finding == f.id)
            .collect();
        for p in &patches {
            detail::write_calibration(p, out)?;
        }
        Ok(())
    }

    /// Records that finding `id` is of `category`, for `cars learn train`.
    pub fn label(
        &mut self,
        id: &str,
        category: cars::rules::model::Category,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let f = self.finding(id)?;
        let kb = self
            .engine
            .knowledge()
            .context("the knowledge base is not available")?;
        let text = if f.excerpt.is_empty() {
            f.message.clone()
        } else {
            f.excerpt.join("\n")
        };
        kb.label(&text, category, cars::store::now_ms())?;
        writeln!(
            out,
            "{}: recorded as {category} (was {}); `cars learn train` makes the classifier learn it",
            f.id, f.category
        )?;
        Ok(())
    }

    /// Proposes patches for the given findings (all when empty) and prints the table.
    pub fn patch(&mut self, ids: &[String], out: &mut dyn Write) -> anyhow::Result<()> {
        let p = self.engine.propose(ids)?;
        let gates = self.engine.gates();
        view::write_patches(&p.patches, &p.unfixable, &gates, self.width, out)?;
        Ok(())
    }

    pub fn diff(&mut self, id: &str, out: &mut dyn Write) -> anyhow::Result<()> {
        let p = self.engine.patch(id)?;
        writeln!(
            out,
            "{} for {} ({}, from {}, confidence {:.2}, {}): {}",
            p.id,
            p.patch.finding,
            p.patch.strategy.as_str(),
            p.patch.provenance.describe(),
            p.patch.confidence,
            p.status.as_str(),
            p.patch.rationale
        )?;
        view::write_diff(&p.patch.unified_diff(), self.color, out)?;
        Ok(())
    }

    /// Applies a patch the user approved: gates, validation with the session's
    /// command, commit when the session says so. Returns whether it stayed applied.
    pub fn approve(&mut self, id: &str, force: bool, out: &mut dyn Write) -> anyhow::Result<bool> {
        let p = self.engine.patch(id)?;
        let how = Approve {
            force,
            commit: self.commit,
            ..Approve::by(self.actor)
        };
        let report = match self.engine.approve(&p, &how, &ShellRunner, &Spinner::new()) {
            Err(SessionError::Refused {
                refusal: r @ Refusal::NeedsForce { .. },
                ..
            }) => bail!("{id}: {r}; review `diff {id}`, then `approve {id} force`"),
            r => r.map_err(explain)?,
        };
        Ok(view::write_apply_report(&report, &p.patch.finding, out)?)
    }

    pub fn reject(
        &mut self,
        id: &str,
        reason: Option<&str>,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let p = self.engine.reject(id, reason, self.actor)?;
        writeln!(
            out,
            "{}: rejected{}",
            p.id,
            reason.map(|r| format!(" ({r})")).unwrap_or_default()
        )?;
        Ok(())
    }

    /// Undoes a patch (`None`: the last applied one).
    pub fn rollback(
        &mut self,
        id: Option<&str>,
        force: bool,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let (stored, r) = self
            .engine
            .rollback(id, force, &Spinner::new())
            .map_err(explain)?;
        write_rollback(&r, stored.session, out)?;
        Ok(())
    }

    pub fn stats(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        view::write_stats(&self.engine.store.stats()?, self.width, out)?;
        Ok(())
    }
}

/// Adds the diff to a refusal whose message alone would not show what changed.
pub fn explain(e: SessionError) -> anyhow::Error {
    match &e {
        SessionError::Repair(RepairError::ChangedSinceApply { diff, .. }) => {
            let msg = e.to_string();
            anyhow::anyhow!("{msg}\n{diff}")
        }
        _ => e.into(),
    }
}

/// `P1 (session 2): restored src/main.rs; revert commit 1a2b3c4d5e`
pub fn write_rollback(
    r: &repair::RollbackReport,
    session: i64,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let revert = r
        .revert_commit
        .as_ref()
        .map(|c| format!("; revert commit {}", &c[..c.len().min(10)]))
        .unwrap_or_default();
    writeln!(
        out,
        "{} (session {session}): restored {}{revert}",
        r.patch,
        r.files.join(", ")
    )
}
