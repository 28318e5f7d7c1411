use pano_cloud::runpod::RunpodError;
use pano_cloud::storage::StorageError;
use pano_engine::EngineError;
use pano_imaging::ImportError;
use pano_store::{AnalysisStatus, StoreError};
use thiserror::Error;

/// Why a service call failed. Every variant has a stable [`ServiceError::code`]; messages
/// are for clinic staff and never carry a key.
#[derive(Debug, Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Import { path: String, source: ImportError },
    #[error("{path} cannot be read or written: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Runpod(#[from] RunpodError),
    #[error("settings: {0}")]
    Settings(String),
    #[error("no models folder is configured (set models_dir, PANO_MODELS or --models)")]
    NoModels,
    #[error("cloud analysis is not configured: {0}")]
    NoCloud(String),
    #[error("waiting for the keys in the keychain: {0}")]
    KeysUnavailable(String),
    #[error(
        "no permanent storage is configured: set an archive (S3 bucket or folder) before approving"
    )]
    NoArchive,
    #[error("the analysis is {}: only a completed analysis can be approved", status.as_str())]
    CannotApprove { status: AnalysisStatus },
    #[error("the analysis was already approved for another patient")]
    ApprovedForAnotherPatient,
    #[error("the analysis is {}: it cannot be rejected", status.as_str())]
    CannotReject { status: AnalysisStatus },
    #[error("the analysis is {}: only a failed analysis can be retried", status.as_str())]
    CannotRetry { status: AnalysisStatus },
    #[error("approval needs {0}")]
    MissingApprovalDetail(&'static str),
    #[error("another Pano process is working on the queue (it will finish these analyses)")]
    QueueBusy,
    #[error("the analysis has no {0} yet")]
    NoResult(&'static str),
    #[error("the analysis is {}: only a completed analysis awaiting approval can be reviewed", status.as_str())]
    NotReviewable { status: AnalysisStatus },
    #[error("'{0}' is not a date of birth (YYYY-MM-DD, a real date, not in the future)")]
    InvalidBirthDate(String),
    #[error("review: {0}")]
    InvalidReview(String),
    #[error("a stored file of the analysis is damaged: {0}")]
    CorruptArtefact(String),
    #[error("thresholds: {0}")]
    InvalidThresholds(#[from] pano_core::ThresholdError),
    #[error("the analysis is {}: a report is made once a clinician has approved it", status.as_str())]
    ReportNeedsApproval { status: AnalysisStatus },
    #[error(transparent)]
    Report(#[from] pano_report::ReportError),
    #[error(transparent)]
    Pacs(#[from] pano_dicom::DicomError),
    #[error("no PACS is configured: set a DICOMweb address or a DICOM host, port and AE titles in Settings")]
    NoPacs,
    #[error("the study has no panoramic image (modality PX) to analyse")]
    NoPanoramicImage,
}

impl ServiceError {
    /// A stable code for the UI (`{code, message}`) and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Store(e) => e.code(),
            ServiceError::Import { source, .. } => source.code(),
            ServiceError::Read { .. } => "file_unreadable",
            ServiceError::Engine(_) => "engine_error",
            ServiceError::Storage(e) => e.code(),
            ServiceError::Runpod(e) => e.code(),
            ServiceError::Settings(_) => "settings_invalid",
            ServiceError::NoModels => "no_models",
            ServiceError::NoCloud(_) => "cloud_not_configured",
            ServiceError::KeysUnavailable(_) => "keys_unavailable",
            ServiceError::NoArchive => "archive_not_configured",
            ServiceError::CannotApprove { .. } => "cannot_approve",
            ServiceError::ApprovedForAnotherPatient => "approved_for_another_patient",
            ServiceError::CannotReject { .. } => "cannot_reject",
            ServiceError::CannotRetry { .. } => "cannot_retry",
            ServiceError::MissingApprovalDetail(_) => "approval_incomplete",
            ServiceError::QueueBusy => "queue_busy",
            ServiceError::NoResult(_) => "no_result",
            ServiceError::NotReviewable { .. } => "analysis_not_reviewable",
            ServiceError::InvalidBirthDate(_) => "invalid_birth_date",
            ServiceError::InvalidReview(_) => "invalid_review",
            ServiceError::InvalidThresholds(_) => "invalid_thresholds",
            ServiceError::CorruptArtefact(_) => "stored_file_damaged",
            ServiceError::ReportNeedsApproval { .. } => "report_needs_approval",
            ServiceError::Report(e) => e.code(),
            ServiceError::Pacs(e) => e.code(),
            ServiceError::NoPacs => "pacs_not_configured",
            ServiceError::NoPanoramicImage => "no_panoramic_image",
        }
    }
}
