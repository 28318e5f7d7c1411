//! DIMSE over an association (PS3.7): C-ECHO to test a PACS, C-STORE to send objects.
//! dicom-ul carries the PDUs; the command sets are built here (group 0000, Implicit VR
//! Little Endian, as PS3.7 6.3.1 requires).

use std::io::Write;
use std::time::Duration;

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::entries::{
    EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN,
};
use dicom_ul::association::client::{ClientAssociation, ClientAssociationOptions};
use dicom_ul::pdu::{PDataValueType, Pdu};

use crate::{DicomError, DicomFile};

const VERIFICATION: &str = "1.2.840.10008.1.1";

/// Where C-STORE goes: the PACS's address and AE titles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DimsePeer {
    pub host: String,
    pub port: u16,
    /// The PACS's AE title.
    pub called_ae_title: String,
    /// Ours, as the PACS knows it.
    pub calling_ae_title: String,
    pub timeout: Duration,
}

fn check_ae(title: &str, what: &str) -> Result<(), DicomError> {
    let ok = !title.trim().is_empty()
        && title.len() <= 16
        && title
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'\\');
    if ok {
        Ok(())
    } else {
        Err(DicomError::Settings(format!(
            "{what} '{title}' is not an AE title (1 to 16 plain characters, no backslash)"
        )))
    }
}

impl DimsePeer {
    fn associate(
        &self,
        abstract_syntaxes: &[&str],
    ) -> Result<ClientAssociation<std::net::TcpStream>, DicomError> {
        check_ae(&self.called_ae_title, "The PACS's AE title")?;
        check_ae(&self.calling_ae_title, "Pano's AE title")?;
        let mut options = ClientAssociationOptions::new()
            .calling_ae_title(self.calling_ae_title.trim().to_string())
            .called_ae_title(self.called_ae_title.trim().to_string())
            .connection_timeout(self.timeout)
            .read_timeout(self.timeout)
            .write_timeout(self.timeout);
        for syntax in abstract_syntaxes {
            options = options.with_presentation_context(
                syntax.to_string(),
                vec![
                    EXPLICIT_VR_LITTLE_ENDIAN.uid().to_string(),
                    IMPLICIT_VR_LITTLE_ENDIAN.uid().to_string(),
                ],
            );
        }
        options
            .establish((self.host.as_str(), self.port))
            .map_err(|e| association_error(&e.to_string()))
    }

    /// C-ECHO: the PACS accepts an association from us and answers.
    pub fn echo(&self) -> Result<(), DicomError> {
        let mut association = self.associate(&[VERIFICATION])?;
        let pc = accepted(&association, VERIFICATION)?.0;
        let command = command_set(&[
            (
                tags::AFFECTED_SOP_CLASS_UID,
                VR::UI,
                PrimitiveValue::from(VERIFICATION),
            ),
            (tags::COMMAND_FIELD, VR::US, PrimitiveValue::from(0x0030u16)),
            (tags::MESSAGE_ID, VR::US, PrimitiveValue::from(1u16)),
            (
                tags::COMMAND_DATA_SET_TYPE,
                VR::US,
                PrimitiveValue::from(0x0101u16),
            ),
        ])?;
        send_command(&mut association, pc, command)?;
        let status = response_status(&mut association)?;
        let _ = association.release();
        if status == 0 {
            Ok(())
        } else {
            Err(DicomError::Refused(format!(
                "the PACS answered the echo with status {status:04X}H"
            )))
        }
    }

    /// C-STORE of each file, in one association. A warning status (Bxxx) counts as stored.
    pub fn store(&self, files: &[DicomFile]) -> Result<(), DicomError> {
        let classes: Vec<&str> = files.iter().map(|f| f.sop_class_uid.as_str()).collect();
        let mut association = self.associate(&classes)?;
        for (i, file) in files.iter().enumerate() {
            let (pc, ts) = accepted(&association, &file.sop_class_uid)?;
            let object = dicom_object::from_reader(&file.bytes[128..])
                .map_err(|e| DicomError::Encode(e.to_string()))?;
            use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
            let ts = dicom_transfer_syntax_registry::TransferSyntaxRegistry
                .get(&ts)
                .ok_or_else(|| {
                    DicomError::Refused(format!("the PACS chose transfer syntax {ts}"))
                })?;
            let mut data = Vec::new();
            object
                .write_dataset_with_ts(&mut data, ts)
                .map_err(|e| DicomError::Encode(e.to_string()))?;
            let command = command_set(&[
                (
                    tags::AFFECTED_SOP_CLASS_UID,
                    VR::UI,
                    PrimitiveValue::from(file.sop_class_uid.as_str()),
                ),
                (tags::COMMAND_FIELD, VR::US, PrimitiveValue::from(0x0001u16)),
                (
                    tags::MESSAGE_ID,
                    VR::US,
                    PrimitiveValue::from((i + 1) as u16),
                ),
                (tags::PRIORITY, VR::US, PrimitiveValue::from(0u16)),
                (
                    tags::COMMAND_DATA_SET_TYPE,
                    VR::US,
                    PrimitiveValue::from(0x0000u16),
                ),
                (
                    tags::AFFECTED_SOP_INSTANCE_UID,
                    VR::UI,
                    PrimitiveValue::from(file.sop_instance_uid.as_str()),
                ),
            ])?;
            send_command(&mut association, pc, command)?;
            {
                let mut writer = association.send_pdata(pc);
                writer.write_all(&data).map_err(|e| {
                    DicomError::Unreachable(format!("sending the object stopped: {e}"))
                })?;
                writer.finish().map_err(|e| {
                    DicomError::Unreachable(format!("sending the object stopped: {e}"))
                })?;
            }
            let status = response_status(&mut association)?;
            // Success, a warning (Bxxx; 0107H and 0116H are warnings too), or 0111H, "already
            // there" (a resend: the UIDs are the analysis's own).
            let stored = status == 0
                || status & 0xF000 == 0xB000
                || matches!(status, 0x0107 | 0x0111 | 0x0116);
            if !stored {
                let _ = association.abort();
                return Err(DicomError::Refused(format!(
                    "the PACS refused the {} with status {status:04X}H",
                    if file.sop_class_uid == crate::objects::ENCAPSULATED_PDF {
                        "report"
                    } else {
                        "annotated image"
                    }
                )));
            }
        }
        let _ = association.release();
        Ok(())
    }
}

