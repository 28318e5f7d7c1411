//! Everything that crosses the network to RunPod and S3-compatible storage. Every value
//! that comes back is untrusted until it has passed through this crate's validation.

mod error;
mod job_status;
mod net;
mod output;
pub mod runpod;
pub mod storage;

pub use error::CloudError;
pub use job_status::{JobState, JobStatus};
pub use output::{validate_output, DebugImageSource, OutputLimits, ValidatedOutput};
