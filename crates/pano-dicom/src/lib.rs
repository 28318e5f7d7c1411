//! DICOM out: what an approved analysis becomes for the clinic's PACS (a Secondary Capture
//! of the annotated radiograph, an Encapsulated PDF of the patient report), and the two
//! ways to send it (DICOMweb STOW-RS, DIMSE C-STORE; C-ECHO and a QIDO query to test).
//!
//! It knows nothing of the store, the settings file or the app: the service hands it the
//! values and the pixels, and decides when to send.

mod dicomweb;
mod dimse;
mod objects;
mod uid;

pub use dicomweb::{DicomWebClient, PacsStudy, StowReceipt, StudyQuery};
pub use dimse::DimsePeer;
pub use objects::{
    dicom_person_name, encapsulated_pdf, new_study, secondary_capture, Derivation, DicomFile,
    StudyContext, ENCAPSULATED_PDF, SECONDARY_CAPTURE,
};
pub use uid::{derived_uid, is_valid_uid};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DicomError {
    #[error("PACS settings: {0}")]
    Settings(String),
    #[error("{0}")]
    Unreachable(String),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    BadAnswer(String),
    #[error("the DICOM object could not be made: {0}")]
    Encode(String),
}

impl DicomError {
    pub fn code(&self) -> &'static str {
        match self {
            DicomError::Settings(_) => "pacs_settings",
            DicomError::Unreachable(_) => "pacs_unreachable",
            DicomError::Refused(_) => "pacs_refused",
            DicomError::BadAnswer(_) => "pacs_bad_answer",
            DicomError::Encode(_) => "dicom_encode",
        }
    }

    /// Worth trying again later (the PACS is down or did not answer).
    pub fn is_transient(&self) -> bool {
        matches!(self, DicomError::Unreachable(_))
    }
}
