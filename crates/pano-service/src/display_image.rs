//! The radiograph as the review workspace shows it: the clinic's own file when a webview
//! can show it exactly as the engine saw it, otherwise the imported pixels as a PNG.
//!
//! The overlays are drawn in the coordinates of the imported, upright image, so whatever
//! is shown must have exactly those pixels' geometry. A JPEG or PNG without an EXIF
//! rotation is shown as stored (no re-encode: faster, and no second compression); DICOM,
//! TIFF, BMP, 16-bit files and rotated JPEGs are shown as the importer's pixels.

use std::io::Cursor;

use image::ImageDecoder;
use pano_core::AnalysisGeometry;
use pano_store::ArtefactKind;

use crate::{AnalysisService, ServiceError};

/// An image a webview can show, with its media type.
#[derive(Debug, Clone)]
pub struct DisplayImage {
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
}

impl AnalysisService {
    /// The plain radiograph of an analysis, for the viewer. Blocking (reads the stored
    /// input; tens of milliseconds when it has to be re-encoded).
    pub fn radiograph_image(&self, id: &str) -> Result<DisplayImage, ServiceError> {
        let analysis = self.analysis(id)?;
        let bytes = self.artefact(id, ArtefactKind::Input)?;
        display_image(bytes, &analysis.original_file_name)
    }
}

/// A stored input as it is shown (and put in the report): as stored when that has the
/// importer's geometry, else the imported pixels as a PNG.
pub(crate) fn display_image(input: Vec<u8>, file_name: &str) -> Result<DisplayImage, ServiceError> {
    if let Some(media_type) = shown_as_stored(&input) {
        return Ok(DisplayImage {
            media_type,
            bytes: input,
        });
    }
    let png = crate::deidentify::pixels_png(&input, file_name)?;
    Ok(DisplayImage {
        media_type: "image/png",
        bytes: png,
    })
}

/// The media type of a file a webview shows with the importer's geometry, or `None`.
fn shown_as_stored(bytes: &[u8]) -> Option<&'static str> {
    let format = image::guess_format(bytes).ok()?;
    let media_type = match format {
        image::ImageFormat::Jpeg => "image/jpeg",
        image::ImageFormat::Png => "image/png",
        _ => return None,
    };
    let reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let mut decoder = reader.into_decoder().ok()?;
    // 16-bit PNGs are windowed by the importer; a webview would show them differently.
    if decoder.color_type().bytes_per_pixel() / decoder.color_type().channel_count() != 1 {
        return None;
    }
    match decoder.orientation().ok()? {
        image::metadata::Orientation::NoTransforms => Some(media_type),
        _ => None,
    }
}

impl AnalysisService {
    /// The engine's tooth regions and finding outlines of an analysis, or `None` when it
    /// has none (made before outlines were stored, or by an older worker). Checked again
    /// on read: the blob folder is a file system anyone on the computer can edit.
    pub fn analysis_geometry(&self, id: &str) -> Result<Option<AnalysisGeometry>, ServiceError> {
        let analysis = self.analysis(id)?;
        let artefacts = self.inner.db(|s| s.artefacts(id))?;
        let Some((_, sha, _)) = artefacts
            .into_iter()
            .find(|(k, _, _)| *k == ArtefactKind::Geometry)
        else {
            return Ok(None);
        };
        let bytes = self.inner.blobs.get(&sha)?;
        AnalysisGeometry::from_untrusted_json(&bytes, analysis.width, analysis.height)
            .map(Some)
            .map_err(|e| ServiceError::CorruptArtefact(format!("the stored outlines: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let rgb = image::RgbImage::from_pixel(width, height, image::Rgb([90, 90, 90]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&rgb)
            .unwrap();
        out
    }

    #[test]
    fn a_plain_jpeg_is_shown_as_stored() {
        assert_eq!(shown_as_stored(&jpeg(64, 32)), Some("image/jpeg"));
    }

    #[test]
    fn a_rotated_jpeg_is_shown_as_the_importer_turned_it() {
        // An APP1 Exif segment (big-endian TIFF) with one entry: Orientation = 6.
        let tiff: Vec<u8> = [
            &b"MM\0\x2a\0\0\0\x08"[..],
            &[0, 1],
            &[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0],
            &[0, 0, 0, 0],
        ]
        .concat();
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let mut segment = vec![0xFF, 0xE1];
        segment.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        segment.extend_from_slice(&app1);
        let plain = jpeg(64, 32);
        let rotated: Vec<u8> = [&plain[..2], &segment[..], &plain[2..]].concat();
        assert_eq!(shown_as_stored(&rotated), None);
    }

    #[test]
    fn a_sixteen_bit_png_is_reencoded() {
        let img =
            image::ImageBuffer::<image::Luma<u16>, _>::from_pixel(40, 40, image::Luma([4000]));
        let mut out = Vec::new();
        image::DynamicImage::ImageLuma16(img)
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        assert_eq!(shown_as_stored(&out), None);
        assert_eq!(shown_as_stored(b"DICM"), None);
    }
}
