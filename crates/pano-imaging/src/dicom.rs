//! DICOM (Part 10 files) through dicom-rs: uncompressed and JPEG transfer syntaxes, modality
//! rescale and VOI window applied, MONOCHROME1 inverted, to 8-bit RGB.

use dicom_dictionary_std::tags;
use dicom_object::{from_reader, DefaultDicomObject};
use dicom_pixeldata::{ConvertOptions, PixelDecoder, VoiLutOption};
use image::RgbImage;

use crate::import::{check_dimensions, ImportedImage, SourceFormat};
use crate::{ImportError, ImportLimits};

const FORMAT: &str = "DICOM";

/// A Part 10 file: 128-byte preamble, then "DICM".
pub(crate) fn is_dicom(bytes: &[u8]) -> bool {
    bytes.len() > 132 && &bytes[128..132] == b"DICM"
}

fn corrupt(detail: impl ToString) -> ImportError {
    ImportError::Corrupt {
        format: FORMAT,
        detail: detail.to_string(),
    }
}

fn unsupported(detail: impl ToString) -> ImportError {
    ImportError::UnsupportedVariant {
        format: FORMAT,
        detail: detail.to_string(),
    }
}

fn int_attr(
    obj: &DefaultDicomObject,
    tag: dicom_object::Tag,
    name: &str,
) -> Result<u32, ImportError> {
    obj.element(tag)
        .map_err(|_| corrupt(format!("the {name} attribute is missing")))?
        .to_int::<u32>()
        .map_err(|_| corrupt(format!("the {name} attribute is not a number")))
}

fn text_attr(obj: &DefaultDicomObject, tag: dicom_object::Tag) -> Option<String> {
    obj.element(tag)
        .ok()
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim().to_string())
}

/// The first VOI window of the object (DICOM PS3.3 C.11.2.1.2: LINEAR, LINEAR_EXACT or
/// SIGMOID) mapped to 0..=255; without a window, the values' own range.
fn apply_voi(obj: &DefaultDicomObject, values: &[f32]) -> Vec<u8> {
    let first = |tag| {
        obj.element(tag)
            .ok()
            .and_then(|e| e.to_multi_float64().ok())
            .and_then(|v| v.first().copied())
    };
    let window = match (first(tags::WINDOW_CENTER), first(tags::WINDOW_WIDTH)) {
        (Some(c), Some(w)) if w >= 1.0 => Some((c, w)),
        _ => None,
    };
    let function = text_attr(obj, tags::VOILUT_FUNCTION).unwrap_or_default();
    let map: Box<dyn Fn(f64) -> f64> = match window {
        Some((c, w)) if function == "SIGMOID" => {
            Box::new(move |x| 255.0 / (1.0 + (-4.0 * (x - c) / w).exp()))
        }
        Some((c, w)) if function == "LINEAR_EXACT" => {
            Box::new(move |x| ((x - c) / w + 0.5) * 255.0)
        }
        Some((c, w)) => Box::new(move |x| ((x - (c - 0.5)) / (w - 1.0) + 0.5) * 255.0),
        None => {
            let (lo, hi) = values
                .iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                });
            let span = (hi - lo).max(f32::EPSILON) as f64;
            Box::new(move |x| (x - lo as f64) / span * 255.0)
        }
    };
    values
        .iter()
        .map(|&v| map(v as f64).round().clamp(0.0, 255.0) as u8)
        .collect()
}

pub(crate) fn decode_dicom(
    bytes: &[u8],
    limits: &ImportLimits,
) -> Result<ImportedImage, ImportError> {
    // from_reader expects the stream after the preamble, starting at "DICM".
    let obj = from_reader(&bytes[128..]).map_err(corrupt)?;
    let rows = int_attr(&obj, tags::ROWS, "Rows")?;
    let columns = int_attr(&obj, tags::COLUMNS, "Columns")?;
    let samples = int_attr(&obj, tags::SAMPLES_PER_PIXEL, "Samples per Pixel").unwrap_or(1);
    let bits_allocated = int_attr(&obj, tags::BITS_ALLOCATED, "Bits Allocated")?;
    let photometric = text_attr(&obj, tags::PHOTOMETRIC_INTERPRETATION).unwrap_or_default();
    // Limits before a single pixel is decompressed.
    check_dimensions(SourceFormat::Dicom, columns, rows, limits)?;
    if obj.element(tags::PIXEL_DATA).is_err() {
        return Err(unsupported("the file holds no image (no Pixel Data)"));
    }
    let grayscale = match (samples, photometric.as_str()) {
        (1, "MONOCHROME1" | "MONOCHROME2") => true,
        (3, "RGB" | "YBR_FULL_422" | "YBR_FULL") => false,
        _ => {
            return Err(unsupported(format!(
                "{samples} samples per pixel with photometric interpretation '{photometric}'"
            )))
        }
    };

    let pixels = obj.decode_pixel_data().map_err(|e| match e.to_string() {
        m if m.contains("nsupported") || m.contains("not supported") => unsupported(m),
        m => corrupt(m),
    })?;
    if !grayscale && pixels.photometric_interpretation().as_str() != "RGB" {
        return Err(unsupported(format!(
            "colour data in {}",
            pixels.photometric_interpretation()
        )));
    }
    let expected = rows as usize * columns as usize * samples as usize;
    let values: Vec<u8> = if grayscale {
        // Modality rescale by dicom-rs; the VOI window here, where its parameters are read
        // from the object (dicom-rs cannot narrow a windowed 16-bit frame to 8 bits).
        let options = ConvertOptions::new().with_voi_lut(VoiLutOption::Identity);
        let rescaled: Vec<f32> = pixels
            .to_vec_frame_with_options(0, &options)
            .map_err(corrupt)?;
        apply_voi(&obj, &rescaled)
    } else {
        pixels.to_vec_frame::<u8>(0).map_err(corrupt)?
    };
    if values.len() < expected {
        return Err(corrupt(format!(
            "pixel data holds {} values, {} expected",
            values.len(),
            expected
        )));
    }
    let rgb = if grayscale {
        let invert = photometric == "MONOCHROME1";
        let mut raw = Vec::with_capacity(expected * 3);
        for &v in &values[..expected] {
            let v = if invert { 255 - v } else { v };
            raw.extend_from_slice(&[v, v, v]);
        }
        RgbImage::from_raw(columns, rows, raw)
    } else {
        RgbImage::from_raw(columns, rows, values[..expected].to_vec())
    }
    .ok_or_else(|| corrupt("pixel data does not match the image size"))?;
    Ok(ImportedImage {
        rgb,
        format: SourceFormat::Dicom,
        bits_per_sample: bits_allocated.min(16) as u8,
        grayscale,
    })
}
