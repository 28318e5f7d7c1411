//! A DICOMweb client (PS3.18): STOW-RS (10.5) `POST {base}/studies` with the objects as
//! `multipart/related; type="application/dicom"`, and the store's answer read back;
//! QIDO-RS (10.6) to find panoramic studies; WADO-RS (10.4) to fetch one instance.

use std::time::Duration;

use crate::{DicomError, DicomFile};

/// What the PACS said about each object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StowReceipt {
    pub stored: Vec<String>,
    pub failed: Vec<(String, String)>,
}

/// A DICOMweb endpoint (`https://pacs.example/dicom-web`).
#[derive(Debug, Clone)]
pub struct DicomWebClient {
    base: url::Url,
    http: reqwest::Client,
}

impl DicomWebClient {
    /// Plain http only to this computer (a PACS on the LAN should offer https; the
    /// report and images name the patient).
    pub fn new(base: &str, timeout: Duration) -> Result<Self, DicomError> {
        let mut base = url::Url::parse(base.trim())
            .map_err(|e| DicomError::Settings(format!("the DICOMweb address '{base}': {e}")))?;
        let local = matches!(
            base.host_str(),
            Some("localhost" | "127.0.0.1" | "::1" | "[::1]")
        );
        if base.scheme() != "https" && !(base.scheme() == "http" && local) {
            return Err(DicomError::Settings(
                "the DICOMweb address must be https:// (plain http only to this computer)".into(),
            ));
        }
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| DicomError::Settings(e.to_string()))?;
        Ok(Self { base, http })
    }

    fn url(&self, path: &str) -> url::Url {
        self.base.join(path).expect("a relative path")
    }

    /// Stores the objects in one request.
    pub async fn store(&self, files: &[DicomFile]) -> Result<StowReceipt, DicomError> {
        let boundary = format!(
            "pano-{}",
            files
                .first()
                .map(|f| f.sop_instance_uid.as_str())
                .unwrap_or("x")
                .replace('.', "")
        );
        let mut body = Vec::new();
        for file in files {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Type: application/dicom\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(&file.bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let response = self
            .http
            .post(self.url("studies"))
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("multipart/related; type=\"application/dicom\"; boundary={boundary}"),
            )
            .header(reqwest::header::ACCEPT, "application/dicom+json")
            .body(body)
            .send()
            .await
            .map_err(|e| DicomError::Unreachable(describe(&e)))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| DicomError::Unreachable(describe(&e)))?;
        if is_busy(status) {
            return Err(DicomError::Unreachable(format!(
                "the PACS is busy or down: it answered {status} to the upload"
            )));
        }
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(DicomError::Refused(format!(
                "the PACS refused the request ({status})"
            )));
        }
        if !(status.is_success() || status == reqwest::StatusCode::CONFLICT) {
            return Err(DicomError::Refused(format!(
                "the PACS answered {status} to the upload"
            )));
        }
        if status == reqwest::StatusCode::OK && text.trim().is_empty() {
            // Some stores answer a full success with no body.
            return Ok(StowReceipt {
                stored: files.iter().map(|f| f.sop_instance_uid.clone()).collect(),
                failed: Vec::new(),
            });
        }
        receipt(files, &text)
    }

    /// Whether the endpoint answers a query (Settings' "Test").
    pub async fn check(&self) -> Result<(), DicomError> {
        let response = self
            .http
            .get(self.url("studies?limit=1"))
            .header(reqwest::header::ACCEPT, "application/dicom+json")
            .send()
            .await
            .map_err(|e| DicomError::Unreachable(describe(&e)))?;
        let status = response.status();
        check_status(status, "a query")?;
        let text = response.text().await.unwrap_or_default();
        if !text.trim().is_empty() {
            serde_json_array(&text)?;
        }
        Ok(())
    }
}

/// A study the PACS holds, as a list shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PacsStudy {
    pub study_instance_uid: String,
    /// PN as people read it (`Doe^Jane` -> `Doe Jane`).
    pub patient_name: String,
    pub patient_id: String,
    /// `YYYY-MM-DD` when the PACS gave a date.
    pub study_date: Option<String>,
    pub description: String,
    pub modalities: Vec<String>,
}

