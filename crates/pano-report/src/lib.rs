//! The patient report: an approved analysis as a PDF for the patient's file and the
//! patient. It shows the radiograph with the findings in force outlined, the tooth chart,
//! the findings per tooth in plain words (confirmed and added ones marked as such, rejected
//! ones left out), the clinic's letterhead, the patient, the clinician and the models, and on
//! every page that AI findings support the dentist and do not replace them.
//!
//! It knows nothing of storage, settings or the app: the service gathers a [`Report`] and
//! this crate turns it into bytes.

mod annotated;
mod content;
mod draw;
mod layout;
mod style;
mod teeth;
mod text;

pub use annotated::{annotated_jpeg, annotated_radiograph};
pub use content::{
    findings_in_force, outlines_in_force, percent, Clinic, DecisionOn, Origin, Paper, PatientBlock,
    Radiograph, Report, ReportedFinding, ReportedOutline,
};
pub use layout::{DECISION_SUPPORT_NOTICE, TEST_MODEL_NOTICE};
pub use teeth::tooth_name;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the report's embedded font could not be read")]
    Font,
    #[error("the radiograph cannot be put in the report: {0}")]
    Radiograph(String),
    #[error("the clinic's logo is not a PNG or JPEG that can be read: {0}")]
    Logo(String),
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}

impl ReportError {
    /// A stable code for the app.
    pub fn code(&self) -> &'static str {
        match self {
            ReportError::Font => "report_font",
            ReportError::Radiograph(_) => "report_radiograph",
            ReportError::Logo(_) => "report_logo",
            ReportError::Pdf(_) => "report_pdf",
        }
    }
}

/// Whether a logo file is a PNG or JPEG the report can embed.
pub fn logo_is_usable(bytes: &[u8]) -> bool {
    draw::embeddable_image(bytes).is_ok()
}

/// The report as PDF bytes.
pub fn render(report: &Report) -> Result<Vec<u8>, ReportError> {
    let fonts = text::Fonts::load()?;
    let (radiograph, size) =
        draw::embeddable_image(&report.radiograph.bytes).map_err(ReportError::Radiograph)?;
    if size != (report.radiograph.width, report.radiograph.height) {
        return Err(ReportError::Radiograph(format!(
            "the image is {}x{} pixels, the analysis {}x{}",
            size.0, size.1, report.radiograph.width, report.radiograph.height
        )));
    }
    let logo = match &report.clinic.logo {
        Some(bytes) => Some(draw::embeddable_image(bytes).map_err(ReportError::Logo)?),
        None => None,
    };
    let pages = layout::lay_out(report, &fonts, logo.as_ref().map(|(_, size)| *size));
    let title = match &report.patient {
        PatientBlock::Named { name, .. } => format!("Panoramic radiograph report: {name}"),
        PatientBlock::Withheld => "Panoramic radiograph report".to_string(),
    };
    let assets = draw::Assets {
        fonts: &fonts,
        radiograph,
        logo: logo.map(|(image, _)| image),
        title,
    };
    draw::draw(&pages, report.paper.size_pt(), &assets)
}
