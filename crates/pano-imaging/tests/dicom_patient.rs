//! The Patient Module of a DICOM header, read for the desktop's patient suggestion.

mod support;

use pano_imaging::{dicom_patient, import_bytes, DicomPatient, ImportLimits};
use support::*;

/// The smallest radiograph the importer accepts.
const COLS: u16 = 512;
const ROWS: u16 = 256;

fn with_patient(ts: &str, name: &str, id: &str, birth: &str) -> Vec<u8> {
    let enc = Enc::of(ts);
    // Data set elements in ascending tag order, as Part 10 requires.
    let dataset = [
        enc.text((0x0008, 0x0060), "CS", "PX"),
        enc.text((0x0010, 0x0010), "PN", name),
        enc.text((0x0010, 0x0020), "LO", id),
        enc.text((0x0010, 0x0030), "DA", birth),
        enc.image_attributes(COLS, ROWS)[enc.text((0x0008, 0x0060), "CS", "PX").len()..].to_vec(),
        enc.pixel_data(&picture(COLS, ROWS)),
    ]
    .concat();
    file(ts, &dataset)
}

#[test]
fn the_patient_of_every_uncompressed_encoding_is_read() {
    for ts in [IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE] {
        let bytes = with_patient(ts, "Zyxwvut^Qorbelline", "PID-4711-XY", "19800101");
        import_bytes(&bytes, &ImportLimits::default()).expect("a valid image");
        assert_eq!(
            dicom_patient(&bytes),
            Some(DicomPatient {
                name: Some("Zyxwvut Qorbelline".into()),
                id: Some("PID-4711-XY".into()),
                birth_date: Some("1980-01-01".into()),
            }),
            "{ts}"
        );
    }
}

#[test]
fn unusable_parts_are_left_out_and_an_anonymous_file_names_no_one() {
    let bytes = with_patient(EXPLICIT_LE, "Doe^Jane", "", "19801340");
    assert_eq!(
        dicom_patient(&bytes),
        Some(DicomPatient {
            name: Some("Doe Jane".into()),
            id: None,
            birth_date: None,
        })
    );
    assert_eq!(dicom_patient(&image(EXPLICIT_LE, COLS, ROWS)), None);
}

#[test]
fn a_file_the_importer_refuses_is_not_read_for_a_name() {
    let mut bytes = with_patient(EXPLICIT_LE, "Doe^Jane", "X", "19800101");
    // Pixel Data claims more bytes than the file holds: the walk refuses it.
    let at = bytes.len() - COLS as usize * ROWS as usize - 4;
    bytes[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(import_bytes(&bytes, &ImportLimits::default()).is_err());
    assert_eq!(dicom_patient(&bytes), None);
}
