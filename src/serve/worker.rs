//! `cars worker`: one consumer of the job stream. Reads entries through the consumer
//! group, handles each (jobs.rs), records its outcome in the service store, then
//! publishes and acknowledges in one transaction (queue.rs), so an entry is acked only
//! after its outcome is stored. Reclaims what dead workers left, dead-letters what no
//! worker could finish, and stops between jobs on SIGTERM or ctrl-c.

use super::jobs::{self, Context as JobContext, Entry, Handled};
use super::monitors::Monitors;
use super::queue::{Names, Queue};
use crate::cli::Outcome;
use anyhow::Context;
use cars::analyze::Matcher;
use cars::rules::{RuleSet, RuleSources};
use cars::store::{Store, StoreLocation};
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  redis-server --port 6379 --appendonly yes &\n  \
cars worker --redis redis://127.0.0.1:6379 --name w1\n  \
redis-cli XADD cars:jobs '*' type analyze_log payload '{\"log\": \"error: boom\\n\", \"project\": \"app\", \"job\": \"ci/test\"}'\n  \
redis-cli XREAD STREAMS cars:results 0\n  \
cars worker --redis redis://10.0.0.5:6379 --name \"$(hostname)-2\" --allow-root /srv/repos\n\n\
Each job is an entry of the stream with a `type` field (analyze_log, heal, start_monitoring, \
stop_monitoring) and a `payload` field (JSON). analyze_log takes {\"log\", \"project\", \"job\", \
\"job_id\"}; heal takes {\"project_path\", \"log\", \"findings\", \"apply\", \"validate\", \"job_id\"} \
for a project under --allow-root, and applies only what the auto gate allows, only when \
\"apply\" is true. Workers sharing --group share the work: run as many as you like, each with \
its own --name.\n\n\
The outcome of every job is recorded once per job id (the payload's job_id, else the entry \
id) in the service store (CARS_DATA_DIR/service, or --store), then published on cars:results \
and acknowledged. A log already analyzed for the same project and job is answered from the \
store. Entries a dead worker left pending for --claim-idle are reclaimed; one delivered more \
than --max-deliveries times moves to cars:jobs:dead with the reason. SIGTERM or ctrl-c stops \
the worker after its current job."
)]
pub struct WorkerArgs {
    /// Redis server URL (redis://[user:password@]host:port[/db])
    #[arg(long, env = "CARS_REDIS_URL", value_name = "URL")]
    pub redis: String,

    /// This worker's consumer name in the group: unique per worker process
    #[arg(long, value_name = "NAME")]
    pub name: String,

    /// The consumer group the workers share
    #[arg(long, default_value = "cars-workers", value_name = "GROUP")]
    pub group: String,

    /// The job stream
    #[arg(long, default_value = "cars:jobs", value_name = "KEY")]
    pub stream: String,

    /// Where outcomes are published
    #[arg(long, default_value = "cars:results", value_name = "KEY")]
    pub results: String,

    /// Trim the results stream to about this many entries (XADD MAXLEN ~); 0 keeps all
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub results_maxlen: usize,

    /// Where the worker publishes its status (started, each job, stopped)
    #[arg(
        long = "status-stream",
        default_value = "cars:status",
        value_name = "KEY"
    )]
    pub status: String,

    /// The dead-letter stream [default: the job stream + ":dead"]
    #[arg(long, value_name = "KEY")]
    pub dead: Option<String>,

    /// Reclaim an entry another worker left unacknowledged this long (90, 30s, 500ms, 2m)
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = crate::cli::parse_duration)]
    pub claim_idle: Duration,

    /// Dead-letter an entry delivered more than this many times
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_deliveries: u64,

    /// Heal jobs may name projects under this directory (repeatable); none: no heal jobs
    #[arg(long = "allow-root", value_name = "DIR")]
    pub allow_root: Vec<PathBuf>,

    /// Heal jobs may name a validation command to run in their project
    #[arg(long)]
    pub allow_validate: bool,

    /// Refuse a job whose log is larger than this many bytes
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    pub max_log_bytes: usize,

    /// Keep acknowledged entries in the job stream (default: delete them, logs are big)
    #[arg(long)]
    pub keep_acked: bool,

    /// Print a line per job on stderr
    #[arg(long, short)]
    pub verbose: bool,
}

/// How long a read waits for a new entry before the worker looks at stop requests
/// and pending entries again.
const BLOCK: Duration = Duration::from_secs(1);
/// Entries reclaimed per XAUTOCLAIM.
const RECLAIM_BATCH: usize = 4;

