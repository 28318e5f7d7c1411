//! S3-compatible storage (AWS, DigitalOcean Spaces, MinIO, R2, B2, Wasabi) through
//! `aws-sdk-s3`, configured by hand (no `aws-config`: no profile files, no instance metadata,
//! keys only from the credential store).

use std::time::Duration;

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ExpirationStatus, LifecycleRule};
use aws_smithy_runtime_api::http::Response as HttpResponse;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::layout::{analysis_prefix, content_type};
use super::{
    ApprovedAnalysis, ConnectionReport, ConnectionWarning, OpaqueId, PermanentStorage,
    StorageError, StoredLocation,
};

/// Where the bucket is and how it is laid out. No secrets: those are [`S3Credentials`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct S3Settings {
    /// `https://fra1.digitaloceanspaces.com`, `http://127.0.0.1:9000`; `None` = AWS. Only
    /// `https://`, or plain http to this computer (localhost, 127.0.0.0/8, ::1).
    pub endpoint: Option<String>,
    pub region: String,
    pub bucket: String,
    /// Path-style URLs (`endpoint/bucket/key`), which MinIO and most local servers need.
    pub path_style: bool,
    /// Prefix of uploads awaiting analysis; a lifecycle rule should expire it after a day.
    pub temp_prefix: String,
    /// Prefix of the permanent layout.
    pub permanent_prefix: String,
    /// Uploads above this size go in parts (each part this size; S3's minimum is 5 MiB).
    pub multipart_threshold: usize,
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            endpoint: None,
            region: "us-east-1".into(),
            bucket: String::new(),
            path_style: false,
            temp_prefix: "temp/".into(),
            permanent_prefix: "patients/".into(),
            multipart_threshold: 16 * 1024 * 1024,
        }
    }
}

/// An access key and its secret, from the OS keychain. The secret never prints.
#[derive(Clone)]
pub struct S3Credentials {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
}

impl std::fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// An image uploaded under the temp prefix for a worker to read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TempUpload {
    pub key: String,
    pub sha256: String,
    pub size: u64,
    pub extension: String,
}

pub struct S3Storage {
    client: aws_sdk_s3::Client,
    settings: S3Settings,
}

/// Retries with the SDK's standard strategy: exponential backoff with jitter on 5xx,
/// throttling and transient network errors.
const MAX_ATTEMPTS: u32 = 4;

impl S3Storage {
    /// Refuses an endpoint that is not `https://` (plain http only to this computer:
    /// localhost, 127.0.0.0/8, ::1) with [`StorageError::InsecureEndpoint`]. The SDK's HTTP
    /// client follows no redirects; one is [`StorageError::Redirected`].
    pub fn new(settings: S3Settings, credentials: &S3Credentials) -> Result<Self, StorageError> {
        Self::with_config(settings, credentials, |b| b)
    }

