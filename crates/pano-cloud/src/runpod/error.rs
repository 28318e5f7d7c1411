use thiserror::Error;

use crate::CloudError;

/// Why a cloud analysis did not produce a result. Messages are for a clinic's staff; none
/// carries the API key.
#[derive(Debug, Error, PartialEq)]
pub enum RunpodError {
    #[error("RunPod rejected the API key (check it in Settings)")]
    Unauthorized,
    #[error("RunPod has no endpoint '{endpoint}' (check the endpoint id in Settings)")]
    EndpointNotFound { endpoint: String },
    #[error("RunPod cannot be reached: {detail}")]
    Unreachable { detail: String },
    #[error("RunPod is limiting requests; it was tried again several times")]
    Throttled,
    #[error("RunPod answered with an error (HTTP {status})")]
    Server { status: u16 },
    #[error("RunPod answered something that is not the expected JSON: {0}")]
    Malformed(String),
    #[error("RunPod no longer knows job {job_id} (its result expired)")]
    JobExpired { job_id: String },
    #[error("the analysis failed on the worker: {message}")]
    JobFailed { message: String },
    #[error("the analysis took longer than the endpoint's execution timeout")]
    JobTimedOut,
    #[error("the analysis was cancelled")]
    JobCancelled,
    #[error("no RunPod worker took the job within {waited_s} s; it was cancelled")]
    StuckInQueue { waited_s: u64 },
    #[error("the worker gave no result within {waited_s} s; the job was cancelled")]
    NoAnswer { waited_s: u64 },
    #[error(transparent)]
    InvalidOutput(#[from] CloudError),
    #[error("a debug image could not be fetched: {0}")]
    DebugImage(String),
    /// Refused when the client is built: the key and the images' URLs would travel in clear
    /// text. Plain http is accepted only to this computer (a local test server).
    #[error(
        "the RunPod address '{url}' must start with https:// (plain http only for this \
         computer: localhost, 127.0.0.1, ::1); correct it in Settings"
    )]
    InsecureEndpoint { url: String },
    /// RunPod answered with a redirect; the client follows none (it would carry the key to
    /// wherever the redirect points).
    #[error(
        "RunPod answered with a redirect (HTTP {status}), which is not followed; check the \
         RunPod address in Settings"
    )]
    Redirected { status: u16 },
    /// `/run` was sent but its answer was lost (no answer in time, or the connection broke
    /// after the request went out): RunPod may have started the job, and each job is paid
    /// for, so it is not sent again automatically. (An idempotency key in the input would
    /// not help: every `/run` is a new RunPod job, queued and billed before our worker
    /// could see a key, and RunPod has no call to list jobs or find one by its input.)
    #[error(
        "the analysis was sent to RunPod but its answer was lost ({detail}); RunPod may be \
         running it, so it was not sent again automatically"
    )]
    SubmissionUncertain { detail: String },
    /// RunPod reported the job COMPLETED without an output (for instance a result too large
    /// to return). Polling again would show the same.
    #[error("RunPod reported job {job_id} as completed but returned no result")]
    NoOutput { job_id: String },
}

impl RunpodError {
    /// A stable code for the UI and logs.
    pub fn code(&self) -> &'static str {
        match self {
            RunpodError::Unauthorized => "runpod_unauthorized",
            RunpodError::EndpointNotFound { .. } => "runpod_endpoint_not_found",
            RunpodError::Unreachable { .. } => "runpod_unreachable",
            RunpodError::Throttled => "runpod_throttled",
            RunpodError::Server { .. } => "runpod_server_error",
            RunpodError::Malformed(_) => "runpod_malformed_answer",
            RunpodError::JobExpired { .. } => "runpod_job_expired",
            RunpodError::JobFailed { .. } => "runpod_job_failed",
            RunpodError::JobTimedOut => "runpod_job_timed_out",
            RunpodError::JobCancelled => "runpod_job_cancelled",
            RunpodError::StuckInQueue { .. } => "runpod_no_worker",
            RunpodError::NoAnswer { .. } => "runpod_no_answer",
            RunpodError::InvalidOutput(_) => "runpod_invalid_output",
            RunpodError::DebugImage(_) => "runpod_debug_image",
            RunpodError::InsecureEndpoint { .. } => "runpod_insecure_endpoint",
            RunpodError::Redirected { .. } => "runpod_redirected",
            RunpodError::SubmissionUncertain { .. } => "runpod_submission_uncertain",
            RunpodError::NoOutput { .. } => "runpod_no_output",
        }
    }

    /// An outage or overload: the same request may succeed later (the service queues and
    /// retries these; the others need a person or a new job). `SubmissionUncertain` is not
    /// one: repeating it may start a second paid job.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            RunpodError::Unreachable { .. }
                | RunpodError::Throttled
                | RunpodError::Server { .. }
                | RunpodError::Malformed(_)
        )
    }
}
