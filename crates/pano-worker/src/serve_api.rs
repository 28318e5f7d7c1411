//! `--serve-api`: RunPod's public API shape on this machine, under `/v2/<endpoint>/`
//! (`run`, `runsync`, `status`, `cancel`, `health`), with a real queue, real states and
//! timing fields and a bearer-key check, so that the desktop app runs end to end without
//! RunPod.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pano_engine::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::download::DownloadPolicy;
use crate::protocol::process_input;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobPhase {
    InQueue,
    InProgress,
    Completed,
    Failed,
    Cancelled,
    TimedOut,
}

impl JobPhase {
    fn name(self) -> &'static str {
        match self {
            JobPhase::InQueue => "IN_QUEUE",
            JobPhase::InProgress => "IN_PROGRESS",
            JobPhase::Completed => "COMPLETED",
            JobPhase::Failed => "FAILED",
            JobPhase::Cancelled => "CANCELLED",
            JobPhase::TimedOut => "TIMED_OUT",
        }
    }

    fn is_final(self) -> bool {
        !matches!(self, JobPhase::InQueue | JobPhase::InProgress)
    }
}

struct ApiJob {
    input: Value,
    state: JobPhase,
    submitted: Instant,
    started: Option<Instant>,
    finished: Option<Instant>,
    execution_timeout: Duration,
    ttl: Duration,
    output: Option<Value>,
    error: Option<String>,
}

impl ApiJob {
    fn status(&self, id: &str) -> Value {
        let mut v = json!({"id": id, "status": self.state.name()});
        if let Some(started) = self.started {
            v["delayTime"] = json!((started - self.submitted).as_millis() as u64);
            let end = self.finished.unwrap_or_else(Instant::now);
            v["executionTime"] = json!((end - started).as_millis() as u64);
        }
        if let Some(o) = &self.output {
            v["output"] = o.clone();
        }
        if let Some(e) = &self.error {
            v["error"] = json!(e);
        }
        v
    }
}

/// Settings of the local endpoint.
pub struct ApiConfig {
    pub endpoint_id: String,
    pub api_key: SecretString,
    /// Jobs run at once (one engine; more only queue on its sessions).
    pub concurrency: usize,
    pub policy: DownloadPolicy,
}

struct Shared {
    config: ApiConfig,
    engine: Arc<Engine>,
    jobs: Mutex<HashMap<String, ApiJob>>,
    queue: Mutex<VecDeque<String>>,
    wake: Notify,
    running: Mutex<usize>,
    next_id: Mutex<u64>,
}

/// The router, and the job runners it needs (spawned on the current runtime).
pub fn router(engine: Arc<Engine>, config: ApiConfig) -> Router {
    let shared = Arc::new(Shared {
        engine,
        jobs: Mutex::default(),
        queue: Mutex::default(),
        wake: Notify::new(),
        running: Mutex::new(0),
        next_id: Mutex::new(0),
        config,
    });
    for _ in 0..shared.config.concurrency.max(1) {
        tokio::spawn(runner(shared.clone()));
    }
    let base = format!("/v2/{}", shared.config.endpoint_id);
    Router::new()
        .route(&format!("{base}/run"), post(run))
        .route(&format!("{base}/runsync"), post(runsync))
        .route(&format!("{base}/status/{{id}}"), get(status).post(status))
        .route(&format!("{base}/cancel/{{id}}"), post(cancel))
        .route(&format!("{base}/health"), get(health))
        .with_state(shared)
}

fn authorised(shared: &Shared, headers: &HeaderMap) -> bool {
    let expected = format!("Bearer {}", shared.config.api_key.expose_secret());
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected)
}

fn unauthorised() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "Unauthorized"})),
    )
        .into_response()
}

fn bad_request(reason: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": reason}))).into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "job not found"})),
    )
        .into_response()
}

/// Queues a request; on a bad request, the reason (answered as 400).
fn enqueue(shared: &Shared, body: &Bytes) -> Result<String, &'static str> {
    let request: Value = serde_json::from_slice(body).map_err(|_| "the body is not JSON")?;
    let Some(input) = request.get("input").cloned() else {
        return Err("no input");
    };
    let ms = |key: &str, default: u64| {
        Duration::from_millis(request["policy"][key].as_u64().unwrap_or(default))
    };
    let id = {
        let mut n = shared.next_id.lock().expect("not poisoned");
        *n += 1;
        format!("local-{}-{}", *n, std::process::id())
    };
    shared.jobs.lock().expect("not poisoned").insert(
        id.clone(),
        ApiJob {
            input,
            state: JobPhase::InQueue,
            submitted: Instant::now(),
            started: None,
            finished: None,
            execution_timeout: ms("executionTimeout", 600_000),
            ttl: ms("ttl", 86_400_000),
            output: None,
            error: None,
        },
    );
    shared
        .queue
        .lock()
        .expect("not poisoned")
        .push_back(id.clone());
    shared.wake.notify_one();
    Ok(id)
}