/// What to look for: a patient (name part or exact id) and/or a date range (`YYYY-MM-DD`).
#[derive(Debug, Clone, Default)]
pub struct StudyQuery {
    pub patient: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// The most a retrieved instance may weigh (the importer refuses larger files anyway).
const MAX_INSTANCE_BYTES: usize = 512 * 1024 * 1024;

impl DicomWebClient {
    async fn get_json(&self, path_and_query: &str) -> Result<Vec<serde_json::Value>, DicomError> {
        let response = self
            .http
            .get(self.url(path_and_query))
            .header(reqwest::header::ACCEPT, "application/dicom+json")
            .send()
            .await
            .map_err(|e| DicomError::Unreachable(describe(&e)))?;
        let status = response.status();
        if status == reqwest::StatusCode::NO_CONTENT {
            return Ok(Vec::new());
        }
        check_status(status, "a search")?;
        let text = response.text().await.unwrap_or_default();
        if text.trim().is_empty() {
            return Ok(Vec::new());
        }
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Array(items)) => Ok(items),
            _ => Err(DicomError::BadAnswer(format!(
                "the PACS's answer is not DICOM JSON: {}",
                text.chars().take(80).collect::<String>()
            ))),
        }
    }

    /// Panoramic studies (a PX image in the study), newest first, at most 100.
    pub async fn find_panoramic_studies(
        &self,
        q: &StudyQuery,
    ) -> Result<Vec<PacsStudy>, DicomError> {
        let mut params: Vec<(String, String)> = vec![
            ("ModalitiesInStudy".into(), "PX".into()),
            ("limit".into(), "100".into()),
            ("includefield".into(), "00081030".into()),
            ("includefield".into(), "00080061".into()),
        ];
        let date =
            |d: &Option<String>| d.as_deref().map(|d| d.replace('-', "")).unwrap_or_default();
        if q.since.is_some() || q.until.is_some() {
            params.push((
                "StudyDate".into(),
                format!("{}-{}", date(&q.since), date(&q.until)),
            ));
        }
        let patient = q
            .patient
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty());
        // An id is matched exactly; otherwise (or when no id matches) a name, by its parts.
        let found = match patient {
            Some(p) => {
                let mut by_id = params.clone();
                by_id.push(("PatientID".into(), p.to_string()));
                let found = self
                    .get_json(&format!("studies?{}", encode(&by_id)))
                    .await?;
                if found.is_empty() {
                    let mut by_name = params.clone();
                    by_name.push(("PatientName".into(), format!("*{}*", p.replace(' ', "*"))));
                    self.get_json(&format!("studies?{}", encode(&by_name)))
                        .await?
                } else {
                    found
                }
            }
            None => {
                self.get_json(&format!("studies?{}", encode(&params)))
                    .await?
            }
        };
        let mut studies: Vec<PacsStudy> = found.iter().filter_map(study_of).collect();
        studies.sort_by(|a, b| b.study_date.cmp(&a.study_date));
        Ok(studies)
    }

    /// The PX instances of a study: `(series, instance)` UIDs.
    pub async fn panoramic_instances(
        &self,
        study: &str,
    ) -> Result<Vec<(String, String)>, DicomError> {
        check_uid(study)?;
        let series = self
            .get_json(&format!("studies/{study}/series?Modality=PX"))
            .await?;
        let mut out = Vec::new();
        for s in series {
            let Some(series_uid) = first_text(&s, "0020000E") else {
                continue;
            };
            check_uid(&series_uid)?;
            for i in self
                .get_json(&format!("studies/{study}/series/{series_uid}/instances"))
                .await?
            {
                if let Some(sop) = first_text(&i, "00080018") {
                    check_uid(&sop)?;
                    out.push((series_uid.clone(), sop));
                }
            }
        }
        Ok(out)
    }

    /// One instance as a Part 10 file (WADO-RS, `multipart/related; type="application/dicom"`).
    pub async fn retrieve_instance(
        &self,
        study: &str,
        series: &str,
        instance: &str,
    ) -> Result<Vec<u8>, DicomError> {
        for uid in [study, series, instance] {
            check_uid(uid)?;
        }
        let mut response = self
            .http
            .get(self.url(&format!(
                "studies/{study}/series/{series}/instances/{instance}"
            )))
            .header(
                reqwest::header::ACCEPT,
                "multipart/related; type=\"application/dicom\"; transfer-syntax=*",
            )
            .send()
            .await
            .map_err(|e| DicomError::Unreachable(describe(&e)))?;
        let status = response.status();
        check_status(status, "a retrieve")?;
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| DicomError::Unreachable(describe(&e)))?
        {
            if body.len() + chunk.len() > MAX_INSTANCE_BYTES {
                return Err(DicomError::BadAnswer(
                    "the instance is larger than 512 MB".into(),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        first_part(&content_type, &body)
    }
}

fn encode(params: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

fn check_uid(uid: &str) -> Result<(), DicomError> {
    if crate::uid::is_valid_uid(uid) {
        Ok(())
    } else {
        Err(DicomError::BadAnswer(format!("'{uid}' is not a DICOM UID")))
    }
}

/// The first value of a DICOM JSON attribute as text (PN: its alphabetic group).
fn first_text(item: &serde_json::Value, tag: &str) -> Option<String> {
    let value = item.get(tag)?.get("Value")?.as_array()?.first()?;
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(pn) => pn.get("Alphabetic")?.as_str()?.to_string(),
        other => other.to_string(),
    };
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

fn study_of(item: &serde_json::Value) -> Option<PacsStudy> {
    let uid = first_text(item, "0020000D").filter(|u| crate::uid::is_valid_uid(u))?;
    let date = first_text(item, "00080020")
        .filter(|d| d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()));
    Some(PacsStudy {
        study_instance_uid: uid,
        patient_name: first_text(item, "00100010")
            .map(|n| {
                n.split('^')
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default(),
        patient_id: first_text(item, "00100020").unwrap_or_default(),
        study_date: date.map(|d| format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])),
        description: first_text(item, "00081030").unwrap_or_default(),
        modalities: item
            .get("00080061")
            .and_then(|e| e.get("Value"))
            .and_then(|v| v.as_array())
            .map(|v| {
                v.iter()
                    .filter_map(|m| m.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// The body of the first part of a `multipart/related` answer.
fn first_part(content_type: &str, body: &[u8]) -> Result<Vec<u8>, DicomError> {
    let bad = |why: &str| DicomError::BadAnswer(format!("the PACS's retrieve answer {why}"));
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
        .ok_or_else(|| bad("is not multipart (no boundary)"))?;
    let delimiter = format!("--{boundary}");
    let find = |hay: &[u8], needle: &[u8], from: usize| {
        hay.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let start = find(body, delimiter.as_bytes(), 0).ok_or_else(|| bad("has no part"))?;
    let headers_end =
        find(body, b"\r\n\r\n", start).ok_or_else(|| bad("has a part without headers"))? + 4;
    let end = find(body, format!("\r\n{delimiter}").as_bytes(), headers_end)
        .ok_or_else(|| bad("is cut short"))?;
    let part = body[headers_end..end].to_vec();
    if part.len() < 132 || &part[128..132] != b"DICM" {
        return Err(bad("is not a DICOM file"));
    }
    Ok(part)
}

/// What went wrong with a request, for the clinic's IT: the kind in words, then the causes
/// (certificate, DNS, refused connection...) as the libraries put them.
fn describe(e: &reqwest::Error) -> String {
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    let detail = causes.join(": ");
    let lower = detail.to_ascii_lowercase();
    let what = if e.is_timeout() {
        "the PACS did not answer in time"
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        "the PACS's certificate is not trusted by this computer (a self-signed certificate needs to be installed on it)"
    } else if lower.contains("dns") || lower.contains("resolve") || lower.contains("lookup") {
        "the PACS's name cannot be found (is the address right?)"
    } else if e.is_connect() {
        "the PACS cannot be reached (is it running, is the address right?)"
    } else {
        "the connection to the PACS failed"
    };
    if detail.is_empty() {
        what.to_string()
    } else {
        format!("{what} ({detail})")
    }
}

/// A read's status: busy or down (retry later), refused, or fine.
fn check_status(status: reqwest::StatusCode, what: &str) -> Result<(), DicomError> {
    if is_busy(status) {
        Err(DicomError::Unreachable(format!(
            "the PACS is busy or down ({status})"
        )))
    } else if !status.is_success() {
        Err(DicomError::Refused(format!(
            "the PACS answered {status} to {what}"
        )))
    } else {
        Ok(())
    }
}

/// An HTTP status a PACS (or a proxy in front of it) answers while it is down or busy.
fn is_busy(status: reqwest::StatusCode) -> bool {
    status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS
}

/// A JSON array, or a specific error for an answer that is not one.
fn serde_json_array(text: &str) -> Result<(), DicomError> {
    let t = text.trim_start();
    if t.starts_with('[') {
        Ok(())
    } else {
        Err(DicomError::BadAnswer(format!(
            "the PACS's answer is not DICOM JSON: {}",
            t.chars().take(80).collect::<String>()
        )))
    }
}

/// Reads the store's answer (a DICOM JSON object): Referenced SOP Sequence (0008,1199)
/// and Failed SOP Sequence (0008,1198).
fn receipt(files: &[DicomFile], text: &str) -> Result<StowReceipt, DicomError> {
    let bad = || {
        DicomError::BadAnswer(format!(
            "the PACS's answer to the upload is not DICOM JSON: {}",
            text.chars().take(80).collect::<String>()
        ))
    };
    let value: serde_json::Value = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .filter(serde_json::Value::is_object)
        .ok_or_else(bad)?;
    let uids_in = |tag: &str| -> Vec<(String, String)> {
        value
            .get(tag)
            .and_then(|s| s.get("Value"))
            .and_then(|v| v.as_array())
            .map(|items| {
                items
                    .iter()
                    .map(|item| {
                        let uid = item
                            .get("00081155")
                            .and_then(|e| e.get("Value"))
                            .and_then(|v| v.as_array())
                            .and_then(|v| v.first())
                            .and_then(|v| v.as_str())
                            .unwrap_or_default()
                            .to_string();
                        let reason = item
                            .get("00081197")
                            .and_then(|e| e.get("Value"))
                            .and_then(|v| v.as_array())
                            .and_then(|v| v.first())
                            .map(|v| v.to_string())
                            .unwrap_or_default();
                        (uid, reason)
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let stored: Vec<String> = uids_in("00081199")
        .into_iter()
        .map(|(uid, _)| uid)
        .collect();
    let failed = uids_in("00081198");
    let known = |uid: &str| files.iter().any(|f| f.sop_instance_uid == uid);
    if stored
        .iter()
        .chain(failed.iter().map(|(u, _)| u))
        .any(|u| !known(u))
    {
        return Err(DicomError::BadAnswer(
            "the PACS's answer names objects that were not sent".into(),
        ));
    }
    // 0111H: the instance is already there (a resend: the UIDs are the analysis's own).
    let (duplicates, failed): (Vec<_>, Vec<_>) = failed
        .into_iter()
        .partition(|(_, reason)| reason.trim() == "273");
    let mut stored = stored;
    stored.extend(duplicates.into_iter().map(|(uid, _)| uid));
    let failed: Vec<(String, String)> = failed
        .into_iter()
        .map(|(uid, reason)| {
            let hex = reason
                .trim()
                .parse::<u16>()
                .map(|n| format!("{n:04X}H"))
                .unwrap_or(reason);
            (uid, hex)
        })
        .collect();
    // Every object sent is accounted for, or the answer cannot be trusted.
    let accounted =
        |uid: &str| stored.iter().any(|u| u == uid) || failed.iter().any(|(u, _)| u == uid);
    if let Some(missing) = files.iter().find(|f| !accounted(&f.sop_instance_uid)) {
        return Err(DicomError::BadAnswer(format!(
            "the PACS's answer does not say whether it stored {}",
            missing.sop_instance_uid
        )));
    }
    Ok(StowReceipt { stored, failed })
}
