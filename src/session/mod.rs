//! The one way in: a repair session over a project's store, its layered config and
//! gates, and lazily loaded rules and templates. The subcommands, the REPL and the TUI
//! all call these functions with these types and only render what they return.
//! Progress goes through `Progress`, so a spinner, a status bar or a log line can
//! show it. Depends on every engine module below it; nothing in the engine depends on it.

use crate::analyze::{Analysis, Finding, Matcher};
use crate::config::{Config, ConfigError};
use crate::fix::template::{TemplateError, Templates};
use crate::repair::{
    self, run::CommandRunner, ApplyOptions, ApplyReport, Approval, Gate, Gates, Proposals,
    Recovered, Refusal, RepairError, RollbackReport,
};
use crate::rules::{RuleError, RuleSet, RuleSources};
use crate::store::{self, PatchStatus, SessionMeta, Store, StoreError, StoredPatch};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub mod flaky;
pub mod heal;
pub mod reproduce;
pub mod suggest;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Repair(#[from] RepairError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("loading rules: {0}")]
    Rules(#[from] RuleError),
    #[error("loading fix templates: {0}")]
    Templates(#[from] TemplateError),
    #[error("no session yet: analyze a log or run a command first")]
    NoSession,
    #[error("{patch}: {refusal}")]
    Refused { patch: String, refusal: Refusal },
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("{patch} is {status}; only a proposed or failed patch can be rejected")]
    NotRejectable { patch: String, status: String },
}

type Result<T> = std::result::Result<T, SessionError>;

/// What a front end shows while the session works.
pub trait Progress {
    /// A long step begins (validation, a commit hook): a spinner, a status line.
    fn step(&self, _what: &str) {}
    /// The step ended.
    fn done(&self) {}
    /// Something worth saying on the way (waiting for another cars process).
    fn note(&self, _text: &str) {}
}

/// Shows nothing.
pub struct Quiet;
impl Progress for Quiet {}

/// Which command validates an approved patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Validate {
    /// The command recorded with the session (`--command`, `cars run CMD`, the job).
    SessionCommand,
    Command(String),
    None,
}

/// How a patch is approved: who, with which validation, commit and gate override.
#[derive(Debug, Clone)]
pub struct Approve {
    pub actor: String,
    /// `--auto`: nobody looked at it.
    pub auto: bool,
    /// Confirmed below the approval gate.
    pub force: bool,
    pub validate: Validate,
    pub timeout: Duration,
    pub commit: bool,
    pub no_verify: bool,
}

impl Approve {
    pub fn by(actor: &str) -> Approve {
        Approve {
            actor: actor.to_string(),
            auto: false,
            force: false,
            validate: Validate::SessionCommand,
            timeout: Duration::from_secs(600),
            commit: false,
            no_verify: false,
        }
    }

    fn approval(&self) -> Approval {
        if self.auto {
            Approval::Auto
        } else {
            Approval::Manual { force: self.force }
        }
    }
}

/// What `--auto` takes (the best patch per finding), and the patches at the auto
/// gate's confidence it leaves for review, with why.
pub type AutoSelection = (Vec<StoredPatch>, Vec<(String, String)>);

/// Marks the findings of known flaky tests (the same test failing the same way, on a
/// tree where it also passed): `flaky` says so with the counts and why (a timeout or
/// a network error in the failure itself, else intermittent), the message and category
/// reason repeat it, and they rank below every other finding.
pub fn mark_flaky(store: &Store, mut analysis: Analysis) -> Analysis {
    let Ok(flaky) = store.flaky() else {
        return analysis;
    };
    if flaky.is_empty() {
        return analysis;
    }
    let mut any = false;
    for f in &mut analysis.findings {
        let Some(test) = &f.test else { continue };
        let Some(known) = flaky
            .iter()
            .find(|k| &k.test == test && k.signature == f.fingerprint)
        else {
            continue;
        };
        let mark = crate::analyze::FlakyMark {
            failures: known.failures,
            runs: known.runs,
            why: flaky_why(f).to_string(),
        };
        apply_flaky_mark(f, mark);
        any = true;
    }
    if any {
        // Stable: real causes first, in their order, then the flaky ones.
        analysis.findings.sort_by_key(|f| f.flaky.is_some());
        for (i, f) in analysis.findings.iter_mut().enumerate() {
            f.rank = i + 1;
            f.id = format!("E{}", i + 1);
        }
    }
    analysis
}

