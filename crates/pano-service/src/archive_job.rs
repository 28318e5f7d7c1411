//! Jobs after a decision: file an approved analysis in permanent storage (idempotent, so a
//! retry after an outage or a crash ends with exactly one complete set), and delete a
//! rejected analysis's temp upload. Both retry with backoff while the storage is down.

use std::sync::Arc;

use pano_cloud::storage::{
    input_extension, ApprovedAnalysis, OpaqueId, PermanentStorage, StorageError,
};
use pano_store::{ArtefactKind, AuditEntry, JobRow, JobState, StoreError};

use crate::events::JobView;
use crate::service::{parse_temp, Inner, TEST_MODEL_NOTICE};
use crate::settings::ArchiveInput;
use crate::ServiceError;

/// One attempt at filing; Err carries the reason it is still pending.
pub(crate) async fn run_archive(inner: &Arc<Inner>, job: &JobRow) -> Result<(), String> {
    // The approval files at once while the runner may find the same job due: only the
    // caller whose guarded update wins files it.
    match inner.db(|s| s.claim_job(&job.id, JobState::Running)) {
        Ok(true) => {}
        Ok(false) => return Err("being filed by the queue".into()),
        Err(e) => return Err(e.to_string()),
    }
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
        Err(ServiceError::Pacs(e)) if e.is_transient() => Err(wait(inner, job, &e, 1)),
        // A setting to fix (wrong keys, missing bucket, unmounted share): the approval
        // stands and the upload is tried again later, slowly, so fixing the settings is
        // enough.
        Err(e) => Err(wait(inner, job, &e, 4)),
    }
}

async fn archive(inner: &Arc<Inner>, job: &JobRow) -> Result<String, ServiceError> {
    let storage = match (&inner.archive, &inner.keys_unavailable) {
        (Some(storage), _) => storage,
        (None, Some(reason)) if inner.archive_waits_for_keys() => {
            return Err(ServiceError::KeysUnavailable(reason.clone()))
        }
        (None, _) => return Err(ServiceError::NoArchive),
    };
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
    let original = blob(ArtefactKind::Input)?.ok_or(ServiceError::NoResult("input image"))?;
    let (input, input_ext) = match inner.settings.archive_input {
        ArchiveInput::Original => (original, analysis.input_extension.clone()),
        ArchiveInput::Deidentified => {
            let name = analysis.original_file_name.clone();
            let png = tokio::task::spawn_blocking(move || {
                crate::deidentify::pixels_png(&original, &name)
            })
            .await
            .map_err(|_| ServiceError::NoResult("de-identified image"))??;
            (png, crate::deidentify::PIXELS_EXTENSION.to_string())
        }
    };
    let csv = blob(ArtefactKind::Csv)?.ok_or(ServiceError::NoResult("CSV"))?;
    // The reviewed CSV from the stored one, so that its rows, order and `file_name` (the
    // analysis id, never the file's name) are the same.
    let decisions = inner.db(|s| s.decisions_of(&analysis.id))?;
    let stored = std::str::from_utf8(&csv)
        .ok()
        .and_then(|text| pano_core::parse_csv(text).ok())
        .ok_or_else(|| StoreError::Corrupt("the stored CSV cannot be read back".into()))?;
    let reviewed_csv = crate::service::reviewed_csv(&stored, &decisions).into_bytes();
    let audit: Vec<serde_json::Value> = inner
        .db(|s| s.audit_of(&analysis.id))?
        .into_iter()
        .map(filed_audit_row)
        .collect();
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
        "reviewed_by": analysis.approved_by,
        "thresholds": analysis.approved_thresholds,
        "decisions": decisions,
        "audit": audit,
    }))
    .expect("serialisable");
    // The patient report, as the clinic would print it (named only where the set keeps
    // originals; see `ReportCopy`).
    let report =
        crate::report::gather(inner, &analysis.id, None, crate::report::ReportCopy::Filed)?;
    let report_pdf = tokio::task::spawn_blocking(move || pano_report::render(&report))
        .await
        .map_err(|_| ServiceError::NoResult("report"))??;
    let approved = ApprovedAnalysis {
        patient_id: OpaqueId::new(&patient)?,
        analysis_id: OpaqueId::new(&analysis.id)?,
        input_extension: input_extension(&input_ext)?,
        input,
        findings_csv: csv,
        reviewed_csv,
        analysis_json,
        debug_images,
        report_pdf: Some(report_pdf),
    };
    // The input is uploaded from this computer: the temp object holds the de-identified
    // pixels, not the file the set keeps. Temp uploads still in the bucket go after filing.
    let stored = storage.store_approved(&approved, None).await?;
    if let Ok(cloud) = &inner.cloud {
        for (_, temp) in inner.db(|s| s.finished_temp_uploads(&analysis.id))? {
            if let Some(temp) = parse_temp(Some(&temp)) {
                cloud.temp.delete_temp(&temp).await?;
            }
        }
    }
    // The practice system's import folder, when the clinic uses one: before the approval
    // counts as filed, so an unmounted share is waited for like the archive.
    if let Some(folder) = inner.settings.pms.export_folder.clone() {
        let export = crate::pms_export::prepare(inner, &analysis.id, &folder)?;
        tokio::task::spawn_blocking(move || crate::pms_export::write(export))
            .await
            .map_err(|_| ServiceError::NoResult("practice system export"))??;
    }
    // The clinic's PACS, when it is set to receive every approved analysis: the annotated
    // radiograph and the report as DICOM. A PACS that is down is waited for like storage;
    // sending again replaces (same UIDs).
    if inner.settings.pacs.is_configured() && inner.settings.pacs.send_on_approval {
        let service = crate::AnalysisService {
            inner: Arc::clone(inner),
        };
        service.send_to_pacs(&analysis.id).await?;
    }
    inner.db(|s| s.mark_archived(&analysis.id, &job.id, &stored.location, &inner.operator))?;
    Ok(stored.location)
}

