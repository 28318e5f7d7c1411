use std::io::Cursor;
use std::path::PathBuf;

use image::{GrayImage, ImageBuffer, ImageFormat, Luma, Rgb, RgbImage};
use pano_imaging::{
    import_bytes, import_file, ImportError, ImportLimits, ImportedImage, SourceFormat,
};

/// Describes a result without dumping pixels into the test log.
fn outcome(r: &Result<ImportedImage, ImportError>) -> String {
    match r {
        Ok(img) => format!("Ok({}x{} {:?})", img.width(), img.height(), img.format),
        Err(e) => format!("Err({e:?})"),
    }
}

/// A wide test picture with a bright marker in the top-left corner, so orientation shows.
fn gray_pan(width: u32, height: u32) -> GrayImage {
    GrayImage::from_fn(width, height, |x, y| {
        if x < 40 && y < 20 {
            Luma([255])
        } else {
            Luma([((x + y) % 200) as u8])
        }
    })
}

fn encode(image: &image::DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_sample_radiograph_imports_as_rgb() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/pan-01432.jpg");
    let img = import_file(&path, &ImportLimits::default()).unwrap();
    assert_eq!((img.width(), img.height()), (2356, 1292));
    assert_eq!(img.format, SourceFormat::Jpeg);
    assert_eq!(img.bits_per_sample, 8);
}

#[test]
fn grayscale_formats_are_replicated_to_three_channels() {
    let gray = image::DynamicImage::ImageLuma8(gray_pan(600, 300));
    for (format, expected) in [
        (ImageFormat::Png, SourceFormat::Png),
        (ImageFormat::Tiff, SourceFormat::Tiff),
        (ImageFormat::Bmp, SourceFormat::Bmp),
        (ImageFormat::Jpeg, SourceFormat::Jpeg),
    ] {
        let img = import_bytes(&encode(&gray, format), &ImportLimits::default()).unwrap();
        assert_eq!(img.format, expected);
        assert_eq!((img.width(), img.height()), (600, 300));
        let Rgb([r, g, b]) = *img.rgb.get_pixel(100, 100);
        assert!(r == g && g == b, "{format:?}: {r},{g},{b}");
        if format != ImageFormat::Jpeg {
            assert_eq!(r, 200u8.min(((100 + 100) % 200) as u8));
            assert_eq!(img.rgb.get_pixel(5, 5).0, [255, 255, 255]);
        }
    }
}

/// A deliberate difference from the anchor's main.py, whose PIL `convert("RGB")` clips 16-bit
/// samples at 255 (a 16-bit radiograph turns white); README "Proven on the anchor's own stack".
#[test]
fn sixteen_bit_png_is_scaled_to_eight_bits() {
    let img16: ImageBuffer<Luma<u16>, Vec<u16>> =
        ImageBuffer::from_fn(600, 300, |x, _| Luma([(x as u16) * 100]));
    let bytes = encode(&image::DynamicImage::ImageLuma16(img16), ImageFormat::Png);
    let img = import_bytes(&bytes, &ImportLimits::default()).unwrap();
    assert_eq!(img.bits_per_sample, 16);
    assert!(img.grayscale);
    // 500 * 100 = 50000 of 65535 -> 195 of 255
    assert_eq!(img.rgb.get_pixel(500, 10).0, [195, 195, 195]);
}

#[test]
fn bad_inputs_get_specific_errors() {
    let limits = ImportLimits::default();
    assert!(matches!(
        import_bytes(&[], &limits),
        Err(ImportError::Empty)
    ));
    assert!(matches!(
        import_bytes(b"hello, this is not an image at all", &limits),
        Err(ImportError::UnsupportedFormat)
    ));

    let rgb = image::DynamicImage::ImageRgb8(RgbImage::from_pixel(600, 300, Rgb([9, 9, 9])));
    let png = encode(&rgb, ImageFormat::Png);
    let truncated = &png[..png.len() / 2];
    match import_bytes(truncated, &limits) {
        Err(ImportError::Corrupt { format: "PNG", .. }) => {}
        other => panic!("{}", outcome(&other)),
    }
    let jpeg = encode(&rgb, ImageFormat::Jpeg);
    let cut = import_bytes(&jpeg[..jpeg.len() / 3], &limits);
    match &cut {
        Err(ImportError::Corrupt { format: "JPEG", .. }) => {}
        other => panic!("truncated JPEG: {}", outcome(other)),
    }
    assert_eq!(
        cut.unwrap_err().to_string(),
        "the JPEG file is damaged or incomplete: the file ends before the image data does (truncated)"
    );

    let small = encode(
        &image::DynamicImage::ImageLuma8(gray_pan(300, 200)),
        ImageFormat::Png,
    );
    match import_bytes(&small, &limits) {
        Err(ImportError::TooSmall {
            width: 300,
            height: 200,
            ..
        }) => {}
        other => panic!("{}", outcome(&other)),
    }
}

/// A 60000x60000 PNG whose header promises 3.6 gigapixels: refused from the header, before
/// a single row is inflated.
#[test]
fn decompression_bomb_is_refused_from_the_header() {
    let bytes = fixture("bomb-60000x60000.png");
    assert!(bytes.len() < 100_000);
    match import_bytes(&bytes, &ImportLimits::default()) {
        Err(ImportError::TooManyPixels {
            width: 60000,
            height: 60000,
            limit_mp: 80,
            ..
        }) => {}
        other => panic!("{}", outcome(&other)),
    }
    let msg = import_bytes(&bytes, &ImportLimits::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        "the PNG image is 60000x60000 pixels, over the limit of 80 megapixels"
    );
}

