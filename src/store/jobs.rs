//! The service's job records (`cars worker`): one outcome per job id, enforced by a
//! unique key so a job delivered twice is recorded once, and found again by the log's
//! content hash so the same failure seen twice is analyzed once. The queue itself is
//! the binary's `serve` front end; this is only what the store keeps.

use super::{Result, Store, StoreError};
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobStatus {
    Ok,
    /// A bad payload or a job that could not be done; `error` says why.
    Failed,
    /// A job type this worker leaves to another component.
    NotHandled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Ok => "ok",
            JobStatus::Failed => "failed",
            JobStatus::NotHandled => "not-handled",
        }
    }

    fn parse(s: &str) -> Result<JobStatus> {
        Ok(match s {
            "ok" => JobStatus::Ok,
            "failed" => JobStatus::Failed,
            "not-handled" => JobStatus::NotHandled,
            other => return Err(StoreError::Corrupt(format!("service job status `{other}`"))),
        })
    }
}

/// One job's outcome as the store keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct JobRecord {
    /// The payload's `job_id`, else the stream entry id.
    pub job_id: String,
    pub entry_id: String,
    pub kind: String,
    pub project: Option<String>,
    pub job: Option<String>,
    /// Hex sha256 of the job's log, when it had one.
    pub log_sha256: Option<String>,
    pub status: JobStatus,
    pub error: Option<String>,
    pub findings: Option<u64>,
    /// What was published as the job's result.
    pub outcome: serde_json::Value,
    /// The job whose analysis this answer reused (same log, same project and job).
    pub reused: Option<String>,
    pub worker: String,
    /// Deliveries of the stream entry up to this outcome.
    pub deliveries: u64,
    pub received_at: i64,
    pub finished_at: i64,
    pub duration_ms: u64,
}

const COLUMNS: &str = "job_id, entry_id, kind, project, job, log_sha256, status, error, findings, \
outcome, reused, worker, deliveries, received_at, finished_at, duration_ms";

fn from_row(r: &Row) -> rusqlite::Result<(JobRecord, String, String)> {
    Ok((
        JobRecord {
            job_id: r.get(0)?,
            entry_id: r.get(1)?,
            kind: r.get(2)?,
            project: r.get(3)?,
            job: r.get(4)?,
            log_sha256: r.get(5)?,
            status: JobStatus::Ok,
            error: r.get(7)?,
            findings: r.get::<_, Option<i64>>(8)?.map(|v| v as u64),
            outcome: serde_json::Value::Null,
            reused: r.get(10)?,
            worker: r.get(11)?,
            deliveries: r.get::<_, i64>(12)? as u64,
            received_at: r.get(13)?,
            finished_at: r.get(14)?,
            duration_ms: r.get::<_, i64>(15)? as u64,
        },
        r.get(6)?,
        r.get(9)?,
    ))
}

fn finish(raw: Option<(JobRecord, String, String)>) -> Result<Option<JobRecord>> {
    let Some((mut rec, status, outcome)) = raw else {
        return Ok(None);
    };
    rec.status = JobStatus::parse(&status)?;
    rec.outcome = serde_json::from_str(&outcome)
        .map_err(|e| StoreError::Corrupt(format!("outcome of job {}: {e}", rec.job_id)))?;
    Ok(Some(rec))
}

