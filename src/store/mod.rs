//! The on-disk state of a project: sessions, findings, patches, applications with
//! the original bytes of every touched file, decisions and an append-only event log.
//! SQLite in WAL mode with a busy timeout, so `watch` and `apply` can share it.
//! Depends on `analyze` and `fix` for the types it records.

pub mod flaky;
pub mod jobs;
pub mod overview;
mod schema;

use crate::analyze::{Analysis, Finding};
use crate::fix::Patch;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot create the store directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the store at {path} has schema version {found}, newer than this cars supports ({supported}); upgrade cars")]
    TooNew {
        path: PathBuf,
        found: usize,
        supported: usize,
    },
    #[error("no session recorded yet: run `cars analyze <log>` first")]
    NoSession,
    #[error("no session {0} in the store")]
    UnknownSession(i64),
    #[error("no finding {id} in session {session}")]
    UnknownFinding { session: i64, id: String },
    #[error("no patch {id} (latest session {session}); `cars patch` lists them")]
    UnknownPatch { session: i64, id: String },
    #[error("`{0}` is not an id like E3 or P1")]
    BadId(String),
    #[error("corrupt record in the store: {0}")]
    Corrupt(String),
    #[error("cannot lock the store {path}: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Held while cars changes the project's files (apply, rollback, recovery): an OS
/// lock on `lock` in the store directory, released when dropped or when the process
/// dies, so a lock that can be taken means no operation is in flight.
#[derive(Debug)]
pub struct ProjectLock {
    _file: std::fs::File,
}

type Result<T> = std::result::Result<T, StoreError>;

/// What the repair side records in the event log; `cars history` reads it back.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Event {
    Apply {
        patch: String,
        files: Vec<String>,
        actor: String,
        provenance: crate::policy::Provenance,
    },
    Validate {
        patch: String,
        command: String,
        passed: bool,
        verdict: serde_json::Value,
        exit: Option<i32>,
        ms: u64,
    },
    Rollback {
        patch: String,
        files: Vec<String>,
        forced: bool,
        revert_commit: Option<String>,
        /// Why, when cars rolled back by itself (validation failed).
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    Commit {
        patch: String,
        commit: String,
    },
    Recover {
        patch: String,
        was: String,
        files: Vec<String>,
    },
    Reject {
        patch: String,
        reason: Option<String>,
        actor: String,
    },
}

impl Event {
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Apply { .. } => "apply",
            Event::Validate { .. } => "validate",
            Event::Rollback { .. } => "rollback",
            Event::Commit { .. } => "commit",
            Event::Recover { .. } => "recover",
            Event::Reject { .. } => "reject",
        }
    }
}

/// Where a project's store lives and which directory its paths are relative to.
#[derive(Debug, Clone)]
pub struct StoreLocation {
    pub dir: PathBuf,
    pub project_root: PathBuf,
}

/// Finds the store for the project containing `cwd`: `.git/cars/` in a git work tree
/// (invisible to `git status`), else a directory in the user's data dir keyed by the
/// project path. `override_dir` (`--store`, `CARS_STORE`) wins.
pub fn locate(cwd: &Path, override_dir: Option<&Path>) -> StoreLocation {
    let repo = git2::Repository::discover(cwd).ok();
    let work_tree = repo
        .as_ref()
        .and_then(|r| r.workdir())
        .map(|w| w.to_path_buf());
    let project_root = work_tree.clone().unwrap_or_else(|| cwd.to_path_buf());
    let project_root = project_root.canonicalize().unwrap_or(project_root);
    let dir = match (override_dir, &repo, &work_tree) {
        (Some(d), _, _) => d.to_path_buf(),
        (None, Some(r), Some(_)) => r.path().join("cars"),
        _ => {
            let base = dirs::data_dir().unwrap_or_else(std::env::temp_dir);
            let name = project_root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "root".into());
            let key = fnv_hash(project_root.to_string_lossy().as_bytes());
            base.join("cars")
                .join("projects")
                .join(format!("{name}-{key:016x}"))
        }
    };
    StoreLocation { dir, project_root }
}

