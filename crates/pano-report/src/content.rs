//! What a report says, decided before anything is drawn: the findings in force (the AI's at
//! the approved thresholds, as the clinician left them) and the outlines that go with them.

use pano_core::{AnalysisGeometry, Assessment, Decision, Fdi, FindingKind, Ring, Thresholds};

/// Paper sizes a clinic prints on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paper {
    #[default]
    A4,
    Letter,
}

impl Paper {
    /// Width and height in PDF points (1/72 inch).
    pub fn size_pt(self) -> (f32, f32) {
        match self {
            Paper::A4 => (595.28, 841.89),
            Paper::Letter => (612.0, 792.0),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Paper::A4 => "a4",
            Paper::Letter => "letter",
        }
    }

    /// `a4` or `letter`, in any case.
    pub fn parse(text: &str) -> Option<Paper> {
        match text.trim().to_ascii_lowercase().as_str() {
            "a4" => Some(Paper::A4),
            "letter" | "us-letter" => Some(Paper::Letter),
            _ => None,
        }
    }
}

/// The clinic's letterhead.
#[derive(Debug, Clone, Default)]
pub struct Clinic {
    pub name: String,
    pub address: Vec<String>,
    /// A PNG or JPEG; drawn at most 48 pt high.
    pub logo: Option<Vec<u8>>,
}

/// Who the report is about.
#[derive(Debug, Clone)]
pub enum PatientBlock {
    Named {
        name: String,
        /// `YYYY-MM-DD`.
        birth_date: Option<String>,
        /// The clinic's own number for the patient (PMS id).
        external_id: Option<String>,
    },
    /// The copy filed where the clinic keeps de-identified sets: the patient is named only
    /// on this computer.
    Withheld,
}

/// The radiograph as stored: a JPEG is embedded as it is (no re-compression), anything else
/// as a lossless PNG.
#[derive(Debug, Clone)]
pub struct Radiograph {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Where a finding in the report comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Origin {
    /// The AI's, at or above the threshold, not reviewed.
    Ai { score: f32 },
    /// The AI's, confirmed by the clinician.
    Confirmed { score: f32 },
    /// Added by the clinician (the AI's score was below the threshold).
    Added,
}

impl Origin {
    /// How a patient reads it.
    pub fn words(self) -> String {
        match self {
            Origin::Ai { score } => format!("found by the AI ({}%)", percent(score)),
            Origin::Confirmed { score } => {
                format!("confirmed by the dentist (AI {}%)", percent(score))
            }
            Origin::Added => "added by the dentist".to_string(),
        }
    }
}

/// A score in [0, 1] as a whole percentage, never 100 % for a score under 1.
pub fn percent(score: f32) -> u32 {
    let p = (score.clamp(0.0, 1.0) * 100.0).round() as u32;
    if p == 100 && score < 1.0 {
        99
    } else {
        p
    }
}

/// One (tooth, finding) the report states.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportedFinding {
    pub fdi: Fdi,
    pub kind: FindingKind,
    pub origin: Origin,
}

/// One detection drawn over the radiograph.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportedOutline {
    pub kind: FindingKind,
    /// The tooth it raised most, when it touches one.
    pub fdi: Option<Fdi>,
    pub rings: Vec<Ring>,
    pub bbox: [f32; 4],
    pub confirmed: bool,
}

/// Everything a report shows. Built by the service from an approved analysis.
#[derive(Debug, Clone)]
pub struct Report {
    pub paper: Paper,
    pub clinic: Clinic,
    pub patient: PatientBlock,
    /// Who approved it.
    pub clinician: String,
    /// `YYYY-MM-DD` of the approval.
    pub approved_on: String,
    /// `YYYY-MM-DD` of the analysis.
    pub analysed_on: String,
    pub model_version: String,
    /// Made by the random-weight test models: every page says so.
    pub test_models: bool,
    pub radiograph: Radiograph,
    pub findings: Vec<ReportedFinding>,
    pub outlines: Vec<ReportedOutline>,
}

