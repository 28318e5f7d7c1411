use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

use crate::{ImportError, ImportLimits};

/// The container a radiograph came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Jpeg,
    Png,
    Tiff,
    Bmp,
    Dicom,
}

impl SourceFormat {
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Jpeg => "JPEG",
            SourceFormat::Png => "PNG",
            SourceFormat::Tiff => "TIFF",
            SourceFormat::Bmp => "BMP",
            SourceFormat::Dicom => "DICOM",
        }
    }

    /// File extension used when the original is stored.
    pub fn extension(self) -> &'static str {
        match self {
            SourceFormat::Jpeg => "jpg",
            SourceFormat::Png => "png",
            SourceFormat::Tiff => "tif",
            SourceFormat::Bmp => "bmp",
            SourceFormat::Dicom => "dcm",
        }
    }
}

/// A decoded radiograph, upright, as 8-bit RGB.
#[derive(Debug, Clone)]
pub struct ImportedImage {
    pub rgb: RgbImage,
    pub format: SourceFormat,
    /// Bits per sample of the stored image (8 or 16).
    pub bits_per_sample: u8,
    /// Whether the stored samples were grayscale.
    pub grayscale: bool,
}

impl ImportedImage {
    pub fn width(&self) -> u32 {
        self.rgb.width()
    }
    pub fn height(&self) -> u32 {
        self.rgb.height()
    }
}

/// Reads and imports a file; the size limit is checked before reading it.
pub fn import_file(path: &Path, limits: &ImportLimits) -> Result<ImportedImage, ImportError> {
    let read_err = |source| ImportError::Read {
        path: path.display().to_string(),
        source,
    };
    let len = std::fs::metadata(path).map_err(read_err)?.len();
    if len > limits.max_file_bytes {
        return Err(ImportError::FileTooLarge {
            limit_mb: limits.max_file_bytes >> 20,
        });
    }
    let bytes = std::fs::read(path).map_err(read_err)?;
    import_bytes(&bytes, limits)
}

/// Imports an image held in memory. The format is sniffed from the content, never taken
/// from a file name.
pub fn import_bytes(bytes: &[u8], limits: &ImportLimits) -> Result<ImportedImage, ImportError> {
    if bytes.is_empty() {
        return Err(ImportError::Empty);
    }
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(ImportError::FileTooLarge {
            limit_mb: limits.max_file_bytes >> 20,
        });
    }
    if crate::dicom::is_dicom(bytes) {
        return crate::dicom::decode_dicom(bytes, limits);
    }
    let format = match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => SourceFormat::Jpeg,
        Ok(ImageFormat::Png) => SourceFormat::Png,
        Ok(ImageFormat::Tiff) => SourceFormat::Tiff,
        Ok(ImageFormat::Bmp) => SourceFormat::Bmp,
        _ => return Err(ImportError::UnsupportedFormat),
    };
    if format == SourceFormat::Jpeg && !jpeg_is_complete(bytes) {
        // Decoders fill a cut-off JPEG with gray and report success; a half-gray
        // radiograph must never reach the models.
        return Err(ImportError::Corrupt {
            format: "JPEG",
            detail: "the file ends before the image data does (truncated)".into(),
        });
    }
    decode_raster(bytes, format, limits)
}

/// Whether the last scan of a JPEG is followed by its end-of-image marker. Entropy-coded
/// data cannot contain `FF D9` (a data `FF` is always followed by `00`), so a marker after
/// the last start-of-scan marks the real end, not an embedded thumbnail's.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    let last_end = bytes.windows(2).rposition(|w| w == [0xFF, 0xD9]);
    matches!((last_scan, last_end), (Some(scan), Some(end)) if end > scan)
}

