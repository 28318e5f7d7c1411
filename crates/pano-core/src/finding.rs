use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// The eight findings scored for every tooth, in the reference's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum FindingKind {
    Missing,
    Implant,
    ResidualRoot,
    CrownBridge,
    RootCanalFilling,
    Filling,
    Caries,
    PeriapicalRadiolucency,
}

impl FindingKind {
    pub const ALL: [FindingKind; 8] = [
        FindingKind::Missing,
        FindingKind::Implant,
        FindingKind::ResidualRoot,
        FindingKind::CrownBridge,
        FindingKind::RootCanalFilling,
        FindingKind::Filling,
        FindingKind::Caries,
        FindingKind::PeriapicalRadiolucency,
    ];

    /// Position in [`FindingKind::ALL`] and in an assessment's rows.
    pub fn ordinal(self) -> usize {
        self as usize
    }

    /// The name the reference writes into its CSV.
    pub fn csv_name(self) -> &'static str {
        match self {
            FindingKind::Missing => "MISSING",
            FindingKind::Implant => "IMPLANT",
            FindingKind::ResidualRoot => "RESIDUAL_ROOT",
            FindingKind::CrownBridge => "CROWN_BRIDGE",
            FindingKind::RootCanalFilling => "ROOT_CANAL_FILLING",
            FindingKind::Filling => "FILLING",
            FindingKind::Caries => "CARIES",
            FindingKind::PeriapicalRadiolucency => "PERIAPICAL_RADIOLUCENCY",
        }
    }

    /// The detection model's class name for this finding; `None` for MISSING, which is
    /// derived from the TOOTH classes.
    pub fn model_class(self) -> Option<&'static str> {
        match self {
            FindingKind::Missing => None,
            FindingKind::Implant => Some("IMPLANT"),
            FindingKind::ResidualRoot => Some("ROOT_REMNANTS"),
            FindingKind::CrownBridge => Some("CROWN_BRIDGE"),
            FindingKind::RootCanalFilling => Some("ENDO"),
            FindingKind::Filling => Some("FILLING"),
            FindingKind::Caries => Some("CARIES"),
            FindingKind::PeriapicalRadiolucency => Some("PERIAPICAL_RADIOLUCENT"),
        }
    }

    /// Words a clinician reads.
    pub fn label(self) -> &'static str {
        match self {
            FindingKind::Missing => "missing",
            FindingKind::Implant => "implant",
            FindingKind::ResidualRoot => "residual root",
            FindingKind::CrownBridge => "crown/bridge",
            FindingKind::RootCanalFilling => "root canal filling",
            FindingKind::Filling => "filling",
            FindingKind::Caries => "caries",
            FindingKind::PeriapicalRadiolucency => "periapical radiolucency",
        }
    }

    /// A kind as a person types it: the CSV or model name in any case, or the words of
    /// [`FindingKind::label`] (`residual root`, `root-canal filling`, `crown bridge`).
    /// Untrusted files go through [`FromStr`], which takes the exact names only.
    pub fn from_words(text: &str) -> Result<Self, CoreError> {
        let simplified = |s: &str| -> String {
            s.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect()
        };
        let wanted = simplified(text);
        FindingKind::ALL
            .into_iter()
            .find(|kind| {
                [
                    Some(kind.csv_name()),
                    kind.model_class(),
                    Some(kind.label()),
                ]
                .into_iter()
                .flatten()
                .any(|name| simplified(name) == wanted)
            })
            .filter(|_| !wanted.is_empty())
            .ok_or_else(|| CoreError::UnknownFinding(text.to_string()))
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.csv_name())
    }
}

impl FromStr for FindingKind {
    type Err = CoreError;
    /// Accepts the CSV name and the model class name: deployed workers use both.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        FindingKind::ALL
            .into_iter()
            .find(|kind| kind.csv_name() == wanted || kind.model_class() == Some(wanted))
            .ok_or_else(|| CoreError::UnknownFinding(s.to_string()))
    }
}

impl TryFrom<String> for FindingKind {
    type Error = CoreError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<FindingKind> for String {
    fn from(kind: FindingKind) -> String {
        kind.csv_name().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_parse_to_the_same_kind() {
        assert_eq!(
            "ROOT_REMNANTS".parse::<FindingKind>().unwrap(),
            FindingKind::ResidualRoot
        );
        assert_eq!(
            "RESIDUAL_ROOT".parse::<FindingKind>().unwrap(),
            FindingKind::ResidualRoot
        );
        assert_eq!(
            "ENDO".parse::<FindingKind>().unwrap(),
            FindingKind::RootCanalFilling
        );
        assert_eq!(
            "PERIAPICAL_RADIOLUCENT".parse::<FindingKind>().unwrap(),
            FindingKind::PeriapicalRadiolucency
        );
        for kind in FindingKind::ALL {
            assert_eq!(kind.csv_name().parse::<FindingKind>().unwrap(), kind);
            assert_eq!(FindingKind::ALL[kind.ordinal()], kind);
        }
        assert!("TOOTH_11".parse::<FindingKind>().is_err());
        assert!("missing".parse::<FindingKind>().is_err());
    }

    #[test]
    fn people_may_type_words_in_any_case() {
        for (text, kind) in [
            ("missing", FindingKind::Missing),
            ("Residual root", FindingKind::ResidualRoot),
            ("root_remnants", FindingKind::ResidualRoot),
            ("root-canal filling", FindingKind::RootCanalFilling),
            ("endo", FindingKind::RootCanalFilling),
            ("crown/bridge", FindingKind::CrownBridge),
            ("crown bridge", FindingKind::CrownBridge),
            (
                "PERIAPICAL_RADIOLUCENCY",
                FindingKind::PeriapicalRadiolucency,
            ),
        ] {
            assert_eq!(FindingKind::from_words(text).unwrap(), kind, "{text}");
        }
        for text in ["", "  ", "tooth", "cari"] {
            assert!(FindingKind::from_words(text).is_err(), "{text}");
        }
    }
}
