//! The cloud round trip of an analyze job, in resumable steps, each recorded before the
//! next: upload to `temp/<job id>.<ext>` (a repeat overwrites the same object) -> presign ->
//! `/run` (the RunPod job id is stored at once) -> poll until done. After a crash the
//! recorded RunPod job is polled again, never submitted twice; if RunPod has forgotten it
//! (its ttl passed) it is submitted anew.

use std::sync::Arc;

use pano_cloud::runpod::{EndpointRole, JobProgress, RunpodError, SubmittedJob};
use pano_cloud::storage::{OpaqueId, StorageError};
use pano_cloud::DebugImageSource;
use pano_core::WorkerInput;
use pano_store::{AnalysisRow, BackendKind, CompletedAnalysis, JobRow, JobState};

use crate::events::JobView;
use crate::local_job::RunResult;
use crate::service::{parse_temp, Inner};
use crate::ServiceError;

pub(crate) enum CloudOutcome {
    Done(Box<RunResult>),
    /// An outage: the job waits in the queue for its retry time.
    Waiting,
    /// The cloud cannot do this one (the caller may fall back to local).
    Failed(ServiceError),
}

pub(crate) fn submitted_job(job: &JobRow) -> Option<SubmittedJob> {
    let id = job.runpod_job_id.clone()?;
    let endpoint = match job.endpoint.as_deref() {
        Some("backup") => EndpointRole::Backup,
        _ => EndpointRole::Primary,
    };
    Some(SubmittedJob { id, endpoint })
}

fn role_name(role: EndpointRole) -> &'static str {
    match role {
        EndpointRole::Primary => "primary",
        EndpointRole::Backup => "backup",
    }
}

pub(crate) async fn run_cloud(
    inner: &Arc<Inner>,
    job: &JobRow,
    analysis: &AnalysisRow,
) -> CloudOutcome {
    // With `auto` and local fallback allowed, an outage is not waited out: this computer
    // does the analysis now.
    let fall_back = job.backend.as_deref() == Some("auto")
        && inner.settings.local_fallback
        && inner.models_dir.is_some();
    match round_trip(inner, job, analysis).await {
        Ok(result) => CloudOutcome::Done(Box::new(result)),
        Err(Step::Storage(e)) if e.is_transient() && !fall_back => {
            wait(
                inner,
                job,
                analysis,
                JobState::WaitingStorage,
                e.to_string(),
            );
            CloudOutcome::Waiting
        }
        // "No worker came" counts as an outage too: capacity, not a verdict on the image.
        Err(Step::Runpod(e))
            if (e.is_transient() || matches!(e, RunpodError::StuckInQueue { .. }))
                && !fall_back =>
        {
            wait(inner, job, analysis, JobState::WaitingRunpod, e.to_string());
            CloudOutcome::Waiting
        }
        Err(Step::WorkerDownload(message))
            if !fall_back && job.attempts < MAX_WORKER_DOWNLOAD_TRIES =>
        {
            wait(inner, job, analysis, JobState::WaitingStorage, message);
            CloudOutcome::Waiting
        }
        Err(Step::WorkerDownload(message)) => {
            CloudOutcome::Failed(ServiceError::Runpod(RunpodError::JobFailed { message }))
        }
        // The keychain is locked or its service not up yet: the keys exist but cannot be
        // read now. The job waits (the app reopens the service once they can be read).
        Err(Step::KeysUnavailable(reason)) => {
            wait(inner, job, analysis, JobState::WaitingRunpod, reason);
            CloudOutcome::Waiting
        }
        Err(Step::Storage(e)) => CloudOutcome::Failed(e.into()),
        Err(Step::Runpod(e)) => CloudOutcome::Failed(e.into()),
        Err(Step::Other(e)) => CloudOutcome::Failed(e),
    }
}

/// Resubmissions of a job whose worker could not download the image (the bucket was down
/// while the worker tried) before the analysis fails.
const MAX_WORKER_DOWNLOAD_TRIES: u32 = 6;

enum Step {
    Storage(StorageError),
    KeysUnavailable(String),
    /// The worker could not fetch the image: the job is submitted again later.
    WorkerDownload(String),
    Runpod(RunpodError),
    Other(ServiceError),
}

impl From<pano_store::StoreError> for Step {
    fn from(e: pano_store::StoreError) -> Self {
        Step::Other(e.into())
    }
}

impl From<ServiceError> for Step {
    fn from(e: ServiceError) -> Self {
        Step::Other(e)
    }
}