fn decode_raster(
    bytes: &[u8],
    format: SourceFormat,
    limits: &ImportLimits,
) -> Result<ImportedImage, ImportError> {
    let corrupt = |e: image::ImageError| classify(format, e);
    let mut reader = ImageReader::new(Cursor::new(bytes));
    reader.set_format(match format {
        SourceFormat::Jpeg => ImageFormat::Jpeg,
        SourceFormat::Png => ImageFormat::Png,
        SourceFormat::Tiff => ImageFormat::Tiff,
        SourceFormat::Bmp => ImageFormat::Bmp,
        SourceFormat::Dicom => unreachable!("DICOM has its own decoder"),
    });
    // The decoder's own allocation cap backs up the header check below.
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8));
    reader.limits(decoder_limits);
    let mut decoder = reader.into_decoder().map_err(corrupt)?;

    let (width, height) = decoder.dimensions();
    check_dimensions(format, width, height, limits)?;
    let color = decoder.color_type();
    let bits_per_sample = (color.bits_per_pixel() / color.channel_count() as u16) as u8;
    let grayscale = !color.has_color();
    let orientation = decoder.orientation().map_err(corrupt)?;

    let mut image = match format {
        // libjpeg-turbo's pixels, as the reference pipeline sees them; CMYK/YCCK files (which
        // libjpeg cannot turn into RGB) go to the image crate's decoder.
        SourceFormat::Jpeg => match decode_jpeg_libjpeg(bytes)? {
            Some(rgb) => DynamicImage::ImageRgb8(rgb),
            None => DynamicImage::from_decoder(decoder).map_err(corrupt)?,
        },
        _ => DynamicImage::from_decoder(decoder).map_err(corrupt)?,
    };
    image.apply_orientation(orientation);
    let rgb = to_rgb8(image);
    Ok(ImportedImage {
        rgb,
        format,
        bits_per_sample,
        grayscale,
    })
}

/// Keeps libjpeg's error reports (raised as panics inside the mozjpeg crate and turned into
/// `ImportError::Corrupt` here) out of the terminal; every other panic is reported as before.
/// Binaries call this once at start.
pub fn quiet_decoder_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let from_libjpeg = info
            .location()
            .is_some_and(|l| l.file().contains("mozjpeg"));
        if !from_libjpeg {
            previous(info);
        }
    }));
}

/// Decodes a JPEG with libjpeg-turbo (ISLOW IDCT, fancy upsampling: PIL's defaults).
/// `None` for CMYK and YCCK files. libjpeg reports fatal errors by unwinding, so the call is
/// wrapped in `catch_unwind`.
fn decode_jpeg_libjpeg(bytes: &[u8]) -> Result<Option<RgbImage>, ImportError> {
    let result = std::panic::catch_unwind(|| -> std::io::Result<Option<RgbImage>> {
        let decompress = mozjpeg::Decompress::new_mem(bytes)?;
        if matches!(
            decompress.color_space(),
            mozjpeg::ColorSpace::JCS_CMYK | mozjpeg::ColorSpace::JCS_YCCK
        ) {
            return Ok(None);
        }
        let mut started = decompress.rgb()?;
        let (w, h) = (started.width() as u32, started.height() as u32);
        let data = started.read_scanlines::<u8>()?;
        started.finish()?;
        Ok(RgbImage::from_raw(w, h, data))
    });
    match result {
        Ok(Ok(image)) => Ok(image),
        Ok(Err(e)) => Err(ImportError::Corrupt {
            format: "JPEG",
            detail: e.to_string(),
        }),
        Err(panic) => {
            let detail = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the decoder stopped".into());
            Err(ImportError::Corrupt {
                format: "JPEG",
                detail,
            })
        }
    }
}

/// Grayscale is replicated to three channels; 16-bit samples are scaled to 8 bits; alpha
/// is dropped (radiographs carry none that means anything).
fn to_rgb8(image: DynamicImage) -> RgbImage {
    match image {
        DynamicImage::ImageRgb8(rgb) => rgb,
        other => other.to_rgb8(),
    }
}

pub(crate) fn check_dimensions(
    format: SourceFormat,
    width: u32,
    height: u32,
    limits: &ImportLimits,
) -> Result<(), ImportError> {
    if width as u64 * height as u64 > limits.max_pixels {
        return Err(ImportError::TooManyPixels {
            format: format.name(),
            width,
            height,
            limit_mp: limits.max_pixels / 1_000_000,
        });
    }
    let (long, short) = (width.max(height), width.min(height));
    if long < limits.min_long_edge || short < limits.min_short_edge {
        return Err(ImportError::TooSmall {
            width,
            height,
            min_long: limits.min_long_edge,
            min_short: limits.min_short_edge,
        });
    }
    Ok(())
}

fn classify(format: SourceFormat, e: image::ImageError) -> ImportError {
    use image::ImageError as E;
    match e {
        E::Unsupported(u) => ImportError::UnsupportedVariant {
            format: format.name(),
            detail: u.to_string(),
        },
        E::Limits(l) => ImportError::Corrupt {
            format: format.name(),
            detail: format!("it asks for more memory than allowed ({l})"),
        },
        other => ImportError::Corrupt {
            format: format.name(),
            detail: other.to_string(),
        },
    }
}
