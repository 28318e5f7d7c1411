//! The patient and study modules of a DICOM input, as their values are written (PN, DA, TM
//! as in the header), so that what Pano derives from the image (a Secondary Capture, a
//! report) joins the same study in the clinic's PACS (PS3.3 C.7.1.1, C.7.2.1).

use dicom_dictionary_std::tags;

use crate::dicom::{is_dicom, open_checked, text_attr};

/// The header values a derived object copies; empty text where the header has none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DicomStudy {
    pub patient_name: String,
    pub patient_id: String,
    pub patient_birth_date: String,
    pub patient_sex: String,
    pub study_instance_uid: String,
    pub study_date: String,
    pub study_time: String,
    pub study_id: String,
    pub accession_number: String,
    pub referring_physician_name: String,
    pub study_description: String,
    /// The pixels have been through lossy compression (Lossy Image Compression "01", or a
    /// lossy JPEG transfer syntax): what is derived from them says so too.
    pub lossy: bool,
}

/// The study a checked DICOM file belongs to; None for other formats, for a file the
/// importer would refuse, and for a header without a Study Instance UID.
pub fn dicom_study(bytes: &[u8]) -> Option<DicomStudy> {
    if !is_dicom(bytes) {
        return None;
    }
    let obj = open_checked(bytes).ok()?;
    let text = |tag| text_attr(&obj, tag).unwrap_or_default();
    let study = DicomStudy {
        patient_name: text(tags::PATIENT_NAME),
        patient_id: text(tags::PATIENT_ID),
        patient_birth_date: text(tags::PATIENT_BIRTH_DATE),
        patient_sex: text(tags::PATIENT_SEX),
        study_instance_uid: text(tags::STUDY_INSTANCE_UID),
        study_date: text(tags::STUDY_DATE),
        study_time: text(tags::STUDY_TIME),
        study_id: text(tags::STUDY_ID),
        accession_number: text(tags::ACCESSION_NUMBER),
        referring_physician_name: text(tags::REFERRING_PHYSICIAN_NAME),
        study_description: text(tags::STUDY_DESCRIPTION),
        lossy: text(tags::LOSSY_IMAGE_COMPRESSION) == "01"
            || matches!(
                obj.meta().transfer_syntax().trim_end_matches('\0'),
                "1.2.840.10008.1.2.4.50" | "1.2.840.10008.1.2.4.51" | "1.2.840.10008.1.2.4.91"
            ),
    };
    let uid_ok = !study.study_instance_uid.is_empty()
        && study.study_instance_uid.len() <= 64
        && study
            .study_instance_uid
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.');
    uid_ok.then_some(study)
}
