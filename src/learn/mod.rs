//! Outcome history -> calibrated confidence. Every outcome of a patch (validated,
//! validation failed, rolled back, rejected, approved) is recorded per rule, per fix
//! source and per project in a knowledge base in the user's data dir, shared across
//! their projects. A patch's confidence is its source's base confidence used as the
//! prior of a Beta distribution (a small pseudo-count), updated by the recent history
//! of the same source and rule; the gates see the result, which moves by how much the
//! posterior's 5% quantile moved from the prior's. So a source that keeps failing
//! sinks below the auto gate by itself, one that keeps working rises, and one with
//! little history barely moves. Depends on `policy` (provenance) and nothing above.

use crate::policy::Provenance;
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use statrs::distribution::{Beta, ContinuousCDF};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How many outcomes the prior weighs, as if seen.
pub const PSEUDO_COUNT: f64 = 10.0;
/// The quantile the gates compare: cautious, not the mean.
pub const QUANTILE: f64 = 0.05;
/// Each older outcome of a key counts this much less than the next newer one, so a
/// source that stops working is caught within a few outcomes.
pub const DECAY: f64 = 0.9;
/// Outcomes of a key that are read (older ones weigh less than 0.9^100).
const WINDOW: usize = 100;
/// The highest confidence learning gives.
pub const MAX_CONFIDENCE: f64 = 0.99;
/// The export format.
pub const SCHEMA: &str = "cars/knowledge/v1";

pub mod classifier;
pub mod drain;

#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    #[error("knowledge base {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("knowledge base {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Import(String),
}

type Result<T> = std::result::Result<T, LearnError>;

/// What happened to a patch, as evidence about its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Validation passed, or the patch's finding was gone: it worked.
    Validated,
    /// Validation failed and the patch was rolled back at once.
    ValidationFailed,
    /// Applied without validation: a human took it (no evidence either way).
    Approved,
    /// A human rejected the proposal.
    Rejected,
    /// A human rolled back an applied patch later.
    RolledBack,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Validated => "validated",
            Kind::ValidationFailed => "validation-failed",
            Kind::Approved => "approved",
            Kind::Rejected => "rejected",
            Kind::RolledBack => "rolled-back",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        [
            Kind::Validated,
            Kind::ValidationFailed,
            Kind::Approved,
            Kind::Rejected,
            Kind::RolledBack,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// Success, failure, or no evidence.
    pub fn evidence(self) -> Option<bool> {
        match self {
            Kind::Validated => Some(true),
            Kind::ValidationFailed | Kind::Rejected | Kind::RolledBack => Some(false),
            Kind::Approved => None,
        }
    }
}

/// The fix source a patch's history is kept under: `template python.missing-module`,
/// `tool suggestion rustc`, `tool fixer ruff`.
pub fn source_key(p: &Provenance) -> String {
    match p {
        Provenance::Log { tool } => format!("tool suggestion {tool}"),
        Provenance::Builtin { template }
        | Provenance::User { template }
        | Provenance::Project { template } => format!("template {template}"),
        Provenance::Fixer { tool } => format!("tool fixer {tool}"),
    }
}

/// One recorded outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub project: String,
    pub rule: String,
    pub source: String,
    pub kind: Kind,
    /// Milliseconds since the epoch.
    pub at: i64,
}

/// The recent history of one (source, rule): decayed counts, and the raw ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct History {
    /// Decayed number of outcomes with evidence.
    pub n: f64,
    /// Decayed number of successes among them.
    pub k: f64,
    pub successes: u64,
    pub failures: u64,
}

impl History {
    /// From outcomes with evidence, newest first.
    pub fn of(evidence: impl IntoIterator<Item = bool>) -> History {
        let mut h = History::default();
        let mut w = 1.0;
        for ok in evidence {
            h.n += w;
            if ok {
                h.k += w;
                h.successes += 1;
            } else {
                h.failures += 1;
            }
            w *= DECAY;
        }
        h
    }
}

/// How a confidence was arrived at: `cars explain` shows each part.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The source's own confidence: the prior's mean.
    pub base: f64,
    pub n: f64,
    pub k: f64,
    pub successes: u64,
    pub failures: u64,
    /// The prior's and the posterior's `QUANTILE`.
    pub prior_bound: f64,
    pub bound: f64,
    /// What the gates compare.
    pub result: f64,
}

fn quantile(alpha: f64, beta: f64) -> f64 {
    match Beta::new(alpha.max(1e-3), beta.max(1e-3)) {
        Ok(d) => d.inverse_cdf(QUANTILE),
        Err(_) => 0.0,
    }
}

/// The calibrated confidence for a base confidence and its history. With no history
/// it is the base; each success raises and each failure lowers it by how much it
/// moves the posterior's lower bound.
pub fn calibrate(base: f64, h: &History) -> Calibration {
    let base = base.clamp(0.01, 0.99);
    let (a, b) = (base * PSEUDO_COUNT, (1.0 - base) * PSEUDO_COUNT);
    let prior_bound = quantile(a, b);
    let bound = quantile(a + h.k, b + (h.n - h.k));
    let result = if h.n == 0.0 {
        base
    } else {
        (base + bound - prior_bound).clamp(0.0, MAX_CONFIDENCE.max(base))
    };
    Calibration {
        base,
        n: h.n,
        k: h.k,
        successes: h.successes,
        failures: h.failures,
        prior_bound,
        bound,
        result,
    }
}

