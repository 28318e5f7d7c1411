//! The three resampling rules the reference pipeline depends on, reproduced exactly:
//! PIL's antialiased bilinear (detectron2's shortest-edge resize), OpenCV's INTER_LINEAR
//! (Ultralytics' letterbox) and torch's bilinear `align_corners=False` (logit and mask
//! upsampling).

use image::RgbImage;
use rayon::prelude::*;

/// PIL's 8-bit fixed-point precision (Pillow `Resample.c`: 32 - 8 - 2).
const PIL_PRECISION_BITS: u32 = 22;

/// Per output pixel: the first source index and the fixed-point weights.
struct PilTaps {
    start: Vec<usize>,
    weights: Vec<Vec<i32>>,
}

/// Pillow's `precompute_coeffs` for the bilinear (triangle) filter, which widens the
/// kernel by the scale when shrinking, then `normalize_coeffs_8bpc`.
fn pil_taps(in_size: usize, out_size: usize) -> PilTaps {
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = filterscale; // bilinear support 1.0
    let ss = 1.0 / filterscale;
    let mut start = Vec::with_capacity(out_size);
    let mut weights = Vec::with_capacity(out_size);
    for xx in 0..out_size {
        let center = (xx as f64 + 0.5) * scale;
        let xmin = ((center - support + 0.5) as i64).max(0) as usize;
        let xmax =
            (((center + support + 0.5) as i64).min(in_size as i64) as usize).saturating_sub(xmin);
        let mut w: Vec<f64> = (0..xmax)
            .map(|x| {
                let t = ((x + xmin) as f64 - center + 0.5) * ss;
                let t = t.abs();
                if t < 1.0 {
                    1.0 - t
                } else {
                    0.0
                }
            })
            .collect();
        let total: f64 = w.iter().sum();
        if total != 0.0 {
            w.iter_mut().for_each(|v| *v /= total);
        }
        let fixed = w
            .iter()
            .map(|&v| {
                let scaled = v * (1u32 << PIL_PRECISION_BITS) as f64;
                if v < 0.0 {
                    (-0.5 + scaled) as i32
                } else {
                    (0.5 + scaled) as i32
                }
            })
            .collect();
        start.push(xmin);
        weights.push(fixed);
    }
    PilTaps { start, weights }
}

fn clip8(acc: i64) -> u8 {
    (acc >> PIL_PRECISION_BITS).clamp(0, 255) as u8
}

/// `PIL.Image.resize((w, h), Image.BILINEAR)` of an RGB image: horizontal pass first into an
/// 8-bit intermediate, then vertical, as Pillow does.
pub fn pil_bilinear(src: &RgbImage, out_w: u32, out_h: u32) -> RgbImage {
    let (in_w, in_h) = (src.width() as usize, src.height() as usize);
    let (out_w, out_h) = (out_w as usize, out_h as usize);
    let horizontal = if out_w != in_w {
        let taps = pil_taps(in_w, out_w);
        let mut tmp = vec![0u8; out_w * in_h * 3];
        let raw = src.as_raw();
        // Rows are independent: resized in parallel.
        tmp.par_chunks_mut(out_w * 3)
            .zip(raw.par_chunks(in_w * 3))
            .for_each(|(out, row)| {
                for x in 0..out_w {
                    let (s, w) = (taps.start[x], &taps.weights[x]);
                    for c in 0..3 {
                        let mut acc: i64 = 1 << (PIL_PRECISION_BITS - 1);
                        for (k, &wk) in w.iter().enumerate() {
                            acc += row[(s + k) * 3 + c] as i64 * wk as i64;
                        }
                        out[x * 3 + c] = clip8(acc);
                    }
                }
            });
        tmp
    } else {
        src.as_raw().clone()
    };
    if out_h == in_h {
        return RgbImage::from_raw(out_w as u32, out_h as u32, horizontal).expect("size");
    }
    let taps = pil_taps(in_h, out_h);
    let stride = out_w * 3;
    let mut out = vec![0u8; out_w * out_h * 3];
    out.par_chunks_mut(stride).enumerate().for_each(|(y, dst)| {
        let (s, w) = (taps.start[y], &taps.weights[y]);
        for (i, d) in dst.iter_mut().enumerate() {
            let mut acc: i64 = 1 << (PIL_PRECISION_BITS - 1);
            for (k, &wk) in w.iter().enumerate() {
                acc += horizontal[(s + k) * stride + i] as i64 * wk as i64;
            }
            *d = clip8(acc);
        }
    });
    RgbImage::from_raw(out_w as u32, out_h as u32, out).expect("size")
}

