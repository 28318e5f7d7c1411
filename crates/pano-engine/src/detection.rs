//! YOLOv8-seg as Ultralytics 8.3.80 runs it (the version the reference pins): letterbox,
//! candidate filtering, class-aware NMS, box scaling, and masks at the original resolution,
//! each kept only over its own box.

use image::RgbImage;
use ndarray::Array4;
use ort::session::{RunOptions, Session};
use ort::value::TensorRef;
use rayon::prelude::*;

use crate::manifest::{ChannelOrder, DetectionSpec, LetterboxMode};
use crate::resize::{cv_linear, torch_bilinear_taps};
use crate::{BoxMask, EngineError};

/// Ultralytics' NMS offsets boxes by class times this so classes never suppress each other.
const MAX_WH: f32 = 7680.0;
/// Ultralytics keeps at most this many candidates before NMS.
const MAX_NMS: usize = 30000;
const MASK_DIM: usize = 32;

/// Python's `round()`: halves to even.
fn round_half_even(v: f64) -> f64 {
    let r = v.round();
    if (v - v.trunc()).abs() == 0.5 {
        2.0 * (v / 2.0).round()
    } else {
        r
    }
}

/// How the original image sits inside the model input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    /// The model input's width and height (the resized image plus its padding).
    pub input_w: u32,
    pub input_h: u32,
    pub new_w: u32,
    pub new_h: u32,
    pub left: u32,
    pub top: u32,
}

impl Letterbox {
    /// Ultralytics `LetterBox(new_shape=size, auto, stride, center=True)`: scale so the image
    /// fits `size` x `size` (rounded half to even, as Python's `round`), then pad to the square
    /// (`Square`) or only up to a multiple of `stride` (`Auto`), half on each side.
    pub fn new(orig_w: u32, orig_h: u32, size: u32, mode: LetterboxMode, stride: u32) -> Self {
        let r = (size as f64 / orig_h as f64).min(size as f64 / orig_w as f64);
        let new_w = round_half_even(orig_w as f64 * r) as u32;
        let new_h = round_half_even(orig_h as f64 * r) as u32;
        let (mut dw, mut dh) = (size - new_w, size - new_h);
        if mode == LetterboxMode::Auto {
            (dw, dh) = (dw % stride, dh % stride);
        }
        let (dw, dh) = (dw as f64 / 2.0, dh as f64 / 2.0);
        let top = round_half_even(dh - 0.1) as u32;
        let bottom = round_half_even(dh + 0.1) as u32;
        let left = round_half_even(dw - 0.1) as u32;
        let right = round_half_even(dw + 0.1) as u32;
        Self {
            input_w: new_w + left + right,
            input_h: new_h + top + bottom,
            new_w,
            new_h,
            left,
            top,
        }
    }

    /// The letterbox a detection spec asks for.
    pub fn for_spec(orig_w: u32, orig_h: u32, spec: &DetectionSpec) -> Self {
        Self::new(orig_w, orig_h, spec.image_size, spec.letterbox, spec.stride)
    }

    /// The model input [1, 3, input_h, input_w], values 0..1, pad 114.
    pub fn tensor(&self, rgb: &RgbImage, order: ChannelOrder) -> Array4<f32> {
        let resized = if (rgb.width(), rgb.height()) == (self.new_w, self.new_h) {
            rgb.clone()
        } else {
            cv_linear(rgb, self.new_w, self.new_h)
        };
        let (h, w) = (self.input_h as usize, self.input_w as usize);
        let mut t = Array4::<f32>::from_elem((1, 3, h, w), 114.0 / 255.0);
        let idx: [usize; 3] = match order {
            ChannelOrder::Rgb => [0, 1, 2],
            ChannelOrder::Bgr => [2, 1, 0],
        };
        for (x, y, p) in resized.enumerate_pixels() {
            let (yy, xx) = ((y + self.top) as usize, (x + self.left) as usize);
            for (c, &src) in idx.iter().enumerate() {
                t[[0, c, yy, xx]] = p.0[src] as f32 / 255.0;
            }
        }
        t
    }
}

