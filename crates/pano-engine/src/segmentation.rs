//! Semantic segmentation: detectron2's shortest-edge resize, the DeepLab run, and class
//! probabilities at the original resolution computed band by band where they are needed,
//! never as the full [33, H, W] map.

use image::RgbImage;
use ndarray::Array4;
use ort::session::{RunOptions, Session};
use ort::value::{DynValue, TensorRef};

use crate::manifest::{ChannelOrder, SegmentationSpec};
use crate::resize::{pil_bilinear, torch_bilinear_taps};
use crate::EngineError;

/// Classes of the segmentation model: background and 32 teeth (the manifest enforces it).
/// A compile-time size lets the per-pixel loops over classes unroll and vectorise.
pub const CLASSES: usize = 33;

/// One pixel's values for every class.
pub type ClassValues = [f32; CLASSES];

/// detectron2 `ResizeShortestEdge.get_output_shape`: (height, width).
pub fn shortest_edge_size(h: u32, w: u32, short: u32, max_size: u32) -> (u32, u32) {
    let (h, w) = (h as f64, w as f64);
    let scale = short as f64 / h.min(w);
    let (mut nh, mut nw) = if h < w {
        (short as f64, scale * w)
    } else {
        (scale * h, short as f64)
    };
    if nh.max(nw) > max_size as f64 {
        let s = max_size as f64 / nh.max(nw);
        nh *= s;
        nw *= s;
    }
    ((nh + 0.5) as u32, (nw + 0.5) as u32)
}

/// The resized image as the graph's input tensor [1, 3, H', W'], padded to the size
/// divisibility with the manifest's pad value.
pub fn segmentation_input(rgb: &RgbImage, spec: &SegmentationSpec) -> (Array4<f32>, u32, u32) {
    let (nh, nw) = shortest_edge_size(
        rgb.height(),
        rgb.width(),
        spec.resize.short_edge,
        spec.resize.max_size,
    );
    let resized = pil_bilinear(rgb, nw, nh);
    let div = spec.size_divisibility.max(1);
    let (ph, pw) = (nh.div_ceil(div) * div, nw.div_ceil(div) * div);
    let (lo, hi) = (spec.value_range[0], spec.value_range[1]);
    let scale = (hi - lo) / 255.0;
    let mut input = Array4::<f32>::zeros((1, 3, ph as usize, pw as usize));
    let pad = spec.pad_value.unwrap_or([lo; 3]);
    for (c, &v) in pad.iter().enumerate() {
        input.slice_mut(ndarray::s![0, c, .., ..]).fill(v);
    }
    let order: [usize; 3] = match spec.channel_order {
        ChannelOrder::Rgb => [0, 1, 2],
        ChannelOrder::Bgr => [2, 1, 0],
    };
    // Whole rows of each plane at a time: no per-element index arithmetic or checks.
    let (w, stride) = (nw as usize, pw as usize);
    let raw = resized.as_raw();
    for (c, &src) in order.iter().enumerate() {
        let mut plane = input.slice_mut(ndarray::s![0, c, .., ..]);
        let plane = plane.as_slice_mut().expect("a fresh array is contiguous");
        for (y, dst) in plane.chunks_exact_mut(stride).take(nh as usize).enumerate() {
            let row = &raw[y * w * 3..(y + 1) * w * 3];
            for (d, px) in dst[..w].iter_mut().zip(row.chunks_exact(3)) {
                *d = lo + px[src] as f32 * scale;
            }
        }
    }
    (input, nh, nw)
}

/// The graph's logits, [classes, rows, columns], kept in ONNX Runtime's own buffer: at the
/// resized resolution, or at 1/`upsample` of it for packs whose graph stops before the head's
/// upsample (`logit_stride` in the manifest), which the field then does as it reads them.
pub struct LogitMap {
    values: LogitValues,
    pub classes: usize,
    /// Rows and columns of the buffer.
    pub stride_h: usize,
    pub stride_w: usize,
    /// The valid region at the resized resolution (the resized image, without divisibility
    /// padding), after the upsample.
    pub h: usize,
    pub w: usize,
    /// The head's bilinear upsample factor still to apply (1: none).
    pub upsample: usize,
}

