//! The report's two faces (DejaVu Sans regular and bold, embedded: Windows and macOS have no
//! common system path for a font with Latin, Greek and Cyrillic) and the measuring that
//! line breaking and right alignment need.

use krilla::text::Font;
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use crate::ReportError;

static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// A face for drawing (krilla) and for measuring (skrifa) from the same bytes.
struct Face {
    pdf: Font,
    measure: FontRef<'static>,
    units_per_em: f32,
}

impl Face {
    fn load(bytes: &'static [u8]) -> Result<Face, ReportError> {
        let pdf = Font::new(bytes.into(), 0).ok_or(ReportError::Font)?;
        let measure = FontRef::new(bytes).map_err(|_| ReportError::Font)?;
        let units_per_em = measure
            .metrics(Size::unscaled(), LocationRef::default())
            .units_per_em as f32;
        Ok(Face {
            pdf,
            measure,
            units_per_em,
        })
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        let charmap = self.measure.charmap();
        let metrics = self
            .measure
            .glyph_metrics(Size::unscaled(), LocationRef::default());
        let units: f32 = text
            .chars()
            .map(|c| {
                let glyph = charmap.map(c).unwrap_or_default();
                metrics.advance_width(glyph).unwrap_or(0.0)
            })
            .sum();
        units * size / self.units_per_em
    }
}

pub struct Fonts {
    regular: Face,
    bold: Face,
}

impl Fonts {
    pub fn load() -> Result<Fonts, ReportError> {
        Ok(Fonts {
            regular: Face::load(REGULAR)?,
            bold: Face::load(BOLD)?,
        })
    }

    fn face(&self, weight: Weight) -> &Face {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    pub fn pdf_font(&self, weight: Weight) -> Font {
        self.face(weight).pdf.clone()
    }

    /// The advance width of a line of text in points (no kerning: a little wider than
    /// drawn, which only makes breaks a little earlier).
    pub fn width(&self, text: &str, size: f32, weight: Weight) -> f32 {
        self.face(weight).width(text, size)
    }

    /// Breaks text into lines no wider than `max_width` at spaces; a word longer than a line
    /// is cut where it must be. Explicit newlines are kept.
    pub fn wrap(&self, text: &str, size: f32, weight: Weight, max_width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, size, weight) <= max_width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // A word wider than the line on its own: cut it by characters.
                let mut piece = String::new();
                for c in word.chars() {
                    piece.push(c);
                    if self.width(&piece, size, weight) > max_width && piece.chars().count() > 1 {
                        piece.pop();
                        lines.push(std::mem::take(&mut piece));
                        piece.push(c);
                    }
                }
                line = piece;
            }
            lines.push(line);
        }
        lines
    }

    /// Shortens text with "…" to fit `max_width`.
    pub fn fit(&self, text: &str, size: f32, weight: Weight, max_width: f32) -> String {
        if self.width(text, size, weight) <= max_width {
            return text.to_string();
        }
        let mut kept: String = text.to_string();
        while !kept.is_empty() {
            kept.pop();
            let candidate = format!("{}…", kept.trim_end());
            if self.width(&candidate, size, weight) <= max_width {
                return candidate;
            }
        }
        "…".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word_within_the_width() {
        let fonts = Fonts::load().unwrap();
        let text = "Periapical radiolucency — confirmed by the dentist (AI 91%) and a \
                    Supercalifragilisticexpialidocious word";
        let lines = fonts.wrap(text, 10.0, Weight::Regular, 120.0);
        assert!(lines.len() >= 3, "{lines:?}");
        for line in &lines {
            assert!(fonts.width(line, 10.0, Weight::Regular) <= 120.0, "{line}");
        }
        let joined: String = lines.concat().chars().filter(|c| *c != ' ').collect();
        let wanted: String = text.chars().filter(|c| *c != ' ').collect();
        assert_eq!(joined, wanted);
        assert!(
            fonts.width("Bold", 10.0, Weight::Bold) > fonts.width("Bold", 10.0, Weight::Regular)
        );
        let fitted = fonts.fit(
            "A very long clinic name indeed",
            10.0,
            Weight::Regular,
            60.0,
        );
        assert!(fitted.ends_with('…') && fonts.width(&fitted, 10.0, Weight::Regular) <= 60.0);
    }
}
