use std::path::PathBuf;

use base64::Engine as _;
use pano_service::{
    AnalysisDetail, AnalysisRow, ApprovalOutcome, ArtefactKind, ExportFormat, HistoryFilter,
    JobRow, Patient, PatientChoice,
};
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::{AppState, CommandError};

/// One dropped file: its analysis (new or already stored), or why it was refused.
#[derive(Debug, Serialize)]
pub struct EnqueueResult {
    pub path: PathBuf,
    pub analysis: Option<AnalysisRow>,
    pub reused: bool,
    pub error: Option<CommandError>,
}

#[tauri::command]
pub fn enqueue_files(
    state: State<'_, AppState>,
    paths: Vec<PathBuf>,
) -> Result<Vec<EnqueueResult>, CommandError> {
    let service = state.service()?;
    // A dropped folder means its radiographs.
    let files = paths.into_iter().flat_map(|p| {
        if p.is_dir() {
            pano_service::images_in(&p)
        } else {
            vec![p]
        }
    });
    Ok(files
        .map(|path| match service.enqueue(&path, None) {
            Ok(q) => EnqueueResult {
                path,
                analysis: Some(q.analysis),
                reused: q.reused,
                error: None,
            },
            Err(e) => EnqueueResult {
                path,
                analysis: None,
                reused: false,
                error: Some(e.into()),
            },
        })
        .collect())
}

/// The files the app was started with, once.
#[tauri::command]
pub fn take_opened_files(state: State<'_, AppState>) -> Vec<PathBuf> {
    std::mem::take(&mut *state.opened_files.lock().expect("not poisoned"))
}

#[tauri::command]
pub fn queue(state: State<'_, AppState>) -> Result<Vec<JobRow>, CommandError> {
    Ok(state.service()?.queue()?)
}

#[tauri::command]
pub fn open_analysis(
    state: State<'_, AppState>,
    id: String,
    viewer: String,
) -> Result<AnalysisDetail, CommandError> {
    Ok(state.service()?.open_analysis(&id, &viewer)?)
}

/// A debug image as a `data:` URL (the CSP allows data images, nothing remote).
#[tauri::command]
pub fn debug_image(
    state: State<'_, AppState>,
    id: String,
    kind: String,
) -> Result<String, CommandError> {
    let kind = match kind.as_str() {
        "semantic-segmentation" => ArtefactKind::SemanticSegmentation,
        "instance-detection" => ArtefactKind::InstanceDetection,
        _ => {
            return Err(CommandError {
                code: "bad_request",
                message: format!("no debug image '{kind}'"),
            })
        }
    };
    let jpeg = state.service()?.artefact(&id, kind)?;
    Ok(format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(jpeg)
    ))
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PatientArg {
    Existing {
        id: String,
    },
    New {
        display_name: String,
        external_id: Option<String>,
    },
}

#[tauri::command]
pub async fn approve(
    state: State<'_, AppState>,
    id: String,
    patient: PatientArg,
    approver: String,
) -> Result<ApprovalOutcome, CommandError> {
    let patient = match patient {
        PatientArg::Existing { id } => PatientChoice::Existing(id),
        PatientArg::New {
            display_name,
            external_id,
        } => PatientChoice::New {
            display_name,
            external_id,
        },
    };
    Ok(state.service()?.approve(&id, patient, &approver).await?)
}

#[tauri::command]
pub async fn reject(
    state: State<'_, AppState>,
    id: String,
    by: String,
) -> Result<AnalysisRow, CommandError> {
    Ok(state.service()?.reject(&id, &by).await?)
}

#[tauri::command]
pub async fn cancel(state: State<'_, AppState>, id: String) -> Result<bool, CommandError> {
    Ok(state.service()?.cancel(&id).await?)
}

#[tauri::command]
pub fn retry(state: State<'_, AppState>, id: String) -> Result<(), CommandError> {
    Ok(state.service()?.retry(&id, None)?)
}

#[derive(Debug, Deserialize, Default)]
pub struct HistoryArgs {
    pub patient_id: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

#[tauri::command]
pub fn history(
    state: State<'_, AppState>,
    filter: HistoryArgs,
) -> Result<Vec<AnalysisRow>, CommandError> {
    let filter = HistoryFilter {
        patient_id: filter.patient_id,
        since: filter.since,
        until: filter.until,
        status: None,
        limit: filter.limit.unwrap_or(50),
        offset: filter.offset.unwrap_or(0),
    };
    Ok(state.service()?.history(&filter)?)
}

#[tauri::command]
pub fn search_patients(
    state: State<'_, AppState>,
    query: String,
) -> Result<Vec<Patient>, CommandError> {
    Ok(state.service()?.search_patients(&query, 20)?)
}

/// Writes the CSV to the file the user chose in the save dialog.
#[tauri::command]
pub fn save_csv(
    state: State<'_, AppState>,
    id: String,
    viewer: String,
    path: PathBuf,
) -> Result<(), CommandError> {
    Ok(state
        .service()?
        .export_to_file(&id, ExportFormat::Csv, &viewer, &path)?)
}

#[tauri::command]
pub fn export_csv(
    state: State<'_, AppState>,
    id: String,
    viewer: String,
) -> Result<String, CommandError> {
    let bytes = state.service()?.export(&id, ExportFormat::Csv, &viewer)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
