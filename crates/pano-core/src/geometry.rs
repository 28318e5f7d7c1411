//! Vector geometry of one analysis: each tooth's region from the segmentation and each finding
//! instance from the detection, as polygons in the pixels of the analysed (imported, upright)
//! image.
//!
//! Polygons rather than run-length masks: the UI draws them directly as SVG paths at any
//! zoom (and gets hover hit-testing from the browser), and after Ramer-Douglas-Peucker
//! simplification at 1 px they are a few kilobytes per tooth. Each ring is flattened
//! `[x0, y0, x1, y1, ...]`, closed implicitly, an outer boundary only (holes are omitted).
//!
//! The engine builds these values; anything read from outside (a worker's output, a stored
//! file) goes through [`AnalysisGeometry::from_untrusted_json`] or the `Deserialize` impl, both
//! of which check every invariant below and answer a specific [`GeometryError`].

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{Fdi, FindingKind};

/// The only format version there is.
pub const GEOMETRY_VERSION: u32 = 1;
/// At most this many finding instances (real models find a few dozen).
pub const MAX_FINDING_INSTANCES: usize = 2000;
/// At most this many points in all rings together.
pub const MAX_GEOMETRY_POINTS: usize = 200_000;
/// At most this many bytes of JSON are parsed: 200 000 points of up to 12 characters each
/// plus the rest.
pub const MAX_GEOMETRY_JSON_BYTES: usize = 8 * 1024 * 1024;

/// What is wrong with geometry that came from outside.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum GeometryError {
    #[error("the geometry is {bytes} bytes of JSON, more than the limit of {limit}")]
    TooLarge { bytes: usize, limit: usize },
    #[error("the geometry is not JSON of the expected shape: {0}")]
    Shape(String),
    #[error("geometry version {0} is not supported (expected {GEOMETRY_VERSION})")]
    UnsupportedVersion(u32),
    #[error("the geometry is for a {width}x{height} image, not the analysed {expected_width}x{expected_height}")]
    WrongImageSize {
        width: u32,
        height: u32,
        expected_width: u32,
        expected_height: u32,
    },
    #[error("the geometry's image size {width}x{height} is empty")]
    EmptyImage { width: u32, height: u32 },
    #[error("{0}: a ring needs an even number of coordinates and at least 3 points")]
    BadRing(String),
    #[error("{place}: point ({x}, {y}) lies outside the {width}x{height} image")]
    PointOutside {
        place: String,
        x: u32,
        y: u32,
        width: u32,
        height: u32,
    },
    #[error("{place} has no outline")]
    NoOutline { place: String },
    #[error("tooth {0} is listed more than once")]
    DuplicateTooth(u32),
    #[error("'{0}' is not an FDI tooth number of the permanent dentition")]
    UnknownTooth(u32),
    #[error("finding instance {index} has id {id}; ids are the instances' positions")]
    BadId { index: usize, id: u32 },
    #[error("finding instance {id}: '{finding}' is not one of the seven detected findings")]
    BadFinding { id: u32, finding: String },
    #[error("finding instance {id}: score {score} is not a number in [0, 1]")]
    BadScore { id: u32, score: f64 },
    #[error("finding instance {id}: box {bbox:?} is not inside the image with x0 <= x1, y0 <= y1")]
    BadBox { id: u32, bbox: [f64; 4] },
    #[error("finding instance {id}: share {share} of tooth {fdi} is not in (0, 1]")]
    BadShare { id: u32, fdi: u32, share: f64 },
    #[error("finding instance {id} names tooth {fdi} twice")]
    DuplicateShare { id: u32, fdi: u32 },
    #[error("{0} finding instances, more than the limit of {MAX_FINDING_INSTANCES}")]
    TooManyInstances(usize),
    #[error("{0} points in all rings, more than the limit of {MAX_GEOMETRY_POINTS}")]
    TooManyPoints(usize),
}

/// One closed polygon, flattened `[x0, y0, x1, y1, ...]`, in integer pixel-corner
/// coordinates: `0..=width` and `0..=height` (a pixel (x, y) covers the unit square from
/// corner (x, y) to (x + 1, y + 1), so a ring traced along pixel edges covers them exactly).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ring(Vec<u32>);