fn association_error(detail: &str) -> DicomError {
    let lower = detail.to_ascii_lowercase();
    if lower.contains("reject") {
        DicomError::Refused(format!(
            "the PACS refused the association (check both AE titles and that the PACS knows Pano): {detail}"
        ))
    } else if lower.contains("connect")
        || lower.contains("refused")
        || lower.contains("timed out")
        || lower.contains("timeout")
    {
        DicomError::Unreachable(format!("the PACS cannot be reached: {detail}"))
    } else {
        DicomError::BadAnswer(format!("the association failed: {detail}"))
    }
}

/// The accepted presentation context for an abstract syntax: its id and transfer syntax.
fn accepted(
    association: &ClientAssociation<std::net::TcpStream>,
    abstract_syntax: &str,
) -> Result<(u8, String), DicomError> {
    association
        .presentation_contexts()
        .iter()
        .find(|pc| {
            pc.abstract_syntax.trim_end_matches('\0') == abstract_syntax
                && pc.reason == dicom_ul::pdu::PresentationContextResultReason::Acceptance
        })
        .map(|pc| (pc.id, pc.transfer_syntax.trim_end_matches('\0').to_string()))
        .ok_or_else(|| {
            DicomError::Refused(format!(
                "the PACS does not accept {} objects from Pano",
                match abstract_syntax {
                    crate::objects::SECONDARY_CAPTURE => "Secondary Capture",
                    crate::objects::ENCAPSULATED_PDF => "Encapsulated PDF",
                    VERIFICATION => "verification (echo)",
                    other => other,
                }
            ))
        })
}

/// A command set with its group length, encoded Implicit VR Little Endian.
fn command_set(elements: &[(dicom_core::Tag, VR, PrimitiveValue)]) -> Result<Vec<u8>, DicomError> {
    let obj = InMemDicomObject::command_from_element_iter(
        elements
            .iter()
            .map(|(tag, vr, value)| DataElement::new(*tag, *vr, value.clone())),
    );
    let mut bytes = Vec::new();
    obj.write_dataset_with_ts(&mut bytes, &IMPLICIT_VR_LITTLE_ENDIAN.erased())
        .map_err(|e| DicomError::Encode(e.to_string()))?;
    Ok(bytes)
}

fn send_command(
    association: &mut ClientAssociation<std::net::TcpStream>,
    pc: u8,
    command: Vec<u8>,
) -> Result<(), DicomError> {
    association
        .send(&Pdu::PData {
            data: vec![dicom_ul::pdu::PDataValue {
                presentation_context_id: pc,
                value_type: PDataValueType::Command,
                is_last: true,
                data: command,
            }],
        })
        .map_err(|e| DicomError::Unreachable(format!("sending to the PACS stopped: {e}")))
}

/// Reads the response's command and returns its Status (0000,0900).
fn response_status(
    association: &mut ClientAssociation<std::net::TcpStream>,
) -> Result<u16, DicomError> {
    let mut command = Vec::new();
    loop {
        let pdu = association
            .receive()
            .map_err(|e| DicomError::Unreachable(format!("the PACS stopped answering: {e}")))?;
        match pdu {
            Pdu::PData { data } => {
                let mut last = false;
                for value in data {
                    if value.value_type == PDataValueType::Command {
                        command.extend_from_slice(&value.data);
                        last |= value.is_last;
                    }
                }
                if last {
                    break;
                }
            }
            Pdu::AbortRQ { .. } => {
                return Err(DicomError::Refused(
                    "the PACS aborted the association".into(),
                ))
            }
            Pdu::ReleaseRQ => {
                return Err(DicomError::BadAnswer(
                    "the PACS ended the association before answering".into(),
                ))
            }
            other => {
                return Err(DicomError::BadAnswer(format!(
                    "the PACS answered with an unexpected message ({})",
                    other.short_description()
                )))
            }
        }
    }
    let obj = InMemDicomObject::read_dataset_with_ts(
        command.as_slice(),
        &IMPLICIT_VR_LITTLE_ENDIAN.erased(),
    )
    .map_err(|e| DicomError::BadAnswer(format!("the PACS's answer cannot be read: {e}")))?;
    obj.element(tags::STATUS)
        .ok()
        .and_then(|e| e.to_int::<u16>().ok())
        .ok_or_else(|| DicomError::BadAnswer("the PACS's answer has no status".into()))
}