/// A success rate with its counts, for `cars learn stats`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rate {
    /// `rule rust.E0425`, `source template python.missing-module`, `project /srv/app`.
    pub key: String,
    pub successes: u64,
    pub failures: u64,
    pub neutral: u64,
}

/// The knowledge base: SQLite in the user's data dir, shared by every cars process.
pub struct Knowledge {
    conn: Connection,
    path: PathBuf,
}

/// `$CARS_DATA_DIR/knowledge.db`, else `cars/knowledge.db` in the user's data dir.
pub fn default_path() -> PathBuf {
    crate::config::data_dir().join("knowledge.db")
}

#[derive(Serialize, Deserialize)]
struct Export {
    schema: String,
    outcomes: Vec<Outcome>,
}

impl Knowledge {
    pub fn open_default() -> Result<Knowledge> {
        Knowledge::open(&default_path())
    }

    pub fn open(path: &Path) -> Result<Knowledge> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| LearnError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let err = |source| LearnError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS outcomes (
                 id INTEGER PRIMARY KEY,
                 project TEXT NOT NULL,
                 rule TEXT NOT NULL,
                 source TEXT NOT NULL,
                 kind TEXT NOT NULL,
                 at INTEGER NOT NULL
             );
             CREATE INDEX IF NOT EXISTS outcomes_key ON outcomes (source, rule, at);
             CREATE TABLE IF NOT EXISTS labels (
                 id INTEGER PRIMARY KEY,
                 text TEXT NOT NULL,
                 category TEXT NOT NULL,
                 at INTEGER NOT NULL
             );",
        )
        .map_err(err)?;
        Ok(Knowledge {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> LearnError + '_ {
        |source| LearnError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    pub fn record(&self, o: &Outcome) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO outcomes (project, rule, source, kind, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![o.project, o.rule, o.source, o.kind.as_str(), o.at],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// The recent history of `source` on `rule`, across the user's projects.
    pub fn history(&self, source: &str, rule: &str) -> Result<History> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT kind FROM outcomes WHERE source = ?1 AND rule = ?2 ORDER BY at DESC, id DESC LIMIT ?3",
            )
            .map_err(self.err())?;
        let kinds = stmt
            .query_map(params![source, rule, WINDOW as i64], |r| {
                r.get::<_, String>(0)
            })
            .map_err(self.err())?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(self.err())?;
        Ok(History::of(
            kinds
                .iter()
                .filter_map(|k| Kind::parse(k).and_then(Kind::evidence)),
        ))
    }

    /// `base` calibrated by the history of `source` on `rule`.
    pub fn calibrate(&self, base: f64, source: &str, rule: &str) -> Result<Calibration> {
        Ok(calibrate(base, &self.history(source, rule)?))
    }

    /// Success rates by rule, by source and by project.
    pub fn stats(&self) -> Result<Vec<Rate>> {
        let mut out = Vec::new();
        for (label, column) in [
            ("rule", "rule"),
            ("source", "source"),
            ("project", "project"),
        ] {
            let sql = format!(
                "SELECT {column},
                        SUM(kind = 'validated'),
                        SUM(kind IN ('validation-failed', 'rejected', 'rolled-back')),
                        SUM(kind = 'approved')
                 FROM outcomes GROUP BY {column} ORDER BY COUNT(*) DESC, {column}"
            );
            let mut stmt = self.conn.prepare(&sql).map_err(self.err())?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(Rate {
                        key: format!("{label} {}", r.get::<_, String>(0)?),
                        successes: r.get::<_, i64>(1)? as u64,
                        failures: r.get::<_, i64>(2)? as u64,
                        neutral: r.get::<_, i64>(3)? as u64,
                    })
                })
                .map_err(self.err())?;
            for row in rows {
                out.push(row.map_err(self.err())?);
            }
        }
        Ok(out)
    }

    /// Records a user's correction: the error block `text` is of `category`.
    pub fn label(
        &self,
        text: &str,
        category: crate::rules::model::Category,
        at: i64,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO labels (text, category, at) VALUES (?1, ?2, ?3)",
                params![text, category.as_str(), at],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// Every correction, oldest first.
    pub fn labels(&self) -> Result<Vec<(String, crate::rules::model::Category)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT text, category FROM labels ORDER BY at, id")
            .map_err(self.err())?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(self.err())?;
        let mut out = Vec::new();
        for row in rows {
            let (text, cat) = row.map_err(self.err())?;
            if let Ok(c) = cat.parse() {
                out.push((text, c));
            }
        }
        Ok(out)
    }

    /// The shipped classifier with the user's corrections added, written to the data
    /// dir, where analysis picks it up; how many corrections it holds.
    pub fn train(&self) -> Result<usize> {
        let mut model = classifier::Classifier::builtin().clone();
        let labels = self.labels()?;
        for (text, category) in &labels {
            model.add(text, *category, classifier::LABEL_WEIGHT);
        }
        let path = classifier::user_model_path();
        let json = serde_json::to_string(&model).map_err(|e| LearnError::Import(e.to_string()))?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, json)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|source| LearnError::Io { path, source })?;
        Ok(labels.len())
    }

    /// Forgets every outcome, or those of one rule; how many were removed.
    pub fn reset(&self, rule: Option<&str>) -> Result<usize> {
        let n = match rule {
            Some(r) => self
                .conn
                .execute("DELETE FROM outcomes WHERE rule = ?1", [r]),
            None => self.conn.execute("DELETE FROM outcomes", []),
        }
        .map_err(self.err())?;
        Ok(n)
    }

    /// Every outcome as versioned JSON.
    pub fn export(&self, out: &mut dyn std::io::Write) -> Result<usize> {
        let mut stmt = self
            .conn
            .prepare("SELECT project, rule, source, kind, at FROM outcomes ORDER BY at, id")
            .map_err(self.err())?;
        let outcomes = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })
            .map_err(self.err())?
            .filter_map(|row| row.ok())
            .filter_map(|(project, rule, source, kind, at)| {
                Some(Outcome {
                    project,
                    rule,
                    source,
                    kind: Kind::parse(&kind)?,
                    at,
                })
            })
            .collect::<Vec<_>>();
        let n = outcomes.len();
        let doc = Export {
            schema: SCHEMA.into(),
            outcomes,
        };
        serde_json::to_writer_pretty(&mut *out, &doc)
            .map_err(|e| LearnError::Import(e.to_string()))?;
        writeln!(out).map_err(|source| LearnError::Io {
            path: PathBuf::from("-"),
            source,
        })?;
        Ok(n)
    }

    /// Adds the outcomes of an export (one transaction); how many.
    pub fn import(&mut self, text: &str) -> Result<usize> {
        let doc: Export = serde_json::from_str(text)
            .map_err(|e| LearnError::Import(format!("not a cars knowledge export: {e}")))?;
        if doc.schema != SCHEMA {
            return Err(LearnError::Import(format!(
                "schema `{}`, this cars reads `{SCHEMA}`",
                doc.schema
            )));
        }
        let path = self.path.clone();
        let err = |source| LearnError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        for o in &doc.outcomes {
            tx.execute(
                "INSERT INTO outcomes (project, rule, source, kind, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![o.project, o.rule, o.source, o.kind.as_str(), o.at],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(doc.outcomes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_history_keeps_the_base() {
        let c = calibrate(0.95, &History::default());
        assert_eq!(c.result, 0.95);
    }

    #[test]
    fn one_failure_takes_a_source_below_the_auto_gate_and_successes_lift_it() {
        let failed = calibrate(0.95, &History::of([false]));
        assert!(failed.result < 0.90, "{failed:?}");
        let one = calibrate(0.80, &History::of([true]));
        assert!(one.result > 0.80 && one.result < 0.90, "{one:?}");
        let many = calibrate(0.80, &History::of([true; 8]));
        assert!(many.result >= 0.90, "{many:?}");
        assert!(many.result <= MAX_CONFIDENCE);
    }

    #[test]
    fn recent_outcomes_weigh_more_so_a_source_that_stops_working_sinks() {
        // Newest first: three recent failures after many old successes.
        let drift: Vec<bool> = [false; 3].into_iter().chain([true; 20]).collect();
        let c = calibrate(0.90, &History::of(drift));
        assert!(c.result < 0.90, "{c:?}");
        assert_eq!((c.successes, c.failures), (20, 3));
    }

    #[test]
    fn the_store_round_trips_and_stats_count_by_rule_source_and_project() {
        let dir = tempfile::tempdir().unwrap();
        let mut kb = Knowledge::open(&dir.path().join("k.db")).unwrap();
        for (i, kind) in [
            Kind::Validated,
            Kind::Validated,
            Kind::Rejected,
            Kind::Approved,
        ]
        .into_iter()
        .enumerate()
        {
            kb.record(&Outcome {
                project: "/p".into(),
                rule: "rust.E0425".into(),
                source: "tool suggestion rustc".into(),
                kind,
                at: i as i64,
            })
            .unwrap();
        }
        let h = kb.history("tool suggestion rustc", "rust.E0425").unwrap();
        assert_eq!((h.successes, h.failures), (2, 1));
        let stats = kb.stats().unwrap();
        let rule = stats.iter().find(|r| r.key == "rule rust.E0425").unwrap();
        assert_eq!((rule.successes, rule.failures, rule.neutral), (2, 1, 1));
        let mut json = Vec::new();
        assert_eq!(kb.export(&mut json).unwrap(), 4);
        assert_eq!(kb.reset(Some("rust.E0425")).unwrap(), 4);
        assert_eq!(kb.import(std::str::from_utf8(&json).unwrap()).unwrap(), 4);
        assert!(kb
            .import("{\"schema\": \"other\", \"outcomes\": []}")
            .is_err());
    }
}
