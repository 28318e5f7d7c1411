//! The clinician's side of a result: what a decision request must hold, a patient's date
//! of birth, and the patient suggested from data (never from the previous form).

use pano_core::{DecisionUpdate, Fdi, FindingKind};
use pano_store::{Patient, Store, StoreError};
use serde::Serialize;

use crate::ServiceError;

/// Longest note on a decision, in characters: a remark, not a report.
pub const MAX_NOTE_CHARS: usize = 2000;
/// Longest clinician name.
pub const MAX_NAME_CHARS: usize = 200;

/// A decision request as the UI sends it (`16`, `"CARIES"` or `"caries"`, `"confirmed"` /
/// `"rejected"` / `"added"` / `"clear"`), checked.
pub fn parse_decision_request(
    fdi: u32,
    finding: &str,
    decision: &str,
) -> Result<(Fdi, FindingKind, DecisionUpdate), ServiceError> {
    let invalid = |e: pano_core::CoreError| ServiceError::InvalidReview(e.to_string());
    Ok((
        Fdi::new(fdi).map_err(invalid)?,
        FindingKind::from_words(finding).map_err(invalid)?,
        decision.parse().map_err(invalid)?,
    ))
}

/// The clinician's name (trimmed, present, bounded) and the note (trimmed, empty = none,
/// bounded).
pub(crate) fn check_review_text<'a>(
    by: &'a str,
    note: Option<&'a str>,
) -> Result<(&'a str, Option<&'a str>), ServiceError> {
    let by = by.trim();
    if by.is_empty() {
        return Err(ServiceError::InvalidReview(
            "the reviewing clinician's name is missing".into(),
        ));
    }
    if by.chars().count() > MAX_NAME_CHARS {
        return Err(ServiceError::InvalidReview(format!(
            "the clinician's name is longer than {MAX_NAME_CHARS} characters"
        )));
    }
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(ServiceError::InvalidReview(format!(
            "the note is longer than {MAX_NOTE_CHARS} characters"
        )));
    }
    Ok((by, note))
}

/// A date of birth as `YYYY-MM-DD`: a real calendar date, from 1900 on, not after today.
/// "Today" is taken at the easternmost time zone (UTC+14), so that a child born today
/// anywhere can be entered on the day.
pub fn check_birth_date(text: &str) -> Result<String, ServiceError> {
    let text = text.trim();
    let bad = || ServiceError::InvalidBirthDate(text.chars().take(40).collect());
    let parts: Vec<&str> = text.split('-').collect();
    let well_formed = parts.len() == 3
        && [4, 2, 2]
            .iter()
            .zip(&parts)
            .all(|(len, p)| p.len() == *len && p.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        return Err(bad());
    }
    let (year, month, day): (u32, u32, u32) = (
        parts[0].parse().map_err(|_| bad())?,
        parts[1].parse().map_err(|_| bad())?,
        parts[2].parse().map_err(|_| bad())?,
    );
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    let latest = pano_store::in_future(std::time::Duration::from_secs(14 * 3600));
    // RFC 3339 text starts with the date, so the strings compare as dates.
    if year < 1900 || !(1..=days).contains(&day) || text > &latest[..10] {
        return Err(bad());
    }
    Ok(text.to_string())
}

/// Who the analysis probably shows, for the approval form to offer (never to fill in by
/// itself): from the data only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuggestedPatient {
    pub display_name: String,
    pub external_id: Option<String>,
    pub birth_date: Option<String>,
    /// A patient already in the database this suggestion is.
    pub existing_patient_id: Option<String>,
    pub source: SuggestionSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionSource {
    /// The input's DICOM header (Patient's Name, ID, Birth Date).
    Dicom,
    /// An earlier analysis of the same image bytes was approved for this patient.
    EarlierAnalysis,
    /// The practice-management system that launched Pano with the image named the patient.
    PracticeSystem,
}

