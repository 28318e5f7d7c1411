//! The patient report of an approved analysis, gathered from what this computer stores
//! (the approved thresholds, the clinician's decisions, the stored outlines and radiograph)
//! and drawn by `pano-report`.

use pano_core::Fdi;
use pano_report::{
    findings_in_force, outlines_in_force, Clinic, DecisionOn, Paper, PatientBlock, Radiograph,
    Report,
};
use pano_store::{AnalysisStatus, ArtefactKind};

use crate::service::Inner;
use crate::settings::ArchiveInput;
use crate::{AnalysisService, ServiceError};

/// The report's name in an approved set and the app's default file name.
pub const REPORT_FILE_NAME: &str = "report.pdf";

/// Which copy: the one asked for at the desk (names the patient), the one delivered to the
/// clinic's own systems by the queue (PACS, PMS folder: names the patient), or the one filed
/// with the approved set, which names the patient only when the clinic files originals (a
/// clinic that keeps de-identified sets gets a report that names no one). The queue's copies
/// go without a logo that cannot be read rather than hold up the filing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReportCopy {
    Named,
    Delivered,
    Filed,
}

impl AnalysisService {
    /// The patient report of an approved analysis as PDF bytes (`paper`: the settings'
    /// when `None`). Blocking: reads stored files and renders (~0.1 s).
    pub fn report_pdf(&self, id: &str, paper: Option<Paper>) -> Result<Vec<u8>, ServiceError> {
        let report = gather(&self.inner, id, paper, ReportCopy::Named)?;
        Ok(pano_report::render(&report)?)
    }

    /// Writes the report to a file, completely or not at all (temporary file, fsync,
    /// rename): a failed write never leaves half a PDF under the name asked for.
    pub fn report_to_file(
        &self,
        id: &str,
        paper: Option<Paper>,
        path: &std::path::Path,
    ) -> Result<(), ServiceError> {
        let pdf = self.report_pdf(id, paper)?;
        crate::durable::write_file(path, &pdf).map_err(|e| ServiceError::Read {
            path: path.display().to_string(),
            source: e,
        })
    }
}

/// Everything the report shows, read from the store.
pub(crate) fn gather(
    inner: &Inner,
    id: &str,
    paper: Option<Paper>,
    copy: ReportCopy,
) -> Result<Report, ServiceError> {
    let analysis = inner.db(|s| s.analysis(id))?;
    if analysis.status != AnalysisStatus::Approved {
        return Err(ServiceError::ReportNeedsApproval {
            status: analysis.status,
        });
    }
    let patient_id = analysis
        .patient_id
        .clone()
        .ok_or(ServiceError::MissingApprovalDetail("a patient"))?;
    let patient = inner.db(|s| s.patient(&patient_id))?;
    let artefacts = inner.db(|s| s.artefacts(id))?;
    let blob = |kind: ArtefactKind| -> Result<Option<Vec<u8>>, ServiceError> {
        match artefacts.iter().find(|(k, _, _)| *k == kind) {
            Some((_, sha, _)) => Ok(Some(inner.blobs.get(sha)?)),
            None => Ok(None),
        }
    };
    let input = blob(ArtefactKind::Input)?.ok_or(ServiceError::NoResult("input image"))?;
    let named = copy != ReportCopy::Filed || inner.settings.archive_input == ArchiveInput::Original;
    // The copy that names no one must not carry the clinic's JPEG as it is: its EXIF, XMP or
    // comment segments can name the patient. It gets the imported pixels, losslessly.
    let shown = if named {
        crate::display_image::display_image(input, &analysis.original_file_name)?.bytes
    } else {
        crate::deidentify::pixels_png(&input, &analysis.original_file_name)?
    };
    let csv = blob(ArtefactKind::Csv)?.ok_or(ServiceError::NoResult("CSV"))?;
    let assessment = std::str::from_utf8(&csv)
        .ok()
        .and_then(|text| pano_core::parse_csv(text).ok())
        .ok_or_else(|| ServiceError::CorruptArtefact("the stored CSV".into()))?;
    let decisions: Vec<DecisionOn> = inner
        .db(|s| s.decisions_of(id))?
        .into_iter()
        .filter_map(|d| Some((Fdi::new(d.fdi as u32).ok()?, d.finding, d.decision)))
        .collect();
    let thresholds = analysis.approved_thresholds.unwrap_or_default();
    let findings = findings_in_force(&assessment, &thresholds, &decisions);
    let outlines = match blob(ArtefactKind::Geometry)? {
        Some(bytes) => {
            let geometry = pano_core::AnalysisGeometry::from_untrusted_json(
                &bytes,
                analysis.width,
                analysis.height,
            )
            .map_err(|e| ServiceError::CorruptArtefact(format!("the stored outlines: {e}")))?;
            outlines_in_force(&geometry, &thresholds, &findings, &decisions)
        }
        None => Vec::new(),
    };
    let settings = &inner.settings.report;
    // A logo that cannot be read is an error for the report someone asked for, but the
    // filed copy goes without it rather than hold up the filing of an approval.
    let logo = match (&settings.logo, copy) {
        (Some(path), ReportCopy::Named) => Some(std::fs::read(path).map_err(|e| {
            ServiceError::Settings(format!("the report's logo {}: {e}", path.display()))
        })?),
        (Some(path), ReportCopy::Filed | ReportCopy::Delivered) => std::fs::read(path)
            .ok()
            .filter(|bytes| pano_report::logo_is_usable(bytes)),
        (None, _) => None,
    };
    let patient = if named {
        PatientBlock::Named {
            name: patient.display_name,
            birth_date: patient.birth_date,
            external_id: patient.external_id,
        }
    } else {
        PatientBlock::Withheld
    };
    Ok(Report {
        paper: paper.unwrap_or(settings.paper.paper()),
        clinic: Clinic {
            name: settings.clinic_name.trim().to_string(),
            address: settings
                .clinic_address
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
            logo,
        },
        patient,
        clinician: analysis.approved_by.clone().unwrap_or_default(),
        approved_on: date_of(analysis.approved_at.as_deref().unwrap_or_default()),
        analysed_on: date_of(&analysis.created_at),
        model_version: analysis.model_version.clone(),
        test_models: analysis.test_model,
        radiograph: Radiograph {
            bytes: shown,
            width: analysis.width,
            height: analysis.height,
        },
        findings,
        outlines,
    })
}

/// `YYYY-MM-DD` of an RFC 3339 time (UTC, as stored).
fn date_of(rfc3339: &str) -> String {
    rfc3339.get(..10).unwrap_or(rfc3339).to_string()
}
