//! The report's look per finding: the app's colours (Okabe-Ito, distinguishable with the
//! common colour-vision deficiencies; grey for missing) and letter codes, so that a printed
//! report and the screen agree. Colour is never the only cue: every mark carries its code.

use pano_core::FindingKind;

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

pub const BLACK: Rgb = Rgb(0, 0, 0);
pub const WHITE: Rgb = Rgb(255, 255, 255);
pub const GREY_TEXT: Rgb = Rgb(80, 80, 80);
pub const RULE: Rgb = Rgb(190, 190, 190);
pub const MISSING_CELL: Rgb = Rgb(232, 232, 232);
pub const WARNING_FILL: Rgb = Rgb(253, 236, 234);
pub const WARNING_TEXT: Rgb = Rgb(160, 20, 20);

pub fn colour(kind: FindingKind) -> Rgb {
    match kind {
        FindingKind::Missing => Rgb(0x9e, 0x9e, 0x9e),
        FindingKind::Implant => Rgb(0x00, 0x72, 0xb2),
        FindingKind::ResidualRoot => Rgb(0xe6, 0x9f, 0x00),
        FindingKind::CrownBridge => Rgb(0xf0, 0xe4, 0x42),
        FindingKind::RootCanalFilling => Rgb(0x56, 0xb4, 0xe9),
        FindingKind::Filling => Rgb(0x00, 0x9e, 0x73),
        FindingKind::Caries => Rgb(0xd5, 0x5e, 0x00),
        FindingKind::PeriapicalRadiolucency => Rgb(0xcc, 0x79, 0xa7),
    }
}

/// The app's short code for a finding (odontogram cells, outline labels, legend).
pub fn code(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Missing => "M",
        FindingKind::Implant => "I",
        FindingKind::ResidualRoot => "RR",
        FindingKind::CrownBridge => "Cr",
        FindingKind::RootCanalFilling => "RC",
        FindingKind::Filling => "F",
        FindingKind::Caries => "C",
        FindingKind::PeriapicalRadiolucency => "PA",
    }
}

/// A finding's name with a capital, as a list item starts.
pub fn title(kind: FindingKind) -> String {
    let label = kind.label();
    let mut chars = label.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn luminance(c: Rgb) -> f32 {
    let channel = |v: u8| {
        let v = v as f32 / 255.0;
        if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(c.0) + 0.7152 * channel(c.1) + 0.0722 * channel(c.2)
}

fn contrast(a: Rgb, b: Rgb) -> f32 {
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// Black or white text, whichever reads better on the colour.
pub fn text_on(background: Rgb) -> Rgb {
    if contrast(background, BLACK) >= contrast(background, WHITE) {
        BLACK
    } else {
        WHITE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_readable_on_its_colour() {
        for kind in FindingKind::ALL {
            let c = colour(kind);
            assert!(contrast(c, text_on(c)) >= 4.5, "{kind:?}");
        }
        let codes: std::collections::HashSet<_> = FindingKind::ALL.map(code).into();
        assert_eq!(codes.len(), 8);
        assert_eq!(title(FindingKind::RootCanalFilling), "Root canal filling");
    }
}
