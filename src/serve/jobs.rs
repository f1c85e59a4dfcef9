//! Job payloads and their handlers: what `cars worker` does with one stream entry,
//! from its fields to the outcome the store records. No Redis here (queue.rs owns
//! that); the handlers are plain calls into the engine: the `Matcher` with the same
//! rules as `cars analyze`, and `cars::session` for heal.

use cars::analyze::{Analysis, Finding, Matcher, Options};
use cars::log::LogInput;
use cars::rules::model::Level;
use cars::store::jobs::{JobRecord, JobStatus};
use cars::store::{now_ms, Store, StoreError};
use serde::Serialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One stream entry as the queue delivered it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub fields: HashMap<String, Vec<u8>>,
    /// How many times the group has delivered it, this delivery included.
    pub deliveries: u64,
}

/// The job types of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    AnalyzeLog,
    Heal,
    StartMonitoring,
    StopMonitoring,
}

impl JobKind {
    pub const ALL: [JobKind; 4] = [
        JobKind::AnalyzeLog,
        JobKind::Heal,
        JobKind::StartMonitoring,
        JobKind::StopMonitoring,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::AnalyzeLog => "analyze_log",
            JobKind::Heal => "heal",
            JobKind::StartMonitoring => "start_monitoring",
            JobKind::StopMonitoring => "stop_monitoring",
        }
    }

    fn parse(s: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Starts and stops the monitoring of a project: the API's orchestrators. A worker
/// without `--allow-root` has none and says so in the job's outcome.
pub trait Monitoring {
    /// `Ok(outcome)`, or `Err(None)` when this worker does not handle monitoring,
    /// `Err(Some(why))` when it failed.
    fn start(&self, payload: &Map<String, Value>) -> Result<Value, Option<String>>;
    fn stop(&self, payload: &Map<String, Value>) -> Result<Value, Option<String>>;
    /// Called between jobs: lets the monitors catch up with stops other workers took.
    fn sweep(&self) {}
}

/// What the handlers may do, fixed when the worker starts.
pub struct Context<'a, 'r> {
    pub matcher: &'a Matcher<'r>,
    pub worker: &'a str,
    /// A heal job's project must lie under one of these (canonical paths).
    pub allow_roots: &'a [PathBuf],
    /// A heal job may name a validation command to run in its project.
    pub allow_validate: bool,
    pub max_log_bytes: usize,
    pub monitoring: &'a dyn Monitoring,
}

/// A job the store could not record: the entry stays pending, to be delivered again.
#[derive(Debug, thiserror::Error)]
#[error("recording the outcome of job {job_id}: {source}")]
pub struct Unrecorded {
    pub job_id: String,
    pub source: StoreError,
}

/// A handled job: the record that stands in the store and whether this delivery
/// wrote it (false: an earlier delivery or worker had, and its outcome is the answer).
#[derive(Debug)]
pub struct Handled {
    pub record: JobRecord,
    pub fresh: bool,
}

/// What a handler found, before it becomes a record.
struct Done {
    status: JobStatus,
    error: Option<String>,
    findings: Option<u64>,
    summary: Value,
    project: Option<String>,
    job: Option<String>,
    log_sha256: Option<String>,
    reused: Option<String>,
}

impl Done {
    fn failed(error: String) -> Done {
        Done {
            status: JobStatus::Failed,
            error: Some(error),
            findings: None,
            summary: Value::Null,
            project: None,
            job: None,
            log_sha256: None,
            reused: None,
        }
    }
}

/// A bad payload, naming the field.
fn field_error(field: &str, problem: &str) -> String {
    format!("{field}: {problem}")
}

/// The job id an entry answers to: the payload's `job_id`, else the entry id.
fn job_id_of(entry: &Entry, payload: Option<&Map<String, Value>>) -> String {
    payload
        .and_then(|p| p.get("job_id"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| entry.id.clone())
}

/// The job id of an entry, for a look-up before handling it.
pub fn job_id(entry: &Entry) -> String {
    job_id_of(entry, payload_of(entry).ok().as_ref())
}

fn text_field<'e>(entry: &'e Entry, name: &str) -> Result<&'e str, String> {
    let raw = entry.fields.get(name).ok_or_else(|| {
        field_error(
            name,
            "missing (XADD cars:jobs '*' type analyze_log payload '{...}')",
        )
    })?;
    std::str::from_utf8(raw).map_err(|_| field_error(name, "not UTF-8 text"))
}

fn payload_of(entry: &Entry) -> Result<Map<String, Value>, String> {
    let text = text_field(entry, "payload")?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(field_error("payload", "must be a JSON object")),
        Err(e) => Err(field_error("payload", &format!("invalid JSON: {e}"))),
    }
}

