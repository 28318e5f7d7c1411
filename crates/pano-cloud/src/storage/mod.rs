//! Where approved analyses go: an S3-compatible bucket or a local folder (or NAS share),
//! with the same layout. Both implement [`PermanentStorage`]; [`AnyStorage`] picks one from
//! the settings.

mod error;
mod folder;
mod layout;
mod s3;

pub use error::StorageError;
pub use folder::FolderStorage;
pub use layout::{
    analysis_prefix, content_type, input_extension, OpaqueId, ANALYSIS_JSON, FINDINGS_CSV,
    REVIEWED_CSV,
};
pub use s3::{S3Credentials, S3Settings, S3Storage, TempUpload};

/// Everything an approved analysis files in permanent storage.
#[derive(Debug, Clone)]
pub struct ApprovedAnalysis {
    pub patient_id: OpaqueId,
    pub analysis_id: OpaqueId,
    /// Lower-case extension from [`input_extension`].
    pub input_extension: &'static str,
    /// The input image itself: promotion falls back to it when the temp object is gone
    /// (a repeated promotion after a crash).
    pub input: Vec<u8>,
    pub findings_csv: Vec<u8>,
    /// The reviewed result: `findings.csv`'s rows with the clinician's decisions.
    pub reviewed_csv: Vec<u8>,
    pub analysis_json: Vec<u8>,
    /// `(file name, JPEG)`, e.g. `("semantic-segmentation.jpg", ...)`.
    pub debug_images: Vec<(String, Vec<u8>)>,
    /// The patient report (`report.pdf`).
    pub report_pdf: Option<Vec<u8>>,
}

impl ApprovedAnalysis {
    /// Relative paths and contents in the order they are written; `analysis.json` last, so
    /// that its presence means the set is complete.
    pub fn files(&self) -> Vec<(String, &[u8])> {
        let mut files: Vec<(String, &[u8])> = vec![
            (format!("input.{}", self.input_extension), &self.input),
            (FINDINGS_CSV.to_string(), &self.findings_csv),
            (REVIEWED_CSV.to_string(), &self.reviewed_csv),
        ];
        for (name, jpeg) in &self.debug_images {
            files.push((format!("{}/{name}", layout::DEBUG_DIR), jpeg));
        }
        if let Some(pdf) = &self.report_pdf {
            files.push((layout::REPORT_PDF.to_string(), pdf));
        }
        files.push((ANALYSIS_JSON.to_string(), &self.analysis_json));
        files
    }

    fn check(&self) -> Result<(), StorageError> {
        for (name, _) in &self.debug_images {
            let ok = name.ends_with(".jpg")
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
                && !name.starts_with('.');
            if !ok {
                return Err(StorageError::Invalid(format!(
                    "bad debug image name '{name}'"
                )));
            }
        }
        Ok(())
    }
}

/// Where the set of an approved analysis ended up: a bucket prefix or a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLocation {
    /// `s3://bucket/patients/p/a/` or the folder's path.
    pub location: String,
    /// Relative names of the files written.
    pub files: Vec<String>,
}

/// Permanent storage of approved analyses.
pub trait PermanentStorage {
    /// Files an approved analysis. Idempotent: repeating it after a crash at any step ends
    /// with exactly one complete set.
    fn store_approved(
        &self,
        analysis: &ApprovedAnalysis,
        temp: Option<&TempUpload>,
    ) -> impl std::future::Future<Output = Result<StoredLocation, StorageError>> + Send;

    /// Checks the settings and keys against the real thing, with a specific error; what
    /// works but should be fixed comes back as warnings.
    fn test_connection(
        &self,
    ) -> impl std::future::Future<Output = Result<ConnectionReport, StorageError>> + Send;
}

/// A successful "test connection", with what works but should still be fixed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionReport {
    pub warnings: Vec<ConnectionWarning>,
}

/// Something to fix that does not stop storage from working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionWarning {
    /// Stable, for the UI and logs: [`ConnectionWarning::TEMP_NOT_EXPIRING`] or
    /// [`ConnectionWarning::LIFECYCLE_UNCHECKED`].
    pub code: &'static str,
    /// For the clinic's staff, with what to do.
    pub message: String,
}

impl ConnectionWarning {
    /// No enabled lifecycle rule expires the temp prefix: uploads whose analysis never
    /// finished stay in the bucket.
    pub const TEMP_NOT_EXPIRING: &'static str = "storage_temp_not_expiring";
    /// The bucket's lifecycle rules could not be read (not implemented by the server, or no
    /// permission).
    pub const LIFECYCLE_UNCHECKED: &'static str = "storage_lifecycle_unchecked";
}

/// The storage the settings chose.
pub enum AnyStorage {
    S3(S3Storage),
    Folder(FolderStorage),
}

impl PermanentStorage for AnyStorage {
    async fn store_approved(
        &self,
        analysis: &ApprovedAnalysis,
        temp: Option<&TempUpload>,
    ) -> Result<StoredLocation, StorageError> {
        match self {
            AnyStorage::S3(s) => s.store_approved(analysis, temp).await,
            AnyStorage::Folder(f) => f.store_approved(analysis, temp).await,
        }
    }

    async fn test_connection(&self) -> Result<ConnectionReport, StorageError> {
        match self {
            AnyStorage::S3(s) => s.test_connection().await,
            AnyStorage::Folder(f) => f.test_connection().await,
        }
    }
}
