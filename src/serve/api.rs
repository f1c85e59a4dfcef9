//! The REST API of `cars serve` (axum on tokio): JSON in and out, described in
//! `docs/openapi.json`. Safe by default: loopback unless told otherwise, a bearer token
//! for every write route (and for every route but `/health` beyond loopback), every
//! project under an `--allow-root`, bodies size-limited. The engine is synchronous
//! (SQLite, child processes), so each request's work runs on tokio's blocking pool.

use super::metrics::{self, Live};
use super::notify::{Delivery, Notifier};
use super::orchestrator::{OrchestratorError, Registry, StartRequest};
use super::projects::{AllowRoots, KnownProjects, PathRefused};
use super::{status, ServiceEvent, Sink};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cars::analyze::{Matcher, Options};
use cars::repair::{run::ShellRunner, Refusal};
use cars::session::{Approve, Quiet, Session, SessionError, Validate};
use cars::store::{SessionMeta, StoreError, StoredPatch};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::broadcast;

/// The largest request body accepted (a log sent to `/heal` included).
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// What `cars serve` was told.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub redis: Option<String>,
    pub token: Option<String>,
    pub allow_roots: Vec<PathBuf>,
    pub webhooks: Vec<String>,
    pub slack_webhook: Option<String>,
    pub store_dir: Option<PathBuf>,
}

/// Why the service cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "refusing to listen on {0} without a token: beyond loopback every route but /health \
         needs one; set CARS_TOKEN or give --token-file"
    )]
    NoToken(SocketAddr),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

struct AppState {
    registry: Registry,
    roots: AllowRoots,
    known: KnownProjects,
    token: Option<String>,
    /// Listening beyond loopback: reads need the token too.
    public: bool,
    events: broadcast::Sender<ServiceEvent>,
    notifier: Arc<Notifier>,
    redis: Option<String>,
    store_dir: Option<PathBuf>,
    started: Instant,
}

type Shared = Arc<AppState>;

/// A refused request: its status, why, and the field of the request at fault.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: String,
    field: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, error: impl Into<String>, field: Option<&str>) -> ApiError {
        ApiError {
            status,
            error: error.into(),
            field: field.map(str::to_string),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            Json(json!({"error": self.error, "field": self.field})),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        r
    }
}

type ApiResult = Result<Response, ApiError>;

fn refused_path(field: &str, e: PathRefused) -> ApiError {
    let status = match e {
        PathRefused::Outside { .. } => StatusCode::FORBIDDEN,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, e.to_string(), Some(field))
}

fn session_error(e: SessionError) -> ApiError {
    use StatusCode as S;
    let (status, field) = match &e {
        SessionError::NoSession | SessionError::Store(StoreError::NoSession) => {
            (S::NOT_FOUND, "session")
        }
        SessionError::Store(StoreError::UnknownSession(_)) => (S::NOT_FOUND, "session"),
        SessionError::Store(StoreError::UnknownFinding { .. }) => (S::NOT_FOUND, "finding"),
        SessionError::Store(StoreError::UnknownPatch { .. } | StoreError::BadId(_)) => {
            (S::NOT_FOUND, "patch_id")
        }
        SessionError::Refused {
            refusal: Refusal::NeedsForce { .. },
            ..
        } => (S::CONFLICT, "force"),
        SessionError::Refused { .. } | SessionError::NotRejectable { .. } => {
            (S::CONFLICT, "patch_id")
        }
        SessionError::Repair(_) => (S::CONFLICT, "patch_id"),
        SessionError::Config(_) => (S::UNPROCESSABLE_ENTITY, "project_path"),
        SessionError::Spawn { .. } => (S::UNPROCESSABLE_ENTITY, "command"),
        _ => {
            return ApiError::new(S::INTERNAL_SERVER_ERROR, e.to_string(), None);
        }
    };
    ApiError::new(status, e.to_string(), Some(field))
}

