//! `cars worker` against a real `redis-server` started on a free loopback port: shared
//! streams, a worker killed mid-job, poison jobs, idempotency, bad payloads, a
//! graceful stop, heal jobs under `--allow-root` and monitoring jobs claimed by one
//! worker of the fleet.
#![cfg(feature = "serve")]

mod common;

use cars::store::{Store, StoreLocation};
use common::Project;
use redis::Commands;
use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A throwaway redis-server, killed on drop.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start() -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (.ci/run installs it)");
        let r = Redis { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while r.try_conn().is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        r
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn try_conn(&self) -> redis::RedisResult<redis::Connection> {
        let mut c = redis::Client::open(self.url())?.get_connection()?;
        redis::cmd("PING").query::<String>(&mut c)?;
        Ok(c)
    }

    fn conn(&self) -> redis::Connection {
        self.try_conn().unwrap()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Workers' shared data dir (the service store) and HOME.
struct Fleet {
    home: tempfile::TempDir,
    url: String,
}

impl Fleet {
    fn new(redis: &Redis) -> Fleet {
        Fleet {
            home: tempfile::tempdir().unwrap(),
            url: redis.url(),
        }
    }

    fn data(&self) -> PathBuf {
        self.home.path().join("data")
    }

    /// Starts `cars worker --name NAME ARGS`, with `pause_ms` before each job.
    fn worker(&self, name: &str, args: &[&str], pause_ms: Option<u64>) -> Child {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cars"));
        common::git_env(&mut c)
            .args(["worker", "--redis", &self.url, "--name", name])
            .args(args)
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("XDG_DATA_HOME", self.home.path().join("xdg-data"))
            .env("CARS_DATA_DIR", self.data())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(ms) = pause_ms {
            c.env("CARS_TEST_PAUSE_JOB_MS", ms.to_string());
        }
        c.spawn().unwrap()
    }

    /// Runs `cars ARGS` in `dir` with the workers' HOME and data dir.
    fn cars(&self, dir: &Path, args: &[&str]) -> std::process::Output {
        common::git_env(&mut Command::new(env!("CARGO_BIN_EXE_cars")))
            .args(args)
            .current_dir(dir)
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("XDG_DATA_HOME", self.home.path().join("xdg-data"))
            .env("CARS_DATA_DIR", self.data())
            .output()
            .unwrap()
    }

    fn store(&self) -> Store {
        let dir = self.data().join("service");
        Store::open(&StoreLocation {
            dir: dir.clone(),
            project_root: dir,
        })
        .unwrap()
    }
}

fn add(c: &mut redis::Connection, kind: &str, payload: &str) -> String {
    c.xadd("cars:jobs", "*", &[("type", kind), ("payload", payload)])
        .unwrap()
}

fn log_job(job_id: &str, log: &str) -> String {
    serde_json::json!({"log": log, "project": "app", "job": "ci/test", "job_id": job_id})
        .to_string()
}

/// A log with one rustc error, distinct per `n`.
fn rust_log(n: usize) -> String {
    format!(
        "   Compiling app v0.1.0\nerror[E0425]: cannot find value `x{n}` in this scope\n --> src/main.rs:{n}:5\nerror: could not compile `app`\n"
    )
}

type Fields = HashMap<String, String>;

fn stream(c: &mut redis::Connection, key: &str) -> Vec<Fields> {
    let reply: redis::streams::StreamRangeReply = c.xrange_all(key).unwrap();
    reply
        .ids
        .into_iter()
        .map(|id| {
            id.map
                .into_iter()
                .map(|(k, v)| (k, redis::from_redis_value::<String>(v).unwrap()))
                .collect()
        })
        .collect()
}

/// Waits until `key` holds at least `n` entries.
fn wait_for(c: &mut redis::Connection, key: &str, n: usize, secs: u64) -> Vec<Fields> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let entries = stream(c, key);
        if entries.len() >= n {
            return entries;
        }
        assert!(
            Instant::now() < deadline,
            "{key} has {} of {n} entries: {entries:#?}",
            entries.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The consumer holding entry `id` unacknowledged, once one does.
fn wait_pending_owner(c: &mut redis::Connection, id: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let p: redis::streams::StreamPendingCountReply = c
            .xpending_count("cars:jobs", "cars-workers", id, id, 1)
            .unwrap_or_default();
        if let Some(p) = p.ids.first() {
            return p.consumer.clone();
        }
        assert!(Instant::now() < deadline, "nobody took entry {id}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn pending(c: &mut redis::Connection) -> usize {
    let reply: redis::streams::StreamPendingReply =
        c.xpending("cars:jobs", "cars-workers").unwrap();
    reply.count()
}

fn stop(mut w: Child) {
    let _ = w.kill();
    let _ = w.wait();
}

fn sigterm(w: &Child) {
    // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
    unsafe { libc::kill(w.id() as i32, libc::SIGTERM) };
}

#[test]
#[cfg_attr(
    not(feature = "test-hooks"),
    ignore = "slows jobs through a hook: run with --features test-hooks"
)]
fn several_workers_share_a_stream_and_each_job_is_handled_once() {
    let redis = Redis::start();
    let fleet = Fleet::new(&redis);
    let mut c = redis.conn();
    let workers: Vec<Child> = ["w1", "w2", "w3"]
        .iter()
        .map(|n| fleet.worker(n, &[], Some(50)))
        .collect();
    // Each says `started` on cars:status once it reads the stream.
    wait_for(&mut c, "cars:status", workers.len(), 60);
    let jobs = 24;
    for n in 0..jobs {
        add(
            &mut c,
            "analyze_log",
            &log_job(&format!("J{n}"), &rust_log(n + 1)),
        );
    }
    wait_for(&mut c, "cars:results", jobs, 60);
    // Give a second result for any job the time to appear.
    std::thread::sleep(Duration::from_millis(300));
    let results = stream(&mut c, "cars:results");
    workers.into_iter().for_each(stop);

    assert_eq!(results.len(), jobs, "one result per job: {results:#?}");
    let mut ids: Vec<&str> = results.iter().map(|r| r["job_id"].as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), jobs);
    let by: std::collections::BTreeSet<&str> =
        results.iter().map(|r| r["worker"].as_str()).collect();
    assert!(by.len() >= 2, "the work was shared: {by:?}");
    for r in &results {
        assert_eq!(r["status"], "ok", "{r:#?}");
        assert_eq!(r["findings"], "2", "{r:#?}");
        let top: serde_json::Value = serde_json::from_str(&r["top"]).unwrap();
        let n: usize = r["job_id"][1..].parse().unwrap();
        assert_eq!(
            top["message"],
            format!("cannot find value `x{}` in this scope", n + 1)
        );
        assert_eq!(top["location"], format!("src/main.rs:{}", n + 1));
    }
    assert_eq!(
        fleet.store().service_job_counts().unwrap(),
        (jobs as u64, 0)
    );
    assert_eq!(pending(&mut c), 0);
    // Acknowledged entries are deleted: the logs do not pile up in Redis.
    let left: usize = c.xlen("cars:jobs").unwrap();
    assert_eq!(left, 0);
}

/// Regression: of two workers started at once on a fresh data dir, one sometimes died
/// with "database is locked" (two processes switching a new file to WAL deadlock, and
/// SQLite answers one without waiting) or "table sessions already exists" (both
/// migrated it).
#[test]
fn workers_started_at_once_on_a_fresh_data_dir_all_start() {
    let redis = Redis::start();
    let mut c = redis.conn();
    for round in 0..3 {
        let fleet = Fleet::new(&redis);
        let _: () = redis::cmd("DEL").arg("cars:status").query(&mut c).unwrap();
        let mut workers: Vec<Child> = (0..5)
            .map(|n| fleet.worker(&format!("r{round}w{n}"), &[], None))
            .collect();
        let deadline = Instant::now() + Duration::from_secs(60);
        while stream(&mut c, "cars:status").len() < workers.len() {
            for w in &mut workers {
                let exited = w.try_wait().unwrap();
                assert!(exited.is_none(), "a worker died at start: {exited:?}");
            }
            assert!(Instant::now() < deadline, "the workers did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        workers.into_iter().for_each(stop);
    }
}

#[test]
#[cfg_attr(
    not(feature = "test-hooks"),
    ignore = "holds a job through a hook: run with --features test-hooks"
)]
fn a_worker_killed_mid_job_has_its_job_reclaimed_and_finished_exactly_once() {
    let redis = Redis::start();
    let fleet = Fleet::new(&redis);
    let mut c = redis.conn();
    let slow = fleet.worker("slow", &[], Some(60_000));
    let id = add(&mut c, "analyze_log", &log_job("K1", &rust_log(7)));
    assert_eq!(wait_pending_owner(&mut c, &id), "slow");
    stop(slow); // SIGKILL while it holds the entry
    assert!(stream(&mut c, "cars:results").is_empty());

    let other = fleet.worker("other", &["--claim-idle", "300ms"], None);
    let results = wait_for(&mut c, "cars:results", 1, 30);
    // Give a second, wrong result the time to appear.
    std::thread::sleep(Duration::from_millis(1500));
    let results = {
        let later = stream(&mut c, "cars:results");
        assert_eq!(later.len(), results.len(), "{later:#?}");
        later
    };
    stop(other);
    assert_eq!(results.len(), 1, "{results:#?}");
    assert_eq!(results[0]["job_id"], "K1");
    assert_eq!(results[0]["worker"], "other");
    assert_eq!(results[0]["status"], "ok");
    assert_eq!(pending(&mut c), 0);
    let store = fleet.store();
    assert_eq!(store.service_job_counts().unwrap(), (1, 0));
    let rec = store.service_job("K1").unwrap().unwrap();
    assert_eq!(rec.deliveries, 2, "the first delivery died with its worker");
    assert_eq!(rec.entry_id, id);
}

#[test]
#[cfg_attr(
    not(feature = "test-hooks"),
    ignore = "holds a job through a hook: run with --features test-hooks"
)]
fn a_poison_job_lands_in_the_dead_letter_stream() {
    let redis = Redis::start();
    let fleet = Fleet::new(&redis);
    let mut c = redis.conn();
    let payload = log_job("P1", &rust_log(3));
    let id = add(&mut c, "analyze_log", &payload);
    // Two workers in turn die holding it.
    for name in ["a", "b"] {
        let w = fleet.worker(name, &["--claim-idle", "200ms"], Some(60_000));
        let deadline = Instant::now() + Duration::from_secs(20);
        while wait_pending_owner(&mut c, &id) != name {
            assert!(Instant::now() < deadline, "{name} never took the entry");
            std::thread::sleep(Duration::from_millis(20));
        }
        stop(w);
    }
    let last = fleet.worker(
        "c",
        &["--claim-idle", "200ms", "--max-deliveries", "2"],
        None,
    );
    let dead = wait_for(&mut c, "cars:jobs:dead", 1, 30);
    let results = wait_for(&mut c, "cars:results", 1, 30);
    // A later job still goes through: the poison one does not stop the worker.
    add(&mut c, "analyze_log", &log_job("P2", &rust_log(4)));
    let results_after = wait_for(&mut c, "cars:results", 2, 30);
    stop(last);

    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["entry_id"], id);
    assert_eq!(dead[0]["deliveries"], "3");
    assert!(
        dead[0]["reason"].contains("delivered 3 times"),
        "{:?}",
        dead[0]
    );
    assert_eq!(dead[0]["job.type"], "analyze_log");
    assert_eq!(dead[0]["job.payload"], payload, "the job can be replayed");
    assert_eq!(results[0]["job_id"], "P1");
    assert_eq!(results[0]["status"], "dead");
    assert_eq!(results_after[1]["job_id"], "P2");
    assert_eq!(results_after[1]["status"], "ok");
    assert_eq!(pending(&mut c), 0);
    let store = fleet.store();
    assert!(store.service_job("P1").unwrap().is_none());
    assert_eq!(store.service_job_counts().unwrap(), (1, 0));
}

