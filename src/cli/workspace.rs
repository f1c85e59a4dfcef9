//! The actions a user takes on a session, shared by the subcommands (`cars show E3`)
//! and the REPL (`show E3`): each writes to the given output and calls the engine.

use anyhow::{bail, Context};
use cars::analyze::{Analysis, Finding, Matcher, Options};
use cars::config::Config;
use cars::log::{LogInput, Source};
use cars::repair::{self, run::ShellRunner, ApplyOptions, Approval, Gates, Refusal};
use cars::report::{detail, repair as view};
use cars::rules::RuleSet;
use cars::store::{SessionMeta, Store};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

pub struct Workspace {
    pub store: Store,
    /// The session commands act on; `None` until one exists.
    pub session: Option<i64>,
    pub gates: Gates,
    /// The layered settings (trust applied) the gates came from.
    pub config: Config,
    pub color: bool,
    pub width: Option<u16>,
    /// Approvals commit with git.
    pub commit: bool,
    /// Who acts: cli, repl.
    pub actor: &'static str,
    findings: Option<(i64, Vec<Finding>)>,
}

impl Workspace {
    /// Opens the store; `session` picks one, else the latest (if any).
    pub fn open(
        store_dir: Option<&Path>,
        session: Option<i64>,
        to_terminal: bool,
    ) -> anyhow::Result<Workspace> {
        let store = super::open_store(store_dir)?;
        let session = match session {
            Some(s) => Some(store.resolve_session(Some(s))?),
            None => store.latest_session().ok(),
        };
        let config = super::load_config(&store.project_root)?;
        Ok(Workspace {
            store,
            session,
            gates: config.gates,
            config,
            color: super::use_color(to_terminal),
            width: super::table_width(to_terminal),
            commit: false,
            actor: "cli",
            findings: None,
        })
    }

    pub fn session(&self) -> anyhow::Result<i64> {
        self.session
            .context("no session yet: `analyze <log>` or `run <command>` starts one")
    }