/// Switches to WAL. On a fresh file that another process is switching at the same
/// moment SQLite answers "database is locked" without waiting on the busy timeout,
/// so this retries for as long.
fn set_wal(conn: &Connection) -> rusqlite::Result<()> {
    let started = std::time::Instant::now();
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && started.elapsed() < Duration::from_secs(10) =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

fn fnv_hash(bytes: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = fnv::FnvHasher::default();
    h.write(bytes);
    h.finish()
}

/// Milliseconds since the Unix epoch.
/// Bytes of a passing run's log kept as its command's baseline: the end of a log is
/// where a later failure's neighbours are.
pub const MAX_BASELINE_BYTES: usize = 4 << 20;

/// The last `MAX_BASELINE_BYTES` of `log`, starting at a line.
fn baseline_tail(log: &[u8]) -> &[u8] {
    if log.len() <= MAX_BASELINE_BYTES {
        return log;
    }
    let cut = &log[log.len() - MAX_BASELINE_BYTES..];
    match memchr::memchr(b'\n', cut) {
        Some(i) => &cut[i + 1..],
        None => cut,
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A fresh id grouping the events of one user-visible operation.
pub fn new_op_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}-{:x}", nanos, std::process::id())
}

/// An open store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    pub project_root: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionRow {
    pub id: i64,
    pub created_at: i64,
    pub source: String,
    pub project: String,
    pub command: Option<String>,
    pub log_lines: u64,
    pub analysis_ms: u64,
    pub first_finding_ms: Option<u64>,
    pub findings: u64,
    /// The command passed (`None`: not known).
    pub passed: Option<bool>,
}

/// What `record_session` needs besides the analysis.
#[derive(Debug, Clone, Default)]
pub struct SessionMeta {
    pub command: Option<String>,
    pub analysis_ms: u64,
    pub first_finding_ms: Option<u64>,
    /// The command's exit status said it passed (`None`: not known, a log file).
    pub passed: Option<bool>,
}

/// Where a patch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatchStatus {
    Proposed,
    Applied,
    Validated,
    Rejected,
    RolledBack,
    /// Validation failed; the patch was rolled back.
    Failed,
}

