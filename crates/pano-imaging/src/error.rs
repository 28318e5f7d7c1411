use thiserror::Error;

/// Why a file could not become a radiograph to analyse.
#[derive(Debug, Error)]
pub enum ImportError {
    #[error("could not read '{path}': {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("'{path}' is not a regular file ({kind}); choose an image file")]
    NotRegularFile { path: String, kind: &'static str },
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {limit_mb} MB")]
    FileTooLarge { limit_mb: u64 },
    #[error("not a supported image format (JPEG, PNG, TIFF, BMP or DICOM)")]
    UnsupportedFormat,
    #[error(
        "the {format} image is {width}x{height} pixels, over the limit of {limit_mp} megapixels"
    )]
    TooManyPixels {
        format: &'static str,
        width: u32,
        height: u32,
        limit_mp: u64,
    },
    #[error("the image is {width}x{height} pixels, too small for a panoramic radiograph (at least {min_long}x{min_short})")]
    TooSmall {
        width: u32,
        height: u32,
        min_long: u32,
        min_short: u32,
    },
    #[error("the {format} file is damaged or incomplete: {detail}")]
    Corrupt {
        format: &'static str,
        detail: String,
    },
    #[error("this {format} variant is not supported: {detail}")]
    UnsupportedVariant {
        format: &'static str,
        detail: String,
    },
    /// A DICOM element, item or pixel-data fragment declares more bytes than the file (or the
    /// item that holds it) has left: found by walking the headers before dicom-rs reads a value.
    #[error("this DICOM file is damaged: {what} ({group:04X},{element:04X}) claims {claimed} bytes but only {remaining} remain")]
    DicomLengthOverrun {
        /// "element", "item" or "pixel data fragment".
        what: &'static str,
        group: u16,
        element: u16,
        claimed: u64,
        remaining: u64,
    },
    #[error("multi-frame DICOM is not supported (this file holds {frames} frames); export a single panoramic image")]
    DicomMultiFrame { frames: u32 },
}

impl ImportError {
    /// A stable code for the UI and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Read { .. } => "file_unreadable",
            ImportError::NotRegularFile { .. } => "file_not_regular",
            ImportError::Empty => "image_empty",
            ImportError::FileTooLarge { .. } => "image_file_too_large",
            ImportError::UnsupportedFormat => "image_unsupported_format",
            ImportError::TooManyPixels { .. } => "image_too_many_pixels",
            ImportError::TooSmall { .. } => "image_too_small",
            ImportError::Corrupt { .. } => "image_corrupt",
            ImportError::UnsupportedVariant { .. } => "image_unsupported_variant",
            ImportError::DicomLengthOverrun { .. } => "image_dicom_damaged",
            ImportError::DicomMultiFrame { .. } => "image_dicom_multiframe",
        }
    }
}
