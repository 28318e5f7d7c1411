use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// Teeth in the permanent dentition, and so classes 1..=32 of the segmentation model.
pub const NUM_TEETH: usize = 32;

/// A tooth as the models number it: 1..=32, quadrant by quadrant (1 = FDI 11, 32 = FDI 48).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ToothIndex(u8);

impl ToothIndex {
    pub fn new(index: u32) -> Result<Self, CoreError> {
        if (1..=NUM_TEETH as u32).contains(&index) {
            Ok(Self(index as u8))
        } else {
            Err(CoreError::ToothIndexOutOfRange(index))
        }
    }

    pub fn get(self) -> usize {
        self.0 as usize
    }

    /// All 32 teeth in the order the reference writes them (11..18, 21..28, 31..38, 41..48).
    pub fn all() -> impl Iterator<Item = ToothIndex> {
        (1..=NUM_TEETH as u8).map(ToothIndex)
    }

    pub fn fdi(self) -> Fdi {
        let i = self.0 - 1;
        Fdi((i / 8 + 1) * 10 + (i % 8 + 1))
    }
}

/// A two-digit FDI (ISO 3950) tooth number of the permanent dentition, 11..=48.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "FdiRepr", into = "String")]
pub struct Fdi(u8);

impl Fdi {
    pub fn new(number: u32) -> Result<Self, CoreError> {
        let (quadrant, tooth) = (number / 10, number % 10);
        if (1..=4).contains(&quadrant) && (1..=8).contains(&tooth) {
            Ok(Self(number as u8))
        } else {
            Err(CoreError::UnknownTooth(number.to_string()))
        }
    }

    pub fn number(self) -> u32 {
        self.0 as u32
    }

    pub fn index(self) -> ToothIndex {
        let (quadrant, tooth) = (self.0 / 10, self.0 % 10);
        ToothIndex((quadrant - 1) * 8 + tooth)
    }
}

impl fmt::Display for Fdi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Fdi {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        if trimmed.len() != 2 {
            return Err(CoreError::UnknownTooth(s.to_string()));
        }
        trimmed
            .parse::<u32>()
            .map_err(|_| CoreError::UnknownTooth(s.to_string()))
            .and_then(Fdi::new)
    }
}

impl From<Fdi> for String {
    fn from(fdi: Fdi) -> String {
        fdi.to_string()
    }
}

/// Workers write the FDI number as a string ("11"); some write it as a number (11).
#[derive(Deserialize)]
#[serde(untagged)]
enum FdiRepr {
    Text(String),
    Number(u32),
}

impl TryFrom<FdiRepr> for Fdi {
    type Error = CoreError;
    fn try_from(repr: FdiRepr) -> Result<Self, Self::Error> {
        match repr {
            FdiRepr::Text(s) => s.parse(),
            FdiRepr::Number(n) => Fdi::new(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_fdi_map_as_the_reference() {
        let pairs = [
            (1, 11),
            (8, 18),
            (9, 21),
            (16, 28),
            (17, 31),
            (25, 41),
            (32, 48),
        ];
        for (index, fdi) in pairs {
            let tooth = ToothIndex::new(index).unwrap();
            assert_eq!(tooth.fdi().number(), fdi);
            assert_eq!(Fdi::new(fdi).unwrap().index(), tooth);
        }
        assert_eq!(ToothIndex::all().count(), 32);
    }

    #[test]
    fn rejects_numbers_outside_the_permanent_dentition() {
        for bad in [0, 10, 19, 50, 55, 9, 110] {
            assert!(Fdi::new(bad).is_err(), "{bad}");
        }
        for bad in ["", "1", "111", "x1", "19", " 4 "] {
            assert!(bad.parse::<Fdi>().is_err(), "{bad:?}");
        }
        assert!(ToothIndex::new(0).is_err());
        assert!(ToothIndex::new(33).is_err());
    }

    #[test]
    fn json_accepts_text_and_numbers() {
        let a: Fdi = serde_json::from_str("\"36\"").unwrap();
        let b: Fdi = serde_json::from_str("36").unwrap();
        assert_eq!(a, b);
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"36\"");
        assert!(serde_json::from_str::<Fdi>("\"60\"").is_err());
    }
}
