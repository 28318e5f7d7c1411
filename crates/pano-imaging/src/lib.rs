//! Image import: file bytes -> 8-bit RGB with provenance.
//!
//! Every check that can be made from the header (format, dimensions) is made before any
//! pixel is decoded, so a decompression bomb costs a few bytes of reading, not gigabytes.

mod dicom;
mod dicom_patient;
mod dicom_study;
mod dicom_walk;
mod error;
mod import;
mod limits;

pub use dicom_patient::{dicom_patient, DicomPatient};
pub use dicom_study::{dicom_study, DicomStudy};
pub use error::ImportError;
pub use image::RgbImage;
pub use import::{
    import_bytes, import_file, quiet_decoder_panics, read_radiograph_file, ImportedImage,
    SourceFormat,
};
pub use limits::ImportLimits;
