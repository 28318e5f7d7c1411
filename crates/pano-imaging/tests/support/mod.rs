//! DICOM files built byte by byte for the tests (Part 10: preamble, "DICM", file meta group in
//! Explicit VR Little Endian, then the data set in the transfer syntax's encoding).
#![allow(dead_code)]

pub const IMPLICIT_LE: &str = "1.2.840.10008.1.2";
pub const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
pub const EXPLICIT_BE: &str = "1.2.840.10008.1.2.2";
pub const DEFLATED_LE: &str = "1.2.840.10008.1.2.1.99";
pub const JPEG_BASELINE: &str = "1.2.840.10008.1.2.4.50";
pub const RLE: &str = "1.2.840.10008.1.2.5";

/// VRs with a 16-bit length field in explicit encodings.
const SHORT: [&str; 21] = [
    "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "PN", "SH", "SL", "SS",
    "ST", "TM", "UI", "UL", "US",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enc {
    ImplicitLe,
    ExplicitLe,
    ExplicitBe,
}

impl Enc {
    pub fn of(ts: &str) -> Enc {
        match ts {
            IMPLICIT_LE => Enc::ImplicitLe,
            EXPLICIT_BE => Enc::ExplicitBe,
            _ => Enc::ExplicitLe,
        }
    }
    fn u16(self, v: u16) -> [u8; 2] {
        if self == Enc::ExplicitBe {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn u32(self, v: u32) -> [u8; 4] {
        if self == Enc::ExplicitBe {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// An element header with any length (also 0xFFFFFFFF, or one larger than the value).
    pub fn header(self, tag: (u16, u16), vr: &str, len: u32) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(self.u16(tag.0));
        out.extend(self.u16(tag.1));
        match self {
            Enc::ImplicitLe => out.extend(self.u32(len)),
            _ if tag.0 == 0xFFFE => out.extend(self.u32(len)),
            _ if SHORT.contains(&vr) => {
                out.extend(vr.as_bytes());
                out.extend(self.u16(len as u16));
            }
            _ => {
                out.extend(vr.as_bytes());
                out.extend([0, 0]);
                out.extend(self.u32(len));
            }
        }
        out
    }

    /// A complete element; text values are padded to even length as DICOM requires.
    pub fn element(self, tag: (u16, u16), vr: &str, value: &[u8]) -> Vec<u8> {
        let mut value = value.to_vec();
        if value.len() % 2 == 1 {
            value.push(if vr == "UI" || vr.starts_with('O') || vr == "UN" {
                0
            } else {
                b' '
            });
        }
        let mut out = self.header(tag, vr, value.len() as u32);
        out.extend(value);
        out
    }

    pub fn us(self, tag: (u16, u16), v: u16) -> Vec<u8> {
        self.element(tag, "US", &self.u16(v))
    }

    pub fn text(self, tag: (u16, u16), vr: &str, v: &str) -> Vec<u8> {
        self.element(tag, vr, v.as_bytes())
    }

    /// An item of defined length (`len` = None) or undefined length (with its delimiter).
    pub fn item(self, content: &[u8], defined: bool) -> Vec<u8> {
        let mut out = self.header(
            (0xFFFE, 0xE000),
            "",
            if defined {
                content.len() as u32
            } else {
                u32::MAX
            },
        );
        out.extend(content);
        if !defined {
            out.extend(self.header((0xFFFE, 0xE00D), "", 0));
        }
        out
    }

    /// A sequence of the given items, of defined or undefined length.
    pub fn sequence(self, tag: (u16, u16), items: &[Vec<u8>], defined: bool) -> Vec<u8> {
        let body: Vec<u8> = items.concat();
        let mut out = self.header(
            tag,
            "SQ",
            if defined { body.len() as u32 } else { u32::MAX },
        );
        out.extend(body);
        if !defined {
            out.extend(self.header((0xFFFE, 0xE0DD), "", 0));
        }
        out
    }

    /// The attributes of a single-frame 8-bit MONOCHROME2 image, without Pixel Data.
    pub fn image_attributes(self, cols: u16, rows: u16) -> Vec<u8> {
        [
            self.text((0x0008, 0x0060), "CS", "PX"),
            self.us((0x0028, 0x0002), 1),
            self.text((0x0028, 0x0004), "CS", "MONOCHROME2"),
            self.us((0x0028, 0x0010), rows),
            self.us((0x0028, 0x0011), cols),
            self.us((0x0028, 0x0100), 8),
            self.us((0x0028, 0x0101), 8),
            self.us((0x0028, 0x0102), 7),
            self.us((0x0028, 0x0103), 0),
        ]
        .concat()
    }

    /// Native (uncompressed) Pixel Data.
    pub fn pixel_data(self, pixels: &[u8]) -> Vec<u8> {
        self.element((0x7FE0, 0x0010), "OB", pixels)
    }
}

/// Preamble, "DICM" and a file meta group naming `ts`.
pub fn preamble_and_meta(ts: &str) -> Vec<u8> {
    let le = Enc::ExplicitLe;
    let body = [
        le.element((0x0002, 0x0001), "OB", &[0, 1]),
        le.text((0x0002, 0x0002), "UI", "1.2.840.10008.5.1.4.1.1.7"),
        le.text((0x0002, 0x0003), "UI", "1.2.3.4.5.6.7.8.9"),
        le.text((0x0002, 0x0010), "UI", ts),
    ]
    .concat();
    let mut out = vec![0u8; 128];
    out.extend(b"DICM");
    out.extend(le.element((0x0002, 0x0000), "UL", &(body.len() as u32).to_le_bytes()));
    out.extend(body);
    out
}

/// A whole file: meta group for `ts` and the given data set bytes.
pub fn file(ts: &str, dataset: &[u8]) -> Vec<u8> {
    let mut out = preamble_and_meta(ts);
    out.extend(dataset);
    out
}

/// The test picture: a gradient with a bright block at the top left.
pub fn picture(cols: u16, rows: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(cols as usize * rows as usize);
    for y in 0..rows as usize {
        for x in 0..cols as usize {
            out.push(if x < 40 && y < 20 {
                255
            } else {
                ((x + y) % 200) as u8
            });
        }
    }
    out
}

/// A valid single-frame image in `ts` (uncompressed transfer syntaxes only).
pub fn image(ts: &str, cols: u16, rows: u16) -> Vec<u8> {
    let enc = Enc::of(ts);
    let dataset = [
        enc.image_attributes(cols, rows),
        enc.pixel_data(&picture(cols, rows)),
    ]
    .concat();
    file(ts, &dataset)
}
