//! The review workspace's commands: the plain radiograph, the engine's geometry, the
//! clinician's decision on each finding and the audit trail. Rules live in the service.

use base64::Engine as _;
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
