//! The review workspace's commands: the plain radiograph, the engine's geometry, the
//! clinician's decision on each finding and the audit trail. Rules live in the service.

use base64::Engine as _;
use pano_core::AnalysisGeometry;
use pano_service::{AuditEntry, FindingDecision};
use tauri::State;

use super::blocking;
use crate::{AppState, CommandError};

/// The radiograph as a `data:` URL (the CSP allows data images, nothing remote).
#[tauri::command]
pub async fn radiograph_image(
    state: State<'_, AppState>,
    id: String,
) -> Result<String, CommandError> {
    let service = state.service()?;
    blocking(move || {
        let image = service.radiograph_image(&id)?;
        Ok(format!(
            "data:{};base64,{}",
            image.media_type,
            base64::engine::general_purpose::STANDARD.encode(image.bytes)
        ))
    })
    .await
}

/// The engine's tooth regions and finding outlines, or nothing for an analysis without.
#[tauri::command]
pub async fn analysis_geometry(
    state: State<'_, AppState>,
    id: String,
) -> Result<Option<AnalysisGeometry>, CommandError> {
    let service = state.service()?;
    blocking(move || Ok(service.analysis_geometry(&id)?)).await
}

/// Records the clinician's decision on one finding of one tooth (`confirmed`, `rejected`,
/// `added`, or `clear` for the AI's again); answers every decision now in force.
#[tauri::command]
pub async fn decide_finding(
    state: State<'_, AppState>,
    id: String,
    fdi: u32,
    finding: String,
    decision: String,
    note: Option<String>,
    by: String,
) -> Result<Vec<FindingDecision>, CommandError> {
    let (fdi, finding, update) = pano_service::parse_decision_request(fdi, &finding, &decision)?;
    let service = state.service()?;
    blocking(move || Ok(service.decide_finding(&id, fdi, finding, update, note.as_deref(), &by)?))
        .await
}

/// Everything recorded about an analysis, oldest first.
#[tauri::command]
pub async fn audit_trail(
    state: State<'_, AppState>,
    id: String,
) -> Result<Vec<AuditEntry>, CommandError> {
    let service = state.service()?;
    blocking(move || Ok(service.audit_trail(&id)?)).await
}
