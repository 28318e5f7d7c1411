//! The analysis service: the one place where radiographs become stored, reviewable,
//! approvable analyses. The desktop app and the CLI are two faces of it.
//!
//! `enqueue` -> (cache by content hash + model version) -> the durable queue in SQLite ->
//! `run` executes jobs on the chosen backend with bounded concurrency, waits out outages
//! with backoff and falls back to this computer when allowed -> `approve` / `reject`
//! (rules in [`approval`]) -> the archive job files approved sets in permanent storage.

pub mod approval;
mod archive_job;
mod cloud_job;
mod deidentify;
mod display_image;
mod durable;
mod error;
mod events;
mod folders;
mod launch;
mod local_job;
mod pacs;
mod pms_export;
mod report;
mod review;
mod runner;
mod service;
mod settings;

pub use display_image::DisplayImage;
pub use error::ServiceError;
pub use events::{JobView, ServiceEvent};
pub use folders::{images_in, IMAGE_EXTENSIONS};
pub use launch::{parse_launch, LaunchError, LaunchRequest, PmsPatient};
pub use pacs::PacsReceipt;
pub use pano_dicom::{PacsStudy, StudyQuery};
pub use pano_report::Paper;
pub use report::REPORT_FILE_NAME;
pub use review::{
    check_birth_date, parse_decision_request, SuggestedPatient, SuggestionSource, MAX_NOTE_CHARS,
};
pub use runner::RunMode;
pub use service::{
    AnalysisDetail, AnalysisService, ApprovalOutcome, CheckWarning, ConnectionCheck, Enqueued,
    ExportFormat, PatientChoice,
};
pub use settings::{
    default_settings_path, ArchiveInput, ArchiveSettings, BackendChoice, PacsSettings, PaperChoice,
    PmsSettings, ReportSettings, RetrySettings, RunpodFileSettings, Secrets, Settings,
};

pub use pano_core::{Decision, DecisionUpdate, Thresholds};
pub use pano_store::{
    AnalysisRow, AnalysisStatus, ArtefactKind, AuditEntry, FindingDecision, HistoryFilter, JobRow,
    JobState, Patient,
};
