//! The two objects an approved analysis becomes for a PACS:
//! - a Secondary Capture Image (PS3.3 A.8.1, SOP class 1.2.840.10008.5.1.4.1.1.7) of the
//!   radiograph with the findings burned in, uncompressed RGB (no second lossy step);
//! - an Encapsulated PDF (PS3.3 A.45.1, SOP class 1.2.840.10008.5.1.4.1.1.104.1) of the
//!   patient report.
//!
//! Both join the input's study when the input was DICOM (same Study Instance UID and patient
//! module, a new series each), otherwise a new study with the patient Pano filed it under.
//! Written as Part 10 files, Explicit VR Little Endian, UTF-8 (`ISO_IR 192`).

use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use dicom_transfer_syntax_registry::entries::EXPLICIT_VR_LITTLE_ENDIAN;

use crate::uid::derived_uid;
use crate::DicomError;

pub const SECONDARY_CAPTURE: &str = "1.2.840.10008.5.1.4.1.1.7";
pub const ENCAPSULATED_PDF: &str = "1.2.840.10008.5.1.4.1.1.104.1";
/// Our implementation class UID (a name-based UID of the product's name) and version name.
const IMPLEMENTATION_CLASS_UID: &str = "2.25.196302436571158412346578420416542370051";
const IMPLEMENTATION_VERSION: &str = "PANO_0_1";

/// The patient and study a derived object belongs to, as DICOM values (PN `Family^Given`,
/// DA `YYYYMMDD`, TM `HHMMSS`); empty text where unknown (type 2 attributes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StudyContext {
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
}

/// What every derived object says about how it was made.
#[derive(Debug, Clone)]
pub struct Derivation {
    /// Pano's analysis id: the derived UIDs are made from it (sending twice = same objects).
    pub analysis_id: String,
    /// `YYYYMMDD` and `HHMMSS` of the approval.
    pub content_date: String,
    pub content_time: String,
    pub model_version: String,
    pub approved_by: String,
    pub institution_name: String,
    /// The input was a lossy JPEG (Lossy Image Compression "01" is inherited).
    pub lossy_source: bool,
    pub test_models: bool,
}

/// A Part 10 file and the identifiers a PACS will answer with.
#[derive(Debug, Clone)]
pub struct DicomFile {
    pub sop_class_uid: String,
    pub sop_instance_uid: String,
    pub series_instance_uid: String,
    pub study_instance_uid: String,
    pub bytes: Vec<u8>,
}

/// Puts a text value, made to fit its VR: no backslash (the value separator) in a single
/// value, and at most the VR's length (LO 64, SH 16, PN 64 per group, ST 1024 characters).
fn put_str(obj: &mut InMemDicomObject, tag: dicom_core::Tag, vr: VR, value: &str) {
    let limit = match vr {
        VR::SH => Some(16),
        VR::LO | VR::PN => Some(64),
        VR::ST => Some(1024),
        _ => None,
    };
    let mut text: String = match vr {
        // Multi-valued on purpose (Image Type) or no free text (UIDs, dates, codes).
        VR::CS | VR::UI | VR::DA | VR::TM | VR::DT | VR::IS => value.to_string(),
        _ => value.replace('\\', "/"),
    };
    if let Some(limit) = limit {
        text = text.chars().take(limit).collect();
    }
    obj.put(DataElement::new(
        tag,
        vr,
        PrimitiveValue::from(text.as_str()),
    ));
}

