//! RunPod's worker protocol (docs/cloud-contracts.md section 2): take a job, heartbeat with
//! the ids in progress, post the output or error with retries, honour job-stop.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pano_engine::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use crate::download::{download, DownloadPolicy};
use crate::{run_job, JobError};

/// The worker's side of RunPod, from the environment RunPod sets.
#[derive(Clone)]
pub struct ProtocolConfig {
    pub get_job: String,
    pub post_output: String,
    pub ping: Option<String>,
    pub worker_id: String,
    pub api_key: SecretString,
    pub ping_interval: Duration,
}

impl ProtocolConfig {
    /// `None` outside RunPod (no `RUNPOD_WEBHOOK_GET_JOB`).
    pub fn from_env() -> Result<Option<Self>, String> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let Some(get_job) = var("RUNPOD_WEBHOOK_GET_JOB") else {
            return Ok(None);
        };
        let need = |k: &str| var(k).ok_or_else(|| format!("{k} is not set"));
        Ok(Some(Self {
            get_job,
            post_output: need("RUNPOD_WEBHOOK_POST_OUTPUT")?,
            ping: var("RUNPOD_WEBHOOK_PING"),
            worker_id: need("RUNPOD_POD_ID")?,
            api_key: need("RUNPOD_AI_API_KEY")?.into(),
            ping_interval: Duration::from_millis(
                var("RUNPOD_PING_INTERVAL")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(10_000),
            ),
        }))
    }

    fn with_query(url: String, pair: &str) -> String {
        if url.contains('?') {
            format!("{url}&{pair}")
        } else {
            format!("{url}?{pair}")
        }
    }

    fn take_url(&self, in_progress: bool) -> String {
        Self::with_query(
            self.get_job.replace("$ID", &self.worker_id),
            &format!("job_in_progress={}", in_progress as u8),
        )
    }

    fn stop_url(&self) -> String {
        self.take_url(true).replace("job-take", "job-stop")
    }

    fn output_url(&self, job_id: &str) -> String {
        Self::with_query(
            self.post_output
                .replace("$RUNPOD_POD_ID", &self.worker_id)
                .replace("$ID", job_id),
            "isStream=false",
        )
    }

    fn ping_url(&self, ids: &str) -> Option<String> {
        self.ping.as_ref().map(|p| {
            Self::with_query(
                p.replace("$RUNPOD_POD_ID", &self.worker_id)
                    .replace("$ID", &self.worker_id),
                &format!("job_id={ids}"),
            )
        })
    }
}

/// One job's work: parse `{image_url, debug}`, download, analyse (on a blocking thread),
/// and the contract's output JSON. Shared by the RunPod loop and `--serve-api`.
pub async fn process_input(
    engine: &Arc<Engine>,
    policy: &DownloadPolicy,
    input: &Value,
) -> Result<Value, JobError> {
    let input: pano_core::WorkerInput = serde_json::from_value(input.clone())
        .map_err(|e| JobError::BadUrl(format!("the job input is not {{image_url, debug}}: {e}")))?;
    let (bytes, name) = download(&input.image_url, policy).await?;
    let engine = engine.clone();
    let output = tokio::task::spawn_blocking(move || run_job(&engine, &bytes, &name, input.debug))
        .await
        .map_err(|_| JobError::Cancelled)??;
    Ok(serde_json::to_value(output).expect("outputs serialise"))
}

/// A job as RunPod hands it over.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Job {
    pub id: String,
    #[serde(default)]
    pub input: Value,
}

/// The worker: one engine (models loaded once), one HTTP client, the jobs in progress.
pub struct Worker {
    engine: Arc<Engine>,
    config: ProtocolConfig,
    policy: DownloadPolicy,
    http: reqwest::Client,
    in_progress: Arc<Mutex<BTreeSet<String>>>,
}

impl Worker {
    pub fn new(engine: Arc<Engine>, config: ProtocolConfig, policy: DownloadPolicy) -> Self {
        Self {
            engine,
            config,
            policy,
            http: reqwest::Client::new(),
            in_progress: Arc::default(),
        }
    }

    fn auth(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        // RunPod's worker endpoints take the key without "Bearer".
        request.header("Authorization", self.config.api_key.expose_secret())
    }

