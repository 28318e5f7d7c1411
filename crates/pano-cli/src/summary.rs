//! The readable per-image summary: each tooth's strongest finding.

use pano_core::{Assessment, FindingKind, ToothIndex};

/// Findings at or above this score are listed.
pub const SHOWN_FROM: f32 = 0.5;

pub fn render(assessment: &Assessment) -> String {
    let mut lines = Vec::new();
    let mut quiet = 0;
    for tooth in ToothIndex::all() {
        let fdi = tooth.fdi();
        let mut strong: Vec<(FindingKind, f32)> = FindingKind::ALL
            .into_iter()
            .map(|k| (k, assessment.score(fdi, k)))
            .filter(|&(_, s)| s >= SHOWN_FROM)
            .collect();
        if strong.is_empty() {
            quiet += 1;
            continue;
        }
        strong.sort_by(|a, b| b.1.total_cmp(&a.1));
        let text: Vec<String> = strong
            .iter()
            .map(|(k, s)| format!("{} {:.0}%", k.label(), s * 100.0))
            .collect();
        lines.push(format!("  tooth {fdi}: {}", text.join(", ")));
    }
    if quiet > 0 {
        lines.push(format!(
            "  {quiet} teeth with no finding at {:.0}% or more",
            SHOWN_FROM * 100.0
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use pano_core::NUM_TEETH;

    #[test]
    fn lists_strong_findings_strongest_first() {
        let mut scores = [[0.1f32; NUM_TEETH]; 8];
        scores[FindingKind::Missing.ordinal()][0] = 0.97; // tooth 11
        scores[FindingKind::Caries.ordinal()][13] = 0.6; // tooth 26
        scores[FindingKind::Filling.ordinal()][13] = 0.8;
        let text = render(&Assessment::from_scores("x", scores).unwrap());
        assert_eq!(
            text,
            "  tooth 11: missing 97%\n  tooth 26: filling 80%, caries 60%\n  30 teeth with no finding at 50% or more"
        );
    }
}