/// Marks one finding as a known flaky test's: `flaky`, and a note on its message and
/// category reason. The TUI marks the findings it shows with this too.
pub fn apply_flaky_mark(f: &mut crate::analyze::Finding, mark: crate::analyze::FlakyMark) {
    let record = format!(
        "known flaky ({}): failed {} of {} runs on one tree",
        mark.why, mark.failures, mark.runs
    );
    f.message = format!("{} [{record}]", f.message);
    f.category_reason = Some(match &f.category_reason {
        Some(reason) => format!("{record}; {reason}"),
        None => record,
    });
    f.flaky = Some(mark);
}

/// What the failure of a flaky test says about why it comes and goes: its category,
/// or the fallback classifier's cue words in its text.
fn flaky_why(f: &crate::analyze::Finding) -> &'static str {
    use crate::rules::model::Category;
    let text = format!("{} {}", f.message, f.excerpt.join("\n"));
    match (f.category, crate::analyze::classify::classify(&text)) {
        (Category::Timeout, _) | (_, Category::Timeout) => "timeout",
        (Category::Network, _) | (_, Category::Network) => "network",
        _ => "intermittent",
    }
}

/// Records a run's test outcomes, so flaky tests are found across runs.
pub fn record_test_run(
    store: &mut Store,
    session: i64,
    command: &str,
    success: bool,
    analysis: &Analysis,
) -> Result<()> {
    let failures: Vec<store::flaky::TestFailure> = analysis
        .findings
        .iter()
        .filter_map(|f| {
            Some(store::flaky::TestFailure {
                test: f.test.clone()?,
                signature: f.fingerprint.clone(),
            })
        })
        .collect();
    let tree = crate::repair::git::tree_state(&store.project_root);
    store.record_tests(session, command, &tree, success, &failures)?;
    Ok(())
}

/// A command run by `Session::run`, recorded as session `session`.
#[derive(Debug)]
pub struct Ran {
    pub session: i64,
    pub exit: crate::exec::Exit,
    pub lines: u64,
    pub analysis: Analysis,
}

/// An open session over one project.
pub struct Session {
    pub store: Store,
    pub config: Config,
    /// What opening finished for a crashed process.
    pub recovered: Vec<Recovered>,
    current: Option<i64>,
    rules: Option<RuleSet>,
    templates: Option<Templates>,
    /// The user's knowledge base (outcomes -> calibrated confidence); `None` when it
    /// cannot be opened, with why in `learn_error`.
    knowledge: Option<crate::learn::Knowledge>,
    pub learn_error: Option<String>,
    /// `run` compares with the last passing run of the same command (on by default;
    /// `--no-baseline` turns it off).
    pub use_baseline: bool,
    /// Patches a fresh run of the validation command confirmed (`reproduce`).
    reproduced: std::collections::HashSet<String>,
}

