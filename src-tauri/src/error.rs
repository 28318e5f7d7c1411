use serde::Serialize;

/// What the UI receives when a command fails: a stable code to branch on and a sentence
/// for people. Never a raw internal message that could carry a path to a secret or a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CommandError {
    pub code: &'static str,
    pub message: String,
}

impl From<pano_imaging::ImportError> for CommandError {
    fn from(e: pano_imaging::ImportError) -> Self {
        use pano_imaging::ImportError as E;
        let code = match &e {
            E::Read { .. } => "file_unreadable",
            E::Empty | E::Corrupt { .. } => "image_damaged",
            E::UnsupportedFormat | E::UnsupportedVariant { .. } => "image_unsupported",
            E::TooManyPixels { .. } | E::FileTooLarge { .. } => "image_too_large",
            E::TooSmall { .. } => "image_too_small",
        };
        CommandError {
            code,
            message: e.to_string(),
        }
    }
}

impl From<pano_engine::EngineError> for CommandError {
    fn from(e: pano_engine::EngineError) -> Self {
        use pano_engine::EngineError as E;
        let code = match &e {
            E::RuntimeNotFound { .. } | E::RuntimeLoad { .. } => "runtime_missing",
            E::ManifestMissing(_)
            | E::ManifestInvalid { .. }
            | E::ModelFileMissing(_)
            | E::ModelHashMismatch { .. }
            | E::ModelMismatch { .. } => "models_invalid",
            E::ProviderUnavailable { .. } => "provider_unavailable",
            E::ImageTooSmall { .. } => "image_too_small",
            E::Inference { .. } | E::DebugImage(_) => "analysis_failed",
        };
        CommandError {
            code,
            message: e.to_string(),
        }
    }
}
