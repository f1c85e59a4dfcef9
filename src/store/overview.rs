//! Read-only summaries of a store for the service front end (`cars serve`): the counts
//! behind `/metrics` and the status page, and the event log paged by a cursor. Reads
//! only this store's own tables, so every figure survives a restart of the service.

use super::{from_json, HistoryEntry, Result, Store};
use rusqlite::params;
use serde::Serialize;

/// Rules that only say "something failed here" (the failure-context fallback and the
/// generic catch-alls): a failure explained by nothing else is unexplained.
const UNEXPLAINING_RULES: &str = "rule = 'cars.failure-context' OR rule LIKE 'generic.%'";

/// Counts and latencies of one store.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overview {
    pub sessions: u64,
    /// Sessions whose command failed, or (a log, exit unknown) that found an error.
    pub failed_sessions: u64,
    /// Failed sessions that no specific rule explained.
    pub unexplained_failures: u64,
    /// Error findings (not consequences of another) by category.
    pub errors_by_category: Vec<(String, u64)>,
    /// Applications written (an interrupted one does not count).
    pub repairs_attempted: u64,
    pub repairs_validated: u64,
    pub repairs_failed: u64,
    /// Undone by a rollback after it was kept (not by a failed validation).
    pub repairs_rolled_back: u64,
    /// The analysis time of every session, in ms.
    pub analysis_ms: Vec<u64>,
    /// Time to the first finding of every failed session that has one, in ms.
    pub detect_ms: Vec<u64>,
    /// Time from a failed session to its first validated patch, in ms.
    pub repair_ms: Vec<u64>,
    /// How long each finished application took, its validation run included, in ms.
    pub apply_ms: Vec<u64>,
}

/// A failed session, for the status page.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub session: i64,
    pub at: i64,
    pub command: Option<String>,
    pub errors: u64,
    /// The top-ranked error's rule and message.
    pub rule: Option<String>,
    pub message: Option<String>,
}

/// One application of a patch, for the status page.
#[derive(Debug, Clone, Serialize)]
pub struct Repair {
    pub session: i64,
    pub patch: String,
    pub rule: String,
    pub state: String,
    pub validation_ok: Option<bool>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

/// An event of the log with its key, so a page can end where the next begins.
#[derive(Debug, Clone, Serialize)]
pub struct KeyedEvent {
    pub key: i64,
    #[serde(flatten)]
    pub entry: HistoryEntry,
}

const FAILED: &str = "(s.passed = 0 OR (s.passed IS NULL AND EXISTS (
    SELECT 1 FROM findings f WHERE f.session_id = s.id AND f.consequence = 0
    AND json_extract(f.data, '$.level') = 'error')))";