impl Session {
    /// Opens the store of the project containing `dir` (`store_dir` overrides where
    /// it lives), finishes what a crashed process left half done, and loads the
    /// layered config. The current session is the latest, if any.
    pub fn open(dir: &Path, store_dir: Option<&Path>) -> Result<Session> {
        let location = store::locate(dir, store_dir);
        let mut store = Store::open(&location)?;
        let recovered = repair::recover(&mut store)?;
        let config = Config::load(&location.project_root)?;
        let current = store.latest_session().ok();
        let (knowledge, learn_error) = match crate::learn::Knowledge::open_default() {
            Ok(k) => (Some(k), None),
            Err(e) => (None, Some(format!("{e}; confidences are not calibrated"))),
        };
        Ok(Session {
            store,
            config,
            recovered,
            current,
            rules: None,
            templates: None,
            knowledge,
            learn_error,
            use_baseline: true,
            reproduced: Default::default(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.store.project_root
    }

    pub fn gates(&self) -> Gates {
        self.config.gates
    }

    /// The current session.
    pub fn current(&self) -> Result<i64> {
        self.current.ok_or(SessionError::NoSession)
    }

    /// Makes session `id` (or the latest, for `None`) the current one.
    pub fn select(&mut self, id: Option<i64>) -> Result<i64> {
        let id = self.store.resolve_session(id)?;
        self.current = Some(id);
        Ok(id)
    }

    /// Where the rules come from: the project's `.cars/patterns` in full only when
    /// the project is trusted.
    pub fn rule_sources(&self) -> RuleSources {
        RuleSources::standard(
            Some(self.root().to_path_buf()),
            self.config.project_trusted(),
        )
    }

    pub fn rules(&mut self) -> Result<&RuleSet> {
        if self.rules.is_none() {
            self.rules = Some(RuleSet::load(&self.rule_sources())?);
        }
        Ok(self.rules.as_ref().expect("loaded above"))
    }

    pub fn templates(&mut self) -> Result<&Templates> {
        if self.templates.is_none() {
            let dirs = crate::config::template_dirs(self.root(), self.config.project_trusted());
            self.templates = Some(Templates::load(&dirs)?);
        }
        Ok(self.templates.as_ref().expect("loaded above"))
    }

    /// Records an analysis as a new session and makes it current. A command known to
    /// have passed gets no "the step failed" finding.
    pub fn record(
        &mut self,
        analysis: Analysis,
        meta: &SessionMeta,
        passed: Option<bool>,
    ) -> Result<(i64, Analysis)> {
        let analysis = match passed {
            Some(true) => analysis.after_success(),
            _ => analysis,
        };
        let meta = SessionMeta {
            passed,
            ..meta.clone()
        };
        let id = self.store.record_session(&analysis, &meta)?;
        self.current = Some(id);
        Ok((id, analysis))
    }

    /// Runs `command` in the project root through the one spawner, analyzing each
    /// line as it arrives; `on_line` sees every line with the count of findings so far
    /// (a front end tees it, or shows a count). The run is recorded as a new session
    /// with the command, so approving a patch validates with it.
    pub fn run(
        &mut self,
        command: &str,
        timeout: Option<Duration>,
        on_line: &mut dyn FnMut(crate::exec::Stream, &[u8], usize),
    ) -> Result<Ran> {
        let started = Instant::now();
        let root = self.root().to_path_buf();
        let stored = match self.use_baseline {
            true => self.store.baseline(command)?,
            false => None,
        };
        let matcher = Matcher::new(self.rules()?);
        let mut opts = crate::analyze::Options::default();
        if let Some(log) = stored {
            let input = crate::log::LogInput::from_reader(
                format!("last passing `{command}`"),
                Box::new(std::io::Cursor::new(log)),
            )
            .and_then(|input| matcher.baseline(input));
            // A baseline that cannot be read only costs its filtering.
            opts.baseline = input.ok();
        }
        let mut analyzer = crate::analyze::Analyzer::new(&matcher, &opts, format!("`{command}`"));
        let (mut lines, mut first_finding_ms) = (0u64, None);
        let mut log = Vec::new();
        let exit = crate::exec::run(command, &root, &[], timeout, &mut |stream, line| {
            lines += 1;
            if line.ends_with(b"\n") {
                analyzer.feed(line);
            } else {
                analyzer.feed(&[line, b"\n"].concat());
            }
            // Only the tail is kept as a baseline; twice that bounds the buffer.
            if log.len() > 2 * store::MAX_BASELINE_BYTES {
                log.drain(..log.len() - store::MAX_BASELINE_BYTES);
            }
            log.extend_from_slice(line);
            if !line.ends_with(b"\n") {
                log.push(b'\n');
            }
            let found = analyzer.candidates();
            if found > 0 {
                first_finding_ms.get_or_insert(started.elapsed().as_millis() as u64);
            }
            on_line(stream, line, found);
        })
        .map_err(|source| SessionError::Spawn {
            command: command.to_string(),
            source,
        })?;
        let analysis = analyzer.finish();
        drop(matcher);
        let analysis = mark_flaky(&self.store, analysis);
        let meta = SessionMeta {
            command: Some(command.to_string()),
            analysis_ms: started.elapsed().as_millis() as u64,
            first_finding_ms:
                first_finding_ms
                    .or((!analysis.findings.is_empty())
                        .then_some(started.elapsed().as_millis() as u64)),
            passed: Some(exit.success),
        };
        if exit.success {
            self.store.save_baseline(command, &log)?;
        }
        let (session, analysis) = self.record(analysis, &meta, Some(exit.success))?;
        record_test_run(&mut self.store, session, command, exit.success, &analysis)?;
        Ok(Ran {
            session,
            exit,
            lines,
            analysis,
        })
    }

    pub fn findings(&self) -> Result<Vec<Finding>> {
        Ok(self.store.findings(self.current()?)?)
    }

    /// Patches for the given findings (every root finding when empty), recorded.
    pub fn propose(&mut self, ids: &[String]) -> Result<Proposals> {
        let session = self.current()?;
        self.templates()?;
        let templates = self.templates.as_ref().expect("loaded above");
        Ok(repair::propose(
            &mut self.store,
            session,
            ids,
            templates,
            self.knowledge.as_ref(),
        )?)
    }

    /// A patch by id: the current session's, else the newest with that id.
    pub fn patch(&self, id: &str) -> Result<StoredPatch> {
        let session = self.current.unwrap_or(0);
        Ok(self.store.patch(session, id)?)
    }

    fn validation_command(&self, how: &Approve) -> Result<Option<String>> {
        Ok(match &how.validate {
            Validate::SessionCommand => match self.current {
                Some(s) => self.store.session(s)?.command,
                None => None,
            },
            Validate::Command(c) => Some(c.clone()),
            Validate::None => None,
        })
    }

    /// The gate decision for `patch` approved `how`, with the validation it would get.
    pub fn decide(&self, patch: &StoredPatch, how: &Approve) -> Result<Gate> {
        let validated = self.validation_command(how)?.is_some();
        self.gates()
            .decide(&self.with_evidence(patch).patch, how.approval(), validated)
            .map_err(|refusal| SessionError::Refused {
                patch: patch.id.clone(),
                refusal,
            })
    }

    /// The best patch per finding that `--auto` may apply, and the ones at the auto
    /// gate's confidence it leaves for review, with why.
    pub fn auto_candidates(&self, how: &Approve) -> Result<AutoSelection> {
        let validated = self.validation_command(how)?.is_some();
        let gates = self.gates();
        let mut take = Vec::new();
        let mut left = Vec::new();
        for p in self.store.patches(self.current()?)? {
            if p.status != PatchStatus::Proposed {
                continue;
            }
            let p = self.with_evidence(&p);
            match gates.decide(&p.patch, Approval::Auto, validated) {
                Ok(_) => take.push(p),
                Err(Refusal::NotAuto(why)) if p.patch.confidence >= gates.auto => {
                    left.push((p.id.clone(), why))
                }
                Err(_) => {}
            }
        }
        take.sort_by(|a, b| b.patch.confidence.total_cmp(&a.patch.confidence));
        let mut seen = std::collections::HashSet::new();
        take.retain(|p| seen.insert(p.patch.finding.clone()));
        Ok((take, left))
    }

    /// Applies an approved patch: the gate decision, the refusals that need no write,
    /// then, under the project lock, the journaled apply, its validation (judged by
    /// the analyzer) and the commit.
    pub fn approve(
        &mut self,
        patch: &StoredPatch,
        how: &Approve,
        runner: &dyn CommandRunner,
        progress: &dyn Progress,
    ) -> Result<ApplyReport> {
        self.decide(patch, how)?;
        repair::preflight(&self.store, patch)?;
        let validate = self.validation_command(how)?;
        let opts = ApplyOptions {
            validate: validate.clone(),
            timeout: how.timeout,
            commit: how.commit,
            actor: how.actor.clone(),
            approval: how.approval(),
            no_verify: how.no_verify,
            confirmed: self.is_confirmed(patch),
        };
        if validate.is_some() {
            self.rules()?;
        }
        let lock = match self.store.try_lock()? {
            Some(l) => l,
            None => {
                progress
                    .note("another cars process is changing this project's files; waiting for it");
                self.store.lock()?
            }
        };
        let matcher = self.rules.as_ref().map(Matcher::new);
        let gates = self.gates();
        progress.step(&match &validate {
            Some(cmd) => format!("applying {}, then running `{cmd}`", patch.id),
            None => format!("applying {}", patch.id),
        });
        let report = repair::apply(
            &mut self.store,
            &lock,
            patch,
            &gates,
            &opts,
            runner,
            matcher.as_ref(),
        );
        progress.done();
        let report = report?;
        let kind = match (&report.validation, report.rolled_back) {
            (None, _) => crate::learn::Kind::Approved,
            (Some(_), true) => crate::learn::Kind::ValidationFailed,
            (Some(_), false) => crate::learn::Kind::Validated,
        };
        self.learn(patch, kind);
        Ok(report)
    }

    /// Records what happened to `patch` in the knowledge base. Learning is best
    /// effort: a knowledge base that cannot be written never fails the repair.
    fn learn(&self, patch: &StoredPatch, kind: crate::learn::Kind) {
        if let Some(kb) = &self.knowledge {
            let _ = kb.record(&crate::learn::Outcome {
                project: self.root().display().to_string(),
                rule: patch.patch.rule.clone(),
                source: crate::learn::source_key(&patch.patch.provenance),
                kind,
                at: crate::store::now_ms(),
            });
        }
    }

    /// The knowledge base, if it could be opened.
    pub fn knowledge(&self) -> Option<&crate::learn::Knowledge> {
        self.knowledge.as_ref()
    }

    /// Rejects a proposed (or failed) patch.
    pub fn reject(&mut self, id: &str, reason: Option<&str>, actor: &str) -> Result<StoredPatch> {
        let p = self.patch(id)?;
        if !matches!(p.status, PatchStatus::Proposed | PatchStatus::Failed) {
            return Err(SessionError::NotRejectable {
                patch: p.id.clone(),
                status: p.status.as_str().into(),
            });
        }
        self.store.reject(p.key, reason, actor)?;
        self.learn(&p, crate::learn::Kind::Rejected);
        Ok(p)
    }

    /// Undoes a patch (`None`: the most recently applied one) under the project lock.
    pub fn rollback(
        &mut self,
        id: Option<&str>,
        force: bool,
        progress: &dyn Progress,
    ) -> Result<(StoredPatch, RollbackReport)> {
        let stored = match id {
            Some(id) => self.patch(id)?,
            None => repair::last_applied(&self.store)?,
        };
        let lock = match self.store.try_lock()? {
            Some(l) => l,
            None => {
                progress
                    .note("another cars process is changing this project's files; waiting for it");
                self.store.lock()?
            }
        };
        let report = repair::rollback(&mut self.store, &lock, &stored, force)?;
        self.learn(&stored, crate::learn::Kind::RolledBack);
        Ok((stored, report))
    }

    /// The store's directory (for the REPL history).
    pub fn dir(&self) -> PathBuf {
        self.store.dir().to_path_buf()
    }
}

#[cfg(test)]
mod flaky_tests {
    use super::flaky_why;

    fn finding(category: &str, message: &str) -> crate::analyze::Finding {
        serde_json::from_value(serde_json::json!({
            "id": "E1", "rank": 1, "level": "error", "category": category,
            "severity": "high", "confidence": 0.8, "tool": "pytest", "rule": "python.pytest",
            "message": message, "location": null, "test": "tests/t.py::test_x",
            "log_lines": {"start": 1, "end": 1}, "step": null, "fingerprint": "f",
            "occurrences": 1, "explanation": ""
        }))
        .unwrap()
    }

    #[test]
    fn a_flaky_failure_says_why_from_its_own_text_or_category() {
        assert_eq!(
            flaky_why(&finding("test", "Timeout of 2000ms exceeded")),
            "timeout"
        );
        assert_eq!(flaky_why(&finding("timeout", "test_x hung")), "timeout");
        assert_eq!(
            flaky_why(&finding(
                "test",
                "ConnectionError: [Errno 111] Connection refused"
            )),
            "network"
        );
        assert_eq!(flaky_why(&finding("test", "assert 1 == 2")), "intermittent");
    }
}
