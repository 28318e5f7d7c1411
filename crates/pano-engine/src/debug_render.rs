//! The two debug images of the reference: the per-pixel tooth classes, and the finding
//! instances with their labels.

use image::{Rgb, RgbImage};
use rayon::prelude::*;

use crate::segmentation::ClassMap;
use crate::{Detection, EngineError};

/// matplotlib's "rainbow" colour map (gnuplot functions 33, 13, 10).
fn rainbow(x: f32) -> [u8; 3] {
    let r = (2.0 * x - 0.5).abs();
    let g = (std::f32::consts::PI * x).sin();
    let b = (std::f32::consts::FRAC_PI_2 * x).cos();
    [r, g, b].map(|v| (v.clamp(0.0, 1.0) * 255.0) as u8)
}

/// Alpha blend in 8-bit fixed point (alpha in 256ths) of one RGB pixel's bytes.
fn blend_bytes(p: &mut [u8], color: [u8; 3], alpha: u16) {
    for (v, &c) in p.iter_mut().zip(&color) {
        *v = ((*v as u16 * (256 - alpha) + c as u16 * alpha + 128) >> 8) as u8;
    }
}

/// Text in an 8x8 bitmap font scaled up, white on a dark box, clipped to the image.
fn draw_label(img: &mut RgbImage, x: i64, y: i64, text: &str, scale: i64, background: [u8; 3]) {
    use font8x8::UnicodeFonts;
    let (w, h) = (img.width() as i64, img.height() as i64);
    let tw = text.chars().count() as i64 * 8 * scale + 2 * scale;
    let th = 8 * scale + 2 * scale;
    let x = x.clamp(0, (w - tw).max(0));
    let y = y.clamp(0, (h - th).max(0));
    for yy in y..(y + th).min(h) {
        for xx in x..(x + tw).min(w) {
            img.put_pixel(xx as u32, yy as u32, Rgb(background));
        }
    }
    for (i, ch) in text.chars().enumerate() {
        let glyph = font8x8::BASIC_FONTS.get(ch).unwrap_or([0; 8]);
        for (gy, bits) in glyph.iter().enumerate() {
            for gx in 0..8 {
                if bits & (1 << gx) == 0 {
                    continue;
                }
                for sy in 0..scale {
                    for sx in 0..scale {
                        let px = x + scale + (i as i64 * 8 + gx) * scale + sx;
                        let py = y + scale + gy as i64 * scale + sy;
                        if px < w && py < h {
                            img.put_pixel(px as u32, py as u32, Rgb([255, 255, 255]));
                        }
                    }
                }
            }
        }
    }
}

fn label_scale(img: &RgbImage) -> i64 {
    (img.width().max(img.height()) as i64 / 1000).clamp(1, 4)
}

/// `semantic-segmentation.jpg`: each pixel's most likely class, background transparent,
/// the 32 teeth in rainbow colours, outlined and labelled with their FDI number.
pub fn semantic_segmentation(image: &RgbImage, class_map: &ClassMap) -> RgbImage {
    let (w, h) = (class_map.width, class_map.height);
    let classes = &class_map.classes;
    let n = class_map.num_classes.max(2);
    let colors: Vec<[u8; 3]> = (0..n)
        .map(|c| rainbow((c as f32 - 1.0) / (n as f32 - 2.0)))
        .collect();
    let mut out = image.clone();
    // Rows blend independently (the outline only reads the class map): in parallel, each
    // band also summing its pixels' positions per class for the labels.
    let centroids = out
        .par_chunks_mut(w * 3)
        .enumerate()
        .map(|(y, row)| {
            let mut sums = vec![(0u64, 0u64, 0u64); n];
            for x in 0..w {
                let c = classes[y * w + x];
                if c == 0 {
                    continue;
                }
                let edge = (x + 1 < w && classes[y * w + x + 1] != c)
                    || (y + 1 < h && classes[(y + 1) * w + x] != c)
                    || (x > 0 && classes[y * w + x - 1] != c)
                    || (y > 0 && classes[(y - 1) * w + x] != c);
                blend_bytes(
                    &mut row[x * 3..x * 3 + 3],
                    colors[c as usize],
                    if edge { 243 } else { 115 },
                );
                let e = &mut sums[c as usize];
                e.0 += x as u64;
                e.1 += y as u64;
                e.2 += 1;
            }
            sums
        })
        .reduce(
            || vec![(0u64, 0u64, 0u64); n],
            |mut a, b| {
                for (s, t) in a.iter_mut().zip(b) {
                    s.0 += t.0;
                    s.1 += t.1;
                    s.2 += t.2;
                }
                a
            },
        );
    let scale = label_scale(image);
    for (c, &(sx, sy, count)) in centroids.iter().enumerate().skip(1) {
        if count < 200 {
            continue;
        }
        let fdi = pano_core::ToothIndex::new(c as u32)
            .map(|t| t.fdi().to_string())
            .unwrap_or_default();
        draw_label(
            &mut out,
            (sx / count) as i64 - 8 * scale,
            (sy / count) as i64 - 4 * scale,
            &fdi,
            scale,
            [40, 40, 40],
        );
    }
    out
}