/// The suggestion for analysis `id` of `image_sha256`: the patient the practice system named
/// when it launched Pano with the image (the clinic's own record, asked for just now), else
/// the patient an earlier approval of the same bytes went to (a clinician chose them), else
/// the DICOM header's patient. A named patient is linked to the stored patient whose external
/// id is the one named, when there is exactly one.
pub(crate) fn suggested_patient(
    store: &Store,
    id: &str,
    image_sha256: &str,
) -> Result<Option<SuggestedPatient>, StoreError> {
    if let Some(tags) = store.pms_patient_of(id)? {
        if let Some(s) = from_tags(store, tags, SuggestionSource::PracticeSystem)? {
            return Ok(Some(s));
        }
    }
    if let Some(earlier) = store.patient_approved_for_image(image_sha256, id)? {
        return Ok(Some(from_patient(earlier)));
    }
    let Some(tags) = store.dicom_patient_of(id)? else {
        return Ok(None);
    };
    from_tags(store, tags, SuggestionSource::Dicom)
}

fn from_tags(
    store: &Store,
    tags: pano_store::DicomPatientTags,
    source: SuggestionSource,
) -> Result<Option<SuggestedPatient>, StoreError> {
    let existing = match &tags.id {
        Some(external) => {
            let mut same: Vec<Patient> = store
                .search_patients(external, 3)?
                .into_iter()
                .filter(|p| p.external_id.as_deref() == Some(external.as_str()))
                .collect();
            if same.len() == 1 {
                same.pop()
            } else {
                None
            }
        }
        None => None,
    };
    // Linked to a stored patient: offer that patient as stored (the approval files under
    // them, so the form and its confirmation must show their name, not the one sent).
    if let Some(p) = existing {
        return Ok(Some(SuggestedPatient {
            display_name: p.display_name,
            external_id: p.external_id,
            birth_date: p.birth_date.or(tags.birth_date),
            existing_patient_id: Some(p.id),
            source,
        }));
    }
    // An id or a birth date alone is not a patient to offer.
    let Some(display_name) = tags.name else {
        return Ok(None);
    };
    Ok(Some(SuggestedPatient {
        display_name,
        external_id: tags.id,
        birth_date: tags.birth_date,
        existing_patient_id: None,
        source,
    }))
}

