//! Apply, validate, commit and roll back patches. Every apply is journaled in the
//! store before the first byte is written: the originals are saved, each file is
//! replaced atomically (temp file + rename), and a crash leaves an `applying` row
//! that `recover` undoes on the next run. Every path goes through the path policy,
//! and every change happens under the project lock. Depends on `store`, `fix`,
//! `policy` and git2.

pub mod git;
pub mod run;

use crate::analyze::{mask, Finding, Matcher, Options};
use crate::fix::{file_diff, rebase, FileChange, Patch};
use crate::log::LogInput;
use crate::policy::{self, Access, PathPolicy, Provenance};
use crate::store::{
    self, AppState, Backup, Event, PatchStatus, ProjectLock, Store, StoreError, StoredPatch,
};
use run::CommandRunner;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{patch} was made against files that have changed since: {}; run `cars patch` again", .files.join(", "))]
    Stale { patch: String, files: Vec<String> },
    #[error("files changed after {patch} was applied: {}; use --force to roll back anyway", .files.join(", "))]
    ChangedSinceApply {
        patch: String,
        files: Vec<String>,
        diff: String,
    },
    #[error("{first} changed {file} after {patch} and their edits meet; roll back {first} first")]
    RollBackFirst {
        patch: String,
        first: String,
        file: String,
    },
    #[error("{patch} is {status}; only an applied patch can be rolled back")]
    NotApplied { patch: String, status: String },
    #[error("{patch} is already {status}")]
    AlreadyApplied { patch: String, status: String },
    #[error(
        "{patch} was rejected; `cars patch {finding}` proposes it again if you changed your mind"
    )]
    Rejected { patch: String, finding: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot run `{command}`: {source}")]
    Run {
        command: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Git(#[from] git::GitError),
    #[error("{patch} is applied{}, but the commit failed: {source}", if *.validated { " and validated" } else { "" })]
    CommitFailed {
        patch: String,
        validated: bool,
        source: git::GitError,
    },
    #[error("nothing has been applied yet")]
    NothingApplied,
    #[error("{patch}: refused: {source}")]
    Refused {
        patch: String,
        source: policy::Refused,
    },
    #[error("{patch} belongs to the project at {other}, not to {here}; run cars there")]
    OtherProject {
        patch: String,
        other: String,
        here: String,
    },
    #[error("{patch}: {refusal}")]
    Gate { patch: String, refusal: Refusal },
}

/// Why the gates refuse a patch.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("confidence {confidence:.2} is below the report-only gate ({gate:.2}); cars does not apply it, but you may by hand")]
    ReportOnly { confidence: f64, gate: f64 },
    #[error("confidence {confidence:.2} is below the approval gate ({gate:.2}); it needs an explicit force after review")]
    NeedsForce { confidence: f64, gate: f64 },
    #[error("not applied unattended: {0}")]
    NotAuto(String),
}

type Result<T> = std::result::Result<T, RepairError>;

pub use crate::config::Gates;

/// What a gate says about a patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gate {
    Auto,
    Approve,
    Force,
    ReportOnly,
}

/// How a patch is being approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// `apply --auto`: nobody looks at it.
    Auto,
    /// A person chose it; `force` when they also confirmed a patch below the
    /// approval gate.
    Manual { force: bool },
}

impl Gates {
    /// Why a patch may never pass the auto gate, whatever its confidence.
    pub fn auto_cap(patch: &Patch) -> Option<String> {
        if !patch.auto {
            return Some("its source marks it for review".into());
        }
        if let Some(f) = patch.files.iter().find(|f| policy::is_protected(&f.path)) {
            return Some(format!(
                "it edits {}, a build script or CI definition",
                f.path
            ));
        }
        if patch.strategy == crate::fix::Strategy::DependencyFix {
            return Some("it adds or changes a dependency".into());
        }
        None
    }