impl Store {
    pub fn overview(&self) -> Result<Overview> {
        let count = |sql: &str| -> Result<u64> {
            self.conn
                .query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|v| v.max(0) as u64)
                .map_err(|e| self.err(e))
        };
        let column = |sql: &str| -> Result<Vec<u64>> {
            let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map([], |r| r.get::<_, i64>(0))
                .and_then(|rows| rows.collect::<std::result::Result<Vec<i64>, _>>())
                .map_err(|e| self.err(e))?;
            Ok(rows.into_iter().map(|v| v.max(0) as u64).collect())
        };
        let mut stmt = self
            .conn
            .prepare(
                "SELECT category, count(*) FROM findings
                 WHERE consequence = 0 AND json_extract(data, '$.level') = 'error'
                 GROUP BY category ORDER BY category",
            )
            .map_err(|e| self.err(e))?;
        let errors_by_category = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .and_then(|rows| rows.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(Overview {
            sessions: count("SELECT count(*) FROM sessions")?,
            failed_sessions: count(&format!("SELECT count(*) FROM sessions s WHERE {FAILED}"))?,
            unexplained_failures: count(&format!(
                "SELECT count(*) FROM sessions s WHERE {FAILED} AND NOT EXISTS (
                    SELECT 1 FROM findings f WHERE f.session_id = s.id AND NOT ({UNEXPLAINING_RULES}))"
            ))?,
            errors_by_category,
            repairs_attempted: count(
                "SELECT count(*) FROM applications WHERE state NOT IN ('applying', 'interrupted')",
            )?,
            repairs_validated: count("SELECT count(*) FROM applications WHERE validation_ok = 1")?,
            repairs_failed: count("SELECT count(*) FROM applications WHERE validation_ok = 0")?,
            repairs_rolled_back: count(
                "SELECT count(*) FROM applications WHERE state = 'rolled-back'
                 AND (validation_ok IS NULL OR validation_ok = 1)",
            )?,
            analysis_ms: column("SELECT analysis_ms FROM sessions")?,
            detect_ms: column(&format!(
                "SELECT first_finding_ms FROM sessions s
                 WHERE {FAILED} AND first_finding_ms IS NOT NULL"
            ))?,
            repair_ms: column(
                "SELECT min(a.finished_at) - s.created_at FROM applications a
                 JOIN patches p ON p.id = a.patch_id JOIN sessions s ON s.id = p.session_id
                 WHERE a.validation_ok = 1 AND a.finished_at IS NOT NULL GROUP BY s.id",
            )?,
            apply_ms: column(
                "SELECT finished_at - started_at FROM applications WHERE finished_at IS NOT NULL",
            )?,
        })
    }

    /// The newest failed sessions, newest first.
    pub fn recent_failures(&self, limit: usize) -> Result<Vec<Failure>> {
        let sql = format!(
            "SELECT s.id, s.created_at, s.command,
                (SELECT count(*) FROM findings f WHERE f.session_id = s.id AND f.consequence = 0
                    AND json_extract(f.data, '$.level') = 'error'),
                (SELECT f.rule FROM findings f WHERE f.session_id = s.id ORDER BY f.rank LIMIT 1),
                (SELECT json_extract(f.data, '$.message') FROM findings f
                    WHERE f.session_id = s.id ORDER BY f.rank LIMIT 1)
             FROM sessions s WHERE {FAILED} ORDER BY s.id DESC LIMIT ?1"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok(Failure {
                    session: r.get(0)?,
                    at: r.get(1)?,
                    command: r.get(2)?,
                    errors: r.get::<_, i64>(3)? as u64,
                    rule: r.get(4)?,
                    message: r.get(5)?,
                })
            })
            .and_then(|rows| rows.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// The newest applications of patches, newest first.
    pub fn recent_repairs(&self, limit: usize) -> Result<Vec<Repair>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT p.session_id, 'P' || p.seq, p.rule, a.state, a.validation_ok,
                        a.started_at, a.finished_at
                 FROM applications a JOIN patches p ON p.id = a.patch_id
                 ORDER BY a.id DESC LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok(Repair {
                    session: r.get(0)?,
                    patch: r.get(1)?,
                    rule: r.get(2)?,
                    state: r.get(3)?,
                    validation_ok: r.get::<_, Option<i64>>(4)?.map(|v| v != 0),
                    started_at: r.get(5)?,
                    finished_at: r.get(6)?,
                })
            })
            .and_then(|rows| rows.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// At most `limit` events, newest first, all older than `before` (an `at` and a
    /// key, from the last event of the previous page).
    pub fn events_page(&self, before: Option<(i64, i64)>, limit: usize) -> Result<Vec<KeyedEvent>> {
        let (at, key) = before.unwrap_or((i64::MAX, i64::MAX));
        let mut stmt = self
            .conn
            .prepare(
                "SELECT e.id, e.at, coalesce(e.session_id, p.session_id), 'P' || p.seq, e.kind,
                        e.detail
                 FROM events e LEFT JOIN patches p ON p.id = e.patch_id
                 WHERE e.at < ?1 OR (e.at = ?1 AND e.id < ?2)
                 ORDER BY e.at DESC, e.id DESC LIMIT ?3",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![at, key, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .and_then(|rows| rows.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(key, at, session, patch, kind, detail)| {
                Ok(KeyedEvent {
                    key,
                    entry: HistoryEntry {
                        at,
                        session: session.unwrap_or(0),
                        patch,
                        kind,
                        detail: from_json(&detail)?,
                    },
                })
            })
            .collect()
    }
}
