//! `heal`: the loop from red to green. Run the command, analyze it, propose, apply
//! what the gates (or the user) allow with the command as validation, and repeat
//! until the command passes, a round makes no progress, or the budget is spent.
//! Every round is an ordinary recorded session, so history, export and rollback see it.

use super::{Approve, Progress, Result, Session, SessionError, Validate};
use crate::repair::{run::CommandRunner, Verdict};
use crate::rules::model::Level;
use crate::store::StoredPatch;
use serde::Serialize;
use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

/// What `heal` may do.
#[derive(Debug, Clone)]
pub struct HealOptions {
    pub command: String,
    /// At most this many rounds of run, propose, apply.
    pub rounds: usize,
    /// No new round starts after this much time.
    pub budget: Duration,
    /// Per run of the command.
    pub timeout: Duration,
    /// Ask the reviewer for every patch (the approve gate) instead of taking what the
    /// auto gate allows.
    pub ask: bool,
    /// With `ask`: offer the patches that need `--force` too.
    pub force: bool,
    pub commit: bool,
}

/// The reviewer's answer for one offered patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    /// Stop healing; what was applied stays.
    Quit,
}

/// Decides on each offered patch when healing with `ask`.
pub trait Reviewer {
    fn review(&mut self, patch: &StoredPatch) -> Answer;
}

/// Takes every patch it is offered (healing without `ask` never asks).
pub struct TakeAll;
impl Reviewer for TakeAll {
    fn review(&mut self, _patch: &StoredPatch) -> Answer {
        Answer::Yes
    }
}

/// One patch tried in a round.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub patch: String,
    pub finding: String,
    pub message: String,
    /// `kept`, `rolled back: ...`, `refused: ...`, `rejected`.
    pub outcome: String,
    pub kept: bool,
}

/// One round: a run of the command and the patches tried on its findings.
#[derive(Debug, Clone, Serialize)]
pub struct Round {
    pub number: usize,
    pub session: i64,
    pub passed: bool,
    pub errors: usize,
    pub elapsed_ms: u64,
    pub attempts: Vec<Attempt>,
}

/// Why healing stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stop {
    /// The command passes.
    Passed,
    /// A round found nothing it could apply and keep.
    NoProgress,
    /// The `rounds` limit.
    Rounds,
    /// The time budget.
    Time,
    /// The reviewer quit.
    Quit,
    /// A test that passed at the start fails at the end: every patch of this heal
    /// was rolled back.
    Worse,
}