impl Ring {
    /// A ring through `points` in order; the caller guarantees at least 3 points.
    pub fn from_points(points: impl IntoIterator<Item = (u32, u32)>) -> Self {
        Self(points.into_iter().flat_map(|(x, y)| [x, y]).collect())
    }

    pub fn points(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.0.chunks_exact(2).map(|p| (p[0], p[1]))
    }

    pub fn len(&self) -> usize {
        self.0.len() / 2
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The flattened coordinates as they appear in the JSON.
    pub fn coordinates(&self) -> &[u32] {
        &self.0
    }

    fn check(
        &self,
        place: &dyn Fn() -> String,
        width: u32,
        height: u32,
    ) -> Result<(), GeometryError> {
        if !self.0.len().is_multiple_of(2) || self.0.len() < 6 {
            return Err(GeometryError::BadRing(place()));
        }
        if let Some((x, y)) = self.points().find(|&(x, y)| x > width || y > height) {
            return Err(GeometryError::PointOutside {
                place: place(),
                x,
                y,
                width,
                height,
            });
        }
        Ok(())
    }
}

/// The region of one tooth: the outer rings of its connected components in the
/// segmentation's per-pixel most likely class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToothOutline {
    #[serde(serialize_with = "fdi_number::serialize")]
    pub fdi: Fdi,
    pub outline: Vec<Ring>,
}

/// How much one finding instance raised one tooth's score: the instance's confidence times
/// the share of its pixels' tooth probability that fell on this tooth (the factor the
/// post-processing multiplies into the tooth's score for this finding).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ToothShare {
    #[serde(serialize_with = "fdi_number::serialize")]
    pub fdi: Fdi,
    pub share: f32,
}

/// One detection that the scoring used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingInstance {
    /// The instance's position in [`AnalysisGeometry::findings`].
    pub id: u32,
    /// Never MISSING (that is derived from teeth, not detected); written in CSV spelling.
    pub finding: FindingKind,
    /// The detection's confidence.
    pub score: f32,
    /// `[x0, y0, x1, y1]` in pixels, rounded to 0.1.
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    /// The outer rings of its mask.
    pub outline: Vec<Ring>,
    /// The teeth it contributes to, largest share first, shares below 0.01 left out.
    pub teeth: Vec<ToothShare>,
}

/// All geometry of one analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "unchecked::AnalysisGeometry")]
pub struct AnalysisGeometry {
    pub version: u32,
    pub width: u32,
    pub height: u32,
    pub teeth: Vec<ToothOutline>,
    pub findings: Vec<FindingInstance>,
}

/// The same shape as it arrives, before any check: teeth and findings as plain numbers and
/// words, so that a wrong one is our specific error rather than serde's.
mod unchecked {
    use serde::Deserialize;

    use super::Ring;

    #[derive(Deserialize)]
    pub struct AnalysisGeometry {
        pub version: u32,
        pub width: u32,
        pub height: u32,
        pub teeth: Vec<ToothOutline>,
        pub findings: Vec<FindingInstance>,
    }

    #[derive(Deserialize)]
    pub struct ToothOutline {
        pub fdi: u32,
        pub outline: Vec<Ring>,
    }

    #[derive(Deserialize)]
    pub struct ToothShare {
        pub fdi: u32,
        pub share: f32,
    }

    #[derive(Deserialize)]
    pub struct FindingInstance {
        pub id: u32,
        pub finding: String,
        pub score: f32,
        #[serde(rename = "box")]
        pub bbox: [f32; 4],
        pub outline: Vec<Ring>,
        pub teeth: Vec<ToothShare>,
    }
}

fn fdi(n: u32) -> Result<Fdi, GeometryError> {
    Fdi::new(n).map_err(|_| GeometryError::UnknownTooth(n))
}

