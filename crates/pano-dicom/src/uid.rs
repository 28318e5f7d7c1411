//! DICOM UIDs under the `2.25` root (PS3.5 B.2: a UUID as one decimal number).
//!
//! The UIDs of what Pano derives from an analysis are name-based (a version 8 UUID from the
//! SHA-256 of the analysis id and the object's role), so sending the same approved analysis
//! again gives the same instances: a PACS replaces or ignores them instead of showing copies.

use sha2::{Digest, Sha256};

/// The UID for `role` of `analysis_id` ("study", "sc-series", "sc", ...).
pub fn derived_uid(analysis_id: &str, role: &str) -> String {
    let digest = Sha256::digest(format!("pano:{analysis_id}:{role}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8 (custom)
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 9562 variant
    format!("2.25.{}", u128::from_be_bytes(bytes))
}

/// Whether text is a well-formed UID (digits and dots, no empty or zero-led component,
/// at most 64 characters).
pub fn is_valid_uid(uid: &str) -> bool {
    uid.len() <= 64
        && !uid.is_empty()
        && uid.split('.').all(|c| {
            !c.is_empty()
                && c.bytes().all(|b| b.is_ascii_digit())
                && (c == "0" || !c.starts_with('0'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_uids_are_valid_stable_and_distinct() {
        let a = derived_uid("3f2c", "sc");
        assert!(is_valid_uid(&a), "{a}");
        assert_eq!(a, derived_uid("3f2c", "sc"));
        assert_ne!(a, derived_uid("3f2c", "pdf"));
        assert_ne!(a, derived_uid("3f2d", "sc"));
        assert!(a.starts_with("2.25.") && a.len() <= 44);
        assert!(!is_valid_uid("1.2.03"));
        assert!(!is_valid_uid("1..2"));
        assert!(!is_valid_uid(&"1".repeat(65)));
    }
}
