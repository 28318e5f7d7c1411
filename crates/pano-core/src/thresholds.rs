//! The score at or above which the clinician's view counts a finding as present, one per
//! finding kind. The UI sets them; an approval records the ones in force, because the
//! reviewed result ("confirmed", "added") only means something against them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::FindingKind;

/// The threshold of a kind nobody set.
pub const DEFAULT_THRESHOLD: f32 = 0.5;

/// Why a set of thresholds was refused.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ThresholdError {
    #[error("'{0}' is not a known finding")]
    UnknownFinding(String),
    #[error("the threshold {value} for {finding} is not a number in [0, 1]")]
    OutOfRange { finding: &'static str, value: f64 },
    #[error("the threshold for {0} is given twice")]
    Duplicate(&'static str),
    #[error("'{0}' is not KIND=VALUE (e.g. CARIES=0.4)")]
    NotAnAssignment(String),
}

/// Eight thresholds in [0, 1], one per [`FindingKind`]. Serialised as a map keyed by the CSV
/// finding names (`{"MISSING": 0.5, "CARIES": 0.35, ...}`); a kind missing from a map read
/// back has the default 0.5.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    by_kind: [f32; 8],
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            by_kind: [DEFAULT_THRESHOLD; 8],
        }
    }
}

impl Thresholds {
    /// From `(finding name in either spelling, value)` pairs; kinds not named keep 0.5.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, f64)>,
    ) -> Result<Self, ThresholdError> {
        let mut out = Self::default();
        let mut seen = [false; 8];
        for (name, value) in pairs {
            let kind: FindingKind = name
                .parse()
                .map_err(|_| ThresholdError::UnknownFinding(name.to_string()))?;
            if std::mem::replace(&mut seen[kind.ordinal()], true) {
                return Err(ThresholdError::Duplicate(kind.csv_name()));
            }
            out.set(kind, value)?;
        }
        Ok(out)
    }

    pub fn get(&self, kind: FindingKind) -> f32 {
        self.by_kind[kind.ordinal()]
    }

    pub fn set(&mut self, kind: FindingKind, value: f64) -> Result<(), ThresholdError> {
        if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
            return Err(ThresholdError::OutOfRange {
                finding: kind.csv_name(),
                value,
            });
        }
        self.by_kind[kind.ordinal()] = value as f32;
        Ok(())
    }

    /// Whether `score` of `kind` counts as found.
    pub fn is_found(&self, kind: FindingKind, score: f32) -> bool {
        score >= self.get(kind)
    }

    /// `KIND=VALUE` as a command line gives it (`CARIES=0.4`, `caries=0.4`).
    pub fn parse_assignment(text: &str) -> Result<(FindingKind, f64), ThresholdError> {
        let (kind, value) = text
            .split_once('=')
            .ok_or_else(|| ThresholdError::NotAnAssignment(text.to_string()))?;
        let kind = FindingKind::from_words(kind)
            .map_err(|_| ThresholdError::UnknownFinding(kind.trim().to_string()))?;
        let value: f64 = value
            .trim()
            .parse()
            .map_err(|_| ThresholdError::NotAnAssignment(text.to_string()))?;
        Ok((kind, value))
    }

    fn as_map(&self) -> BTreeMap<&'static str, f32> {
        FindingKind::ALL
            .into_iter()
            .map(|k| (k.csv_name(), self.get(k)))
            .collect()
    }
}

impl fmt::Display for Thresholds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = FindingKind::ALL
            .into_iter()
            .map(|k| format!("{}={}", k.csv_name(), self.get(k)))
            .collect();
        f.write_str(&parts.join(" "))
    }
}

impl Serialize for Thresholds {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.as_map().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Thresholds {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, f64>::deserialize(deserializer)?;
        Thresholds::from_pairs(map.iter().map(|(k, v)| (k.as_str(), *v)))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_one_half_and_the_map_uses_csv_names() {
        let t = Thresholds::default();
        assert!(FindingKind::ALL.iter().all(|&k| t.get(k) == 0.5));
        let json = serde_json::to_value(t).unwrap();
        assert_eq!(json.as_object().unwrap().len(), 8);
        assert_eq!(json["RESIDUAL_ROOT"], 0.5);
        assert_eq!(json["PERIAPICAL_RADIOLUCENCY"], 0.5);
    }

    #[test]
    fn a_map_round_trips_and_missing_kinds_keep_the_default() {
        let t: Thresholds = serde_json::from_str(r#"{"CARIES": 0.25, "ENDO": 1}"#).unwrap();
        assert_eq!(t.get(FindingKind::Caries), 0.25);
        assert_eq!(t.get(FindingKind::RootCanalFilling), 1.0);
        assert_eq!(t.get(FindingKind::Filling), 0.5);
        let back: Thresholds = serde_json::from_value(serde_json::to_value(t).unwrap()).unwrap();
        assert_eq!(back, t);
        assert!(t.is_found(FindingKind::Caries, 0.25));
        assert!(!t.is_found(FindingKind::Caries, 0.2499));
    }

    #[test]
    fn bad_maps_are_refused_with_the_reason() {
        for (json, wanted) in [
            (r#"{"CARIES": 1.5}"#, "not a number in [0, 1]"),
            (r#"{"CARIES": -0.1}"#, "not a number in [0, 1]"),
            (r#"{"TOOTH": 0.5}"#, "not a known finding"),
            (r#"{"ENDO": 0.5, "ROOT_CANAL_FILLING": 0.4}"#, "given twice"),
            (r#"{"CARIES": "high"}"#, "invalid type"),
        ] {
            let err = serde_json::from_str::<Thresholds>(json).unwrap_err();
            assert!(err.to_string().contains(wanted), "{json}: {err}");
        }
        assert!(matches!(
            Thresholds::default().set(FindingKind::Caries, f64::NAN),
            Err(ThresholdError::OutOfRange { .. })
        ));
    }

    #[test]
    fn command_line_assignments() {
        assert_eq!(
            Thresholds::parse_assignment("caries=0.4").unwrap(),
            (FindingKind::Caries, 0.4)
        );
        assert_eq!(
            Thresholds::parse_assignment("RESIDUAL_ROOT = 0.3").unwrap(),
            (FindingKind::ResidualRoot, 0.3)
        );
        assert!(matches!(
            Thresholds::parse_assignment("caries"),
            Err(ThresholdError::NotAnAssignment(_))
        ));
        assert!(matches!(
            Thresholds::parse_assignment("gum=0.3"),
            Err(ThresholdError::UnknownFinding(_))
        ));
    }
}
