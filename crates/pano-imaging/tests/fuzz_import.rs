//! Fuzzing the importer on stable Rust: proptest drives structure-aware mutations of small
//! valid files of every format (JPEG, PNG, TIFF, BMP, DICOM in each encoding) — byte writes,
//! "interesting" values written over length and size fields, truncation, insertion, deletion,
//! splices from other seeds — plus random bytes behind each format's magic number.
//!
//! Properties: import never panics (libjpeg's unwinding is caught inside), answers `Ok` with an
//! image inside the pixel limit or one of `ImportError`'s specific errors, and the process's
//! memory stays bounded (the limits are small here, so every seed decodes fully).
//!
//! 256 cases per target by default, so CI runs them in seconds; `PANO_FUZZ_CASES=200000`
//! for a long run. Shrunk failures are kept in `proptest-regressions/` beside this file.

mod support;

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::{Once, OnceLock};

use image::{DynamicImage, GrayImage, ImageBuffer, ImageFormat, Luma, Rgb, RgbImage};
use pano_imaging::{import_bytes, ImportError, ImportLimits};
use proptest::prelude::*;
use proptest::sample::Index;
use support::*;

fn cases() -> u32 {
    std::env::var("PANO_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    }
}

/// Small limits: every seed decodes fully; nothing decoded may pass 4 megapixels.
fn limits() -> ImportLimits {
    ImportLimits {
        max_file_bytes: 4 << 20,
        max_pixels: 4_000_000,
        min_long_edge: 1,
        min_short_edge: 1,
    }
}

const MAX_RSS: u64 = 1536 << 20;

/// Starts a new peak-memory measurement (Linux: writing 5 to clear_refs resets VmHWM), so
/// that a failure names the input that used the memory, not every input after it.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The property every input must satisfy.
fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let limits = limits();
    reset_peak_rss();
    match import_bytes(bytes, &limits) {
        Ok(img) => {
            let (w, h) = (img.width() as u64, img.height() as u64);
            prop_assert!(w * h <= limits.max_pixels, "{w}x{h}");
            prop_assert!(w >= 1 && h >= 1);
            prop_assert_eq!(img.rgb.as_raw().len() as u64, w * h * 3);
        }
        Err(e) => {
            // A specific error: a stable code and a message a person can read.
            prop_assert!(!e.code().is_empty());
            prop_assert!(!e.to_string().is_empty());
            if let ImportError::Corrupt { detail, .. }
            | ImportError::UnsupportedVariant { detail, .. } = &e
            {
                prop_assert!(!detail.is_empty(), "{e:?}");
            }
        }
    }
    if let Some(peak) = peak_rss_bytes() {
        prop_assert!(peak < MAX_RSS, "peak RSS {} MB", peak >> 20);
    }
    Ok(())
}

/// libjpeg's errors unwind through the mozjpeg crate and are caught there; keep their panic
/// messages out of the log.
fn quiet() {
    static QUIET: Once = Once::new();
    QUIET.call_once(pano_imaging::quiet_decoder_panics);
}

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

fn gray(w: u32, h: u32) -> GrayImage {
    GrayImage::from_fn(w, h, |x, y| Luma([((x * 7 + y * 3) % 256) as u8]))
}

/// Valid small files of the raster formats.
fn raster_seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let g = DynamicImage::ImageLuma8(gray(64, 32));
        let rgb = DynamicImage::ImageRgb8(RgbImage::from_fn(48, 40, |x, y| {
            Rgb([x as u8 * 5, y as u8 * 6, (x + y) as u8])
        }));
        let g16 = DynamicImage::ImageLuma16(ImageBuffer::from_fn(40, 24, |x, y| {
            Luma([(x * 1500 + y * 90) as u16])
        }));
        vec![
            encode(&g, ImageFormat::Jpeg),
            encode(&rgb, ImageFormat::Jpeg),
            encode(&g, ImageFormat::Png),
            encode(&rgb, ImageFormat::Png),
            encode(&g16, ImageFormat::Png),
            encode(&g, ImageFormat::Tiff),
            encode(&rgb, ImageFormat::Tiff),
            encode(&g16, ImageFormat::Tiff),
            encode(&g, ImageFormat::Bmp),
            encode(&rgb, ImageFormat::Bmp),
            fixture("progressive.jpg"),
            fixture("cmyk.jpg"),
            fixture("exif-rotate90.jpg"),
        ]
    })
}

