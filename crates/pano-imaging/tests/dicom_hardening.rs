//! DICOM files that lie about their sizes or ask for more than a radiograph needs: refused
//! from a walk over their headers, before dicom-rs reads (and allocates for) any value.
//!
//! The tests of this file run in a process of their own, so its peak memory (VmHWM) shows
//! whether any of them let dicom-rs allocate by a forged length: without the walk, the first
//! one alone takes the process past 4 GB.

mod support;

use pano_imaging::{import_bytes, ImportError, ImportLimits, ImportedImage};
use support::*;

fn outcome(r: &Result<ImportedImage, ImportError>) -> String {
    match r {
        Ok(img) => format!("Ok({}x{} {:?})", img.width(), img.height(), img.format),
        Err(e) => format!("Err({e:?})"),
    }
}

fn import(bytes: &[u8]) -> Result<ImportedImage, ImportError> {
    import_bytes(bytes, &ImportLimits::default())
}

/// The process's peak resident memory so far, where Linux reports it.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn assert_memory_stayed_small() {
    if let Some(peak) = peak_rss_bytes() {
        assert!(peak < 1 << 30, "peak RSS {} MB", peak >> 20);
    }
}

fn assert_overrun(
    r: &Result<ImportedImage, ImportError>,
    what: &str,
    tag: (u16, u16),
    claimed: u64,
) {
    match r {
        Err(ImportError::DicomLengthOverrun {
            what: w,
            group,
            element,
            claimed: c,
            remaining,
        }) if *w == what && (*group, *element) == tag && *c == claimed && remaining < c => {}
        other => panic!(
            "expected an overrun of {what} {tag:04X?}: {}",
            outcome(other)
        ),
    }
}

/// The case from the report: a file of about 550 bytes whose private element declares
/// 0xFFFFFFF0 bytes made the process grow to 4.2 GB before dicom-rs refused it.
#[test]
fn a_private_element_claiming_4_gb_is_refused_before_dicom_rs_reads_it() {
    let le = Enc::ExplicitLe;
    let mut dataset = [
        le.text((0x0008, 0x0016), "UI", "1.2.840.10008.5.1.4.1.1.7"),
        le.text((0x0008, 0x0018), "UI", "1.2.3.4.5.6.7.8.9"),
        le.text((0x0008, 0x0060), "CS", "PX"),
        le.text((0x0009, 0x0010), "LO", "ACME IMAGING 1.0"),
        le.header((0x0009, 0x1010), "OB", 0xFFFF_FFF0),
    ]
    .concat();
    dataset.extend([0x55; 200]);
    let bytes = file(EXPLICIT_LE, &dataset);
    assert!(bytes.len() < 600, "{} bytes", bytes.len());

    let started = std::time::Instant::now();
    let result = import(&bytes);
    assert!(
        started.elapsed().as_millis() < 500,
        "{:?}",
        started.elapsed()
    );
    assert_overrun(&result, "element", (0x0009, 0x1010), 0xFFFF_FFF0);
    let err = result.unwrap_err();
    assert_eq!(err.code(), "image_dicom_damaged");
    assert_eq!(
        err.to_string(),
        "this DICOM file is damaged: element (0009,1010) claims 4294967280 bytes but only 200 remain"
    );
    assert_memory_stayed_small();
}

/// dicom-rs reads the file meta group's values into buffers of the declared size too.
#[test]
fn a_file_meta_element_claiming_4_gb_is_refused() {
    let le = Enc::ExplicitLe;
    let body = [
        le.element((0x0002, 0x0001), "OB", &[0, 1]),
        le.header((0x0002, 0x0002), "UN", 0xFFFF_FFF0),
        vec![b'1'; 64],
    ]
    .concat();
    let mut bytes = vec![0u8; 128];
    bytes.extend(b"DICM");
    bytes.extend(le.element((0x0002, 0x0000), "UL", &(body.len() as u32).to_le_bytes()));
    bytes.extend(body);
    assert_overrun(&import(&bytes), "element", (0x0002, 0x0002), 0xFFFF_FFF0);
    assert_memory_stayed_small();
}

