//! Orchestrators: one per monitored project. Each runs the project's jobs the way
//! `cars watch` detects them (`cars::watch::jobs`), re-runs a job when its files
//! change (`cars::watch::changes`) or every `schedule` seconds (a CI checkout), and
//! sends what a failing run found through the gates: patches at the auto gate are
//! repaired unattended by a `cars heal` round (`Session::heal`), those at the approval
//! or force gate wait for `/api/automation/approve`, the rest are reported only. At
//! most `max_concurrent_repairs` repairs run at once per project. Everything is
//! recorded in the project's store by the session engine. No HTTP here: the API and
//! the queue worker drive the same `Registry`.

use super::{ServiceEvent, Sink};
use cars::config::Gates;
use cars::repair::{run::ShellRunner, Gate};
use cars::rules::model::Level;
use cars::session::heal::{HealOptions, TakeAll};
use cars::session::{Approve, Quiet, Session, Validate};
use cars::watch::jobs::Job;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// What `start` is asked to do. The project path must already be checked against
/// the allow-roots and canonical.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    pub project_path: PathBuf,
    /// Repair patches at the auto gate unattended.
    #[serde(default = "yes")]
    pub auto_fix: bool,
    /// Keep patches at the approval gate waiting for an approval (else they are
    /// reported only).
    #[serde(default = "yes")]
    pub require_approval: bool,
    /// Raises the auto gate for this project; it never lowers the configured one.
    #[serde(default)]
    pub confidence_threshold: Option<f64>,
    /// Commit each kept repair with git.
    #[serde(default)]
    pub auto_commit: bool,
    #[serde(default = "one")]
    pub max_concurrent_repairs: usize,
    /// Re-run every job every this many seconds instead of on file changes.
    #[serde(default)]
    pub schedule: Option<u64>,
    /// Only these jobs (by name); all detected jobs when empty.
    #[serde(default)]
    pub jobs: Vec<String>,
    /// Per run of a job, in seconds.
    #[serde(default = "ten_minutes")]
    pub timeout: u64,
    /// Rounds of one repair (`cars heal --rounds`).
    #[serde(default = "three")]
    pub rounds: usize,
}

fn yes() -> bool {
    true
}
fn one() -> usize {
    1
}
fn three() -> usize {
    3
}
fn ten_minutes() -> u64 {
    600
}

/// The most repairs one project may run at once.
pub const MAX_CONCURRENT_REPAIRS: usize = 16;

/// Why a request to the registry fails; `field` names what was wrong in it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OrchestratorError {
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("no orchestrator {0}")]
    Unknown(String),
    #[error("{project} is already monitored by {id}")]
    AlreadyMonitored { project: String, id: String },
}

/// Where one job stands.
#[derive(Debug, Clone, Serialize)]
pub struct JobState {
    pub name: String,
    pub command: String,
    /// From an untrusted `.cars.toml`: shown, not run, until `cars trust`.
    pub held: bool,
    pub runs: u64,
    pub last_session: Option<i64>,
    pub passed: Option<bool>,
    pub errors: usize,
}

/// A patch waiting for a person.
#[derive(Debug, Clone, Serialize)]
pub struct Pending {
    pub job: String,
    pub session: i64,
    pub patch: String,
    pub finding: String,
    pub message: String,
    pub confidence: f64,
    /// `approve` (an approval applies it) or `force` (it needs `force: true`).
    pub gate: Gate,
}

/// What `status` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub orchestrator_id: String,
    pub project_path: String,
    /// `running`, `stopping`, `stopped`, `failed`.
    pub state: String,
    pub started_at: i64,
    pub settings: StartRequest,
    /// The gates in force: the project's configured ones, the auto gate raised by
    /// `confidence_threshold`.
    pub gates: Gates,
    pub jobs: Vec<JobState>,
    pub repairs_running: usize,
    pub repairs_done: u64,
    pub pending_approvals: Vec<Pending>,
    pub last_error: Option<String>,
}

/// A counting semaphore: at most `n` repairs of a project at once.
pub struct Permits {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Permits {
    pub fn new(n: usize) -> Permits {
        Permits {
            free: Mutex::new(n.max(1)),
            freed: Condvar::new(),
        }
    }