impl TryFrom<unchecked::AnalysisGeometry> for AnalysisGeometry {
    type Error = GeometryError;
    fn try_from(g: unchecked::AnalysisGeometry) -> Result<Self, Self::Error> {
        // Limits before anything walks the document.
        if g.findings.len() > MAX_FINDING_INSTANCES {
            return Err(GeometryError::TooManyInstances(g.findings.len()));
        }
        let teeth = g
            .teeth
            .into_iter()
            .map(|t| {
                Ok(ToothOutline {
                    fdi: fdi(t.fdi)?,
                    outline: t.outline,
                })
            })
            .collect::<Result<_, GeometryError>>()?;
        let findings =
            g.findings
                .into_iter()
                .map(|f| {
                    let finding = f.finding.parse::<FindingKind>().map_err(|_| {
                        GeometryError::BadFinding {
                            id: f.id,
                            finding: f.finding.chars().take(40).collect(),
                        }
                    })?;
                    let teeth = f
                        .teeth
                        .into_iter()
                        .map(|s| {
                            Ok(ToothShare {
                                fdi: fdi(s.fdi)?,
                                share: s.share,
                            })
                        })
                        .collect::<Result<_, GeometryError>>()?;
                    Ok(FindingInstance {
                        id: f.id,
                        finding,
                        score: f.score,
                        bbox: f.bbox,
                        outline: f.outline,
                        teeth,
                    })
                })
                .collect::<Result<_, GeometryError>>()?;
        let geometry = Self {
            version: g.version,
            width: g.width,
            height: g.height,
            teeth,
            findings,
        };
        geometry.validate()?;
        Ok(geometry)
    }
}

impl AnalysisGeometry {
    /// Empty geometry of a `width` x `height` image.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            version: GEOMETRY_VERSION,
            width,
            height,
            teeth: Vec::new(),
            findings: Vec::new(),
        }
    }

    /// Parses geometry from outside (a worker, a file) for an image of `width` x `height`:
    /// every invariant is checked, and the size must be the analysed image's.
    pub fn from_untrusted_json(
        bytes: &[u8],
        width: u32,
        height: u32,
    ) -> Result<Self, GeometryError> {
        if bytes.len() > MAX_GEOMETRY_JSON_BYTES {
            return Err(GeometryError::TooLarge {
                bytes: bytes.len(),
                limit: MAX_GEOMETRY_JSON_BYTES,
            });
        }
        let raw: unchecked::AnalysisGeometry =
            serde_json::from_slice(bytes).map_err(shape_error)?;
        let geometry = Self::try_from(raw)?;
        geometry.check_image_size(width, height)?;
        Ok(geometry)
    }

    /// As [`Self::from_untrusted_json`], from an already parsed JSON value (a worker's
    /// output, whose total size its reader has limited). Without an expected size only the
    /// geometry's own consistency is checked.
    pub fn from_untrusted_value(
        value: &serde_json::Value,
        expected_size: Option<(u32, u32)>,
    ) -> Result<Self, GeometryError> {
        let raw = unchecked::AnalysisGeometry::deserialize(value).map_err(shape_error)?;
        let geometry = Self::try_from(raw)?;
        if let Some((width, height)) = expected_size {
            geometry.check_image_size(width, height)?;
        }
        Ok(geometry)
    }

    /// The geometry must be of the image that was analysed.
    pub fn check_image_size(&self, width: u32, height: u32) -> Result<(), GeometryError> {
        if (self.width, self.height) != (width, height) {
            return Err(GeometryError::WrongImageSize {
                width: self.width,
                height: self.height,
                expected_width: width,
                expected_height: height,
            });
        }
        Ok(())
    }

    /// Points in all rings together.
    pub fn point_count(&self) -> usize {
        self.teeth
            .iter()
            .flat_map(|t| &t.outline)
            .chain(self.findings.iter().flat_map(|f| &f.outline))
            .map(Ring::len)
            .sum()
    }

    /// Checks every invariant of the format (not the image size, which the caller knows).
    pub fn validate(&self) -> Result<(), GeometryError> {
        let (w, h) = (self.width, self.height);
        if self.version != GEOMETRY_VERSION {
            return Err(GeometryError::UnsupportedVersion(self.version));
        }
        if w == 0 || h == 0 {
            return Err(GeometryError::EmptyImage {
                width: w,
                height: h,
            });
        }
        if self.findings.len() > MAX_FINDING_INSTANCES {
            return Err(GeometryError::TooManyInstances(self.findings.len()));
        }
        // Counted from the raw lengths first, so nothing below walks an oversized document.
        let coordinates: usize = self
            .teeth
            .iter()
            .flat_map(|t| &t.outline)
            .chain(self.findings.iter().flat_map(|f| &f.outline))
            .map(|r| r.0.len())
            .sum();
        if coordinates / 2 > MAX_GEOMETRY_POINTS {
            return Err(GeometryError::TooManyPoints(coordinates / 2));
        }
        let mut seen = HashSet::new();
        for tooth in &self.teeth {
            let fdi = tooth.fdi.number();
            if !seen.insert(fdi) {
                return Err(GeometryError::DuplicateTooth(fdi));
            }
            let place = || format!("tooth {fdi}");
            if tooth.outline.is_empty() {
                return Err(GeometryError::NoOutline { place: place() });
            }
            for ring in &tooth.outline {
                ring.check(&place, w, h)?;
            }
        }
        for (index, f) in self.findings.iter().enumerate() {
            let id = f.id;
            if id as usize != index {
                return Err(GeometryError::BadId { index, id });
            }
            if f.finding == FindingKind::Missing {
                return Err(GeometryError::BadFinding {
                    id,
                    finding: f.finding.csv_name().into(),
                });
            }
            if !(f.score.is_finite() && (0.0..=1.0).contains(&f.score)) {
                return Err(GeometryError::BadScore {
                    id,
                    score: f.score as f64,
                });
            }
            let [x0, y0, x1, y1] = f.bbox;
            let inside = |v: f32, max: u32| v.is_finite() && v >= 0.0 && v <= max as f32;
            if !(inside(x0, w) && inside(x1, w) && inside(y0, h) && inside(y1, h))
                || x0 > x1
                || y0 > y1
            {
                return Err(GeometryError::BadBox {
                    id,
                    bbox: f.bbox.map(|v| v as f64),
                });
            }
            let place = || format!("finding instance {id}");
            if f.outline.is_empty() {
                return Err(GeometryError::NoOutline { place: place() });
            }
            for ring in &f.outline {
                ring.check(&place, w, h)?;
            }
            let mut teeth = HashSet::new();
            for share in &f.teeth {
                let fdi = share.fdi.number();
                if !(share.share.is_finite() && share.share > 0.0 && share.share <= 1.0) {
                    return Err(GeometryError::BadShare {
                        id,
                        fdi,
                        share: share.share as f64,
                    });
                }
                if !teeth.insert(fdi) {
                    return Err(GeometryError::DuplicateShare { id, fdi });
                }
            }
        }
        Ok(())
    }
}

