use serde::Serialize;

/// What the UI receives when a command fails: a stable code to branch on and a sentence
/// for people. Built only from the crates' own error types, whose messages never carry a
/// key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {message}")]
pub struct CommandError {
    pub code: &'static str,
    pub message: String,
}

impl From<pano_service::ServiceError> for CommandError {
    fn from(e: pano_service::ServiceError) -> Self {
        CommandError {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl From<pano_keychain::KeychainError> for CommandError {
    fn from(e: pano_keychain::KeychainError) -> Self {
        CommandError {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl CommandError {
    pub fn not_ready(reason: &str) -> Self {
        CommandError {
            code: "service_unavailable",
            message: reason.to_string(),
        }
    }
}