    /// Waits for a permit; it is given back when the guard drops.
    pub fn acquire(self: &Arc<Self>) -> Permit {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
        Permit(self.clone())
    }
}

pub struct Permit(Arc<Permits>);

impl Drop for Permit {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

enum Wake {
    Changed(Vec<PathBuf>),
    Stop,
}

struct Entry {
    status: Arc<Mutex<Status>>,
    stop: Arc<AtomicBool>,
    wake: mpsc::Sender<Wake>,
}

/// Every orchestrator of this process.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    entries: Mutex<BTreeMap<String, Entry>>,
    permits: Mutex<HashMap<PathBuf, Arc<Permits>>>,
    sink: Sink,
    store_dir: Option<PathBuf>,
    next: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Registry {
    /// `sink` receives every event; `store_dir` is `--store` (None: each project's own).
    pub fn new(sink: Sink, store_dir: Option<PathBuf>) -> Registry {
        Registry {
            inner: Arc::new(Inner {
                entries: Mutex::new(BTreeMap::new()),
                permits: Mutex::new(HashMap::new()),
                sink,
                store_dir,
                next: AtomicU64::new(1),
            }),
        }
    }

    /// The repair permits of `project` (one at a time unless an orchestrator said more).
    pub fn permits(&self, project: &Path) -> Arc<Permits> {
        lock(&self.inner.permits)
            .entry(project.to_path_buf())
            .or_insert_with(|| Arc::new(Permits::new(1)))
            .clone()
    }

    /// Starts monitoring a project; returns the orchestrator's id.
    pub fn start(&self, req: StartRequest) -> Result<String, OrchestratorError> {
        validate(&req)?;
        let root = req.project_path.clone();
        let mut entries = lock(&self.inner.entries);
        if let Some((id, _)) = entries.iter().find(|(_, e)| {
            let s = lock(&e.status);
            s.project_path == root.display().to_string() && s.state == "running"
        }) {
            return Err(OrchestratorError::AlreadyMonitored {
                project: root.display().to_string(),
                id: id.clone(),
            });
        }
        let n = self.inner.next.fetch_add(1, Ordering::Relaxed);
        let id = format!(
            "orch-{n}-{}",
            short_hash(&format!("{}{}", root.display(), cars::store::now_ms()))
        );
        let config = cars::config::Config::load(&root).map_err(|e| OrchestratorError::Invalid {
            field: "project_path",
            message: e.to_string(),
        })?;
        let project = cars::watch::jobs::detect_with(&root, &config).map_err(|e| {
            OrchestratorError::Invalid {
                field: "project_path",
                message: e.to_string(),
            }
        })?;
        let mut jobs = project.jobs;
        if !req.jobs.is_empty() {
            if let Some(missing) = req
                .jobs
                .iter()
                .find(|n| !jobs.iter().any(|j| &j.name == *n))
            {
                return Err(OrchestratorError::Invalid {
                    field: "jobs",
                    message: format!("{} has no job `{missing}`", root.display()),
                });
            }
            jobs.retain(|j| req.jobs.contains(&j.name));
        }
        let gates = Gates {
            auto: config
                .gates
                .auto
                .max(req.confidence_threshold.unwrap_or(0.0)),
            ..config.gates
        };
        let status = Arc::new(Mutex::new(Status {
            orchestrator_id: id.clone(),
            project_path: root.display().to_string(),
            state: "running".into(),
            started_at: cars::store::now_ms(),
            settings: req.clone(),
            gates,
            jobs: jobs
                .iter()
                .map(|j| JobState {
                    name: j.name.clone(),
                    command: j.command.clone(),
                    held: j.held,
                    runs: 0,
                    last_session: None,
                    passed: None,
                    errors: 0,
                })
                .collect(),
            repairs_running: 0,
            repairs_done: 0,
            pending_approvals: Vec::new(),
            last_error: None,
        }));
        let permits = Arc::new(Permits::new(req.max_concurrent_repairs));
        lock(&self.inner.permits).insert(root.clone(), permits.clone());
        let (wake, woken) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let worker = Worker {
            id: id.clone(),
            root,
            jobs,
            gates,
            req,
            status: status.clone(),
            stop: stop.clone(),
            sink: self.inner.sink.clone(),
            store_dir: self.inner.store_dir.clone(),
            permits,
            tried: Arc::new(Mutex::new(HashMap::new())),
        };
        let changes = wake.clone();
        std::thread::Builder::new()
            .name(format!("cars-{id}"))
            .spawn(move || worker.run(woken, changes))
            .map_err(|e| OrchestratorError::Invalid {
                field: "project_path",
                message: format!("cannot start a thread: {e}"),
            })?;
        entries.insert(id.clone(), Entry { status, stop, wake });
        Ok(id)
    }

    /// Stops an orchestrator: no new run or repair starts; what runs finishes.
    pub fn stop(&self, id: &str) -> Result<Status, OrchestratorError> {
        let entries = lock(&self.inner.entries);
        let entry = entries
            .get(id)
            .ok_or_else(|| OrchestratorError::Unknown(id.into()))?;
        entry.stop.store(true, Ordering::SeqCst);
        let _ = entry.wake.send(Wake::Stop);
        let mut s = lock(&entry.status);
        if s.state == "running" {
            s.state = "stopping".into();
        }
        Ok(s.clone())
    }

    pub fn status(&self, id: &str) -> Option<Status> {
        lock(&self.inner.entries)
            .get(id)
            .map(|e| lock(&e.status).clone())
    }

    /// The orchestrators not stopped.
    pub fn active(&self) -> Vec<Status> {
        lock(&self.inner.entries)
            .values()
            .map(|e| lock(&e.status).clone())
            .filter(|s| s.state == "running" || s.state == "stopping")
            .collect()
    }

    /// Every orchestrator of this process, stopped ones too.
    pub fn all(&self) -> Vec<Status> {
        lock(&self.inner.entries)
            .values()
            .map(|e| lock(&e.status).clone())
            .collect()
    }

    /// Forgets a patch waiting for approval once someone decided on it.
    pub fn decided(&self, project: &Path, session: i64, patch: &str) {
        for e in lock(&self.inner.entries).values() {
            let mut s = lock(&e.status);
            if s.project_path == project.display().to_string() {
                s.pending_approvals
                    .retain(|p| !(p.session == session && p.patch == patch));
            }
        }
    }
}

fn short_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(text.as_bytes());
    d.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

fn validate(req: &StartRequest) -> Result<(), OrchestratorError> {
    let invalid = |field, message: &str| {
        Err(OrchestratorError::Invalid {
            field,
            message: message.into(),
        })
    };
    if let Some(t) = req.confidence_threshold {
        if !(0.0..=1.0).contains(&t) || t.is_nan() {
            return invalid("confidence_threshold", "must lie between 0 and 1");
        }
    }
    if req.max_concurrent_repairs == 0 || req.max_concurrent_repairs > MAX_CONCURRENT_REPAIRS {
        return invalid("max_concurrent_repairs", "must lie between 1 and 16");
    }
    if req.schedule == Some(0) {
        return invalid("schedule", "must be at least 1 second");
    }
    if req.timeout == 0 {
        return invalid("timeout", "must be at least 1 second");
    }
    if req.rounds == 0 || req.rounds > 20 {
        return invalid("rounds", "must lie between 1 and 20");
    }
    Ok(())
}

/// One orchestrator's thread and what it shares with its repairs.
struct Worker {
    id: String,
    root: PathBuf,
    jobs: Vec<Job>,
    gates: Gates,
    req: StartRequest,
    status: Arc<Mutex<Status>>,
    stop: Arc<AtomicBool>,
    sink: Sink,
    store_dir: Option<PathBuf>,
    permits: Arc<Permits>,
    /// Per job: the failure (its error fingerprints) a repair already tried and did
    /// not fix, so a rollback's own file change does not start the same repair again.
    tried: Arc<Mutex<HashMap<usize, BTreeSet<String>>>>,
}

impl Worker {
    fn emit(&self, kind: &'static str, detail: serde_json::Value) {
        let mut e = ServiceEvent::new(kind, &self.root, detail);
        e.orchestrator = Some(self.id.clone());
        (self.sink)(e);
    }

