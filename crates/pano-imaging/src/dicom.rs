//! DICOM (Part 10 files) through dicom-rs: uncompressed, JPEG and RLE transfer syntaxes,
//! modality rescale and VOI window applied, MONOCHROME1 inverted, to 8-bit RGB.
//!
//! dicom-rs only sees a file whose structure `dicom_walk` has checked (no length beyond the
//! bytes there, no deflated data set); only single-frame objects are decoded, and only their
//! first frame.

use dicom_dictionary_std::tags;
use dicom_object::file::{OddLengthStrategy, ReadPreamble};
use dicom_object::{DefaultDicomObject, OpenFileOptions};
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

pub(crate) fn text_attr(obj: &DefaultDicomObject, tag: dicom_object::Tag) -> Option<String> {
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

/// Runs a dicom-rs step, turning a panic inside it (its adapters index slices by what the file
/// says) into `Corrupt` instead of unwinding through the caller.
fn caught<T>(step: impl FnOnce() -> T) -> Result<T, ImportError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)).map_err(|panic| {
        let detail = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "the decoder stopped".into());
        corrupt(format!("the DICOM reader stopped ({detail})"))
    })
}

/// What a JPEG's frame header (SOFn) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct JpegFrame {
    precision: u8,
    width: u32,
    height: u32,
    components: u32,
}

/// The frame header of a JPEG stream (`data` from its SOI marker), if one comes before the
/// first scan within `data`.
fn jpeg_frame_header(data: &[u8]) -> Option<JpegFrame> {
    let byte = |i: usize| data.get(i).copied();
    let word = |i: usize| Some(u16::from_be_bytes([byte(i)?, byte(i + 1)?]));
    let mut i = 2;
    loop {
        if byte(i)? != 0xFF {
            return None;
        }
        while byte(i)? == 0xFF {
            i += 1;
        }
        let marker = byte(i)?;
        i += 1;
        match marker {
            // no length: TEM, RSTn, SOI
            0x01 | 0xD0..=0xD8 => continue,
            // EOI or a scan before any frame header
            0xD9 | 0xDA => return None,
            _ => {}
        }
        let len = word(i)? as usize;
        if len < 2 {
            return None;
        }
        // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC); SOF55 (F7) of JPEG-LS.
        let frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if frame || marker == 0xF7 {
            return Some(JpegFrame {
                precision: byte(i + 2)?,
                height: word(i + 3)? as u32,
                width: word(i + 5)? as u32,
                components: byte(i + 7)? as u32,
            });
        }
        i += len;
    }
}

/// An encapsulated frame that is a JPEG must describe the image the DICOM header describes:
/// dicom-rs copies the decoded JPEG into a buffer sized from Rows, Columns and Bits Allocated
/// (a larger JPEG made it panic: a fuzz finding), and its JPEG decoder allocates for the JPEG's
/// own dimensions, which the pixel limit (checked on the DICOM header) says nothing about.
fn check_embedded_jpeg(
    obj: &DefaultDicomObject,
    columns: u32,
    rows: u32,
    samples: u32,
    bits_allocated: u32,
) -> Result<(), ImportError> {
    let Some(fragments) = obj
        .element(tags::PIXEL_DATA)
        .ok()
        .and_then(|e| e.value().fragments())
    else {
        return Ok(()); // native pixel data
    };
    // The start of the first frame, picked from the fragments as dicom-rs's JPEG adapter picks
    // it (one fragment: that one; otherwise those from the first offset of the Basic Offset
    // Table up to the second), far enough to hold the frame header.
    const HEAD: usize = 64 * 1024;
    let offsets = obj
        .element(tags::PIXEL_DATA)
        .ok()
        .and_then(|e| e.value().offset_table())
        .unwrap_or(&[]);
    let (first, next) = match fragments.len() {
        1 => (0, None),
        _ => (
            offsets.first().copied().unwrap_or(0) as usize,
            offsets.get(1).map(|&o| o as usize),
        ),
    };
    let mut head = Vec::new();
    let mut offset = 0usize;
    for fragment in fragments {
        if head.len() >= HEAD {
            break;
        }
        if offset >= first {
            head.extend_from_slice(&fragment[..fragment.len().min(HEAD - head.len())]);
        }
        offset += fragment.len() + 8;
        if next.is_some_and(|next| offset >= next) {
            break;
        }
    }
    if !head.starts_with(&[0xFF, 0xD8]) {
        return Ok(()); // not a JPEG (RLE): its decoder checks sizes itself
    }
    let frame =
        jpeg_frame_header(&head).ok_or_else(|| corrupt("the embedded JPEG has no frame header"))?;
    if (frame.width, frame.height, frame.components) != (columns, rows, samples) {
        return Err(corrupt(format!(
            "the embedded JPEG is {}x{} with {} component(s), the DICOM header says {columns}x{rows} with {samples}",
            frame.width, frame.height, frame.components
        )));
    }
    let wide = frame.precision > 8;
    if wide != (bits_allocated == 16) {
        return Err(corrupt(format!(
            "the embedded JPEG has {}-bit samples, the DICOM header allocates {bits_allocated} bits",
            frame.precision
        )));
    }
    Ok(())
}

/// The data set of a Part 10 file, read by dicom-rs only after `dicom_walk` checked every
/// length in it.
pub(crate) fn open_checked(bytes: &[u8]) -> Result<DefaultDicomObject, ImportError> {
    // Every length checked before dicom-rs allocates by it.
    crate::dicom_walk::check_structure(bytes)?;
    // The stream after the preamble, starting at "DICM", read exactly as the walk read it: no
    // second preamble guessed (dicom-rs skips 128 more bytes when it finds another "DICM" at
    // 128), odd lengths taken as they are.
    caught(|| {
        OpenFileOptions::new()
            .read_preamble(ReadPreamble::Never)
            .odd_length_strategy(OddLengthStrategy::Accept)
            .from_reader(&bytes[128..])
    })?
    .map_err(corrupt)
}

pub(crate) fn decode_dicom(
    bytes: &[u8],
    limits: &ImportLimits,
) -> Result<ImportedImage, ImportError> {
    let obj = open_checked(bytes)?;
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
    if obj.element(tags::NUMBER_OF_FRAMES).is_ok() {
        let frames = int_attr(&obj, tags::NUMBER_OF_FRAMES, "Number of Frames")?;
        if frames > 1 {
            return Err(ImportError::DicomMultiFrame { frames });
        }
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

    check_embedded_jpeg(&obj, columns, rows, samples, bits_allocated)?;

    let pixels = caught(|| obj.decode_pixel_data_frame(0))?.map_err(|e| match e.to_string() {
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
        let rescaled: Vec<f32> =
            caught(|| pixels.to_vec_frame_with_options(0, &options))?.map_err(corrupt)?;
        apply_voi(&obj, &rescaled)
    } else {
        caught(|| pixels.to_vec_frame::<u8>(0))?.map_err(corrupt)?
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
