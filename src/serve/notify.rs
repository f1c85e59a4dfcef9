//! Outcome webhooks: every repair outcome is posted as generic JSON (the event) to each
//! `--webhook`, and as a Slack-compatible `{"text": ...}` to `--slack-webhook`. Each
//! target has its own thread and a bounded queue: sending only enqueues (dropping when
//! the queue is full), so a slow or failing receiver never holds up a repair or another
//! receiver. Each delivery has a timeout and is retried with exponential backoff.

use super::ServiceEvent;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

/// How notifications are delivered.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    /// For one attempt, connecting included.
    pub timeout: Duration,
    /// Attempts in all (the first and the retries).
    pub attempts: u32,
    /// Before the first retry; doubled before each next one.
    pub backoff: Duration,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            timeout: Duration::from_secs(5),
            attempts: 4,
            backoff: Duration::from_millis(500),
        }
    }
}

/// Outcomes waiting per target before new ones are dropped.
const QUEUE: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Slack,
}

struct Target {
    queue: SyncSender<ServiceEvent>,
}

/// Counts what happened to notifications, for `/metrics`.
#[derive(Debug, Default)]
pub struct Counts {
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
    pub dropped: AtomicU64,
}

/// The webhook targets, each with its sending thread.
pub struct Notifier {
    targets: Vec<Target>,
    pub counts: Arc<Counts>,
}

impl Notifier {
    pub fn new(webhooks: &[String], slack: Option<&str>, delivery: Delivery) -> Notifier {
        let counts = Arc::new(Counts::default());
        let targets = webhooks
            .iter()
            .map(|u| (u.clone(), Format::Json))
            .chain(slack.map(|u| (u.to_string(), Format::Slack)))
            .map(|(url, format)| {
                let (queue, rx) = sync_channel::<ServiceEvent>(QUEUE);
                let counts = counts.clone();
                std::thread::Builder::new()
                    .name("cars-notify".into())
                    .spawn(move || {
                        let agent: ureq::Agent = ureq::Agent::config_builder()
                            .timeout_global(Some(delivery.timeout))
                            .http_status_as_error(true)
                            .build()
                            .into();
                        for event in rx {
                            let body = match format {
                                Format::Json => serde_json::to_string(&event),
                                Format::Slack => serde_json::to_string(
                                    &serde_json::json!({"text": slack_text(&event)}),
                                ),
                            }
                            .unwrap_or_default();
                            if deliver(&agent, &url, &body, delivery) {
                                counts.delivered.fetch_add(1, Ordering::Relaxed);
                            } else {
                                counts.failed.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    })
                    .ok()
                    .map(|_| Target { queue })
            })
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default();
        Notifier { targets, counts }
    }

    /// Queues an outcome for every target; never waits.
    pub fn send(&self, event: &ServiceEvent) {
        for t in &self.targets {
            if let Err(TrySendError::Full(_)) = t.queue.try_send(event.clone()) {
                self.counts.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Posts `body`, retrying with backoff; true once a receiver answered 2xx.
fn deliver(agent: &ureq::Agent, url: &str, body: &str, d: Delivery) -> bool {
    let mut wait = d.backoff;
    for attempt in 0..d.attempts.max(1) {
        if attempt > 0 {
            std::thread::sleep(wait);
            wait = wait.saturating_mul(2);
        }
        let sent = agent
            .post(url)
            .header("content-type", "application/json")
            .header("user-agent", concat!("cars/", env!("CARGO_PKG_VERSION")))
            .send(body);
        if sent.is_ok() {
            return true;
        }
    }
    false
}

/// One line a person reads in a chat channel.
pub fn slack_text(e: &ServiceEvent) -> String {
    let d = &e.detail;
    let job = d["job"]
        .as_str()
        .or(d["command"].as_str())
        .unwrap_or("a job");
    let fixed: Vec<String> = d["fixed"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    format!(
                        "{} ({})",
                        f["patch"].as_str().unwrap_or("?"),
                        f["message"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let remaining = d["remaining"].as_array().map_or(0, |a| a.len());
    if d["passed"].as_bool() == Some(true) {
        let what = if fixed.is_empty() {
            String::new()
        } else {
            format!(": fixed {}", fixed.join(", "))
        };
        format!("cars repaired `{job}` in {}{what}", e.project)
    } else {
        format!(
            "cars could not repair `{job}` in {} ({} kept, {remaining} error{} remaining)",
            e.project,
            fixed.len(),
            if remaining == 1 { "" } else { "s" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slack_text_names_the_job_the_project_and_the_fixes() {
        let mut e = ServiceEvent::new(
            "outcome",
            std::path::Path::new("/srv/app"),
            serde_json::json!({"job": "test", "passed": true,
                "fixed": [{"patch": "P1", "message": "cannot find value `coutn`"}]}),
        );
        assert_eq!(
            slack_text(&e),
            "cars repaired `test` in /srv/app: fixed P1 (cannot find value `coutn`)"
        );
        e.detail = serde_json::json!({"job": "lint", "passed": false, "fixed": [],
            "remaining": [{"finding": "E1"}, {"finding": "E2"}]});
        assert_eq!(
            slack_text(&e),
            "cars could not repair `lint` in /srv/app (0 kept, 2 errors remaining)"
        );
    }
}