/// One instance, in original image coordinates.
#[derive(Debug, Clone)]
pub struct Detection {
    pub class_id: usize,
    pub class_name: String,
    pub score: f32,
    /// The float box after scaling and clipping (x1, y1, x2, y2).
    pub box_xyxy: [f32; 4],
    /// The mask over the integer box: (x1, y1, x2, y2) truncated, ends inclusive, clipped to
    /// the image.
    pub mask: BoxMask,
}

/// Where the image sits in the prototype masks, and how their cells map onto its pixels.
struct ProtoCrop {
    top: usize,
    left: usize,
    xt: Vec<(usize, usize, f32, f32)>,
    yt: Vec<(usize, usize, f32, f32)>,
}

/// Turns raw YOLOv8-seg outputs into detections.
pub struct DetectionDecoder<'a> {
    pub spec: &'a DetectionSpec,
    pub orig_w: u32,
    pub orig_h: u32,
    /// The model input's size (`Letterbox::input_w`/`input_h`): boxes are scaled back from it.
    pub input_w: u32,
    pub input_h: u32,
}

struct Candidate {
    anchor: usize,
    class_id: usize,
    score: f32,
    xyxy: [f32; 4],
}

impl DetectionDecoder<'_> {
    /// `preds` is output0 [4 + nc + 32, A] (batch dropped), `protos` output1 [32, mh, mw].
    pub fn decode(
        &self,
        preds: &[f32],
        anchors: usize,
        protos: &[f32],
        mh: usize,
        mw: usize,
    ) -> Vec<Detection> {
        let nc = self.spec.class_names.len();
        let at = |row: usize, a: usize| preds[row * anchors + a];
        let conf = self.spec.conf_threshold;

        // Candidates: best class per anchor, strictly above the threshold. A non-finite best
        // score (a broken model; sigmoid outputs never are) makes no candidate.
        let mut cands: Vec<Candidate> = (0..anchors)
            .filter_map(|a| {
                let (mut best, mut best_c) = (f32::NEG_INFINITY, 0);
                for c in 0..nc {
                    let v = at(4 + c, a);
                    if v > best {
                        best = v;
                        best_c = c;
                    }
                }
                (best > conf && best.is_finite()).then(|| {
                    let (cx, cy, w, h) = (at(0, a), at(1, a), at(2, a), at(3, a));
                    let (dw, dh) = (w / 2.0, h / 2.0);
                    Candidate {
                        anchor: a,
                        class_id: best_c,
                        score: best,
                        xyxy: [cx - dw, cy - dh, cx + dw, cy + dh],
                    }
                })
            })
            .collect();
        cands.sort_by(|a, b| b.score.total_cmp(&a.score));
        cands.truncate(MAX_NMS);

        let kept = nms(&cands, self.spec.iou_threshold, self.spec.max_det);
        // The prototype crop and its resampling taps are the same for every detection.
        let Some(crop) = self.proto_crop(mh, mw) else {
            return Vec::new();
        };
        let scaled: Vec<(usize, [f32; 4])> = kept
            .iter()
            .map(|&i| (i, self.scale_box(cands[i].xyxy)))
            .collect();
        scaled
            .par_iter()
            .filter_map(|&(i, b)| {
                let cand = &cands[i];
                let coeffs: Vec<f32> = (0..MASK_DIM).map(|k| at(4 + nc + k, cand.anchor)).collect();
                let mask = self.mask(&coeffs, protos, mw, b, &crop)?;
                Some(Detection {
                    class_id: cand.class_id,
                    class_name: self.spec.class_names[cand.class_id].clone(),
                    score: cand.score,
                    box_xyxy: b,
                    mask,
                })
            })
            .collect()
    }

    /// `ops.scale_boxes` then `clip_boxes`, in float32 as torch does.
    fn scale_box(&self, b: [f32; 4]) -> [f32; 4] {
        let (iw, ih) = (self.input_w as f64, self.input_h as f64);
        let (w0, h0) = (self.orig_w as f64, self.orig_h as f64);
        let gain = (ih / h0).min(iw / w0);
        let pad_x = round_half_even((iw - w0 * gain) / 2.0 - 0.1) as f32;
        let pad_y = round_half_even((ih - h0 * gain) / 2.0 - 0.1) as f32;
        let g = gain as f32;
        let (w, h) = (self.orig_w as f32, self.orig_h as f32);
        [
            ((b[0] - pad_x) / g).clamp(0.0, w),
            ((b[1] - pad_y) / g).clamp(0.0, h),
            ((b[2] - pad_x) / g).clamp(0.0, w),
            ((b[3] - pad_y) / g).clamp(0.0, h),
        ]
    }

    /// `ops.scale_masks`' crop of the letterbox padding from the [mh, mw] prototypes, and the
    /// bilinear taps from that crop to the original image. `None` if nothing is left.
    fn proto_crop(&self, mh: usize, mw: usize) -> Option<ProtoCrop> {
        let (h0, w0) = (self.orig_h as f64, self.orig_w as f64);
        let gain = (mh as f64 / h0).min(mw as f64 / w0);
        let pad_w = (mw as f64 - w0 * gain) / 2.0;
        let pad_h = (mh as f64 - h0 * gain) / 2.0;
        let (top, left) = (pad_h as usize, pad_w as usize);
        let (bottom, right) = ((mh as f64 - pad_h) as usize, (mw as f64 - pad_w) as usize);
        let (ch, cw) = (bottom.saturating_sub(top), right.saturating_sub(left));
        if ch == 0 || cw == 0 {
            return None;
        }
        Some(ProtoCrop {
            top,
            left,
            xt: torch_bilinear_taps(cw, self.orig_w as usize),
            yt: torch_bilinear_taps(ch, self.orig_h as usize),
        })
    }

    /// `ops.process_mask_native`: coefficients x prototypes, the letterbox padding cut away,
    /// bilinear resize to the original size, zero outside the float box, threshold at 0.
    /// Evaluated only over the box. `None` when the mask is empty.
    fn mask(
        &self,
        coeffs: &[f32],
        protos: &[f32],
        mw: usize,
        b: [f32; 4],
        crop: &ProtoCrop,
    ) -> Option<BoxMask> {
        native_mask(self.orig_w, self.orig_h, coeffs, protos, mw, b, crop)
    }
}