enum LogitValues {
    Runtime(DynValue),
    #[cfg(test)]
    Owned(Vec<f32>),
}

impl LogitMap {
    /// Runs the model; also returns the time spent preparing its input and running it.
    pub fn run(
        session: &mut Session,
        run_options: &RunOptions,
        spec: &SegmentationSpec,
        rgb: &RgbImage,
    ) -> Result<(Self, std::time::Duration, std::time::Duration), EngineError> {
        let t = std::time::Instant::now();
        let (input, nh, nw) = segmentation_input(rgb, spec);
        let pre = t.elapsed();
        let t = std::time::Instant::now();
        let tensor = TensorRef::from_array_view(&input)
            .map_err(|e| EngineError::inference("segmentation input", e))?;
        let mut outputs = session
            .run_with_options(ort::inputs![spec.input.as_str() => tensor], run_options)
            .map_err(|e| EngineError::inference("segmentation", e))?;
        let value = outputs.remove(spec.output.as_str()).ok_or_else(|| {
            EngineError::inference("segmentation", format!("no output named '{}'", spec.output))
        })?;
        drop(outputs);
        let (shape, _) = value
            .try_extract_tensor::<f32>()
            .map_err(|e| EngineError::inference("segmentation output", e))?;
        let dims: Vec<i64> = shape.iter().copied().collect();
        let up = spec.logit_stride.max(1) as i64;
        if dims.len() != 4
            || dims[0] != 1
            || dims[1] as usize != spec.num_classes
            || dims[2] * up < nh as i64
            || dims[3] * up < nw as i64
        {
            let (eh, ew) = (nh.div_ceil(up as u32), nw.div_ceil(up as u32));
            return Err(EngineError::ModelMismatch {
                model: "segmentation",
                detail: format!(
                    "output shape {dims:?}, expected [1, {}, >={eh}, >={ew}] (logit_stride {up})",
                    spec.num_classes
                ),
            });
        }
        let map = Self {
            classes: dims[1] as usize,
            stride_h: dims[2] as usize,
            stride_w: dims[3] as usize,
            h: nh as usize,
            w: nw as usize,
            upsample: up as usize,
            values: LogitValues::Runtime(value),
        };
        Ok((map, pre, t.elapsed()))
    }

    pub fn data(&self) -> &[f32] {
        match &self.values {
            LogitValues::Runtime(value) => {
                value
                    .try_extract_tensor::<f32>()
                    .expect("checked at construction")
                    .1
            }
            #[cfg(test)]
            LogitValues::Owned(values) => values,
        }
    }

    /// Logits held in memory, for tests of the field.
    #[cfg(test)]
    fn owned(values: Vec<f32>, rows: usize, columns: usize, h: usize, w: usize, up: usize) -> Self {
        assert_eq!(values.len(), CLASSES * rows * columns);
        Self {
            values: LogitValues::Owned(values),
            classes: CLASSES,
            stride_h: rows,
            stride_w: columns,
            h,
            w,
            upsample: up,
        }
    }
}

/// Softmax probabilities of the logits bilinearly resized (torch, `align_corners=False`) to
/// the original image size, computed on demand for bands of rows.
pub struct ProbabilityField<'a> {
    logits: &'a LogitMap,
    data: &'a [f32],
    pub width: usize,
    pub height: usize,
    xtaps: Vec<(usize, usize, f32, f32)>,
    ytaps: Vec<(usize, usize, f32, f32)>,
    /// For logits still to be upsampled: the upsample's taps from the upsampled rows and
    /// columns (the first `h` and `w`, the crop) into the buffer's.
    upsample: Option<(Vec<Tap>, Vec<Tap>)>,
}

type Tap = (usize, usize, f32, f32);

