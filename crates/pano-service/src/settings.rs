//! Settings: a TOML file (no secrets, ever), then the environment variables the original
//! web deployment used, then command-line flags. Secrets come separately ([`Secrets`]):
//! from the OS keychain in the app, from the environment for headless use, and are never
//! written anywhere.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pano_cloud::storage::{S3Credentials, S3Settings};
use pano_engine::ExecutionProviderChoice;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::ServiceError;

/// Where an analysis runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// This computer's engine.
    Local,
    /// RunPod (primary, then backup endpoint); outages are waited out.
    Cloud,
    /// RunPod when configured, falling back to this computer when the cloud fails and the
    /// settings allow it.
    #[default]
    Auto,
}

impl BackendChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendChoice::Local => "local",
            BackendChoice::Cloud => "cloud",
            BackendChoice::Auto => "auto",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ServiceError> {
        match s.to_ascii_lowercase().as_str() {
            "local" => Ok(Self::Local),
            "cloud" => Ok(Self::Cloud),
            "auto" => Ok(Self::Auto),
            other => Err(ServiceError::Settings(format!(
                "unknown backend '{other}' (expected local, cloud or auto)"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunpodFileSettings {
    pub base_url: String,
    pub endpoint_id: Option<String>,
    pub backup_endpoint_id: Option<String>,
    pub execution_timeout_s: u64,
    pub queue_timeout_s: u64,
    /// How long the presigned URL a worker downloads from stays valid.
    pub presign_ttl_s: u64,
    pub request_timeout_s: u64,
    pub max_attempts: u32,
}

impl Default for RunpodFileSettings {
    fn default() -> Self {
        Self {
            base_url: "https://api.runpod.ai/v2".into(),
            endpoint_id: None,
            backup_endpoint_id: None,
            execution_timeout_s: 600,
            queue_timeout_s: 600,
            presign_ttl_s: 900,
            request_timeout_s: 60,
            max_attempts: 6,
        }
    }
}

/// What an approved set keeps as its `input.*` in the clinic's permanent storage. The
/// storage is the clinic's own, so the original file (DICOM header and all) is the default;
/// a clinic that wants no names in it chooses the de-identified pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArchiveInput {
    /// The file as it was dropped.
    #[default]
    Original,
    /// The imported pixels as a lossless PNG (what the cloud worker received).
    Deidentified,
}

/// Where approved analyses are filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum ArchiveSettings {
    /// Not configured: approval is refused until it is.
    #[default]
    None,
    /// The `[s3]` bucket, under its permanent prefix.
    S3,
    /// A local folder or mounted share.
    Folder { path: PathBuf },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrySettings {
    /// First wait after an outage; doubles per attempt up to `cap_s`.
    pub base_s: f64,
    pub cap_s: f64,
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            base_s: 5.0,
            cap_s: 300.0,
        }
    }
}

/// The clinic's PACS: where approved analyses go as DICOM (a Secondary Capture of the
/// annotated radiograph and an Encapsulated PDF of the report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PacsSettings {
    /// DICOMweb base address (`https://pacs.example/dicom-web`): STOW-RS.
    pub dicomweb_url: Option<String>,
    /// DIMSE C-STORE: the PACS's host, port and AE title, and ours.
    pub host: Option<String>,
    pub port: Option<u16>,
    pub called_ae_title: Option<String>,
    pub calling_ae_title: Option<String>,
    /// Seconds to wait for the PACS.
    pub timeout_s: Option<u64>,
    /// Send every approved analysis when it is filed (a PACS that is down is waited for).
    pub send_on_approval: bool,
}

impl Default for PacsSettings {
    fn default() -> Self {
        Self {
            dicomweb_url: None,
            host: None,
            port: None,
            called_ae_title: None,
            calling_ae_title: None,
            timeout_s: None,
            send_on_approval: true,
        }
    }
}

impl PacsSettings {
    pub fn is_configured(&self) -> bool {
        self.dicomweb_url
            .as_deref()
            .is_some_and(|u| !u.trim().is_empty())
            || self.host.as_deref().is_some_and(|h| !h.trim().is_empty())
    }
}

/// The practice-management system's side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct PmsSettings {
    /// A folder the PMS imports from: each approved analysis's report and annotated
    /// radiograph are written there, named after the patient's PMS number.
    pub export_folder: Option<PathBuf>,
}

