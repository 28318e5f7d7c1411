use serde::{Deserialize, Serialize};

use crate::{CoreError, Fdi, FindingKind, ToothIndex, NUM_TEETH};

/// One score per finding kind and tooth.
pub const NUM_ENTRIES: usize = FindingKind::ALL.len() * NUM_TEETH;

/// One scored finding for one tooth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ToothFinding {
    pub fdi: Fdi,
    pub finding: FindingKind,
    pub score: f32,
}

/// The 256 scores of one radiograph: for each of the eight findings, for each tooth.
///
/// Construction validates, so an `Assessment` in hand always holds exactly one finite score
/// in [0, 1] for each (finding, tooth).
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Names the result in the CSV (`file_name`): the stem of the analysed image's file name.
    pub name: String,
    scores: [[f32; NUM_TEETH]; 8],
}

impl Assessment {
    /// Builds from scores laid out `[finding ordinal][tooth index - 1]`.
    pub fn from_scores(
        name: impl Into<String>,
        scores: [[f32; NUM_TEETH]; 8],
    ) -> Result<Self, CoreError> {
        for kind in FindingKind::ALL {
            for tooth in ToothIndex::all() {
                check_score(tooth.fdi(), kind, scores[kind.ordinal()][tooth.get() - 1])?;
            }
        }
        Ok(Self {
            name: name.into(),
            scores,
        })
    }

    /// Builds from untrusted findings in any order: exactly 256, no duplicate, valid scores.
    pub fn from_findings(
        name: impl Into<String>,
        findings: impl IntoIterator<Item = ToothFinding>,
    ) -> Result<Self, CoreError> {
        let mut scores = [[f32::NAN; NUM_TEETH]; 8];
        let mut count = 0usize;
        for f in findings {
            count += 1;
            check_score(f.fdi, f.finding, f.score)?;
            let slot = &mut scores[f.finding.ordinal()][f.fdi.index().get() - 1];
            if !slot.is_nan() {
                return Err(CoreError::DuplicateEntry {
                    fdi: f.fdi.to_string(),
                    finding: f.finding.to_string(),
                });
            }
            *slot = f.score;
        }
        if count != NUM_ENTRIES || scores.iter().flatten().any(|s| s.is_nan()) {
            return Err(CoreError::WrongEntryCount(count));
        }
        Ok(Self {
            name: name.into(),
            scores,
        })
    }

    pub fn score(&self, fdi: Fdi, finding: FindingKind) -> f32 {
        self.scores[finding.ordinal()][fdi.index().get() - 1]
    }

    /// All 256 entries in the reference's order: by finding, then tooth 11..48.
    pub fn findings(&self) -> impl Iterator<Item = ToothFinding> + '_ {
        FindingKind::ALL.into_iter().flat_map(move |finding| {
            ToothIndex::all().map(move |tooth| ToothFinding {
                fdi: tooth.fdi(),
                finding,
                score: self.scores[finding.ordinal()][tooth.get() - 1],
            })
        })
    }

    /// The highest-scoring finding of one tooth.
    pub fn strongest(&self, fdi: Fdi) -> ToothFinding {
        FindingKind::ALL
            .into_iter()
            .map(|finding| ToothFinding {
                fdi,
                finding,
                score: self.score(fdi, finding),
            })
            .fold(None::<ToothFinding>, |best, f| match best {
                Some(b) if b.score >= f.score => Some(b),
                _ => Some(f),
            })
            .expect("eight findings")
    }

    /// Largest absolute difference between two assessments' scores.
    pub fn max_abs_difference(&self, other: &Assessment) -> f32 {
        self.scores
            .iter()
            .flatten()
            .zip(other.scores.iter().flatten())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max)
    }
}

fn check_score(fdi: Fdi, finding: FindingKind, score: f32) -> Result<(), CoreError> {
    if score.is_finite() && (0.0..=1.0).contains(&score) {
        Ok(())
    } else {
        Err(CoreError::ScoreOutOfRange {
            fdi: fdi.to_string(),
            finding: finding.to_string(),
            score: score as f64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Assessment {
        let mut scores = [[0.0; NUM_TEETH]; 8];
        for (k, row) in scores.iter_mut().enumerate() {
            for (t, s) in row.iter_mut().enumerate() {
                *s = ((k * 32 + t) as f32) / 300.0;
            }
        }
        Assessment::from_scores("x", scores).unwrap()
    }

    #[test]
    fn findings_come_in_reference_order_and_round_trip() {
        let a = sample();
        let list: Vec<_> = a.findings().collect();
        assert_eq!(list.len(), 256);
        assert_eq!(list[0].fdi.number(), 11);
        assert_eq!(list[0].finding, FindingKind::Missing);
        assert_eq!(list[8].fdi.number(), 21);
        assert_eq!(list[31].fdi.number(), 48);
        assert_eq!(list[32].finding, FindingKind::Implant);
        let mut reversed = list.clone();
        reversed.reverse();
        assert_eq!(Assessment::from_findings("x", reversed).unwrap(), a);
    }

    #[test]
    fn untrusted_findings_are_checked() {
        let a = sample();
        let list: Vec<_> = a.findings().collect();
        assert_eq!(
            Assessment::from_findings("x", list[..255].to_vec()),
            Err(CoreError::WrongEntryCount(255))
        );
        let mut dup = list.clone();
        dup[1] = dup[0];
        assert!(matches!(
            Assessment::from_findings("x", dup),
            Err(CoreError::DuplicateEntry { .. })
        ));
        for bad in [f32::NAN, -0.01, 1.01, f32::INFINITY] {
            let mut l = list.clone();
            l[5].score = bad;
            assert!(matches!(
                Assessment::from_findings("x", l),
                Err(CoreError::ScoreOutOfRange { .. })
            ));
        }
    }

    #[test]
    fn strongest_finding_per_tooth() {
        let a = sample();
        let fdi = Fdi::new(11).unwrap();
        let best = a.strongest(fdi);
        assert_eq!(best.finding, FindingKind::PeriapicalRadiolucency);
    }
}
