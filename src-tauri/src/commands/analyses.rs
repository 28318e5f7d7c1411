use std::path::{Path, PathBuf};

use base64::Engine as _;
use pano_service::{
    AnalysisDetail, AnalysisRow, ApprovalOutcome, ArtefactKind, ExportFormat, HistoryFilter,
    JobRow, Patient, PatientChoice, PmsPatient,
};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_dialog::DialogExt;

use super::blocking;
use crate::state::PendingLaunch;
use crate::{AppState, CommandError};

/// One dropped file: its analysis (new or already stored), or why it was refused.
#[derive(Debug, Serialize)]
pub struct EnqueueResult {
    pub path: PathBuf,
    pub analysis: Option<AnalysisRow>,
    pub reused: bool,
    pub error: Option<CommandError>,
}

/// Queues dropped or opened files; `pms_patient` (the patient a practice system launched
/// Pano for) is attached to each analysis, so its decision form starts with that patient.
#[tauri::command]
pub async fn enqueue_files(
    state: State<'_, AppState>,
    paths: Vec<PathBuf>,
    pms_patient: Option<PmsPatient>,
) -> Result<Vec<EnqueueResult>, CommandError> {
    let service = state.service()?;
    blocking(move || {
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
                Ok(q) => {
                    if let Some(patient) = &pms_patient {
                        // A decided analysis keeps its patient; nothing else can fail here
                        // that the clinician would not see in the form.
                        let _ = service.attach_pms_patient(&q.analysis.id, patient);
                    }
                    EnqueueResult {
                        path,
                        analysis: Some(q.analysis),
                        reused: q.reused,
                        error: None,
                    }
                }
                Err(e) => EnqueueResult {
                    path,
                    analysis: None,
                    reused: false,
                    error: Some(e.into()),
                },
            })
            .collect())
    })
    .await
}

/// What the app was launched with (files, the practice system's patient, or why the
/// launch's arguments could not be used), once.
#[tauri::command]
pub fn take_launch(state: State<'_, AppState>) -> PendingLaunch {
    std::mem::take(&mut *state.launch.lock().expect("not poisoned"))
}

#[tauri::command]
pub async fn queue(state: State<'_, AppState>) -> Result<Vec<JobRow>, CommandError> {
    let service = state.service()?;
    blocking(move || Ok(service.queue()?)).await
}

#[tauri::command]
pub async fn open_analysis(
    state: State<'_, AppState>,
    id: String,
    viewer: String,
) -> Result<AnalysisDetail, CommandError> {
    let service = state.service()?;
    blocking(move || Ok(service.open_analysis(&id, &viewer)?)).await
}

/// A debug image as a `data:` URL (the CSP allows data images, nothing remote).
#[tauri::command]
pub async fn debug_image(
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
    let service = state.service()?;
    blocking(move || {
        let jpeg = service.artefact(&id, kind)?;
        Ok(format!(
            "data:image/jpeg;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(jpeg)
        ))
    })
    .await
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
        /// `YYYY-MM-DD`.
        #[serde(default)]
        birth_date: Option<String>,
    },
}

#[tauri::command]
pub async fn approve(
    state: State<'_, AppState>,
    id: String,
    patient: PatientArg,
    approver: String,
    thresholds: Option<std::collections::HashMap<String, f64>>,
) -> Result<ApprovalOutcome, CommandError> {
    // The thresholds the clinician reviewed with (by finding name); 0.5 where none is given.
    let thresholds = match thresholds {
        Some(map) => {
            pano_service::Thresholds::from_pairs(map.iter().map(|(k, v)| (k.as_str(), *v)))
                .map_err(pano_service::ServiceError::from)?
        }
        None => pano_service::Thresholds::default(),
    };
    let patient = match patient {
        PatientArg::Existing { id } => PatientChoice::Existing(id),
        PatientArg::New {
            display_name,
            external_id,
            birth_date,
        } => PatientChoice::New {
            display_name,
            external_id,
            birth_date,
        },
    };
    Ok(state
        .service()?
        .approve(&id, patient, &approver, thresholds)
        .await?)
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
pub async fn retry(state: State<'_, AppState>, id: String) -> Result<(), CommandError> {
    let service = state.service()?;
    blocking(move || Ok(service.retry(&id, None)?)).await
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
pub async fn history(
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
    let service = state.service()?;
    blocking(move || Ok(service.history(&filter)?)).await
}

#[tauri::command]
pub async fn search_patients(
    state: State<'_, AppState>,
    query: String,
) -> Result<Vec<Patient>, CommandError> {
    let service = state.service()?;
    blocking(move || Ok(service.search_patients(&query, 20)?)).await
}

/// The app's own save dialog (or the tests' stand-in): where to write, or nothing when the
/// user cancelled. The UI never names a path to write to.
async fn ask_where_to_save<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    title: &str,
    suggested: &str,
    (filter, extension): (&str, &str),
) -> Option<PathBuf> {
    if let Some(choose) = state.save_dialog_override() {
        return choose(suggested);
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title(title)
        .set_file_name(suggested)
        .add_filter(filter, &[extension])
        .save_file(move |path| {
            let _ = tx.send(path);
        });
    rx.await.ok().flatten().and_then(|p| p.into_path().ok())
}

/// Asks where to save the CSV in a save dialog opened here, not in the web UI, and writes
/// it there: the UI never names a path to write to. Answers the path written, or nothing
/// when the user cancelled.
#[tauri::command]
pub async fn save_csv<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
    viewer: String,
) -> Result<Option<PathBuf>, CommandError> {
    let service = state.service()?;
    let suggested = {
        let (service, id) = (service.clone(), id.clone());
        blocking(move || {
            let analysis = service.analysis(&id)?;
            let stem = Path::new(&analysis.original_file_name)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "findings".into());
            Ok(format!("{stem}.csv"))
        })
        .await?
    };
    let target = ask_where_to_save(
        &app,
        &state,
        "Save the findings as CSV",
        &suggested,
        ("CSV", "csv"),
    )
    .await;
    let Some(target) = target else {
        return Ok(None);
    };
    blocking(move || {
        service.export_to_file(&id, ExportFormat::Csv, &viewer, &target)?;
        Ok(Some(target))
    })
    .await
}

