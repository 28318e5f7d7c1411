use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong loading models or running them.
#[derive(Debug, Error)]
pub enum EngineError {
    #[error("ONNX Runtime library not found; set PANO_ORT_LIB (or ORT_DYLIB_PATH) to libonnxruntime, or run scripts/setup.sh. Looked in: {searched}")]
    RuntimeNotFound { searched: String },
    #[error("could not load ONNX Runtime from {path}: {detail}")]
    RuntimeLoad { path: PathBuf, detail: String },
    #[error("no model manifest at {0}")]
    ManifestMissing(PathBuf),
    #[error("the model manifest {path} is invalid: {detail}")]
    ManifestInvalid { path: PathBuf, detail: String },
    #[error("model file {0} is missing")]
    ModelFileMissing(PathBuf),
    #[error(
        "model file {file} does not match the manifest (SHA-256 {actual}, expected {expected})"
    )]
    ModelHashMismatch {
        file: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("the {model} model does not fit the manifest: {detail}")]
    ModelMismatch { model: &'static str, detail: String },
    #[error("execution provider {provider} is not available: {detail}")]
    ProviderUnavailable {
        provider: &'static str,
        detail: String,
    },
    #[error("ONNX Runtime failed during {stage}: {detail}")]
    Inference { stage: &'static str, detail: String },
    #[error("the image is {width}x{height}; the engine needs at least 32x32 pixels")]
    ImageTooSmall { width: u32, height: u32 },
    #[error("could not encode a debug image: {0}")]
    DebugImage(String),
}

impl EngineError {
    pub(crate) fn inference(stage: &'static str, e: impl std::fmt::Display) -> Self {
        EngineError::Inference {
            stage,
            detail: e.to_string(),
        }
    }
}