/// An error still there at the end, and why no patch fixed it.
#[derive(Debug, Clone, Serialize)]
pub struct Remaining {
    pub finding: String,
    pub message: String,
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HealReport {
    pub command: String,
    pub stop: Stop,
    pub passed: bool,
    pub rounds: Vec<Round>,
    /// The patches kept, in the order applied.
    pub fixed: Vec<Attempt>,
    pub remaining: Vec<Remaining>,
    /// Patches rolled back because the end state was worse than the start.
    pub undone: Vec<String>,
    pub elapsed_ms: u64,
}

/// One patch tried, and what the loop needs to know of it.
struct Tried {
    attempt: Attempt,
    message: String,
    why: String,
    kept: bool,
    /// The validation run passed: healing is done.
    passes: bool,
}

/// What one run of the command showed.
#[derive(Debug, Clone, Default)]
struct RunState {
    ok: bool,
    errors: usize,
    /// The output names tests (so the tests ran).
    ran_tests: bool,
    failing_tests: BTreeSet<String>,
}

impl Session {
    /// Heals the project: see the module doc. Only the command failing to start, or
    /// the store failing, is an error; a patch refused or rolled back is part of the
    /// report.
    pub fn heal(
        &mut self,
        opts: &HealOptions,
        reviewer: &mut dyn Reviewer,
        runner: &dyn CommandRunner,
        progress: &dyn Progress,
    ) -> Result<HealReport> {
        let started = Instant::now();
        let how = Approve {
            auto: !opts.ask,
            force: opts.ask && opts.force,
            validate: Validate::Command(opts.command.clone()),
            timeout: opts.timeout,
            commit: opts.commit,
            ..Approve::by("heal")
        };
        let mut rounds: Vec<Round> = Vec::new();
        let mut stop;
        let mut why_not: Vec<(String, String)> = Vec::new();
        let mut first: Option<RunState> = None;
        let mut last = RunState::default();
        let mut passed = false;
        let mut kept_since_run = false;
        let mut number = 0;
        loop {
            if number >= opts.rounds.max(1) || started.elapsed() >= opts.budget {
                stop = if number >= opts.rounds.max(1) {
                    Stop::Rounds
                } else {
                    Stop::Time
                };
                // Patches were kept after the last run: one more run tells where it
                // stands (recorded, not a round).
                if kept_since_run {
                    last = self.heal_run(&opts.command, opts.timeout)?;
                    passed = last.ok;
                    if passed {
                        stop = Stop::Passed;
                    }
                }
                break;
            }
            number += 1;
            let round_started = Instant::now();
            progress.step(&format!("round {number}: running `{}`", opts.command));
            let ran = self.heal_run(&opts.command, opts.timeout);
            progress.done();
            last = ran?;
            let (ok, errors) = (last.ok, last.errors);
            kept_since_run = false;
            first.get_or_insert_with(|| last.clone());
            let session = self.current()?;
            let mut round = Round {
                number,
                session,
                passed: ok,
                errors,
                elapsed_ms: 0,
                attempts: Vec::new(),
            };
            if ok {
                passed = true;
                stop = Stop::Passed;
                round.elapsed_ms = round_started.elapsed().as_millis() as u64;
                rounds.push(round);
                break;
            }
            let proposals = self.propose(&[])?;
            // This session is the command's own run on this tree: the suggestions it
            // holds are the tool's, as a confirming run would show.
            self.confirm_own_run(&how)?;
            why_not = proposals
                .unfixable
                .iter()
                .map(|u| (self.message_of(session, &u.finding), u.reason.clone()))
                .collect();
            let (candidates, left) = self.heal_candidates(&how)?;
            for (id, why) in left {
                why_not.push((self.message_of(session, &id), why));
            }
            let mut quit = false;
            for p in candidates {
                let Some(attempt) =
                    self.heal_attempt(session, &p, &how, reviewer, runner, progress)?
                else {
                    quit = true;
                    break;
                };
                if !attempt.kept {
                    why_not.push((attempt.message.clone(), attempt.why.clone()));
                }
                kept_since_run |= attempt.kept;
                let now_passes = attempt.passes;
                round.attempts.push(attempt.attempt);
                if now_passes {
                    passed = true;
                    break;
                }
            }
            round.elapsed_ms = round_started.elapsed().as_millis() as u64;
            let progressed = round.attempts.iter().any(|a| a.kept);
            rounds.push(round);
            if passed {
                stop = Stop::Passed;
                break;
            }
            if quit {
                stop = Stop::Quit;
                break;
            }
            if !progressed {
                stop = Stop::NoProgress;
                break;
            }
        }

        let fixed: Vec<Attempt> = rounds
            .iter()
            .flat_map(|r| r.attempts.iter().filter(|a| a.kept).cloned())
            .collect();
        // A patch never makes things worse: each was validated on its own, but if a
        // test that passed at the start (the start ran tests, and it was not among the
        // failures) fails at the end, every patch of this heal is undone, newest first.
        let mut undone = Vec::new();
        let newly_failing = first.as_ref().is_some_and(|f| {
            f.ran_tests
                && last
                    .failing_tests
                    .iter()
                    .any(|t| !f.failing_tests.contains(t))
        });
        if !passed && newly_failing && !fixed.is_empty() {
            for a in fixed.iter().rev() {
                self.rollback(Some(&a.patch), false, progress)?;
                undone.push(a.patch.clone());
            }
            stop = Stop::Worse;
        }
        let remaining = if passed {
            Vec::new()
        } else {
            self.remaining(&why_not)?
        };
        Ok(HealReport {
            command: opts.command.clone(),
            stop,
            passed,
            fixed: if undone.is_empty() { fixed } else { Vec::new() },
            rounds,
            remaining,
            undone,
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }

    /// Offers one patch (to the reviewer, when asking) and applies it with validation.
    /// `None` when the reviewer quits. A refusal is an outcome, not an error.
    fn heal_attempt(
        &mut self,
        session: i64,
        p: &StoredPatch,
        how: &Approve,
        reviewer: &mut dyn Reviewer,
        runner: &dyn CommandRunner,
        progress: &dyn Progress,
    ) -> Result<Option<Tried>> {
        let finding = self.store.finding(session, &p.patch.finding)?;
        let tried = |outcome: String, kept: bool, why: String, passes: bool| Tried {
            attempt: Attempt {
                patch: p.id.clone(),
                finding: finding.id.clone(),
                message: finding.message.clone(),
                outcome,
                kept,
            },
            message: finding.message.clone(),
            why,
            kept,
            passes,
        };
        if !how.auto {
            match reviewer.review(p) {
                Answer::Yes => {}
                Answer::No => {
                    self.reject(&p.id, Some("declined during heal"), "heal")?;
                    let why = format!("you declined {}", p.id);
                    return Ok(Some(tried("rejected".into(), false, why, false)));
                }
                Answer::Quit => return Ok(None),
            }
        }
        let refused = |why: String| Ok(Some(tried(why.clone(), false, why, false)));
        match self.approve(p, how, runner, progress) {
            Ok(report) => {
                let verdict = report.validation.as_ref().map(|v| &v.verdict);
                let outcome = match verdict {
                    _ if !report.rolled_back => "kept".to_string(),
                    Some(Verdict::StillFailing { reason }) => format!("rolled back: {reason}"),
                    _ => "rolled back".into(),
                };
                let passes = matches!(verdict, Some(Verdict::Passed));
                Ok(Some(tried(
                    outcome.clone(),
                    !report.rolled_back,
                    outcome,
                    passes,
                )))
            }
            Err(SessionError::Refused { refusal, .. }) => refused(format!("refused: {refusal}")),
            Err(SessionError::Repair(e)) if !matches!(e, crate::repair::RepairError::Store(_)) => {
                refused(format!("refused: {e}"))
            }
            Err(e) => Err(e),
        }
    }

    /// Runs the command once as a recorded session.
    fn heal_run(&mut self, command: &str, timeout: Duration) -> Result<RunState> {
        let ran = self.run(command, Some(timeout), &mut |_, _, _| {})?;
        let findings = &ran.analysis.findings;
        Ok(RunState {
            ok: ran.exit.success,
            errors: findings
                .iter()
                .filter(|f| f.level == Level::Error && !f.consequence)
                .count(),
            ran_tests: findings.iter().any(|f| f.test.is_some()),
            failing_tests: findings.iter().filter_map(|f| f.test.clone()).collect(),
        })
    }

    /// The patches to try this round, best first, one per finding, and why the other
    /// proposed ones were left out.
    fn heal_candidates(&self, how: &Approve) -> Result<super::AutoSelection> {
        let mut take: Vec<StoredPatch> = Vec::new();
        let mut left = Vec::new();
        let mut patches = self.store.patches(self.current()?)?;
        patches.retain(|p| p.status == crate::store::PatchStatus::Proposed);
        patches.sort_by(|a, b| b.patch.confidence.total_cmp(&a.patch.confidence));
        let mut seen = HashSet::new();
        for p in patches {
            if seen.contains(&p.patch.finding) {
                continue;
            }
            match self.decide(&p, how) {
                Ok(_) => {
                    seen.insert(p.patch.finding.clone());
                    take.push(p);
                }
                Err(e) => {
                    let manual = Approve {
                        auto: false,
                        ..how.clone()
                    };
                    let hint = if how.auto && self.decide(&p, &manual).is_ok() {
                        "; `cars heal --approve` offers it"
                    } else {
                        ""
                    };
                    left.push((p.patch.finding.clone(), format!("{e}{hint}")));
                }
            }
        }
        Ok((take, left))
    }

    fn message_of(&self, session: i64, finding: &str) -> String {
        self.store
            .finding(session, finding)
            .map(|f| f.message)
            .unwrap_or_default()
    }

    /// The current session's root errors, each with the last reason no patch fixed it
    /// (matched by message: finding ids are per session).
    fn remaining(&self, why_not: &[(String, String)]) -> Result<Vec<Remaining>> {
        Ok(self
            .findings()?
            .into_iter()
            .filter(|f| f.level == Level::Error && !f.consequence)
            .map(|f| {
                let why = why_not
                    .iter()
                    .rev()
                    .find(|(message, _)| *message == f.message)
                    .map(|(_, w)| w.clone())
                    .unwrap_or_else(|| "no patch was tried for it".into());
                Remaining {
                    finding: f.id,
                    message: f.message,
                    why,
                }
            })
            .collect())
    }
}