    /// Like [`S3Storage::new`], with a last say over the SDK configuration (tests use it to
    /// move the clock).
    pub fn with_config(
        settings: S3Settings,
        credentials: &S3Credentials,
        customize: impl FnOnce(aws_sdk_s3::config::Builder) -> aws_sdk_s3::config::Builder,
    ) -> Result<Self, StorageError> {
        if settings.bucket.is_empty() {
            return Err(StorageError::Invalid("no bucket is configured".into()));
        }
        if settings.multipart_threshold < 5 * 1024 * 1024 {
            return Err(StorageError::Invalid(
                "the multipart threshold must be at least 5 MiB".into(),
            ));
        }
        if let Some(endpoint) = &settings.endpoint {
            crate::net::secure_or_loopback(endpoint)
                .map_err(|e| StorageError::InsecureEndpoint { endpoint: e.shown })?;
        }
        let mut builder = aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(settings.region.clone()))
            .credentials_provider(Credentials::new(
                credentials.access_key_id.clone(),
                credentials.secret_access_key.expose_secret().to_string(),
                None,
                None,
                "pano-keychain",
            ))
            .force_path_style(settings.path_style)
            // Several S3-compatible services reject the CRC32 checksums the SDK sends by
            // default since 1.69: only when an operation requires them.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .read_timeout(Duration::from_secs(30))
                    .operation_attempt_timeout(Duration::from_secs(120))
                    .operation_timeout(Duration::from_secs(600))
                    .build(),
            )
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(MAX_ATTEMPTS)
                    .with_initial_backoff(Duration::from_millis(200)),
            );
        if let Some(endpoint) = &settings.endpoint {
            builder = builder.endpoint_url(endpoint.trim_end_matches('/'));
        }
        let client = aws_sdk_s3::Client::from_conf(customize(builder).build());
        Ok(Self { client, settings })
    }

    pub fn settings(&self) -> &S3Settings {
        &self.settings
    }

    fn endpoint_name(&self) -> String {
        self.settings
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("AWS S3 ({})", self.settings.region))
    }

    /// Maps an SDK failure to what the clinic can act on.
    fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
        &self,
        operation: &'static str,
        err: SdkError<E, HttpResponse>,
    ) -> StorageError {
        let status = err.raw_response().map(|r| r.status().as_u16());
        match &err {
            SdkError::DispatchFailure(e) => {
                if e.is_timeout() {
                    StorageError::Timeout { operation }
                } else {
                    StorageError::Unreachable {
                        endpoint: self.endpoint_name(),
                        detail: describe_dispatch(e),
                    }
                }
            }
            SdkError::TimeoutError(_) => StorageError::Timeout { operation },
            _ => {
                let code = err.code().unwrap_or("").to_string();
                match code.as_str() {
                    "InvalidAccessKeyId"
                    | "SignatureDoesNotMatch"
                    | "InvalidToken"
                    | "AuthorizationHeaderMalformed"
                    | "NotSignedUp" => StorageError::WrongKeys,
                    "NoSuchBucket" => StorageError::MissingBucket {
                        bucket: self.settings.bucket.clone(),
                    },
                    "AccessDenied" | "AllAccessDisabled" => {
                        StorageError::PermissionDenied { operation }
                    }
                    "RequestTimeTooSkewed" => StorageError::ClockSkew,
                    // AWS names the region it wants; others answer a bare 3xx.
                    "PermanentRedirect" | "TemporaryRedirect" | "Redirect" => {
                        StorageError::Redirected {
                            operation,
                            status: status.unwrap_or(301),
                        }
                    }
                    _ if status.is_some_and(|s| (300..400).contains(&s)) => {
                        StorageError::Redirected {
                            operation,
                            status: status.unwrap_or(301),
                        }
                    }
                    "NoSuchKey" | "NotFound" => StorageError::NotFound { key: String::new() },
                    _ => match status {
                        Some(404) => StorageError::NotFound { key: String::new() },
                        Some(403) => StorageError::PermissionDenied { operation },
                        _ => StorageError::Server {
                            operation,
                            status: status.unwrap_or(0),
                            code,
                        },
                    },
                }
            }
        }
    }

    fn bucket(&self) -> &str {
        &self.settings.bucket
    }

    /// Uploads an image under the temp prefix with a fresh opaque name, its content type
    /// and SHA-256 as metadata; in parts above the multipart threshold.
    pub async fn upload_temp(
        &self,
        bytes: &[u8],
        extension: &str,
    ) -> Result<TempUpload, StorageError> {
        self.upload_temp_named(&OpaqueId::random(), bytes, extension)
            .await
    }

    /// Like [`S3Storage::upload_temp`] under a name the caller chose (a job's id): repeating
    /// the upload after a crash replaces the same object instead of leaving a second one.
    pub async fn upload_temp_named(
        &self,
        name: &OpaqueId,
        bytes: &[u8],
        extension: &str,
    ) -> Result<TempUpload, StorageError> {
        let ext = super::input_extension(extension)?;
        let key = format!("{}{name}.{ext}", self.settings.temp_prefix);
        let sha256 = hex::encode(Sha256::digest(bytes));
        if bytes.len() > self.settings.multipart_threshold {
            self.put_multipart(&key, bytes, ext, &sha256).await?;
        } else {
            self.client
                .put_object()
                .bucket(self.bucket())
                .key(&key)
                .content_type(content_type(ext))
                .metadata("sha256", &sha256)
                .body(ByteStream::from(bytes.to_vec()))
                .send()
                .await
                .map_err(|e| self.classify("upload", e))?;
        }
        Ok(TempUpload {
            key,
            sha256,
            size: bytes.len() as u64,
            extension: ext.to_string(),
        })
    }

    async fn put_multipart(
        &self,
        key: &str,
        bytes: &[u8],
        ext: &str,
        sha256: &str,
    ) -> Result<(), StorageError> {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(self.bucket())
            .key(key)
            .content_type(content_type(ext))
            .metadata("sha256", sha256)
            .send()
            .await
            .map_err(|e| self.classify("upload", e))?;
        let upload_id = created
            .upload_id()
            .ok_or_else(|| StorageError::Server {
                operation: "upload",
                status: 200,
                code: "no upload id".into(),
            })?
            .to_string();
        let result = async {
            let mut parts = Vec::new();
            for (i, chunk) in bytes.chunks(self.settings.multipart_threshold).enumerate() {
                let number = i as i32 + 1;
                let part = self
                    .client
                    .upload_part()
                    .bucket(self.bucket())
                    .key(key)
                    .upload_id(&upload_id)
                    .part_number(number)
                    .body(ByteStream::from(chunk.to_vec()))
                    .send()
                    .await
                    .map_err(|e| self.classify("upload", e))?;
                parts.push(
                    CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(part.e_tag().map(str::to_string))
                        .build(),
                );
            }
            self.client
                .complete_multipart_upload()
                .bucket(self.bucket())
                .key(key)
                .upload_id(&upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .map_err(|e| self.classify("upload", e))?;
            Ok(())
        }
        .await;
        if result.is_err() {
            // Parts of an unfinished upload cost storage until aborted.
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(self.bucket())
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await;
        }
        result
    }

    /// A GET URL for the worker, valid for `expires_in` (minutes, not days: the object is a
    /// patient's radiograph, never public).
    pub async fn presign_temp(
        &self,
        upload: &TempUpload,
        expires_in: Duration,
    ) -> Result<String, StorageError> {
        self.presign_get(&upload.key, expires_in).await
    }

    async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String, StorageError> {
        let config = PresigningConfig::expires_in(expires_in)
            .map_err(|e| StorageError::Invalid(format!("presigning: {e}")))?;
        let request = self
            .client
            .get_object()
            .bucket(self.bucket())
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| self.classify("presign", e))?;
        Ok(request.uri().to_string())
    }

    /// Deletes a temp upload (a rejected analysis, or after promotion). Deleting what is
    /// already gone succeeds.
    pub async fn delete_temp(&self, upload: &TempUpload) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(self.bucket())
            .key(&upload.key)
            .send()
            .await
            .map_err(|e| self.classify("delete", e))?;
        Ok(())
    }

    /// Whether an object exists.
    pub async fn exists(&self, key: &str) -> Result<bool, StorageError> {
        match self
            .client
            .head_object()
            .bucket(self.bucket())
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => match self.classify("read", e) {
                StorageError::NotFound { .. } => Ok(false),
                other => Err(other),
            },
        }
    }

    /// Keys under a prefix (for checks and tests), at most 1000.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let out = self
            .client
            .list_objects_v2()
            .bucket(self.bucket())
            .prefix(prefix)
            .send()
            .await
            .map_err(|e| self.classify("list", e))?;
        let mut keys: Vec<String> = out
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_string))
            .collect();
        keys.sort();
        Ok(keys)
    }

    /// Reads an object whole (for checks and tests).
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, StorageError> {
        let out = self
            .client
            .get_object()
            .bucket(self.bucket())
            .key(key)
            .send()
            .await
            .map_err(|e| match self.classify("read", e) {
                StorageError::NotFound { .. } => StorageError::NotFound {
                    key: key.to_string(),
                },
                other => other,
            })?;
        let data = out
            .body
            .collect()
            .await
            .map_err(|_| StorageError::Timeout { operation: "read" })?;
        Ok(data.into_bytes().to_vec())
    }

    /// Writes one object with its SHA-256 as metadata.
    pub async fn put_object(
        &self,
        key: &str,
        body: &[u8],
        ctype: &str,
    ) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(self.bucket())
            .key(key)
            .content_type(ctype)
            .metadata("sha256", hex::encode(Sha256::digest(body)))
            .body(ByteStream::from(body.to_vec()))
            .send()
            .await
            .map_err(|e| self.classify("write", e))?;
        Ok(())
    }
}