    /// The one gate decision, for every front end: may this patch be applied this
    /// way? `validated`: a validation command will run after the apply.
    pub fn decide(
        &self,
        patch: &Patch,
        how: Approval,
        validated: bool,
    ) -> std::result::Result<Gate, Refusal> {
        let gate = self.gate(patch);
        match (how, gate) {
            (_, Gate::ReportOnly) => Err(Refusal::ReportOnly {
                confidence: patch.confidence,
                gate: self.force,
            }),
            (Approval::Manual { force: false }, Gate::Force) => Err(Refusal::NeedsForce {
                confidence: patch.confidence,
                gate: self.approve,
            }),
            (Approval::Manual { .. }, g) => Ok(g),
            (Approval::Auto, Gate::Auto) => {
                if patch.provenance.from_log() && !validated {
                    return Err(Refusal::NotAuto(
                        "its text comes from the log; --auto applies such a patch only with a validation command".into(),
                    ));
                }
                if matches!(patch.provenance, crate::policy::Provenance::Fixer { .. }) && !validated
                {
                    return Err(Refusal::NotAuto(
                        "a tool's fixer made it; --auto applies such a patch only with a validation command".into(),
                    ));
                }
                Ok(Gate::Auto)
            }
            (Approval::Auto, _) => Err(Refusal::NotAuto(Self::auto_cap(patch).unwrap_or_else(
                || {
                    format!(
                        "confidence {:.2} is below the auto gate ({:.2})",
                        patch.confidence, self.auto
                    )
                },
            ))),
        }
    }

    pub fn gate(&self, patch: &Patch) -> Gate {
        let c = patch.confidence;
        if c >= self.auto && Self::auto_cap(patch).is_none() {
            Gate::Auto
        } else if c >= self.approve {
            Gate::Approve
        } else if c >= self.force {
            Gate::Force
        } else {
            Gate::ReportOnly
        }
    }
}

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub validate: Option<String>,
    pub timeout: Duration,
    pub commit: bool,
    /// Who decided: cli, auto, repl, tui.
    pub actor: String,
    /// How it was approved; checked against the gates by `apply`.
    pub approval: Approval,
    /// Skip the repository's commit hooks (`--no-verify`).
    pub no_verify: bool,
    /// A fresh run of the validation command printed the patch's suggestion again
    /// (`session::Session::reproduce`): it counts as `fix::named::confirmed`.
    pub confirmed: bool,
}

/// What happened to one patch.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyReport {
    pub patch: String,
    pub files: Vec<String>,
    /// Files that had changed since the patch was made and took it anyway (no
    /// overlapping edits).
    pub rebased: Vec<String>,
    pub validation: Option<Validation>,
    pub commit: Option<String>,
    /// True when validation failed and the originals were restored.
    pub rolled_back: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    pub command: String,
    /// The patch was kept: see `verdict`.
    pub passed: bool,
    pub verdict: Verdict,
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    pub elapsed_ms: u64,
    pub output_tail: String,
}

/// The outcome of proposing fixes for a session.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Proposals {
    pub patches: Vec<StoredPatch>,
    pub unfixable: Vec<Unfixable>,
}

/// A finding `cars patch` could not fix, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Unfixable {
    pub finding: String,
    pub reason: String,
}

/// Proposes (and records) patches for the given findings of a session, or for every
/// finding that is not a mere consequence of another when `ids` is empty.
pub fn propose(
    store: &mut Store,
    session: i64,
    ids: &[String],
    templates: &crate::fix::template::Templates,
    knowledge: Option<&crate::learn::Knowledge>,
) -> Result<Proposals> {
    let policy = policy_of(store)?;
    let findings = if ids.is_empty() {
        store
            .findings(session)?
            .into_iter()
            .filter(|f| !f.consequence)
            .collect()
    } else {
        ids.iter()
            .map(|id| store.finding(session, id))
            .collect::<std::result::Result<Vec<_>, _>>()?
    };
    // A fixer that runs the project's code needs the user's trust in the project as
    // it is now (an unreadable trust list counts as no trust), or a session command
    // that already runs that tool.
    let root = store.project_root.clone();
    let trusted = crate::policy::trust::ProjectFiles::read(&root)
        .ok()
        .zip(crate::policy::trust::TrustStore::load().ok())
        .is_some_and(|(files, trust)| {
            trust.state(&root, &files) == crate::policy::trust::TrustState::Trusted
        });
    let fixers = crate::fix::fixer::Delegation::new(
        trusted,
        store.session(session)?.command,
        crate::fix::fixer::target_dir(&root),
    );
    let project = crate::fix::FixContext {
        policy: &policy,
        templates,
        fixers: &fixers,
    };
    let mut out = Proposals::default();
    let existing = store.patches(session)?;
    for f in &findings {
        // A finding whose patch is in effect is fixed: proposing again would make the
        // same edit twice (a second `use` line).
        let fixed = existing.iter().find(|p| {
            p.patch.finding == f.id
                && matches!(p.status, PatchStatus::Applied | PatchStatus::Validated)
        });
        if let Some(p) = fixed {
            out.unfixable.push(Unfixable {
                finding: f.id.clone(),
                reason: format!("already fixed by {} ({})", p.id, p.status.as_str()),
            });
            continue;
        }
        match crate::fix::propose(f, &project) {
            Ok(patches) => {
                for p in patches {
                    // rustc often gives two errors the same fix (a missing `use` for
                    // a type and its constructor): one patch serves both.
                    let twin = out
                        .patches
                        .iter()
                        .find(|q| q.patch.finding != p.finding && q.patch.files == p.files);
                    if let Some(q) = twin {
                        out.unfixable.push(Unfixable {
                            finding: f.id.clone(),
                            reason: format!(
                                "the same change as {} (for {})",
                                q.id, q.patch.finding
                            ),
                        });
                        continue;
                    }
                    // The source's base confidence, moved by its history on this rule.
                    let mut p = p;
                    let calibration = match knowledge {
                        Some(kb) => {
                            let source = crate::learn::source_key(&p.provenance);
                            kb.calibrate(p.confidence, &source, &p.rule).ok()
                        }
                        None => None,
                    };
                    if let Some(c) = &calibration {
                        p.confidence = c.result;
                    }
                    let id = store.save_calibrated_patch(session, &p, calibration.as_ref())?;
                    out.patches.push(store.patch(session, &id)?);
                }
            }
            Err(crate::fix::NoPatch(reason)) => out.unfixable.push(Unfixable {
                finding: f.id.clone(),
                reason,
            }),
        }
    }
    Ok(out)
}