    /// The session's findings, read once and kept.
    pub fn findings(&mut self) -> anyhow::Result<&[Finding]> {
        let session = self.session()?;
        if self.findings.as_ref().is_none_or(|(s, _)| *s != session) {
            self.findings = Some((session, self.store.findings(session)?));
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

    fn rules(&self) -> anyhow::Result<RuleSet> {
        RuleSet::load(&super::rule_sources(&self.store.project_root, &self.config))
            .context("loading rules")
    }

    /// Analyzes a log file and makes it the current session.
    pub fn analyze(
        &mut self,
        log: &str,
        command: Option<String>,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let rules = self.rules()?;
        let matcher = Matcher::new(&rules);
        let input = LogInput::open(&Source::parse(log))?;
        let analysis = super::progress::while_running("analyzing", || {
            matcher.analyze(input, &Options::default())
        })?;
        self.record(analysis, command, started, None, out)
    }

    /// Runs a command, streaming its output with a live count, then analyzes it.
    pub fn run(&mut self, command: &str, out: &mut dyn Write) -> anyhow::Result<()> {
        let started = Instant::now();
        let rules = self.rules()?;
        let matcher = Matcher::new(&rules);
        let run = super::run::stream(command, &self.store.project_root, &matcher)?;
        writeln!(
            out,
            "`{command}` {} after {} ({})",
            if run.success { "succeeded" } else { "failed" },
            view::format_duration(run.elapsed.as_millis() as u64),
            cars::report::plural(run.lines, "line")
        )?;
        let (analysis, first) = (run.analysis, run.first_finding_ms);
        self.record(analysis, Some(command.to_string()), started, first, out)
    }

    fn record(
        &mut self,
        analysis: Analysis,
        command: Option<String>,
        started: Instant,
        first_finding_ms: Option<u64>,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let elapsed = started.elapsed().as_millis() as u64;
        let meta = SessionMeta {
            command,
            analysis_ms: elapsed,
            first_finding_ms: first_finding_ms
                .or((!analysis.findings.is_empty()).then_some(elapsed)),
        };
        let id = self.store.record_session(&analysis, &meta)?;
        self.session = Some(id);
        self.findings = None;
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
                .in_project(&self.store.project_root);
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
        detail::write_show(&f, &self.store.project_root, self.color, out)?;
        Ok(())
    }

    pub fn explain(&mut self, id: &str, out: &mut dyn Write) -> anyhow::Result<()> {
        let f = self.finding(id)?;
        detail::write_explain(&f, out)?;
        Ok(())
    }

    /// Proposes patches for the given findings (all when empty) and prints the table.
    pub fn patch(&mut self, ids: &[String], out: &mut dyn Write) -> anyhow::Result<()> {
        let session = self.session()?;
        let root = self.store.project_root.clone();
        let templates = super::load_templates(&root, &self.config)?;
        let p = repair::propose(&mut self.store, session, ids, &templates)?;
        view::write_patches(&p.patches, &p.unfixable, &self.gates, self.width, out)?;
        Ok(())
    }

    pub fn diff(&mut self, id: &str, out: &mut dyn Write) -> anyhow::Result<()> {
        let p = self.store.patch(self.session()?, id)?;
        writeln!(
            out,
            "{} for {} ({}, {}, confidence {:.2}, {}): {}",
            p.id,
            p.patch.finding,
            p.patch.strategy.as_str(),
            p.patch.origin,
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
        let session = self.session()?;
        let p = self.store.patch(session, id)?;
        let validate = self.store.session(session)?.command;
        let approval = Approval::Manual { force };
        match self.gates.decide(&p.patch, approval, validate.is_some()) {
            Err(r @ Refusal::NeedsForce { .. }) => {
                bail!("{id}: {r}; review `diff {id}`, then `approve {id} force`")
            }
            Err(r) => bail!("{id}: {r}"),
            Ok(_) => {}
        }
        let rules = self.rules()?;
        let matcher = Matcher::new(&rules);
        let opts = ApplyOptions {
            validate: validate.clone(),
            timeout: Duration::from_secs(600),
            commit: self.commit,
            actor: self.actor.into(),
            approval,
            no_verify: false,
        };
        if let Some(cmd) = &validate {
            writeln!(out, "applying {id}, then running `{cmd}`...")?;
            out.flush()?;
        }
        let lock = super::lock_project(&self.store)?;
        let gates = self.gates;
        let report = super::progress::while_running("validating", || {
            repair::apply(
                &mut self.store,
                &lock,
                &p,
                &gates,
                &opts,
                &ShellRunner,
                Some(&matcher),
            )
        })
        .map_err(super::apply::explain)?;
        Ok(view::write_apply_report(&report, &p.patch.finding, out)?)
    }

    pub fn reject(
        &mut self,
        id: &str,
        reason: Option<&str>,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let p = self.store.patch(self.session()?, id)?;
        if !matches!(
            p.status,
            cars::store::PatchStatus::Proposed | cars::store::PatchStatus::Failed
        ) {
            bail!(
                "{id} is {}; only a proposed patch can be rejected",
                p.status.as_str()
            );
        }
        self.store.reject(p.key, reason, self.actor)?;
        writeln!(
            out,
            "{id}: rejected{}",
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
        let stored = match id {
            Some(id) => self.store.patch(self.session()?, id)?,
            None => repair::last_applied(&self.store)?,
        };
        let lock = super::lock_project(&self.store)?;
        let r = repair::rollback(&mut self.store, &lock, &stored, force)
            .map_err(super::apply::explain)?;
        let revert = r
            .revert_commit
            .map(|c| format!("; revert commit {}", &c[..c.len().min(10)]))
            .unwrap_or_default();
        writeln!(
            out,
            "{} (session {}): restored {}{revert}",
            r.patch,
            stored.session,
            r.files.join(", ")
        )?;
        Ok(())
    }

    pub fn stats(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        view::write_stats(&self.store.stats()?, self.width, out)?;
        Ok(())
    }
}
