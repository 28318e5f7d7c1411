use serde::Serialize;
use tauri::State;

use super::blocking;
use crate::{AppState, CommandError};

#[derive(Debug, Serialize)]
pub struct AppInfo {
    pub version: &'static str,
    pub model_version: Option<String>,
    pub test_model: bool,
    pub notice: Option<String>,
    /// "fp32", or "int8"/"fp16" for an optional faster pack (named wherever results show).
    pub precision: &'static str,
    /// Why the local models cannot be used, if they cannot.
    pub models_problem: Option<CommandError>,
    pub execution_provider: String,
    /// The models folder in use (configured, or the one installed with the app).
    pub models_dir: Option<String>,
    /// The ONNX Runtime library local analyses load...
    pub onnxruntime: Option<String>,
    /// ...or why none was found.
    pub onnxruntime_problem: Option<CommandError>,
    pub backend: String,
    /// Why cloud analysis is off, if it is.
    pub cloud_problem: Option<CommandError>,
    pub keychain_problem: Option<CommandError>,
}

#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> Result<AppInfo, CommandError> {
    let service = state.service()?;
    let keychain_problem = state.keychain_problem.lock().expect("not poisoned").clone();
    blocking(move || {
        let manifest = service.local_models().map_err(CommandError::from);
        let settings = service.settings();
        let runtime = pano_engine::locate_runtime_library(None);
        Ok(AppInfo {
            version: env!("CARGO_PKG_VERSION"),
            model_version: manifest.as_ref().ok().map(|m| m.model_version.clone()),
            test_model: manifest.as_ref().map(|m| m.test_model).unwrap_or(false),
            notice: manifest.as_ref().ok().and_then(|m| m.notice.clone()),
            precision: manifest
                .as_ref()
                .map(|m| m.precision.name())
                .unwrap_or("fp32"),
            models_problem: manifest.err(),
            execution_provider: settings.provider.name().to_string(),
            models_dir: service.models_dir().map(|d| d.display().to_string()),
            onnxruntime: runtime.as_ref().ok().map(|p| p.display().to_string()),
            onnxruntime_problem: runtime
                .err()
                .map(|e| CommandError::from(pano_service::ServiceError::from(e))),
            backend: settings.backend.as_str().to_string(),
            cloud_problem: service.cloud_status().err().map(CommandError::from),
            keychain_problem,
        })
    })
    .await
}