impl<'a> ProbabilityField<'a> {
    pub fn new(logits: &'a LogitMap, width: u32, height: u32) -> Self {
        Self {
            logits,
            data: logits.data(),
            width: width as usize,
            height: height as usize,
            xtaps: torch_bilinear_taps(logits.w, width as usize),
            ytaps: torch_bilinear_taps(logits.h, height as usize),
            // detectron2's head: F.interpolate(scale_factor=s, bilinear, align_corners=False)
            // over the whole padded map, then the crop to the resized image.
            upsample: (logits.upsample > 1).then(|| {
                let s = logits.upsample;
                let mut rows = torch_bilinear_taps(logits.stride_h, logits.stride_h * s);
                let mut cols = torch_bilinear_taps(logits.stride_w, logits.stride_w * s);
                rows.truncate(logits.h);
                cols.truncate(logits.w);
                (rows, cols)
            }),
        }
    }

    pub fn classes(&self) -> usize {
        self.logits.classes
    }

    /// One source row interpolated horizontally over columns `x0..x1`, pixel-major. The
    /// source columns it reads are first gathered pixel-major (`scratch`), so that both the
    /// interpolation and everything after it run over a pixel's 33 contiguous classes.
    #[inline(always)]
    fn horizontal_row(
        &self,
        src_row: usize,
        x0: usize,
        x1: usize,
        out: &mut Vec<ClassValues>,
        scratch: &mut Vec<ClassValues>,
    ) {
        let taps = &self.xtaps[x0..x1];
        let (s0, s1) = (taps[0].0, taps[taps.len() - 1].1);
        scratch.clear();
        scratch.resize(s1 - s0 + 1, [0.0; CLASSES]);
        let (plane, stride_w) = (
            self.logits.stride_h * self.logits.stride_w,
            self.logits.stride_w,
        );
        match &self.upsample {
            None => {
                for c in 0..CLASSES {
                    let row = &self.data[c * plane + src_row * stride_w + s0..][..s1 - s0 + 1];
                    for (dst, &v) in scratch.iter_mut().zip(row) {
                        dst[c] = v;
                    }
                }
            }
            Some((rows, cols)) => {
                // The upsampled row, made from two rows of the buffer, in torch's order of
                // operations (each row across, then the two rows blended).
                let (r0, r1, v0, v1) = rows[src_row];
                let cols = &cols[s0..=s1];
                for c in 0..CLASSES {
                    let a = &self.data[c * plane + r0 * stride_w..][..stride_w];
                    let b = &self.data[c * plane + r1 * stride_w..][..stride_w];
                    for (dst, &(i0, i1, u0, u1)) in scratch.iter_mut().zip(cols) {
                        dst[c] = v0 * (u0 * a[i0] + u1 * a[i1]) + v1 * (u0 * b[i0] + u1 * b[i1]);
                    }
                }
            }
        }
        out.clear();
        out.resize(x1 - x0, [0.0; CLASSES]);
        for (o, &(i0, i1, w0, w1)) in out.iter_mut().zip(taps) {
            let (a, b) = (&scratch[i0 - s0], &scratch[i1 - s0]);
            for c in 0..CLASSES {
                o[c] = w0 * a[c] + w1 * b[c];
            }
        }
    }

    /// Rows `y0..y1` of the interpolated logits. `columns(y)` picks the columns wanted in
    /// row `y` (inside `x0..x1`; `None` skips the row); `visit(y, a, logits)` then receives
    /// them, `logits[x - a]` holding column `x`'s classes.
    #[inline(always)]
    pub fn for_each_row(
        &self,
        y0: usize,
        y1: usize,
        x0: usize,
        x1: usize,
        mut columns: impl FnMut(usize) -> Option<(usize, usize)>,
        mut visit: impl FnMut(usize, usize, &[ClassValues]),
    ) {
        // Horizontally interpolated source rows, at most two live at a time (plus a spare).
        let mut rows: Vec<(usize, Vec<ClassValues>)> = Vec::new();
        let (mut pixels, mut scratch) = (Vec::new(), Vec::new());
        for y in y0..y1 {
            let Some((a, b)) = columns(y) else { continue };
            debug_assert!(x0 <= a && a < b && b <= x1);
            let (r0, r1, wy0, wy1) = self.ytaps[y];
            for r in [r0, r1] {
                if !rows.iter().any(|(k, _)| *k == r) {
                    let mut buf = rows
                        .iter()
                        .position(|(k, _)| *k < r0)
                        .map(|i| rows.swap_remove(i).1)
                        .unwrap_or_default();
                    self.horizontal_row(r, x0, x1, &mut buf, &mut scratch);
                    rows.push((r, buf));
                }
            }
            let h0 = &rows.iter().find(|(k, _)| *k == r0).expect("cached").1;
            let h1 = &rows.iter().find(|(k, _)| *k == r1).expect("cached").1;
            pixels.clear();
            pixels.extend(
                h0[a - x0..b - x0]
                    .iter()
                    .zip(&h1[a - x0..b - x0])
                    .map(|(u, v)| std::array::from_fn(|c| wy0 * u[c] + wy1 * v[c])),
            );
            visit(y, a, &pixels);
        }
    }
}