/// The body of [`DetectionDecoder::mask`], compiled for AVX2 + FMA as well and chosen at
/// run time (its per-pixel bilinear arithmetic is the decoder's hot loop).
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn native_mask(
    orig_w: u32,
    orig_h: u32,
    coeffs: &[f32],
    protos: &[f32],
    mw: usize,
    b: [f32; 4],
    crop: &ProtoCrop,
) -> Option<BoxMask> {
    let (top, left, xt, yt) = (crop.top, crop.left, &crop.xt, &crop.yt);

    // A box that is not finite or has no extent keeps no pixel under crop_mask.
    if !b.iter().all(|v| v.is_finite()) || b[2] <= b[0] || b[3] <= b[1] {
        return None;
    }
    // Integer box (truncated), clipped to the image; crop_mask keeps x1 <= x < x2.
    let xb = (b[0] as u32).min(orig_w - 1);
    let yb = (b[1] as u32).min(orig_h - 1);
    let xe = (b[2] as u32).min(orig_w - 1);
    let ye = (b[3] as u32).min(orig_h - 1);

    // Mask logits on the prototype cells this box reads.
    let (py0, py1) = (yt[yb as usize].0, yt[ye as usize].1);
    let (px0, px1) = (xt[xb as usize].0, xt[xe as usize].1);
    let (pw, ph) = (px1 - px0 + 1, py1 - py0 + 1);
    let mut logits = vec![0.0f32; pw * ph];
    let plane = protos.len() / MASK_DIM;
    for (k, &c) in coeffs.iter().enumerate() {
        let proto = &protos[k * plane..(k + 1) * plane];
        for py in 0..ph {
            let row = &proto[(top + py0 + py) * mw + left + px0..][..pw];
            for (px, v) in row.iter().enumerate() {
                logits[py * pw + px] += c * v;
            }
        }
    }
    let mut mask = BoxMask::new(xb, yb, xe, ye);
    // Pixels crop_mask keeps: x1 <= x < x2 and y1 <= y < y2 on the float box.
    let first = |lo: f32, from: u32, to: u32| (from..=to).find(|&v| v as f32 >= lo);
    let last = |hi: f32, from: u32, to: u32| (from..=to).rev().find(|&v| (v as f32) < hi);
    let (Some(xs), Some(xl), Some(ys), Some(yl)) = (
        first(b[0], xb, xe),
        last(b[2], xb, xe),
        first(b[1], yb, ye),
        last(b[3], yb, ye),
    ) else {
        return None;
    };
    if xs > xl || ys > yl {
        return None;
    }
    let at = |py: usize, px: usize| logits[(py - py0) * pw + (px - px0)];
    // Output pixels sharing the same four prototype taps form a block. Bilinear weights
    // are non-negative, so a block whose four corner logits are all positive is all set,
    // and one whose corners are all <= 0 is all clear: only blocks where the sign
    // changes are evaluated pixel by pixel (the same arithmetic, hence the same result).
    let runs = |taps: &[(usize, usize, f32, f32)], from: u32, to: u32| -> Vec<(u32, u32)> {
        let mut out: Vec<(u32, u32)> = Vec::new();
        for v in from..=to {
            match out.last_mut() {
                Some((_, end))
                    if taps[*end as usize].0 == taps[v as usize].0
                        && taps[*end as usize].1 == taps[v as usize].1 =>
                {
                    *end = v
                }
                _ => out.push((v, v)),
            }
        }
        out
    };
    let row_runs = runs(yt, ys, yl);
    let col_runs = runs(xt, xs, xl);
    for &(ya, yz) in &row_runs {
        let (y0, y1, _, _) = yt[ya as usize];
        for &(xa, xz) in &col_runs {
            let (x0, x1, _, _) = xt[xa as usize];
            let corners = [at(y0, x0), at(y0, x1), at(y1, x0), at(y1, x1)];
            if corners.iter().all(|&v| v > 1e-30) {
                for y in ya..=yz {
                    mask.set_span(y, xa, xz);
                }
            } else if corners.iter().any(|&v| v > 0.0) {
                for y in ya..=yz {
                    let (_, _, wy0, wy1) = yt[y as usize];
                    // 64 columns at a time into one word: no per-pixel bookkeeping.
                    let mut x = xa;
                    while x <= xz {
                        let n = (xz - x + 1).min(64);
                        let mut bits = 0u64;
                        for (i, &(_, _, wx0, wx1)) in
                            xt[x as usize..(x + n) as usize].iter().enumerate()
                        {
                            let v = wy0 * (wx0 * corners[0] + wx1 * corners[1])
                                + wy1 * (wx0 * corners[2] + wx1 * corners[3]);
                            bits |= ((v > 0.0) as u64) << i;
                        }
                        mask.set_bits(y, x, bits);
                        x += n;
                    }
                }
            }
        }
    }
    (mask.area() > 0).then_some(mask)
}

