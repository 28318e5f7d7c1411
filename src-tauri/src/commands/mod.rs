//! IPC commands: each one converts arguments, calls a crate, converts the answer.

use std::path::PathBuf;

use pano_core::ToothFinding;
use serde::Serialize;
use tauri::State;

use crate::{AppState, CommandError};

#[derive(Debug, Serialize)]
pub struct AppInfo {
    pub version: &'static str,
    pub model_version: String,
    pub test_model: bool,
    pub notice: Option<String>,
    pub execution_provider: &'static str,
}

#[derive(Debug, Serialize)]
pub struct AnalysisResult {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub model_version: String,
    pub test_model: bool,
    pub findings: Vec<ToothFinding>,
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> Result<AppInfo, CommandError> {
    let manifest = state.manifest()?;
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        model_version: manifest.model_version,
        test_model: manifest.test_model,
        notice: manifest.notice,
        execution_provider: "cpu",
    })
}

/// Analyses a file the user dropped; runs off the UI thread.
#[tauri::command]
pub async fn analyze_file(
    state: State<'_, AppState>,
    path: PathBuf,
) -> Result<AnalysisResult, CommandError> {
    let engine = state.engine()?;
    tauri::async_runtime::spawn_blocking(move || {
        let image = pano_imaging::import_file(&path, &pano_imaging::ImportLimits::default())?;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("image")
            .to_string();
        let analysis = engine.analyze(&image.rgb, &stem, false)?;
        Ok(AnalysisResult {
            name: stem,
            width: image.width(),
            height: image.height(),
            model_version: analysis.model_version,
            test_model: analysis.test_model,
            findings: analysis.assessment.findings().collect(),
        })
    })
    .await
    .map_err(|e| CommandError {
        code: "internal",
        message: format!("the analysis stopped unexpectedly ({e})"),
    })?
}