/// The paper the patient report is laid out for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaperChoice {
    #[default]
    A4,
    Letter,
}

impl PaperChoice {
    pub fn paper(self) -> pano_report::Paper {
        match self {
            PaperChoice::A4 => pano_report::Paper::A4,
            PaperChoice::Letter => pano_report::Paper::Letter,
        }
    }
}

/// The clinic's letterhead on the patient report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ReportSettings {
    pub clinic_name: String,
    /// One line per line of the address.
    pub clinic_address: String,
    /// A PNG or JPEG file.
    pub logo: Option<PathBuf>,
    pub paper: PaperChoice,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub backend: BackendChoice,
    /// With `auto`: run locally when the cloud fails.
    pub local_fallback: bool,
    /// The SQLite file; default `<data_dir>/pano.sqlite`.
    pub database: Option<PathBuf>,
    /// Artefacts and the queue lock; default the platform's data folder + `pano`.
    pub data_dir: Option<PathBuf>,
    /// Folder with `manifest.json` and the two ONNX files.
    pub models_dir: Option<PathBuf>,
    pub provider: ExecutionProviderChoice,
    /// Cloud analyses in flight at once.
    pub cloud_concurrency: usize,
    /// Who is recorded in the audit log for queue work.
    pub operator: Option<String>,
    pub runpod: RunpodFileSettings,
    pub s3: Option<S3Settings>,
    pub archive: ArchiveSettings,
    /// What the archived set keeps of the input image.
    pub archive_input: ArchiveInput,
    pub retry: RetrySettings,
    /// The patient report's letterhead and paper.
    pub report: ReportSettings,
    /// The clinic's PACS (DICOMweb and/or C-STORE).
    pub pacs: PacsSettings,
    /// The practice-management system's import folder.
    pub pms: PmsSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            backend: BackendChoice::Auto,
            local_fallback: true,
            database: None,
            data_dir: None,
            models_dir: None,
            provider: ExecutionProviderChoice::Cpu,
            cloud_concurrency: 4,
            operator: None,
            runpod: RunpodFileSettings::default(),
            s3: None,
            archive: ArchiveSettings::None,
            archive_input: ArchiveInput::Original,
            retry: RetrySettings::default(),
            report: ReportSettings::default(),
            pacs: PacsSettings::default(),
            pms: PmsSettings::default(),
        }
    }
}

/// `~/.config/pano/settings.toml` (or the platform's equivalent).
pub fn default_settings_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("pano").join("settings.toml"))
}

impl Settings {
    /// Reads a settings file; a missing file means the defaults.
    pub fn load(path: &Path) -> Result<Self, ServiceError> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                ServiceError::Settings(format!("{}: {}", path.display(), e.message()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(ServiceError::Settings(format!(
                "{} cannot be read: {e}",
                path.display()
            ))),
        }
    }

