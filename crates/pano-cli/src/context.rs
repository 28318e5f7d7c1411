//! Opening the service the way every subcommand does: settings file -> environment ->
//! flags; keys only from the environment (never written).

use std::process::ExitCode;

use pano_service::{default_settings_path, AnalysisService, Secrets, ServiceError, Settings};

use crate::GlobalArgs;

pub fn settings(global: &GlobalArgs) -> Result<Settings, ServiceError> {
    let mut settings = match global.settings.clone().or_else(default_settings_path) {
        Some(path) => Settings::load(&path)?,
        None => Settings::default(),
    };
    settings.apply_env(|name| std::env::var(name).ok())?;
    if let Some(dir) = &global.data_dir {
        settings.data_dir = Some(dir.clone());
    }
    if let Some(db) = &global.db {
        settings.database = Some(db.clone());
    }
    Ok(settings)
}

pub fn open(settings: Settings) -> Result<AnalysisService, ServiceError> {
    AnalysisService::open(settings, Secrets::from_env(|name| std::env::var(name).ok()))
}

/// Prints an error the way every subcommand does and gives the exit status: 2 for
/// settings and setup problems, 1 for the rest.
pub fn report(error: &ServiceError) -> ExitCode {
    eprintln!("error: {error} [{}]", error.code());
    match error {
        ServiceError::Settings(_)
        | ServiceError::NoModels
        | ServiceError::NoCloud(_)
        | ServiceError::NoArchive
        | ServiceError::Engine(_) => ExitCode::from(2),
        _ => ExitCode::from(1),
    }
}

pub fn open_from(global: &GlobalArgs) -> Result<AnalysisService, ExitCode> {
    settings(global).and_then(open).map_err(|e| report(&e))
}
