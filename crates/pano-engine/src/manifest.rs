//! The manifest that ships beside the two ONNX files: what the engine must know about them.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::EngineError;

pub const MANIFEST_FILE: &str = "manifest.json";

#[derive(Debug, Clone, Deserialize)]
pub struct ModelManifest {
    /// Recorded with every result, so an analysis always says which models made it.
    pub model_version: String,
    /// Random-weight test models: results are labelled "not for diagnosis" wherever shown.
    #[serde(default)]
    pub test_model: bool,
    #[serde(default)]
    pub notice: Option<String>,
    /// fp32 (the default, what the reference computes) or an optional faster pack.
    #[serde(default)]
    pub precision: Precision,
    pub segmentation: SegmentationSpec,
    pub detection: DetectionSpec,
    pub postprocess: PostprocessSpec,
    #[serde(skip)]
    pub dir: PathBuf,
}

/// The two models of a pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelRole {
    Segmentation,
    Detection,
}

/// The numbers the pack's models compute with. fp32 is the exported models as they are; an
/// INT8 (CPU) or FP16 (GPU) pack is made from them by the exporter, runs faster, and gives
/// slightly different scores, so wherever results are shown the pack is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    Fp32,
    Int8,
    Fp16,
}

impl Precision {
    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp32 => "fp32",
            Precision::Int8 => "int8",
            Precision::Fp16 => "fp16",
        }
    }

    /// What a clinic reads about a pack that is not the standard one.
    pub fn describe(self) -> Option<&'static str> {
        match self {
            Precision::Fp32 => None,
            Precision::Int8 => Some(
                "faster INT8 models are in use: scores differ slightly from the standard models",
            ),
            Precision::Fp16 => Some(
                "faster FP16 models are in use: scores differ slightly from the standard models",
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelOrder {
    Rgb,
    Bgr,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SegmentationSpec {
    pub file: String,
    pub sha256: String,
    pub input: String,
    pub output: String,
    pub channel_order: ChannelOrder,
    /// Pixel values fed to the graph span this range (normalisation is inside the graph).
    pub value_range: [f32; 2],
    pub num_classes: usize,
    pub resize: ShortestEdgeResize,
    /// Pad the resized image to a multiple of this (detectron2's size divisibility); 0 = none.
    #[serde(default)]
    pub size_divisibility: u32,
    /// Value of padded pixels, per channel as fed. detectron2 pads after normalising, with
    /// 0, which is the pixel mean before the in-graph normalisation.
    #[serde(default)]
    pub pad_value: Option<[f32; 3]>,
    /// The graph's logits are at 1/`logit_stride` of its input: the graph stops before
    /// detectron2's head upsample (bilinear, by this factor), which the engine does as it
    /// reads them. 1 (or absent): the graph upsamples, as earlier exports did.
    #[serde(default = "one")]
    pub logit_stride: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize)]
pub struct ShortestEdgeResize {
    pub rule: String,
    pub short_edge: u32,
    pub max_size: u32,
    pub filter: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DetectionSpec {
    pub file: String,
    pub sha256: String,
    pub input: String,
    pub outputs: [String; 2],
    pub channel_order: ChannelOrder,
    /// The long side of the letterboxed input (Ultralytics' `imgsz`).
    pub image_size: u32,
    /// How the image is letterboxed; absent means `square` (what earlier packs were).
    #[serde(default)]
    pub letterbox: LetterboxMode,
    /// The model's largest stride: `auto` pads the short side up to a multiple of it.
    #[serde(default = "default_stride")]
    pub stride: u32,
    pub class_names: Vec<String>,
    pub conf_threshold: f32,
    pub iou_threshold: f32,
    pub max_det: usize,
}

/// How the detector's input is letterboxed (Ultralytics' `LetterBox`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LetterboxMode {
    /// Padded to an `image_size` square (`auto=False`): for models exported with a static
    /// input, whose graph takes nothing else.
    #[default]
    Square,
    /// The long side to `image_size`, the short side padded only up to a multiple of
    /// `stride` (`auto=True`): what Ultralytics' predictor does with `.pt` weights, i.e. what
    /// the reference runs. Needs a model exported with dynamic height and width.
    Auto,
}

fn default_stride() -> u32 {
    32
}

#[derive(Debug, Clone, Deserialize)]
pub struct PostprocessSpec {
    pub tooth_nms_threshold: f32,
    pub debug_min_score: f32,
}

impl ModelManifest {
    /// Reads `manifest.json` from a models folder and checks what it says on its own.
    pub fn load(dir: &Path) -> Result<Self, EngineError> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|_| EngineError::ManifestMissing(path.clone()))?;
        let invalid = |detail: String| EngineError::ManifestInvalid {
            path: path.clone(),
            detail,
        };
        let mut manifest: ModelManifest =
            serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        manifest.dir = dir.to_path_buf();
        let seg = &manifest.segmentation;
        if seg.resize.rule != "shortest_edge" || seg.resize.filter != "pil_bilinear" {
            return Err(invalid(format!(
                "unsupported resize rule '{}' / filter '{}' (expected shortest_edge / pil_bilinear)",
                seg.resize.rule, seg.resize.filter
            )));
        }
        if seg.num_classes != 33 {
            return Err(invalid(format!(
                "segmentation must have 33 classes (background + 32 teeth), not {}",
                seg.num_classes
            )));
        }
        if seg.resize.short_edge == 0 || seg.resize.max_size < seg.resize.short_edge {
            return Err(invalid(
                "resize sizes must satisfy 0 < short_edge <= max_size".into(),
            ));
        }
        let det = &manifest.detection;
        if det.stride == 0 || det.image_size == 0 || !det.image_size.is_multiple_of(det.stride) {
            return Err(invalid(format!(
                "detection image_size {} is not a positive multiple of the stride {}",
                det.image_size, det.stride
            )));
        }
        if !det.class_names.iter().any(|n| n.starts_with("TOOTH")) {
            return Err(invalid("detection class_names has no TOOTH class".into()));
        }
        Ok(manifest)
    }

    pub fn segmentation_path(&self) -> PathBuf {
        self.dir.join(&self.segmentation.file)
    }

    pub fn detection_path(&self) -> PathBuf {
        self.dir.join(&self.detection.file)
    }

    /// One model's bytes, checked against the manifest's hash. The engine reads one model at
    /// a time and drops its bytes once its session exists: a full-size pack is half a
    /// gigabyte, and holding both while ONNX Runtime builds each session set the process's
    /// peak memory.
    pub fn read_verified_model(&self, role: ModelRole) -> Result<Vec<u8>, EngineError> {
        match role {
            ModelRole::Segmentation => {
                read_checked(&self.segmentation_path(), &self.segmentation.sha256)
            }
            ModelRole::Detection => read_checked(&self.detection_path(), &self.detection.sha256),
        }
    }
}

fn read_checked(path: &Path, expected: &str) -> Result<Vec<u8>, EngineError> {
    let bytes =
        std::fs::read(path).map_err(|_| EngineError::ModelFileMissing(path.to_path_buf()))?;
    let actual = hex::encode(Sha256::digest(&bytes));
    if !actual.eq_ignore_ascii_case(expected) {
        return Err(EngineError::ModelHashMismatch {
            file: path.to_path_buf(),
            expected: expected.to_string(),
            actual,
        });
    }
    Ok(bytes)
}

/// The models folder when none is configured: `models/` in the installers' resource folder
/// (see [`crate::installed_resource_dirs`]), else the repository's test models (development
/// builds).
pub fn locate_models_dir() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        candidates.extend(
            crate::installed_resource_dirs(&exe_dir)
                .into_iter()
                .map(|d| d.join("models")),
        );
    }
    candidates.extend(crate::runtime::repository_dir("models/test"));
    candidates
        .into_iter()
        .find(|d| d.join(MANIFEST_FILE).is_file())
}