/// An item that claims more than its sequence holds, two sequences deep, and an element in an
/// item of undefined length that claims more than the file holds.
#[test]
fn overlong_items_and_elements_in_nested_sequences_are_refused() {
    for enc in [Enc::ExplicitLe, Enc::ImplicitLe, Enc::ExplicitBe] {
        let ts = match enc {
            Enc::ExplicitLe => EXPLICIT_LE,
            Enc::ImplicitLe => IMPLICIT_LE,
            Enc::ExplicitBe => EXPLICIT_BE,
        };
        // (0008,1140) Referenced Image Sequence > item > (0008,1150) + (0040,A170) Purpose of
        // Reference Code Sequence (defined length) > an item claiming 4000 bytes.
        let mut inner_item = enc.header((0xFFFE, 0xE000), "", 4000);
        inner_item.extend(enc.text((0x0008, 0x0100), "SH", "121311"));
        let inner = enc.sequence((0x0040, 0xA170), &[inner_item], true);
        let outer_item = enc.item(
            &[enc.text((0x0008, 0x1150), "UI", "1.2.3"), inner].concat(),
            false,
        );
        let dataset = [
            enc.image_attributes(600, 300),
            enc.sequence((0x0008, 0x1140), &[outer_item], false),
            enc.pixel_data(&picture(600, 300)),
        ]
        .concat();
        assert_overrun(&import(&file(ts, &dataset)), "item", (0xFFFE, 0xE000), 4000);

        // An element in an item of undefined length claiming 0xFFFFFFF0 bytes.
        let item = enc.item(
            &[
                enc.text((0x0008, 0x1150), "UI", "1.2.3"),
                enc.header((0x0008, 0x1155), "UI", 0xFFF0),
            ]
            .concat(),
            false,
        );
        let dataset = [
            enc.image_attributes(600, 300),
            enc.sequence((0x0008, 0x1140), &[item], false),
        ]
        .concat();
        assert_overrun(
            &import(&file(ts, &dataset)),
            "element",
            (0x0008, 0x1155),
            0xFFF0,
        );
    }
    assert_memory_stayed_small();
}

/// An element of an item of defined length may not run past the item, even when the file
/// has the bytes (dicom-rs would read the value first and notice after).
#[test]
fn an_element_running_past_its_item_is_refused() {
    let enc = Enc::ExplicitLe;
    let mut content = enc.text((0x0008, 0x1150), "UI", "1.2.3");
    content.extend(enc.header((0x0008, 0x1155), "UI", 64));
    content.extend([b'1'; 8]);
    let mut item = enc.header((0xFFFE, 0xE000), "", content.len() as u32);
    item.extend(content);
    let dataset = [
        enc.image_attributes(600, 300),
        enc.sequence((0x0008, 0x1140), &[item], false),
        enc.pixel_data(&picture(600, 300)),
    ]
    .concat();
    match import(&file(EXPLICIT_LE, &dataset)) {
        Err(ImportError::DicomLengthOverrun {
            claimed: 64,
            remaining: 8,
            ..
        }) => {}
        other => panic!("{}", outcome(&other)),
    }
}

/// Encapsulated pixel data: each fragment's length is checked too.
#[test]
fn an_overlong_pixel_data_fragment_is_refused() {
    let enc = Enc::ExplicitLe;
    let mut dataset = enc.image_attributes(600, 300);
    dataset.extend(enc.header((0x7FE0, 0x0010), "OB", u32::MAX));
    dataset.extend(enc.header((0xFFFE, 0xE000), "", 0)); // empty offset table
    dataset.extend(enc.header((0xFFFE, 0xE000), "", 0xFFFF_FFF0));
    dataset.extend([0xFF, 0xD8, 0xFF, 0xE0]);
    let result = import(&file(JPEG_BASELINE, &dataset));
    assert_overrun(
        &result,
        "pixel data fragment",
        (0xFFFE, 0xE000),
        0xFFFF_FFF0,
    );
    assert_memory_stayed_small();
}

