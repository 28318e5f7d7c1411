//! RunPod's `/run` and `/status` answers.

use serde::Deserialize;

use crate::CloudError;

/// Where a job is. RunPod's docs spell the running state both `IN_PROGRESS` and `RUNNING`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    InQueue,
    InProgress,
    Completed,
    Failed,
    Cancelled,
    TimedOut,
}

impl JobState {
    pub fn parse(s: &str) -> Result<Self, CloudError> {
        Ok(match s {
            "IN_QUEUE" => JobState::InQueue,
            "IN_PROGRESS" | "RUNNING" => JobState::InProgress,
            "COMPLETED" => JobState::Completed,
            "FAILED" => JobState::Failed,
            "CANCELLED" => JobState::Cancelled,
            "TIMED_OUT" => JobState::TimedOut,
            other => return Err(CloudError::UnknownStatus(other.chars().take(40).collect())),
        })
    }

    /// No further change will come.
    pub fn is_final(self) -> bool {
        !matches!(self, JobState::InQueue | JobState::InProgress)
    }
}

/// One `/status` (or `/run`) answer; every field but `id` and `status` may be missing.
#[derive(Debug, Clone, PartialEq)]
pub struct JobStatus {
    pub id: String,
    pub state: JobState,
    /// Time spent waiting for a worker, in milliseconds.
    pub delay_time_ms: Option<u64>,
    /// Time the worker spent on the job, in milliseconds.
    pub execution_time_ms: Option<u64>,
    pub output: Option<serde_json::Value>,
    pub error: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStatus {
    id: String,
    status: String,
    #[serde(default)]
    delay_time: Option<f64>,
    #[serde(default)]
    execution_time: Option<f64>,
    #[serde(default)]
    output: Option<serde_json::Value>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

impl JobStatus {
    pub fn parse(body: &[u8]) -> Result<Self, CloudError> {
        let raw: RawStatus = serde_json::from_slice(body)
            .map_err(|e| CloudError::MalformedResponse(e.to_string()))?;
        let ms = |v: Option<f64>| v.filter(|v| v.is_finite() && *v >= 0.0).map(|v| v as u64);
        let error = raw.error.map(|e| match e {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        });
        Ok(Self {
            id: raw.id,
            state: JobState::parse(&raw.status)?,
            delay_time_ms: ms(raw.delay_time),
            execution_time_ms: ms(raw.execution_time),
            output: raw.output,
            error,
        })
    }
}