impl PatchStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PatchStatus::Proposed => "proposed",
            PatchStatus::Applied => "applied",
            PatchStatus::Validated => "validated",
            PatchStatus::Rejected => "rejected",
            PatchStatus::RolledBack => "rolled-back",
            PatchStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<PatchStatus> {
        Ok(match s {
            "proposed" => PatchStatus::Proposed,
            "applied" => PatchStatus::Applied,
            "validated" => PatchStatus::Validated,
            "rejected" => PatchStatus::Rejected,
            "rolled-back" => PatchStatus::RolledBack,
            "failed" => PatchStatus::Failed,
            other => return Err(StoreError::Corrupt(format!("patch status `{other}`"))),
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredPatch {
    /// Database key, unique in the store.
    pub key: i64,
    pub session: i64,
    /// `P<seq>` within its session.
    pub id: String,
    pub created_at: i64,
    pub status: PatchStatus,
    pub patch: Patch,
    /// How learning arrived at `patch.confidence` (None: not calibrated).
    pub calibration: Option<crate::learn::Calibration>,
}

/// A patch as the store keeps it: the patch and how its confidence was calibrated.
#[derive(Serialize, serde::Deserialize)]
struct PatchData {
    #[serde(flatten)]
    patch: Patch,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    calibration: Option<crate::learn::Calibration>,
}

/// The original state of one file, taken before an application writes it.
#[derive(Debug, Clone)]
pub struct Backup {
    pub path: String,
    /// `None`: the file did not exist.
    pub content: Option<Vec<u8>>,
    pub mode: Option<u32>,
    /// What the apply wrote in its place.
    pub written: Vec<u8>,
}

/// Journal states of an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppState {
    Applying,
    Applied,
    /// Applied, and the validation command is running.
    Validating,
    RollingBack,
    RolledBack,
    /// A crash interrupted applying; the next run restored the originals.
    Interrupted,
}

impl AppState {
    pub fn as_str(self) -> &'static str {
        match self {
            AppState::Applying => "applying",
            AppState::Applied => "applied",
            AppState::Validating => "validating",
            AppState::RollingBack => "rolling-back",
            AppState::RolledBack => "rolled-back",
            AppState::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> Result<AppState> {
        Ok(match s {
            "applying" => AppState::Applying,
            "applied" => AppState::Applied,
            "validating" => AppState::Validating,
            "rolling-back" => AppState::RollingBack,
            "rolled-back" => AppState::RolledBack,
            "interrupted" => AppState::Interrupted,
            other => return Err(StoreError::Corrupt(format!("application state `{other}`"))),
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Application {
    pub key: i64,
    pub patch_key: i64,
    pub op_id: String,
    pub started_at: i64,
    pub state: AppState,
    pub validation_cmd: Option<String>,
    pub validation_ok: Option<bool>,
    pub commit_id: Option<String>,
    pub revert_commit: Option<String>,
    pub finished_at: Option<i64>,
}

/// An approval or rejection of a patch.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub at: i64,
    pub approve: bool,
    pub reason: Option<String>,
    /// cli, auto, repl, tui, eval.
    pub actor: String,
}

/// One row of `cars history`.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub at: i64,
    pub session: i64,
    pub patch: Option<String>,
    pub kind: String,
    pub detail: serde_json::Value,
}

/// Success counts for one key (category, rule or strategy).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    pub key: String,
    pub proposed: u64,
    pub applied: u64,
    pub validated: u64,
    pub failed: u64,
    pub rejected: u64,
    pub rolled_back: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub sessions: u64,
    pub findings: u64,
    pub by_category: Vec<Tally>,
    pub by_rule: Vec<Tally>,
    pub by_strategy: Vec<Tally>,
    /// Mean time from a session's creation to its first validated patch.
    pub mttr_ms: Option<u64>,
}

impl Store {
    /// Opens (creating if needed) the store in `loc.dir` and brings its schema up to date.
    pub fn open(loc: &StoreLocation) -> Result<Store> {
        std::fs::create_dir_all(&loc.dir).map_err(|source| StoreError::Dir {
            path: loc.dir.clone(),
            source,
        })?;
        let path = loc.dir.join("cars.db");
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(err)?;
        set_wal(&conn).map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        let mut store = Store {
            conn,
            path,
            project_root: loc.project_root.clone(),
        };
        store.migrate()?;
        Ok(store)
    }

    fn lock_file(&self) -> Result<(std::fs::File, PathBuf)> {
        let path = self.dir().join("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| StoreError::Lock {
                path: path.clone(),
                source,
            })?;
        Ok((file, path))
    }

    /// The project lock if no other process holds it.
    pub fn try_lock(&self) -> Result<Option<ProjectLock>> {
        let (file, path) = self.lock_file()?;
        match file.try_lock() {
            Ok(()) => Ok(Some(ProjectLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(source)) => Err(StoreError::Lock { path, source }),
        }
    }

    /// The project lock, waiting for another process to release it.
    pub fn lock(&self) -> Result<ProjectLock> {
        let (file, path) = self.lock_file()?;
        file.lock()
            .map_err(|source| StoreError::Lock { path, source })?;
        Ok(ProjectLock { _file: file })
    }

    /// The project root a session's paths resolve against.
    pub fn session_project(&self, session: i64) -> Result<PathBuf> {
        self.conn
            .query_row(
                "SELECT project FROM sessions WHERE id = ?1",
                [session],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .map(PathBuf::from)
            .ok_or(StoreError::UnknownSession(session))
    }

    /// The directory the store lives in (for files such as the REPL history).
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn migrate(&mut self) -> Result<()> {
        let version: usize = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let supported = schema::MIGRATIONS.len();
        if version > supported {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                supported,
            });
        }
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version) {
            // Immediate: two processes opening a fresh store at once (a fleet of
            // workers) take turns, and the second sees the first's migration.
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(|e| StoreError::Sqlite {
                    path: self.path.clone(),
                    source: e,
                })?;
            let now: usize = tx
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(|e| StoreError::Sqlite {
                    path: self.path.clone(),
                    source: e,
                })?;
            if now > i {
                continue;
            }
            tx.execute_batch(sql)
                .and_then(|_| tx.pragma_update(None, "user_version", i + 1))
                .and_then(|_| tx.commit())
                .map_err(|e| StoreError::Sqlite {
                    path: self.path.clone(),
                    source: e,
                })?;
        }
        Ok(())
    }

    /// Appends one event to the log, under the operation `op_id`.
    pub fn event(
        &self,
        op_id: &str,
        session: Option<i64>,
        patch: Option<i64>,
        event: &Event,
    ) -> Result<()> {
        let detail = serde_json::to_value(event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.conn
            .execute(
                "INSERT INTO events (op_id, at, kind, session_id, patch_id, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![op_id, now_ms(), event.kind(), session, patch, detail.to_string()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records an analysis as a new session (one transaction) and returns its id.
    pub fn record_session(&mut self, analysis: &Analysis, meta: &SessionMeta) -> Result<i64> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let op = new_op_id();
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "INSERT INTO sessions (created_at, source, project, command, log_lines, analysis_ms, first_finding_ms, passed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                now_ms(),
                analysis.source,
                self.project_root.to_string_lossy(),
                meta.command,
                analysis.lines as i64,
                meta.analysis_ms as i64,
                meta.first_finding_ms.map(|v| v as i64),
                meta.passed,
            ],
        )
        .map_err(err)?;
        let session = tx.last_insert_rowid();
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO findings (session_id, seq, rank, rule, category, severity, confidence, data, excerpt, captures, consequence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )
                .map_err(err)?;
            for f in &analysis.findings {
                let seq = parse_id(&f.id, 'E')?;
                insert
                    .execute(params![
                        session,
                        seq,
                        f.rank as i64,
                        f.rule,
                        f.category.as_str(),
                        f.severity.as_str(),
                        f.confidence,
                        to_json(f)?,
                        to_json(&f.excerpt)?,
                        to_json(&f.captures)?,
                        f.consequence,
                    ])
                    .map_err(err)?;
            }
        }
        tx.execute(
            "INSERT INTO events (op_id, at, kind, session_id, detail) VALUES (?1, ?2, 'analyze', ?3, ?4)",
            params![
                op,
                now_ms(),
                session,
                serde_json::json!({"source": analysis.source, "findings": analysis.findings.len()})
                    .to_string()
            ],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(session)
    }

    /// The newest session, or `NoSession`.
    /// Keeps `log` (its last `MAX_BASELINE_BYTES`, from a line start) as the passing
    /// run of `command`, replacing the one before.
    pub fn save_baseline(&self, command: &str, log: &[u8]) -> Result<()> {
        let tail = baseline_tail(log);
        self.conn
            .execute(
                "INSERT INTO baselines (command, saved_at, log) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(command) DO UPDATE SET saved_at = ?2, log = ?3",
                params![command, now_ms(), tail],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The log of the last passing run of `command`, if one was kept.
    pub fn baseline(&self, command: &str) -> Result<Option<Vec<u8>>> {
        self.conn
            .query_row(
                "SELECT log FROM baselines WHERE command = ?1",
                [command],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn latest_session(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT max(id) FROM sessions", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .map_err(|e| self.err(e))?
            .ok_or(StoreError::NoSession)
    }

    /// `requested` or the newest session.
    pub fn resolve_session(&self, requested: Option<i64>) -> Result<i64> {
        match requested {
            Some(id) => self.session(id).map(|s| s.id),
            None => self.latest_session(),
        }
    }

    pub fn session(&self, id: i64) -> Result<SessionRow> {
        self.conn
            .query_row(
                "SELECT s.id, s.created_at, s.source, s.project, s.command, s.log_lines, s.analysis_ms, s.first_finding_ms,
                        (SELECT count(*) FROM findings f WHERE f.session_id = s.id), s.passed
                 FROM sessions s WHERE s.id = ?1",
                [id],
                |r| {
                    Ok(SessionRow {
                        id: r.get(0)?,
                        created_at: r.get(1)?,
                        source: r.get(2)?,
                        project: r.get(3)?,
                        command: r.get(4)?,
                        log_lines: r.get::<_, i64>(5)? as u64,
                        analysis_ms: r.get::<_, i64>(6)? as u64,
                        first_finding_ms: r.get::<_, Option<i64>>(7)?.map(|v| v as u64),
                        findings: r.get::<_, i64>(8)? as u64,
                        passed: r.get(9)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))?
            .ok_or(StoreError::UnknownSession(id))
    }

    /// All sessions, newest first.
    pub fn sessions(&self) -> Result<Vec<SessionRow>> {
        let ids: Vec<i64> = self
            .conn
            .prepare("SELECT id FROM sessions ORDER BY id DESC")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| self.err(e))?;
        ids.into_iter().map(|id| self.session(id)).collect()
    }

    /// The findings of a session in rank order.
    pub fn findings(&self, session: i64) -> Result<Vec<Finding>> {
        self.query_findings(session, None)
    }

    /// One finding by its id (`E3`).
    pub fn finding(&self, session: i64, id: &str) -> Result<Finding> {
        let seq = parse_id(id, 'E')?;
        self.query_findings(session, Some(seq))?
            .pop()
            .ok_or_else(|| StoreError::UnknownFinding {
                session,
                id: id.to_string(),
            })
    }

    fn query_findings(&self, session: i64, seq: Option<i64>) -> Result<Vec<Finding>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT data, excerpt, captures, consequence FROM findings
                 WHERE session_id = ?1 AND (?2 IS NULL OR seq = ?2) ORDER BY rank",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![session, seq], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, bool>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (data, excerpt, captures, consequence) = row.map_err(|e| self.err(e))?;
            let mut f: Finding = from_json(&data)?;
            f.excerpt = from_json(&excerpt)?;
            f.captures = from_json(&captures)?;
            f.consequence = consequence;
            out.push(f);
        }
        Ok(out)
    }

    /// Saves a proposed patch and returns its id (`P<n>`). Proposing the same change
    /// for the same finding again returns the existing id.
    pub fn save_patch(&mut self, session: i64, patch: &Patch) -> Result<String> {
        self.save_calibrated_patch(session, patch, None)
    }

    /// `save_patch`, with how its confidence was calibrated.
    pub fn save_calibrated_patch(
        &mut self,
        session: i64,
        patch: &Patch,
        calibration: Option<&crate::learn::Calibration>,
    ) -> Result<String> {
        let finding_seq = parse_id(&patch.finding, 'E')?;
        let data = to_json(&PatchData {
            patch: patch.clone(),
            calibration: calibration.copied(),
        })?;
        let existing = self
            .query_patches_where(
                "WHERE session_id = ?1 AND finding_seq = ?2 AND status = 'proposed'",
                params![session, finding_seq],
            )?
            .into_iter()
            .find(|p| p.patch.files == patch.files);
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        if let Some(p) = existing {
            // The same change proposed again by a surer source (a fixer confirming a
            // log suggestion): the stored patch takes its source and confidence.
            if patch.confidence > p.patch.confidence {
                self.conn
                    .execute(
                        "UPDATE patches SET origin = ?1, confidence = ?2, data = ?3 WHERE id = ?4",
                        params![patch.origin, patch.confidence, data, p.key],
                    )
                    .map_err(err)?;
            }
            return Ok(p.id);
        }
        let tx = self.conn.transaction().map_err(err)?;
        let seq: i64 = tx
            .query_row(
                // Patch ids are unique in the store, so `P7` names one patch whatever
                // session is the latest.
                "SELECT coalesce(max(seq), 0) + 1 FROM patches",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        tx.execute(
            "INSERT INTO patches (session_id, seq, finding_seq, created_at, strategy, origin, rule, confidence, status, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'proposed', ?9)",
            params![
                session,
                seq,
                finding_seq,
                now_ms(),
                patch.strategy.as_str(),
                patch.origin,
                patch.rule,
                patch.confidence,
                data
            ],
        )
        .map_err(err)?;
        let key = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO events (op_id, at, kind, session_id, patch_id, detail) VALUES (?1, ?2, 'propose', ?3, ?4, ?5)",
            params![
                new_op_id(),
                now_ms(),
                session,
                key,
                serde_json::json!({"patch": format!("P{seq}"), "finding": patch.finding, "strategy": patch.strategy.as_str(), "confidence": patch.confidence}).to_string()
            ],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(format!("P{seq}"))
    }

    /// The patches of a session in id order.
    pub fn patches(&self, session: i64) -> Result<Vec<StoredPatch>> {
        self.query_patches("WHERE session_id = ?1 ORDER BY seq", session)
    }

    /// One patch by id (`P2`): the one in `session`, else the newest session's patch
    /// of that id (ids are unique in stores written since they became global; older
    /// stores numbered patches per session).
    pub fn patch(&self, session: i64, id: &str) -> Result<StoredPatch> {
        let seq = parse_id(id, 'P')?;
        if let Some(p) = self
            .query_patches_where("WHERE session_id = ?1 AND seq = ?2", params![session, seq])?
            .pop()
        {
            return Ok(p);
        }
        self.query_patches_where(
            "WHERE seq = ?1 ORDER BY session_id DESC LIMIT 1",
            params![seq],
        )?
        .pop()
        .ok_or_else(|| StoreError::UnknownPatch {
            session,
            id: id.to_string(),
        })
    }

    /// A patch by its database key.
    pub fn patch_by_key(&self, key: i64) -> Result<StoredPatch> {
        self.query_patches("WHERE id = ?1", key)?
            .pop()
            .ok_or_else(|| StoreError::Corrupt(format!("patch key {key}")))
    }

    fn query_patches(&self, filter: &str, value: i64) -> Result<Vec<StoredPatch>> {
        self.query_patches_where(filter, params![value])
    }

    fn query_patches_where(
        &self,
        filter: &str,
        values: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<StoredPatch>> {
        let sql =
            format!("SELECT id, session_id, seq, created_at, status, data FROM patches {filter}");
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(values, |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (key, session, seq, created_at, status, data) = row.map_err(|e| self.err(e))?;
            let data: PatchData = from_json(&data)?;
            out.push(StoredPatch {
                key,
                session,
                id: format!("P{seq}"),
                created_at,
                status: PatchStatus::parse(&status)?,
                patch: data.patch,
                calibration: data.calibration,
            });
        }
        Ok(out)
    }

    pub fn set_patch_status(&self, key: i64, status: PatchStatus) -> Result<()> {
        self.conn
            .execute(
                "UPDATE patches SET status = ?2 WHERE id = ?1",
                params![key, status.as_str()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records an approval or rejection.
    pub fn record_decision(
        &self,
        patch_key: i64,
        approve: bool,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<()> {
        let decision = if approve { "approve" } else { "reject" };
        self.conn
            .execute(
                "INSERT INTO decisions (patch_id, at, decision, reason, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![patch_key, now_ms(), decision, reason, actor],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The decisions on a patch, oldest first.
    pub fn decisions(&self, patch_key: i64) -> Result<Vec<Decision>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT at, decision, reason, actor FROM decisions WHERE patch_id = ?1 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([patch_key], |r| {
                Ok(Decision {
                    at: r.get(0)?,
                    approve: r.get::<_, String>(1)? == "approve",
                    reason: r.get(2)?,
                    actor: r.get(3)?,
                })
            })
            .and_then(|rows| rows.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Every application of a patch, oldest first.
    pub fn applications(&self, patch_key: i64) -> Result<Vec<Application>> {
        self.query_applications("WHERE patch_id = ?1 ORDER BY id", Some(patch_key))
    }

    /// Records a rejection: the patch is not applied and the decision feeds learning.
    pub fn reject(&self, patch_key: i64, reason: Option<&str>, actor: &str) -> Result<()> {
        self.record_decision(patch_key, false, reason, actor)?;
        self.set_patch_status(patch_key, PatchStatus::Rejected)?;
        let p = self.patch_by_key(patch_key)?;
        self.event(
            &new_op_id(),
            Some(p.session),
            Some(patch_key),
            &Event::Reject {
                patch: p.id,
                reason: reason.map(str::to_string),
                actor: actor.to_string(),
            },
        )
    }

    /// Journals the start of an application: the backups of every file it will touch,
    /// written and committed before any file is. Returns the application key.
    pub fn begin_application(
        &mut self,
        patch_key: i64,
        op_id: &str,
        backups: &[Backup],
    ) -> Result<i64> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "INSERT INTO applications (patch_id, op_id, started_at, state) VALUES (?1, ?2, ?3, 'applying')",
            params![patch_key, op_id, now_ms()],
        )
        .map_err(err)?;
        let app = tx.last_insert_rowid();
        for b in backups {
            tx.execute(
                "INSERT INTO backups (application_id, path, existed, content, mode, written) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![app, b.path, b.content.is_some(), b.content, b.mode, b.written],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(app)
    }

    pub fn set_application_state(&self, app: i64, state: AppState) -> Result<()> {
        let finished = matches!(
            state,
            AppState::Applied | AppState::RolledBack | AppState::Interrupted
        )
        .then(now_ms);
        self.conn
            .execute(
                "UPDATE applications SET state = ?2, finished_at = coalesce(?3, finished_at) WHERE id = ?1",
                params![app, state.as_str(), finished],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn record_validation(
        &self,
        app: i64,
        command: &str,
        ok: bool,
        elapsed_ms: u64,
        output_tail: &str,
    ) -> Result<()> {
        self.conn
            .execute(
                "UPDATE applications SET validation_cmd = ?2, validation_ok = ?3, validation_ms = ?4, validation_tail = ?5 WHERE id = ?1",
                params![app, command, ok, elapsed_ms as i64, output_tail],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn record_commit(&self, app: i64, commit: &str, revert: bool) -> Result<()> {
        let sql = if revert {
            "UPDATE applications SET revert_commit = ?2 WHERE id = ?1"
        } else {
            "UPDATE applications SET commit_id = ?2 WHERE id = ?1"
        };
        self.conn
            .execute(sql, params![app, commit])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Applications a crash left half done.
    pub fn unfinished_applications(&self) -> Result<Vec<Application>> {
        self.query_applications(
            "WHERE state IN ('applying', 'validating', 'rolling-back') ORDER BY id",
            None,
        )
    }

    /// The latest application of a patch.
    pub fn application_of(&self, patch_key: i64) -> Result<Option<Application>> {
        Ok(self
            .query_applications(
                "WHERE patch_id = ?1 ORDER BY id DESC LIMIT 1",
                Some(patch_key),
            )?
            .pop())
    }

    /// The most recent application still in effect, over all sessions.
    pub fn last_applied(&self) -> Result<Option<Application>> {
        Ok(self
            .query_applications("WHERE state = 'applied' ORDER BY id DESC LIMIT 1", None)?
            .pop())
    }

    fn query_applications(&self, filter: &str, value: Option<i64>) -> Result<Vec<Application>> {
        let sql = format!(
            "SELECT id, patch_id, op_id, started_at, state, validation_cmd, validation_ok, commit_id, revert_commit, finished_at FROM applications {filter}"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let map = |r: &rusqlite::Row| {
            Ok((
                Application {
                    key: r.get(0)?,
                    patch_key: r.get(1)?,
                    op_id: r.get(2)?,
                    started_at: r.get(3)?,
                    state: AppState::Applied,
                    validation_cmd: r.get(5)?,
                    validation_ok: r.get(6)?,
                    commit_id: r.get(7)?,
                    revert_commit: r.get(8)?,
                    finished_at: r.get(9)?,
                },
                r.get::<_, String>(4)?,
            ))
        };
        let rows: Vec<_> = match value {
            Some(v) => stmt.query_map([v], map),
            None => stmt.query_map([], map),
        }
        .and_then(|rows| rows.collect::<std::result::Result<_, _>>())
        .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(mut a, state)| {
                a.state = AppState::parse(&state)?;
                Ok(a)
            })
            .collect()
    }

    /// The originals an application saved.
    pub fn backups(&self, app: i64) -> Result<Vec<Backup>> {
        let mut stmt = self
            .conn
            .prepare("SELECT path, existed OR restore IS NOT NULL, coalesce(restore, content), mode, written FROM backups WHERE application_id = ?1 ORDER BY path")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([app], |r| {
                let existed: bool = r.get(1)?;
                Ok(Backup {
                    path: r.get(0)?,
                    content: if existed { r.get(2)? } else { None },
                    mode: r.get(3)?,
                    written: r.get::<_, Option<Vec<u8>>>(4)?.unwrap_or_default(),
                })
            })
            .and_then(|rows| rows.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// Plans what rolling back `app` puts back in `path` (a merge that keeps a later
    /// patch's edit), before the rollback writes.
    pub fn plan_restore(&self, app: i64, path: &str, bytes: &[u8]) -> Result<()> {
        self.conn
            .execute(
                "UPDATE backups SET restore = ?3 WHERE application_id = ?1 AND path = ?2",
                params![app, path, bytes],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The patch of the newest application still in effect, after `app`, that
    /// wrote `path`: what has to be rolled back first.
    pub fn later_application_of(&self, app: i64, path: &str) -> Result<Option<i64>> {
        self.conn
            .query_row(
                "SELECT a.patch_id FROM applications a JOIN backups b ON b.application_id = a.id WHERE a.state = 'applied' AND a.id > ?1 AND b.path = ?2 ORDER BY a.id DESC LIMIT 1",
                params![app, path],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The event log, newest first, optionally for one session.
    pub fn history(&self, session: Option<i64>, limit: usize) -> Result<Vec<HistoryEntry>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT e.at, coalesce(e.session_id, p.session_id), 'P' || p.seq, e.kind, e.detail
                 FROM events e LEFT JOIN patches p ON p.id = e.patch_id
                 WHERE ?1 IS NULL OR coalesce(e.session_id, p.session_id) = ?1
                 ORDER BY e.id DESC LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![session, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .and_then(|rows| rows.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(at, session, patch, kind, detail)| {
                Ok(HistoryEntry {
                    at,
                    session: session.unwrap_or(0),
                    patch,
                    kind,
                    detail: from_json(&detail)?,
                })
            })
            .collect()
    }

    /// Success rates by category, rule and strategy, and the mean time to repair.
    pub fn stats(&self) -> Result<Stats> {
        let count = |sql: &str| -> Result<u64> {
            self.conn
                .query_row(sql, [], |r| r.get::<_, i64>(0))
                .map(|v| v as u64)
                .map_err(|e| self.err(e))
        };
        // Counted from each patch's history, by the same function the session
        // report uses, so `cars stats` and `cars export` always agree.
        let mut stmt = self
            .conn
            .prepare(
                "SELECT p.id, f.category, p.rule, p.strategy FROM patches p
                 JOIN findings f ON f.session_id = p.session_id AND f.seq = p.finding_seq",
            )
            .map_err(|e| self.err(e))?;
        let rows: Vec<(i64, String, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))?;
        let mut groups: [std::collections::BTreeMap<String, Tally>; 3] = Default::default();
        for (key, category, rule, strategy) in rows {
            let h = self.patch_history(key)?;
            for (group, name) in groups.iter_mut().zip([category, rule, strategy]) {
                let t = group.entry(name.clone()).or_insert_with(|| Tally {
                    key: name,
                    ..Tally::default()
                });
                t.proposed += 1;
                t.applied += u64::from(h.applied);
                t.validated += u64::from(h.validated);
                t.failed += u64::from(h.failed);
                t.rejected += u64::from(h.rejected);
                t.rolled_back += u64::from(h.rolled_back);
            }
        }
        let [by_category, by_rule, by_strategy] = groups.map(|g| {
            let mut v: Vec<Tally> = g.into_values().collect();
            v.sort_by(|a, b| b.proposed.cmp(&a.proposed).then_with(|| a.key.cmp(&b.key)));
            v
        });
        let mttr: Option<f64> = self
            .conn
            .query_row(
                "SELECT avg(a.finished_at - s.created_at) FROM applications a
                 JOIN patches p ON p.id = a.patch_id JOIN sessions s ON s.id = p.session_id
                 WHERE a.validation_ok = 1 AND a.id = (
                    SELECT min(a2.id) FROM applications a2 JOIN patches p2 ON p2.id = a2.patch_id
                    WHERE p2.session_id = s.id AND a2.validation_ok = 1)",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        Ok(Stats {
            sessions: count("SELECT count(*) FROM sessions")?,
            findings: count("SELECT count(*) FROM findings")?,
            by_category,
            by_rule,
            by_strategy,
            mttr_ms: mttr.map(|v| v.max(0.0) as u64),
        })
    }
}

/// What ever happened to one patch, from its decisions and applications: one that
/// failed validation and later passed is both `failed` and `validated`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PatchHistory {
    pub approved: bool,
    pub rejected: bool,
    /// Written at least once (an interrupted attempt does not count).
    pub applied: bool,
    pub validated: bool,
    pub failed: bool,
    /// Undone by a rollback (not by a failed validation).
    pub rolled_back: bool,
}

impl Store {
    pub fn patch_history(&self, patch_key: i64) -> Result<PatchHistory> {
        let decisions = self.decisions(patch_key)?;
        let apps = self.applications(patch_key)?;
        let ever = |test: &dyn Fn(&Application) -> bool| apps.iter().any(test);
        Ok(PatchHistory {
            approved: decisions.iter().any(|d| d.approve),
            rejected: decisions.iter().any(|d| !d.approve),
            applied: ever(&|a| !matches!(a.state, AppState::Applying | AppState::Interrupted)),
            validated: ever(&|a| a.validation_ok == Some(true)),
            failed: ever(&|a| a.validation_ok == Some(false)),
            rolled_back: ever(&|a| {
                a.state == AppState::RolledBack && a.validation_ok != Some(false)
            }),
        })
    }
}

/// `E3` -> 3 for prefix 'E'; a bare `3` is accepted too.
pub fn parse_id(id: &str, prefix: char) -> Result<i64> {
    let digits = id
        .strip_prefix(prefix)
        .or_else(|| id.strip_prefix(prefix.to_ascii_lowercase()))
        .unwrap_or(id);
    digits
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| StoreError::BadId(id.to_string()))
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}