/// Lines of context around a change within which a new error is blamed on it.
const BLAME_LINES: usize = 3;

/// Whether 1-based `line` of the patched file is within `BLAME_LINES` of a line the
/// change inserted or replaced (a deletion counts at the line after it).
fn near_change(change: &crate::fix::FileChange, line: usize) -> bool {
    let before = change.before.as_deref().unwrap_or("");
    let diff = similar::TextDiff::from_lines(before, &change.after);
    diff.ops().iter().any(|op| {
        if matches!(op, similar::DiffOp::Equal { .. }) {
            return false;
        }
        let r = op.new_range();
        let (start, end) = (r.start + 1, r.end.max(r.start + 1));
        line + BLAME_LINES >= start && line <= end + BLAME_LINES
    })
}

/// How a validation run turned out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// The command succeeded.
    Passed,
    /// The command still fails, but not because of the patched finding, and with no
    /// new error.
    FindingGone { remaining: usize },
    /// The patch did not help or made things worse; it was rolled back.
    StillFailing { reason: String },
}

/// A finding's identity across runs: line numbers shift when a fix adds or removes
/// lines, so they are left out; and the file is the project file it names, so a CI
/// runner's absolute path and a local run's relative one are the same error.
pub(crate) fn run_key(f: &Finding, policy: Option<&PathPolicy>) -> u64 {
    let file = f.location.as_ref().map(|l| l.file.as_str()).unwrap_or("");
    let resolved = policy.and_then(|p| crate::fix::paths::resolve(p, file));
    mask::hash_str(&[
        &f.rule,
        &mask::mask(&f.message),
        resolved.as_deref().unwrap_or(file),
        f.test.as_deref().unwrap_or(""),
    ])
}

/// The analysis of a command's kept output (`name` says which, in errors).
pub(crate) fn analyze_output(
    matcher: &Matcher,
    name: &str,
    output: &str,
) -> Result<crate::analyze::Analysis> {
    let err = |e: String| RepairError::Io {
        path: PathBuf::from(name),
        source: std::io::Error::other(e),
    };
    let input = LogInput::from_reader(
        name.into(),
        Box::new(std::io::Cursor::new(output.as_bytes().to_vec())),
    )
    .map_err(|e| err(e.to_string()))?;
    matcher
        .analyze(input, &Options::default())
        .map_err(|e| err(e.to_string()))
}