pub fn run(args: WorkerArgs, store_dir: Option<&Path>) -> anyhow::Result<Outcome> {
    let dir = store_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| cars::config::data_dir().join("service"));
    let mut store = Store::open(&StoreLocation {
        dir: dir.clone(),
        project_root: dir,
    })
    .context("opening the service store")?;
    let rules = RuleSet::load(&RuleSources::standard(None, false)).context("loading rules")?;
    let matcher = Matcher::new(&rules);
    let allow_roots = args
        .allow_root
        .iter()
        .map(|r| {
            r.canonicalize()
                .with_context(|| format!("--allow-root {}", r.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let monitors = Monitors::new(&args.redis, &args.stream, &args.name, &allow_roots)
        .with_context(|| format!("--redis {}", args.redis))?;
    let ctx = JobContext {
        matcher: &matcher,
        worker: &args.name,
        allow_roots: &allow_roots,
        allow_validate: args.allow_validate,
        max_log_bytes: args.max_log_bytes,
        monitoring: &monitors,
    };
    let names = Names {
        stream: args.stream.clone(),
        group: args.group.clone(),
        consumer: args.name.clone(),
        results: args.results.clone(),
        results_maxlen: args.results_maxlen,
        status: args.status.clone(),
        dead: args
            .dead
            .clone()
            .unwrap_or_else(|| format!("{}:dead", args.stream)),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let stop = watch_signals()?;
        let mut worker = Worker {
            args: &args,
            ctx,
            store: &mut store,
            names,
            stop,
            handled: 0,
        };
        worker.serve(&monitors).await
    })?;
    Ok(Outcome::Clean)
}

/// Sets the returned flag on SIGTERM or ctrl-c; the loop looks at it between jobs.
fn watch_signals() -> anyhow::Result<Arc<AtomicBool>> {
    use tokio::signal::unix::{signal, SignalKind};
    let stop = Arc::new(AtomicBool::new(false));
    let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    let flag = stop.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        flag.store(true, Ordering::SeqCst);
    });
    Ok(stop)
}

struct Worker<'a, 'r> {
    args: &'a WorkerArgs,
    ctx: JobContext<'a, 'r>,
    store: &'a mut Store,
    names: Names,
    stop: Arc<AtomicBool>,
    handled: u64,
}

impl Worker<'_, '_> {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    async fn connect(&self) -> redis::RedisResult<Queue> {
        let mut queue = Queue::connect(
            &self.args.redis,
            self.names.clone(),
            BLOCK,
            !self.args.keep_acked,
        )
        .await?;
        queue.ensure_group().await?;
        Ok(queue)
    }

    async fn serve(&mut self, monitors: &Monitors) -> anyhow::Result<()> {
        let mut queue = self
            .connect()
            .await
            .with_context(|| format!("connecting to {}", self.args.redis))?;
        queue.status(&self.status("started", None)).await?;
        eprintln!(
            "cars worker {}: reading {} as group {}",
            self.args.name, self.names.stream, self.names.group
        );
        if !self.args.allow_root.is_empty() {
            match monitors.resume() {
                Ok(0) => {}
                Ok(n) => eprintln!(
                    "cars worker {}: resumed monitoring {n} projects",
                    self.args.name
                ),
                Err(e) => eprintln!(
                    "cars worker {}: cannot resume monitoring: {e}",
                    self.args.name
                ),
            }
        }
        // Reclaim at start: a restarted worker finds what it, or another, left.
        let mut last_reclaim: Option<Instant> = None;
        while !self.stopping() {
            match self.round(&mut queue, &mut last_reclaim).await {
                Ok(()) => {}
                Err(e) => {
                    eprintln!("cars worker {}: redis: {e}; reconnecting", self.args.name);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    match self.connect().await {
                        Ok(q) => queue = q,
                        Err(e) => eprintln!("cars worker {}: redis: {e}", self.args.name),
                    }
                }
            }
        }
        monitors.shutdown();
        let _ = queue.status(&self.status("stopped", None)).await;
        eprintln!(
            "cars worker {}: stopped after {} jobs",
            self.args.name, self.handled
        );
        Ok(())
    }

    /// One read (reclaimed entries first, when it is time to look) and its jobs.
    async fn round(
        &mut self,
        queue: &mut Queue,
        last_reclaim: &mut Option<Instant>,
    ) -> redis::RedisResult<()> {
        let mut batch = Vec::new();
        let due = last_reclaim.is_none_or(|t| t.elapsed() >= self.reclaim_every());
        if due {
            batch = queue.reclaim(self.args.claim_idle, RECLAIM_BATCH).await?;
            // A full batch may have more behind it: look again next round.
            *last_reclaim = (batch.len() < RECLAIM_BATCH).then(Instant::now);
        }
        if batch.is_empty() {
            batch = queue.read_new(1).await?;
        }
        self.ctx.monitoring.sweep();
        for entry in batch {
            if self.stopping() {
                // Left pending: another worker reclaims it after --claim-idle.
                break;
            }
            self.process(queue, entry).await?;
        }
        Ok(())
    }

    fn reclaim_every(&self) -> Duration {
        (self.args.claim_idle / 2).clamp(Duration::from_millis(100), Duration::from_secs(10))
    }