fn shape_error(e: serde_json::Error) -> GeometryError {
    GeometryError::Shape(e.to_string())
}

/// The geometry writes teeth as numbers (16), unlike the CSV's and worker findings' strings.
mod fdi_number {
    use serde::Serializer;

    use crate::Fdi;

    pub fn serialize<S: Serializer>(fdi: &Fdi, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(fdi.number())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> AnalysisGeometry {
        AnalysisGeometry {
            version: 1,
            width: 100,
            height: 50,
            teeth: vec![ToothOutline {
                fdi: Fdi::new(16).unwrap(),
                outline: vec![Ring::from_points([(0, 0), (10, 0), (10, 10), (0, 10)])],
            }],
            findings: vec![FindingInstance {
                id: 0,
                finding: FindingKind::Caries,
                score: 0.83,
                bbox: [1.5, 2.0, 9.9, 10.0],
                outline: vec![Ring::from_points([(1, 2), (10, 2), (10, 10)])],
                teeth: vec![ToothShare {
                    fdi: Fdi::new(16).unwrap(),
                    share: 0.92,
                }],
            }],
        }
    }

    #[test]
    fn json_is_the_contracts_shape_and_reads_back() {
        let g = sample();
        let json = serde_json::to_string(&g).unwrap();
        assert_eq!(
            json,
            r#"{"version":1,"width":100,"height":50,"teeth":[{"fdi":16,"outline":[[0,0,10,0,10,10,0,10]]}],"findings":[{"id":0,"finding":"CARIES","score":0.83,"box":[1.5,2.0,9.9,10.0],"outline":[[1,2,10,2,10,10]],"teeth":[{"fdi":16,"share":0.92}]}]}"#
        );
        assert_eq!(
            AnalysisGeometry::from_untrusted_json(json.as_bytes(), 100, 50).unwrap(),
            g
        );
        let value = serde_json::to_value(&g).unwrap();
        assert_eq!(
            AnalysisGeometry::from_untrusted_value(&value, None).unwrap(),
            g
        );
        assert_eq!(g.point_count(), 7);
    }

    #[test]
    fn model_class_spelling_is_read_too() {
        let json = serde_json::to_string(&sample())
            .unwrap()
            .replace("CARIES", "ROOT_REMNANTS");
        let g = AnalysisGeometry::from_untrusted_json(json.as_bytes(), 100, 50).unwrap();
        assert_eq!(g.findings[0].finding, FindingKind::ResidualRoot);
    }

    fn refused(edit: impl Fn(&mut serde_json::Value)) -> GeometryError {
        let mut value = serde_json::to_value(sample()).unwrap();
        edit(&mut value);
        let bytes = serde_json::to_vec(&value).unwrap();
        AnalysisGeometry::from_untrusted_json(&bytes, 100, 50).unwrap_err()
    }

    #[test]
    fn each_broken_invariant_is_a_specific_error() {
        use serde_json::json;
        use GeometryError as E;
        let place = |s: &str| s.to_string();
        assert_eq!(
            refused(|v| v["version"] = json!(2)),
            E::UnsupportedVersion(2)
        );
        assert_eq!(
            refused(|v| v["teeth"][0]["fdi"] = json!(19)),
            E::UnknownTooth(19)
        );
        assert_eq!(
            refused(|v| v["teeth"][0]["outline"][0] = json!([0, 0, 1, 1])),
            E::BadRing(place("tooth 16"))
        );
        assert_eq!(
            refused(|v| v["teeth"][0]["outline"][0] = json!([0, 0, 1, 1, 2, 2, 3])),
            E::BadRing(place("tooth 16"))
        );
        assert_eq!(
            refused(|v| v["teeth"][0]["outline"][0][2] = json!(101)),
            E::PointOutside {
                place: place("tooth 16"),
                x: 101,
                y: 0,
                width: 100,
                height: 50
            }
        );
        assert!(matches!(
            refused(|v| v["teeth"][0]["outline"][0][2] = json!(-1)),
            E::Shape(_)
        ));
        assert_eq!(
            refused(|v| v["teeth"][0]["outline"] = json!([])),
            E::NoOutline {
                place: place("tooth 16")
            }
        );
        assert_eq!(
            refused(|v| {
                let t = v["teeth"][0].clone();
                v["teeth"].as_array_mut().unwrap().push(t);
            }),
            E::DuplicateTooth(16)
        );
        assert_eq!(
            refused(|v| v["findings"][0]["id"] = json!(3)),
            E::BadId { index: 0, id: 3 }
        );
        for name in ["MISSING", "TOOTH_11"] {
            assert_eq!(
                refused(|v| v["findings"][0]["finding"] = json!(name)),
                E::BadFinding {
                    id: 0,
                    finding: name.into()
                }
            );
        }
        assert_eq!(
            refused(|v| v["findings"][0]["score"] = json!(1.5)),
            E::BadScore { id: 0, score: 1.5 }
        );
        assert!(matches!(
            refused(|v| v["findings"][0]["score"] = json!(1e300)),
            E::BadScore { id: 0, .. }
        ));
        assert!(matches!(
            refused(|v| v["findings"][0]["box"] = json!([5, 0, 1, 1])),
            E::BadBox { id: 0, .. }
        ));
        assert!(matches!(
            refused(|v| v["findings"][0]["box"] = json!([0, 0, 1, 51])),
            E::BadBox { id: 0, .. }
        ));
        assert_eq!(
            refused(|v| v["findings"][0]["teeth"][0]["share"] = json!(0)),
            E::BadShare {
                id: 0,
                fdi: 16,
                share: 0.0
            }
        );
        assert_eq!(
            refused(|v| v["findings"][0]["teeth"][0]["fdi"] = json!(10)),
            E::UnknownTooth(10)
        );
        assert_eq!(
            refused(|v| {
                let t = v["findings"][0]["teeth"][0].clone();
                v["findings"][0]["teeth"].as_array_mut().unwrap().push(t);
            }),
            E::DuplicateShare { id: 0, fdi: 16 }
        );
        assert_eq!(
            refused(|v| v["width"] = json!(0)),
            E::EmptyImage {
                width: 0,
                height: 50
            }
        );
        assert!(matches!(
            refused(|v| {
                v.as_object_mut().unwrap().remove("teeth");
            }),
            E::Shape(s) if s.contains("teeth")
        ));
        // The serde path checks the same.
        let mut value = serde_json::to_value(sample()).unwrap();
        value["version"] = json!(7);
        assert!(serde_json::from_value::<AnalysisGeometry>(value)
            .unwrap_err()
            .to_string()
            .contains("version 7"));
    }

    #[test]
    fn size_and_limits_are_checked() {
        let json = serde_json::to_vec(&sample()).unwrap();
        assert_eq!(
            AnalysisGeometry::from_untrusted_json(&json, 100, 51).unwrap_err(),
            GeometryError::WrongImageSize {
                width: 100,
                height: 50,
                expected_width: 100,
                expected_height: 51
            }
        );
        let big = vec![b' '; MAX_GEOMETRY_JSON_BYTES + 1];
        assert!(matches!(
            AnalysisGeometry::from_untrusted_json(&big, 100, 50),
            Err(GeometryError::TooLarge { .. })
        ));
        let mut g = sample();
        g.findings = (0..=MAX_FINDING_INSTANCES as u32)
            .map(|id| FindingInstance {
                id,
                ..sample().findings[0].clone()
            })
            .collect();
        assert_eq!(
            g.validate(),
            Err(GeometryError::TooManyInstances(MAX_FINDING_INSTANCES + 1))
        );
        let mut g = sample();
        g.teeth[0].outline = vec![Ring::from_points(
            (0..=MAX_GEOMETRY_POINTS as u32).map(|i| (i % 100, 0)),
        )];
        assert_eq!(
            g.validate(),
            // The finding's ring adds its 3 points.
            Err(GeometryError::TooManyPoints(MAX_GEOMETRY_POINTS + 4))
        );
    }

    proptest::proptest! {
        /// Whatever bytes arrive, the parser answers without panicking, and what it accepts
        /// satisfies the invariants and writes back to the same value.
        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            if let Ok(g) = AnalysisGeometry::from_untrusted_json(&bytes, 100, 50) {
                prop_assert!(g.validate().is_ok());
            }
        }

        /// Valid documents with one value replaced by a boundary value: never a panic; an
        /// accepted one is valid and round-trips.
        #[test]
        fn mutated_documents_never_panic(
            path in 0usize..24,
            replacement in prop_oneof![
                Just(serde_json::json!(null)),
                Just(serde_json::json!(-1)),
                Just(serde_json::json!(0)),
                Just(serde_json::json!(1e39)),
                Just(serde_json::json!(4294967296u64)),
                Just(serde_json::json!("16")),
                Just(serde_json::json!([])),
                Just(serde_json::json!({})),
                (0u32..200).prop_map(|n| serde_json::json!(n)),
                (0.0f64..2.0).prop_map(|n| serde_json::json!(n)),
            ],
        ) {
            let mut value = serde_json::to_value(sample()).unwrap();
            let mut paths = Vec::new();
            collect_paths(&value, String::new(), &mut paths);
            let target = &paths[path % paths.len()];
            *value.pointer_mut(target).unwrap() = replacement;
            let bytes = serde_json::to_vec(&value).unwrap();
            if let Ok(g) = AnalysisGeometry::from_untrusted_json(&bytes, 100, 50) {
                prop_assert!(g.validate().is_ok());
                let again = serde_json::to_vec(&g).unwrap();
                prop_assert_eq!(AnalysisGeometry::from_untrusted_json(&again, 100, 50).unwrap(), g);
            }
        }
    }

    /// The JSON pointer of every value in the document, containers and leaves alike.
    fn collect_paths(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Array(items) => {
                for (i, c) in items.iter().enumerate() {
                    collect_paths(c, format!("{at}/{i}"), out);
                }
            }
            serde_json::Value::Object(map) => {
                for (k, c) in map {
                    collect_paths(c, format!("{at}/{k}"), out);
                }
            }
            _ => {}
        }
        out.push(at);
    }
}