fn opt_str<'p>(payload: &'p Map<String, Value>, name: &str) -> Result<Option<&'p str>, String> {
    match payload.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(field_error(&format!("payload.{name}"), "must be a string")),
    }
}

fn req_str<'p>(payload: &'p Map<String, Value>, name: &str) -> Result<&'p str, String> {
    opt_str(payload, name)?.ok_or_else(|| field_error(&format!("payload.{name}"), "missing"))
}

/// Handles one entry: answers from the store when its job id already has an outcome,
/// else runs its handler and records the outcome (once per job id, whatever the
/// number of deliveries). Only a store failure is an error; a bad payload is a
/// `failed` outcome.
pub fn handle(ctx: &Context, store: &mut Store, entry: &Entry) -> Result<Handled, Unrecorded> {
    let received_at = now_ms();
    let started = Instant::now();
    let payload = payload_of(entry);
    let job_id = job_id_of(entry, payload.as_ref().ok());
    let unrecorded = |source| Unrecorded {
        job_id: job_id.clone(),
        source,
    };
    if let Some(record) = store.service_job(&job_id).map_err(unrecorded)? {
        return Ok(Handled {
            record,
            fresh: false,
        });
    }
    let kind = text_field(entry, "type").and_then(|t| {
        JobKind::parse(t).ok_or_else(|| {
            let known: Vec<&str> = JobKind::ALL.iter().map(|k| k.as_str()).collect();
            field_error(
                "type",
                &format!("unknown job type `{t}` (known: {})", known.join(", ")),
            )
        })
    });
    let type_name = text_field(entry, "type").unwrap_or("").to_string();
    let done = match (kind, payload) {
        (Err(e), _) | (Ok(_), Err(e)) => Done::failed(e),
        (Ok(kind), Ok(payload)) => {
            let done = run_job(ctx, store, kind, &payload).map_err(unrecorded)?;
            // A failed job still names its project and job, for history.
            Done {
                project: done.project.or_else(|| {
                    opt_str(&payload, "project")
                        .ok()
                        .flatten()
                        .map(String::from)
                }),
                job: done
                    .job
                    .or_else(|| opt_str(&payload, "job").ok().flatten().map(String::from)),
                ..done
            }
        }
    };
    let duration_ms = started.elapsed().as_millis() as u64;
    let mut outcome = json!({
        "job_id": job_id,
        "entry_id": entry.id,
        "type": type_name,
        "status": done.status.as_str(),
        "worker": ctx.worker,
        "duration_ms": duration_ms,
    });
    let obj = outcome.as_object_mut().expect("built as an object");
    if let Some(e) = &done.error {
        obj.insert("error".into(), json!(e));
    }
    if let Some(n) = done.findings {
        obj.insert("findings".into(), json!(n));
    }
    if let Some(r) = &done.reused {
        obj.insert("reused".into(), json!(r));
    }
    if let Value::Object(summary) = done.summary {
        for (k, v) in summary {
            obj.entry(k).or_insert(v);
        }
    }
    let record = JobRecord {
        job_id: job_id.clone(),
        entry_id: entry.id.clone(),
        kind: type_name,
        project: done.project,
        job: done.job,
        log_sha256: done.log_sha256,
        status: done.status,
        error: done.error,
        findings: done.findings,
        outcome,
        reused: done.reused,
        worker: ctx.worker.to_string(),
        deliveries: entry.deliveries,
        received_at,
        finished_at: now_ms(),
        duration_ms,
    };
    let (record, fresh) = store.record_service_job(&record).map_err(unrecorded)?;
    Ok(Handled { record, fresh })
}

fn run_job(
    ctx: &Context,
    store: &Store,
    kind: JobKind,
    payload: &Map<String, Value>,
) -> Result<Done, StoreError> {
    let not_handled = |what: &str| Done {
        status: JobStatus::NotHandled,
        error: Some(format!(
            "{what} needs a worker started with --allow-root DIR \
             (or the orchestrators of `cars serve`)"
        )),
        ..Done::failed(String::new())
    };
    let from = |r: Result<Value, Option<String>>, what: &str| match r {
        Ok(summary) => Done {
            status: JobStatus::Ok,
            error: None,
            summary,
            ..Done::failed(String::new())
        },
        Err(None) => not_handled(what),
        Err(Some(e)) => Done::failed(e),
    };
    Ok(match kind {
        JobKind::AnalyzeLog => match analyze_log(ctx, store, payload)? {
            Ok(done) => done,
            Err(e) => Done::failed(e),
        },
        JobKind::Heal => heal(ctx, payload).unwrap_or_else(Done::failed),
        JobKind::StartMonitoring => from(ctx.monitoring.start(payload), "start_monitoring"),
        JobKind::StopMonitoring => from(ctx.monitoring.stop(payload), "stop_monitoring"),
    })
}

