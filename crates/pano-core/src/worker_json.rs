//! The JSON our RunPod endpoint takes and returns (see docs/cloud-contracts.md).

use serde::{Deserialize, Serialize};

use crate::{AnalysisGeometry, Assessment, CoreError, GeometryError, ToothFinding, NUM_ENTRIES};

pub const DEBUG_SEMANTIC_SEGMENTATION: &str = "semantic-segmentation.jpg";
pub const DEBUG_INSTANCE_DETECTION: &str = "instance-detection.jpg";

/// The job input: where to fetch the radiograph, and whether to draw the debug images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerInput {
    pub image_url: String,
    #[serde(default)]
    pub debug: bool,
}

/// The two debug images: base64 JPEG in `debug_images`, or URLs (https or `data:`) in
/// `debug_image_urls`, depending on the worker variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebugImages {
    #[serde(rename = "semantic-segmentation.jpg")]
    pub semantic_segmentation: String,
    #[serde(rename = "instance-detection.jpg")]
    pub instance_detection: String,
}

/// A finding as a worker writes it; `finding` may use either spelling.
pub type WorkerFinding = ToothFinding;

/// The job output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerOutput {
    pub findings: Vec<WorkerFinding>,
    pub csv_data: String,
    pub num_findings: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug_images: Option<DebugImages>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug_image_urls: Option<DebugImages>,
    /// The models that made the result (our worker sends it; the service records it so a
    /// cloud result names its models like a local one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    /// Results of random-weight test models: labelled "not for diagnosis" wherever shown.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test_model: bool,
    /// The analysis's tooth regions and finding instances ([`AnalysisGeometry`]'s JSON). Kept
    /// as raw JSON here so that a malformed one is refused with its own error by
    /// [`WorkerOutput::geometry`] rather than failing the whole output's parse; clients that
    /// predate it ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<serde_json::Value>,
}

impl WorkerOutput {
    pub fn from_assessment(assessment: &Assessment, debug_images: Option<DebugImages>) -> Self {
        Self {
            findings: assessment.findings().collect(),
            csv_data: crate::write_csv(assessment),
            num_findings: NUM_ENTRIES,
            debug_images,
            debug_image_urls: None,
            model_version: None,
            test_model: false,
            geometry: None,
        }
    }

    pub fn with_geometry(mut self, geometry: &AnalysisGeometry) -> Self {
        self.geometry = serde_json::to_value(geometry).ok();
        self
    }

    /// The geometry, checked: `None` when the worker sent none. With `image_size`, it must be
    /// that of the analysed image.
    pub fn geometry(
        &self,
        image_size: Option<(u32, u32)>,
    ) -> Result<Option<AnalysisGeometry>, GeometryError> {
        self.geometry
            .as_ref()
            .map(|value| AnalysisGeometry::from_untrusted_value(value, image_size))
            .transpose()
    }

    pub fn with_model_version(mut self, version: &str, test_model: bool) -> Self {
        self.model_version = Some(version.to_string());
        self.test_model = test_model;
        self
    }

    /// The findings as a validated assessment named `name` (a worker's CSV names a temporary
    /// file, so the caller supplies the real stem).
    pub fn assessment(&self, name: &str) -> Result<Assessment, CoreError> {
        if self.num_findings != NUM_ENTRIES {
            return Err(CoreError::WrongEntryCount(self.num_findings));
        }
        Assessment::from_findings(name, self.findings.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FindingKind, NUM_TEETH};

    #[test]
    fn output_round_trips_and_reads_class_name_spelling() {
        let a = Assessment::from_scores("img", [[0.25; NUM_TEETH]; 8]).unwrap();
        let out = WorkerOutput::from_assessment(&a, None);
        let json = serde_json::to_string(&out).unwrap();
        assert!(json.contains("\"fdi\":\"11\""));
        assert!(!json.contains("debug_images"));
        let back: WorkerOutput = serde_json::from_str(&json).unwrap();
        assert_eq!(back.assessment("img").unwrap(), a);

        let worker_style = json.replace("ROOT_CANAL_FILLING", "ENDO");
        let back: WorkerOutput = serde_json::from_str(&worker_style).unwrap();
        assert_eq!(back.findings[4 * 32].finding, FindingKind::RootCanalFilling);
    }

    #[test]
    fn debug_images_use_file_names_as_keys() {
        let json = r#"{"findings":[],"csv_data":"","num_findings":0,
            "debug_image_urls":{"semantic-segmentation.jpg":"data:image/jpeg;base64,AA==",
                                "instance-detection.jpg":"https://x/y.jpg"}}"#;
        let out: WorkerOutput = serde_json::from_str(json).unwrap();
        assert_eq!(
            out.debug_image_urls.unwrap().instance_detection,
            "https://x/y.jpg"
        );
        assert_eq!(out.debug_images, None);
    }