async fn run(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorised(&shared, &headers) {
        return unauthorised();
    }
    match enqueue(&shared, &body) {
        Ok(id) => Json(json!({"id": id, "status": "IN_QUEUE"})).into_response(),
        Err(reason) => bad_request(reason),
    }
}

async fn runsync(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, u64>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorised(&shared, &headers) {
        return unauthorised();
    }
    let id = match enqueue(&shared, &body) {
        Ok(id) => id,
        Err(reason) => return bad_request(reason),
    };
    let wait = Duration::from_millis(
        q.get("wait")
            .copied()
            .unwrap_or(90_000)
            .clamp(1_000, 300_000),
    );
    let deadline = Instant::now() + wait;
    loop {
        let status = {
            let jobs = shared.jobs.lock().expect("not poisoned");
            let job = &jobs[&id];
            (job.state.is_final() || Instant::now() >= deadline).then(|| job.status(&id))
        };
        if let Some(s) = status {
            return Json(s).into_response();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn status(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !authorised(&shared, &headers) {
        return unauthorised();
    }
    let mut jobs = shared.jobs.lock().expect("not poisoned");
    match jobs.get(&id) {
        Some(job) if job.submitted.elapsed() <= job.ttl => Json(job.status(&id)).into_response(),
        Some(_) => {
            // Past its ttl, a job is forgotten, as RunPod does.
            jobs.remove(&id);
            not_found()
        }
        None => not_found(),
    }
}

async fn cancel(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !authorised(&shared, &headers) {
        return unauthorised();
    }
    let mut jobs = shared.jobs.lock().expect("not poisoned");
    let Some(job) = jobs.get_mut(&id) else {
        return not_found();
    };
    if !job.state.is_final() {
        job.state = JobPhase::Cancelled;
        job.finished = Some(Instant::now());
    }
    Json(json!({"id": id, "status": job.state.name()})).into_response()
}

async fn health(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !authorised(&shared, &headers) {
        return unauthorised();
    }
    let jobs = shared.jobs.lock().expect("not poisoned");
    let count = |s: JobPhase| jobs.values().filter(|j| j.state == s).count();
    let running = *shared.running.lock().expect("not poisoned");
    let total = shared.config.concurrency.max(1);
    Json(json!({
        "jobs": {
            "completed": count(JobPhase::Completed),
            "failed": count(JobPhase::Failed) + count(JobPhase::TimedOut),
            "inProgress": count(JobPhase::InProgress),
            "inQueue": count(JobPhase::InQueue),
            "retried": 0,
        },
        "workers": {"idle": total - running, "running": running},
    }))
    .into_response()
}

/// Takes queued jobs one at a time and runs them within their execution timeout.
async fn runner(shared: Arc<Shared>) {
    loop {
        let next = shared.queue.lock().expect("not poisoned").pop_front();
        let Some(id) = next else {
            shared.wake.notified().await;
            continue;
        };
        let (input, timeout) = {
            let mut jobs = shared.jobs.lock().expect("not poisoned");
            let Some(job) = jobs.get_mut(&id) else {
                continue;
            };
            if job.state != JobPhase::InQueue {
                continue; // cancelled while waiting
            }
            job.state = JobPhase::InProgress;
            job.started = Some(Instant::now());
            (job.input.clone(), job.execution_timeout)
        };
        *shared.running.lock().expect("not poisoned") += 1;
        let result = tokio::time::timeout(
            timeout,
            process_input(&shared.engine, &shared.config.policy, &input),
        )
        .await;
        *shared.running.lock().expect("not poisoned") -= 1;
        let mut jobs = shared.jobs.lock().expect("not poisoned");
        let Some(job) = jobs.get_mut(&id) else {
            continue;
        };
        if job.state != JobPhase::InProgress {
            continue; // cancelled while running: the result is dropped
        }
        job.finished = Some(Instant::now());
        match result {
            Ok(Ok(output)) => {
                job.state = JobPhase::Completed;
                job.output = Some(output);
            }
            Ok(Err(e)) => {
                job.state = JobPhase::Failed;
                job.error = Some(e.to_string());
            }
            Err(_) => job.state = JobPhase::TimedOut,
        }
    }
}
