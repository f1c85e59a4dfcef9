//! Evidence a fresh run gives: a suggestion the log holds is text anyone could have
//! written, but the same suggestion printed by the tool on this tree, in a run cars
//! makes itself, is the tool's own. `cars apply --auto` re-runs the validation command
//! once, before it applies anything, for the log suggestions and template patches that
//! do exactly what their diagnostic names (`fix::named`, or a template's `confirm`),
//! and those the run confirms may pass the auto gate. A tool fixer's patch is the
//! tool's own already: a second run adds nothing to it.

use super::{Approve, Progress, Result, Session, SessionError};
use crate::analyze::Finding;
use crate::repair::run::CommandRunner;
use crate::repair::Gates;
use crate::store::{PatchStatus, StoredPatch};

/// What `Session::reproduce` found.
#[derive(Debug, Default)]
pub struct Reproduction {
    /// The validation command that ran, when one did.
    pub command: Option<String>,
    /// Patches the fresh run confirmed.
    pub confirmed: Vec<String>,
    /// Patches it did not, with why.
    pub unconfirmed: Vec<(String, String)>,
}

impl Session {
    /// Patches that only a confirming run keeps from the auto gate: proposed, refused
    /// for `--auto`, at the gate with the bonus, and either an edit the diagnostic
    /// itself names (`fix::named`) or from a template that asks for confirmation.
    fn awaiting_reproduction(&mut self, how: &Approve) -> Result<Vec<(StoredPatch, Finding)>> {
        let session = self.current()?;
        let gates = self.gates();
        self.templates()?;
        let templates = self.templates.as_ref().expect("loaded above");
        let mut out = Vec::new();
        for p in self.store.patches(session)? {
            if p.status != PatchStatus::Proposed
                || self.reproduced.contains(&p.id)
                || matches!(p.patch.provenance, crate::policy::Provenance::Fixer { .. })
            {
                continue;
            }
            if self.decide(&p, how).is_ok() {
                continue;
            }
            let raised = crate::fix::named::confirmed(p.patch.clone());
            if Gates::auto_cap(&raised).is_some() || raised.confidence < gates.auto {
                continue;
            }
            let finding = self.store.finding(session, &p.patch.finding)?;
            if templates.confirms(&p.patch.provenance)
                || crate::fix::named::tool_named_edit(&finding, &p.patch)
            {
                out.push((p, finding));
            }
        }
        Ok(out)
    }

    /// For `--auto` with a validation command: runs it once on the tree as it is, and
    /// marks as confirmed the waiting patches (see `awaiting_reproduction`) that the
    /// same source makes again, file for file, from that run's own diagnostic at the
    /// same place. Does nothing (and runs nothing) when no patch waits for such a run.
    pub fn reproduce(
        &mut self,
        how: &Approve,
        runner: &dyn CommandRunner,
        progress: &dyn Progress,
    ) -> Result<Reproduction> {
        let mut out = Reproduction::default();
        if !how.auto {
            return Ok(out);
        }
        let Some(command) = self.validation_command(how)? else {
            return Ok(out);
        };
        let waiting = self.awaiting_reproduction(how)?;
        if waiting.is_empty() {
            return Ok(out);
        }
        progress.step(&format!(
            "running `{command}` to confirm {} suggestion(s) the log holds",
            waiting.len()
        ));
        let ran = runner.run(&command, self.root(), how.timeout);
        progress.done();
        let ran = ran.map_err(|source| SessionError::Spawn {
            command: command.clone(),
            source,
        })?;
        out.command = Some(command);
        let fresh = if ran.success || ran.timed_out {
            Vec::new()
        } else {
            let matcher = crate::analyze::Matcher::new(self.rules()?);
            crate::repair::analyze_output(&matcher, "the confirming run", &ran.output)?.findings
        };
        let policy = crate::repair::policy_of(&self.store)?;
        let templates = self
            .templates
            .as_ref()
            .expect("loaded by awaiting_reproduction");
        let key = |f: &Finding| crate::repair::run_key(f, Some(&policy));
        let line = |f: &Finding| f.location.as_ref().and_then(|l| l.line);
        for (p, finding) in waiting {
            let again = fresh
                .iter()
                .filter(|f| key(f) == key(&finding) && line(f) == line(&finding))
                .any(|f| {
                    let made = match &p.patch.provenance {
                        crate::policy::Provenance::Log { .. } => {
                            crate::fix::suggest::from_tool(f, &policy)
                        }
                        _ => templates.apply(f, &policy),
                    };
                    made.is_ok_and(|made| made.iter().any(|m| m.files == p.patch.files))
                });
            if again {
                self.reproduced.insert(p.id.clone());
                out.confirmed.push(p.id);
            } else {
                let why = if ran.success {
                    "the command passes on this tree".to_string()
                } else {
                    "a fresh run does not print this suggestion".to_string()
                };
                out.unconfirmed.push((p.id, why));
            }
        }
        Ok(out)
    }

    /// The current session is a run cars just made of the validation command on this
    /// tree (`cars heal`): its tool-named swaps need no second run.
    pub(crate) fn confirm_own_run(&mut self, how: &Approve) -> Result<()> {
        for (p, _) in self.awaiting_reproduction(how)? {
            self.reproduced.insert(p.id);
        }
        Ok(())
    }

    /// `p` with what a confirming run adds, when one confirmed it.
    pub(crate) fn with_evidence(&self, p: &StoredPatch) -> StoredPatch {
        let mut p = p.clone();
        if self.is_confirmed(&p) {
            p.patch = crate::fix::named::confirmed(p.patch);
        }
        p
    }

    /// A confirming run vouched for `p`, which is still only proposed.
    pub(crate) fn is_confirmed(&self, p: &StoredPatch) -> bool {
        self.reproduced.contains(&p.id) && p.status == PatchStatus::Proposed
    }
}