/// Only the first frame would be analysed; a multi-frame object is refused rather than
/// silently cut (and its other frames are never decoded).
#[test]
fn multi_frame_dicom_is_refused() {
    let enc = Enc::ExplicitLe;
    let frame = picture(600, 300);
    let dataset = [
        enc.image_attributes(600, 300),
        enc.text((0x0028, 0x0008), "IS", "2"),
        enc.pixel_data(&[frame.clone(), frame].concat()),
    ]
    .concat();
    let result = import(&file(EXPLICIT_LE, &dataset));
    match &result {
        Err(ImportError::DicomMultiFrame { frames: 2 }) => {}
        other => panic!("{}", outcome(other)),
    }
    let err = result.unwrap_err();
    assert_eq!(err.code(), "image_dicom_multiframe");
    assert_eq!(
        err.to_string(),
        "multi-frame DICOM is not supported (this file holds 2 frames); export a single panoramic image"
    );

    // "1" is a single frame.
    let dataset = [
        enc.image_attributes(600, 300),
        enc.text((0x0028, 0x0008), "IS", "1"),
        enc.pixel_data(&picture(600, 300)),
    ]
    .concat();
    let img = import(&file(EXPLICIT_LE, &dataset)).unwrap();
    assert_eq!((img.width(), img.height()), (600, 300));
}

/// A raw deflate stream of stored (uncompressed) blocks: valid input for any inflater.
fn deflate_stored(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let chunks: Vec<&[u8]> = data.chunks(65535).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        out.push(u8::from(i + 1 == chunks.len()));
        let len = chunk.len() as u16;
        out.extend(len.to_le_bytes());
        out.extend((!len).to_le_bytes());
        out.extend(*chunk);
    }
    out
}

/// A deflated data set can only be walked after inflating it, and a small file can inflate to
/// gigabytes: refused by name, whether or not dicom-rs could inflate it.
#[test]
fn deflated_transfer_syntax_is_refused() {
    let enc = Enc::ExplicitLe;
    let dataset = [
        enc.image_attributes(600, 300),
        enc.pixel_data(&picture(600, 300)),
    ]
    .concat();
    let bytes = file(DEFLATED_LE, &deflate_stored(&dataset));
    let result = import(&bytes);
    match &result {
        Err(ImportError::UnsupportedVariant {
            format: "DICOM",
            detail,
        }) if detail.contains("deflated transfer syntax (1.2.840.10008.1.2.1.99)") => {}
        other => panic!("{}", outcome(other)),
    }
    assert_eq!(result.unwrap_err().code(), "image_unsupported_variant");
}

/// dicom-rs builds nested sequences recursively; a file nesting thousands would exhaust the
/// stack. A radiograph never nests more than a few.
#[test]
fn deeply_nested_sequences_are_refused() {
    let enc = Enc::ExplicitLe;
    let mut nested = enc.text((0x0008, 0x1150), "UI", "1.2.3");
    for _ in 0..40 {
        nested = enc.sequence((0x0008, 0x1140), &[enc.item(&nested, false)], false);
    }
    let dataset = [
        enc.image_attributes(600, 300),
        nested,
        enc.pixel_data(&picture(600, 300)),
    ]
    .concat();
    match import(&file(EXPLICIT_LE, &dataset)) {
        Err(ImportError::UnsupportedVariant { detail, .. }) if detail.contains("nested") => {}
        other => panic!("{}", outcome(&other)),
    }
}

/// Thousands of empty items cost dicom-rs an object each (~1.5 KB for 8 bytes of file).
#[test]
fn too_many_items_are_refused() {
    let enc = Enc::ExplicitLe;
    let items: Vec<Vec<u8>> = (0..30_000).map(|_| enc.item(&[], true)).collect();
    let dataset = [
        enc.image_attributes(600, 300),
        enc.sequence((0x0008, 0x1140), &items, false),
        enc.pixel_data(&picture(600, 300)),
    ]
    .concat();
    match import(&file(EXPLICIT_LE, &dataset)) {
        Err(ImportError::UnsupportedVariant { detail, .. }) if detail.contains("items") => {}
        other => panic!("{}", outcome(&other)),
    }
}

