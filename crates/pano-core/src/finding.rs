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
}
