//! Strict validation of a worker's output before anything is stored.

use base64::Engine as _;
use pano_core::{AnalysisGeometry, Assessment, WorkerOutput};

use crate::CloudError;

/// Bounds on what a worker may send back.
#[derive(Debug, Clone, Copy)]
pub struct OutputLimits {
    /// The whole output as JSON; RunPod itself fails around 19 MB of base64.
    pub max_output_bytes: usize,
    /// One decoded debug image.
    pub max_debug_image_bytes: usize,
}

impl Default for OutputLimits {
    fn default() -> Self {
        Self {
            max_output_bytes: 20 * 1024 * 1024,
            max_debug_image_bytes: 8 * 1024 * 1024,
        }
    }
}

/// Where a debug image is: already here (base64 or `data:` URL), or to fetch over HTTPS.
#[derive(Debug, Clone, PartialEq)]
pub enum DebugImageSource {
    Jpeg(Vec<u8>),
    Url(String),
}

/// A worker output that passed every check.
#[derive(Debug, Clone)]
pub struct ValidatedOutput {
    pub assessment: Assessment,
    pub semantic_segmentation: Option<DebugImageSource>,
    pub instance_detection: Option<DebugImageSource>,
    /// The models the worker says it ran, when it says so (ours does).
    pub model_version: Option<String>,
    pub test_model: bool,
    /// Tooth regions and finding instances, when the worker sent them (ours does; older
    /// workers do not). Consistent in itself; whether it is of the analysed image's size is
    /// for the caller, who knows the image: [`ValidatedOutput::geometry_of_image`].
    pub geometry: Option<AnalysisGeometry>,
}

impl ValidatedOutput {
    /// The geometry, if any, once it is known to be of a `width` x `height` image.
    pub fn geometry_of_image(
        &self,
        width: u32,
        height: u32,
    ) -> Result<Option<&AnalysisGeometry>, CloudError> {
        match &self.geometry {
            Some(g) => {
                g.check_image_size(width, height)?;
                Ok(Some(g))
            }
            None => Ok(None),
        }
    }
}

const NAMES: [&str; 2] = [
    pano_core::DEBUG_SEMANTIC_SEGMENTATION,
    pano_core::DEBUG_INSTANCE_DETECTION,
];

/// Checks a job's `output`: its size, its shape, 256 valid findings in either spelling,
/// debug images that are JPEGs within limits (or HTTPS URLs, fetched later with limits), and
/// the optional geometry (absent: `None`; malformed: [`CloudError::BadGeometry`]).
/// `name` is the image's stem, which the result takes (a worker's CSV names a temp file).
pub fn validate_output(
    output: &serde_json::Value,
    name: &str,
    limits: &OutputLimits,
) -> Result<ValidatedOutput, CloudError> {
    let size = serde_json::to_vec(output)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > limits.max_output_bytes {
        return Err(CloudError::OutputTooLarge {
            limit_mb: limits.max_output_bytes >> 20,
        });
    }
    let parsed: WorkerOutput = serde_json::from_value(output.clone())
        .map_err(|e| CloudError::WrongShape(e.to_string()))?;
    let assessment = parsed.assessment(name)?;
    let geometry = parsed.geometry(None)?;
    let mut images: [Option<DebugImageSource>; 2] = [None, None];
    if let Some(b64) = &parsed.debug_images {
        for (slot, (key, value)) in images.iter_mut().zip(
            NAMES
                .iter()
                .zip([&b64.semantic_segmentation, &b64.instance_detection]),
        ) {
            *slot = Some(DebugImageSource::Jpeg(decode_base64_jpeg(
                key, value, limits,
            )?));
        }
    } else if let Some(urls) = &parsed.debug_image_urls {
        for (slot, (key, value)) in images.iter_mut().zip(
            NAMES
                .iter()
                .zip([&urls.semantic_segmentation, &urls.instance_detection]),
        ) {
            *slot = Some(
                if let Some(data) = value.strip_prefix("data:image/jpeg;base64,") {
                    DebugImageSource::Jpeg(decode_base64_jpeg(key, data, limits)?)
                } else if value.starts_with("https://") {
                    DebugImageSource::Url(value.clone())
                } else {
                    return Err(CloudError::BadDebugImage {
                        name: key,
                        reason: "neither an https:// nor a data:image/jpeg URL".into(),
                    });
                },
            );
        }
    }
    let [semantic_segmentation, instance_detection] = images;
    let model_version = match parsed.model_version {
        Some(v) if v.is_empty() || v.len() > 100 || v.chars().any(char::is_control) => {
            return Err(CloudError::WrongShape(
                "model_version must be 1 to 100 printable characters".into(),
            ))
        }
        other => other,
    };
    Ok(ValidatedOutput {
        assessment,
        semantic_segmentation,
        instance_detection,
        model_version,
        test_model: parsed.test_model,
        geometry,
    })
}

fn decode_base64_jpeg(
    name: &'static str,
    text: &str,
    limits: &OutputLimits,
) -> Result<Vec<u8>, CloudError> {
    if text.len() / 4 * 3 > limits.max_debug_image_bytes {
        return Err(CloudError::BadDebugImage {
            name,
            reason: format!("larger than {} MB", limits.max_debug_image_bytes >> 20),
        });
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| CloudError::BadDebugImage {
            name,
            reason: format!("not base64 ({e})"),
        })?;
    check_jpeg(&bytes).map_err(|reason| CloudError::BadDebugImage { name, reason })?;
    Ok(bytes)
}

/// A debug image must be a whole JPEG that decodes, within bounds on its size (a decoder
/// bomb from a compromised worker must not take the desktop down).
pub fn check_jpeg(bytes: &[u8]) -> Result<(), String> {
    // A JPEG starts with SOI and ends with EOI; anything else is not the image we asked for.
    if bytes.len() < 4 || bytes[..2] != [0xFF, 0xD8] || bytes[bytes.len() - 2..] != [0xFF, 0xD9] {
        return Err("not a complete JPEG".into());
    }
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Jpeg);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    reader
        .decode()
        .map(|_| ())
        .map_err(|e| format!("does not decode as a JPEG ({e})"))
}