/// `\\\\...` in a text element becomes one `String` per backslash in dicom-rs (24 bytes or
/// more for each byte of file).
#[test]
fn too_many_text_values_are_refused() {
    let enc = Enc::ExplicitLe;
    let dataset = [
        enc.image_attributes(600, 300),
        enc.element((0x0009, 0x1001), "UC", &vec![b'\\'; 600_000]),
        enc.pixel_data(&picture(600, 300)),
    ]
    .concat();
    match import(&file(EXPLICIT_LE, &dataset)) {
        Err(ImportError::UnsupportedVariant { detail, .. }) if detail.contains("text values") => {}
        other => panic!("{}", outcome(&other)),
    }
}

/// dicom-rs guesses a preamble when it finds "DICM" 128 bytes into what it is given; the
/// importer hands it the stream after the preamble and tells it so, so it reads the file
/// exactly where the walk did. Here a second "DICM" sits inside a meta element's value, 128
/// bytes after the first: read from there, the file is garbage.
#[test]
fn a_second_dicm_marker_does_not_move_where_dicom_rs_starts_reading() {
    let le = Enc::ExplicitLe;
    let mut private = vec![0u8; 120];
    // The value starts at byte 156 of the file; byte 256 is offset 100 in it.
    private[100..104].copy_from_slice(b"DICM");
    let body = [
        le.element((0x0002, 0x0102), "OB", &private),
        le.element((0x0002, 0x0001), "OB", &[0, 1]),
        le.text((0x0002, 0x0002), "UI", "1.2.840.10008.5.1.4.1.1.7"),
        le.text((0x0002, 0x0003), "UI", "1.2.3.4.5.6.7.8.9"),
        le.text((0x0002, 0x0010), "UI", EXPLICIT_LE),
    ]
    .concat();
    let mut bytes = vec![0u8; 128];
    bytes.extend(b"DICM");
    bytes.extend(le.element((0x0002, 0x0000), "UL", &(body.len() as u32).to_le_bytes()));
    bytes.extend(body);
    assert_eq!(&bytes[256..260], b"DICM");
    bytes.extend(le.image_attributes(600, 300));
    bytes.extend(le.pixel_data(&picture(600, 300)));
    let img = import(&bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(img.rgb.get_pixel(5, 5).0, [255, 255, 255]);
}

/// The walk accepts what is valid: every encoding, sequences of defined and undefined length
/// (nested), items of both kinds, a stray item delimiter at the top level, odd lengths.
#[test]
fn valid_files_in_every_encoding_still_import() {
    for ts in [EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE] {
        let enc = Enc::of(ts);
        let code = enc.sequence(
            (0x0040, 0xA170),
            &[enc.item(&enc.text((0x0008, 0x0100), "SH", "121311"), true)],
            true,
        );
        let items = vec![
            enc.item(
                &[enc.text((0x0008, 0x1150), "UI", "1.2.3"), code.clone()].concat(),
                false,
            ),
            enc.item(
                &[enc.text((0x0008, 0x1150), "UI", "1.2.4"), code].concat(),
                true,
            ),
            enc.item(&[], true),
        ];
        let dataset = [
            enc.sequence((0x0008, 0x1140), &items, false),
            enc.sequence((0x0008, 0x2112), &items, true),
            enc.header((0xFFFE, 0xE00D), "", 0),
            enc.image_attributes(600, 300),
            enc.pixel_data(&picture(600, 300)),
        ]
        .concat();
        let img = import(&file(ts, &dataset)).unwrap_or_else(|e| panic!("{ts}: {e}"));
        assert_eq!((img.width(), img.height()), (600, 300), "{ts}");
        assert_eq!(img.rgb.get_pixel(5, 5).0, [255, 255, 255], "{ts}");
        assert_eq!(img.rgb.get_pixel(150, 100).0, [50, 50, 50], "{ts}");
    }
}

/// A 600x300 JPEG as the image crate writes it, with its frame header set to `width` x
/// `height`.
fn jpeg_with_frame_size(width: u16, height: u16) -> Vec<u8> {
    let gray = image::GrayImage::from_raw(600, 300, picture(600, 300)).unwrap();
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageLuma8(gray)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    let mut jpeg = out.into_inner();
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    jpeg
}

/// A JPEG Baseline DICOM of 600x300 (header) holding `jpeg` as its one fragment.
fn encapsulated(jpeg: &[u8]) -> Vec<u8> {
    let enc = Enc::ExplicitLe;
    let mut fragment = jpeg.to_vec();
    if fragment.len() % 2 == 1 {
        fragment.push(0);
    }
    let mut dataset = enc.image_attributes(600, 300);
    dataset.extend(enc.header((0x7FE0, 0x0010), "OB", u32::MAX));
    dataset.extend(enc.item(&[], true));
    dataset.extend(enc.item(&fragment, true));
    dataset.extend(enc.header((0xFFFE, 0xE0DD), "", 0));
    file(JPEG_BASELINE, &dataset)
}

#[test]
fn an_encapsulated_jpeg_of_the_header_s_size_decodes() {
    let img = import(&encapsulated(&jpeg_with_frame_size(600, 300))).unwrap();
    assert_eq!((img.width(), img.height()), (600, 300));
    assert!(img.rgb.get_pixel(5, 5).0[0] > 240);
}

/// Fuzz finding (fuzz_dicom, one byte of an encapsulated JPEG's frame height set to 1): the
/// JPEG decoded to more bytes than Rows x Columns and dicom-rs's JPEG adapter panicked copying
/// it ("range end index 8704 out of range for slice of length 512").
#[test]
fn an_embedded_jpeg_larger_than_the_dicom_header_says_is_refused() {
    let result = import(&encapsulated(&jpeg_with_frame_size(600, 512)));
    match &result {
        Err(ImportError::Corrupt {
            format: "DICOM",
            detail,
        }) => assert_eq!(
            detail,
            "the embedded JPEG is 600x512 with 1 component(s), the DICOM header says 600x300 with 1"
        ),
        other => panic!("{}", outcome(other)),
    }
    // Smaller is refused too (dicom-rs would leave the rest of the image black).
    assert!(matches!(
        import(&encapsulated(&jpeg_with_frame_size(600, 200))),
        Err(ImportError::Corrupt { .. })
    ));
}

/// The pixel limit is checked on the DICOM header; an embedded JPEG claiming 60000x60000 would
/// have the JPEG decoder allocate for 3.6 gigapixels. Refused before decoding.
#[test]
fn an_embedded_jpeg_claiming_huge_dimensions_is_refused_before_decoding() {
    let result = import(&encapsulated(&jpeg_with_frame_size(60000, 60000)));
    assert!(
        matches!(&result, Err(ImportError::Corrupt { detail, .. }) if detail.contains("60000x60000")),
        "{}",
        outcome(&result)
    );
    assert_memory_stayed_small();
}

/// Fuzz finding (fuzz_dicom, Implicit VR seed with one byte changed so that Modality
/// (0008,0060) became (0072,0060), an AT in the dictionary): dicom-rs reads len / 4 tags of
/// an AT value and moves on, so the two bytes "PX" and the next header were read as a header
/// claiming 0xFFFF1140 bytes, and dicom-rs allocated 4 GB. A binary value whose length is not
/// a multiple of its size is refused by the walk.
#[test]
fn a_binary_value_of_a_length_dicom_rs_would_misread_is_refused() {
    let enc = Enc::ImplicitLe;
    let item = enc.item(&enc.text((0x0008, 0x1150), "UI", "1.2.3"), false);
    let dataset = [
        enc.element((0x0072, 0x0060), "AT", b"PX"),
        enc.sequence((0x0008, 0x1140), &[item], false),
        enc.image_attributes(600, 300),
        enc.pixel_data(&picture(600, 300)),
    ]
    .concat();
    let result = import(&file(IMPLICIT_LE, &dataset));
    match &result {
        Err(ImportError::Corrupt {
            format: "DICOM",
            detail,
        }) => assert_eq!(
            detail,
            "element (0072,0060) is 2 bytes long, not a whole number of its 4-byte values"
        ),
        other => panic!("{}", outcome(other)),
    }
    // The same with an explicit VR.
    let enc = Enc::ExplicitLe;
    let dataset = [
        enc.element((0x0009, 0x1002), "FD", &[0; 12]),
        enc.image_attributes(600, 300),
        enc.pixel_data(&picture(600, 300)),
    ]
    .concat();
    assert!(matches!(
        import(&file(EXPLICIT_LE, &dataset)),
        Err(ImportError::Corrupt { .. })
    ));
    assert_memory_stayed_small();
}
