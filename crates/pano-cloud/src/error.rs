use thiserror::Error;

/// What can be wrong with an answer from the cloud.
#[derive(Debug, Error, PartialEq)]
pub enum CloudError {
    #[error("RunPod answered something that is not the expected JSON: {0}")]
    MalformedResponse(String),
    #[error("RunPod reported an unknown job status '{0}'")]
    UnknownStatus(String),
    #[error("the worker's result is larger than {limit_mb} MB")]
    OutputTooLarge { limit_mb: usize },
    #[error("the worker's result is not of the expected shape: {0}")]
    WrongShape(String),
    #[error("the worker's findings are invalid: {0}")]
    InvalidFindings(#[from] pano_core::CoreError),
    #[error("the worker's geometry is invalid: {0}")]
    BadGeometry(#[from] pano_core::GeometryError),
    #[error("the worker's debug image '{name}' is unusable: {reason}")]
    BadDebugImage { name: &'static str, reason: String },
}