    #[test]
    fn wrong_shapes_are_specific_errors() {
        let json = r#"{"findings":[],"csv_data":"","num_findings":12}"#;
        let out: WorkerOutput = serde_json::from_str(json).unwrap();
        assert_eq!(out.assessment("x"), Err(CoreError::WrongEntryCount(12)));
        let bad_tooth = r#"{"findings":[{"fdi":"19","finding":"CARIES","score":0.1}],"csv_data":"","num_findings":256}"#;
        assert!(serde_json::from_str::<WorkerOutput>(bad_tooth).is_err());
        let input: WorkerInput = serde_json::from_str(r#"{"image_url":"https://a/b"}"#).unwrap();
        assert!(!input.debug);
    }

    /// Found by fuzzing (tests/fuzz_core.rs): serde reads 1e308 into an f32 score as
    /// infinity, so a parsed `WorkerOutput` can hold one (and would write it back as null);
    /// the validated assessment refuses it.
    #[test]
    fn a_score_beyond_f32_is_refused_by_the_assessment() {
        let a = Assessment::from_scores("img", [[0.25; NUM_TEETH]; 8]).unwrap();
        let json = serde_json::to_string(&WorkerOutput::from_assessment(&a, None))
            .unwrap()
            .replacen("\"score\":0.25", "\"score\":1e308", 1);
        let out: WorkerOutput = serde_json::from_str(&json).unwrap();
        assert!(out.findings[0].score.is_infinite());
        assert!(matches!(
            out.assessment("img"),
            Err(CoreError::ScoreOutOfRange { .. })
        ));
    }

    #[test]
    fn geometry_is_optional_and_checked_when_present() {
        let a = Assessment::from_scores("img", [[0.25; NUM_TEETH]; 8]).unwrap();
        let plain = WorkerOutput::from_assessment(&a, None);
        assert!(!serde_json::to_string(&plain).unwrap().contains("geometry"));
        assert_eq!(plain.geometry(None), Ok(None));

        let g = AnalysisGeometry::new(640, 320);
        let with = plain.clone().with_geometry(&g);
        let json = serde_json::to_string(&with).unwrap();
        assert!(json.contains(
            r#""geometry":{"findings":[],"height":320,"teeth":[],"version":1,"width":640}"#
        ));
        let back: WorkerOutput = serde_json::from_str(&json).unwrap();
        assert_eq!(back.geometry(Some((640, 320))), Ok(Some(g)));
        assert!(matches!(
            back.geometry(Some((641, 320))),
            Err(GeometryError::WrongImageSize { .. })
        ));

        // A malformed geometry does not stop the findings from parsing; it is its own error.
        let bad = json.replace(r#""version":1"#, r#""version":9"#);
        let back: WorkerOutput = serde_json::from_str(&bad).unwrap();
        assert_eq!(back.assessment("img").unwrap(), a);
        assert_eq!(
            back.geometry(None),
            Err(GeometryError::UnsupportedVersion(9))
        );
    }

    // The parser's property tests (fuzzing): tests/fuzz_core.rs.
}
