//! Object keys and file names of the permanent layout. Keys hold opaque ids only: never a
//! patient's name or birth date.

use super::StorageError;

/// An id that is safe inside an object key or a path: 1 to 64 ASCII letters, digits and
/// dashes (a UUID, say). Patient names never get here.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OpaqueId(String);

impl OpaqueId {
    pub fn new(id: &str) -> Result<Self, StorageError> {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if ok {
            Ok(Self(id.to_string()))
        } else {
            Err(StorageError::Invalid(format!(
                "'{}' is not an opaque id (letters, digits and dashes, at most 64)",
                id.chars().take(70).collect::<String>()
            )))
        }
    }

    /// A fresh random id (UUID v4 text).
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for OpaqueId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The input image's extension, lower case, from a short list of what the importer reads.
pub fn input_extension(ext: &str) -> Result<&'static str, StorageError> {
    Ok(match ext.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" => "jpg",
        "png" => "png",
        "tif" | "tiff" => "tif",
        "bmp" => "bmp",
        "dcm" | "dicom" => "dcm",
        other => {
            return Err(StorageError::Invalid(format!(
                "'{}' is not an image extension the app stores",
                other.chars().take(10).collect::<String>()
            )))
        }
    })
}

pub fn content_type(ext: &str) -> &'static str {
    match ext {
        "jpg" => "image/jpeg",
        "png" => "image/png",
        "tif" => "image/tiff",
        "bmp" => "image/bmp",
        "dcm" => "application/dicom",
        "csv" => "text/csv",
        "json" => "application/json",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

pub const FINDINGS_CSV: &str = "findings.csv";
/// The AI's rows with the clinician's decision on each (`source` column).
pub const REVIEWED_CSV: &str = "reviewed.csv";
/// Written last: its presence marks a complete set.
pub const ANALYSIS_JSON: &str = "analysis.json";
pub const DEBUG_DIR: &str = "debug";
/// The patient report of the approved analysis.
pub const REPORT_PDF: &str = "report.pdf";

/// `patients/{patient}/{analysis}/` (under the configured permanent prefix).
pub fn analysis_prefix(permanent_prefix: &str, patient: &OpaqueId, analysis: &OpaqueId) -> String {
    format!("{permanent_prefix}{patient}/{analysis}/")
}