    async fn process(&mut self, queue: &mut Queue, entry: Entry) -> redis::RedisResult<()> {
        if entry.deliveries > self.args.max_deliveries && !self.recorded(&entry) {
            let reason = format!(
                "delivered {} times (--max-deliveries {}): each worker died or failed before recording its outcome",
                entry.deliveries, self.args.max_deliveries
            );
            eprintln!(
                "cars worker {}: entry {} to {}: {reason}",
                self.args.name, entry.id, self.names.dead
            );
            let job_id = jobs::job_id(&entry);
            let result = vec![
                ("job_id", job_id.clone()),
                ("entry_id", entry.id.clone()),
                ("type", type_of(&entry)),
                ("status", "dead".into()),
                ("error", reason.clone()),
                ("worker", self.args.name.clone()),
            ];
            queue.dead_letter(&entry, &reason, &result).await?;
            return queue
                .status(&self.status("job", Some((&job_id, "dead"))))
                .await;
        }
        let job_id = jobs::job_id(&entry);
        if !self.recorded(&entry) {
            // Finished by a worker elsewhere (its own store): answer with its result.
            if let Some(done) = queue.done(&job_id).await? {
                let mut result: Vec<(&str, String)> =
                    done.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                result.push(("entry_id", entry.id.clone()));
                result.push(("answered_by", self.args.name.clone()));
                if self.args.verbose {
                    eprintln!(
                        "cars worker {}: {job_id} answered with the fleet's earlier result",
                        self.args.name
                    );
                }
                self.handled += 1;
                let status = self.status("job", Some((&job_id, "done-before")));
                return queue.finish(&entry.id, &job_id, &result, &status).await;
            }
        }
        test_pause();
        let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            jobs::handle(&self.ctx, self.store, &entry)
        }));
        let Handled { record, fresh } = match handled {
            Ok(Ok(h)) => h,
            // Not acknowledged: delivered again after --claim-idle, up to --max-deliveries.
            Ok(Err(e)) => {
                eprintln!("cars worker {}: {e:#}", self.args.name);
                return Ok(());
            }
            Err(_) => {
                eprintln!(
                    "cars worker {}: entry {} crashed its handler; left for redelivery",
                    self.args.name, entry.id
                );
                return Ok(());
            }
        };
        if self.args.verbose {
            eprintln!(
                "cars worker {}: {} {} {} {}{} {}ms",
                self.args.name,
                record.job_id,
                record.kind,
                record.status.as_str(),
                record
                    .findings
                    .map(|n| format!("{n} findings"))
                    .unwrap_or_default(),
                if fresh { "" } else { " (recorded earlier)" },
                record.duration_ms
            );
        }
        let result = result_fields(&record);
        self.handled += 1;
        let status = self.status("job", Some((&record.job_id, record.status.as_str())));
        queue
            .finish(&entry.id, &record.job_id, &result, &status)
            .await
    }

    /// Whether the entry's job already has an outcome: then it is answered, not
    /// dead-lettered, however often it was delivered.
    fn recorded(&self, entry: &Entry) -> bool {
        matches!(self.store.service_job(&jobs::job_id(entry)), Ok(Some(_)))
    }

    /// A status entry: `state` is started, job (one finished: its id and status) or
    /// stopped.
    fn status(&self, state: &str, job: Option<(&str, &str)>) -> Vec<(&'static str, String)> {
        let mut s = vec![
            ("worker", self.args.name.clone()),
            ("state", state.to_string()),
            ("handled", self.handled.to_string()),
            ("pid", std::process::id().to_string()),
            ("at", cars::store::now_ms().to_string()),
        ];
        if let Some((id, status)) = job {
            s.push(("job_id", id.to_string()));
            s.push(("status", status.to_string()));
        }
        s
    }
}

fn type_of(entry: &Entry) -> String {
    entry
        .fields
        .get("type")
        .map(|t| String::from_utf8_lossy(t).into_owned())
        .unwrap_or_default()
}

/// The fields of a result on `cars:results`: flat ones to filter on, and the whole
/// outcome as JSON.
fn result_fields(record: &cars::store::jobs::JobRecord) -> Vec<(&'static str, String)> {
    let top = record
        .outcome
        .get("top")
        .filter(|t| !t.is_null())
        .map(|t| t.to_string())
        .unwrap_or_default();
    let mut fields = vec![
        ("job_id", record.job_id.clone()),
        ("entry_id", record.entry_id.clone()),
        ("type", record.kind.clone()),
        ("status", record.status.as_str().to_string()),
        (
            "findings",
            record.findings.map(|n| n.to_string()).unwrap_or_default(),
        ),
        ("top", top),
        ("duration_ms", record.duration_ms.to_string()),
        ("worker", record.worker.clone()),
        ("outcome", record.outcome.to_string()),
    ];
    if let Some(e) = &record.error {
        fields.push(("error", e.clone()));
    }
    if let Some(r) = &record.reused {
        fields.push(("reused", r.clone()));
    }
    fields
}

/// Test builds only (`--features test-hooks`): a pause before each job lets a test
/// kill the worker while it holds an entry.
#[cfg(feature = "test-hooks")]
fn test_pause() {
    if let Some(ms) = std::env::var("CARS_TEST_PAUSE_JOB_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

#[cfg(not(feature = "test-hooks"))]
fn test_pause() {}
