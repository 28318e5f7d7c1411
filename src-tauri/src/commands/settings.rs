use pano_keychain::SecretName;
use pano_service::Settings;
use serde::Serialize;
use tauri::{AppHandle, Runtime, State};

use crate::{AppState, CommandError};

#[tauri::command]
pub fn get_settings(state: State<'_, AppState>) -> Result<Settings, CommandError> {
    state.settings()
}

/// Saves the settings file (it has no field for a key) and reopens the service.
#[tauri::command]
pub fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    settings: Settings,
) -> Result<(), CommandError> {
    settings.save(&state.settings_path)?;
    state.restart(app);
    Ok(())
}

/// The models folder's manifest: its version, or why it cannot be used.
#[tauri::command]
pub fn test_models(state: State<'_, AppState>) -> Result<String, CommandError> {
    let manifest = state.service()?.local_models()?;
    Ok(format!(
        "models {}{}",
        manifest.model_version,
        if manifest.test_model {
            " (test models: not for diagnosis)"
        } else {
            ""
        }
    ))
}

#[tauri::command]
pub async fn test_archive(state: State<'_, AppState>) -> Result<(), CommandError> {
    Ok(state.service()?.test_archive().await?)
}

/// RunPod's answer in words ("ready", "waiting for a worker").
#[tauri::command]
pub async fn test_cloud(state: State<'_, AppState>) -> Result<String, CommandError> {
    Ok(state.service()?.test_cloud().await?)
}

#[derive(Debug, Serialize)]
pub struct SecretStatus {
    pub name: SecretName,
    pub is_set: bool,
}

/// Which keys are stored; never their values.
#[tauri::command]
pub fn secret_status(state: State<'_, AppState>) -> Result<Vec<SecretStatus>, CommandError> {
    SecretName::ALL
        .into_iter()
        .map(|name| {
            Ok(SecretStatus {
                name,
                is_set: state.keychain.is_set(name)?,
            })
        })
        .collect()
}

/// Stores or replaces a key, then reopens the service with it. Answers nothing back.
#[tauri::command]
pub fn set_secret<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: SecretName,
    value: String,
) -> Result<(), CommandError> {
    state.keychain.set(name, &value)?;
    state.restart(app);
    Ok(())
}

#[tauri::command]
pub fn clear_secret<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: SecretName,
) -> Result<(), CommandError> {
    state.keychain.clear(name)?;
    state.restart(app);
    Ok(())
}
