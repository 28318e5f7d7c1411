use thiserror::Error;

/// Why storage refused or failed. The variants are what a clinic can act on: "test
/// connection" tells them apart, and none carries a key or a secret.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum StorageError {
    #[error("the storage rejected the access key or secret (check both in Settings)")]
    WrongKeys,
    #[error("the bucket '{bucket}' does not exist at this endpoint")]
    MissingBucket { bucket: String },
    #[error("the keys are valid but lack permission for this bucket ({operation})")]
    PermissionDenied { operation: &'static str },
    #[error("the storage endpoint {endpoint} cannot be reached: {detail}")]
    Unreachable { endpoint: String, detail: String },
    #[error("this computer's clock differs too much from the storage's; correct the system time")]
    ClockSkew,
    #[error("the storage did not answer in time ({operation})")]
    Timeout { operation: &'static str },
    #[error("the storage answered with an error ({operation}: HTTP {status} {code})")]
    Server {
        operation: &'static str,
        status: u16,
        code: String,
    },
    #[error("'{key}' is not in storage")]
    NotFound { key: String },
    #[error("the storage folder {path} does not exist or is not mounted")]
    MissingFolder { path: String },
    #[error("cannot write to the storage folder {path}: {detail}")]
    FolderNotWritable { path: String, detail: String },
    #[error("{0}")]
    Invalid(String),
    /// Refused when the client is built: keys' signatures and patients' images would travel
    /// in clear text. Plain http is accepted only to this computer (MinIO on the same
    /// machine, a test server).
    #[error(
        "the storage endpoint '{endpoint}' must start with https:// (plain http only for this \
         computer: localhost, 127.0.0.1, ::1); correct it in Settings"
    )]
    InsecureEndpoint { endpoint: String },
    /// The storage answered with a redirect, which is not followed (AWS does this for a
    /// bucket in another region).
    #[error(
        "the storage answered with a redirect ({operation}: HTTP {status}), which is not \
         followed; check the endpoint and region in Settings"
    )]
    Redirected {
        operation: &'static str,
        status: u16,
    },
}

impl StorageError {
    /// A stable code for the UI and logs.
    pub fn code(&self) -> &'static str {
        match self {
            StorageError::WrongKeys => "storage_wrong_keys",
            StorageError::MissingBucket { .. } => "storage_missing_bucket",
            StorageError::PermissionDenied { .. } => "storage_permission_denied",
            StorageError::Unreachable { .. } => "storage_unreachable",
            StorageError::ClockSkew => "storage_clock_skew",
            StorageError::Timeout { .. } => "storage_timeout",
            StorageError::Server { .. } => "storage_server_error",
            StorageError::NotFound { .. } => "storage_not_found",
            StorageError::MissingFolder { .. } => "storage_missing_folder",
            StorageError::FolderNotWritable { .. } => "storage_folder_not_writable",
            StorageError::Invalid(_) => "storage_invalid",
            StorageError::InsecureEndpoint { .. } => "storage_insecure_endpoint",
            StorageError::Redirected { .. } => "storage_redirected",
        }
    }

    /// Worth trying again later (an outage), as opposed to a setting to fix.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StorageError::Unreachable { .. }
                | StorageError::Timeout { .. }
                | StorageError::Server { .. }
        )
    }
}
