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

/// Intersection over union of two `[x0, y0, x1, y1]` boxes.
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    inter / (area(a) + area(b) - inter).max(f32::MIN_POSITIVE)
}

/// For each unpaired detection of ours, an unpaired dumped one NMS may have kept instead:
/// same class, score within `score_tolerance`, IoU over 0.5 (NMS is order-dependent, and of
/// two overlapping near-tied boxes float noise between CPUs decides which comes first).
pub fn nms_swaps(
    ours: &[Detection],
    theirs: &[&DumpedDetection],
    pairs: &[Option<usize>],
    score_tolerance: f32,
) -> Vec<Option<usize>> {
    let mut taken = vec![false; theirs.len()];
    for j in pairs.iter().flatten() {
        taken[*j] = true;
    }
    ours.iter()
        .zip(pairs)
        .map(|(a, p)| {
            if p.is_some() {
                return None;
            }
            let k = (0..theirs.len()).find(|&k| {
                !taken[k]
                    && theirs[k].class_name == a.class_name
                    && (theirs[k].score - a.score).abs() <= score_tolerance
                    && iou(&a.box_xyxy, &theirs[k].box_xyxy) > 0.5
            })?;
            taken[k] = true;
            Some(k)
        })
        .collect()
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
    let fits = |i: usize, j: usize| {
        theirs[j].class_name == ours[i].class_name
            && (theirs[j].score - ours[i].score).abs() <= score_tolerance
    };
    let mut pairs: Vec<Option<usize>> = vec![None; ours.len()];
    let mut used = vec![false; theirs.len()];
    // Same place, same detection: the usual case.
    for i in 0..ours.len().min(theirs.len()) {
        if fits(i, i) && box_diff(&ours[i].box_xyxy, &theirs[i].box_xyxy) <= box_tolerance {
            pairs[i] = Some(i);
            used[i] = true;
        }
    }
    // The rest (near-tied scores that float noise reordered) by the closest boxes overall,
    // not in list order: among hundreds of low, near-equal scores a greedy pass in order
    // would hand one detection's partner to another.
    let mut candidates: Vec<(f32, usize, usize)> = Vec::new();
    // A reordered detection is the same object: its box agrees too. Two different objects
    // with near-tied scores are not a pair (one made the max_det cut here, the other there).
    for i in (0..ours.len()).filter(|&i| pairs[i].is_none()) {
        for j in (0..theirs.len()).filter(|&j| !used[j] && fits(i, j)) {
            let diff = box_diff(&ours[i].box_xyxy, &theirs[j].box_xyxy);
            if diff <= box_tolerance {
                candidates.push((diff, i, j));
            }
        }
    }
    candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (_, i, j) in candidates {
        if pairs[i].is_none() && !used[j] {
            pairs[i] = Some(j);
            used[j] = true;
        }
    }
    pairs
}