impl PermanentStorage for S3Storage {
    async fn store_approved(
        &self,
        analysis: &ApprovedAnalysis,
        temp: Option<&TempUpload>,
    ) -> Result<StoredLocation, StorageError> {
        analysis.check()?;
        let prefix = analysis_prefix(
            &self.settings.permanent_prefix,
            &analysis.patient_id,
            &analysis.analysis_id,
        );
        let files = analysis.files();
        for (i, (name, body)) in files.iter().enumerate() {
            let key = format!("{prefix}{name}");
            let ext = name.rsplit('.').next().unwrap_or("");
            // The input: a server-side copy of the temp object while it exists (no second
            // upload of the image), else the local copy (a repeat after the temp object
            // was already deleted).
            if i == 0 {
                if let Some(temp) = temp {
                    let copied = self
                        .client
                        .copy_object()
                        .bucket(self.bucket())
                        .key(&key)
                        .copy_source(copy_source(self.bucket(), &temp.key))
                        .send()
                        .await;
                    match copied.map_err(|e| self.classify("copy", e)) {
                        Ok(_) => continue,
                        Err(StorageError::NotFound { .. }) => {}
                        Err(other) => return Err(other),
                    }
                }
            }
            self.put_object(&key, body, content_type(ext)).await?;
        }
        if let Some(temp) = temp {
            self.delete_temp(temp).await?;
        }
        Ok(StoredLocation {
            location: format!("s3://{}/{prefix}", self.bucket()),
            files: files.into_iter().map(|(n, _)| n).collect(),
        })
    }