/// The patient report's file name: the patient and the day, never an id a person cannot read.
fn report_file_name(patient: Option<&str>, approved_at: Option<&str>) -> String {
    let who: String = patient
        .unwrap_or("patient")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == ' ' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim()
        .to_string();
    let day = approved_at.and_then(|d| d.get(..10)).unwrap_or("");
    format!("{who} panoramic report {day}").trim().to_string() + ".pdf"
}

/// Asks where to save the patient report (PDF) of an approved analysis, in a save dialog
/// opened here, and writes it there. Answers the path written, or nothing when cancelled.
#[tauri::command]
pub async fn save_report<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
) -> Result<Option<PathBuf>, CommandError> {
    let service = state.service()?;
    let suggested = {
        let (service, id) = (service.clone(), id.clone());
        blocking(move || {
            let analysis = service.analysis(&id)?;
            // Say so before asking where to save something that cannot be made yet.
            if analysis.status != pano_service::AnalysisStatus::Approved {
                return Err(pano_service::ServiceError::ReportNeedsApproval {
                    status: analysis.status,
                }
                .into());
            }
            Ok(report_file_name(
                analysis.patient_name.as_deref(),
                analysis.approved_at.as_deref(),
            ))
        })
        .await?
    };
    let target = ask_where_to_save(
        &app,
        &state,
        "Save the patient report",
        &suggested,
        ("PDF", "pdf"),
    )
    .await;
    let Some(target) = target else {
        return Ok(None);
    };
    blocking(move || {
        service.report_to_file(&id, None, &target)?;
        Ok(Some(target))
    })
    .await
}

/// Writes the patient report into the data folder (`reports/<analysis>.pdf`, replaced each
/// time) and opens it in the computer's PDF viewer, from which it is printed.
#[tauri::command]
pub async fn open_report(state: State<'_, AppState>, id: String) -> Result<(), CommandError> {
    let service = state.service()?;
    let opener = state.report_opener();
    blocking(move || {
        let dir = service.data_dir().join("reports");
        std::fs::create_dir_all(&dir).map_err(|e| pano_service::ServiceError::Read {
            path: dir.display().to_string(),
            source: e,
        })?;
        // The id is the service's own (checked by the lookup in report_to_file).
        let path = dir.join(format!("{}.pdf", service.analysis(&id)?.id));
        service.report_to_file(&id, None, &path)?;
        opener(&path).map_err(|e| CommandError {
            code: "report_viewer",
            message: format!(
                "The report was saved as {} but no PDF viewer could be opened: {e}",
                path.display()
            ),
        })
    })
    .await
}

/// Sends an approved analysis to the PACS (annotated image and report, as DICOM).
#[tauri::command]
pub async fn send_to_pacs(
    state: State<'_, AppState>,
    id: String,
) -> Result<pano_service::PacsReceipt, CommandError> {
    Ok(state.service()?.send_to_pacs(&id).await?)
}

/// What the UI asks the PACS for: a patient (id or name part) and/or days (`YYYY-MM-DD`).
#[derive(Debug, Deserialize)]
pub struct PacsQuery {
    pub patient: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// Panoramic studies on the PACS, newest first.
#[tauri::command]
pub async fn pacs_studies(
    state: State<'_, AppState>,
    query: PacsQuery,
) -> Result<Vec<pano_service::PacsStudy>, CommandError> {
    let query = pano_service::StudyQuery {
        patient: query.patient,
        since: query.since,
        until: query.until,
    };
    Ok(state.service()?.pacs_studies(&query).await?)
}

/// Fetches a PACS study's panoramic images and queues them (the queue runs them).
#[tauri::command]
pub async fn analyse_from_pacs(
    state: State<'_, AppState>,
    study_uid: String,
) -> Result<Vec<AnalysisRow>, CommandError> {
    let queued = state.service()?.analyse_from_pacs(&study_uid, None).await?;
    Ok(queued.into_iter().map(|q| q.analysis).collect())
}

#[tauri::command]
pub async fn export_csv(
    state: State<'_, AppState>,
    id: String,
    viewer: String,
) -> Result<String, CommandError> {
    let service = state.service()?;
    blocking(move || {
        let bytes = service.export(&id, ExportFormat::Csv, &viewer)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    })
    .await
}
