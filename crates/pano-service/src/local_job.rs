//! An analyze job: choose the backend, run it, record the result exactly once. Local runs
//! happen here; the cloud round trip is in `cloud_job`.

use std::sync::Arc;
use std::time::Instant;

use pano_engine::MemoryAfter;
use pano_imaging::{import_bytes, ImportLimits};
use pano_store::{
    AnalysisRow, AnalysisStatus, ArtefactKind, BackendKind, CompletedAnalysis, JobKind, JobRow,
    JobState,
};

use crate::cloud_job::{run_cloud, CloudOutcome};
use crate::events::JobView;
use crate::runner::Slots;
use crate::service::Inner;
use crate::settings::BackendChoice;
use crate::ServiceError;

/// What a backend produced, before it is stored.
pub(crate) struct RunResult {
    /// What the store records; its `artefacts` are added once the files are written.
    pub completed: CompletedAnalysis,
    pub debug: Option<(Vec<u8>, Vec<u8>)>,
    /// The engine's geometry as the contract's JSON (absent from older workers).
    pub geometry: Option<Vec<u8>>,
}

pub(crate) async fn run_analyze(inner: &Arc<Inner>, slots: &Slots, job: JobRow) {
    let analysis = match inner.db(|s| s.analysis(&job.analysis_id)) {
        Ok(a) => a,
        Err(_) => return,
    };
    if !matches!(
        analysis.status,
        AnalysisStatus::Queued | AnalysisStatus::Running
    ) {
        // Cancelled or finished by someone else: the job has nothing left to do.
        let _ = inner.db(|s| s.set_job_state(&job.id, JobState::Cancelled, None, None));
        return;
    }
    let choice = job
        .backend
        .as_deref()
        .and_then(|b| BackendChoice::parse(b).ok())
        .unwrap_or(inner.settings.backend);
    let use_cloud = match choice {
        BackendChoice::Local => false,
        BackendChoice::Cloud => true,
        BackendChoice::Auto => inner.cloud.is_ok(),
    };
    if use_cloud {
        let outcome = {
            let _permit = slots.cloud.acquire().await;
            run_cloud(inner, &job, &analysis).await
        };
        match outcome {
            CloudOutcome::Done(result) => record(inner, &job, &analysis, *result),
            CloudOutcome::Waiting => {}
            CloudOutcome::Failed(error) => {
                let still_wanted = inner
                    .db(|s| s.analysis(&analysis.id))
                    .map(|a| matches!(a.status, AnalysisStatus::Queued | AnalysisStatus::Running))
                    .unwrap_or(false);
                let can_fall_back = choice == BackendChoice::Auto
                    && inner.settings.local_fallback
                    && inner.models_dir.is_some()
                    && still_wanted;
                if can_fall_back {
                    inner.emit(
                        &analysis.id,
                        &analysis.original_file_name,
                        JobView::FallingBackToLocal {
                            reason: error.to_string(),
                        },
                    );
                    run_local_and_record(inner, slots, &job, &analysis).await;
                } else {
                    fail(inner, &job, &analysis, &error);
                }
            }
        }
    } else {
        run_local_and_record(inner, slots, &job, &analysis).await;
    }
}

async fn run_local_and_record(
    inner: &Arc<Inner>,
    slots: &Slots,
    job: &JobRow,
    analysis: &AnalysisRow,
) {
    let _permit = slots.local.acquire().await;
    let _ = inner.db(|s| {
        s.start_job_attempt(&job.id, JobState::Running)?;
        s.set_analysis_running(&analysis.id, BackendKind::Local)
    });
    inner.emit(
        &analysis.id,
        &analysis.original_file_name,
        JobView::Running { seconds: 0.0 },
    );
    let (inner2, analysis2) = (inner.clone(), analysis.clone());
    let result = tokio::task::spawn_blocking(move || run_local(&inner2, &analysis2)).await;
    match result {
        Ok(Ok(result)) => record(inner, job, analysis, result),
        Ok(Err(error)) => fail(inner, job, analysis, &error),
        Err(_) => fail(
            inner,
            job,
            analysis,
            &ServiceError::NoResult("result: the analysis stopped unexpectedly"),
        ),
    }
}

/// Another analysis waiting (a batch) keeps ONNX Runtime's working memory for it (a batch of
/// 20 full-size images ran 127.8 -> 109.8 s); the last one gives it back, so that the idle
/// app holds only its models. `unfinished` are the queue's (kind, analysis) pairs.
fn memory_after<'a>(
    mut unfinished: impl Iterator<Item = (JobKind, &'a str)>,
    this_analysis: &str,
) -> MemoryAfter {
    if unfinished.any(|(kind, analysis)| kind == JobKind::Analyze && analysis != this_analysis) {
        MemoryAfter::Keep
    } else {
        MemoryAfter::Release
    }
}

