//! `GET /metrics` in the Prometheus text format (version 0.0.4), computed on each
//! scrape from the stores of the projects the service knows, so counts survive a
//! restart; plus what only this process knows (active orchestrators, notifications)
//! and, with `--redis`, the length of `cars:jobs` and its consumer groups' lag.

use cars::store::{self, overview::Overview};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The stream the jobs go on and its consumer group (see `cars worker`).
pub const JOBS_STREAM: &str = "cars:jobs";

/// Latency buckets in seconds: analysis is milliseconds to seconds, a repair
/// (validation run included) a fraction of a second to many minutes.
const ANALYSIS_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
const REPAIR_BUCKETS: &[f64] = &[
    0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

/// What one scrape reads besides the stores.
pub struct Live {
    pub orchestrators_active: usize,
    pub notifications: [(&'static str, u64); 3],
    pub redis: Option<String>,
    /// Outcomes `cars worker` recorded in the service store: (type, status, count).
    pub worker_jobs: Vec<(String, String, u64)>,
}

/// One consumer group of the jobs stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub name: String,
    pub pending: i64,
    /// Entries not yet delivered to the group (Redis 7+; `None` when Redis cannot tell).
    pub lag: Option<i64>,
}

/// The queue as Redis reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    pub length: i64,
    pub groups: Vec<Group>,
}

/// Reads XLEN and XINFO GROUPS of the jobs stream; a missing stream is an empty queue.
pub fn queue(url: &str) -> Result<Queue, redis::RedisError> {
    let client = redis::Client::open(url)?;
    let mut con = client.get_connection_with_timeout(Duration::from_secs(2))?;
    con.set_read_timeout(Some(Duration::from_secs(2)))?;
    con.set_write_timeout(Some(Duration::from_secs(2)))?;
    let length: i64 = redis::cmd("XLEN").arg(JOBS_STREAM).query(&mut con)?;
    let groups = match redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(JOBS_STREAM)
        .query::<redis::Value>(&mut con)
    {
        Ok(v) => parse_groups(&v),
        // "ERR no such key": nothing was ever queued.
        Err(e) if matches!(e.kind(), redis::ErrorKind::Server(_)) => Vec::new(),
        Err(e) => return Err(e),
    };
    Ok(Queue { length, groups })
}

fn parse_groups(v: &redis::Value) -> Vec<Group> {
    use redis::Value;
    let text = |v: &Value| match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        _ => None,
    };
    let int = |v: &Value| match v {
        Value::Int(i) => Some(*i),
        _ => None,
    };
    let Value::Array(groups) = v else {
        return Vec::new();
    };
    groups
        .iter()
        .filter_map(|g| {
            let pairs: Vec<(String, &Value)> = match g {
                Value::Array(kv) => kv
                    .chunks(2)
                    .filter_map(|c| Some((text(&c[0])?, c.get(1)?)))
                    .collect(),
                Value::Map(kv) => kv.iter().filter_map(|(k, v)| Some((text(k)?, v))).collect(),
                _ => return None,
            };
            let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
            Some(Group {
                name: get("name").and_then(text)?,
                pending: get("pending").and_then(int).unwrap_or(0),
                lag: get("lag").and_then(int),
            })
        })
        .collect()
}

/// Escapes a label value: backslash, double quote and line feed.
/// The outcomes the workers recorded in the service store at `dir` (the workers'
/// default, `CARS_DATA_DIR/service`); none when no worker ran on this machine.
pub fn worker_jobs(dir: &Path) -> Vec<(String, String, u64)> {
    if !dir.join("cars.db").is_file() {
        return Vec::new();
    }
    cars::store::Store::open(&cars::store::StoreLocation {
        dir: dir.to_path_buf(),
        project_root: dir.to_path_buf(),
    })
    .and_then(|s| s.service_job_totals())
    .unwrap_or_default()
}

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Writer {
    out: String,
}

impl Writer {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            let inner: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", label(v)))
                .collect();
            let _ = write!(self.out, "{{{}}}", inner.join(","));
        }
        let _ = writeln!(self.out, " {}", number(value));
    }

    fn histogram(&mut self, name: &str, project: &str, buckets: &[f64], values_ms: &[u64]) {
        let secs: Vec<f64> = values_ms.iter().map(|&v| v as f64 / 1000.0).collect();
        for &b in buckets {
            let n = secs.iter().filter(|&&s| s <= b).count();
            let le = number(b);
            self.sample(
                &format!("{name}_bucket"),
                &[("project", project), ("le", &le)],
                n as f64,
            );
        }
        self.sample(
            &format!("{name}_bucket"),
            &[("project", project), ("le", "+Inf")],
            secs.len() as f64,
        );
        self.sample(
            &format!("{name}_sum"),
            &[("project", project)],
            secs.iter().sum(),
        );
        self.sample(
            &format!("{name}_count"),
            &[("project", project)],
            secs.len() as f64,
        );
    }
}

