//! What the two comparison tests share (tests/parity.rs against the anchor's main.py,
//! tests/reference.rs against our Python reference): reading a dumped detection list,
//! pairing the engine's detections with it, and comparing masks pixel by pixel.

use std::path::{Path, PathBuf};

use pano_engine::{BoxMask, Detection};
use serde::Deserialize;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One detection as the Python side dumped it (`*.detections.json.gz`).
#[derive(Deserialize)]
pub struct DumpedDetection {
    pub class_name: String,
    pub score: f32,
    #[serde(rename = "box")]
    pub box_xyxy: [f32; 4],
    pub mask_box: [u32; 4],
    pub mask_area: u64,
    mask_bits: String,
}

/// Every dumped detection of a `.detections.json.gz` file, in its order.
pub fn read_dump(path: &Path) -> Vec<DumpedDetection> {
    let gz = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(gz), &mut text).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A dumped mask, decoded, in an image of `width` x `height`.
pub struct DumpedMask {
    bits: Vec<u8>,
    /// Inclusive; NumPy's slice `mask[yb..=ye, xb..=xe]` clips it to the image.
    pub bounds: [u32; 4],
    width: u32,
    height: u32,
}

impl DumpedMask {
    pub fn new(d: &DumpedDetection, width: u32, height: u32) -> Self {
        let [x0, y0, x1, y1] = d.mask_box;
        let bits = (0..d.mask_bits.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&d.mask_bits[i..i + 2], 16).expect("hex"))
            .collect();
        Self {
            bits,
            bounds: [x0, y0, x1.min(width - 1), y1.min(height - 1)],
            width,
            height,
        }
    }

    pub fn get(&self, x: u32, y: u32) -> bool {
        let [x0, y0, x1, y1] = self.bounds;
        if x < x0 || x > x1 || y < y0 || y > y1 {
            return false;
        }
        let k = ((y - y0) * (x1 - x0 + 1) + (x - x0)) as usize;
        self.bits[k / 8] & (0x80 >> (k % 8)) != 0
    }

    /// On the mask's edge at (x, y): a neighbour differs. There the mask logit crosses 0 and
    /// float rounding (torch or NumPy against ONNX Runtime's kernels, ~1e-5) can flip a
    /// pixel; a differing pixel anywhere else is a real difference.
    pub fn on_edge(&self, x: u32, y: u32) -> bool {
        let q = self.get(x, y);
        (-1i64..=1).any(|dy| {
            (-1i64..=1).any(|dx| {
                let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                nx >= 0
                    && ny >= 0
                    && (nx as u32) < self.width
                    && (ny as u32) < self.height
                    && self.get(nx as u32, ny as u32) != q
            })
        })
    }
}

/// Two masks compared pixel by pixel over both boxes.
#[derive(Debug, Default, Clone, Copy)]
pub struct MaskComparison {
    pub differing: u64,
    /// Differing pixels not on the dumped mask's edge.
    pub off_edge: u64,
    /// The dumped mask's pixels.
    pub pixels: u64,
    /// The first differing pixel off the edge, for the failure message.
    pub first_off_edge: Option<(u32, u32)>,
}

impl MaskComparison {
    pub fn add(&mut self, other: MaskComparison) {
        self.differing += other.differing;
        self.off_edge += other.off_edge;
        self.pixels += other.pixels;
        self.first_off_edge = self.first_off_edge.or(other.first_off_edge);
    }
}

pub fn compare_masks(ours: &BoxMask, theirs: &DumpedMask) -> MaskComparison {
    let [x0, y0, x1, y1] = theirs.bounds;
    let mut c = MaskComparison::default();
    for y in y0.min(ours.y0)..=y1.max(ours.y1) {
        for x in x0.min(ours.x0)..=x1.max(ours.x1) {
            let (p, q) = (ours.get(x, y), theirs.get(x, y));
            if p != q {
                c.differing += 1;
                if !theirs.on_edge(x, y) {
                    c.off_edge += 1;
                    c.first_off_edge = c.first_off_edge.or(Some((x, y)));
                }
            }
            c.pixels += q as u64;
        }
    }
    c
}

pub fn box_diff(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    (0..4).map(|k| (a[k] - b[k]).abs()).fold(0.0f32, f32::max)
}

/// Pairs each of the engine's detections with a dumped one. Both lists are in score order, but
/// two detections of one class whose scores differ by less than the float noise between the
/// two stacks (~1e-5) may come in either order: each of ours is paired with the dumped one at
/// the same place if class, score (within `score_tolerance`) and box (within
/// `box_tolerance`) agree, else with the unused one of the same class and a score within the
/// tolerance whose box is nearest. `None` where no dumped detection fits.
pub fn pair_detections(
    ours: &[Detection],
    theirs: &[&DumpedDetection],
    score_tolerance: f32,
    box_tolerance: f32,
) -> Vec<Option<usize>> {
    let mut used = vec![false; theirs.len()];
    ours.iter()
        .enumerate()
        .map(|(i, a)| {
            let fits = |j: usize| {
                !used[j]
                    && theirs[j].class_name == a.class_name
                    && (theirs[j].score - a.score).abs() <= score_tolerance
            };
            let j = if i < theirs.len()
                && fits(i)
                && box_diff(&a.box_xyxy, &theirs[i].box_xyxy) <= box_tolerance
            {
                Some(i)
            } else {
                (0..theirs.len()).filter(|&j| fits(j)).min_by(|&x, &y| {
                    box_diff(&a.box_xyxy, &theirs[x].box_xyxy)
                        .total_cmp(&box_diff(&a.box_xyxy, &theirs[y].box_xyxy))
                })
            };
            if let Some(j) = j {
                used[j] = true;
            }
            j
        })
        .collect()
}
