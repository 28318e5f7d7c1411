//! Fetching the job's `image_url`: HTTPS only (unless configured), a size limit, a
//! timeout. The content is sniffed by the importer, never trusted from the URL.

use std::time::Duration;

use crate::JobError;

#[derive(Debug, Clone)]
pub struct DownloadPolicy {
    /// Plain `http://` URLs (a local test server); RunPod jobs get presigned HTTPS URLs.
    pub allow_http: bool,
    pub max_bytes: usize,
    pub timeout: Duration,
}

impl Default for DownloadPolicy {
    fn default() -> Self {
        Self {
            allow_http: false,
            max_bytes: 100 * 1024 * 1024,
            timeout: Duration::from_secs(60),
        }
    }
}

/// The image's bytes, and a name for the CSV (the URL's file stem: an opaque object id).
pub async fn download(
    http: &reqwest::Client,
    raw_url: &str,
    policy: &DownloadPolicy,
) -> Result<(Vec<u8>, String), JobError> {
    let url =
        url::Url::parse(raw_url).map_err(|_| JobError::BadUrl("image_url is not a URL".into()))?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        other => {
            return Err(JobError::BadUrl(format!(
                "image_url must be https, not '{}'",
                other.chars().take(10).collect::<String>()
            )))
        }
    }
    let name = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .and_then(|f| f.split('.').next())
        .filter(|s| !s.is_empty())
        .unwrap_or("image")
        .chars()
        .take(64)
        .collect::<String>();
    let too_large = || JobError::TooLarge {
        limit_mb: policy.max_bytes >> 20,
    };
    let mut response = http
        .get(url)
        .timeout(policy.timeout)
        .send()
        .await
        .map_err(|e| JobError::Download(describe(&e)))?;
    if !response.status().is_success() {
        return Err(JobError::Download(format!(
            "the server answered HTTP {}",
            response.status().as_u16()
        )));
    }
    if response
        .content_length()
        .is_some_and(|n| n as usize > policy.max_bytes)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| JobError::Download(describe(&e)))?
    {
        if body.len() + chunk.len() > policy.max_bytes {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, name))
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer in time".into()
    } else if e.is_connect() {
        "the server cannot be reached".into()
    } else {
        "the transfer broke off".into()
    }
}