/// Valid small DICOM files: every encoding, sequences of both kinds, 16-bit with rescale and
/// window, MONOCHROME1, encapsulated JPEG, and the committed JPEG fixture.
fn dicom_seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds = Vec::new();
        for ts in [EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE] {
            let enc = Enc::of(ts);
            seeds.push(image(ts, 32, 16));
            let code = enc.sequence(
                (0x0040, 0xA170),
                &[enc.item(&enc.text((0x0008, 0x0100), "SH", "121311"), true)],
                true,
            );
            let item = enc.item(
                &[enc.text((0x0008, 0x1150), "UI", "1.2.3"), code].concat(),
                false,
            );
            let dataset = [
                enc.text((0x0008, 0x0060), "CS", "PX"),
                enc.sequence((0x0008, 0x1140), &[item.clone(), item], false),
                enc.text((0x0009, 0x0010), "LO", "ACME 1.0"),
                enc.element((0x0009, 0x1010), "OB", &[1, 2, 3, 4]),
                enc.text((0x0028, 0x0008), "IS", "1"),
                enc.image_attributes(24, 12)[10..].to_vec(),
                enc.text((0x0028, 0x1050), "DS", "100\\120"),
                enc.text((0x0028, 0x1051), "DS", "200\\220"),
                enc.text((0x0028, 0x1052), "DS", "-10"),
                enc.text((0x0028, 0x1053), "DS", "2"),
                enc.pixel_data(&picture(24, 12)),
            ]
            .concat();
            seeds.push(file(ts, &dataset));
        }
        // 16-bit MONOCHROME1 (explicit LE), pixel data as OW.
        let le = Enc::ExplicitLe;
        let pixels: Vec<u8> = (0..20 * 10u16)
            .flat_map(|v| (v * 300).to_le_bytes())
            .collect();
        let dataset = [
            le.us((0x0028, 0x0002), 1),
            le.text((0x0028, 0x0004), "CS", "MONOCHROME1"),
            le.us((0x0028, 0x0010), 10),
            le.us((0x0028, 0x0011), 20),
            le.us((0x0028, 0x0100), 16),
            le.us((0x0028, 0x0101), 16),
            le.us((0x0028, 0x0102), 15),
            le.us((0x0028, 0x0103), 0),
            le.element((0x7FE0, 0x0010), "OW", &pixels),
        ]
        .concat();
        seeds.push(file(EXPLICIT_LE, &dataset));
        // Encapsulated JPEG: offset table and one fragment.
        let jpeg = encode(&DynamicImage::ImageLuma8(gray(32, 16)), ImageFormat::Jpeg);
        let mut fragment = jpeg.clone();
        if fragment.len() % 2 == 1 {
            fragment.push(0);
        }
        let mut dataset = le.image_attributes(32, 16);
        dataset.extend(le.header((0x7FE0, 0x0010), "OB", u32::MAX));
        dataset.extend(le.item(&[], true));
        dataset.extend(le.item(&fragment, true));
        dataset.extend(le.header((0xFFFE, 0xE0DD), "", 0));
        seeds.push(file(JPEG_BASELINE, &dataset));
        seeds.push(fixture("jpeg-baseline.dcm"));
        seeds
    })
}

/// Values that break length and size fields.
const INTERESTING: [u32; 18] = [
    0,
    1,
    2,
    3,
    0x7F,
    0x80,
    0xFF,
    0x100,
    0x7FFF,
    0x8000,
    0xFFFF,
    0x1_0000,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFF0,
    0xFFFF_FFFE,
    0xFFFF_FFFF,
    60_000,
];