/// Parses a JSON body (whatever its content type: `curl -d` says form data) into `T`,
/// naming the field at fault when it does not fit.
fn parse<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|r| ApiError::new(r.status(), r.body_text(), Some("body")))?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner().to_string();
        let status = if e.inner().is_syntax() || e.inner().is_eof() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        // Missing and unknown fields are errors of the object, named in the message.
        let syntax = e.inner().is_syntax() || e.inner().is_eof();
        let named = inner
            .strip_prefix("missing field `")
            .or_else(|| inner.strip_prefix("unknown field `"))
            .and_then(|rest| rest.split('`').next());
        let field = match named {
            _ if syntax => "body".to_string(),
            Some(name) if path == "." || path.rsplit('.').next() == Some(name) => {
                if path == "." {
                    name.to_string()
                } else {
                    path
                }
            }
            Some(name) => format!("{path}.{name}"),
            None if path == "." => "body".to_string(),
            None => path,
        };
        ApiError::new(status, inner, Some(&field))
    })
}

/// Runs engine work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the request's work failed: {e}"),
            None,
        ))
    })
}

fn ok(status: StatusCode, body: Value) -> ApiResult {
    Ok((status, Json(body)).into_response())
}

/// Equal without telling by timing how much of the token matched.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn auth(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let write = !matches!(*req.method(), Method::GET | Method::HEAD);
    if req.uri().path() == "/health" || !(write || st.public) {
        return next.run(req).await;
    }
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let refusal = match (&st.token, given) {
        (None, _) => {
            "this service has no token (CARS_TOKEN or --token-file), so it takes no writes"
        }
        (Some(_), None) => "this route needs `Authorization: Bearer <token>`",
        (Some(t), Some(g)) if !same(t.as_bytes(), g.trim().as_bytes()) => "wrong token",
        _ => return next.run(req).await,
    };
    ApiError::new(StatusCode::UNAUTHORIZED, refusal, Some("Authorization")).into_response()
}

/// Starts the service and serves until interrupted. `ready` hears the bound address
/// (the port, when `--listen` asked for port 0).
pub fn serve(cfg: ServeConfig, ready: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    let public = !cfg.listen.ip().is_loopback();
    if public && cfg.token.is_none() {
        return Err(ServeError::NoToken(cfg.listen));
    }
    let roots = AllowRoots::new(&cfg.allow_roots)?;
    let (events, _) = broadcast::channel::<ServiceEvent>(1024);
    let notifier = Arc::new(Notifier::new(
        &cfg.webhooks,
        cfg.slack_webhook.as_deref(),
        Delivery::default(),
    ));
    let sink: Sink = {
        let (events, notifier) = (events.clone(), notifier.clone());
        Arc::new(move |e: ServiceEvent| {
            if e.kind == "outcome" {
                notifier.send(&e);
            }
            let _ = events.send(e);
        })
    };
    let state = Arc::new(AppState {
        registry: Registry::new(sink, cfg.store_dir.clone()),
        roots,
        known: KnownProjects::load(KnownProjects::default_file()),
        token: cfg.token.clone(),
        public,
        events,
        notifier,
        redis: cfg.redis.clone(),
        store_dir: cfg.store_dir.clone(),
        started: Instant::now(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(cfg.listen).await?;
        ready(listener.local_addr()?);
        axum::serve(listener, router(state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        Ok(())
    })
}

fn router(state: Shared) -> Router {
    Router::new()
        .route("/", get(status_page))
        .route("/health", get(health))
        .route("/metrics", get(metrics_text))
        .route("/api/automation/start", post(start))
        .route("/api/automation/stop", post(stop))
        .route("/api/automation/status", get(orchestrator_status))
        .route("/api/automation/history", get(history))
        .route("/api/automation/statistics", get(statistics))
        .route("/api/automation/heal", post(heal))
        .route("/api/automation/approve", post(approve))
        .route("/api/automation/reject", post(reject))
        .route("/api/automation/active-orchestrators", get(active))
        .route("/api/automation/events", get(events))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no such route; see docs/openapi.json",
                None,
            )
        })
        .layer(middleware::from_fn_with_state(state.clone(), auth))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// The projects the figures cover: those remembered, and those monitored now.
fn projects(st: &AppState) -> Vec<PathBuf> {
    let mut list = st.known.list(&st.roots);
    for s in st.registry.all() {
        let p = PathBuf::from(&s.project_path);
        if !list.contains(&p) {
            list.push(p);
        }
    }
    list
}

async fn health(State(st): State<Shared>) -> ApiResult {
    let redis = match st.redis.clone() {
        None => Value::Null,
        Some(url) => {
            let up = blocking(move || Ok(metrics::queue(&url).is_ok())).await?;
            json!(if up { "up" } else { "down" })
        }
    };
    ok(
        StatusCode::OK,
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION"),
               "uptime_seconds": st.started.elapsed().as_secs(),
               "orchestrators_active": st.registry.active().len(), "redis": redis}),
    )
}

