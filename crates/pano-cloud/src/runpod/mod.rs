//! The RunPod serverless client: submit (`/run`), poll (`/status`), cancel, health, with a
//! backup endpoint, retries on throttling and outages, and strict validation of the output.

mod error;
pub mod policy;

use std::time::{Duration, Instant};

use pano_core::WorkerInput;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

pub use error::RunpodError;

use crate::output::{validate_output, DebugImageSource, OutputLimits, ValidatedOutput};
use crate::{JobState, JobStatus};

/// One serverless endpoint: `{base_url}/{endpoint_id}/run` and so on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunpodEndpoint {
    /// `https://api.runpod.ai/v2` in production.
    pub base_url: String,
    pub endpoint_id: String,
}

impl RunpodEndpoint {
    pub fn new(base_url: &str, endpoint_id: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            endpoint_id: endpoint_id.to_string(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}/{path}", self.base_url, self.endpoint_id)
    }
}

/// Which endpoint a job went to (kept with the job id so that a restart polls the right
/// one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EndpointRole {
    Primary,
    Backup,
}

#[derive(Debug, Clone)]
pub struct RunpodSettings {
    pub primary: RunpodEndpoint,
    pub backup: Option<RunpodEndpoint>,
    /// `policy.executionTimeout`: RunPod stops a job running longer.
    pub execution_timeout: Duration,
    /// `policy.ttl`: RunPod forgets the job after this.
    pub ttl: Duration,
    /// A job still waiting for a worker after this is cancelled (no capacity, or workers
    /// crash-looping).
    pub queue_timeout: Duration,
    /// One HTTP request. The SDK's local server runs the handler inside the first status
    /// request, so this is longer than a real endpoint needs.
    pub request_timeout: Duration,
    /// Tries of one request on 429, 5xx, timeouts and dropped connections (`/run`: on 429,
    /// 5xx and failed connections only, see [`RunpodClient::submit`]).
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Past the execution timeout RunPod itself reports TIMED_OUT; after this margin more,
    /// a status that never changes counts as no answer.
    pub answer_grace: Duration,
    pub output_limits: OutputLimits,
}

impl RunpodSettings {
    pub fn new(primary: RunpodEndpoint) -> Self {
        Self {
            primary,
            backup: None,
            execution_timeout: Duration::from_secs(600),
            ttl: Duration::from_secs(3600),
            queue_timeout: Duration::from_secs(600),
            request_timeout: Duration::from_secs(60),
            max_attempts: 6,
            backoff_base: Duration::from_millis(250),
            backoff_cap: Duration::from_secs(10),
            answer_grace: Duration::from_secs(60),
            output_limits: OutputLimits::default(),
        }
    }
}

/// A job RunPod accepted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SubmittedJob {
    pub id: String,
    pub endpoint: EndpointRole,
}

/// What the user sees while waiting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JobProgress {
    /// No worker has taken the job yet ("waiting for a worker").
    Waiting {
        waited: Duration,
    },
    Running {
        running: Duration,
    },
}

/// A completed, validated job.
#[derive(Debug, Clone)]
pub struct FinishedJob {
    pub job: SubmittedJob,
    pub output: ValidatedOutput,
    /// Time waiting for a worker (RunPod's `delayTime`, else measured here).
    pub queue_wait: Duration,
    /// Time the worker ran (RunPod's `executionTime`, else measured here).
    pub execution: Duration,
}

/// `/health`: workers and queue of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EndpointHealth {
    pub idle_workers: u64,
    pub running_workers: u64,
    pub jobs_in_queue: u64,
    pub jobs_in_progress: u64,
}

impl EndpointHealth {
    /// Whether a new job would start at once or wait for a worker to start (cold start).
    pub fn describe(&self) -> &'static str {
        if self.idle_workers > 0 {
            "ready"
        } else if self.running_workers > 0 {
            "running, busy"
        } else {
            "waiting for a worker"
        }
    }
}

/// The endpoint(s) and the key; cheap to clone.
#[derive(Clone)]
pub struct RunpodClient {
    http: reqwest::Client,
    settings: RunpodSettings,
    api_key: SecretString,
}

impl std::fmt::Debug for RunpodClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunpodClient")
            .field("primary", &self.settings.primary)
            .field("backup", &self.settings.backup)
            .finish_non_exhaustive()
    }
}

/// Largest body read from RunPod: the output limit plus room for the envelope.
fn body_limit(limits: &OutputLimits) -> usize {
    limits.max_output_bytes + 64 * 1024
}