fn judge_run(
    result: &run::RunResult,
    judge: Option<&Matcher>,
    store: &Store,
    stored: &StoredPatch,
) -> Result<Verdict> {
    if result.success {
        return Ok(Verdict::Passed);
    }
    let exit = match (result.timed_out, result.code) {
        (true, _) => "timed out".to_string(),
        (_, Some(c)) => format!("exited with {c}"),
        _ => "was killed".to_string(),
    };
    let Some(matcher) = judge else {
        return Ok(Verdict::StillFailing { reason: exit });
    };
    if result.timed_out {
        return Ok(Verdict::StillFailing { reason: exit });
    }
    let now = analyze_output(matcher, "validation output", &result.output)?;
    let before = store.findings(stored.session)?;
    let target = before.iter().find(|f| f.id == stored.patch.finding);
    let policy = policy_of(store).ok();
    let key = |f: &Finding| run_key(f, policy.as_ref());
    let old: std::collections::HashSet<u64> = before.iter().map(key).collect();
    let errors: Vec<&Finding> = now
        .findings
        .iter()
        .filter(|f| f.level == crate::rules::model::Level::Error && !f.consequence)
        .collect();
    if let Some(t) = target {
        if now.findings.iter().any(|f| key(f) == key(t)) {
            return Ok(Verdict::StillFailing {
                reason: format!("{exit} and still reports {}: {}", t.id, t.message),
            });
        }
    }
    // A new error at or near the lines the patch changed is the patch's doing. One
    // elsewhere, even further down the same file, was hidden behind the fixed one (the
    // compiler got further): that is progress. An error in a patched file without a
    // line counts as the patch's.
    let touched = |f: &&&&Finding| {
        f.location.as_ref().is_some_and(|l| {
            stored.patch.files.iter().any(|c| {
                let same = l.file == c.path || l.file.ends_with(&format!("/{}", c.path));
                same && l.line.is_none_or(|line| near_change(c, line as usize))
            })
        })
    };
    let new: Vec<&&Finding> = errors.iter().filter(|f| !old.contains(&key(f))).collect();
    if let Some(caused) = new.iter().find(touched) {
        return Ok(Verdict::StillFailing {
            reason: format!(
                "{exit} with a new error in a patched file: {}",
                caused.message
            ),
        });
    }
    if target.is_none() {
        if let Some(n) = new.first() {
            return Ok(Verdict::StillFailing {
                reason: format!("{exit} with a new error: {}", n.message),
            });
        }
    }
    if errors.is_empty() {
        return Ok(Verdict::StillFailing {
            reason: format!("{exit} and no finding explains why"),
        });
    }
    Ok(Verdict::FindingGone {
        remaining: errors.len(),
    })
}

fn tail(s: &str, max: usize) -> &str {
    let mut start = s.len().saturating_sub(max);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// The path policy of the store's project.
pub(crate) fn policy_of(store: &Store) -> Result<PathPolicy> {
    PathPolicy::new(&store.project_root, Some(store.dir())).map_err(|source| RepairError::Io {
        path: store.project_root.clone(),
        source,
    })
}

/// Refuses a patch recorded for another project (a store shared through `CARS_STORE`):
/// its backups and paths belong there.
fn check_project(store: &Store, stored: &StoredPatch) -> Result<()> {
    let theirs = store.session_project(stored.session)?;
    let ours = &store.project_root;
    let same = theirs == *ours || theirs.canonicalize().ok().as_ref() == Some(ours);
    if same {
        Ok(())
    } else {
        Err(RepairError::OtherProject {
            patch: stored.id.clone(),
            other: theirs.display().to_string(),
            here: ours.display().to_string(),
        })
    }
}

fn refused(patch: &str) -> impl Fn(policy::Refused) -> RepairError + '_ {
    move |source| RepairError::Refused {
        patch: patch.to_string(),
        source,
    }
}

/// The patch's changes against the files as they are now: unchanged files as made,
/// changed ones rebased when the edits do not meet; else `Stale`.
fn rebase_onto_current(
    policy: &PathPolicy,
    stored: &StoredPatch,
) -> Result<(Vec<FileChange>, Vec<String>)> {
    let mut out = Vec::new();
    let mut rebased = Vec::new();
    let mut stale = Vec::new();
    for f in &stored.patch.files {
        let full = policy
            .check(&f.path, Access::Write(&stored.patch.provenance))
            .map_err(refused(&stored.id))?;
        let current = std::fs::read(&full).ok();
        if current.as_deref() == f.before.as_ref().map(|b| b.as_bytes()) {
            out.push(f.clone());
            continue;
        }
        let merged = match (&f.before, current.and_then(|c| String::from_utf8(c).ok())) {
            (Some(before), Some(now)) => rebase(before, &f.after, &now).map(|after| (now, after)),
            _ => None,
        };
        match merged {
            // A log-derived edit is checked against the file it is made on; a rebase
            // keeps the edit, so it stays as small as it was checked to be.
            Some((now, after)) => {
                rebased.push(f.path.clone());
                out.push(FileChange {
                    path: f.path.clone(),
                    before: Some(now),
                    after,
                    mode: f.mode,
                });
            }
            None => stale.push(f.path.clone()),
        }
    }
    if !stale.is_empty() {
        return Err(RepairError::Stale {
            patch: stored.id.clone(),
            files: stale,
        });
    }
    Ok((out, rebased))
}

