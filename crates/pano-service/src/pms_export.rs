//! The folder export for practice-management systems that import images from a folder: for
//! each approved analysis, the patient report and the annotated radiograph, named after the
//! patient's number in the PMS (its external id) and the approval time:
//! `<patient number>_<YYYYMMDD>_<HHMMSS>_<analysis>_report.pdf` and `..._panoramic.jpg`.
//!
//! Written by the archive job after the set is filed, before the approval counts as filed:
//! a share that is not mounted makes the job wait and try again, like the archive itself.

use std::path::{Path, PathBuf};

use crate::report::{gather, ReportCopy};
use crate::service::Inner;
use crate::ServiceError;

/// A file name part from free text: letters, digits, `-` and `.` kept, the rest `_`.
fn name_part(text: &str) -> String {
    let cleaned: String = text
        .trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    cleaned.trim_matches(['_', '.']).chars().take(64).collect()
}

/// What to write: the report and the file names' stem. Reads the store only.
pub(crate) struct PmsExport {
    report: pano_report::Report,
    stem: String,
    folder: PathBuf,
}

/// Gathers the export of an approved analysis into `folder`.
pub(crate) fn prepare(inner: &Inner, id: &str, folder: &Path) -> Result<PmsExport, ServiceError> {
    // A folder that is not there is a share that is not mounted: wait, never create it here.
    if !folder.is_dir() {
        return Err(ServiceError::Read {
            path: folder.display().to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the export folder for the practice system is not there (is the share mounted?)",
            ),
        });
    }
    let analysis = inner.db(|s| s.analysis(id))?;
    let patient_id = analysis
        .patient_id
        .clone()
        .ok_or(ServiceError::MissingApprovalDetail("a patient"))?;
    let patient = inner.db(|s| s.patient(&patient_id))?;
    let who = patient
        .external_id
        .as_deref()
        .map(name_part)
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| name_part(&patient.display_name));
    let at: String = analysis
        .approved_at
        .as_deref()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect();
    let stem = format!(
        "{who}_{}_{}",
        at.get(..8).unwrap_or(""),
        at.get(8..).unwrap_or("")
    );
    let report = gather(inner, id, None, ReportCopy::Delivered)?;
    Ok(PmsExport {
        report,
        stem,
        folder: folder.to_path_buf(),
    })
}

/// Renders and writes the two files (blocking: a fraction of a second); returns their paths.
pub(crate) fn write(export: PmsExport) -> Result<Vec<PathBuf>, ServiceError> {
    let PmsExport {
        report,
        stem,
        folder,
    } = export;
    let pdf = pano_report::render(&report)?;
    let jpeg = pano_report::annotated_jpeg(&report)?;
    let mut written = Vec::new();
    for (suffix, bytes) in [("report.pdf", pdf), ("panoramic.jpg", jpeg)] {
        let path = folder.join(format!("{stem}_{suffix}"));
        crate::durable::write_file(&path, &bytes).map_err(|e| ServiceError::Read {
            path: path.display().to_string(),
            source: e,
        })?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_file_name_parts() {
        assert_eq!(name_part(" 1234 "), "1234");
        assert_eq!(name_part("../../etc/passwd"), "etc_passwd");
        assert_eq!(name_part("Zoë Ångström"), "Zoë_Ångström");
        assert_eq!(name_part("a/b\\c:d"), "a_b_c_d");
    }
}