/// A deliberate difference from the anchor's main.py, whose `Image.open` ignores EXIF
/// orientation; README "Proven on the anchor's own stack".
#[test]
fn exif_orientation_is_applied() {
    // The upright picture (marker top-left) was stored rotated 90 degrees counter-clockwise,
    // 300 wide x 600 high, with EXIF orientation 6 ("rotate 90 clockwise to display").
    // Applied correctly the marker is back at the top-left; the wrong direction would put it
    // at the bottom-right.
    let img = import_bytes(&fixture("exif-rotate90.jpg"), &ImportLimits::default()).unwrap();
    assert_eq!((img.width(), img.height()), (600, 300));
    assert!(img.rgb.get_pixel(5, 5).0[0] > 200, "marker not at top-left");
    assert!(img.rgb.get_pixel(594, 294).0[0] < 200);
}

#[test]
fn progressive_and_cmyk_jpegs_decode() {
    let limits = ImportLimits::default();
    let progressive = import_bytes(&fixture("progressive.jpg"), &limits).unwrap();
    assert_eq!((progressive.width(), progressive.height()), (600, 300));
    assert!(progressive.rgb.get_pixel(5, 5).0[0] > 200);
    let cmyk = import_bytes(&fixture("cmyk.jpg"), &limits).unwrap();
    assert_eq!((cmyk.width(), cmyk.height()), (600, 300));
    // A gray picture stays gray (within JPEG and CMYK round-off), the marker bright.
    let [r, g, b] = cmyk.rgb.get_pixel(5, 5).0;
    assert!(r > 200 && g > 200 && b > 200, "{r},{g},{b}");
    let [r, g, b] = cmyk.rgb.get_pixel(300, 150).0;
    assert!(r.abs_diff(g) < 12 && g.abs_diff(b) < 12, "{r},{g},{b}");
}

// Property tests (fuzzing) of the importer: tests/fuzz_import.rs.

mod dicom {
    use super::*;

    fn dicom(name: &str) -> ImportedImage {
        match import_bytes(&fixture(name), &ImportLimits::default()) {
            Ok(img) => img,
            Err(e) => panic!("{name}: {e}"),
        }
    }

    #[test]
    fn uncompressed_16_bit_applies_rescale_and_window() {
        let img = dicom("mono2-16bit-window.dcm");
        assert_eq!(
            (img.width(), img.height(), img.format),
            (600, 300, SourceFormat::Dicom)
        );
        assert!(img.grayscale);
        // stored 4000 -> rescaled 7900, above the window: white
        assert_eq!(img.rgb.get_pixel(5, 5).0, [255, 255, 255]);
        // stored 0 -> -100, below the window: black
        assert_eq!(img.rgb.get_pixel(100, 100).0, [0, 0, 0]);
        // stored 1000 -> 1900, the window centre: mid-gray
        let v = img.rgb.get_pixel(150, 100).0[0];
        assert!((126..=129).contains(&v), "{v}");
    }

    #[test]
    fn monochrome1_is_inverted() {
        let img = dicom("mono1-8bit.dcm");
        assert_eq!(
            img.rgb.get_pixel(5, 5).0,
            [255, 255, 255],
            "the marker is stored as 0 (white in MONOCHROME1)"
        );
        assert_eq!(img.rgb.get_pixel(150, 100).0[0], 63);
    }

    #[test]
    fn jpeg_baseline_and_lossless_transfer_syntaxes_decode() {
        let baseline = dicom("jpeg-baseline.dcm");
        assert!(baseline.rgb.get_pixel(5, 5).0[0] > 240);
        assert!(baseline.rgb.get_pixel(150, 100).0[0].abs_diff(63) <= 3);
        let lossless = dicom("jpeg-lossless.dcm");
        assert_eq!(lossless.bits_per_sample, 16);
        assert_eq!(lossless.rgb.get_pixel(5, 5).0, [255, 255, 255]);
        assert!(lossless.rgb.get_pixel(150, 100).0[0].abs_diff(64) <= 1);
    }

    #[test]
    fn a_dicom_bomb_is_refused_from_the_header() {
        match import_bytes(&fixture("bomb-60000x60000.dcm"), &ImportLimits::default()) {
            Err(ImportError::TooManyPixels {
                format: "DICOM",
                width: 60000,
                height: 60000,
                ..
            }) => {}
            other => panic!("{}", outcome(&other)),
        }
    }

    #[test]
    fn damaged_dicom_is_a_specific_error() {
        let bytes = fixture("mono2-16bit-window.dcm");
        // Cut in half: the Pixel Data element claims more than is left.
        match import_bytes(&bytes[..bytes.len() / 2], &ImportLimits::default()) {
            Err(ImportError::DicomLengthOverrun {
                what: "element",
                group: 0x7FE0,
                element: 0x0010,
                claimed: 360_000,
                ..
            }) => {}
            other => panic!("{}", outcome(&other)),
        }
        let mut header_only = bytes[..132].to_vec();
        header_only.extend_from_slice(b"garbage after the magic");
        assert!(matches!(
            import_bytes(&header_only, &ImportLimits::default()),
            Err(ImportError::Corrupt {
                format: "DICOM",
                ..
            })
        ));
    }
}
