//! The analysis engine: the reference pipeline (docs/reference-pipeline.md) on ONNX Runtime.
//!
//! `Engine::load` checks the model manifest, the files' hashes and the tensor shapes, and
//! opens both sessions once; `Engine::analyze` turns an RGB radiograph into the 256 scores,
//! the detections and, on request, the two debug images. Nothing here knows about storage,
//! queues or user interfaces.

mod components;
mod debug_render;
mod detection;
mod engine;
mod error;
mod fastmath;
mod geometry;
mod heap;
mod manifest;
mod mask;
mod postprocess;
mod provider;
mod resize;
mod runtime;
mod segmentation;
mod tuning;

pub use detection::{Detection, DetectionDecoder, Letterbox};
pub use engine::{Analysis, DebugJpegs, Engine, EngineOptions, MemoryAfter, StageTimings};
pub use error::EngineError;
pub use geometry::{mask_rings, MIN_COMPONENT_PIXELS, MIN_TOOTH_SHARE, SIMPLIFY_TOLERANCE};
pub use manifest::{
    locate_models_dir, DetectionSpec, LetterboxMode, ModelManifest, ModelRole, Precision,
    SegmentationSpec,
};
pub use mask::BoxMask;
pub use postprocess::{
    score_contributions, score_contributions_and_class_map, score_findings,
    scores_from_contributions, Contribution,
};
pub use provider::ExecutionProviderChoice;
pub use runtime::{
    installed_resource_dirs, locate_runtime_library, opt_out_of_runtime_telemetry,
    RUNTIME_ENV_VARS, TELEMETRY_OPT_OUT_VARS,
};
pub use segmentation::{ClassMap, LogitMap, ProbabilityField};
pub use tuning::{GraphOptimization, SessionTuning};