/// torchvision `nms` over class-offset boxes (float32, IoU > threshold suppresses), keeping
/// at most `max_det`. `cands` is sorted by score, descending. Boxes of different classes
/// never overlap once offset, so each class is suppressed on its own and the survivors are
/// merged back in score order: the same result in a fraction of the comparisons.
fn nms(cands: &[Candidate], iou: f32, max_det: usize) -> Vec<usize> {
    let classes = cands.iter().map(|c| c.class_id + 1).max().unwrap_or(0);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, c) in cands.iter().enumerate() {
        by_class[c.class_id].push(i);
    }
    let mut keep: Vec<usize> = by_class
        .par_iter()
        .flat_map_iter(|members| {
            let boxes: Vec<[f32; 4]> = members
                .iter()
                .map(|&i| {
                    let c = &cands[i];
                    let off = c.class_id as f32 * MAX_WH;
                    [
                        c.xyxy[0] + off,
                        c.xyxy[1] + off,
                        c.xyxy[2] + off,
                        c.xyxy[3] + off,
                    ]
                })
                .collect();
            let areas: Vec<f32> = boxes
                .iter()
                .map(|b| (b[2] - b[0]) * (b[3] - b[1]))
                .collect();
            let mut suppressed = vec![false; members.len()];
            let mut kept = Vec::new();
            for i in 0..members.len() {
                if suppressed[i] {
                    continue;
                }
                kept.push(members[i]);
                if kept.len() == max_det {
                    break;
                }
                let bi = boxes[i];
                for j in i + 1..members.len() {
                    if suppressed[j] {
                        continue;
                    }
                    let bj = boxes[j];
                    let w = (bi[2].min(bj[2]) - bi[0].max(bj[0])).max(0.0);
                    let h = (bi[3].min(bj[3]) - bi[1].max(bj[1])).max(0.0);
                    let inter = w * h;
                    if inter / (areas[i] + areas[j] - inter) > iou {
                        suppressed[j] = true;
                    }
                }
            }
            kept
        })
        .collect();
    // Indices follow score order, so sorting them restores the global order.
    keep.sort_unstable();
    keep.truncate(max_det);
    keep
}