fn common(obj: &mut InMemDicomObject, study: &StudyContext, d: &Derivation) {
    put_str(obj, tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192");
    // Patient module (C.7.1.1).
    put_str(obj, tags::PATIENT_NAME, VR::PN, &study.patient_name);
    put_str(obj, tags::PATIENT_ID, VR::LO, &study.patient_id);
    put_str(
        obj,
        tags::PATIENT_BIRTH_DATE,
        VR::DA,
        &study.patient_birth_date,
    );
    put_str(obj, tags::PATIENT_SEX, VR::CS, &study.patient_sex);
    // General Study module (C.7.2.1).
    put_str(
        obj,
        tags::STUDY_INSTANCE_UID,
        VR::UI,
        &study.study_instance_uid,
    );
    put_str(obj, tags::STUDY_DATE, VR::DA, &study.study_date);
    put_str(obj, tags::STUDY_TIME, VR::TM, &study.study_time);
    put_str(
        obj,
        tags::REFERRING_PHYSICIAN_NAME,
        VR::PN,
        &study.referring_physician_name,
    );
    put_str(obj, tags::STUDY_ID, VR::SH, &study.study_id);
    put_str(obj, tags::ACCESSION_NUMBER, VR::SH, &study.accession_number);
    if !study.study_description.is_empty() {
        put_str(
            obj,
            tags::STUDY_DESCRIPTION,
            VR::LO,
            &study.study_description,
        );
    }
    // General Equipment (C.7.5.1) and SC Equipment (C.8.6.1): made on a workstation.
    put_str(obj, tags::MANUFACTURER, VR::LO, "Pano");
    put_str(obj, tags::SOFTWARE_VERSIONS, VR::LO, &d.model_version);
    if !d.institution_name.is_empty() {
        put_str(obj, tags::INSTITUTION_NAME, VR::LO, &d.institution_name);
    }
    put_str(obj, tags::CONVERSION_TYPE, VR::CS, "WSD");
    put_str(obj, tags::CONTENT_DATE, VR::DA, &d.content_date);
    put_str(obj, tags::CONTENT_TIME, VR::TM, &d.content_time);
    put_str(obj, tags::INSTANCE_NUMBER, VR::IS, "1");
}

fn derivation_text(d: &Derivation) -> String {
    let mut text = format!(
        "AI findings ({}) reviewed and approved by {}",
        d.model_version, d.approved_by
    );
    if d.test_models {
        text.push_str("; TEST MODELS, NOT FOR DIAGNOSIS");
    }
    // DerivationDescription is ST: at most 1024 characters.
    text.chars().take(1024).collect()
}

fn finish(obj: InMemDicomObject, class: &str, instance: &str) -> Result<Vec<u8>, DicomError> {
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(EXPLICIT_VR_LITTLE_ENDIAN.uid())
        .media_storage_sop_class_uid(class)
        .media_storage_sop_instance_uid(instance)
        .implementation_class_uid(IMPLEMENTATION_CLASS_UID)
        .implementation_version_name(IMPLEMENTATION_VERSION);
    let file = obj
        .with_meta(meta)
        .map_err(|e| DicomError::Encode(e.to_string()))?;
    let mut bytes = Vec::new();
    file.write_all(&mut bytes)
        .map_err(|e| DicomError::Encode(e.to_string()))?;
    Ok(bytes)
}

/// The annotated radiograph as a Secondary Capture: `rgb` is `width * height * 3` bytes.
pub fn secondary_capture(
    study: &StudyContext,
    d: &Derivation,
    rgb: &[u8],
    width: u32,
    height: u32,
) -> Result<DicomFile, DicomError> {
    if rgb.len() != width as usize * height as usize * 3
        || width > u16::MAX as u32
        || height > u16::MAX as u32
    {
        return Err(DicomError::Encode(format!(
            "{} bytes are not a {width}x{height} RGB image",
            rgb.len()
        )));
    }
    let series = derived_uid(&d.analysis_id, "sc-series");
    let instance = derived_uid(&d.analysis_id, "sc");
    let mut obj = InMemDicomObject::new_empty();
    common(&mut obj, study, d);
    put_str(&mut obj, tags::SOP_CLASS_UID, VR::UI, SECONDARY_CAPTURE);
    put_str(&mut obj, tags::SOP_INSTANCE_UID, VR::UI, &instance);
    // General Series (C.7.3.1): "OT" (other) for a derived picture, in a series of its own.
    put_str(&mut obj, tags::MODALITY, VR::CS, "OT");
    put_str(&mut obj, tags::SERIES_INSTANCE_UID, VR::UI, &series);
    put_str(
        &mut obj,
        tags::SERIES_DESCRIPTION,
        VR::LO,
        "AI findings (annotated)",
    );
    // Derived series sort after the acquisition's own in a viewer.
    put_str(&mut obj, tags::SERIES_NUMBER, VR::IS, "901");
    // Type 2C: a panoramic radiograph shows both sides, so no laterality (empty).
    put_str(&mut obj, tags::LATERALITY, VR::CS, "");
    // General Image (C.7.6.1) and SC Image (C.8.6.2).
    put_str(&mut obj, tags::IMAGE_TYPE, VR::CS, "DERIVED\\SECONDARY");
    put_str(&mut obj, tags::PATIENT_ORIENTATION, VR::CS, "");
    put_str(&mut obj, tags::BURNED_IN_ANNOTATION, VR::CS, "YES");
    put_str(
        &mut obj,
        tags::DERIVATION_DESCRIPTION,
        VR::ST,
        &derivation_text(d),
    );
    put_str(
        &mut obj,
        tags::LOSSY_IMAGE_COMPRESSION,
        VR::CS,
        if d.lossy_source { "01" } else { "00" },
    );
    // Image Pixel (C.7.6.3): 8-bit RGB, colour-by-pixel.
    obj.put(DataElement::new(
        tags::SAMPLES_PER_PIXEL,
        VR::US,
        PrimitiveValue::from(3u16),
    ));
    put_str(&mut obj, tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "RGB");
    obj.put(DataElement::new(
        tags::PLANAR_CONFIGURATION,
        VR::US,
        PrimitiveValue::from(0u16),
    ));
    obj.put(DataElement::new(
        tags::ROWS,
        VR::US,
        PrimitiveValue::from(height as u16),
    ));
    obj.put(DataElement::new(
        tags::COLUMNS,
        VR::US,
        PrimitiveValue::from(width as u16),
    ));
    obj.put(DataElement::new(
        tags::BITS_ALLOCATED,
        VR::US,
        PrimitiveValue::from(8u16),
    ));
    obj.put(DataElement::new(
        tags::BITS_STORED,
        VR::US,
        PrimitiveValue::from(8u16),
    ));
    obj.put(DataElement::new(
        tags::HIGH_BIT,
        VR::US,
        PrimitiveValue::from(7u16),
    ));
    obj.put(DataElement::new(
        tags::PIXEL_REPRESENTATION,
        VR::US,
        PrimitiveValue::from(0u16),
    ));
    let mut pixels = rgb.to_vec();
    if pixels.len() % 2 == 1 {
        pixels.push(0);
    }
    obj.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        PrimitiveValue::from(pixels),
    ));
    let bytes = finish(obj, SECONDARY_CAPTURE, &instance)?;
    Ok(DicomFile {
        sop_class_uid: SECONDARY_CAPTURE.into(),
        sop_instance_uid: instance,
        series_instance_uid: series,
        study_instance_uid: study.study_instance_uid.clone(),
        bytes,
    })
}