    fn run(self, woken: mpsc::Receiver<Wake>, changes: mpsc::Sender<Wake>) {
        self.emit("orchestrator", json!({"state": "running"}));
        // Without a schedule, file changes wake the loop; the watcher lives as long
        // as this thread.
        let _watcher = match self.req.schedule {
            Some(_) => None,
            None => {
                let (tx, rx) = mpsc::channel::<Vec<PathBuf>>();
                std::thread::spawn(move || {
                    for paths in rx {
                        if changes.send(Wake::Changed(paths)).is_err() {
                            break;
                        }
                    }
                });
                let debounce = cars::config::Config::load(&self.root)
                    .map(|c| Duration::from_millis(c.watch.debounce_ms))
                    .unwrap_or(Duration::from_millis(300));
                match cars::watch::changes::Watcher::new(&self.root, debounce, tx) {
                    Ok(w) => Some(w),
                    Err(e) => {
                        self.fail(&e.to_string());
                        return;
                    }
                }
            }
        };
        let worker = Arc::new(self);
        let mut due: BTreeSet<usize> = (0..worker.jobs.len()).collect();
        loop {
            for &job in &due {
                if worker.stop.load(Ordering::SeqCst) {
                    break;
                }
                worker.run_job(job);
            }
            due.clear();
            if worker.stop.load(Ordering::SeqCst) {
                break;
            }
            let wake = match worker.req.schedule {
                Some(secs) => match woken.recv_timeout(Duration::from_secs(secs)) {
                    Ok(w) => Some(w),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => Some(Wake::Stop),
                },
                None => Some(woken.recv().unwrap_or(Wake::Stop)),
            };
            match wake {
                None => due = (0..worker.jobs.len()).collect(),
                Some(Wake::Stop) => break,
                Some(Wake::Changed(paths)) => {
                    due = cars::watch::changes::jobs_for(&worker.jobs, &paths)
                        .into_iter()
                        .collect()
                }
            }
        }
        let mut s = lock(&worker.status);
        if s.state != "failed" {
            s.state = "stopped".into();
        }
        drop(s);
        worker.emit("orchestrator", json!({"state": "stopped"}));
    }