#[derive(Debug, Clone)]
enum Mutation {
    /// Overwrite one byte; `head` aims at the first 1 KB, where the headers are.
    Byte {
        head: bool,
        at: Index,
        value: u8,
    },
    /// Overwrite 1, 2 or 4 bytes with a boundary value (or any value), either byte order.
    Value {
        head: bool,
        at: Index,
        width: u8,
        value: u32,
        big_endian: bool,
    },
    Truncate(Index),
    Insert {
        at: Index,
        bytes: Vec<u8>,
    },
    Delete {
        at: Index,
        len: usize,
    },
    /// Copy a piece of the same file elsewhere (repeats elements, chunks, segments).
    Duplicate {
        from: Index,
        len: usize,
        to: Index,
    },
    /// Copy a piece of another seed in.
    Splice {
        seed: Index,
        from: Index,
        len: usize,
        to: Index,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let value = prop_oneof![
        3 => proptest::sample::select(INTERESTING.to_vec()),
        1 => any::<u32>(),
    ];
    prop_oneof![
        4 => (any::<bool>(), any::<Index>(), any::<u8>())
            .prop_map(|(head, at, value)| Mutation::Byte { head, at, value }),
        4 => (any::<bool>(), any::<Index>(), proptest::sample::select(vec![1u8, 2, 4]), value, any::<bool>())
            .prop_map(|(head, at, width, value, big_endian)| Mutation::Value { head, at, width, value, big_endian }),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => (any::<Index>(), proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => (any::<Index>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        1 => (any::<Index>(), 1usize..256, any::<Index>())
            .prop_map(|(from, len, to)| Mutation::Duplicate { from, len, to }),
        1 => (any::<Index>(), any::<Index>(), 1usize..256, any::<Index>())
            .prop_map(|(seed, from, len, to)| Mutation::Splice { seed, from, len, to }),
    ]
}

fn position(bytes: &[u8], head: bool, at: &Index) -> Option<usize> {
    let span = if head {
        bytes.len().min(1024)
    } else {
        bytes.len()
    };
    (span > 0).then(|| at.index(span))
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation], pool: &[Vec<u8>]) -> Vec<u8> {
    for m in mutations {
        match m {
            Mutation::Byte { head, at, value } => {
                if let Some(i) = position(&bytes, *head, at) {
                    bytes[i] = *value;
                }
            }
            Mutation::Value {
                head,
                at,
                width,
                value,
                big_endian,
            } => {
                let raw = if *big_endian {
                    value.to_be_bytes()
                } else {
                    value.to_le_bytes()
                };
                let field: &[u8] = match (width, big_endian) {
                    (1, _) => &raw[3..],
                    (2, true) => &raw[2..],
                    (2, false) => &raw[..2],
                    _ => &raw[..],
                };
                if let Some(i) = position(&bytes, *head, at) {
                    for (k, b) in field.iter().enumerate() {
                        if let Some(slot) = bytes.get_mut(i + k) {
                            *slot = *b;
                        }
                    }
                }
            }
            Mutation::Truncate(at) => {
                if !bytes.is_empty() {
                    bytes.truncate(at.index(bytes.len()));
                }
            }
            Mutation::Insert { at, bytes: new } => {
                let i = at.index(bytes.len() + 1);
                bytes.splice(i..i, new.iter().copied());
            }
            Mutation::Delete { at, len } => {
                if let Some(i) = position(&bytes, false, at) {
                    let end = (i + len).min(bytes.len());
                    bytes.drain(i..end);
                }
            }
            Mutation::Duplicate { from, len, to } => {
                if let Some(i) = position(&bytes, false, from) {
                    let piece = bytes[i..(i + len).min(bytes.len())].to_vec();
                    let j = to.index(bytes.len() + 1);
                    bytes.splice(j..j, piece);
                }
            }
            Mutation::Splice {
                seed,
                from,
                len,
                to,
            } => {
                let other = &pool[seed.index(pool.len())];
                if let Some(i) = position(other, false, from) {
                    let piece = &other[i..(i + len).min(other.len())];
                    let j = to.index(bytes.len() + 1);
                    bytes.splice(j..j, piece.iter().copied());
                }
            }
        }
    }
    bytes
}

#[test]
fn every_seed_imports() {
    for (i, seed) in raster_seeds().iter().chain(dicom_seeds()).enumerate() {
        if let Err(e) = import_bytes(seed, &limits()) {
            panic!("seed {i}: {e}");
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fuzz_raster_formats(
        seed in any::<Index>(),
        mutations in proptest::collection::vec(mutation(), 1..8),
    ) {
        quiet();
        let pool = raster_seeds();
        let bytes = apply(pool[seed.index(pool.len())].clone(), &mutations, pool);
        check(&bytes)?;
    }

    #[test]
    fn fuzz_dicom(
        seed in any::<Index>(),
        mutations in proptest::collection::vec(mutation(), 1..8),
    ) {
        quiet();
        let pool = dicom_seeds();
        let bytes = apply(pool[seed.index(pool.len())].clone(), &mutations, pool);
        check(&bytes)?;
    }

    /// Random bytes, bare or behind a format's magic number (so each decoder sees them).
    #[test]
    fn fuzz_random_bytes(
        magic in proptest::sample::select(vec![
            &b""[..],
            b"\xFF\xD8\xFF\xE0",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
            b"II*\0",
            b"MM\0*",
            b"BM",
        ]),
        dicom in any::<bool>(),
        body in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        quiet();
        let mut bytes = Vec::new();
        if dicom {
            bytes.extend([0u8; 128]);
            bytes.extend(b"DICM");
        }
        bytes.extend(magic);
        bytes.extend(body);
        check(&bytes)?;
    }
}
