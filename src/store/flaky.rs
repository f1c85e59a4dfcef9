//! Flaky tests across runs: each run's test outcomes are kept per command and per
//! working-tree state. A test is flaky when, on one tree, it both failed and passed,
//! kept per failure signature, so a test that times out now and then but fails for
//! real on an assertion is not excused. A run tells that a test passed when it exited
//! 0, or when it failed with other tests' failures and not this one's, after this test
//! had failed on the same tree.

use super::{Result, Store};
use rusqlite::params;
use serde::Serialize;

/// A failing test of one run: its name and the fingerprint of its failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestFailure {
    pub test: String,
    pub signature: String,
}

/// A flaky (test, failure signature) pair with its record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flaky {
    pub test: String,
    pub signature: String,
    /// The command whose runs show it.
    pub command: String,
    /// Runs of the test (on trees where it both failed and passed), and failures.
    pub runs: u64,
    pub failures: u64,
    pub rate: f64,
    pub last_seen: i64,
}

/// Fewer runs than this say nothing about flakiness.
pub const MIN_RUNS: u64 = 2;

impl Store {
    /// Records the test outcomes of run `session` of `command` on working tree `tree`.
    pub fn record_tests(
        &mut self,
        session: i64,
        command: &str,
        tree: &str,
        passed: bool,
        failures: &[TestFailure],
    ) -> Result<()> {
        let at = super::now_ms();
        let path = self.path.clone();
        let err = |source| super::StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        for f in failures {
            tx.execute(
                "INSERT INTO test_outcomes (session_id, command, tree, test, passed, signature, at) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
                params![session, command, tree, f.test, f.signature, at],
            )
            .map_err(err)?;
        }
        // Which tests passed: those that failed before on this tree and not now, when
        // the run passed or got as far as failing other tests.
        if passed || !failures.is_empty() {
            let known: Vec<String> = {
                let mut stmt = tx
                    .prepare(
                        "SELECT DISTINCT test FROM test_outcomes WHERE command = ?1 AND tree = ?2 AND passed = 0 AND session_id != ?3",
                    )
                    .map_err(err)?;
                let rows = stmt
                    .query_map(params![command, tree, session], |r| r.get::<_, String>(0))
                    .map_err(err)?;
                rows.collect::<std::result::Result<_, _>>().map_err(err)?
            };
            for test in known
                .iter()
                .filter(|t| !failures.iter().any(|f| &f.test == *t))
            {
                tx.execute(
                    "INSERT INTO test_outcomes (session_id, command, tree, test, passed, signature, at) VALUES (?1, ?2, ?3, ?4, 1, '', ?5)",
                    params![session, command, tree, test, at],
                )
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        Ok(())
    }

    /// Every flaky (test, signature): it failed with that signature and passed on
    /// the same tree of the same command, over at least `MIN_RUNS` runs.
    pub fn flaky(&self) -> Result<Vec<Flaky>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT f.command, f.test, f.signature,
                        COUNT(DISTINCT f.session_id),
                        (SELECT COUNT(DISTINCT p.session_id) FROM test_outcomes p
                          WHERE p.command = f.command AND p.test = f.test AND p.passed = 1
                            AND p.tree IN (SELECT tree FROM test_outcomes x
                                           WHERE x.command = f.command AND x.test = f.test
                                             AND x.signature = f.signature AND x.passed = 0)),
                        MAX(f.at)
                 FROM test_outcomes f
                 WHERE f.passed = 0
                   AND EXISTS (SELECT 1 FROM test_outcomes p
                               WHERE p.command = f.command AND p.test = f.test
                                 AND p.tree = f.tree AND p.passed = 1)
                 GROUP BY f.command, f.test, f.signature
                 ORDER BY MAX(f.at) DESC",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                let failures = r.get::<_, i64>(3)? as u64;
                let passes = r.get::<_, i64>(4)? as u64;
                let runs = failures + passes;
                Ok(Flaky {
                    command: r.get(0)?,
                    test: r.get(1)?,
                    signature: r.get(2)?,
                    runs,
                    failures,
                    rate: failures as f64 / runs.max(1) as f64,
                    last_seen: r.get(5)?,
                })
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let f = row.map_err(|e| self.err(e))?;
            if f.runs >= MIN_RUNS {
                out.push(f);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{SessionMeta, StoreLocation};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let loc = StoreLocation {
            dir: dir.path().join("s"),
            project_root: dir.path().to_path_buf(),
        };
        let s = Store::open(&loc).unwrap();
        (dir, s)
    }

    fn run(s: &mut Store, tree: &str, passed: bool, failing: &[(&str, &str)]) {
        let analysis = crate::analyze::Analysis {
            source: "t".into(),
            lines: 0,
            findings: Vec::new(),
            steps: Vec::new(),
        };
        let id = s
            .record_session(&analysis, &SessionMeta::default())
            .unwrap();
        let failures: Vec<TestFailure> = failing
            .iter()
            .map(|(t, sig)| TestFailure {
                test: t.to_string(),
                signature: sig.to_string(),
            })
            .collect();
        s.record_tests(id, "pytest", tree, passed, &failures)
            .unwrap();
    }

    #[test]
    fn a_test_that_fails_and_passes_on_one_tree_is_flaky_a_stable_failure_is_not() {
        let (_d, mut s) = store();
        run(
            &mut s,
            "t1",
            false,
            &[("flip", "assert a"), ("stable", "assert b")],
        );
        run(&mut s, "t1", false, &[("stable", "assert b")]);
        run(
            &mut s,
            "t1",
            false,
            &[("flip", "assert a"), ("stable", "assert b")],
        );
        let flaky = s.flaky().unwrap();
        assert_eq!(flaky.len(), 1, "{flaky:?}");
        assert_eq!(flaky[0].test, "flip");
        assert_eq!((flaky[0].failures, flaky[0].runs), (2, 3));
    }

    #[test]
    fn a_pass_on_another_tree_or_another_signature_excuses_nothing() {
        let (_d, mut s) = store();
        // Fixed by a change: another tree.
        run(&mut s, "t1", false, &[("a", "assert")]);
        run(&mut s, "t2", true, &[]);
        assert!(s.flaky().unwrap().is_empty());
        // Times out now and then on t3; its assertion failure on t4 is real.
        run(&mut s, "t3", false, &[("b", "timeout")]);
        run(&mut s, "t3", true, &[]);
        run(&mut s, "t4", false, &[("b", "assert")]);
        let flaky = s.flaky().unwrap();
        assert_eq!(flaky.len(), 1, "{flaky:?}");
        assert_eq!(flaky[0].signature, "timeout");
    }
}
