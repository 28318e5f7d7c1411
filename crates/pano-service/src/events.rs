//! Progress of the queue, for the app's event channel and the CLI's progress lines.

use serde::Serialize;

/// Where one job stands. Serialised as `{"state": "...", ...}` for the UI.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JobView {
    Queued,
    /// Already analysed with the same models: the stored result was returned.
    Reused,
    Uploading,
    /// RunPod has the job; no worker has taken it yet (a cold start).
    WaitingForWorker {
        seconds: f64,
    },
    Running {
        seconds: f64,
    },
    /// The bucket or archive is unreachable; tried again at `retry_at`.
    WaitingForStorage {
        reason: String,
        retry_at: String,
    },
    /// RunPod is unreachable or has no worker; tried again at `retry_at`.
    WaitingForRunpod {
        reason: String,
        retry_at: String,
    },
    /// The cloud failed; the analysis runs on this computer instead.
    FallingBackToLocal {
        reason: String,
    },
    Completed,
    Archived {
        location: String,
    },
    Failed {
        code: String,
        message: String,
    },
    Cancelled,
}

impl JobView {
    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            JobView::Queued => "queued".into(),
            JobView::Reused => "already analysed with these models".into(),
            JobView::Uploading => "uploading".into(),
            JobView::WaitingForWorker { seconds } => {
                format!("waiting for a worker ({seconds:.0} s)")
            }
            JobView::Running { seconds } => format!("running ({seconds:.0} s)"),
            JobView::WaitingForStorage { reason, .. } => format!("waiting for storage: {reason}"),
            JobView::WaitingForRunpod { reason, .. } => format!("waiting for RunPod: {reason}"),
            JobView::FallingBackToLocal { reason } => {
                format!("running on this computer instead ({reason})")
            }
            JobView::Completed => "done".into(),
            JobView::Archived { location } => format!("filed in {location}"),
            JobView::Failed { message, .. } => format!("failed: {message}"),
            JobView::Cancelled => "cancelled".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceEvent {
    pub analysis_id: String,
    pub file_name: String,
    #[serde(flatten)]
    pub view: JobView,
}