    /// Lists the temp prefix (wrong keys, missing bucket and unreachable endpoints fail
    /// here, each with its own error), writes a small probe object (permission to write),
    /// reads it back through a presigned URL as a worker would, and deletes it. The SDK
    /// corrects its own requests for clock skew, but presigned URLs carry this computer's
    /// time: the read-back is where a wrong clock shows. Then checks that a lifecycle rule
    /// expires the temp prefix: a warning, not a failure, when none does or when the rules
    /// cannot be read.
    async fn test_connection(&self) -> Result<ConnectionReport, StorageError> {
        self.client
            .list_objects_v2()
            .bucket(self.bucket())
            .prefix(&self.settings.temp_prefix)
            .max_keys(1)
            .send()
            .await
            .map_err(|e| self.classify("list", e))?;
        let probe = format!(
            "{}connection-test-{}",
            self.settings.temp_prefix,
            OpaqueId::random()
        );
        self.put_object(&probe, b"pano connection test", "text/plain")
            .await
            .map_err(|e| match e {
                StorageError::PermissionDenied { .. } => {
                    StorageError::PermissionDenied { operation: "write" }
                }
                other => other,
            })?;
        let read_back = self.check_presigned_read(&probe).await;
        self.client
            .delete_object()
            .bucket(self.bucket())
            .key(&probe)
            .send()
            .await
            .map_err(|e| self.classify("delete", e))?;
        read_back?;
        let mut report = ConnectionReport::default();
        report.warnings.extend(self.check_temp_expiry().await);
        Ok(report)
    }
}

