//! DICOMweb STOW-RS (PS3.18 10.5): `POST {base}/studies` with the objects as
//! `multipart/related; type="application/dicom"`, and the store's answer read back.

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
pub struct StowClient {
    base: url::Url,
    http: reqwest::Client,
}

impl StowClient {
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
        let text = response.text().await.unwrap_or_default();
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
        if !status.is_success() {
            return Err(DicomError::Refused(format!(
                "the PACS answered {status} to a query"
            )));
        }
        let text = response.text().await.unwrap_or_default();
        if !text.trim().is_empty() {
            serde_json_array(&text)?;
        }
        Ok(())
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the PACS did not answer in time".into()
    } else if e.is_connect() {
        "the PACS cannot be reached (is it running, is the address right?)".into()
    } else {
        "the connection to the PACS failed".into()
    }
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
    Ok(StowReceipt { stored, failed })
}