/// Files of `patch` that no longer read as when it was made.
pub fn stale_files(root: &Path, patch: &Patch) -> Vec<String> {
    patch
        .files
        .iter()
        .filter(|f| {
            let current = std::fs::read(root.join(&f.path)).ok();
            current.as_deref() != f.before.as_ref().map(|b| b.as_bytes())
        })
        .map(|f| f.path.clone())
        .collect()
}

/// The refusals `apply` would make before writing anything (another project's
/// patch, already applied or rejected, stale files, a path the policy refuses), so a
/// front end can say so before it says "applying".
pub fn preflight(store: &Store, stored: &StoredPatch) -> Result<()> {
    check_project(store, stored)?;
    if matches!(stored.status, PatchStatus::Applied | PatchStatus::Validated) {
        return Err(RepairError::AlreadyApplied {
            patch: stored.id.clone(),
            status: stored.status.as_str().into(),
        });
    }
    if stored.status == PatchStatus::Rejected {
        return Err(RepairError::Rejected {
            patch: stored.id.clone(),
            finding: stored.patch.finding.clone(),
        });
    }
    rebase_onto_current(&policy_of(store)?, stored).map(|_| ())
}

/// Applies a stored patch: checks the gates and the path policy, refuses stale
/// patches, journals and backs up, writes atomically, validates (restoring the
/// originals on failure) and commits. `_lock` proves the caller holds the project
/// lock for the whole operation, so two processes never interleave their edits.
///
/// A validation run is accepted when the command succeeds, or, given `judge` (the
/// analyzer), when its output no longer shows the patched finding and shows no error
/// the session did not already have: one fix among several is progress, not failure.
pub fn apply(
    store: &mut Store,
    _lock: &ProjectLock,
    stored: &StoredPatch,
    gates: &Gates,
    opts: &ApplyOptions,
    runner: &dyn CommandRunner,
    judge: Option<&Matcher>,
) -> Result<ApplyReport> {
    // Read again under the lock: another process may have applied it meanwhile.
    let mut stored = store.patch_by_key(stored.key)?;
    if opts.confirmed && stored.status == PatchStatus::Proposed {
        stored.patch = crate::fix::named::confirmed(stored.patch);
    }
    let stored = &stored;
    let root = store.project_root.clone();
    preflight(store, stored)?;
    gates
        .decide(&stored.patch, opts.approval, opts.validate.is_some())
        .map_err(|refusal| RepairError::Gate {
            patch: stored.id.clone(),
            refusal,
        })?;
    let policy = policy_of(store)?;
    let (files_to_write, rebased) = rebase_onto_current(&policy, stored)?;
    if opts.commit {
        git::check_committable(&root)?;
    }
    let op = store::new_op_id();
    store.record_decision(stored.key, true, None, &opts.actor)?;
    let backups = take_backups(&policy, &files_to_write)?;
    let app = store.begin_application(stored.key, &op, &backups)?;
    if let Err(e) = write_all(&policy, &stored.patch.provenance, &files_to_write) {
        // Put back what was written before the failure, then report it. If even that
        // fails, the row stays `applying` and the next run retries the restore.
        if restore(&policy, &backups).is_ok() {
            store.set_application_state(app, AppState::Interrupted)?;
        }
        return Err(e);
    }
    store.set_application_state(app, AppState::Applied)?;
    store.set_patch_status(stored.key, PatchStatus::Applied)?;
    let files: Vec<String> = stored.patch.files.iter().map(|f| f.path.clone()).collect();
    store.event(
        &op,
        Some(stored.session),
        Some(stored.key),
        &Event::Apply {
            patch: stored.id.clone(),
            files: files.clone(),
            actor: opts.actor.clone(),
            provenance: stored.patch.provenance.clone(),
        },
    )?;
    let mut report = ApplyReport {
        patch: stored.id.clone(),
        files: files.clone(),
        rebased,
        validation: None,
        commit: None,
        rolled_back: false,
    };
    if let Some(command) = &opts.validate {
        // A kill during validation leaves `validating`: the next run rolls it back
        // rather than leave an unvalidated patch silently applied.
        store.set_application_state(app, AppState::Validating)?;
        let result = runner
            .run(command, &root, opts.timeout)
            .map_err(|source| RepairError::Run {
                command: command.clone(),
                source,
            });
        let result = match result {
            Ok(r) => r,
            Err(e) => {
                restore(&policy, &backups)?;
                store.set_application_state(app, AppState::RolledBack)?;
                store.set_patch_status(stored.key, PatchStatus::Failed)?;
                return Err(e);
            }
        };
        let verdict = judge_run(&result, judge, store, stored)?;
        let v = Validation {
            command: command.clone(),
            passed: !matches!(verdict, Verdict::StillFailing { .. }),
            verdict,
            exit_code: result.code,
            timed_out: result.timed_out,
            elapsed_ms: result.elapsed.as_millis() as u64,
            output_tail: tail(&result.output, 16 << 10).to_string(),
        };
        store.record_validation(app, command, v.passed, v.elapsed_ms, &v.output_tail)?;
        store.event(
            &op,
            Some(stored.session),
            Some(stored.key),
            &Event::Validate {
                patch: stored.id.clone(),
                command: command.clone(),
                passed: v.passed,
                verdict: serde_json::to_value(&v.verdict).unwrap_or_default(),
                exit: v.exit_code,
                ms: v.elapsed_ms,
            },
        )?;
        let passed = v.passed;
        report.validation = Some(v);
        if !passed {
            store.set_application_state(app, AppState::RollingBack)?;
            restore(&policy, &backups)?;
            store.set_application_state(app, AppState::RolledBack)?;
            store.set_patch_status(stored.key, PatchStatus::Failed)?;
            store.event(
                &op,
                Some(stored.session),
                Some(stored.key),
                &Event::Rollback {
                    patch: stored.id.clone(),
                    files: files.clone(),
                    forced: false,
                    revert_commit: None,
                    reason: Some("validation failed".into()),
                },
            )?;
            report.rolled_back = true;
            return Ok(report);
        }
        store.set_application_state(app, AppState::Applied)?;
        store.set_patch_status(stored.key, PatchStatus::Validated)?;
    }
    if opts.commit {
        let message = commit_message(stored);
        let commits: Vec<git::FileCommit> = files_to_write
            .iter()
            .map(|f| git::FileCommit {
                path: &f.path,
                from: f.before.as_deref(),
                to: Some(&f.after),
            })
            .collect();
        let oid =
            git::commit_changes(&root, &commits, &message, !opts.no_verify).map_err(|source| {
                RepairError::CommitFailed {
                    patch: stored.id.clone(),
                    validated: report.validation.is_some(),
                    source,
                }
            })?;
        store.record_commit(app, &oid, false)?;
        store.event(
            &op,
            Some(stored.session),
            Some(stored.key),
            &Event::Commit {
                patch: stored.id.clone(),
                commit: oid.clone(),
            },
        )?;
        report.commit = Some(oid);
    }
    Ok(report)
}