/// The patient report as an Encapsulated PDF.
pub fn encapsulated_pdf(
    study: &StudyContext,
    d: &Derivation,
    pdf: &[u8],
    title: &str,
) -> Result<DicomFile, DicomError> {
    if !pdf.starts_with(b"%PDF-") {
        return Err(DicomError::Encode("the report is not a PDF".into()));
    }
    let series = derived_uid(&d.analysis_id, "pdf-series");
    let instance = derived_uid(&d.analysis_id, "pdf");
    let mut obj = InMemDicomObject::new_empty();
    common(&mut obj, study, d);
    put_str(&mut obj, tags::SOP_CLASS_UID, VR::UI, ENCAPSULATED_PDF);
    put_str(&mut obj, tags::SOP_INSTANCE_UID, VR::UI, &instance);
    // Encapsulated Document Series (C.24.1): modality DOC.
    put_str(&mut obj, tags::MODALITY, VR::CS, "DOC");
    put_str(&mut obj, tags::SERIES_NUMBER, VR::IS, "902");
    put_str(&mut obj, tags::SERIES_INSTANCE_UID, VR::UI, &series);
    put_str(
        &mut obj,
        tags::SERIES_DESCRIPTION,
        VR::LO,
        "AI findings report",
    );
    // Encapsulated Document (C.24.2).
    put_str(&mut obj, tags::ACQUISITION_DATE_TIME, VR::DT, "");
    put_str(&mut obj, tags::BURNED_IN_ANNOTATION, VR::CS, "YES");
    put_str(&mut obj, tags::DOCUMENT_TITLE, VR::ST, title);
    obj.put(DataElement::new(
        tags::CONCEPT_NAME_CODE_SEQUENCE,
        VR::SQ,
        DataSetSequence::<InMemDicomObject>::empty(),
    ));
    put_str(
        &mut obj,
        tags::MIME_TYPE_OF_ENCAPSULATED_DOCUMENT,
        VR::LO,
        "application/pdf",
    );
    obj.put(DataElement::new(
        tags::ENCAPSULATED_DOCUMENT_LENGTH,
        VR::UL,
        PrimitiveValue::from(pdf.len() as u32),
    ));
    let mut document = pdf.to_vec();
    if document.len() % 2 == 1 {
        document.push(0);
    }
    obj.put(DataElement::new(
        tags::ENCAPSULATED_DOCUMENT,
        VR::OB,
        PrimitiveValue::from(document),
    ));
    let bytes = finish(obj, ENCAPSULATED_PDF, &instance)?;
    Ok(DicomFile {
        sop_class_uid: ENCAPSULATED_PDF.into(),
        sop_instance_uid: instance,
        series_instance_uid: series,
        study_instance_uid: study.study_instance_uid.clone(),
        bytes,
    })
}

