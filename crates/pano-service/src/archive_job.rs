//! Jobs after a decision: file an approved analysis in permanent storage (idempotent, so a
//! retry after an outage or a crash ends with exactly one complete set), and delete a
//! rejected analysis's temp upload. Both retry with backoff while the storage is down.

use pano_cloud::storage::{
    input_extension, AnyStorage, ApprovedAnalysis, OpaqueId, PermanentStorage, StorageError,
};
use pano_store::{ArtefactKind, JobRow, JobState};

use crate::events::JobView;
use crate::service::{parse_temp, Inner, TEST_MODEL_NOTICE};
use crate::ServiceError;

/// One attempt at filing; Err carries the reason it is still pending.
pub(crate) async fn run_archive(inner: &Inner, job: &JobRow) -> Result<(), String> {
    let _ = inner.db(|s| s.start_job_attempt(&job.id, JobState::Running));
    match archive(inner, job).await {
        Ok(location) => {
            inner.emit(
                &job.analysis_id,
                &job.file_name,
                JobView::Archived { location },
            );
            Ok(())
        }
        Err(ServiceError::Storage(e)) if e.is_transient() => Err(wait(inner, job, &e, 1)),
        // A setting to fix (wrong keys, missing bucket, unmounted share): the approval
        // stands and the upload is tried again later, slowly, so fixing the settings is
        // enough.
        Err(e) => Err(wait(inner, job, &e, 4)),
    }
}

async fn archive(inner: &Inner, job: &JobRow) -> Result<String, ServiceError> {
    let storage = inner.archive.as_ref().ok_or(ServiceError::NoArchive)?;
    let analysis = inner.db(|s| s.analysis(&job.analysis_id))?;
    let patient = analysis
        .patient_id
        .clone()
        .ok_or(ServiceError::MissingApprovalDetail("a patient"))?;
    let artefacts = inner.db(|s| s.artefacts(&analysis.id))?;
    let blob = |kind: ArtefactKind| -> Result<Option<Vec<u8>>, ServiceError> {
        match artefacts.iter().find(|(k, _, _)| *k == kind) {
            Some((_, sha, _)) => Ok(Some(inner.blobs.get(sha)?)),
            None => Ok(None),
        }
    };
    let input = blob(ArtefactKind::Input)?.ok_or(ServiceError::NoResult("input image"))?;
    let csv = blob(ArtefactKind::Csv)?.ok_or(ServiceError::NoResult("CSV"))?;
    let mut debug_images = Vec::new();
    for (kind, name) in [
        (
            ArtefactKind::SemanticSegmentation,
            pano_core::DEBUG_SEMANTIC_SEGMENTATION,
        ),
        (
            ArtefactKind::InstanceDetection,
            pano_core::DEBUG_INSTANCE_DETECTION,
        ),
    ] {
        if let Some(jpeg) = blob(kind)? {
            debug_images.push((name.to_string(), jpeg));
        }
    }
    // What leaves this computer names no one: opaque ids, never the patient's name.
    let analysis_json = serde_json::to_vec_pretty(&serde_json::json!({
        "analysis_id": analysis.id,
        "patient_id": patient,
        "image_sha256": analysis.image_sha256,
        "width": analysis.width,
        "height": analysis.height,
        "backend": analysis.backend,
        "endpoint": analysis.endpoint,
        "model_version": analysis.model_version,
        "test_model": analysis.test_model,
        "notice": analysis.test_model.then_some(TEST_MODEL_NOTICE),
        "execution_provider": analysis.execution_provider,
        "created_at": analysis.created_at,
        "approved_at": analysis.approved_at,
        "approved_by": analysis.approved_by,
    }))
    .expect("serialisable");
    let approved = ApprovedAnalysis {
        patient_id: OpaqueId::new(&patient)?,
        analysis_id: OpaqueId::new(&analysis.id)?,
        input_extension: input_extension(&analysis.input_extension)?,
        input,
        findings_csv: csv,
        analysis_json,
        debug_images,
    };
    let temp = parse_temp(inner.db(|s| s.temp_upload_of(&analysis.id))?.as_deref());
    let stored = match storage {
        // The same bucket: the temp object is copied server-side, then deleted.
        AnyStorage::S3(_) => storage.store_approved(&approved, temp.as_ref()).await?,
        AnyStorage::Folder(_) => {
            let stored = storage.store_approved(&approved, None).await?;
            if let (Some(temp), Ok(cloud)) = (&temp, &inner.cloud) {
                cloud.temp.delete_temp(temp).await?;
            }
            stored
        }
    };
    inner.db(|s| s.mark_archived(&analysis.id, &job.id, &stored.location, &inner.operator))?;
    Ok(stored.location)
}

/// Deletes the temp upload of a rejected analysis.
pub(crate) async fn run_discard(inner: &Inner, job: &JobRow) -> Result<(), String> {
    let _ = inner.db(|s| s.start_job_attempt(&job.id, JobState::Running));
    let Some(temp) = parse_temp(job.temp_upload.as_deref()) else {
        let _ = inner.db(|s| s.set_job_state(&job.id, JobState::Done, None, None));
        return Ok(());
    };
    let result = match &inner.cloud {
        Ok(cloud) => cloud.temp.delete_temp(&temp).await,
        Err(why) => Err(StorageError::Invalid((*why).to_string())),
    };
    match result {
        Ok(()) => {
            let _ = inner.db(|s| s.set_job_state(&job.id, JobState::Done, None, None));
            Ok(())
        }
        Err(e) => Err(wait(inner, job, &e, 1)),
    }
}

/// Puts the job in `waiting_storage`; `slower` doubles the backoff that many more times.
fn wait(inner: &Inner, job: &JobRow, e: &dyn std::fmt::Display, slower: u32) -> String {
    let reason = e.to_string();
    let retry_at = pano_store::in_future(inner.retry_delay(job.attempts + slower));
    let _ = inner.db(|s| {
        s.set_job_state(
            &job.id,
            JobState::WaitingStorage,
            Some(&retry_at),
            Some(&reason),
        )
    });
    inner.emit(
        &job.analysis_id,
        &job.file_name,
        JobView::WaitingForStorage {
            reason: reason.clone(),
            retry_at,
        },
    );
    reason
}