#[test]
fn the_same_job_or_the_same_log_is_analyzed_once_and_results_name_the_job() {
    let redis = Redis::start();
    let fleet = Fleet::new(&redis);
    let mut c = redis.conn();
    let w = fleet.worker("w1", &[], None);
    let log = rust_log(5);
    let first = add(&mut c, "analyze_log", &log_job("build-41", &log));
    // Delivered again under the same job id (a client retry): the stored answer.
    add(&mut c, "analyze_log", &log_job("build-41", &log));
    // The same failure seen again by another run of the same job: not analyzed again.
    add(&mut c, "analyze_log", &log_job("build-42", &log));
    // The same log from another project is its own analysis.
    let other = serde_json::json!({"log": log, "project": "web", "job": "ci/test"}).to_string();
    let other_id = add(&mut c, "analyze_log", &other);
    let results = wait_for(&mut c, "cars:results", 4, 30);
    stop(w);

    let ids: Vec<&str> = results.iter().map(|r| r["job_id"].as_str()).collect();
    assert_eq!(ids, ["build-41", "build-41", "build-42", other_id.as_str()]);
    assert_eq!(
        results[0], results[1],
        "the retry gets the recorded outcome"
    );
    assert_eq!(results[1]["entry_id"], first);
    assert!(!results[0].contains_key("reused"));
    assert_eq!(results[2]["reused"], "build-41");
    assert_eq!(results[2]["top"], results[0]["top"]);
    assert!(!results[3].contains_key("reused"), "{:?}", results[3]);
    let store = fleet.store();
    assert_eq!(store.service_job_counts().unwrap(), (3, 0));
    let rec = store.service_job("build-42").unwrap().unwrap();
    assert_eq!(rec.reused.as_deref(), Some("build-41"));
    assert_eq!(rec.findings, Some(2));
}