/// A clinician's decision on one (tooth, finding).
pub type DecisionOn = (Fdi, FindingKind, Decision);

/// The findings in force, by tooth (11..48) then in the reference's finding order: the AI's
/// at or above the threshold unless rejected, and those the clinician added.
pub fn findings_in_force(
    assessment: &Assessment,
    thresholds: &Thresholds,
    decisions: &[DecisionOn],
) -> Vec<ReportedFinding> {
    let decision = |fdi: Fdi, kind: FindingKind| {
        decisions
            .iter()
            .find(|(f, k, _)| *f == fdi && *k == kind)
            .map(|(_, _, d)| *d)
    };
    let mut found: Vec<ReportedFinding> = assessment
        .findings()
        .filter_map(|f| {
            let origin = match decision(f.fdi, f.finding) {
                Some(Decision::Rejected) => return None,
                Some(Decision::Added) => Origin::Added,
                Some(Decision::Confirmed) => Origin::Confirmed { score: f.score },
                None if thresholds.is_found(f.finding, f.score) => Origin::Ai { score: f.score },
                None => return None,
            };
            Some(ReportedFinding {
                fdi: f.fdi,
                kind: f.finding,
                origin,
            })
        })
        .collect();
    found.sort_by_key(|f| (f.fdi.number(), f.kind.ordinal()));
    found
}