    /// Writes the file atomically. `Settings` has no field that can hold a secret.
    pub fn save(&self, path: &Path) -> Result<(), ServiceError> {
        let text =
            toml::to_string_pretty(self).map_err(|e| ServiceError::Settings(e.to_string()))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| ServiceError::Settings(format!("{}: {e}", dir.display())))?;
        }
        crate::durable::write_file(path, text.as_bytes())
            .map_err(|e| ServiceError::Settings(format!("{}: {e}", path.display())))
    }

    /// Overrides from the environment variables of the original deployment
    /// (`RUNPOD_ENDPOINT_ID`, `AWS_REGION`) plus `RUNPOD_BASE_URL`, `RUNPOD_BACKUP_ENDPOINT_ID`,
    /// `S3_ENDPOINT`, `S3_BUCKET`, `PANO_DB`, `PANO_DATA_DIR`, `PANO_MODELS`, `PANO_BACKEND`.
    /// `var` is `std::env::var` in production, a map in tests.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ServiceError> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        if let Some(v) = var("RUNPOD_ENDPOINT_ID") {
            self.runpod.endpoint_id = Some(v);
        }
        if let Some(v) = var("RUNPOD_BACKUP_ENDPOINT_ID") {
            self.runpod.backup_endpoint_id = Some(v);
        }
        if let Some(v) = var("RUNPOD_BASE_URL") {
            self.runpod.base_url = v;
        }
        let s3_vars = [var("S3_ENDPOINT"), var("S3_BUCKET"), var("AWS_REGION")];
        if s3_vars.iter().any(Option::is_some) {
            let s3 = self.s3.get_or_insert_with(S3Settings::default);
            let [endpoint, bucket, region] = s3_vars;
            if let Some(endpoint) = endpoint {
                // A custom endpoint is MinIO, Spaces, R2...: path style works with all of them.
                s3.path_style = true;
                s3.endpoint = Some(endpoint);
            }
            if let Some(bucket) = bucket {
                s3.bucket = bucket;
            }
            if let Some(region) = region {
                s3.region = region;
            }
        }
        if let Some(v) = var("PANO_DB") {
            self.database = Some(v.into());
        }
        if let Some(v) = var("PANO_DATA_DIR") {
            self.data_dir = Some(v.into());
        }
        if let Some(v) = var("PANO_MODELS") {
            self.models_dir = Some(v.into());
        }
        if let Some(v) = var("PANO_BACKEND") {
            self.backend = BackendChoice::parse(&v)?;
        }
        Ok(())
    }

    pub fn data_dir(&self) -> Result<PathBuf, ServiceError> {
        self.data_dir
            .clone()
            .or_else(|| dirs::data_local_dir().map(|d| d.join("pano")))
            .ok_or_else(|| {
                ServiceError::Settings("no data folder: set data_dir or PANO_DATA_DIR".into())
            })
    }

    pub fn database_path(&self) -> Result<PathBuf, ServiceError> {
        match &self.database {
            Some(p) => Ok(p.clone()),
            None => Ok(self.data_dir()?.join("pano.sqlite")),
        }
    }

    /// Whether saving `new` over `self` sends the RunPod key somewhere else: the key is a
    /// bearer token sent as it is with every request, so a changed scheme, host or port
    /// (a typo, a look-alike domain, a pasted URL) must not receive it without the clinic
    /// entering it again. The S3 secret never travels (requests are signed), so a changed
    /// S3 endpoint keeps its keys.
    pub fn runpod_destination_changed(&self, new: &Settings) -> bool {
        let origin = |u: &str| url::Url::parse(u.trim()).ok().map(|u| u.origin());
        match (origin(&self.runpod.base_url), origin(&new.runpod.base_url)) {
            (Some(old), Some(new)) => old != new || !new.is_tuple(),
            _ => true,
        }
    }

    pub fn presign_ttl(&self) -> Duration {
        Duration::from_secs(self.runpod.presign_ttl_s.max(60))
    }
}

/// The keys, kept apart from [`Settings`] so they can never be serialised with them.
#[derive(Clone, Default)]
pub struct Secrets {
    pub runpod_api_key: Option<SecretString>,
    pub s3: Option<S3Credentials>,
    /// Why the keys could not be read just now (a locked keychain, no Secret Service):
    /// cloud jobs then wait for them instead of failing as "not configured".
    pub keys_unavailable: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field(
                "runpod_api_key",
                &self.runpod_api_key.as_ref().map(|_| "<set>"),
            )
            .field("s3", &self.s3.as_ref().map(|_| "<set>"))
            .field("keys_unavailable", &self.keys_unavailable)
            .finish()
    }
}

impl Secrets {
    /// `RUNPOD_API_KEY`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let s3 = match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) => Some(S3Credentials {
                access_key_id: id,
                secret_access_key: secret.into(),
            }),
            _ => None,
        };
        Self {
            runpod_api_key: var("RUNPOD_API_KEY").map(Into::into),
            s3,
            keys_unavailable: None,
        }
    }
}

#[cfg(test)]
mod destination_tests {
    use super::*;

    fn with_base(url: &str) -> Settings {
        let mut s = Settings::default();
        s.runpod.base_url = url.into();
        s
    }

    #[test]
    fn the_runpod_key_is_asked_again_only_when_it_would_go_elsewhere() {
        let old = with_base("https://api.runpod.ai/v2");
        for same in [
            "https://api.runpod.ai/v2",
            "https://API.runpod.ai/v2/",
            "https://api.runpod.ai:443/v2",
        ] {
            assert!(!old.runpod_destination_changed(&with_base(same)), "{same}");
        }
        for elsewhere in [
            "http://api.runpod.ai/v2",
            "https://api.runpod.ai.example.com/v2",
            "https://api.runpod.ai:8443/v2",
            "https://evil.example/v2",
            "not a url",
        ] {
            assert!(
                old.runpod_destination_changed(&with_base(elsewhere)),
                "{elsewhere}"
            );
        }
    }
}