fn commit_message(stored: &StoredPatch) -> String {
    let p = &stored.patch;
    format!(
        "cars: fix {} ({})\n\n{}\n\nFinding: {} (session {})\nRule: {}\nStrategy: {}\nSource: {}\nConfidence: {:.2}\nPatch: {}\n",
        p.finding,
        p.rule,
        p.rationale,
        p.finding,
        stored.session,
        p.rule,
        p.strategy.as_str(),
        p.provenance.describe(),
        p.confidence,
        stored.id
    )
}

/// What a rollback did.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackReport {
    pub patch: String,
    pub files: Vec<String>,
    pub revert_commit: Option<String>,
}

/// Restores the originals of the application of `stored` byte for byte (and mode).
/// Refuses when the files changed after the apply, unless `force`.
pub fn rollback(
    store: &mut Store,
    _lock: &ProjectLock,
    stored: &StoredPatch,
    force: bool,
) -> Result<RollbackReport> {
    let root = store.project_root.clone();
    check_project(store, stored)?;
    let policy = policy_of(store)?;
    let app = store
        .application_of(stored.key)?
        .filter(|a| a.state == AppState::Applied)
        .ok_or_else(|| RepairError::NotApplied {
            patch: stored.id.clone(),
            status: stored.status.as_str().into(),
        })?;
    let mut backups = store.backups(app.key)?;
    // A file changed since the apply: put the original back around the later change
    // when the two do not meet (another patch applied after this one, or an edit of
    // the user's elsewhere in the file); else refuse, naming what is in the way.
    let mut changed = Vec::new();
    let mut merged = Vec::new();
    for b in &mut backups {
        let now = std::fs::read(root.join(&b.path)).ok();
        if now.as_deref() == Some(b.written.as_slice()) || force {
            if now.as_deref() != Some(b.written.as_slice()) {
                changed.push(b.path.clone());
            }
            continue;
        }
        let text = |v: &[u8]| String::from_utf8(v.to_vec()).ok();
        let around = match (
            text(&b.written),
            b.content.as_deref().and_then(text),
            now.as_deref().and_then(text),
        ) {
            (Some(written), Some(original), Some(now)) => rebase(&written, &original, &now),
            _ => None,
        };
        match around {
            Some(target) => {
                merged.push((b.path.clone(), target.clone().into_bytes()));
                b.content = Some(target.into_bytes());
            }
            None => {
                if let Some(key) = store.later_application_of(app.key, &b.path)? {
                    let blocking = store.patch_by_key(key)?;
                    return Err(RepairError::RollBackFirst {
                        patch: stored.id.clone(),
                        first: blocking.id,
                        file: b.path.clone(),
                    });
                }
                let diff = file_diff(&FileChange {
                    path: b.path.clone(),
                    before: Some(String::from_utf8_lossy(&b.written).into_owned()),
                    after: now
                        .map(|n| String::from_utf8_lossy(&n).into_owned())
                        .unwrap_or_default(),
                    mode: None,
                });
                return Err(RepairError::ChangedSinceApply {
                    patch: stored.id.clone(),
                    files: vec![b.path.clone()],
                    diff,
                });
            }
        }
    }
    for (path, bytes) in &merged {
        store.plan_restore(app.key, path, bytes)?;
    }
    let forced = !changed.is_empty();
    let op = store::new_op_id();
    store.set_application_state(app.key, AppState::RollingBack)?;
    restore(&policy, &backups)?;
    store.set_application_state(app.key, AppState::RolledBack)?;
    store.set_patch_status(stored.key, PatchStatus::RolledBack)?;
    let files: Vec<String> = backups.iter().map(|b| b.path.clone()).collect();
    let mut report = RollbackReport {
        patch: stored.id.clone(),
        files: files.clone(),
        revert_commit: None,
    };
    if let Some(commit) = &app.commit_id {
        let message = format!(
            "Revert \"cars: fix {} ({})\"\n\nThis reverts commit {commit}.\n",
            stored.patch.finding, stored.patch.rule
        );
        let texts: Vec<(String, Option<String>, Option<String>)> = backups
            .iter()
            .map(|b| {
                let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
                (
                    b.path.clone(),
                    Some(text(&b.written)),
                    b.content.as_deref().map(text),
                )
            })
            .collect();
        let commits: Vec<git::FileCommit> = texts
            .iter()
            .map(|(path, from, to)| git::FileCommit {
                path,
                from: from.as_deref(),
                to: to.as_deref(),
            })
            .collect();
        // The revert undoes cars' own commit: the hooks already passed on this
        // content once, so they are not asked again.
        let oid = git::commit_changes(&root, &commits, &message, false)?;
        store.record_commit(app.key, &oid, true)?;
        report.revert_commit = Some(oid);
    }
    store.event(
        &op,
        Some(stored.session),
        Some(stored.key),
        &Event::Rollback {
            patch: stored.id.clone(),
            files,
            forced,
            revert_commit: report.revert_commit.clone(),
            reason: None,
        },
    )?;
    Ok(report)
}