impl S3Storage {
    /// `None` when an enabled lifecycle rule expires everything under the temp prefix;
    /// otherwise a warning that says how to add one (or that the rules could not be read).
    async fn check_temp_expiry(&self) -> Option<ConnectionWarning> {
        let temp = &self.settings.temp_prefix;
        let rules = match self
            .client
            .get_bucket_lifecycle_configuration()
            .bucket(self.bucket())
            .send()
            .await
        {
            Ok(out) => out.rules().to_vec(),
            Err(e) if e.code() == Some("NoSuchLifecycleConfiguration") => Vec::new(),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                let why = match (e.code(), status) {
                    (Some("NotImplemented"), _) | (_, Some(501)) => {
                        "this storage does not support lifecycle rules".to_string()
                    }
                    (Some("AccessDenied"), _) | (_, Some(403)) => {
                        "the keys lack permission to read them (s3:GetLifecycleConfiguration)"
                            .to_string()
                    }
                    (_, None) => "the storage did not answer".to_string(),
                    (code, Some(status)) => format!(
                        "the storage answered HTTP {status} {}",
                        code.unwrap_or("").chars().take(60).collect::<String>()
                    )
                    .trim()
                    .to_string(),
                };
                return Some(ConnectionWarning {
                    code: ConnectionWarning::LIFECYCLE_UNCHECKED,
                    message: format!(
                        "could not check whether the bucket '{}' deletes uploads under \
                         '{temp}' ({why}). Make sure something deletes them after a day: \
                         uploads of analyses that never finished would otherwise stay in the \
                         bucket.",
                        self.bucket()
                    ),
                });
            }
        };
        if rules.iter().any(|r| expires_prefix(r, temp)) {
            return None;
        }
        let endpoint = self
            .settings
            .endpoint
            .as_deref()
            .map(|e| format!(" --endpoint-url {}", e.trim_end_matches('/')))
            .unwrap_or_default();
        let replaces = if rules.is_empty() {
            ""
        } else {
            " This replaces the bucket's existing rules: add the rule to them instead."
        };
        Some(ConnectionWarning {
            code: ConnectionWarning::TEMP_NOT_EXPIRING,
            message: format!(
                "no lifecycle rule of the bucket '{bucket}' deletes uploads under '{temp}': \
                 images of analyses that never finished would stay in the bucket. Add a rule \
                 that expires them after 1 day, e.g. with the AWS CLI: aws s3api \
                 put-bucket-lifecycle-configuration --bucket {bucket} --region {region}\
                 {endpoint} --lifecycle-configuration '{{\"Rules\": [{{\"ID\": \
                 \"pano-expire-temp\", \"Status\": \"Enabled\", \"Filter\": {{\"Prefix\": \
                 \"{temp}\"}}, \"Expiration\": {{\"Days\": 1}}, \
                 \"AbortIncompleteMultipartUpload\": {{\"DaysAfterInitiation\": 1}}}}]}}'\
                 {replaces}",
                bucket = self.bucket(),
                region = self.settings.region,
            ),
        })
    }

    async fn check_presigned_read(&self, key: &str) -> Result<(), StorageError> {
        let url = self.presign_get(key, Duration::from_secs(60)).await?;
        let response = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| StorageError::Invalid(format!("HTTP client: {e}")))?
            .get(&url)
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    StorageError::Timeout {
                        operation: "presigned read",
                    }
                } else {
                    StorageError::Unreachable {
                        endpoint: self.endpoint_name(),
                        detail: "a presigned URL could not be fetched".into(),
                    }
                }
            })?;
        let status = response.status().as_u16();
        let server_time = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|d| d.to_str().ok())
            .and_then(|d| httpdate::parse_http_date(d).ok());
        let body = response.text().await.unwrap_or_default();
        if status == 403 && body.contains("RequestTimeTooSkewed") {
            return Err(StorageError::ClockSkew);
        }
        if let Some(server) = server_time {
            // The SDK's clock (the system's, unless configured otherwise).
            let now = self
                .client
                .config()
                .time_source()
                .map(|t| aws_smithy_async::time::TimeSource::now(&t))
                .unwrap_or_else(std::time::SystemTime::now);
            let skew = now
                .duration_since(server)
                .or_else(|_| server.duration_since(now))
                .unwrap_or_default();
            if skew > Duration::from_secs(300) {
                return Err(StorageError::ClockSkew);
            }
        }
        if (300..400).contains(&status) {
            return Err(StorageError::Redirected {
                operation: "presigned read",
                status,
            });
        }
        if status != 200 {
            return Err(StorageError::Server {
                operation: "presigned read",
                status,
                code: body
                    .split("<Code>")
                    .nth(1)
                    .and_then(|c| c.split("</Code>").next())
                    .unwrap_or("")
                    .chars()
                    .take(60)
                    .collect(),
            });
        }
        Ok(())
    }
}

/// Whether `rule` deletes every object under `prefix`: enabled, with an expiration, and a
/// filter (or the old rule-level prefix) that `prefix` falls under without tag conditions
/// (tags would leave untagged uploads out).
fn expires_prefix(rule: &LifecycleRule, prefix: &str) -> bool {
    let expires = rule
        .expiration()
        .is_some_and(|e| e.days().is_some_and(|d| d > 0) || e.date().is_some());
    if *rule.status() != ExpirationStatus::Enabled || !expires {
        return false;
    }
    let rule_prefix = match rule.filter() {
        Some(filter) => {
            if filter.tag().is_some() {
                return false;
            }
            match filter.and() {
                Some(and) if !and.tags().is_empty() => return false,
                Some(and) => and.prefix().unwrap_or(""),
                None => filter.prefix().unwrap_or(""),
            }
        }
        #[allow(deprecated)]
        None => rule.prefix().unwrap_or(""),
    };
    prefix.starts_with(rule_prefix)
}

/// `copy_source` is the URL-encoded `bucket/key`.
fn copy_source(bucket: &str, key: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(key.as_bytes()).collect();
    // Keep the slashes of the key readable; form encoding turned them into %2F.
    format!("{bucket}/{}", encoded.replace("%2F", "/"))
}

fn describe_dispatch(e: &aws_smithy_runtime_api::client::result::DispatchFailure) -> String {
    if e.is_io() {
        "connection refused or dropped".into()
    } else if e.is_timeout() {
        "timed out".into()
    } else {
        "could not connect (check the endpoint address and the network)".into()
    }
}