/// The study for a non-DICOM input: a new one, named from the analysis, dated by the
/// approval, for the patient Pano filed it under.
pub fn new_study(
    analysis_id: &str,
    patient_name: &str,
    patient_id: &str,
    birth_date_iso: Option<&str>,
    date: &str,
    time: &str,
) -> StudyContext {
    StudyContext {
        patient_name: dicom_person_name(patient_name),
        patient_id: patient_id.to_string(),
        patient_birth_date: birth_date_iso
            .map(|d| d.replace('-', ""))
            .unwrap_or_default(),
        study_instance_uid: derived_uid(analysis_id, "study"),
        study_date: date.to_string(),
        study_time: time.to_string(),
        study_description: "Panoramic radiograph, AI findings".into(),
        ..StudyContext::default()
    }
}

/// A display name as a DICOM PN: "Ada Lovelace" -> "Lovelace^Ada" (the last word is the
/// family name: a guess for names written given-first, as the app asks for them).
pub fn dicom_person_name(display: &str) -> String {
    // `^` separates components, `=` groups and `\` values: never part of a name.
    let cleaned: String = display
        .chars()
        .map(|c| {
            if matches!(c, '^' | '=' | '\\') {
                ' '
            } else {
                c
            }
        })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    match words.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [given @ .., family] => format!("{family}^{}", given.join(" ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_names_become_pn_without_separators_inside() {
        assert_eq!(dicom_person_name("Ada Lovelace"), "Lovelace^Ada");
        assert_eq!(
            dicom_person_name("Zoë Ångström-Núñez"),
            "Ångström-Núñez^Zoë"
        );
        assert_eq!(dicom_person_name("Cher"), "Cher");
        assert_eq!(dicom_person_name("Evil^Name=X\\Y"), "Y^Evil Name X");
        assert_eq!(dicom_person_name("  "), "");
    }
}