/// Whether a request may be sent again after a failure that leaves open whether the server
/// received it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resend {
    /// Reads and cancels: repeating them changes nothing.
    Always,
    /// `/run`: only when it certainly did not arrive (the connection failed) or RunPod
    /// answered that it did not take it (429, 5xx).
    OnlyIfNotReceived,
}

impl RunpodClient {
    /// Refuses a base URL (primary or backup) that is not `https://`, except plain http to
    /// this computer (localhost, 127.0.0.0/8, ::1). The client follows no redirects.
    pub fn new(settings: RunpodSettings, api_key: SecretString) -> Result<Self, RunpodError> {
        for endpoint in std::iter::once(&settings.primary).chain(settings.backup.as_ref()) {
            crate::net::secure_or_loopback(&endpoint.base_url)
                .map_err(|e| RunpodError::InsecureEndpoint { url: e.shown })?;
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a TLS backend is compiled in");
        Ok(Self {
            http,
            settings,
            api_key,
        })
    }

    pub fn settings(&self) -> &RunpodSettings {
        &self.settings
    }

    fn endpoint(&self, role: EndpointRole) -> &RunpodEndpoint {
        match role {
            EndpointRole::Primary => &self.settings.primary,
            EndpointRole::Backup => self
                .settings
                .backup
                .as_ref()
                .unwrap_or(&self.settings.primary),
        }
    }

    /// One request with retries on 429, 5xx, timeouts and dropped connections (with
    /// [`Resend::OnlyIfNotReceived`], a timeout or a connection lost after sending is
    /// [`RunpodError::SubmissionUncertain`] instead). 404 comes back as `Ok((404, _))` for
    /// the caller to name; a redirect is an error (none is followed).
    async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<&serde_json::Value>,
        resend: Resend,
    ) -> Result<(StatusCode, Vec<u8>), RunpodError> {
        let mut last = RunpodError::Unreachable {
            detail: "no attempt was made".into(),
        };
        for attempt in 0..self.settings.max_attempts.max(1) {
            if attempt > 0 {
                tokio::time::sleep(policy::backoff(
                    attempt - 1,
                    self.settings.backoff_base,
                    self.settings.backoff_cap,
                ))
                .await;
            }
            let mut request = self
                .http
                .request(method.clone(), url)
                .bearer_auth(self.api_key.expose_secret())
                .timeout(self.settings.request_timeout);
            if let Some(body) = body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(serde_json::to_vec(body).expect("JSON values serialise"));
            }
            let response = match request.send().await {
                Ok(r) => r,
                // The connection itself failed: nothing was sent.
                Err(e) if e.is_connect() => {
                    last = RunpodError::Unreachable {
                        detail: describe_transport(&e),
                    };
                    continue;
                }
                // Sent, or perhaps sent: no answer in time, or the connection broke.
                Err(e) => {
                    if resend == Resend::OnlyIfNotReceived {
                        return Err(RunpodError::SubmissionUncertain {
                            detail: describe_transport(&e),
                        });
                    }
                    last = RunpodError::Unreachable {
                        detail: describe_transport(&e),
                    };
                    continue;
                }
            };
            let status = response.status();
            match status.as_u16() {
                200..=299 | 404 => {
                    match read_limited(response, body_limit(&self.settings.output_limits)).await {
                        Ok(bytes) => return Ok((status, bytes)),
                        Err(ReadError::TooLarge) => {
                            return Err(RunpodError::InvalidOutput(
                                crate::CloudError::OutputTooLarge {
                                    limit_mb: self.settings.output_limits.max_output_bytes >> 20,
                                },
                            ))
                        }
                        Err(ReadError::Transport(detail)) => {
                            if resend == Resend::OnlyIfNotReceived {
                                return Err(RunpodError::SubmissionUncertain { detail });
                            }
                            last = RunpodError::Unreachable { detail };
                            continue;
                        }
                    }
                }
                300..=399 => {
                    return Err(RunpodError::Redirected {
                        status: status.as_u16(),
                    })
                }
                401 | 403 => return Err(RunpodError::Unauthorized),
                429 => last = RunpodError::Throttled,
                500..=599 => {
                    last = RunpodError::Server {
                        status: status.as_u16(),
                    }
                }
                other => return Err(RunpodError::Server { status: other }),
            }
        }
        Err(last)
    }

    fn parse_status(bytes: &[u8]) -> Result<JobStatus, RunpodError> {
        JobStatus::parse(bytes).map_err(|e| RunpodError::Malformed(e.to_string()))
    }

    /// `POST /run` on the primary endpoint, then on the backup if the primary is down,
    /// overloaded or unknown.
    ///
    /// `/run` is not idempotent: every request that reaches RunPod is a new, paid job. It is
    /// sent again only when it certainly did not reach RunPod (the connection failed) or
    /// RunPod answered without taking it (429, 5xx). After a timeout, or a connection that
    /// broke once the request was out, it is [`RunpodError::SubmissionUncertain`]: not
    /// retried here, not handed to the backup, not transient (see the variant for why no
    /// idempotency key is used instead).
    pub async fn submit(&self, input: &WorkerInput) -> Result<SubmittedJob, RunpodError> {
        match self.submit_to(EndpointRole::Primary, input).await {
            Ok(job) => Ok(job),
            Err(e)
                if self.settings.backup.is_some()
                    && (e.is_transient() || matches!(e, RunpodError::EndpointNotFound { .. })) =>
            {
                self.submit_to(EndpointRole::Backup, input).await
            }
            Err(e) => Err(e),
        }
    }

    async fn submit_to(
        &self,
        role: EndpointRole,
        input: &WorkerInput,
    ) -> Result<SubmittedJob, RunpodError> {
        let endpoint = self.endpoint(role);
        let body = json!({
            "input": input,
            "policy": {
                "executionTimeout": self.settings.execution_timeout.as_millis() as u64,
                "ttl": self.settings.ttl.as_millis() as u64,
            }
        });
        let (status, bytes) = self
            .call(
                Method::POST,
                &endpoint.url("run"),
                Some(&body),
                Resend::OnlyIfNotReceived,
            )
            .await?;
        if status == StatusCode::NOT_FOUND {
            return Err(RunpodError::EndpointNotFound {
                endpoint: endpoint.endpoint_id.clone(),
            });
        }
        let answer = Self::parse_status(&bytes)?;
        if answer.id.is_empty() || answer.id.len() > 200 {
            return Err(RunpodError::Malformed(
                "the job id is missing or too long".into(),
            ));
        }
        Ok(SubmittedJob {
            id: answer.id,
            endpoint: role,
        })
    }

    /// `GET /status/{id}`.
    pub async fn status(&self, job: &SubmittedJob) -> Result<JobStatus, RunpodError> {
        let url = self
            .endpoint(job.endpoint)
            .url(&format!("status/{}", job.id));
        let (status, bytes) = self.call(Method::GET, &url, None, Resend::Always).await?;
        if status == StatusCode::NOT_FOUND {
            return Err(RunpodError::JobExpired {
                job_id: job.id.clone(),
            });
        }
        let parsed = Self::parse_status(&bytes)?;
        if parsed.id != job.id {
            return Err(RunpodError::Malformed(format!(
                "status of another job ({})",
                parsed.id.chars().take(60).collect::<String>()
            )));
        }
        Ok(parsed)
    }

    /// `POST /cancel/{id}`.
    pub async fn cancel(&self, job: &SubmittedJob) -> Result<(), RunpodError> {
        let url = self
            .endpoint(job.endpoint)
            .url(&format!("cancel/{}", job.id));
        self.call(Method::POST, &url, None, Resend::Always)
            .await
            .map(|_| ())
    }

    /// `GET /health` of one endpoint.
    pub async fn health(&self, role: EndpointRole) -> Result<EndpointHealth, RunpodError> {
        let (status, bytes) = self
            .call(
                Method::GET,
                &self.endpoint(role).url("health"),
                None,
                Resend::Always,
            )
            .await?;
        if status == StatusCode::NOT_FOUND {
            return Err(RunpodError::EndpointNotFound {
                endpoint: self.endpoint(role).endpoint_id.clone(),
            });
        }
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| RunpodError::Malformed(e.to_string()))?;
        let n = |a: &str, b: &str| v[a][b].as_u64().unwrap_or(0);
        Ok(EndpointHealth {
            idle_workers: n("workers", "idle"),
            running_workers: n("workers", "running"),
            jobs_in_queue: n("jobs", "inQueue"),
            jobs_in_progress: n("jobs", "inProgress"),
        })
    }

    /// Polls until the job ends, reporting progress; validates the output (and fetches
    /// debug images given as HTTPS URLs). A job waiting longer than the queue timeout, or
    /// running past the execution timeout without an answer, is cancelled.
    pub async fn wait(
        &self,
        job: &SubmittedJob,
        image_name: &str,
        mut on_progress: impl FnMut(JobProgress),
    ) -> Result<FinishedJob, RunpodError> {
        let start = Instant::now();
        let mut running_since: Option<Instant> = None;
        let mut transient_errors = 0u32;
        let grace = self.settings.answer_grace;
        loop {
            match self.status(job).await {
                Ok(status) => {
                    transient_errors = 0;
                    match status.state {
                        JobState::InQueue => {
                            if start.elapsed() > self.settings.queue_timeout {
                                let _ = self.cancel(job).await;
                                return Err(RunpodError::StuckInQueue {
                                    waited_s: start.elapsed().as_secs(),
                                });
                            }
                            on_progress(JobProgress::Waiting {
                                waited: start.elapsed(),
                            });
                        }
                        JobState::InProgress => {
                            let since = *running_since.get_or_insert_with(Instant::now);
                            if since.elapsed() > self.settings.execution_timeout + grace {
                                let _ = self.cancel(job).await;
                                return Err(RunpodError::NoAnswer {
                                    waited_s: start.elapsed().as_secs(),
                                });
                            }
                            on_progress(JobProgress::Running {
                                running: since.elapsed(),
                            });
                        }
                        JobState::Completed => {
                            return self
                                .finish(job, status, image_name, start, running_since)
                                .await
                        }
                        JobState::Failed => {
                            return Err(RunpodError::JobFailed {
                                message: sanitize(
                                    status.error.as_deref().unwrap_or("no reason given"),
                                ),
                            })
                        }
                        JobState::TimedOut => return Err(RunpodError::JobTimedOut),
                        JobState::Cancelled => return Err(RunpodError::JobCancelled),
                    }
                }
                // A garbled or lost answer to one poll: poll again a few times before
                // giving up (the job itself is unaffected).
                Err(e) if e.is_transient() && transient_errors < 3 => transient_errors += 1,
                Err(e) => return Err(e),
            }
            tokio::time::sleep(policy::poll_interval(start.elapsed())).await;
        }
    }

    async fn finish(
        &self,
        job: &SubmittedJob,
        status: JobStatus,
        image_name: &str,
        start: Instant,
        running_since: Option<Instant>,
    ) -> Result<FinishedJob, RunpodError> {
        let output = status.output.ok_or_else(|| RunpodError::NoOutput {
            job_id: job.id.clone(),
        })?;
        let mut validated = validate_output(&output, image_name, &self.settings.output_limits)?;
        for slot in [
            &mut validated.semantic_segmentation,
            &mut validated.instance_detection,
        ] {
            if let Some(DebugImageSource::Url(url)) = slot {
                let bytes = self
                    .fetch_limited(url, self.settings.output_limits.max_debug_image_bytes)
                    .await?;
                crate::output::check_jpeg(&bytes).map_err(RunpodError::DebugImage)?;
                *slot = Some(DebugImageSource::Jpeg(bytes));
            }
        }
        let measured_queue = running_since.map(|r| r - start).unwrap_or_default();
        let measured_run = running_since
            .map(|r| r.elapsed())
            .unwrap_or_else(|| start.elapsed());
        Ok(FinishedJob {
            job: job.clone(),
            output: validated,
            queue_wait: status
                .delay_time_ms
                .map(Duration::from_millis)
                .unwrap_or(measured_queue),
            execution: status
                .execution_time_ms
                .map(Duration::from_millis)
                .unwrap_or(measured_run),
        })
    }

    /// GETs a URL with a size limit and a timeout (debug images given as URLs). No API key
    /// is sent: the URL is someone else's. Only `https://` (plain http to this computer
    /// only); redirects are not followed.
    pub async fn fetch_limited(&self, url: &str, limit: usize) -> Result<Vec<u8>, RunpodError> {
        if crate::net::secure_or_loopback(url).is_err() {
            return Err(RunpodError::DebugImage(
                "its address is not an https:// URL".into(),
            ));
        }
        let response = self
            .http
            .get(url)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| RunpodError::DebugImage(describe_transport(&e)))?;
        if !response.status().is_success() {
            return Err(RunpodError::DebugImage(format!(
                "HTTP {}",
                response.status().as_u16()
            )));
        }
        read_limited(response, limit).await.map_err(|e| match e {
            ReadError::TooLarge => {
                RunpodError::DebugImage(format!("larger than {} MB", limit >> 20))
            }
            ReadError::Transport(d) => RunpodError::DebugImage(d),
        })
    }
}

enum ReadError {
    TooLarge,
    Transport(String),
}

/// Reads a body chunk by chunk, refusing it once it passes `limit`.
async fn read_limited(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, ReadError> {
    if response
        .content_length()
        .is_some_and(|n| n as usize > limit)
    {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(ReadError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(ReadError::Transport(describe_transport(&e))),
        }
    }
}

fn describe_transport(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer in time".into()
    } else if e.is_connect() {
        "connection failed (check the network)".into()
    } else {
        "the connection broke off".into()
    }
}

/// A worker's error text, shown to staff: one line, bounded, printable.
fn sanitize(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    line.trim().to_string()
}