/// The detections to draw: those behind a finding the report lists. An instance (its own
/// score at or above its kind's threshold, as the app draws it, and not rejected on the tooth
/// it raised most) is drawn when one of the teeth it raised, strongest share first, has that
/// finding in force; it is labelled with that tooth. An instance that raised no tooth enough for a listed finding is left out, so that
/// every outline on the page has its line in the list.
pub fn outlines_in_force(
    geometry: &AnalysisGeometry,
    thresholds: &Thresholds,
    findings: &[ReportedFinding],
    decisions: &[DecisionOn],
) -> Vec<ReportedOutline> {
    let rejected = |fdi: Fdi, kind: FindingKind| {
        decisions
            .iter()
            .any(|(f, k, d)| *f == fdi && *k == kind && *d == Decision::Rejected)
    };
    geometry
        .findings
        .iter()
        .filter(|i| thresholds.is_found(i.finding, i.score))
        // Rejected on the tooth it raised most: the clinician said this lesion is not there,
        // so it is not drawn on a neighbour it barely touches either.
        .filter(|i| !i.teeth.first().is_some_and(|t| rejected(t.fdi, i.finding)))
        .filter_map(|i| {
            let listed = i.teeth.iter().find_map(|share| {
                findings
                    .iter()
                    .find(|f| f.fdi == share.fdi && f.kind == i.finding)
            })?;
            Some(ReportedOutline {
                kind: i.finding,
                fdi: Some(listed.fdi),
                rings: i.outline.clone(),
                bbox: i.bbox,
                confirmed: !matches!(listed.origin, Origin::Ai { .. }),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pano_core::{FindingInstance, ToothShare};

    fn fdi(n: u32) -> Fdi {
        Fdi::new(n).unwrap()
    }

    fn assessment(entries: &[(u32, FindingKind, f32)]) -> Assessment {
        let mut scores = [[0.1f32; pano_core::NUM_TEETH]; 8];
        for (n, kind, score) in entries {
            scores[kind.ordinal()][fdi(*n).index().get() - 1] = *score;
        }
        Assessment::from_scores("test", scores).unwrap()
    }

    #[test]
    fn findings_follow_thresholds_and_decisions() {
        let a = assessment(&[
            (36, FindingKind::Caries, 0.9),
            (36, FindingKind::Filling, 0.7),
            (11, FindingKind::Missing, 0.6),
            (47, FindingKind::Implant, 0.2),
            (21, FindingKind::Caries, 0.55),
        ]);
        let mut t = Thresholds::default();
        t.set(FindingKind::Missing, 0.65).unwrap();
        let decisions = [
            (fdi(36), FindingKind::Filling, Decision::Rejected),
            (fdi(47), FindingKind::Implant, Decision::Added),
            (fdi(21), FindingKind::Caries, Decision::Confirmed),
        ];
        let got = findings_in_force(&a, &t, &decisions);
        let summary: Vec<(u32, FindingKind, Origin)> = got
            .iter()
            .map(|f| (f.fdi.number(), f.kind, f.origin))
            .collect();
        assert_eq!(
            summary,
            vec![
                (21, FindingKind::Caries, Origin::Confirmed { score: 0.55 }),
                (36, FindingKind::Caries, Origin::Ai { score: 0.9 }),
                (47, FindingKind::Implant, Origin::Added),
            ]
        );
    }

    #[test]
    fn only_outlines_behind_a_listed_finding_are_drawn() {
        let instance = |id, kind, score, teeth: &[(u32, f32)]| FindingInstance {
            id,
            finding: kind,
            score,
            bbox: [1.0, 1.0, 5.0, 5.0],
            outline: vec![Ring::from_points([(1, 1), (5, 1), (5, 5)])],
            teeth: teeth
                .iter()
                .map(|(t, share)| ToothShare {
                    fdi: fdi(*t),
                    share: *share,
                })
                .collect(),
        };
        let mut g = AnalysisGeometry::new(10, 10);
        g.findings = vec![
            instance(0, FindingKind::Caries, 0.9, &[(36, 0.9)]),
            // Rejected on its tooth.
            instance(1, FindingKind::Filling, 0.8, &[(36, 0.9)]),
            // Below the threshold, even though the clinician added an implant there.
            instance(2, FindingKind::Implant, 0.3, &[(47, 0.9)]),
            // Confirmed on its second tooth: drawn, labelled with that tooth.
            instance(3, FindingKind::Filling, 0.6, &[(12, 0.5), (11, 0.4)]),
            // Confident, but it raised no tooth to the threshold: nothing listed, not drawn.
            instance(4, FindingKind::ResidualRoot, 0.99, &[(48, 0.3)]),
            // Rejected on its main tooth, listed by the AI on a neighbour: not drawn.
            instance(5, FindingKind::Caries, 0.9, &[(26, 0.8), (27, 0.2)]),
        ];
        let a = assessment(&[
            (36, FindingKind::Caries, 0.81),
            (36, FindingKind::Filling, 0.72),
            (12, FindingKind::Filling, 0.3),
            (11, FindingKind::Filling, 0.24),
            (48, FindingKind::ResidualRoot, 0.297),
            (26, FindingKind::Caries, 0.72),
            (27, FindingKind::Caries, 0.6),
        ]);
        let decisions = [
            (fdi(36), FindingKind::Filling, Decision::Rejected),
            (fdi(11), FindingKind::Filling, Decision::Confirmed),
            (fdi(47), FindingKind::Implant, Decision::Added),
            (fdi(26), FindingKind::Caries, Decision::Rejected),
        ];
        let t = Thresholds::default();
        let listed = findings_in_force(&a, &t, &decisions);
        assert!(
            listed.iter().any(|f| f.fdi == fdi(27)),
            "27 keeps its caries"
        );
        let drawn = outlines_in_force(&g, &t, &listed, &decisions);
        let summary: Vec<(FindingKind, u32, bool)> = drawn
            .iter()
            .map(|o| (o.kind, o.fdi.unwrap().number(), o.confirmed))
            .collect();
        assert_eq!(
            summary,
            vec![
                (FindingKind::Caries, 36, false),
                (FindingKind::Filling, 11, true)
            ]
        );
    }

    #[test]
    fn percentages_never_round_up_to_certainty() {
        assert_eq!(percent(0.996), 99);
        assert_eq!(percent(1.0), 100);
        assert_eq!(percent(0.834), 83);
        assert_eq!(Paper::parse(" Letter "), Some(Paper::Letter));
        assert_eq!(Paper::parse("a5"), None);
    }
}