async fn start(State(st): State<Shared>, body: Result<Bytes, BytesRejection>) -> ApiResult {
    let mut req: StartRequest = parse(body)?;
    let root = st
        .roots
        .check(&req.project_path.display().to_string())
        .map_err(|e| refused_path("project_path", e))?;
    req.project_path = root.clone();
    let st2 = st.clone();
    let (id, status) = blocking(move || {
        let id = st2.registry.start(req).map_err(orchestrator_error)?;
        st2.known.add(&root);
        Ok((id.clone(), st2.registry.status(&id)))
    })
    .await?;
    ok(
        StatusCode::CREATED,
        json!({"orchestrator_id": id, "status": status}),
    )
}

fn orchestrator_error(e: OrchestratorError) -> ApiError {
    match &e {
        OrchestratorError::Invalid { field, .. } => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string(), Some(field))
        }
        OrchestratorError::Unknown(_) => ApiError::new(
            StatusCode::NOT_FOUND,
            e.to_string(),
            Some("orchestrator_id"),
        ),
        OrchestratorError::AlreadyMonitored { .. } => {
            ApiError::new(StatusCode::CONFLICT, e.to_string(), Some("project_path"))
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StopRequest {
    orchestrator_id: String,
}

async fn stop(State(st): State<Shared>, body: Result<Bytes, BytesRejection>) -> ApiResult {
    let req: StopRequest = parse(body)?;
    let status = st
        .registry
        .stop(&req.orchestrator_id)
        .map_err(orchestrator_error)?;
    ok(
        StatusCode::OK,
        json!({"orchestrator_id": req.orchestrator_id, "state": status.state}),
    )
}

/// Query parameters, read by hand so a bad one is named like a bad body field.
type Params = Query<HashMap<String, String>>;

async fn orchestrator_status(State(st): State<Shared>, Query(q): Params) -> ApiResult {
    let id = q.get("orchestrator_id").ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "give ?orchestrator_id=",
            Some("orchestrator_id"),
        )
    })?;
    let status = st
        .registry
        .status(id)
        .ok_or_else(|| orchestrator_error(OrchestratorError::Unknown(id.clone())))?;
    ok(
        StatusCode::OK,
        serde_json::to_value(status).unwrap_or_default(),
    )
}

async fn active(State(st): State<Shared>) -> ApiResult {
    ok(
        StatusCode::OK,
        json!({"orchestrators": st.registry.active()}),
    )
}

/// A position in the merged event log of every project: the last entry's time, its
/// key in its store and its project (a hash of the path).
fn parse_cursor(text: &str) -> Option<(i64, i64, String)> {
    let mut parts = text.splitn(3, '-');
    let at = parts.next()?.parse().ok()?;
    let key = parts.next()?.parse().ok()?;
    let project = parts.next()?.to_string();
    (project.len() == 16 && project.chars().all(|c| c.is_ascii_hexdigit()))
        .then_some((at, key, project))
}