    fn fail(&self, error: &str) {
        let mut s = lock(&self.status);
        s.state = "failed".into();
        s.last_error = Some(error.into());
        drop(s);
        self.emit("orchestrator", json!({"state": "failed", "error": error}));
    }

    fn note_error(&self, error: String) {
        lock(&self.status).last_error = Some(error.clone());
        self.emit("error", json!({"error": error}));
    }

    /// Runs one job as a recorded session and routes its patches through the gates.
    fn run_job(self: &Arc<Self>, index: usize) {
        let job = &self.jobs[index];
        if job.held {
            return;
        }
        let command = job_command(job);
        let result = (|| -> Result<(), cars::session::SessionError> {
            let mut session = Session::open(&self.root, self.store_dir.as_deref())?;
            session.config.gates = self.gates;
            let timeout = Duration::from_secs(self.req.timeout);
            let ran = session.run(&command, Some(timeout), &mut |_, _, _| {})?;
            let errors: Vec<_> = ran
                .analysis
                .findings
                .iter()
                .filter(|f| f.level == Level::Error && !f.consequence)
                .collect();
            {
                let mut s = lock(&self.status);
                let j = &mut s.jobs[index];
                j.runs += 1;
                j.last_session = Some(ran.session);
                j.passed = Some(ran.exit.success);
                j.errors = errors.len();
                // A new run supersedes what the job's older runs left waiting.
                let name = job.name.clone();
                s.pending_approvals.retain(|p| p.job != name);
            }
            self.emit(
                "run",
                json!({"job": job.name, "session": ran.session, "passed": ran.exit.success,
                       "errors": errors.len(), "lines": ran.lines}),
            );
            for f in errors.iter().take(20) {
                self.emit(
                    "finding",
                    json!({"job": job.name, "session": ran.session, "finding": f.id,
                           "rule": f.rule, "category": f.category.as_str(),
                           "confidence": f.confidence, "message": f.message}),
                );
            }
            if ran.exit.success {
                lock(&self.tried).remove(&index);
                return Ok(());
            }
            let proposals = session.propose(&[])?;
            let how = Approve {
                auto: true,
                validate: Validate::Command(command.clone()),
                ..Approve::by("serve")
            };
            let mut repairable = false;
            for stored in &proposals.patches {
                let gate = self.gates.gate(&stored.patch);
                let finding = session.store.finding(ran.session, &stored.patch.finding)?;
                self.emit(
                    "patch",
                    json!({"job": job.name, "session": ran.session, "patch": stored.id,
                           "finding": finding.id, "confidence": stored.patch.confidence,
                           "gate": gate, "message": finding.message}),
                );
                let waits = match gate {
                    Gate::Approve => self.req.require_approval,
                    Gate::Force => true,
                    _ => false,
                };
                if waits {
                    lock(&self.status).pending_approvals.push(Pending {
                        job: job.name.clone(),
                        session: ran.session,
                        patch: stored.id.clone(),
                        finding: finding.id.clone(),
                        message: finding.message.clone(),
                        confidence: stored.patch.confidence,
                        gate,
                    });
                }
                repairable |= session.decide(stored, &how).is_ok();
            }
            let failure: BTreeSet<String> = errors.iter().map(|f| f.fingerprint.clone()).collect();
            let again = lock(&self.tried).get(&index) == Some(&failure);
            if self.req.auto_fix && repairable && !again {
                self.spawn_repair(index, command, failure);
            }
            Ok(())
        })();
        if let Err(e) = result {
            self.note_error(format!("{}: {e}", job.name));
        }
    }

