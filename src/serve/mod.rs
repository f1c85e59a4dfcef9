//! The service front ends over `cars::session`:
//! - `cars serve`: the REST API (api.rs), the orchestrators that watch projects and
//!   repair them (orchestrator.rs), `/metrics` (metrics.rs), the HTML status page
//!   (status.rs) and outcome webhooks (notify.rs);
//! - `cars worker` on Redis Streams: worker.rs, the loop; queue.rs, the only code that
//!   speaks Redis to the stream; jobs.rs, payloads and handlers over the engine;
//!   monitors.rs, monitoring jobs: orchestrators in the worker, claimed in Redis.
//!
//! Depends on the engine and on `cli` for its flags; no other front end depends on it.

pub mod api;
pub mod jobs;
pub mod metrics;
pub mod monitors;
pub mod notify;
pub mod orchestrator;
pub mod projects;
pub mod queue;
pub mod status;
pub mod worker;
use serde::Serialize;

/// Something a dashboard wants to know as it happens: a run, a finding, a patch, an
/// outcome. Sent on `/api/automation/events` and, for outcomes, to the webhooks.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceEvent {
    /// `run`, `finding`, `patch`, `outcome`, `orchestrator`.
    pub kind: &'static str,
    /// Milliseconds since the epoch.
    pub at: i64,
    pub project: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orchestrator: Option<String>,
    pub detail: serde_json::Value,
}

impl ServiceEvent {
    pub fn new(kind: &'static str, project: &std::path::Path, detail: serde_json::Value) -> Self {
        ServiceEvent {
            kind,
            at: cars::store::now_ms(),
            project: project.display().to_string(),
            orchestrator: None,
            detail,
        }
    }
}

/// Where events go: the SSE broadcast and the notifier. Sending never blocks.
pub type Sink = std::sync::Arc<dyn Fn(ServiceEvent) + Send + Sync>;
