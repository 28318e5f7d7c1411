use pano_keychain::SecretName;
use pano_service::{ConnectionCheck, Settings};
use serde::Serialize;
use tauri::{AppHandle, Manager, Runtime, State};

use super::blocking;
use crate::state::load_settings;
use crate::{AppState, CommandError};

#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> Result<Settings, CommandError> {
    let path = state.settings_path.clone();
    blocking(move || load_settings(&path)).await
}

/// Saves the settings file (it has no field for a key) and reopens the service.
#[tauri::command]
pub async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    settings: Settings,
) -> Result<SettingsSaved, CommandError> {
    blocking(move || {
        let state = app.state::<AppState>();
        // The RunPod key is a bearer token: a new address (scheme, host or port) does not
        // get the old key; the clinic enters it again for the new one.
        let before = load_settings(&state.settings_path)?;
        let runpod_key_cleared = before.runpod_destination_changed(&settings)
            && state.keychain.is_set(SecretName::RunpodApiKey)?;
        if runpod_key_cleared {
            state.keychain.clear(SecretName::RunpodApiKey)?;
        }
        settings.save(&state.settings_path)?;
        state.restart(app.clone());
        Ok(SettingsSaved { runpod_key_cleared })
    })
    .await
}

/// What saving changed beyond the file.
#[derive(Debug, Serialize)]
pub struct SettingsSaved {
    /// The RunPod address changed, so its key was removed and must be entered again.
    pub runpod_key_cleared: bool,
}

/// The models folder's manifest: its version, or why it cannot be used.
#[tauri::command]
pub async fn test_models(state: State<'_, AppState>) -> Result<String, CommandError> {
    let service = state.service()?;
    blocking(move || {
        let manifest = service.local_models()?;
        Ok(format!(
            "models {}{}",
            manifest.model_version,
            if manifest.test_model {
                " (test models: not for diagnosis)"
            } else {
                ""
            }
        ))
    })
    .await
}

/// "The archive answers.", plus what works but should still be fixed.
#[tauri::command]
pub async fn test_archive(state: State<'_, AppState>) -> Result<ConnectionCheck, CommandError> {
    Ok(state.service()?.test_archive().await?)
}

/// The PACS's answer (a DICOMweb query and/or a C-ECHO), in words.
#[tauri::command]
pub async fn test_pacs(state: State<'_, AppState>) -> Result<ConnectionCheck, CommandError> {
    Ok(state.service()?.test_pacs().await?)
}

/// RunPod's and the temp bucket's answer in words, plus what should still be fixed.
#[tauri::command]
pub async fn test_cloud(state: State<'_, AppState>) -> Result<ConnectionCheck, CommandError> {
    Ok(state.service()?.test_cloud().await?)
}

#[derive(Debug, Serialize)]
pub struct SecretStatus {
    pub name: SecretName,
    pub is_set: bool,
}

/// Which keys are stored; never their values.
#[tauri::command]
pub async fn secret_status(state: State<'_, AppState>) -> Result<Vec<SecretStatus>, CommandError> {
    let keychain = state.keychain.clone();
    blocking(move || {
        SecretName::ALL
            .into_iter()
            .map(|name| {
                Ok(SecretStatus {
                    name,
                    is_set: keychain.is_set(name)?,
                })
            })
            .collect()
    })
    .await
}

/// Stores or replaces a key, then reopens the service with it. Answers nothing back.
#[tauri::command]
pub async fn set_secret<R: Runtime>(
    app: AppHandle<R>,
    name: SecretName,
    value: String,
) -> Result<(), CommandError> {
    blocking(move || {
        let state = app.state::<AppState>();
        state.keychain.set(name, &value)?;
        state.restart(app.clone());
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn clear_secret<R: Runtime>(
    app: AppHandle<R>,
    name: SecretName,
) -> Result<(), CommandError> {
    blocking(move || {
        let state = app.state::<AppState>();
        state.keychain.clear(name)?;
        state.restart(app.clone());
        Ok(())
    })
    .await
}
