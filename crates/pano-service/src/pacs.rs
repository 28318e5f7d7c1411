//! Sending an approved analysis to the clinic's PACS: the annotated radiograph as a DICOM
//! Secondary Capture and the patient report as an Encapsulated PDF (`pano-dicom`), in the
//! input's own study when the input was DICOM, else in a new study for the patient it was
//! approved for; by DICOMweb STOW-RS and/or C-STORE, whichever the settings name. The same
//! analysis sent again carries the same UIDs, so the PACS keeps one copy (which one is the
//! PACS's choice: Orthanc keeps the first unless told to overwrite).

use std::time::Duration;

use pano_dicom::{
    Derivation, DicomFile, DicomWebClient, DimsePeer, PacsStudy, StudyContext, StudyQuery,
};
use pano_store::ArtefactKind;
use serde::Serialize;

use crate::report::{gather, ReportCopy};
use crate::service::ConnectionCheck;
use crate::settings::{BackendChoice, PacsSettings};
use crate::Enqueued;
use crate::{AnalysisService, ServiceError};

/// What reached the PACS.
#[derive(Debug, Clone, Serialize)]
pub struct PacsReceipt {
    pub study_instance_uid: String,
    /// The Secondary Capture's and the report's SOP Instance UIDs.
    pub instances: Vec<String>,
    /// `dicomweb`, `c-store` or both.
    pub sent_by: Vec<&'static str>,
    /// Joined the input's study (DICOM input) rather than a new one.
    pub same_study_as_input: bool,
}

struct Routes {
    stow: Option<DicomWebClient>,
    dimse: Option<DimsePeer>,
}

fn routes(settings: &PacsSettings) -> Result<Routes, ServiceError> {
    if !settings.is_configured() {
        return Err(ServiceError::NoPacs);
    }
    let timeout = Duration::from_secs(settings.timeout_s.unwrap_or(60).clamp(5, 600));
    let stow = match settings
        .dicomweb_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    {
        Some(url) => Some(DicomWebClient::new(url, timeout)?),
        None => None,
    };
    let dimse = settings
        .host
        .as_deref()
        .filter(|h| !h.trim().is_empty())
        .map(|host| DimsePeer {
            host: host.trim().to_string(),
            port: settings.port.unwrap_or(104),
            called_ae_title: settings.called_ae_title.clone().unwrap_or_default(),
            calling_ae_title: settings
                .calling_ae_title
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| "PANO".into()),
            timeout,
        });
    Ok(Routes { stow, dimse })
}

/// `YYYY-MM-DD` with real digits in the right places (a search may name a future day).
fn is_calendar_day(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (1..=12).contains(&text[5..7].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&text[8..10].parse::<u32>().unwrap_or(0))
}

/// `YYYYMMDD` and `HHMMSS` of an RFC 3339 time.
fn dicom_date_time(rfc3339: &str) -> (String, String) {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let date = digits(rfc3339.get(..10).unwrap_or_default());
    let time = digits(rfc3339.get(11..19).unwrap_or_default());
    (date, time)
}

impl AnalysisService {
    /// The two DICOM objects of an approved analysis. Blocking (renders the report and the
    /// annotated image: well under a second for the sample).
    pub fn pacs_objects(&self, id: &str) -> Result<(Vec<DicomFile>, bool), ServiceError> {
        let inner = &self.inner;
        let report = gather(inner, id, None, ReportCopy::Delivered)?;
        let analysis = inner.db(|s| s.analysis(id))?;
        let patient_id = analysis
            .patient_id
            .clone()
            .ok_or(ServiceError::MissingApprovalDetail("a patient"))?;
        let patient = inner.db(|s| s.patient(&patient_id))?;
        let input = self.artefact(id, ArtefactKind::Input)?;
        let approved_at = analysis.approved_at.clone().unwrap_or_default();
        let (date, time) = dicom_date_time(&approved_at);
        // The input's study, only when its header names the patient this was approved for
        // (same Patient ID as the clinic's number) and its Study UID is sound: a clinician
        // who chose another patient (the wrong one was selected at the X-ray machine) gets
        // the results in a new study for the right patient, never under the header's.
        let input_study = pano_imaging::dicom_study(&input).filter(|s| {
            pano_dicom::is_valid_uid(&s.study_instance_uid)
                && !s.patient_id.is_empty()
                && patient.external_id.as_deref().map(str::trim) == Some(s.patient_id.trim())
        });
        let lossy_input = match &input_study {
            Some(s) => s.lossy,
            None => analysis.input_extension == "jpg",
        };
        let (study, same_study) = match input_study {
            Some(s) => (
                StudyContext {
                    patient_name: s.patient_name,
                    patient_id: s.patient_id,
                    patient_birth_date: s.patient_birth_date,
                    patient_sex: s.patient_sex,
                    study_instance_uid: s.study_instance_uid,
                    study_date: s.study_date,
                    study_time: s.study_time,
                    study_id: s.study_id,
                    accession_number: s.accession_number,
                    referring_physician_name: s.referring_physician_name,
                    study_description: s.study_description,
                },
                true,
            ),
            None => (
                pano_dicom::new_study(
                    id,
                    &patient.display_name,
                    // The clinic's own number when it has one; else Pano's patient id.
                    patient.external_id.as_deref().unwrap_or(&patient.id),
                    patient.birth_date.as_deref(),
                    &date,
                    &time,
                ),
                false,
            ),
        };
        let derivation = Derivation {
            analysis_id: id.to_string(),
            content_date: date,
            content_time: time,
            model_version: analysis.model_version.clone(),
            approved_by: analysis.approved_by.clone().unwrap_or_default(),
            institution_name: inner.settings.report.clinic_name.trim().to_string(),
            lossy_source: lossy_input,
            test_models: analysis.test_model,
        };
        let annotated = pano_report::annotated_radiograph(&report)?;
        let pdf = pano_report::render(&report)?;
        let sc = pano_dicom::secondary_capture(
            &study,
            &derivation,
            annotated.as_raw(),
            annotated.width(),
            annotated.height(),
        )?;
        let doc =
            pano_dicom::encapsulated_pdf(&study, &derivation, &pdf, "Panoramic radiograph report")?;
        Ok((vec![sc, doc], same_study))
    }