fn project_hash(p: &std::path::Path) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(p.display().to_string().as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn history(State(st): State<Shared>, Query(q): Params) -> ApiResult {
    let limit = match q.get("limit") {
        None => 50,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=500).contains(l))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "limit is a number from 1 to 500",
                    Some("limit"),
                )
            })?,
    };
    let cursor = match q.get("cursor") {
        None => None,
        Some(c) => Some(parse_cursor(c).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "not a cursor this service gave",
                Some("cursor"),
            )
        })?),
    };
    let st2 = st.clone();
    let body = blocking(move || {
        let mut all = Vec::new();
        for root in projects(&st2) {
            let hash = project_hash(&root);
            // Order: newest first, then by project hash, then newest key first.
            let before = cursor.as_ref().map(|(at, key, p)| {
                let key = match hash.cmp(p) {
                    std::cmp::Ordering::Less => 0,
                    std::cmp::Ordering::Equal => *key,
                    std::cmp::Ordering::Greater => i64::MAX,
                };
                (*at, key)
            });
            let Ok(store) =
                cars::store::Store::open(&cars::store::locate(&root, st2.store_dir.as_deref()))
            else {
                continue;
            };
            let Ok(page) = store.events_page(before, limit + 1) else {
                continue;
            };
            for e in page {
                all.push((hash.clone(), root.display().to_string(), e));
            }
        }
        all.sort_by(|a, b| {
            b.2.entry
                .at
                .cmp(&a.2.entry.at)
                .then_with(|| a.0.cmp(&b.0))
                .then_with(|| b.2.key.cmp(&a.2.key))
        });
        let more = all.len() > limit;
        all.truncate(limit);
        let next = more
            .then(|| {
                all.last()
                    .map(|(h, _, e)| format!("{}-{}-{h}", e.entry.at, e.key))
            })
            .flatten();
        let entries: Vec<Value> = all
            .into_iter()
            .map(|(_, project, e)| {
                json!({"at": e.entry.at, "project": project, "session": e.entry.session,
                       "patch": e.entry.patch, "kind": e.entry.kind, "detail": e.entry.detail})
            })
            .collect();
        Ok(json!({"entries": entries, "next_cursor": next}))
    })
    .await?;
    ok(StatusCode::OK, body)
}

async fn statistics(State(st): State<Shared>) -> ApiResult {
    let st2 = st.clone();
    let body = blocking(move || {
        let mut out = Vec::new();
        let (mut sessions, mut failed, mut attempted, mut validated) = (0u64, 0u64, 0u64, 0u64);
        for root in projects(&st2) {
            let Ok(store) = cars::store::Store::open(&cars::store::locate(&root, st2.store_dir.as_deref())) else {
                continue;
            };
            let (Ok(stats), Ok(o)) = (store.stats(), store.overview()) else {
                continue;
            };
            sessions += o.sessions;
            failed += o.failed_sessions;
            attempted += o.repairs_attempted;
            validated += o.repairs_validated;
            out.push(json!({
                "project": root.display().to_string(),
                "sessions": o.sessions, "failed_runs": o.failed_sessions,
                "unexplained_failures": o.unexplained_failures,
                "findings": stats.findings,
                "errors_by_category": o.errors_by_category.iter().map(|(c, n)| json!({"category": c, "count": n})).collect::<Vec<_>>(),
                "repairs": {"attempted": o.repairs_attempted, "validated": o.repairs_validated,
                            "failed": o.repairs_failed, "rolled_back": o.repairs_rolled_back},
                "mttr_ms": stats.mttr_ms,
                "by_rule": stats.by_rule, "by_strategy": stats.by_strategy,
            }));
        }
        Ok(json!({
            "projects": out,
            "totals": {"sessions": sessions, "failed_runs": failed,
                       "repairs_attempted": attempted, "repairs_validated": validated},
            "orchestrators_active": st2.registry.active().len(),
        }))
    })
    .await?;
    ok(StatusCode::OK, body)
}

