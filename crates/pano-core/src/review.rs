//! The clinician's decision on one finding of one tooth, next to the AI's score.
//!
//! No decision means the AI's score stands (`ai` in the reviewed CSV's `source`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// What the clinician said about a (tooth, finding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The AI found it (at or above the threshold) and the clinician agrees.
    Confirmed,
    /// The clinician says it is not there.
    Rejected,
    /// The AI missed it (below the threshold) and the clinician adds it.
    Added,
}

impl Decision {
    pub const ALL: [Decision; 3] = [Decision::Confirmed, Decision::Rejected, Decision::Added];

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Confirmed => "confirmed",
            Decision::Rejected => "rejected",
            Decision::Added => "added",
        }
    }

    /// The reviewed CSV's `source` (and an audit row's before/after) for a decision or none.
    pub fn source_name(decision: Option<Decision>) -> &'static str {
        decision.map(Decision::as_str).unwrap_or(AI_SOURCE)
    }
}

/// `source` of a row the clinician left as the AI scored it.
pub const AI_SOURCE: &str = "ai";

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Decision {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Decision::ALL
            .into_iter()
            .find(|d| d.as_str() == wanted)
            .ok_or_else(|| CoreError::UnknownDecision(s.to_string()))
    }
}

/// A change to one (tooth, finding): record a decision, or clear it (back to the AI's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionUpdate {
    Set(Decision),
    Clear,
}

impl DecisionUpdate {
    /// The decision after the update (None: the AI's).
    pub fn decision(self) -> Option<Decision> {
        match self {
            DecisionUpdate::Set(d) => Some(d),
            DecisionUpdate::Clear => None,
        }
    }
}

impl FromStr for DecisionUpdate {
    type Err = CoreError;
    /// `confirmed`, `rejected`, `added` or `clear`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim() == "clear" {
            Ok(DecisionUpdate::Clear)
        } else {
            s.parse().map(DecisionUpdate::Set)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_parse_and_name_their_source() {
        for d in Decision::ALL {
            assert_eq!(d.as_str().parse::<Decision>().unwrap(), d);
            assert_eq!(
                serde_json::to_value(d).unwrap(),
                serde_json::json!(d.as_str())
            );
        }
        assert_eq!(Decision::source_name(None), "ai");
        assert_eq!(Decision::source_name(Some(Decision::Added)), "added");
        assert_eq!(
            "clear".parse::<DecisionUpdate>().unwrap(),
            DecisionUpdate::Clear
        );
        assert_eq!(
            "rejected".parse::<DecisionUpdate>().unwrap(),
            DecisionUpdate::Set(Decision::Rejected)
        );
        assert!(matches!(
            "ai".parse::<DecisionUpdate>(),
            Err(CoreError::UnknownDecision(_))
        ));
    }
}