fn from_patient(p: Patient) -> SuggestedPatient {
    SuggestedPatient {
        display_name: p.display_name,
        external_id: p.external_id,
        birth_date: p.birth_date,
        existing_patient_id: Some(p.id),
        source: SuggestionSource::EarlierAnalysis,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_dates_are_real_past_dates() {
        assert_eq!(check_birth_date(" 1980-01-01 ").unwrap(), "1980-01-01");
        assert_eq!(check_birth_date("2000-02-29").unwrap(), "2000-02-29");
        let today = &pano_store::now_rfc3339()[..10];
        assert!(check_birth_date(today).is_ok());
        for bad in [
            "1900-02-29",
            "1980-13-01",
            "1980-04-31",
            "1980-1-01",
            "01.01.1980",
            "19800101",
            "",
            "1899-12-31",
            "2999-01-01",
            "1980-01-01T00:00",
        ] {
            assert_eq!(
                check_birth_date(bad).unwrap_err().code(),
                "invalid_birth_date",
                "{bad}"
            );
        }
    }

    #[test]
    fn review_requests_are_checked() {
        let (fdi, kind, update) = parse_decision_request(16, "caries", "confirmed").unwrap();
        assert_eq!(fdi.number(), 16);
        assert_eq!(kind, FindingKind::Caries);
        assert_eq!(update, DecisionUpdate::Set(pano_core::Decision::Confirmed));
        assert_eq!(
            parse_decision_request(16, "ROOT_REMNANTS", "clear")
                .unwrap()
                .1,
            FindingKind::ResidualRoot
        );
        for (fdi, finding, decision) in [
            (19, "CARIES", "added"),
            (16, "gum", "added"),
            (16, "CARIES", "maybe"),
        ] {
            assert_eq!(
                parse_decision_request(fdi, finding, decision)
                    .unwrap_err()
                    .code(),
                "invalid_review"
            );
        }
        assert_eq!(
            check_review_text(" Dr Bell ", Some("  ")).unwrap(),
            ("Dr Bell", None)
        );
        assert!(check_review_text("  ", None).is_err());
        let long = "x".repeat(MAX_NOTE_CHARS + 1);
        assert!(check_review_text("Dr Bell", Some(&long)).is_err());
    }
}

#[cfg(test)]
mod suggestion_tests {
    use super::*;
    use pano_core::{Assessment, Thresholds, NUM_TEETH};
    use pano_store::{
        ArtefactKind, BackendKind, CompletedAnalysis, DicomPatientTags, NewAnalysis, NewPatient,
    };

    fn add(store: &mut Store, id: &str, sha: &str, model: &str, tags: Option<DicomPatientTags>) {
        store
            .insert_analysis(&NewAnalysis {
                id: id.into(),
                job_id: format!("job-{id}"),
                image_sha256: sha.into(),
                input_bytes: 1,
                original_file_name: "x.dcm".into(),
                input_extension: "dcm".into(),
                width: 600,
                height: 300,
                backend: BackendKind::Local,
                requested_backend: "local".into(),
                model_version: model.into(),
                actor: "t".into(),
                dicom_patient: tags,
            })
            .unwrap();
        store
            .complete_analysis(
                id,
                &format!("job-{id}"),
                &CompletedAnalysis {
                    backend: BackendKind::Local,
                    endpoint: None,
                    model_version: model.into(),
                    execution_provider: None,
                    queue_ms: None,
                    run_ms: 1,
                    test_model: true,
                    assessment: Assessment::from_scores("x", [[0.5; NUM_TEETH]; 8]).unwrap(),
                    artefacts: vec![(ArtefactKind::Csv, "c".into(), 1)],
                },
            )
            .unwrap();
    }

    #[test]
    fn an_earlier_approval_wins_and_a_dicom_id_finds_the_stored_patient() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db")).unwrap();
        store
            .insert_patient(&NewPatient {
                id: "p1".into(),
                display_name: "Grace Hopper".into(),
                external_id: Some("PID-1".into()),
                birth_date: Some("1906-12-09".into()),
            })
            .unwrap();
        let tags = DicomPatientTags {
            name: Some("Hopper Grace".into()),
            id: Some("PID-1".into()),
            birth_date: Some("1906-12-09".into()),
        };
        add(&mut store, "a1", "bytes", "m1", None);
        add(&mut store, "a3", "other-bytes", "m1", Some(tags.clone()));
        let from_dicom = suggested_patient(&store, "a3", "other-bytes")
            .unwrap()
            .unwrap();
        assert_eq!(from_dicom.source, SuggestionSource::Dicom);
        // Linked to the stored patient: offered as stored, the name the approval files under.
        assert_eq!(from_dicom.display_name, "Grace Hopper");
        assert_eq!(from_dicom.existing_patient_id.as_deref(), Some("p1"));
        assert_eq!(suggested_patient(&store, "a1", "bytes").unwrap(), None);

        store
            .mark_approved("a1", "p1", "Dr Bell", &Thresholds::default(), "arch")
            .unwrap();
        add(&mut store, "a2", "bytes", "m2", Some(tags));
        let earlier = suggested_patient(&store, "a2", "bytes").unwrap().unwrap();
        assert_eq!(earlier.source, SuggestionSource::EarlierAnalysis);
        assert_eq!(earlier.display_name, "Grace Hopper");
        assert_eq!(earlier.existing_patient_id.as_deref(), Some("p1"));
        assert_eq!(earlier.birth_date.as_deref(), Some("1906-12-09"));
        assert_eq!(
            serde_json::to_value(&earlier).unwrap()["source"],
            "earlier_analysis"
        );
    }
}