fn actor_default() -> String {
    "api".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HealRequest {
    project_path: String,
    /// The log text to analyze; or `session` (and `finding`) of a recorded analysis.
    #[serde(default)]
    log: Option<String>,
    #[serde(default)]
    session: Option<i64>,
    /// Only this finding (E1...); every root finding when absent.
    #[serde(default)]
    finding: Option<String>,
    /// The command that failed: recorded with the session, and run to validate each
    /// patch applied.
    #[serde(default)]
    command: Option<String>,
    /// Apply what the auto gate allows (with `command` as validation).
    #[serde(default)]
    apply: bool,
    #[serde(default = "actor_default")]
    actor: String,
}

fn patch_json(session: &Session, p: &StoredPatch) -> Value {
    json!({"id": p.id, "session": p.session, "finding": p.patch.finding,
           "confidence": p.patch.confidence, "gate": session.gates().gate(&p.patch),
           "status": p.status, "rule": p.patch.rule, "strategy": p.patch.strategy,
           "source": cars::learn::source_key(&p.patch.provenance), "patch": p.patch})
}

fn emit(st: &AppState, kind: &'static str, root: &std::path::Path, detail: Value) {
    let _ = st
        .events
        .send(ServiceEvent::new(kind, root, detail.clone()));
    if kind == "outcome" {
        st.notifier.send(&ServiceEvent::new(kind, root, detail));
    }
}

async fn heal(State(st): State<Shared>, body: Result<Bytes, BytesRejection>) -> ApiResult {
    let req: HealRequest = parse(body)?;
    let root = st
        .roots
        .check(&req.project_path)
        .map_err(|e| refused_path("project_path", e))?;
    if req.log.is_none() && req.session.is_none() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "give the `log` text, or the `session` of a recorded analysis",
            Some("log"),
        ));
    }
    if req.log.is_some() && req.session.is_some() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "give a `log` or a `session`, not both",
            Some("session"),
        ));
    }
    if req.finding.is_some()
        && cars::store::parse_id(req.finding.as_deref().unwrap_or(""), 'E').is_err()
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "a finding id looks like E1",
            Some("finding"),
        ));
    }
    let st2 = st.clone();
    let body = blocking(move || {
        st2.known.add(&root);
        let mut session = Session::open(&root, st2.store_dir.as_deref()).map_err(session_error)?;
        let id = match &req.log {
            Some(log) => {
                let started = Instant::now();
                let matcher = Matcher::new(session.rules().map_err(session_error)?);
                let input = cars::log::LogInput::from_reader(
                    "api request".into(),
                    Box::new(std::io::Cursor::new(log.clone().into_bytes())),
                )
                .and_then(|input| matcher.analyze(input, &Options::default()))
                .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string(), Some("log")))?;
                drop(matcher);
                let analysis = cars::session::mark_flaky(&session.store, input);
                let elapsed = started.elapsed().as_millis() as u64;
                let meta = SessionMeta {
                    command: req.command.clone(),
                    analysis_ms: elapsed,
                    first_finding_ms: (!analysis.findings.is_empty()).then_some(elapsed),
                    passed: None,
                };
                session.record(analysis, &meta, None).map_err(session_error)?.0
            }
            None => session.select(req.session).map_err(session_error)?,
        };
        let findings = session.findings().map_err(session_error)?;
        for f in findings.iter().filter(|f| !f.consequence).take(20) {
            emit(&st2, "finding", &root, json!({"session": id, "finding": f.id, "rule": f.rule,
                "category": f.category.as_str(), "confidence": f.confidence, "message": f.message}));
        }
        let ids: Vec<String> = req.finding.iter().cloned().collect();
        let proposals = session.propose(&ids).map_err(session_error)?;
        let patches: Vec<Value> = proposals.patches.iter().map(|p| patch_json(&session, p)).collect();
        for p in &patches {
            emit(&st2, "patch", &root, json!({"session": id, "patch": p["id"], "finding": p["finding"],
                "confidence": p["confidence"], "gate": p["gate"]}));
        }
        let mut applied = Vec::new();
        let mut not_applied: Vec<Value> = Vec::new();
        if req.apply {
            let how = Approve {
                auto: true,
                validate: req.command.clone().map(Validate::Command).unwrap_or(Validate::None),
                ..Approve::by(&req.actor)
            };
            let confirmed = {
                let permits = st2.registry.permits(&root);
                let _permit = permits.acquire();
                session.reproduce(&how, &ShellRunner, &Quiet).map_err(session_error)?
            };
            let (take, left) = session.auto_candidates(&how).map_err(session_error)?;
            for (patch, why) in left.into_iter().chain(confirmed.unconfirmed) {
                not_applied.push(json!({"patch": patch, "why": why}));
            }
            let chosen: Vec<&str> = take.iter().map(|p| p.id.as_str()).collect();
            for p in &proposals.patches {
                let listed = not_applied.iter().any(|n| n["patch"] == p.id.as_str());
                if !chosen.contains(&p.id.as_str()) && !listed {
                    if let Err(e) = session.decide(p, &how) {
                        not_applied.push(json!({"patch": p.id, "why": e.to_string()}));
                    }
                }
            }
            let permits = st2.registry.permits(&root);
            for p in take {
                let _permit = permits.acquire();
                match session.approve(&p, &how, &ShellRunner, &Quiet) {
                    Ok(report) => {
                        let kept = !report.rolled_back;
                        let outcome = json!({"session": id, "patch": p.id, "kept": kept,
                            "passed": report.validation.as_ref().is_some_and(|v| v.passed),
                            "report": report});
                        emit(&st2, "outcome", &root, outcome.clone());
                        applied.push(outcome);
                    }
                    Err(e) => not_applied.push(json!({"patch": p.id, "why": e.to_string()})),
                }
            }
        }
        Ok(json!({"session": id, "findings": findings, "patches": patches,
                  "unfixable": proposals.unfixable, "applied": applied, "not_applied": not_applied}))
    })
    .await?;
    ok(StatusCode::OK, body)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecideRequest {
    project_path: String,
    patch_id: String,
    actor: String,
    /// The session the patch belongs to; the latest session's (or the newest patch
    /// with that id) when absent.
    #[serde(default)]
    session: Option<i64>,
    /// Approve only: confirm a patch below the approval gate.
    #[serde(default)]
    force: bool,
    /// Approve only: validate with this command instead of the session's.
    #[serde(default)]
    validate: Option<String>,
    #[serde(default)]
    commit: bool,
    /// Reject only.
    #[serde(default)]
    reason: Option<String>,
}