async fn round_trip(
    inner: &Arc<Inner>,
    job: &JobRow,
    analysis: &AnalysisRow,
) -> Result<RunResult, Step> {
    let cloud = match (&inner.cloud, &inner.keys_unavailable) {
        (Ok(cloud), _) => cloud,
        (Err(_), Some(reason)) => {
            return Err(Step::KeysUnavailable(format!(
                "waiting for the cloud keys: {reason}"
            )))
        }
        (Err(why), None) => return Err(Step::Other(ServiceError::NoCloud(why.clone()))),
    };
    let name = &analysis.original_file_name;
    let _ = inner.db(|s| s.set_analysis_running(&analysis.id, BackendKind::Cloud));
    let mut current = inner.db(|s| s.job(&job.id))?.unwrap_or_else(|| job.clone());
    let state = if current.runpod_job_id.is_some() {
        JobState::Submitted
    } else {
        JobState::Uploading
    };
    inner.db(|s| s.start_job_attempt(&job.id, state))?;
    loop {
        let temp = match parse_temp(current.temp_upload.as_deref()) {
            Some(t) => t,
            None => {
                inner.emit(&analysis.id, name, JobView::Uploading);
                let bytes = inner.blobs.get(&analysis.image_sha256)?;
                // The worker gets the pixels, never the file: no DICOM header, no EXIF, no
                // file name (the object is named after the job).
                let name = analysis.original_file_name.clone();
                let png = tokio::task::spawn_blocking(move || {
                    crate::deidentify::pixels_png(&bytes, &name)
                })
                .await
                .map_err(|_| Step::Other(ServiceError::NoResult("de-identified image")))??;
                let object = OpaqueId::new(&job.id).map_err(Step::Storage)?;
                let temp = cloud
                    .temp
                    .upload_temp_named(&object, &png, crate::deidentify::PIXELS_EXTENSION)
                    .await
                    .map_err(Step::Storage)?;
                let json = serde_json::to_string(&temp).expect("serialisable");
                inner.db(|s| s.set_job_temp_upload(&job.id, Some(&json)))?;
                temp
            }
        };
        let submitted = match submitted_job(&current) {
            Some(s) => s,
            None => {
                let url = cloud
                    .temp
                    .presign_temp(&temp, inner.settings.presign_ttl())
                    .await
                    .map_err(Step::Storage)?;
                let submitted = cloud
                    .runpod
                    .submit(&WorkerInput {
                        image_url: url,
                        debug: true,
                    })
                    .await
                    .map_err(Step::Runpod)?;
                inner.db(|s| {
                    s.set_job_runpod(
                        &job.id,
                        Some(&submitted.id),
                        Some(role_name(submitted.endpoint)),
                    )
                })?;
                submitted
            }
        };
        inner.emit(
            &analysis.id,
            name,
            JobView::WaitingForWorker { seconds: 0.0 },
        );
        let mut marked_running = false;
        let waited = cloud
            .runpod
            // The result is named after the analysis: the stored CSV is what an approval
            // files, and nothing filed names the patient's file.
            .wait(&submitted, &analysis.id, |progress| match progress {
                JobProgress::Waiting { waited } => inner.emit(
                    &analysis.id,
                    name,
                    JobView::WaitingForWorker {
                        seconds: waited.as_secs_f64(),
                    },
                ),
                JobProgress::Running { running } => {
                    if !marked_running {
                        marked_running = true;
                        let _ =
                            inner.db(|s| s.set_job_state(&job.id, JobState::Running, None, None));
                    }
                    inner.emit(
                        &analysis.id,
                        name,
                        JobView::Running {
                            seconds: running.as_secs_f64(),
                        },
                    )
                }
            })
            .await;
        match waited {
            Ok(finished) => {
                let endpoint = cloud.runpod.settings();
                let endpoint_id = match finished.job.endpoint {
                    EndpointRole::Backup => endpoint.backup.as_ref().unwrap_or(&endpoint.primary),
                    EndpointRole::Primary => &endpoint.primary,
                }
                .endpoint_id
                .clone();
                let output = finished.output;
                // A worker's outlines of another image are garbage, like bad findings.
                let geometry = output
                    .geometry_of_image(analysis.width, analysis.height)
                    .map_err(|e| Step::Runpod(e.into()))?
                    .map(|g| serde_json::to_vec(g).expect("geometry serialises"));
                let debug = match (output.semantic_segmentation, output.instance_detection) {
                    (Some(DebugImageSource::Jpeg(a)), Some(DebugImageSource::Jpeg(b))) => {
                        Some((a, b))
                    }
                    _ => None,
                };
                let model_version = output
                    .model_version
                    .unwrap_or_else(|| analysis.model_version.clone());
                return Ok(RunResult {
                    debug,
                    geometry,
                    completed: CompletedAnalysis {
                        assessment: output.assessment,
                        backend: BackendKind::Cloud,
                        endpoint: Some(endpoint_id),
                        test_model: output.test_model || model_version.starts_with("test-"),
                        model_version,
                        execution_provider: None,
                        queue_ms: Some(finished.queue_wait.as_millis() as u64),
                        run_ms: finished.execution.as_millis() as u64,
                        artefacts: Vec::new(),
                    },
                });
            }
            Err(RunpodError::JobExpired { .. }) => {
                // RunPod forgot the job (ttl, or a restarted endpoint): submit it again.
                inner.db(|s| s.set_job_runpod(&job.id, None, None))?;
                current = inner.db(|s| s.job(&job.id))?.unwrap_or_else(|| job.clone());
            }
            // Our worker says so in these words (pano-worker `JobError::Download`).
            Err(RunpodError::JobFailed { message })
                if message.contains("could not be downloaded") =>
            {
                inner.db(|s| s.set_job_runpod(&job.id, None, None))?;
                return Err(Step::WorkerDownload(format!(
                    "the worker could not fetch the image ({message})"
                )));
            }
            Err(e) => return Err(Step::Runpod(e)),
        }
    }
}

fn wait(inner: &Inner, job: &JobRow, analysis: &AnalysisRow, state: JobState, reason: String) {
    let attempts = inner
        .db(|s| s.job(&job.id))
        .ok()
        .flatten()
        .map(|j| j.attempts)
        .unwrap_or(1);
    let retry_at = pano_store::in_future(inner.retry_delay(attempts.max(1)));
    let _ = inner.db(|s| s.set_job_state(&job.id, state, Some(&retry_at), Some(&reason)));
    let view = match state {
        JobState::WaitingStorage => JobView::WaitingForStorage { reason, retry_at },
        _ => JobView::WaitingForRunpod { reason, retry_at },
    };
    inner.emit(&analysis.id, &analysis.original_file_name, view);
}
