//! The patient a DICOM file names (PS3.3 C.7.1.1, Patient Module): name, id and birth date.
//!
//! The desktop keeps them in its own database to suggest the patient when the clinician
//! files the analysis; they never leave this computer (the cloud gets de-identified pixels).

use dicom_dictionary_std::tags;

use crate::dicom::{is_dicom, open_checked, text_attr};

/// What a DICOM header says about its patient; each part only when present and usable.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DicomPatient {
    /// Patient's Name with its `^` component separators as spaces (`Doe^Jane` -> `Doe Jane`).
    pub name: Option<String>,
    pub id: Option<String>,
    /// Patient's Birth Date as `YYYY-MM-DD`, only when the header holds a real calendar date.
    pub birth_date: Option<String>,
}

impl DicomPatient {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.id.is_none() && self.birth_date.is_none()
    }
}

/// The patient named by a DICOM file's header; None for other formats, for a file the
/// importer would refuse, and for a header that names no patient.
pub fn dicom_patient(bytes: &[u8]) -> Option<DicomPatient> {
    if !is_dicom(bytes) {
        return None;
    }
    let obj = open_checked(bytes).ok()?;
    let patient = DicomPatient {
        name: text_attr(&obj, tags::PATIENT_NAME).and_then(|n| person_name(&n)),
        id: text_attr(&obj, tags::PATIENT_ID).filter(|id| !id.is_empty()),
        birth_date: text_attr(&obj, tags::PATIENT_BIRTH_DATE).and_then(|d| iso_date(&d)),
    };
    (!patient.is_empty()).then_some(patient)
}

/// A PN value for people: its alphabetic group (before any `=` ideographic or phonetic
/// group), components joined by single spaces.
fn person_name(value: &str) -> Option<String> {
    let alphabetic = value.split('=').next().unwrap_or("");
    let words: Vec<&str> = alphabetic
        .split(['^', ' '])
        .filter(|w| !w.is_empty())
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// A DA value (`YYYYMMDD`) as `YYYY-MM-DD` when it is a real calendar date.
fn iso_date(value: &str) -> Option<String> {
    let digits = value.trim();
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: u32 = digits[..4].parse().ok()?;
    let month: u32 = digits[4..6].parse().ok()?;
    let day: u32 = digits[6..].parse().ok()?;
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    ((1..=days_in_month).contains(&day) && year >= 1800)
        .then(|| format!("{year:04}-{month:02}-{day:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_separators() {
        assert_eq!(person_name("Doe^Jane").as_deref(), Some("Doe Jane"));
        assert_eq!(
            person_name(" Doe^Jane^^Dr^ =ドウ^ジェーン").as_deref(),
            Some("Doe Jane Dr")
        );
        assert_eq!(person_name("^^^"), None);
        assert_eq!(person_name(""), None);
    }

    #[test]
    fn only_real_dates_become_birth_dates() {
        assert_eq!(iso_date("19800101").as_deref(), Some("1980-01-01"));
        assert_eq!(iso_date("20000229").as_deref(), Some("2000-02-29"));
        for bad in [
            "19000229",
            "19801301",
            "19800132",
            "1980-01-01",
            "1980",
            "",
            "17991231",
        ] {
            assert_eq!(iso_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn other_formats_name_no_one() {
        assert_eq!(dicom_patient(b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(dicom_patient(&[0u8; 200]), None);
    }
}