fn open_for_decision(
    st: &AppState,
    req: &DecideRequest,
) -> Result<(PathBuf, Session, StoredPatch), ApiError> {
    let root = st
        .roots
        .check(&req.project_path)
        .map_err(|e| refused_path("project_path", e))?;
    if req.actor.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "say who decides",
            Some("actor"),
        ));
    }
    let mut session = Session::open(&root, st.store_dir.as_deref()).map_err(session_error)?;
    if req.session.is_some() {
        session.select(req.session).map_err(session_error)?;
    }
    let patch = session.patch(&req.patch_id).map_err(session_error)?;
    Ok((root, session, patch))
}

async fn approve(State(st): State<Shared>, body: Result<Bytes, BytesRejection>) -> ApiResult {
    let req: DecideRequest = parse(body)?;
    let st2 = st.clone();
    let body = blocking(move || {
        let (root, mut session, patch) = open_for_decision(&st2, &req)?;
        let how = Approve {
            force: req.force,
            validate: req
                .validate
                .clone()
                .map(Validate::Command)
                .unwrap_or(Validate::SessionCommand),
            commit: req.commit,
            ..Approve::by(&req.actor)
        };
        let permits = st2.registry.permits(&root);
        let _permit = permits.acquire();
        let report = session
            .approve(&patch, &how, &ShellRunner, &Quiet)
            .map_err(session_error)?;
        st2.registry.decided(&root, patch.session, &patch.id);
        let outcome = json!({"session": patch.session, "patch": patch.id, "actor": req.actor,
            "kept": !report.rolled_back,
            "passed": report.validation.as_ref().map(|v| v.passed), "report": report});
        emit(&st2, "outcome", &root, outcome.clone());
        Ok(outcome)
    })
    .await?;
    ok(StatusCode::OK, body)
}

