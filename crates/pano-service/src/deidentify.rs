//! What leaves this computer for a cloud analysis: the pixels the importer produced, as a
//! lossless PNG, never the file the clinic dropped. A DICOM header carries the patient's
//! name, id and birth date; a JPEG's EXIF, XMP or comment segments and a TIFF's tags can
//! carry the same; none of that survives a re-encode of the pixels alone. The worker imports
//! the PNG back to exactly the same RGB the local engine analyses, so cloud and local
//! results stay identical.

use std::io::Cursor;

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, RgbImage};
use pano_imaging::{import_bytes, ImportLimits, ImportedImage};

use crate::ServiceError;

/// The extension of a de-identified image.
pub(crate) const PIXELS_EXTENSION: &str = "png";

/// Imports `bytes` (any supported format) and encodes the pixels as a PNG: one gray
/// channel when every pixel is gray (radiographs, a third of the size), else RGB.
/// Blocking (tens of milliseconds for a panoramic radiograph).
pub(crate) fn pixels_png(bytes: &[u8], file_name: &str) -> Result<Vec<u8>, ServiceError> {
    let image =
        import_bytes(bytes, &ImportLimits::default()).map_err(|e| ServiceError::Import {
            path: file_name.to_string(),
            source: e,
        })?;
    Ok(encode_png(&image))
}

fn encode_png(image: &ImportedImage) -> Vec<u8> {
    let rgb: &RgbImage = &image.rgb;
    let (w, h) = rgb.dimensions();
    let gray = rgb.pixels().all(|p| p[0] == p[1] && p[1] == p[2]);
    let mut out = Vec::new();
    // Fast compression: the PNG lives for one analysis in the temp bucket; upload time
    // matters more than a few percent of size.
    let encoder = PngEncoder::new_with_quality(
        Cursor::new(&mut out),
        CompressionType::Fast,
        FilterType::Adaptive,
    );
    let written = if gray {
        let luma: Vec<u8> = rgb.pixels().map(|p| p[0]).collect();
        encoder.write_image(&luma, w, h, ExtendedColorType::L8)
    } else {
        encoder.write_image(rgb.as_raw(), w, h, ExtendedColorType::Rgb8)
    };
    written.expect("encoding a PNG into memory cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_png_holds_exactly_the_imported_pixels_and_nothing_of_the_file() {
        // A JPEG with a comment segment naming a patient.
        let mut rgb = RgbImage::new(640, 320);
        for (x, y, p) in rgb.enumerate_pixels_mut() {
            let v = ((x / 3 + y / 2) % 256) as u8;
            *p = image::Rgb([v, v, v]);
        }
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95)
            .encode_image(&rgb)
            .unwrap();
        let marker = b"Doe^Jane 1980-01-01";
        let mut com = vec![0xFF, 0xFE, 0, (marker.len() + 2) as u8];
        com.extend_from_slice(marker);
        let tagged: Vec<u8> = [&jpeg[..2], &com[..], &jpeg[2..]].concat();
        let original = import_bytes(&tagged, &ImportLimits::default()).unwrap();

        let png = pixels_png(&tagged, "Doe_Jane.jpg").unwrap();
        assert!(!png.windows(marker.len()).any(|w| w == marker));
        assert!(!png.windows(3).any(|w| w == b"Doe"));
        let back = import_bytes(&png, &ImportLimits::default()).unwrap();
        assert_eq!(back.rgb, original.rgb, "the worker sees the same pixels");
        assert!(back.grayscale, "gray radiographs travel as one channel");
    }

    #[test]
    fn colour_images_keep_their_colours() {
        let mut rgb = RgbImage::new(600, 300);
        for (x, y, p) in rgb.enumerate_pixels_mut() {
            *p = image::Rgb([(x % 256) as u8, (y % 256) as u8, 200]);
        }
        let mut png = Vec::new();
        rgb.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let out = pixels_png(&png, "x.png").unwrap();
        let back = import_bytes(&out, &ImportLimits::default()).unwrap();
        assert_eq!(back.rgb, rgb);
    }
}
