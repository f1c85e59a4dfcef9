//! Monitoring jobs of `cars worker`: start_monitoring runs an orchestrator (the same
//! `Registry` as `cars serve`) in the worker process, stop_monitoring stops it,
//! whichever worker the stop job reaches. The workers of a fleet agree through one
//! Redis hash, `<stream>:monitors`: project path -> claim (worker, orchestrator id,
//! settings). A start claims the project with HSETNX, so two workers never monitor
//! one project; a stop deletes the claim, and the worker that holds the orchestrator
//! stops it when it next sweeps. A worker that restarts under the same `--name`
//! resumes the projects it had claimed.

use super::jobs::{project_under_roots, Monitoring};
use super::orchestrator::{OrchestratorError, Registry, StartRequest};
use redis::Commands;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Payload keys that belong to the job, not to the orchestrator's settings.
const ENVELOPE: [&str; 1] = ["job_id"];
/// How often a worker compares its orchestrators with the claims.
const SWEEP_EVERY: Duration = Duration::from_secs(2);

/// Who monitors a project: the value of its field in the claims hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Claim {
    worker: String,
    orchestrator_id: String,
    at: i64,
    settings: StartRequest,
}

pub struct Monitors {
    registry: Registry,
    roots: Vec<PathBuf>,
    worker: String,
    key: String,
    client: redis::Client,
    conn: Mutex<Option<redis::Connection>>,
    last_sweep: Mutex<Option<Instant>>,
}

impl Monitors {
    /// `roots` are the worker's canonical `--allow-root`s (none: no monitoring);
    /// claims live in `<stream>:monitors`.
    pub fn new(
        url: &str,
        stream: &str,
        worker: &str,
        roots: &[PathBuf],
    ) -> redis::RedisResult<Monitors> {
        Ok(Monitors {
            registry: Registry::new(Arc::new(|_| {}), None),
            roots: roots.to_vec(),
            worker: worker.to_string(),
            key: format!("{stream}:monitors"),
            client: redis::Client::open(url)?,
            conn: Mutex::new(None),
            last_sweep: Mutex::new(None),
        })
    }

    /// Runs `f` on the claims connection, reconnecting once after an error.
    fn redis<T>(
        &self,
        f: impl Fn(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, String> {
        let mut slot = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut last = String::new();
        for _ in 0..2 {
            if slot.is_none() {
                match self
                    .client
                    .get_connection_with_timeout(Duration::from_secs(5))
                {
                    Ok(c) => *slot = Some(c),
                    Err(e) => {
                        last = e.to_string();
                        continue;
                    }
                }
            }
            let conn = slot.as_mut().expect("connected above");
            match f(conn) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    last = e.to_string();
                    *slot = None;
                }
            }
        }
        Err(format!("redis ({}): {last}", self.key))
    }

    fn claims(&self) -> Result<HashMap<String, Claim>, String> {
        let raw: HashMap<String, String> = self.redis(|c| c.hgetall(&self.key))?;
        Ok(raw
            .into_iter()
            .filter_map(|(k, v)| Some((k, serde_json::from_str(&v).ok()?)))
            .collect())
    }

    fn running_here(&self, id: &str) -> bool {
        self.registry
            .status(id)
            .is_some_and(|s| s.state == "running")
    }

    /// Restarts the orchestrators of the projects this worker's name had claimed
    /// (a restart after a crash or a deploy). Returns how many it resumed.
    pub fn resume(&self) -> Result<usize, String> {
        let mut resumed = 0;
        for (project, claim) in self.claims()? {
            if claim.worker != self.worker {
                continue;
            }
            match self.registry.start(claim.settings.clone()) {
                Ok(id) => {
                    let new = Claim {
                        orchestrator_id: id,
                        at: cars::store::now_ms(),
                        ..claim
                    };
                    let text = serde_json::to_string(&new).map_err(|e| e.to_string())?;
                    self.redis(|c| c.hset::<_, _, _, ()>(&self.key, &project, &text))?;
                    resumed += 1;
                }
                Err(e) => {
                    // Gone or broken: release it rather than hold it for nobody.
                    eprintln!(
                        "cars worker {}: cannot resume monitoring {project}: {e}; claim released",
                        self.worker
                    );
                    self.redis(|c| c.hdel::<_, _, ()>(&self.key, &project))?;
                }
            }
        }
        Ok(resumed)
    }

    /// Stops every orchestrator of this process; the claims stay, for `resume`.
    pub fn shutdown(&self) {
        for s in self.registry.active() {
            let _ = self.registry.stop(&s.orchestrator_id);
        }
    }
}