async fn reject(State(st): State<Shared>, body: Result<Bytes, BytesRejection>) -> ApiResult {
    let req: DecideRequest = parse(body)?;
    let st2 = st.clone();
    let body = blocking(move || {
        let (root, mut session, patch) = open_for_decision(&st2, &req)?;
        let p = session
            .reject(&patch.id, req.reason.as_deref(), &req.actor)
            .map_err(session_error)?;
        st2.registry.decided(&root, p.session, &p.id);
        let out =
            json!({"session": p.session, "patch": p.id, "actor": req.actor, "status": "rejected"});
        emit(&st2, "outcome", &root, out.clone());
        Ok(out)
    })
    .await?;
    ok(StatusCode::OK, body)
}

async fn events(State(st): State<Shared>) -> impl IntoResponse {
    let rx = st.events.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    let event = Event::default()
                        .event(e.kind)
                        .json_data(&e)
                        .unwrap_or_default();
                    return Some((Ok::<_, std::convert::Infallible>(event), rx));
                }
                // A slow dashboard misses events rather than slowing the service.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn metrics_text(State(st): State<Shared>) -> ApiResult {
    let st2 = st.clone();
    let text = blocking(move || {
        let stores = metrics::overviews(&projects(&st2), st2.store_dir.as_deref());
        let rates = cars::learn::Knowledge::open_default()
            .and_then(|k| k.stats())
            .unwrap_or_default();
        let c = &st2.notifier.counts;
        let live = Live {
            orchestrators_active: st2.registry.active().len(),
            notifications: [
                ("delivered", c.delivered.load(Ordering::Relaxed)),
                ("failed", c.failed.load(Ordering::Relaxed)),
                ("dropped", c.dropped.load(Ordering::Relaxed)),
            ],
            redis: st2.redis.clone(),
            worker_jobs: metrics::worker_jobs(&cars::config::data_dir().join("service")),
        };
        Ok(metrics::render(&stores, &rates, &live))
    })
    .await?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok((headers, text).into_response())
}

async fn status_page(State(st): State<Shared>) -> ApiResult {
    let st2 = st.clone();
    let html = blocking(move || {
        let views = status::gather(&projects(&st2), st2.store_dir.as_deref());
        Ok(status::render(
            env!("CARGO_PKG_VERSION"),
            &st2.registry.all(),
            &views,
        ))
    })
    .await?;
    Ok(Html(html).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Probe {
        name: String,
        #[serde(default)]
        inner: Option<Inner>,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        flag: bool,
    }

    fn field(body: &str) -> (StatusCode, Option<String>) {
        let e = parse::<Probe>(Ok(Bytes::from(body.to_string()))).unwrap_err();
        (e.status, e.field)
    }

    #[test]
    fn body_errors_name_the_field_at_fault() {
        assert_eq!(
            field("{}"),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("name".into()))
        );
        assert_eq!(
            field(r#"{"name": "x", "extra": 1}"#),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("extra".into()))
        );
        assert_eq!(
            field(r#"{"name": "x", "inner": {"flag": "yes"}}"#),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("inner.flag".into()))
        );
        assert_eq!(
            field(r#"{"name": 3}"#),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("name".into()))
        );
        assert_eq!(
            field("{not json"),
            (StatusCode::BAD_REQUEST, Some("body".into()))
        );
    }

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let hash = project_hash(std::path::Path::new("/srv/app"));
        assert_eq!(parse_cursor(&format!("17-4-{hash}")), Some((17, 4, hash)));
        assert_eq!(parse_cursor("17-4"), None);
        assert_eq!(parse_cursor("x-4-0123456789abcdef"), None);
    }
}