#[test]
fn a_job_sent_again_is_answered_with_its_first_result_by_a_worker_on_another_machine() {
    let redis = Redis::start();
    // Two machines: each worker has its own data dir, so its own service store.
    let here = Fleet::new(&redis);
    let there = Fleet::new(&redis);
    let mut c = redis.conn();
    let w1 = here.worker("w1", &[], None);
    add(&mut c, "analyze_log", &log_job("build-7", &rust_log(3)));
    wait_for(&mut c, "cars:results", 1, 30);
    stop(w1);
    let w2 = there.worker("w2", &[], None);
    let again = add(&mut c, "analyze_log", &log_job("build-7", &rust_log(3)));
    add(&mut c, "analyze_log", &log_job("build-8", &rust_log(3)));
    let results = wait_for(&mut c, "cars:results", 3, 30);
    stop(w2);

    let (first, second) = (&results[0], &results[1]);
    assert_eq!(second["job_id"], "build-7");
    assert_eq!(second["entry_id"], again);
    assert_eq!(second["answered_by"], "w2");
    for field in ["worker", "outcome", "findings", "top", "status"] {
        assert_eq!(first[field], second[field], "{field}");
    }
    assert_eq!(first["worker"], "w1");
    // w2 analyzed only build-8; build-7 stays recorded once, on the first machine.
    let store = there.store();
    assert!(store.service_job("build-7").unwrap().is_none());
    assert_eq!(results[2]["worker"], "w2");
    assert_eq!(store.service_job_counts().unwrap(), (1, 0));
    assert_eq!(here.store().service_job_counts().unwrap(), (1, 0));
}