/// The patch of the most recent application still in effect.
pub fn last_applied(store: &Store) -> Result<StoredPatch> {
    let app = store.last_applied()?.ok_or(RepairError::NothingApplied)?;
    Ok(store.patch_by_key(app.patch_key)?)
}

/// An operation a crash left half done, and how it was finished.
#[derive(Debug, Clone, Serialize)]
pub struct Recovered {
    pub patch: String,
    pub session: i64,
    pub was: AppState,
    pub files: Vec<String>,
    /// Why it could not be finished now (it is tried again next time).
    pub failed: Option<String>,
}

/// Finishes what a crashed process left half done: an apply (or its validation) is
/// undone, a rollback completed; both mean restoring the saved originals. Only runs
/// when the project lock is free, so an operation still in progress in another
/// process is never touched; and only for this store's project.
pub fn recover(store: &mut Store) -> Result<Vec<Recovered>> {
    let Some(_lock) = store.try_lock()? else {
        return Ok(Vec::new());
    };
    let policy = policy_of(store)?;
    let mut out = Vec::new();
    for app in store.unfinished_applications()? {
        let patch = store.patch_by_key(app.patch_key)?;
        let backups = store.backups(app.key)?;
        let files: Vec<String> = backups.iter().map(|b| b.path.clone()).collect();
        let mut report = Recovered {
            patch: patch.id.clone(),
            session: patch.session,
            was: app.state,
            files: files.clone(),
            failed: None,
        };
        if let Err(e) = check_project(store, &patch) {
            report.failed = Some(e.to_string());
            out.push(report);
            continue;
        }
        if let Err(e) = restore(&policy, &backups) {
            report.failed = Some(e.to_string());
            out.push(report);
            continue;
        }
        remove_temp_files(&policy, &files);
        let (state, status) = match app.state {
            AppState::Applying => (AppState::Interrupted, PatchStatus::Proposed),
            AppState::Validating => (AppState::RolledBack, PatchStatus::Failed),
            _ => (AppState::RolledBack, PatchStatus::RolledBack),
        };
        store.set_application_state(app.key, state)?;
        store.set_patch_status(app.patch_key, status)?;
        store.event(
            &app.op_id,
            Some(patch.session),
            Some(app.patch_key),
            &Event::Recover {
                patch: patch.id.clone(),
                was: app.state.as_str().into(),
                files,
            },
        )?;
        out.push(report);
    }
    Ok(out)
}

