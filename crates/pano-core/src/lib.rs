//! Domain types shared by every part of the product.
//!
//! This crate does no I/O: it turns values into text and text into values, and validates
//! what comes from outside (a CSV, a worker's JSON) before anything else trusts it.

mod assessment;
mod csv;
mod error;
mod finding;
mod geometry;
mod review;
mod thresholds;
mod tooth;
mod worker_json;

pub use assessment::{Assessment, ToothFinding, NUM_ENTRIES};
pub use csv::{
    parse_csv, parse_reviewed_csv, write_csv, write_reviewed_csv, ReviewedCsv, CSV_HEADER,
    REVIEWED_CSV_HEADER,
};
pub use error::CoreError;
pub use finding::FindingKind;
pub use geometry::{
    AnalysisGeometry, FindingInstance, GeometryError, Ring, ToothOutline, ToothShare,
    GEOMETRY_VERSION, MAX_FINDING_INSTANCES, MAX_GEOMETRY_JSON_BYTES, MAX_GEOMETRY_POINTS,
};
pub use review::{Decision, DecisionUpdate, AI_SOURCE};
pub use thresholds::{ThresholdError, Thresholds, DEFAULT_THRESHOLD};
pub use tooth::{Fdi, ToothIndex, NUM_TEETH};
pub use worker_json::{
    DebugImages, WorkerFinding, WorkerInput, WorkerOutput, DEBUG_INSTANCE_DETECTION,
    DEBUG_SEMANTIC_SEGMENTATION,
};
