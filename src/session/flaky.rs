//! `cars flaky --rerun N -- CMD`: reruns a failing test command until each failing
//! test's verdict is clear: it passed once (flaky) or failed every time (a real
//! failure). Every run is a recorded session, so the store's flaky record grows too.

use super::{Result, Session};
use serde::Serialize;
use std::time::Duration;

/// What the reruns showed for one failing test.
#[derive(Debug, Clone, Serialize)]
pub struct TestVerdict {
    pub test: String,
    pub failed: u64,
    pub passed: u64,
    /// `flaky` or `fails every run`.
    pub verdict: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rerun {
    pub command: String,
    pub runs: u64,
    /// The command passed in some run.
    pub passed_once: bool,
    pub tests: Vec<TestVerdict>,
}

impl Session {
    /// Runs `command` up to `max_runs` times (at least twice), stopping as soon as
    /// every test that failed in the first run has passed once, or the command passed.
    pub fn rerun_for_flaky(
        &mut self,
        command: &str,
        max_runs: u64,
        timeout: Duration,
        progress: &dyn super::Progress,
    ) -> Result<Rerun> {
        let mut tests: Vec<TestVerdict> = Vec::new();
        let mut runs = 0;
        let mut passed_once = false;
        while runs < max_runs.max(2) {
            runs += 1;
            progress.step(&format!(
                "run {runs} of at most {}: `{command}`",
                max_runs.max(2)
            ));
            let ran = self.run(command, Some(timeout), &mut |_, _, _| {});
            progress.done();
            let ran = ran?;
            let failing: Vec<String> = ran
                .analysis
                .findings
                .iter()
                .filter_map(|f| f.test.clone())
                .collect();
            if runs == 1 {
                tests = failing
                    .iter()
                    .map(|t| TestVerdict {
                        test: t.clone(),
                        failed: 0,
                        passed: 0,
                        verdict: String::new(),
                    })
                    .collect();
                tests.dedup_by(|a, b| a.test == b.test);
            }
            for t in &mut tests {
                if failing.contains(&t.test) {
                    t.failed += 1;
                } else if ran.exit.success || !failing.is_empty() {
                    t.passed += 1;
                }
            }
            passed_once |= ran.exit.success;
            if runs == 1 && ran.exit.success {
                break; // nothing failed: nothing to tell
            }
            if passed_once || (runs > 1 && tests.iter().all(|t| t.passed > 0)) {
                break;
            }
        }
        for t in &mut tests {
            t.verdict = if t.passed > 0 {
                "flaky".into()
            } else {
                "fails every run".into()
            };
        }
        Ok(Rerun {
            command: command.to_string(),
            runs,
            passed_once,
            tests,
        })
    }
}