/// Softmax over one pixel's class logits.
#[inline(always)]
pub fn softmax(logits: &ClassValues, out: &mut ClassValues) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for c in 0..CLASSES {
        out[c] = crate::fastmath::exp(logits[c] - max);
    }
    // Eight partial sums so the reduction vectorises.
    let mut lanes = [0.0f32; 8];
    for (c, v) in out.iter().enumerate() {
        lanes[c % 8] += v;
    }
    let inv = 1.0 / lanes.iter().sum::<f32>();
    for v in out.iter_mut() {
        *v *= inv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logits at a quarter of the resolution, upsampled and resized by the field, equal the
    /// two resizes done one after the other over whole maps (what the graph's own upsample
    /// and the crop and resize after it did).
    #[test]
    fn upsampling_in_the_field_equals_upsampling_the_whole_map() {
        let (rows, cols, s) = (13, 21, 4);
        let (h, w) = (49, 81); // the crop: a few upsampled rows and columns of padding
        let (out_h, out_w) = (67, 103);
        let mut seed = 7u32;
        let values: Vec<f32> = (0..CLASSES * rows * cols)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 8) as f32 / (1 << 24) as f32 * 20.0 - 10.0
            })
            .collect();
        // The whole map upsampled (what the graph returned before), then cropped.
        let (uy, ux) = (
            torch_bilinear_taps(rows, rows * s),
            torch_bilinear_taps(cols, cols * s),
        );
        let mut full = vec![0f32; CLASSES * h * w];
        for c in 0..CLASSES {
            for y in 0..h {
                for x in 0..w {
                    let (r0, r1, v0, v1) = uy[y];
                    let (i0, i1, u0, u1) = ux[x];
                    let at = |r: usize, i: usize| values[c * rows * cols + r * cols + i];
                    full[c * h * w + y * w + x] = v0 * (u0 * at(r0, i0) + u1 * at(r0, i1))
                        + v1 * (u0 * at(r1, i0) + u1 * at(r1, i1));
                }
            }
        }
        let quarter = LogitMap::owned(values, rows, cols, h, w, s);
        let whole = LogitMap::owned(full, h, w, h, w, 1);
        let (fq, fw) = (
            ProbabilityField::new(&quarter, out_w as u32, out_h as u32),
            ProbabilityField::new(&whole, out_w as u32, out_h as u32),
        );
        let collect = |f: &ProbabilityField| {
            let mut out = Vec::new();
            f.for_each_row(
                0,
                out_h,
                0,
                out_w,
                |_| Some((0, out_w)),
                |_, _, px| out.extend(px.iter().flat_map(|p| p.iter().copied())),
            );
            out
        };
        let (a, b) = (collect(&fq), collect(&fw));
        assert_eq!(a.len(), out_h * out_w * CLASSES);
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-5, "largest difference {worst}");
    }

    #[test]
    fn shortest_edge_matches_detectron2() {
        // The sample: 1292 high, 2356 wide; short 1024 -> 1024 x 1867.2 -> 1867.
        assert_eq!(shortest_edge_size(1292, 2356, 1024, 2048), (1024, 1867));
        // Capped by max_size: 500 x 3000 -> short 1024 would give 6144 wide -> scaled to 2048.
        assert_eq!(shortest_edge_size(500, 3000, 1024, 2048), (341, 2048));
        // Portrait.
        assert_eq!(shortest_edge_size(800, 600, 1024, 2048), (1365, 1024));
    }

    #[test]
    fn input_is_padded_to_the_divisibility_with_the_pad_value() {
        let spec: SegmentationSpec = serde_json::from_value(serde_json::json!({
            "file": "x", "sha256": "", "input": "image", "output": "logits", "channel_order": "bgr",
            "value_range": [0, 255], "num_classes": 33, "size_divisibility": 32,
            "pad_value": [103.5, 116.25, 123.75],
            "resize": {"rule": "shortest_edge", "short_edge": 100, "max_size": 1000, "filter": "pil_bilinear"}
        }))
        .unwrap();
        let rgb = RgbImage::from_fn(300, 150, |x, _| image::Rgb([x as u8, 7, 200]));
        let (t, h, w) = segmentation_input(&rgb, &spec);
        assert_eq!((h, w), (100, 200));
        assert_eq!(t.shape(), &[1, 3, 128, 224]);
        // BGR: channel 0 holds blue.
        assert_eq!(t[[0, 0, 50, 50]], 200.0);
        assert_eq!(t[[0, 1, 50, 50]], 7.0);
        assert_eq!(t[[0, 0, 120, 10]], 103.5);
        assert_eq!(t[[0, 2, 10, 210]], 123.75);
    }

    #[test]
    fn softmax_sums_to_one_and_matches_the_definition() {
        let mut logits = [0.0f32; CLASSES];
        for (c, l) in logits.iter_mut().enumerate() {
            *l = (c as f32 * 0.7).sin() * 9.0;
        }
        let mut p = [0.0f32; CLASSES];
        softmax(&logits, &mut p);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let denom: f64 = logits.iter().map(|&l| (l as f64).exp()).sum();
        for c in 0..CLASSES {
            assert!((p[c] as f64 - (logits[c] as f64).exp() / denom).abs() < 1e-7);
        }
    }
}