/// Blocking: imports the stored input and runs the engine with both debug images.
fn run_local(inner: &Inner, analysis: &AnalysisRow) -> Result<RunResult, ServiceError> {
    let engine = inner.engine()?;
    let bytes = inner.blobs.get(&analysis.image_sha256)?;
    let start = Instant::now();
    let image =
        import_bytes(&bytes, &ImportLimits::default()).map_err(|e| ServiceError::Import {
            path: analysis.original_file_name.clone(),
            source: e,
        })?;
    let after = inner
        .db(|s| s.unfinished_jobs())
        .map(|jobs| {
            memory_after(
                jobs.iter().map(|j| (j.kind, j.analysis_id.as_str())),
                &analysis.id,
            )
        })
        .unwrap_or(MemoryAfter::Release);
    // Named after the analysis, not the file: the stored CSV is what an approval files.
    let result = engine.analyze_then(&image.rgb, &analysis.id, true, after)?;
    let geometry = serde_json::to_vec(&result.geometry).expect("geometry serialises");
    Ok(RunResult {
        geometry: Some(geometry),
        debug: result
            .debug
            .map(|d| (d.semantic_segmentation, d.instance_detection)),
        completed: CompletedAnalysis {
            assessment: result.assessment,
            backend: BackendKind::Local,
            endpoint: None,
            model_version: result.model_version,
            execution_provider: Some(result.provider.name().to_string()),
            queue_ms: None,
            run_ms: start.elapsed().as_millis() as u64,
            test_model: result.test_model,
            artefacts: Vec::new(),
        },
    })
}

/// Stores the files, then the rows in one transaction (findings, artefacts, status, job).
fn record(inner: &Inner, job: &JobRow, analysis: &AnalysisRow, result: RunResult) {
    let stored = (|| -> Result<bool, ServiceError> {
        let RunResult {
            mut completed,
            debug,
            geometry,
        } = result;
        let csv = pano_core::write_csv(&completed.assessment);
        let mut artefacts = vec![(
            ArtefactKind::Csv,
            inner.blobs.put(csv.as_bytes())?,
            csv.len() as u64,
        )];
        if let Some((seg, det)) = &debug {
            artefacts.push((
                ArtefactKind::SemanticSegmentation,
                inner.blobs.put(seg)?,
                seg.len() as u64,
            ));
            artefacts.push((
                ArtefactKind::InstanceDetection,
                inner.blobs.put(det)?,
                det.len() as u64,
            ));
        }
        if let Some(geometry) = &geometry {
            artefacts.push((
                ArtefactKind::Geometry,
                inner.blobs.put(geometry)?,
                geometry.len() as u64,
            ));
        }
        completed.artefacts = artefacts;
        inner.db(|s| s.complete_analysis(&analysis.id, &job.id, &completed))
    })();
    match stored {
        Ok(true) => {
            inner.discard_temp_uploads(&analysis.id);
            inner.emit(
                &analysis.id,
                &analysis.original_file_name,
                JobView::Completed,
            )
        }
        Ok(false) => {
            let _ = inner.db(|s| s.set_job_state(&job.id, JobState::Cancelled, None, None));
        }
        Err(error) => fail(inner, job, analysis, &error),
    }
}

pub(crate) fn fail(inner: &Inner, job: &JobRow, analysis: &AnalysisRow, error: &ServiceError) {
    let message = error.to_string();
    let _ = inner.db(|s| s.fail_analysis(&analysis.id, &job.id, error.code(), &message));
    inner.discard_temp_uploads(&analysis.id);
    inner.emit(
        &analysis.id,
        &analysis.original_file_name,
        JobView::Failed {
            code: error.code().to_string(),
            message,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_memory_is_kept_only_while_another_analysis_waits() {
        let this = "a1";
        // Alone in the queue (its own job is still unfinished while it runs): give it back.
        assert_eq!(
            memory_after([(JobKind::Analyze, this)].into_iter(), this),
            MemoryAfter::Release
        );
        // An approval's filing or another job kind waiting needs no engine memory.
        assert_eq!(
            memory_after(
                [(JobKind::Analyze, this), (JobKind::Archive, "a2")].into_iter(),
                this
            ),
            MemoryAfter::Release
        );
        // The next image of a batch: keep it.
        assert_eq!(
            memory_after(
                [(JobKind::Analyze, this), (JobKind::Analyze, "a2")].into_iter(),
                this
            ),
            MemoryAfter::Keep
        );
    }
}