fn settings(payload: &Map<String, Value>) -> Map<String, Value> {
    payload
        .iter()
        .filter(|(k, _)| !ENVELOPE.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

impl Monitoring for Monitors {
    fn start(&self, payload: &Map<String, Value>) -> Result<Value, Option<String>> {
        if self.roots.is_empty() {
            return Err(None);
        }
        let path = payload
            .get("project_path")
            .and_then(Value::as_str)
            .ok_or_else(|| Some("payload.project_path: missing or not a string".to_string()))?;
        let root = project_under_roots(path, &self.roots).map_err(Some)?;
        let mut fields = settings(payload);
        fields.insert("project_path".into(), json!(root));
        let req: StartRequest = serde_path_to_error::deserialize(Value::Object(fields))
            .map_err(|e| Some(format!("payload.{}: {}", e.path(), e.inner())))?;
        let project = root.display().to_string();
        if let Some(claim) = self.claims().map_err(Some)?.remove(&project) {
            if claim.worker == self.worker && self.running_here(&claim.orchestrator_id) {
                // The same start delivered again: it is already running here.
                return Ok(json!({
                    "orchestrator_id": claim.orchestrator_id,
                    "project_path": project,
                    "worker": self.worker,
                    "already_running": true,
                }));
            }
            if claim.worker != self.worker {
                return Err(Some(format!(
                    "payload.project_path: {project} is already monitored by worker {} ({})",
                    claim.worker, claim.orchestrator_id
                )));
            }
            // Our own stale claim (this worker restarted): replaced below.
            self.redis(|c| c.hdel::<_, _, ()>(&self.key, &project))
                .map_err(Some)?;
        }
        let id = self.registry.start(req.clone()).map_err(|e| {
            Some(match e {
                OrchestratorError::Invalid { field, message } => {
                    format!("payload.{field}: {message}")
                }
                e => format!("payload: {e}"),
            })
        })?;
        let claim = Claim {
            worker: self.worker.clone(),
            orchestrator_id: id.clone(),
            at: cars::store::now_ms(),
            settings: req,
        };
        let text = serde_json::to_string(&claim).map_err(|e| Some(e.to_string()))?;
        let claimed = self.redis(|c| c.hset_nx::<_, _, _, bool>(&self.key, &project, &text));
        if claimed != Ok(true) {
            let _ = self.registry.stop(&id);
            return Err(Some(match claimed {
                Ok(_) => format!(
                    "payload.project_path: {project} was claimed by another worker meanwhile"
                ),
                Err(e) => e,
            }));
        }
        let jobs: Vec<String> = self
            .registry
            .status(&id)
            .map(|s| s.jobs.into_iter().map(|j| j.name).collect())
            .unwrap_or_default();
        Ok(json!({
            "orchestrator_id": id,
            "project_path": project,
            "worker": self.worker,
            "jobs": jobs,
        }))
    }

    fn stop(&self, payload: &Map<String, Value>) -> Result<Value, Option<String>> {
        if self.roots.is_empty() {
            return Err(None);
        }
        let claims = self.claims().map_err(Some)?;
        let by_id = payload.get("orchestrator_id").and_then(Value::as_str);
        let found = match (by_id, payload.get("project_path").and_then(Value::as_str)) {
            (Some(id), _) => claims
                .into_iter()
                .find(|(_, c)| c.orchestrator_id == id)
                .ok_or_else(|| format!("payload.orchestrator_id: no project is monitored by {id}")),
            (None, Some(path)) => {
                let root = project_under_roots(path, &self.roots).map_err(Some)?;
                let project = root.display().to_string();
                claims
                    .into_iter()
                    .find(|(p, _)| *p == project)
                    .ok_or_else(|| format!("payload.project_path: {project} is not monitored"))
            }
            (None, None) => Err("payload: needs orchestrator_id or project_path".to_string()),
        };
        let (project, claim) = found.map_err(Some)?;
        self.redis(|c| c.hdel::<_, _, ()>(&self.key, &project))
            .map_err(Some)?;
        if claim.worker == self.worker {
            let _ = self.registry.stop(&claim.orchestrator_id);
        }
        Ok(json!({
            "orchestrator_id": claim.orchestrator_id,
            "project_path": project,
            "worker": claim.worker,
            "stopped": true,
        }))
    }

    /// Stops the orchestrators whose claim a stop job (on any worker) removed.
    fn sweep(&self) {
        {
            let mut last = self.last_sweep.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|t| t.elapsed() < SWEEP_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        let active = self.registry.active();
        if active.is_empty() {
            return;
        }
        let Ok(claims) = self.claims() else { return };
        for s in active {
            let mine = claims
                .get(&s.project_path)
                .is_some_and(|c| c.worker == self.worker && c.orchestrator_id == s.orchestrator_id);
            if !mine && s.state == "running" {
                let _ = self.registry.stop(&s.orchestrator_id);
            }
        }
    }
}