/// Runs the detector on an image and decodes its output.
pub fn detect(
    session: &mut Session,
    run_options: &RunOptions,
    spec: &DetectionSpec,
    rgb: &RgbImage,
) -> Result<
    (
        Vec<Detection>,
        std::time::Duration,
        std::time::Duration,
        std::time::Duration,
    ),
    EngineError,
> {
    let t = std::time::Instant::now();
    let lb = Letterbox::for_spec(rgb.width(), rgb.height(), spec);
    let input = lb.tensor(rgb, spec.channel_order);
    let pre = t.elapsed();
    let t = std::time::Instant::now();
    let tensor = TensorRef::from_array_view(&input)
        .map_err(|e| EngineError::inference("detection input", e))?;
    let outputs = session
        .run_with_options(ort::inputs![spec.input.as_str() => tensor], run_options)
        .map_err(|e| EngineError::inference("detection", e))?;
    let run = t.elapsed();
    let t = std::time::Instant::now();
    let (pshape, preds) = outputs[spec.outputs[0].as_str()]
        .try_extract_tensor::<f32>()
        .map_err(|e| EngineError::inference("detection output0", e))?;
    let (mshape, protos) = outputs[spec.outputs[1].as_str()]
        .try_extract_tensor::<f32>()
        .map_err(|e| EngineError::inference("detection output1", e))?;
    let nc = spec.class_names.len();
    if pshape.len() != 3
        || pshape[1] as usize != 4 + nc + MASK_DIM
        || mshape.len() != 4
        || mshape[1] as usize != MASK_DIM
    {
        return Err(EngineError::ModelMismatch {
            model: "detection",
            detail: format!(
                "outputs {:?} and {:?}, expected [1, {}, A] and [1, 32, h, w]",
                &pshape[..],
                &mshape[..],
                4 + nc + MASK_DIM
            ),
        });
    }
    let decoder = DetectionDecoder {
        spec,
        orig_w: rgb.width(),
        orig_h: rgb.height(),
        input_w: lb.input_w,
        input_h: lb.input_h,
    };
    let dets = decoder.decode(
        preds,
        pshape[2] as usize,
        protos,
        mshape[2] as usize,
        mshape[3] as usize,
    );
    Ok((dets, pre, run, t.elapsed()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letterbox_matches_ultralytics() {
        // 2356 x 1292 into 640: r = 0.27165..., 640 x 351, dh = 144.5 -> top = round(144.4) = 144.
        let sq = |w, h| Letterbox::new(w, h, 640, LetterboxMode::Square, 32);
        let auto = |w, h| Letterbox::new(w, h, 640, LetterboxMode::Auto, 32);
        // 2356 x 1292 into 640: r = 0.27165..., 640 x 351, dh = 144.5 -> top = round(144.4) = 144.
        let lb = sq(2356, 1292);
        assert_eq!((lb.new_w, lb.new_h, lb.left, lb.top), (640, 351, 0, 144));
        assert_eq!((lb.input_w, lb.input_h), (640, 640));
        let lb = sq(620, 560);
        assert_eq!((lb.new_w, lb.new_h, lb.left, lb.top), (640, 578, 0, 31));
        // auto=True: dh = 289 % 32 = 1 -> top 0, bottom 1: 640 x 352, as Ultralytics 8.3.80
        // letterboxes the sample with .pt weights.
        let lb = auto(2356, 1292);
        assert_eq!((lb.new_w, lb.new_h, lb.left, lb.top), (640, 351, 0, 0));
        assert_eq!((lb.input_w, lb.input_h), (640, 352));
        // Portrait: 1000 x 2000 -> 320 x 640, no padding at all.
        let lb = auto(1000, 2000);
        assert_eq!((lb.input_w, lb.input_h, lb.left, lb.top), (320, 640, 0, 0));
        // 700 x 500 -> 640 x 457, dh = 183 % 32 = 23 -> top round(11.4) = 11, bottom 12.
        let lb = auto(700, 500);
        assert_eq!((lb.new_h, lb.top, lb.input_h), (457, 11, 480));
        assert_eq!(round_half_even(2.5), 2.0);
        assert_eq!(round_half_even(3.5), 4.0);
        assert_eq!(round_half_even(-0.5), -0.0);
    }

    /// 1600 x 881 with `auto`: the resize rounds the height up (881 x 0.4 = 352.4 -> 352) and
    /// no padding is left, so the input (640 x 352) is not the resized image's exact scale.
    /// Ultralytics' `scale_boxes` then takes its gain from the input, min(352/881, 640/1600)
    /// = 0.399546, not 0.4, and `scale_masks` crops the prototypes with that gain too: these
    /// are the numbers its code gives, worked through by hand.
    #[test]
    fn odd_rounding_takes_the_gain_from_the_input_as_ultralytics_does() {
        let lb = Letterbox::new(1600, 881, 640, LetterboxMode::Auto, 32);
        assert_eq!((lb.new_w, lb.new_h, lb.left, lb.top), (640, 352, 0, 0));
        assert_eq!((lb.input_w, lb.input_h), (640, 352));
        let spec: DetectionSpec = serde_json::from_value(serde_json::json!({
            "file": "x", "sha256": "", "input": "images", "outputs": ["output0", "output1"],
            "channel_order": "bgr", "image_size": 640, "letterbox": "auto", "stride": 32,
            "class_names": ["A"], "conf_threshold": 0.25, "iou_threshold": 0.5, "max_det": 10
        }))
        .unwrap();
        let decoder = DetectionDecoder {
            spec: &spec,
            orig_w: 1600,
            orig_h: 881,
            input_w: lb.input_w,
            input_h: lb.input_h,
        };
        let b = decoder.scale_box([100.0, 50.0, 600.0, 300.0]);
        let expected = [250.28409, 125.14204, 1501.7046, 750.8523];
        for (got, want) in b.iter().zip(expected) {
            assert!((got - want).abs() < 1e-3, "{b:?} vs {expected:?}");
        }
        // With 0.4 the box would end at exactly 1500 x 750: the test tells the two apart.
        assert!((b[2] - 1500.0).abs() > 1.0);
        // Prototypes are 160 x 88: the width's pad is (160 - 1600 x 0.0998865) / 2 = 0.09,
        // so the crop keeps columns 0..159 (int() of 159.91), not all 160.
        let crop = decoder.proto_crop(88, 160).unwrap();
        assert_eq!((crop.top, crop.left), (0, 0));
        assert_eq!((crop.xt.len(), crop.yt.len()), (1600, 881));
        let last_source_column = crop.xt.iter().map(|t| t.0.max(t.1)).max().unwrap();
        assert_eq!(last_source_column, 158, "the crop is 159 columns wide");
    }

    #[test]
    fn nms_suppresses_within_a_class_only() {
        let c = |class_id, score, x: f32| Candidate {
            anchor: 0,
            class_id,
            score,
            xyxy: [x, 0.0, x + 10.0, 10.0],
        };
        let cands = vec![
            c(0, 0.9, 0.0),
            c(0, 0.8, 1.0),
            c(1, 0.7, 1.0),
            c(0, 0.6, 30.0),
        ];
        assert_eq!(nms(&cands, 0.5, 500), vec![0, 2, 3]);
        assert_eq!(nms(&cands, 0.5, 2), vec![0, 2]);
    }
}