/// Each pixel's most likely class at the original resolution (0 = background, 1..=32 the
/// teeth), computed once per analysis for both the tooth outlines and the debug image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassMap {
    pub width: usize,
    pub height: usize,
    /// Classes the model has (the largest value + 1 that can appear).
    pub num_classes: usize,
    /// Row-major, `width * height`.
    pub classes: Vec<u8>,
}

impl ClassMap {
    /// Per-pixel argmax of the field, in parallel bands of 32 rows.
    pub fn from_field(field: &ProbabilityField) -> Self {
        use rayon::prelude::*;
        let (w, h) = (field.width, field.height);
        let rows: Vec<Vec<u8>> = (0..h)
            .into_par_iter()
            .step_by(32)
            .map(|y0| argmax_band(field, y0, (y0 + 32).min(h)))
            .collect();
        Self {
            width: w,
            height: h,
            num_classes: field.classes(),
            classes: rows.concat(),
        }
    }

    pub fn get(&self, x: usize, y: usize) -> u8 {
        self.classes[y * self.width + x]
    }
}

/// Rows `y0..y1` of each pixel's most likely class (the first maximum wins, like numpy's
/// argmax). Compiled for AVX2 + FMA as well, chosen at run time.
#[multiversion::multiversion(targets("x86_64+avx2+fma"))]
fn argmax_band(field: &ProbabilityField, y0: usize, y1: usize) -> Vec<u8> {
    let w = field.width;
    let mut classes = vec![0u8; (y1 - y0) * w];
    field.for_each_row(
        y0,
        y1,
        0,
        w,
        |_| Some((0, w)),
        |y, _, logits| argmax_row(logits, &mut classes[(y - y0) * w..][..w]),
    );
    classes
}

/// Each pixel's first largest class (NumPy's argmax) for one row of interpolated logits.
#[inline(always)]
pub(crate) fn argmax_row(logits: &[ClassValues], out: &mut [u8]) {
    for (arg, pixel) in out.iter_mut().zip(logits) {
        let (mut best, mut best_c) = (pixel[0], 0u8);
        for (c, &v) in pixel.iter().enumerate().skip(1) {
            if v > best {
                best = v;
                best_c = c as u8;
            }
        }
        *arg = best_c;
    }
}