/// `instance-detection.jpg`: the finding instances (not teeth) above `min_score`, as
/// coloured masks and boxes labelled `NAME NN%`, one rainbow colour per class.
pub fn instance_detection(
    image: &RgbImage,
    detections: &[Detection],
    num_classes: usize,
    min_score: f32,
) -> RgbImage {
    let mut out = image.clone();
    let shown: Vec<&Detection> = detections
        .iter()
        .filter(|d| !d.class_name.starts_with("TOOTH") && d.score > min_score)
        .collect();
    let color = |d: &Detection| rainbow(d.class_id as f32 / (num_classes.max(2) - 1) as f32);
    // Each row receives every mask in the same order, so rows can be painted in parallel.
    let w = out.width() as usize;
    out.par_chunks_mut(w * 3).enumerate().for_each(|(y, row)| {
        let mut runs = Vec::new();
        for d in shown.iter().rev() {
            let c = color(d);
            runs.clear();
            d.mask.runs_into(y as u32, &mut runs);
            for &(s, e) in &runs {
                for px in row[s as usize * 3..e as usize * 3].chunks_exact_mut(3) {
                    blend_bytes(px, c, 128);
                }
            }
        }
    });
    let scale = label_scale(image);
    for d in &shown {
        let c = color(d);
        let [x0, y0, x1, y1] = [d.mask.x0, d.mask.y0, d.mask.x1, d.mask.y1];
        for t in 0..scale as u32 {
            for x in x0..=x1 {
                out.put_pixel(x, (y0 + t).min(y1), Rgb(c));
                out.put_pixel(x, y1.saturating_sub(t).max(y0), Rgb(c));
            }
            for y in y0..=y1 {
                out.put_pixel((x0 + t).min(x1), y, Rgb(c));
                out.put_pixel(x1.saturating_sub(t).max(x0), y, Rgb(c));
            }
        }
        let dark = c.map(|v| v / 3);
        let label = format!("{} {:.0}%", d.class_name, d.score * 100.0);
        draw_label(
            &mut out,
            x0 as i64,
            y0 as i64 - 10 * scale,
            &label,
            scale,
            dark,
        );
    }
    out
}

/// The words a debug image made by random-weight test models carries, bottom left, so that
/// the picture alone never passes for a diagnosis.
pub const TEST_MODEL_NOTICE: &str = "TEST MODELS (RANDOM WEIGHTS) - NOT FOR DIAGNOSIS";

pub fn stamp_test_model_notice(img: &mut RgbImage) {
    let scale = label_scale(img) + 1;
    let y = img.height() as i64 - 10 * scale;
    draw_label(img, 0, y, TEST_MODEL_NOTICE, scale, [160, 0, 0]);
}

/// JPEG at quality 88 with libjpeg-turbo's fastest settings (baseline, no trellis).
/// libjpeg reports errors by unwinding, hence `catch_unwind`.
pub fn encode_jpeg(img: &RgbImage) -> Result<Vec<u8>, EngineError> {
    std::panic::catch_unwind(|| -> std::io::Result<Vec<u8>> {
        let mut compress = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        compress.set_fastest_defaults();
        compress.set_size(img.width() as usize, img.height() as usize);
        compress.set_quality(88.0);
        let mut started = compress.start_compress(Vec::with_capacity(img.as_raw().len() / 8))?;
        started.write_scanlines(img.as_raw())?;
        started.finish()
    })
    .map_err(|_| EngineError::DebugImage("the JPEG encoder stopped".into()))?
    .map_err(|e| EngineError::DebugImage(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_jpegs_decode_back_to_the_picture() {
        let img = RgbImage::from_fn(320, 200, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let bytes = encode_jpeg(&img).unwrap();
        let back = image::load_from_memory(&bytes).unwrap().to_rgb8();
        assert_eq!(back.dimensions(), (320, 200));
        let p = back.get_pixel(100, 50).0;
        assert!(
            p[0].abs_diff(100) < 8 && p[1].abs_diff(50) < 8 && p[2].abs_diff(90) < 8,
            "{p:?}"
        );
    }

    #[test]
    fn test_model_notice_is_stamped_bottom_left() {
        let mut img = RgbImage::from_pixel(1200, 600, Rgb([0, 0, 0]));
        stamp_test_model_notice(&mut img);
        // Dark red box with white text along the bottom edge; the top is untouched.
        let box_pixels = (0..600u32)
            .filter(|&x| img.get_pixel(x, 596).0 == [160, 0, 0])
            .count();
        let text_pixels = (0..600u32)
            .flat_map(|x| (570..600u32).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0 == [255, 255, 255])
            .count();
        assert!(
            box_pixels > 100 && text_pixels > 200,
            "{box_pixels} {text_pixels}"
        );
        assert_eq!(img.get_pixel(10, 10).0, [0, 0, 0]);
    }

    #[test]
    fn rainbow_matches_matplotlib_endpoints() {
        assert_eq!(rainbow(0.0), [127, 0, 255]);
        assert_eq!(rainbow(1.0), [255, 0, 0]);
        let mid = rainbow(0.5);
        assert!(mid[0] > 120 && mid[0] < 135 && mid[1] == 255);
    }
}
