use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use pano_engine::{Engine, EngineOptions, ModelManifest};

use crate::CommandError;

/// The app's long-lived objects. The engine loads on first use so the window opens at once.
pub struct AppState {
    pub models_dir: Option<PathBuf>,
    engine: Mutex<Option<Arc<Engine>>>,
}

impl AppState {
    pub fn new(models_dir: Option<PathBuf>) -> Self {
        Self {
            models_dir,
            engine: Mutex::new(None),
        }
    }

    /// Models from `PANO_MODELS`, else the installed or development location.
    pub fn from_environment() -> Self {
        let dir = std::env::var_os("PANO_MODELS")
            .map(PathBuf::from)
            .or_else(pano_engine::locate_models_dir);
        Self::new(dir)
    }

    fn models_dir(&self) -> Result<&PathBuf, CommandError> {
        self.models_dir.as_ref().ok_or(CommandError {
            code: "models_missing",
            message: "No analysis models were found. Set the models folder in the settings.".into(),
        })
    }

    pub fn manifest(&self) -> Result<ModelManifest, CommandError> {
        Ok(ModelManifest::load(self.models_dir()?)?)
    }

    pub fn engine(&self) -> Result<Arc<Engine>, CommandError> {
        let mut slot = self.engine.lock().expect("engine slot");
        if let Some(engine) = slot.as_ref() {
            return Ok(engine.clone());
        }
        let engine = Arc::new(Engine::load(&EngineOptions {
            models_dir: self.models_dir()?.clone(),
            ..Default::default()
        })?);
        *slot = Some(engine.clone());
        Ok(engine)
    }
}