#[test]
fn the_results_stream_is_trimmed_to_about_results_maxlen() {
    let redis = Redis::start();
    let fleet = Fleet::new(&redis);
    let mut c = redis.conn();
    let w = fleet.worker("w1", &["--results-maxlen", "10"], None);
    for i in 0..300 {
        add(&mut c, "analyze_log", &format!(r#"{{"job_id": "j{i}"}}"#));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while fleet.store().service_job_counts().unwrap().0 < 300 {
        assert!(Instant::now() < deadline, "the worker did not finish");
        std::thread::sleep(Duration::from_millis(100));
    }
    stop(w);
    // `MAXLEN ~` trims whole stream nodes (100 entries by default), never to below 10.
    let len: usize = c.xlen("cars:results").unwrap();
    assert!((10..=200).contains(&len), "{len} results kept");
}

#[test]
fn bad_payloads_fail_naming_the_field_and_the_worker_carries_on() {
    let redis = Redis::start();
    let fleet = Fleet::new(&redis);
    let mut c = redis.conn();
    let w = fleet.worker("w1", &["--max-log-bytes", "1000"], None);
    add(&mut c, "analyze_log", "{not json");
    add(
        &mut c,
        "analyze_log",
        r#"{"project": "app", "job_id": "no-log"}"#,
    );
    add(&mut c, "analyze_log", r#"{"log": ["a"], "job_id": "list"}"#);
    add(&mut c, "reticulate", r#"{"job_id": "odd"}"#);
    add(&mut c, "analyze_log", &log_job("big", &"x".repeat(2000)));
    let _: String = c
        .xadd("cars:jobs", "*", &[("payload", r#"{"job_id": "untyped"}"#)])
        .unwrap();
    add(
        &mut c,
        "start_monitoring",
        r#"{"job_id": "mon", "project_path": "/srv/app"}"#,
    );
    add(&mut c, "analyze_log", &log_job("fine", &rust_log(2)));
    let results = wait_for(&mut c, "cars:results", 8, 30);
    stop(w);

    let errors: Vec<(&str, &str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["job_id"].as_str(),
                r["status"].as_str(),
                r.get("error").map_or("", |e| e.as_str()),
            )
        })
        .collect();
    assert!(
        errors[0].2.starts_with("payload: invalid JSON"),
        "{errors:?}"
    );
    assert_eq!(errors[1], ("no-log", "failed", "payload.log: missing"));
    assert_eq!(
        errors[2],
        ("list", "failed", "payload.log: must be a string")
    );
    assert!(
        errors[3]
            .2
            .starts_with("type: unknown job type `reticulate`"),
        "{errors:?}"
    );
    assert!(
        errors[4]
            .2
            .starts_with("payload.log: 2000 bytes, more than"),
        "{errors:?}"
    );
    assert!(errors[5].2.starts_with("type: missing"), "{errors:?}");
    assert_eq!(errors[5].0, "untyped");
    assert_eq!(errors[6].1, "not-handled");
    assert!(errors[6].2.contains("--allow-root"), "{errors:?}");
    assert_eq!(errors[7], ("fine", "ok", ""));
    assert_eq!(pending(&mut c), 0);
}

#[test]
#[cfg_attr(
    not(feature = "test-hooks"),
    ignore = "slows a job through a hook: run with --features test-hooks"
)]
fn sigterm_lets_the_current_job_finish_then_the_worker_exits() {
    let redis = Redis::start();
    let fleet = Fleet::new(&redis);
    let mut c = redis.conn();
    let mut w = fleet.worker("w1", &[], Some(1500));
    let id = add(&mut c, "analyze_log", &log_job("T1", &rust_log(9)));
    wait_pending_owner(&mut c, &id);
    sigterm(&w);
    let status = w.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let results = stream(&mut c, "cars:results");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["job_id"], "T1");
    assert_eq!(pending(&mut c), 0);
    let states: Vec<String> = stream(&mut c, "cars:status")
        .into_iter()
        .map(|s| s["state"].clone())
        .collect();
    assert_eq!(states, ["started", "job", "stopped"]);
}

const DEPRECATION: &str = "##[warning]Node.js 16 actions are deprecated. Please update the following actions to use Node.js 20: actions/checkout@v3. For more information see: https://github.blog/changelog/2023-09-22-github-actions-transitioning-from-node-16-to-node-20/.\n";

#[test]
fn heal_jobs_propose_within_the_allowed_roots_and_the_gates_keep_ci_files() {
    let redis = Redis::start();
    let fleet = Fleet::new(&redis);
    let mut c = redis.conn();
    let wf = "name: build\non: [push]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v3\n      - run: make build\n";
    let p = Project::new(&[(".github/workflows/build.yml", wf)]);
    let allowed = p.root();
    let w = fleet.worker(
        "w1",
        &["--allow-root", allowed.parent().unwrap().to_str().unwrap()],
        None,
    );
    let heal = |path: &Path, extra: serde_json::Value| {
        let mut j = serde_json::json!({"project_path": path, "log": DEPRECATION});
        j.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        j.to_string()
    };
    add(
        &mut c,
        "heal",
        &heal(&allowed, serde_json::json!({"job_id": "h1"})),
    );
    add(
        &mut c,
        "heal",
        &heal(&allowed, serde_json::json!({"job_id": "h2", "apply": true})),
    );
    add(
        &mut c,
        "heal",
        &heal(Path::new("/"), serde_json::json!({"job_id": "h3"})),
    );
    add(
        &mut c,
        "heal",
        &heal(
            &allowed,
            serde_json::json!({"job_id": "h4", "validate": "true"}),
        ),
    );
    let results = wait_for(&mut c, "cars:results", 4, 60);
    stop(w);

    let outcome =
        |i: usize| -> serde_json::Value { serde_json::from_str(&results[i]["outcome"]).unwrap() };
    let h1 = outcome(0);
    assert_eq!(h1["status"], "ok", "{h1:#}");
    let patch = &h1["patches"][0];
    assert_eq!(patch["files"][0], ".github/workflows/build.yml", "{h1:#}");
    assert_eq!(h1["applied"].as_array().unwrap().len(), 0);
    // Asked to apply, the auto gate still keeps a log-derived edit of a CI file.
    let h2 = outcome(1);
    assert_eq!(h2["status"], "ok", "{h2:#}");
    assert!(h2["applied"].as_array().unwrap().is_empty(), "{h2:#}");
    assert_eq!(p.read(".github/workflows/build.yml"), wf);
    assert_eq!(results[2]["status"], "failed");
    assert!(
        results[2]["error"].starts_with("payload.project_path: / is not under any --allow-root"),
        "{:?}",
        results[2]
    );
    assert_eq!(results[3]["status"], "failed");
    assert!(
        results[3]["error"].starts_with("payload.validate:"),
        "{:?}",
        results[3]
    );
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

fn wait_until(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn claim(c: &mut redis::Connection, project: &Path) -> Option<serde_json::Value> {
    let raw: Option<String> = c
        .hget("cars:jobs:monitors", project.to_str().unwrap())
        .unwrap();
    raw.map(|r| serde_json::from_str(&r).unwrap())
}

#[test]
fn monitoring_jobs_run_one_orchestrator_per_project_resume_after_a_kill_and_any_worker_stops_it() {
    let redis = Redis::start();
    let fleet = Fleet::new(&redis);
    let mut c = redis.conn();
    let marks = tempfile::tempdir().unwrap();
    let runs = marks.path().join("runs.txt");
    let job = format!(
        "[[job]]\nname = \"check\"\ncommand = \"echo run >> {}\"\n",
        runs.display()
    );
    let p = Project::new(&[(".cars.toml", &job)]);
    let root = p.root().canonicalize().unwrap();
    let trusted = fleet.cars(&root, &["trust"]);
    assert!(trusted.status.success(), "{trusted:?}");
    let allow = root.parent().unwrap().to_str().unwrap().to_string();
    let start = |job_id: &str| {
        serde_json::json!({"job_id": job_id, "project_path": root, "schedule": 1, "auto_fix": false})
            .to_string()
    };

    let w1 = fleet.worker("w1", &["--allow-root", &allow], None);
    add(&mut c, "start_monitoring", &start("m1"));
    let results = wait_for(&mut c, "cars:results", 1, 30);
    assert_eq!(results[0]["status"], "ok", "{:?}", results[0]);
    let outcome: serde_json::Value = serde_json::from_str(&results[0]["outcome"]).unwrap();
    assert_eq!(outcome["jobs"], serde_json::json!(["check"]), "{outcome}");
    let first = claim(&mut c, &root).expect("the project is claimed");
    assert_eq!(first["worker"], "w1");
    assert_eq!(first["orchestrator_id"], outcome["orchestrator_id"]);
    // The trusted job runs in the worker's orchestrator, every second.
    wait_until("the job to run twice", 30, || lines(&runs) >= 2);

    // Killed, the worker comes back under its name and resumes its project.
    stop(w1);
    let before = lines(&runs);
    let w1 = fleet.worker("w1", &["--allow-root", &allow], None);
    wait_until("the resumed job to run", 30, || lines(&runs) > before + 1);
    let resumed = claim(&mut c, &root).expect("still claimed");
    assert_eq!(resumed["worker"], "w1");
    assert_ne!(resumed["orchestrator_id"], first["orchestrator_id"]);

    // A second start, on whichever worker, leaves one orchestrator.
    let w2 = fleet.worker("w2", &["--allow-root", &allow], None);
    add(&mut c, "start_monitoring", &start("m2"));
    let outside = serde_json::json!({"job_id": "m3", "project_path": "/"}).to_string();
    add(&mut c, "start_monitoring", &outside);
    add(
        &mut c,
        "stop_monitoring",
        r#"{"job_id": "s0", "orchestrator_id": "orch-404"}"#,
    );
    let results = wait_for(&mut c, "cars:results", 4, 30);
    let m2 = &results[1];
    if m2["worker"] == "w1" {
        assert_eq!(m2["status"], "ok", "{m2:?}");
        assert!(m2["outcome"].contains("already_running"), "{m2:?}");
    } else {
        assert_eq!(m2["status"], "failed", "{m2:?}");
        assert!(
            m2["error"].contains("already monitored by worker w1"),
            "{m2:?}"
        );
    }
    assert_eq!(
        claim(&mut c, &root).unwrap()["orchestrator_id"],
        resumed["orchestrator_id"]
    );
    assert_eq!(results[2]["status"], "failed");
    assert!(
        results[2]["error"].contains("is not under any --allow-root"),
        "{:?}",
        results[2]
    );
    assert_eq!(results[3]["status"], "failed");
    assert!(
        results[3]["error"].contains("no project is monitored by orch-404"),
        "{:?}",
        results[3]
    );

    // A stop reaches either worker; the claim goes and the job stops running.
    let stop_job = serde_json::json!({"job_id": "s1", "project_path": root}).to_string();
    add(&mut c, "stop_monitoring", &stop_job);
    let results = wait_for(&mut c, "cars:results", 5, 30);
    assert_eq!(results[4]["status"], "ok", "{:?}", results[4]);
    assert!(claim(&mut c, &root).is_none());
    // The holder stops at its next sweep (2 s); a run under way may still finish.
    std::thread::sleep(Duration::from_secs(4));
    let settled = lines(&runs);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        lines(&runs),
        settled,
        "the orchestrator kept running after the stop"
    );
    stop(w1);
    stop(w2);
}

#[test]
fn a_claimed_project_that_is_gone_when_its_worker_restarts_is_released() {
    let redis = Redis::start();
    let fleet = Fleet::new(&redis);
    let mut c = redis.conn();
    let p = Project::new(&[(
        ".cars.toml",
        "[[job]]\nname = \"check\"\ncommand = \"true\"\n",
    )]);
    let root = p.root().canonicalize().unwrap();
    assert!(fleet.cars(&root, &["trust"]).status.success());
    let allow = root.parent().unwrap().to_str().unwrap().to_string();
    let w = fleet.worker("w1", &["--allow-root", &allow], None);
    let start = serde_json::json!({"job_id": "m1", "project_path": root, "schedule": 60});
    add(&mut c, "start_monitoring", &start.to_string());
    let results = wait_for(&mut c, "cars:results", 1, 30);
    assert_eq!(results[0]["status"], "ok", "{:?}", results[0]);
    assert!(claim(&mut c, &root).is_some());
    stop(w);
    std::fs::remove_file(root.join(".cars.toml")).unwrap();
    let w = fleet.worker("w1", &["--allow-root", &allow], None);
    wait_until("the claim to be released", 30, || {
        claim(&mut c, &root).is_none()
    });
    stop(w);
}