    /// Sends an approved analysis to the PACS by every configured route.
    pub async fn send_to_pacs(&self, id: &str) -> Result<PacsReceipt, ServiceError> {
        let routes = routes(&self.inner.settings.pacs)?;
        let service = self.clone();
        let owned = id.to_string();
        let (files, same_study) = tokio::task::spawn_blocking(move || service.pacs_objects(&owned))
            .await
            .map_err(|_| ServiceError::NoResult("DICOM objects"))??;
        let mut sent_by = Vec::new();
        if let Some(stow) = &routes.stow {
            let receipt = stow.store(&files).await?;
            if let Some((uid, reason)) = receipt.failed.first() {
                return Err(pano_dicom::DicomError::Refused(format!(
                    "the PACS did not store {} (reason {reason})",
                    if files[0].sop_instance_uid == *uid {
                        "the annotated image"
                    } else {
                        "the report"
                    }
                ))
                .into());
            }
            sent_by.push("dicomweb");
        }
        if let Some(peer) = routes.dimse {
            let to_send = files.clone();
            tokio::task::spawn_blocking(move || peer.store(&to_send))
                .await
                .map_err(|_| ServiceError::NoResult("C-STORE"))??;
            sent_by.push("c-store");
        }
        Ok(PacsReceipt {
            study_instance_uid: files[0].study_instance_uid.clone(),
            instances: files.iter().map(|f| f.sop_instance_uid.clone()).collect(),
            sent_by,
            same_study_as_input: same_study,
        })
    }

    fn dicomweb(&self) -> Result<DicomWebClient, ServiceError> {
        let routes = routes(&self.inner.settings.pacs)?;
        routes.stow.ok_or_else(|| {
            pano_dicom::DicomError::Settings(
                "finding studies on the PACS needs its DICOMweb address (Settings, PACS)".into(),
            )
            .into()
        })
    }

    /// Panoramic studies on the PACS (DICOMweb QIDO-RS), newest first.
    pub async fn pacs_studies(&self, query: &StudyQuery) -> Result<Vec<PacsStudy>, ServiceError> {
        for day in [&query.since, &query.until].into_iter().flatten() {
            if !is_calendar_day(day) {
                return Err(ServiceError::Settings(format!(
                    "'{day}' is not a day (YYYY-MM-DD)"
                )));
            }
        }
        Ok(self.dicomweb()?.find_panoramic_studies(query).await?)
    }

    /// Fetches the panoramic images of a PACS study (WADO-RS) into the data folder
    /// (`incoming/<instance>.dcm`) and queues them; the DICOM header's patient is then
    /// suggested in the decision form, as for any DICOM file.
    pub async fn analyse_from_pacs(
        &self,
        study_uid: &str,
        backend: Option<BackendChoice>,
    ) -> Result<Vec<Enqueued>, ServiceError> {
        let client = self.dicomweb()?;
        let instances = client.panoramic_instances(study_uid).await?;
        if instances.is_empty() {
            return Err(ServiceError::NoPanoramicImage);
        }
        let incoming = self.data_dir().join("incoming");
        std::fs::create_dir_all(&incoming).map_err(|e| ServiceError::Read {
            path: incoming.display().to_string(),
            source: e,
        })?;
        let mut queued = Vec::new();
        for (series, sop) in instances {
            let bytes = client.retrieve_instance(study_uid, &series, &sop).await?;
            let path = incoming.join(format!("{sop}.dcm"));
            crate::durable::write_file(&path, &bytes).map_err(|e| ServiceError::Read {
                path: path.display().to_string(),
                source: e,
            })?;
            let result = self.enqueue(&path, backend);
            // The queue keeps its own copy: no second copy of a named file lingers here.
            let _ = std::fs::remove_file(&path);
            queued.push(result?);
        }
        Ok(queued)
    }

    /// Settings' "Test": a DICOMweb query and/or a C-ECHO.
    pub async fn test_pacs(&self) -> Result<ConnectionCheck, ServiceError> {
        let routes = routes(&self.inner.settings.pacs)?;
        let mut answered = Vec::new();
        if let Some(stow) = &routes.stow {
            stow.check().await?;
            answered.push("DICOMweb");
        }
        if let Some(peer) = routes.dimse {
            tokio::task::spawn_blocking(move || peer.echo())
                .await
                .map_err(|_| ServiceError::NoResult("C-ECHO"))??;
            answered.push("DICOM (echo)");
        }
        Ok(ConnectionCheck {
            summary: format!("The PACS answers: {}.", answered.join(" and ")),
            warnings: Vec::new(),
        })
    }
}