fn number(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn mean(values: &[u64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<u64>() as f64 / values.len() as f64)
}

/// Opens each project's store read-only in effect (only SELECTs run) and summarizes it.
pub fn overviews(projects: &[PathBuf], store_dir: Option<&Path>) -> Vec<(String, Overview)> {
    projects
        .iter()
        .filter_map(|root| {
            let loc = store::locate(root, store_dir);
            let s = store::Store::open(&loc).ok()?;
            Some((root.display().to_string(), s.overview().ok()?))
        })
        .collect()
}

/// The whole exposition.
pub fn render(stores: &[(String, Overview)], rates: &[cars::learn::Rate], live: &Live) -> String {
    let mut w = Writer { out: String::new() };
    w.family(
        "cars_orchestrators_active",
        "gauge",
        "Orchestrators monitoring a project in this service.",
    );
    w.sample(
        "cars_orchestrators_active",
        &[],
        live.orchestrators_active as f64,
    );

    w.family(
        "cars_jobs_processed_total",
        "counter",
        "Runs and logs analyzed and recorded, per project.",
    );
    for (p, o) in stores {
        w.sample(
            "cars_jobs_processed_total",
            &[("project", p)],
            o.sessions as f64,
        );
    }
    w.family(
        "cars_failures_total",
        "counter",
        "Recorded runs that failed, per project.",
    );
    for (p, o) in stores {
        w.sample(
            "cars_failures_total",
            &[("project", p)],
            o.failed_sessions as f64,
        );
    }
    w.family(
        "cars_errors_detected_total",
        "counter",
        "Root errors found, by category.",
    );
    for (p, o) in stores {
        for (category, n) in &o.errors_by_category {
            w.sample(
                "cars_errors_detected_total",
                &[("project", p), ("category", category)],
                *n as f64,
            );
        }
    }
    w.family(
        "cars_unexplained_failures_ratio",
        "gauge",
        "Share of failed runs that no specific rule explained (only fallback or generic findings).",
    );
    for (p, o) in stores {
        let ratio = if o.failed_sessions == 0 {
            0.0
        } else {
            o.unexplained_failures as f64 / o.failed_sessions as f64
        };
        w.sample("cars_unexplained_failures_ratio", &[("project", p)], ratio);
    }
    for (name, help, get) in [
        (
            "cars_repairs_attempted_total",
            "Patches written to a project.",
            (|o: &Overview| o.repairs_attempted) as fn(&Overview) -> u64,
        ),
        (
            "cars_repairs_validated_total",
            "Patches whose validation passed.",
            |o: &Overview| o.repairs_validated,
        ),
        (
            "cars_repairs_failed_total",
            "Patches whose validation failed (rolled back at once).",
            |o: &Overview| o.repairs_failed,
        ),
        (
            "cars_repairs_rolled_back_total",
            "Kept patches undone later.",
            |o: &Overview| o.repairs_rolled_back,
        ),
    ] {
        w.family(name, "counter", help);
        for (p, o) in stores {
            w.sample(name, &[("project", p)], get(o) as f64);
        }
    }
    w.family(
        "cars_fix_source_success_ratio",
        "gauge",
        "Validated outcomes over outcomes with evidence, per fix source (the knowledge base).",
    );
    for r in rates {
        let Some(source) = r.key.strip_prefix("source ") else {
            continue;
        };
        let n = r.successes + r.failures;
        if n > 0 {
            w.sample(
                "cars_fix_source_success_ratio",
                &[("source", source)],
                r.successes as f64 / n as f64,
            );
        }
    }
    w.family(
        "cars_mttd_seconds",
        "gauge",
        "Mean time from the start of a failing run to its first finding.",
    );
    for (p, o) in stores {
        if let Some(m) = mean(&o.detect_ms) {
            w.sample("cars_mttd_seconds", &[("project", p)], m / 1000.0);
        }
    }
    w.family(
        "cars_mttr_seconds",
        "gauge",
        "Mean time from a failed run to its first validated patch.",
    );
    for (p, o) in stores {
        if let Some(m) = mean(&o.repair_ms) {
            w.sample("cars_mttr_seconds", &[("project", p)], m / 1000.0);
        }
    }
    w.family(
        "cars_analysis_duration_seconds",
        "histogram",
        "Time to analyze a run or a log.",
    );
    for (p, o) in stores {
        w.histogram(
            "cars_analysis_duration_seconds",
            p,
            ANALYSIS_BUCKETS,
            &o.analysis_ms,
        );
    }
    w.family(
        "cars_repair_duration_seconds",
        "histogram",
        "Time one repair takes: writing a patch and running its validation.",
    );
    for (p, o) in stores {
        w.histogram(
            "cars_repair_duration_seconds",
            p,
            REPAIR_BUCKETS,
            &o.apply_ms,
        );
    }
    w.family(
        "cars_notifications_total",
        "counter",
        "Outcome webhooks, by result.",
    );
    for (result, n) in live.notifications {
        w.sample("cars_notifications_total", &[("result", result)], n as f64);
    }
    w.family(
        "cars_worker_jobs_total",
        "counter",
        "Stream jobs the workers recorded in the service store, by type and status.",
    );
    for (kind, status, n) in &live.worker_jobs {
        w.sample(
            "cars_worker_jobs_total",
            &[("type", kind), ("status", status)],
            *n as f64,
        );
    }
    if let Some(url) = &live.redis {
        w.family(
            "cars_redis_up",
            "gauge",
            "1 when Redis answered this scrape.",
        );
        match queue(url) {
            Ok(q) => {
                w.sample("cars_redis_up", &[], 1.0);
                w.family(
                    "cars_queue_length",
                    "gauge",
                    "Entries in the cars:jobs stream (XLEN).",
                );
                w.sample(
                    "cars_queue_length",
                    &[("stream", JOBS_STREAM)],
                    q.length as f64,
                );
                w.family(
                    "cars_queue_consumer_lag",
                    "gauge",
                    "Entries not yet delivered to the consumer group.",
                );
                for g in &q.groups {
                    if let Some(lag) = g.lag {
                        w.sample("cars_queue_consumer_lag", &[("group", &g.name)], lag as f64);
                    }
                }
                w.family(
                    "cars_queue_pending",
                    "gauge",
                    "Entries delivered to the group and not acknowledged.",
                );
                for g in &q.groups {
                    w.sample(
                        "cars_queue_pending",
                        &[("group", &g.name)],
                        g.pending as f64,
                    );
                }
            }
            Err(_) => w.sample("cars_redis_up", &[], 0.0),
        }
    }
    w.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_histograms_are_cumulative() {
        let o = Overview {
            analysis_ms: vec![5, 40, 40, 3000],
            ..Overview::default()
        };
        let live = Live {
            orchestrators_active: 0,
            notifications: [("delivered", 0), ("failed", 0), ("dropped", 0)],
            redis: None,
            worker_jobs: vec![("analyze_log".into(), "ok".into(), 7)],
        };
        let text = render(&[("/srv/a\"b".into(), o)], &[], &live);
        assert!(
            text.contains("cars_worker_jobs_total{type=\"analyze_log\",status=\"ok\"} 7"),
            "{text}"
        );
        assert!(
            text.contains("cars_jobs_processed_total{project=\"/srv/a\\\"b\"} 0"),
            "{text}"
        );
        assert!(text.contains(
            "cars_analysis_duration_seconds_bucket{project=\"/srv/a\\\"b\",le=\"0.01\"} 1"
        ));
        assert!(text.contains(
            "cars_analysis_duration_seconds_bucket{project=\"/srv/a\\\"b\",le=\"0.05\"} 3"
        ));
        assert!(text.contains(
            "cars_analysis_duration_seconds_bucket{project=\"/srv/a\\\"b\",le=\"+Inf\"} 4"
        ));
        assert!(text.contains("cars_analysis_duration_seconds_count{project=\"/srv/a\\\"b\"} 4"));
    }

    #[test]
    fn xinfo_groups_replies_in_resp2_and_resp3_shapes_parse() {
        use redis::Value;
        let s = |t: &str| Value::BulkString(t.as_bytes().to_vec());
        let resp2 = Value::Array(vec![Value::Array(vec![
            s("name"),
            s("cars-workers"),
            s("pending"),
            Value::Int(2),
            s("lag"),
            Value::Int(7),
        ])]);
        let resp3 = Value::Array(vec![Value::Map(vec![
            (s("name"), s("g")),
            (s("pending"), Value::Int(0)),
            (s("lag"), Value::Nil),
        ])]);
        assert_eq!(
            parse_groups(&resp2),
            vec![Group {
                name: "cars-workers".into(),
                pending: 2,
                lag: Some(7)
            }]
        );
        assert_eq!(
            parse_groups(&resp3),
            vec![Group {
                name: "g".into(),
                pending: 0,
                lag: None
            }]
        );
    }
}