/// `{"log": "...", "project": "app", "job": "ci/test"}`: the log analyzed with the
/// worker's rules, unless the same project and job already had this very log.
fn analyze_log(
    ctx: &Context,
    store: &Store,
    payload: &Map<String, Value>,
) -> Result<Result<Done, String>, StoreError> {
    let parsed = (|| {
        let log = req_str(payload, "log")?;
        if log.len() > ctx.max_log_bytes {
            return Err(field_error(
                "payload.log",
                &format!(
                    "{} bytes, more than this worker's limit of {} (--max-log-bytes)",
                    log.len(),
                    ctx.max_log_bytes
                ),
            ));
        }
        Ok((log, opt_str(payload, "project")?, opt_str(payload, "job")?))
    })();
    let (log, project, job) = match parsed {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let sha = hex(&Sha256::digest(log.as_bytes()));
    if let Some(earlier) = store.service_job_by_log(project, job, &sha)? {
        let mut summary = earlier.outcome.clone();
        if let Some(obj) = summary.as_object_mut() {
            for k in [
                "job_id",
                "entry_id",
                "status",
                "worker",
                "duration_ms",
                "reused",
            ] {
                obj.remove(k);
            }
        }
        return Ok(Ok(Done {
            status: JobStatus::Ok,
            error: None,
            findings: earlier.findings,
            summary,
            project: project.map(String::from),
            job: job.map(String::from),
            log_sha256: Some(sha),
            reused: Some(earlier.job_id),
        }));
    }
    let name = match (project, job) {
        (Some(p), Some(j)) => format!("{p} {j}"),
        (Some(p), None) => p.to_string(),
        (None, Some(j)) => j.to_string(),
        (None, None) => "queued log".to_string(),
    };
    let input = LogInput::from_reader(
        name,
        Box::new(std::io::Cursor::new(log.as_bytes().to_vec())),
    )
    .and_then(|input| ctx.matcher.analyze(input, &Options::default()));
    let analysis = match input {
        Ok(a) => a,
        Err(e) => return Ok(Err(field_error("payload.log", &e.to_string()))),
    };
    Ok(Ok(Done {
        status: JobStatus::Ok,
        error: None,
        findings: Some(analysis.findings.len() as u64),
        summary: summarize(&analysis),
        project: project.map(String::from),
        job: job.map(String::from),
        log_sha256: Some(sha),
        reused: None,
    }))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A finding as a result names it.
#[derive(Serialize)]
struct Brief<'f> {
    id: &'f str,
    rule: &'f str,
    category: &'f str,
    confidence: f64,
    message: &'f str,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<String>,
}

fn brief(f: &Finding) -> Brief<'_> {
    Brief {
        id: &f.id,
        rule: &f.rule,
        category: f.category.as_str(),
        confidence: f.confidence,
        message: &f.message,
        location: f.location.as_ref().map(|l| match l.line {
            Some(line) => format!("{}:{line}", l.file),
            None => l.file.clone(),
        }),
    }
}

/// How many findings a result lists after the top one.
const LISTED: usize = 5;

fn summarize(analysis: &Analysis) -> Value {
    let mut by_category: BTreeMap<&str, u64> = BTreeMap::new();
    for f in &analysis.findings {
        *by_category.entry(f.category.as_str()).or_default() += 1;
    }
    let errors = analysis
        .findings
        .iter()
        .filter(|f| f.level == Level::Error)
        .count();
    json!({
        "lines": analysis.lines,
        "errors": errors,
        "by_category": by_category,
        "top": analysis.findings.first().map(brief),
        "listed": analysis.findings.iter().take(LISTED).map(brief).collect::<Vec<_>>(),
    })
}