impl Store {
    /// The recorded outcome of job `job_id`, if there is one.
    pub fn service_job(&self, job_id: &str) -> Result<Option<JobRecord>> {
        let raw = self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM service_jobs WHERE job_id = ?1"),
                [job_id],
                from_row,
            )
            .optional()
            .map_err(|e| self.err(e))?;
        finish(raw)
    }

    /// The first successful job of this `project` and `job` whose log had hash `sha`:
    /// its analysis answers a new job with the same log.
    pub fn service_job_by_log(
        &self,
        project: Option<&str>,
        job: Option<&str>,
        sha: &str,
    ) -> Result<Option<JobRecord>> {
        let raw = self
            .conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM service_jobs WHERE project IS ?1 AND job IS ?2 \
                     AND log_sha256 = ?3 AND status = 'ok' AND reused IS NULL ORDER BY id LIMIT 1"
                ),
                params![project, job, sha],
                from_row,
            )
            .optional()
            .map_err(|e| self.err(e))?;
        finish(raw)
    }

    /// Records `rec` unless its job id already has an outcome, in one transaction.
    /// Returns the record that stands and whether it is `rec` (false: another
    /// delivery of the job was recorded first, and that one stands).
    pub fn record_service_job(&mut self, rec: &JobRecord) -> Result<(JobRecord, bool)> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let inserted = tx
            .execute(
                &format!(
                    "INSERT INTO service_jobs ({COLUMNS}) VALUES \
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) \
                     ON CONFLICT(job_id) DO NOTHING"
                ),
                params![
                    rec.job_id,
                    rec.entry_id,
                    rec.kind,
                    rec.project,
                    rec.job,
                    rec.log_sha256,
                    rec.status.as_str(),
                    rec.error,
                    rec.findings.map(|v| v as i64),
                    rec.outcome.to_string(),
                    rec.reused,
                    rec.worker,
                    rec.deliveries as i64,
                    rec.received_at,
                    rec.finished_at,
                    rec.duration_ms as i64,
                ],
            )
            .map_err(err)?
            == 1;
        let raw = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM service_jobs WHERE job_id = ?1"),
                [&rec.job_id],
                from_row,
            )
            .optional()
            .map_err(err)?;
        tx.commit().map_err(err)?;
        let stands = finish(raw)?
            .ok_or_else(|| StoreError::Corrupt(format!("job {} vanished", rec.job_id)))?;
        Ok((stands, inserted))
    }

    /// Outcomes recorded per job type and status (`/metrics`), sorted.
    pub fn service_job_totals(&self) -> Result<Vec<(String, String, u64)>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT kind, status, count(*) FROM service_jobs GROUP BY kind, status ORDER BY kind, status",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// Outcomes recorded, and how many of them repeat a job id (0 unless the unique
    /// key failed). The benchmark and the tests count with it.
    pub fn service_job_counts(&self) -> Result<(u64, u64)> {
        self.conn
            .query_row(
                "SELECT count(*), count(*) - count(DISTINCT job_id) FROM service_jobs",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreLocation;

    fn record(job_id: &str, sha: &str, status: JobStatus) -> JobRecord {
        JobRecord {
            job_id: job_id.into(),
            entry_id: "1-0".into(),
            kind: "analyze_log".into(),
            project: Some("app".into()),
            job: Some("ci/test".into()),
            log_sha256: Some(sha.into()),
            status,
            error: None,
            findings: Some(2),
            outcome: serde_json::json!({"findings": 2, "worker": job_id}),
            reused: None,
            worker: "w1".into(),
            deliveries: 1,
            received_at: 10,
            finished_at: 20,
            duration_ms: 10,
        }
    }

    fn open(dir: &std::path::Path) -> Store {
        Store::open(&StoreLocation {
            dir: dir.to_path_buf(),
            project_root: dir.to_path_buf(),
        })
        .unwrap()
    }

    /// Regression: a fleet of workers started at once on a fresh data dir raced to
    /// migrate it, and all but one failed with "table sessions already exists".
    #[test]
    fn workers_opening_a_fresh_store_at_once_all_open_it() {
        for _ in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let barrier = std::sync::Barrier::new(6);
            std::thread::scope(|s| {
                let opened: Vec<_> = (0..6)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            Store::open(&StoreLocation {
                                dir: dir.path().to_path_buf(),
                                project_root: dir.path().to_path_buf(),
                            })
                            .map(|_| ())
                            .map_err(|e| e.to_string())
                        })
                    })
                    .collect();
                for o in opened {
                    assert_eq!(o.join().unwrap(), Ok(()));
                }
            });
        }
    }

    #[test]
    fn a_job_id_is_recorded_once_and_the_first_outcome_stands() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path());
        let (first, inserted) = store
            .record_service_job(&record("J1", "aa", JobStatus::Ok))
            .unwrap();
        assert!(inserted);
        let mut again = record("J1", "bb", JobStatus::Failed);
        again.worker = "w2".into();
        let (stands, inserted) = store.record_service_job(&again).unwrap();
        assert!(!inserted);
        assert_eq!(stands.worker, "w1");
        assert_eq!(stands.status, JobStatus::Ok);
        assert_eq!(stands.outcome, first.outcome);
        assert_eq!(store.service_job_counts().unwrap(), (1, 0));
        assert_eq!(
            store.service_job_totals().unwrap(),
            [("analyze_log".to_string(), "ok".to_string(), 1)]
        );
        // A second store handle (another worker process) sees the same record.
        let other = open(dir.path());
        assert_eq!(other.service_job("J1").unwrap().unwrap().worker, "w1");
        assert!(other.service_job("J2").unwrap().is_none());
    }

    #[test]
    fn the_same_log_is_found_for_the_same_project_and_job_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path());
        store
            .record_service_job(&record("J0", "aa", JobStatus::Failed))
            .unwrap();
        store
            .record_service_job(&record("J1", "aa", JobStatus::Ok))
            .unwrap();
        let found = store
            .service_job_by_log(Some("app"), Some("ci/test"), "aa")
            .unwrap()
            .unwrap();
        assert_eq!(found.job_id, "J1", "a failed job is not an answer");
        assert!(store
            .service_job_by_log(Some("app"), Some("ci/lint"), "aa")
            .unwrap()
            .is_none());
        assert!(store
            .service_job_by_log(None, Some("ci/test"), "aa")
            .unwrap()
            .is_none());
        assert!(store
            .service_job_by_log(Some("app"), Some("ci/test"), "bb")
            .unwrap()
            .is_none());
    }
}
