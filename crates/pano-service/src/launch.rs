//! The command line a practice-management system (PMS) starts Pano with: imaging "program
//! links" (Open Dental, Dentrix, ...) pass the patient's number, names and birth date as
//! arguments, optionally with image files:
//!
//! `pano-desktop --patient-id 1234 --first Ada --last Lovelace --birthdate 19841209 scan.jpg`
//!
//! Parsing only: the app queues the files with the patient attached, and the decision form
//! starts with that patient filled in (the clinician still confirms before anything is filed).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::review::check_birth_date;

/// The patient a PMS named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PmsPatient {
    /// The PMS's own patient number (stored as the patient's external id).
    pub external_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
}

impl PmsPatient {
    /// "First Last", or `None` when the PMS sent no name.
    pub fn display_name(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.first_name, &self.last_name]
            .into_iter()
            .flatten()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// What a launch asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchRequest {
    pub patient: Option<PmsPatient>,
    pub files: Vec<PathBuf>,
}

/// Why a launch's arguments cannot be used; the message says how to fix the program link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LaunchError(pub String);

const PATIENT_OPTIONS: [&str; 4] = ["--patient-id", "--first", "--last", "--birthdate"];

/// Parses a launch's arguments (without the program's own name). Options take their value
/// as the next argument or after `=`; other arguments starting with `-` (options a desktop
/// or a platform adds) are ignored; everything else is a file.
pub fn parse_launch(args: &[String]) -> Result<LaunchRequest, LaunchError> {
    let mut values: [Option<String>; 4] = Default::default();
    let mut files = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        if let Some(slot) = PATIENT_OPTIONS.iter().position(|o| *o == name) {
            let value = match inline {
                Some(v) => v,
                None => {
                    i += 1;
                    // An empty field the PMS did not quote leaves the next option here.
                    args.get(i)
                        .filter(|v| !v.starts_with("--"))
                        .cloned()
                        .ok_or_else(|| {
                            LaunchError(format!(
                                "{name} was given without a value (the practice system sent an \
                                 empty field: quote every token in the program link, e.g. \
                                 {name} \"[FName]\")"
                            ))
                        })?
                }
            };
            values[slot] = Some(value.trim().to_string()).filter(|v| !v.is_empty());
        } else if !arg.starts_with('-') {
            files.push(PathBuf::from(arg));
        }
        i += 1;
    }
    let [id, first, last, birth] = values;
    let patient = match id {
        Some(external_id) => Some(PmsPatient {
            external_id,
            first_name: first,
            last_name: last,
            birth_date: birth.as_deref().map(pms_birth_date).transpose()?,
        }),
        None if first.is_some() || last.is_some() || birth.is_some() => {
            return Err(LaunchError(
                "the practice system sent a patient without its patient number: add \
                 --patient-id [PatNum] to the program link"
                    .into(),
            ))
        }
        None => None,
    };
    Ok(LaunchRequest { patient, files })
}

/// A birth date as PMSs send it: `YYYY-MM-DD` or `YYYYMMDD` (Open Dental's
/// `[Birthdate_yyyyMMdd]`). Dates in a locale's order (`03/09/1984`) are refused rather
/// than guessed: day and month cannot be told apart.
fn pms_birth_date(text: &str) -> Result<String, LaunchError> {
    let t = text.trim();
    let iso = if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}-{}", &t[..4], &t[4..6], &t[6..])
    } else {
        t.to_string()
    };
    check_birth_date(&iso).map_err(|_| {
        LaunchError(format!(
            "'{text}' is not a birth date Pano can read without guessing: the practice system \
             must send YYYYMMDD or YYYY-MM-DD (in Open Dental's program link, use \
             [Birthdate_yyyyMMdd])"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_open_dental_program_link_names_the_patient_and_the_files() {
        let got = parse_launch(&args(&[
            "--patient-id",
            "1234",
            "--first=Zoë",
            "--last",
            "Ångström Núñez",
            "--birthdate",
            "19840309",
            "scan one.jpg",
            "-psn_0_12345",
            "/tmp/b.dcm",
        ]))
        .unwrap();
        let patient = got.patient.unwrap();
        assert_eq!(patient.external_id, "1234");
        assert_eq!(patient.display_name().unwrap(), "Zoë Ångström Núñez");
        assert_eq!(patient.birth_date.as_deref(), Some("1984-03-09"));
        assert_eq!(
            got.files,
            [PathBuf::from("scan one.jpg"), PathBuf::from("/tmp/b.dcm")]
        );
        // Files alone ("Open with") still work.
        let plain = parse_launch(&args(&["a.jpg"])).unwrap();
        assert_eq!(plain.patient, None);
        assert_eq!(plain.files, [PathBuf::from("a.jpg")]);
        let id_only = parse_launch(&args(&["--patient-id", "77"])).unwrap();
        assert_eq!(id_only.patient.unwrap().display_name(), None);
    }

    #[test]
    fn unclear_arguments_say_how_to_fix_the_program_link() {
        let err =
            parse_launch(&args(&["--patient-id", "1", "--birthdate", "03/09/1984"])).unwrap_err();
        assert!(err.0.contains("'03/09/1984'") && err.0.contains("[Birthdate_yyyyMMdd]"));
        for bad in ["19841399", "2999-01-01", "1984-3-9"] {
            assert!(
                parse_launch(&args(&["--patient-id", "1", "--birthdate", bad])).is_err(),
                "{bad}"
            );
        }
        let err = parse_launch(&args(&["--first", "Ada", "--last", "Lovelace"])).unwrap_err();
        assert!(err.0.contains("--patient-id [PatNum]"));
        let err = parse_launch(&args(&["--patient-id"])).unwrap_err();
        assert!(err.0.contains("without a value"));
        // An unquoted empty first name must not shift the last name into a file.
        let err = parse_launch(&args(&[
            "--patient-id",
            "1",
            "--first",
            "--last",
            "Lovelace",
        ]))
        .unwrap_err();
        assert!(
            err.0.starts_with("--first was given without a value"),
            "{}",
            err.0
        );
    }
}