/// An audit row as the filed `analysis.json` carries it (`{at, actor, action, detail}`, as
/// the app shows it). The detail goes along only where
/// it is ours and names no one: a decision (tooth, finding, before, after, note) and an
/// approval (the opaque patient id). Other rows' details can name a person (`created`
/// holds the file's name, which clinics often make from the patient's) or a local path.
fn filed_audit_row(entry: AuditEntry) -> serde_json::Value {
    let detail = match entry.action.as_str() {
        "reviewed" | "approved" => entry.detail,
        _ => None,
    };
    serde_json::json!({
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "detail": detail,
    })
}

/// Deletes every temp upload an analysis left in the bucket (after its result, a failure,
/// a cancel or a rejection), forgetting each once it is gone.
pub(crate) async fn run_discard(inner: &Inner, job: &JobRow) -> Result<(), String> {
    match inner.db(|s| s.claim_job(&job.id, JobState::Running)) {
        Ok(true) => {}
        Ok(false) => return Err("being discarded by the queue".into()),
        Err(e) => return Err(e.to_string()),
    }
    match discard(inner, job).await {
        Ok(()) => {
            let _ = inner.db(|s| s.set_job_state(&job.id, JobState::Done, None, None));
            Ok(())
        }
        Err(e) => Err(wait(inner, job, &e, 1)),
    }
}

async fn discard(inner: &Inner, job: &JobRow) -> Result<(), ServiceError> {
    let mut uploads: Vec<(Option<String>, String)> =
        job.temp_upload.iter().map(|t| (None, t.clone())).collect();
    for (job_id, temp) in inner.db(|s| s.finished_temp_uploads(&job.analysis_id))? {
        uploads.push((Some(job_id), temp));
    }
    if uploads.is_empty() {
        return Ok(());
    }
    let cloud = inner
        .cloud
        .as_ref()
        .map_err(|why| ServiceError::Storage(StorageError::Invalid(why.clone())))?;
    for (owner, json) in uploads {
        if let Some(temp) = parse_temp(Some(&json)) {
            // Deleting an object that is already gone succeeds: a repeat is harmless.
            cloud.temp.delete_temp(&temp).await?;
        }
        if let Some(owner) = owner {
            inner.db(|s| s.set_job_temp_upload(&owner, None))?;
        }
    }
    Ok(())
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