/// `{"project_path": "/srv/repos/app", "log": "...", "findings": ["E1"], "apply": false,
/// "validate": "make test"}`: the log analyzed as a session of the project (its own
/// rules only if trusted), patches proposed, and applied only when `apply` asks and
/// the auto gate allows each one.
fn heal(ctx: &Context, payload: &Map<String, Value>) -> Result<Done, String> {
    use cars::repair::run::ShellRunner;
    use cars::session::{Approve, Quiet, Session, Validate};
    let root = project_under_roots(req_str(payload, "project_path")?, ctx.allow_roots)?;
    let log = req_str(payload, "log")?;
    if log.len() > ctx.max_log_bytes {
        return Err(field_error(
            "payload.log",
            &format!("{} bytes, more than --max-log-bytes", log.len()),
        ));
    }
    let ids: Vec<String> = match payload.get("findings") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(String::from))
            .collect::<Option<_>>()
            .ok_or_else(|| field_error("payload.findings", "must be a list of ids like E1"))?,
        Some(_) => {
            return Err(field_error(
                "payload.findings",
                "must be a list of ids like E1",
            ))
        }
    };
    let apply = match payload.get("apply") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(field_error("payload.apply", "must be true or false")),
    };
    let validate = opt_str(payload, "validate")?;
    if validate.is_some() && !ctx.allow_validate {
        return Err(field_error(
            "payload.validate",
            "this worker runs no commands named by jobs (start it with --allow-validate)",
        ));
    }
    let fail = |e: cars::session::SessionError| format!("{e}");
    let mut session = Session::open(&root, None).map_err(fail)?;
    let started = Instant::now();
    let analysis = {
        let matcher = Matcher::new(session.rules().map_err(fail)?);
        let input = LogInput::from_reader(
            "heal job log".into(),
            Box::new(std::io::Cursor::new(log.as_bytes().to_vec())),
        )
        .map_err(|e| field_error("payload.log", &e.to_string()))?;
        matcher
            .analyze(input, &Options::default())
            .map_err(|e| field_error("payload.log", &e.to_string()))?
    };
    let meta = cars::store::SessionMeta {
        command: validate.map(String::from),
        analysis_ms: started.elapsed().as_millis() as u64,
        first_finding_ms: None,
        passed: None,
    };
    let analysis = cars::session::mark_flaky(&session.store, analysis);
    let (sid, analysis) = session.record(analysis, &meta, None).map_err(fail)?;
    let proposals = session.propose(&ids).map_err(fail)?;
    let mut applied = Vec::new();
    let mut left = Vec::new();
    if apply {
        let how = Approve {
            auto: true,
            validate: validate.map_or(Validate::None, |c| Validate::Command(c.to_string())),
            ..Approve::by("worker")
        };
        // Suggestions the submitted log holds pass the auto gate only once a run of
        // the validation command here prints them again.
        let confirmed = session
            .reproduce(&how, &ShellRunner, &Quiet)
            .map_err(fail)?;
        left.extend(
            confirmed
                .unconfirmed
                .into_iter()
                .map(|(id, why)| json!({"patch": id, "why": why})),
        );
        let (take, skipped) = session.auto_candidates(&how).map_err(fail)?;
        left.extend(
            skipped
                .into_iter()
                .map(|(id, why)| json!({"patch": id, "why": why})),
        );
        for p in take {
            match session.approve(&p, &how, &ShellRunner, &Quiet) {
                Ok(report) => applied.push(json!({
                    "patch": p.id,
                    "files": report.files,
                    "validated": report.validation.is_some() && !report.rolled_back,
                    "rolled_back": report.rolled_back,
                })),
                Err(e) => left.push(json!({"patch": p.id, "why": e.to_string()})),
            }
        }
    }
    let gates = session.gates();
    let patches: Vec<Value> = proposals
        .patches
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "finding": p.patch.finding,
                "confidence": p.patch.confidence,
                "gate": gates.gate(&p.patch),
                "files": p.patch.files.iter().map(|f| f.path.clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut summary = summarize(&analysis);
    let obj = summary.as_object_mut().expect("built as an object");
    obj.insert("session".into(), json!(sid));
    obj.insert("project_path".into(), json!(root.display().to_string()));
    obj.insert("patches".into(), json!(patches));
    obj.insert("unfixable".into(), json!(proposals.unfixable));
    obj.insert("applied".into(), json!(applied));
    obj.insert("not_applied".into(), json!(left));
    Ok(Done {
        status: JobStatus::Ok,
        error: None,
        findings: Some(analysis.findings.len() as u64),
        summary,
        project: Some(root.display().to_string()),
        job: opt_str(payload, "job")?.map(String::from),
        log_sha256: Some(hex(&Sha256::digest(log.as_bytes()))),
        reused: None,
    })
}

/// The project a job names, canonical, if it lies under an allowed root.
pub(super) fn project_under_roots(path: &str, roots: &[PathBuf]) -> Result<PathBuf, String> {
    let field = "payload.project_path";
    let canonical = Path::new(path)
        .canonicalize()
        .map_err(|e| field_error(field, &format!("{path}: {e}")))?;
    if roots.is_empty() {
        return Err(field_error(
            field,
            "this worker heals no project (start it with --allow-root DIR)",
        ));
    }
    if roots.iter().any(|r| canonical.starts_with(r)) {
        Ok(canonical)
    } else {
        Err(field_error(
            field,
            &format!("{} is not under any --allow-root", canonical.display()),
        ))
    }
}
