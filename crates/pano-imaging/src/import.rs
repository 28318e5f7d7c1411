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

/// Reads and imports a file (through [`read_radiograph_file`]).
pub fn import_file(path: &Path, limits: &ImportLimits) -> Result<ImportedImage, ImportError> {
    let bytes = read_radiograph_file(path, limits)?;
    import_bytes(&bytes, limits)
}

/// Reads the bytes of a file named as a radiograph: only a regular file (a device such as
/// `/dev/zero`, a FIFO, a socket or a directory is [`ImportError::NotRegularFile`]), and never
/// more than `limits.max_file_bytes` (a larger file, or one that grows while it is read, is
/// [`ImportError::FileTooLarge`] after reading at most one byte more than the limit).
///
/// The type is checked on the opened file (`fstat`), so a path swapped after the check cannot
/// slip a device in; on Unix the file is opened with `O_NONBLOCK` (and `O_NOCTTY`), so opening
/// a FIFO returns at once instead of waiting for a writer. The path's type is also looked at
/// before opening, so that a device is not even opened.
pub fn read_radiograph_file(path: &Path, limits: &ImportLimits) -> Result<Vec<u8>, ImportError> {
    let display = || path.display().to_string();
    let read_err = |source| ImportError::Read {
        path: display(),
        source,
    };
    let not_regular = |file_type: &std::fs::FileType| ImportError::NotRegularFile {
        path: display(),
        kind: file_kind(file_type),
    };
    // Early, friendlier refusal (and no open of a device at all); the check that counts is
    // the one on the opened file below.
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() {
            return Err(not_regular(&meta.file_type()));
        }
    }
    let file = open_regular(path).map_err(|e| match e {
        OpenError::Io(source) => read_err(source),
        OpenError::NotRegular(file_type) => not_regular(&file_type),
    })?;
    read_bounded(file, limits.max_file_bytes).map_err(|e| match e {
        ReadError::Io(source) => read_err(source),
        ReadError::TooLarge => ImportError::FileTooLarge {
            limit_mb: limits.max_file_bytes >> 20,
        },
    })
}

pub(crate) enum OpenError {
    Io(std::io::Error),
    NotRegular(std::fs::FileType),
}

/// Opens `path` for reading without blocking on a FIFO and checks the opened file's type.
pub(crate) fn open_regular(path: &Path) -> Result<std::fs::File, OpenError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path).map_err(OpenError::Io)?;
    let file_type = file.metadata().map_err(OpenError::Io)?.file_type();
    if !file_type.is_file() {
        return Err(OpenError::NotRegular(file_type));
    }
    Ok(file)
}

pub(crate) enum ReadError {
    Io(std::io::Error),
    TooLarge,
}

/// Reads at most `max + 1` bytes; more than `max` is `TooLarge`.
pub(crate) fn read_bounded(file: std::fs::File, max: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let announced = file.metadata().map(|m| m.len()).unwrap_or(0);
    if announced > max {
        return Err(ReadError::TooLarge);
    }
    let mut bytes = Vec::with_capacity(announced as usize);
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
}

/// What a non-regular file is, in words.
fn file_kind(file_type: &std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a named pipe";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "not a file"
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

/// Keeps libjpeg's error reports (raised as panics inside the mozjpeg crate) and dicom-rs's
/// panics (all its calls here are wrapped), both turned into `ImportError::Corrupt` here, out
/// of the terminal; every other panic is reported as before. Binaries call this once at start.
pub fn quiet_decoder_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let from_decoder = info.location().is_some_and(|l| {
            let file = l.file();
            file.contains("mozjpeg") || file.contains("/dicom-") || file.contains("\\dicom-")
        });
        if !from_decoder {
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// The check that counts is made on the opened file: opening a FIFO (which a plain open
    /// would wait on for a writer) returns at once and is refused by its type, and so is a
    /// device and a folder, even when nothing looked at the path first.
    #[test]
    fn open_regular_refuses_what_it_opened_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let kind = match open_regular(&fifo) {
                Err(OpenError::NotRegular(t)) => Some(file_kind(&t)),
                _ => None,
            };
            tx.send(kind).unwrap();
        });
        let kind = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("opening a FIFO blocked");
        assert_eq!(kind, Some("a named pipe"));

        for (path, expected) in [("/dev/zero", "a device"), ("/", "a folder")] {
            match open_regular(Path::new(path)) {
                Err(OpenError::NotRegular(t)) => assert_eq!(file_kind(&t), expected),
                Err(OpenError::Io(e)) => panic!("{path}: {e}"),
                Ok(_) => panic!("{path} opened as a regular file"),
            }
        }
    }
}