    /// A `cars heal` round on its own thread, once a repair permit is free.
    fn spawn_repair(self: &Arc<Self>, index: usize, command: String, failure: BTreeSet<String>) {
        let me = self.clone();
        std::thread::spawn(move || {
            let _permit = me.permits.acquire();
            if me.stop.load(Ordering::SeqCst) {
                return;
            }
            lock(&me.status).repairs_running += 1;
            let job = me.jobs[index].name.clone();
            let result = (|| {
                let mut session = Session::open(&me.root, me.store_dir.as_deref())?;
                session.config.gates = me.gates;
                let opts = HealOptions {
                    command: command.clone(),
                    rounds: me.req.rounds,
                    budget: Duration::from_secs(me.req.timeout * me.req.rounds as u64),
                    timeout: Duration::from_secs(me.req.timeout),
                    ask: false,
                    force: false,
                    commit: me.req.auto_commit,
                };
                session.heal(&opts, &mut TakeAll, &ShellRunner, &Quiet)
            })();
            {
                let mut s = lock(&me.status);
                s.repairs_running -= 1;
                s.repairs_done += 1;
            }
            match result {
                Ok(report) => {
                    if !report.passed {
                        lock(&me.tried).insert(index, failure);
                    }
                    me.emit(
                        "outcome",
                        json!({"job": job, "command": command, "passed": report.passed,
                               "stop": report.stop, "fixed": report.fixed,
                               "remaining": report.remaining, "undone": report.undone,
                               "rounds": report.rounds.len(), "elapsed_ms": report.elapsed_ms}),
                    );
                }
                Err(e) => me.note_error(format!("repairing {job}: {e}")),
            }
        });
    }
}

/// The job's command as one shell line: its directory and environment made explicit
/// (the session runs commands in the project root).
fn job_command(job: &Job) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut line = String::new();
    if let Some(dir) = &job.cwd {
        line.push_str(&format!("cd {} && ", quote(&dir.display().to_string())));
    }
    for (k, v) in &job.env {
        if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            line.push_str(&format!("{k}={} ", quote(v)));
        }
    }
    line.push_str(&job.command);
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_let_at_most_n_holders_at_once() {
        let permits = Arc::new(Permits::new(2));
        let held = Arc::new(AtomicU64::new(0));
        let most = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let (permits, held, most) = (permits.clone(), held.clone(), most.clone());
                std::thread::spawn(move || {
                    let _p = permits.acquire();
                    let now = held.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(30));
                    held.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_threshold_outside_0_1_or_zero_repairs_are_refused_by_field() {
        let req = |t: Option<f64>, n: usize| StartRequest {
            project_path: PathBuf::from("/"),
            auto_fix: true,
            require_approval: true,
            confidence_threshold: t,
            auto_commit: false,
            max_concurrent_repairs: n,
            schedule: None,
            jobs: Vec::new(),
            timeout: 60,
            rounds: 1,
        };
        let field = |r: Result<(), OrchestratorError>| match r {
            Err(OrchestratorError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(validate(&req(Some(1.5), 1))), "confidence_threshold");
        assert_eq!(
            field(validate(&req(Some(0.9), 0))),
            "max_concurrent_repairs"
        );
        assert!(validate(&req(Some(0.95), 3)).is_ok());
    }

    #[test]
    fn a_job_directory_and_environment_become_part_of_its_command() {
        let job = Job {
            name: "test".into(),
            command: "make check".into(),
            env: [("CI".to_string(), "it's".to_string())].into(),
            cwd: Some(PathBuf::from("sub dir")),
            watch: Vec::new(),
            hints: Vec::new(),
            held: false,
        };
        assert_eq!(
            job_command(&job),
            "cd 'sub dir' && CI='it'\\''s' make check"
        );
    }
}
