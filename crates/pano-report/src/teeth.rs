//! FDI tooth numbers in the words a patient understands.

use pano_core::Fdi;

/// "upper right first molar" for 16; "lower left wisdom tooth" for 38.
pub fn tooth_name(fdi: Fdi) -> String {
    let n = fdi.number();
    let side = match n / 10 {
        1 => "upper right",
        2 => "upper left",
        3 => "lower left",
        _ => "lower right",
    };
    let tooth = match n % 10 {
        1 => "central incisor",
        2 => "lateral incisor",
        3 => "canine",
        4 => "first premolar",
        5 => "second premolar",
        6 => "first molar",
        7 => "second molar",
        _ => "wisdom tooth",
    };
    format!("{side} {tooth}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_fdi_quadrants() {
        let name = |n| tooth_name(Fdi::new(n).unwrap());
        assert_eq!(name(11), "upper right central incisor");
        assert_eq!(name(26), "upper left first molar");
        assert_eq!(name(33), "lower left canine");
        assert_eq!(name(48), "lower right wisdom tooth");
    }
}
