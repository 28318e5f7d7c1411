//! Our RunPod worker: the job handler (image bytes in, the endpoint's output JSON out,
//! docs/cloud-contracts.md), the download of `image_url`, and RunPod's worker protocol.

pub mod download;
pub mod protocol;
pub mod serve_api;

use base64::Engine as _;
use pano_core::{DebugImages, WorkerOutput};
use pano_engine::Engine;
use pano_imaging::{import_bytes, ImportLimits};
use thiserror::Error;

/// Why a job failed; becomes the job's `{"error": "..."}`.
#[derive(Debug, Error)]
pub enum JobError {
    #[error("the image could not be read: {0}")]
    Image(#[from] pano_imaging::ImportError),
    #[error("the analysis failed: {0}")]
    Analysis(#[from] pano_engine::EngineError),
    #[error("the job's image_url is unusable: {0}")]
    BadUrl(String),
    #[error("the image could not be downloaded: {0}")]
    Download(String),
    /// Redirects are not followed: one could lead anywhere, including the worker's own
    /// network. (Not "could not be downloaded": trying again would not help.)
    #[error("the image_url answered with a redirect (HTTP {status}), which is not followed")]
    Redirected { status: u16 },
    #[error("the image is larger than {limit_mb} MB")]
    TooLarge { limit_mb: usize },
    #[error("the analysis was stopped")]
    Cancelled,
}

impl JobError {
    /// The job output RunPod relays to the client for a failed job.
    pub fn to_output(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.to_string() })
    }
}

/// Analyses one downloaded image. `name` is the CSV's `file_name` (the object's stem).
/// With `debug`, both debug JPEGs come back base64-encoded. The geometry (tooth regions and
/// finding instances) always comes back, in the optional `geometry` field.
pub fn run_job(
    engine: &Engine,
    image: &[u8],
    name: &str,
    debug: bool,
) -> Result<WorkerOutput, JobError> {
    let imported = import_bytes(image, &ImportLimits::default())?;
    let analysis = engine.analyze(&imported.rgb, name, debug)?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let debug_images = analysis.debug.map(|d| DebugImages {
        semantic_segmentation: b64.encode(&d.semantic_segmentation),
        instance_detection: b64.encode(&d.instance_detection),
    });
    Ok(
        WorkerOutput::from_assessment(&analysis.assessment, debug_images)
            .with_model_version(&analysis.model_version, analysis.test_model)
            .with_geometry(&analysis.geometry),
    )
}