    /// Takes jobs until `jobs` have been handled (`None`: forever).
    pub async fn run(&self, jobs: Option<usize>) {
        let heartbeat = self.spawn_heartbeat();
        let mut handled = 0;
        while jobs.is_none_or(|n| handled < n) {
            match self.take().await {
                Ok(list) => {
                    for job in list {
                        self.handle(job).await;
                        handled += 1;
                    }
                }
                Err(pause) => tokio::time::sleep(pause).await,
            }
        }
        heartbeat.abort();
    }

    /// The next job(s); on nothing to do, the pause before asking again.
    async fn take(&self) -> Result<Vec<Job>, Duration> {
        let response = self
            .auth(self.http.get(self.config.take_url(false)))
            .timeout(Duration::from_secs(90))
            .send()
            .await
            .map_err(|_| Duration::from_secs(1))?;
        match response.status().as_u16() {
            200 => {
                let body = response.bytes().await.map_err(|_| Duration::from_secs(1))?;
                let value: Value =
                    serde_json::from_slice(&body).map_err(|_| Duration::from_millis(500))?;
                let list = match value {
                    Value::Array(items) => items,
                    one => vec![one],
                };
                Ok(list
                    .into_iter()
                    .filter_map(|v| serde_json::from_value::<Job>(v).ok())
                    .filter(|j| !j.id.is_empty())
                    .collect())
            }
            429 => Err(Duration::from_secs(2)),
            // 204 / 400: no job now.
            _ => Err(Duration::from_millis(200)),
        }
    }

    fn spawn_heartbeat(&self) -> tokio::task::JoinHandle<()> {
        let (http, config, ids) = (
            self.http.clone(),
            self.config.clone(),
            self.in_progress.clone(),
        );
        tokio::spawn(async move {
            loop {
                let list = ids
                    .lock()
                    .expect("not poisoned")
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(",");
                if let Some(url) = config.ping_url(&list) {
                    let _ = http
                        .get(url)
                        .header("Authorization", config.api_key.expose_secret())
                        .timeout(Duration::from_secs(10))
                        .send()
                        .await;
                }
                tokio::time::sleep(config.ping_interval).await;
            }
        })
    }

    /// Runs one job, racing it against RunPod's job-stop: a stopped job posts nothing.
    async fn handle(&self, job: Job) {
        self.in_progress
            .lock()
            .expect("not poisoned")
            .insert(job.id.clone());
        let outcome = tokio::select! {
            result = self.process(&job) => Some(result),
            () = self.stopped(&job.id) => None,
        };
        if let Some(result) = outcome {
            let body = match result {
                Ok(output) => json!({ "output": output }),
                Err(e) => e.to_output(),
            };
            self.post(&job.id, &body).await;
        }
        self.in_progress
            .lock()
            .expect("not poisoned")
            .remove(&job.id);
    }

    async fn process(&self, job: &Job) -> Result<Value, JobError> {
        process_input(&self.engine, &self.policy, &job.input).await
    }

    /// Resolves when RunPod asks to stop this job (long-polling the job-stop URL).
    async fn stopped(&self, job_id: &str) {
        loop {
            let asked = async {
                let response = self
                    .auth(self.http.get(self.config.stop_url()))
                    .timeout(Duration::from_secs(90))
                    .send()
                    .await
                    .ok()?;
                if response.status().as_u16() != 200 {
                    return None;
                }
                let v: Value = serde_json::from_slice(&response.bytes().await.ok()?).ok()?;
                Some(
                    v["jobsToStop"]
                        .as_array()?
                        .iter()
                        .any(|id| id.as_str() == Some(job_id)),
                )
            }
            .await;
            if asked == Some(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// POSTs the result, up to three tries with backoff.
    async fn post(&self, job_id: &str, body: &Value) {
        let payload = serde_json::to_vec(body).expect("JSON values serialise");
        for attempt in 0..3u32 {
            let sent = self
                .auth(self.http.post(self.config.output_url(job_id)))
                .header("Content-Type", "application/json")
                .header("X-Request-ID", job_id)
                .timeout(Duration::from_secs(60))
                .body(payload.clone())
                .send()
                .await;
            if sent.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
        }
        eprintln!("pano-worker: the result of job {job_id} could not be delivered");
    }
}