/// Temporary files a killed write left beside `files` (`.NAME.cars-XXXXXX.tmp`).
fn remove_temp_files(policy: &PathPolicy, files: &[String]) {
    for rel in files {
        let Ok(full) = policy.check(rel, Access::Restore) else {
            continue;
        };
        let (Some(dir), Some(name)) = (full.parent(), full.file_name()) else {
            continue;
        };
        let prefix = format!(".{}.cars-", name.to_string_lossy());
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            let is_file = e.file_type().is_ok_and(|t| t.is_file());
            if is_file && n.starts_with(&prefix) && n.ends_with(".tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

fn take_backups(policy: &PathPolicy, files: &[FileChange]) -> Result<Vec<Backup>> {
    use std::os::unix::fs::PermissionsExt;
    files
        .iter()
        .map(|f| {
            let path = policy
                .check(&f.path, Access::Restore)
                .map_err(refused(&f.path))?;
            match std::fs::read(&path) {
                Ok(content) => {
                    let mode = std::fs::metadata(&path)
                        .map(|m| m.permissions().mode())
                        .ok();
                    Ok(Backup {
                        path: f.path.clone(),
                        content: Some(content),
                        mode,
                        written: f.after.clone().into_bytes(),
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Backup {
                    path: f.path.clone(),
                    content: None,
                    mode: None,
                    written: f.after.clone().into_bytes(),
                }),
                Err(source) => Err(RepairError::Io { path, source }),
            }
        })
        .collect()
}

fn write_all(policy: &PathPolicy, provenance: &Provenance, files: &[FileChange]) -> Result<()> {
    for f in files {
        // Checked again right before the write: a path can change under us.
        let path = policy
            .check(&f.path, Access::Write(provenance))
            .map_err(refused(&f.path))?;
        let mode = f.mode.or_else(|| {
            std::fs::metadata(&path).ok().map(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.permissions().mode()
            })
        });
        write_atomic(&path, f.after.as_bytes(), mode)?;
        test_pause();
    }
    Ok(())
}

/// Test builds only (`--features test-hooks`): a pause after each written file lets
/// a test kill cars mid-apply.
#[cfg(feature = "test-hooks")]
fn test_pause() {
    if let Some(ms) = std::env::var("CARS_TEST_PAUSE_AFTER_WRITE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

#[cfg(not(feature = "test-hooks"))]
fn test_pause() {}

fn restore(policy: &PathPolicy, backups: &[Backup]) -> Result<()> {
    for b in backups {
        let path = policy
            .check(&b.path, Access::Restore)
            .map_err(refused(&b.path))?;
        match &b.content {
            Some(bytes) => {
                let current = std::fs::read(&path).ok();
                if current.as_deref() != Some(bytes.as_slice()) {
                    write_atomic(&path, bytes, b.mode)?;
                } else if let Some(mode) = b.mode {
                    set_mode(&path, mode)?;
                }
            }
            None => match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(RepairError::Io { path, source }),
            },
        }
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|source| {
        RepairError::Io {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// Replaces `path` with `bytes` via a synced temporary file in the same directory and
/// a rename: readers (and a crash) see the old or the new content, never a mix. The
/// temporary file has a random name and is created with O_EXCL, so nothing planted
/// beside the file can redirect the write.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    let io = |source| RepairError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.cars-"))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = mode.unwrap_or(0o644);
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode)).map_err(io)?;
    }
    tmp.persist(path).map_err(|e| io(e.error))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)
}