/// OpenCV `INTER_LINEAR` source taps: indices and 11-bit fixed-point weights. Along x,
/// OpenCV moves edge taps onto the edge pixel with weight 1; along y it keeps the fraction
/// and clamps the row indices, which rounds differently in its fixed-point sum.
fn cv_taps(in_size: usize, out_size: usize, vertical: bool) -> Vec<(usize, usize, i32, i32)> {
    let scale = 1.0 / (out_size as f64 / in_size as f64);
    let last = in_size as i64 - 1;
    (0..out_size)
        .map(|d| {
            let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
            let mut s = f.floor() as i64;
            let mut frac = f - s as f32;
            if !vertical && s < 0 {
                s = 0;
                frac = 0.0;
            }
            if !vertical && s >= last {
                s = last;
                frac = 0.0;
            }
            let w1 = (frac * 2048.0).round_ties_even() as i32;
            let w0 = ((1.0 - frac) * 2048.0).round_ties_even() as i32;
            let (s0, s1) = (s.clamp(0, last) as usize, (s + 1).clamp(0, last) as usize);
            (s0, s1, w0, w1)
        })
        .collect()
}

/// `cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)` for 8-bit RGB, with OpenCV's
/// fixed-point arithmetic (horizontal pass in 11-bit weights, vertical rounding as its SIMD
/// path does).
pub fn cv_linear(src: &RgbImage, out_w: u32, out_h: u32) -> RgbImage {
    let (in_w, in_h) = (src.width() as usize, src.height() as usize);
    let (ow, oh) = (out_w as usize, out_h as usize);
    let xt = cv_taps(in_w, ow, false);
    let yt = cv_taps(in_h, oh, true);
    let raw = src.as_raw();
    let hrow = |y: usize, buf: &mut Vec<i32>| {
        buf.clear();
        let row = &raw[y * in_w * 3..(y + 1) * in_w * 3];
        for &(s0, s1, w0, w1) in &xt {
            for c in 0..3 {
                buf.push(row[s0 * 3 + c] as i32 * w0 + row[s1 * 3 + c] as i32 * w1);
            }
        }
    };
    let mut out = vec![0u8; ow * oh * 3];
    let (mut r0, mut r1) = (Vec::with_capacity(ow * 3), Vec::with_capacity(ow * 3));
    let mut cached = (usize::MAX, usize::MAX);
    for (y, &(s0, s1, b0, b1)) in yt.iter().enumerate() {
        if cached != (s0, s1) {
            hrow(s0, &mut r0);
            hrow(s1, &mut r1);
            cached = (s0, s1);
        }
        let dst = &mut out[y * ow * 3..(y + 1) * ow * 3];
        for i in 0..ow * 3 {
            let v = (((b0 * (r0[i] >> 4)) >> 16) + ((b1 * (r1[i] >> 4)) >> 16) + 2) >> 2;
            dst[i] = v.clamp(0, 255) as u8;
        }
    }
    RgbImage::from_raw(out_w, out_h, out).expect("size")
}

/// torch `F.interpolate(mode="bilinear", align_corners=False)` taps along one axis:
/// (i0, i1, w0, w1) per output index, in float32 as torch computes them on the CPU.
pub fn torch_bilinear_taps(in_size: usize, out_size: usize) -> Vec<(usize, usize, f32, f32)> {
    let scale = in_size as f32 / out_size as f32;
    (0..out_size)
        .map(|d| {
            let src = (scale * (d as f32 + 0.5) - 0.5).max(0.0);
            let i0 = (src as usize).min(in_size - 1);
            let i1 = if i0 < in_size - 1 { i0 + 1 } else { i0 };
            let l1 = src - i0 as f32;
            (i0, i1, 1.0 - l1, l1)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pil_weights_sum_to_one_and_identity_is_exact() {
        for (i, o) in [(2356, 1867), (100, 33), (33, 100), (7, 7)] {
            let taps = pil_taps(i, o);
            for w in &taps.weights {
                let s: i64 = w.iter().map(|&v| v as i64).sum();
                assert!((s - (1 << 22)).abs() <= w.len() as i64, "{i}->{o}: {s}");
            }
        }
        let img = RgbImage::from_fn(40, 20, |x, y| image::Rgb([x as u8, y as u8, (x * y) as u8]));
        assert_eq!(pil_bilinear(&img, 40, 20), img);
    }

    #[test]
    fn constant_images_stay_constant() {
        let img = RgbImage::from_pixel(301, 157, image::Rgb([114, 7, 250]));
        assert!(pil_bilinear(&img, 123, 64)
            .pixels()
            .all(|p| p.0 == [114, 7, 250]));
        assert!(cv_linear(&img, 640, 334)
            .pixels()
            .all(|p| p.0 == [114, 7, 250]));
    }

    #[test]
    fn torch_taps_match_hand_computed_values() {
        // 4 -> 8: src = (d + 0.5) / 2 - 0.5 -> -0.25 (clamped 0), 0.25, 0.75, ...
        let t = torch_bilinear_taps(4, 8);
        assert_eq!(t[0], (0, 1, 1.0, 0.0));
        assert_eq!(t[1], (0, 1, 0.75, 0.25));
        assert_eq!(t[7], (3, 3, 0.75, 0.25));
    }
}
