//! A walk over a DICOM file's element headers before dicom-rs reads a single value.
//!
//! dicom-rs trusts the lengths it reads: a value is read into a buffer of the declared size, so
//! a file of a few hundred bytes whose element claims 0xFFFFFFF0 bytes makes it allocate and
//! zero 4 GB before it notices that the bytes are not there. This walk follows exactly the
//! structure dicom-rs 0.10 follows (`FileMetaTable::read_from`, `DataSetReader`): the file
//! meta group (always Explicit VR Little Endian, as far as its group length says), then the
//! data set in the transfer syntax's encoding (Implicit VR Little Endian, Explicit VR Little
//! or Big Endian), into every sequence, item and encapsulated pixel-data fragment. It refuses:
//!
//! - any defined length larger than what is left of the file or of the item or sequence
//!   holding it ([`ImportError::DicomLengthOverrun`]);
//! - a binary value (US, UL, FD, AT...) whose length is not a multiple of its value size:
//!   dicom-rs would read fewer bytes than the length says and take the rest of the value for
//!   the next element's header, which this walk never checked;
//! - deflated transfer syntaxes, whose lengths cannot be checked before inflating;
//! - structures no radiograph needs but that cost dicom-rs far more memory than the bytes
//!   they take: sequences nested deeper than [`MAX_DEPTH`] (dicom-rs builds them
//!   recursively), more than [`MAX_ELEMENTS`] elements or fragments, more than [`MAX_ITEMS`]
//!   items, more than [`MAX_TEXT_VALUES`] text values (each becomes a `String`, `f64`, date...).
//!
//! After this walk every allocation dicom-rs makes while parsing is bounded by the file's
//! size (times a small factor), whatever the file says.

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry, VirtualVr};
use dicom_core::VR;
use dicom_dictionary_std::{uids, StandardDataDictionary};

use crate::ImportError;

/// Sequences within sequences; real objects rarely go past 5.
pub(crate) const MAX_DEPTH: usize = 32;
/// Data elements and pixel-data fragments in the whole file (a radiograph has hundreds).
pub(crate) const MAX_ELEMENTS: usize = 200_000;
/// Sequence items in the whole file (each becomes an object of its own in dicom-rs).
pub(crate) const MAX_ITEMS: usize = 20_000;
/// Values of multi-valued text elements (`a\b\c` is three), each a separate allocation.
pub(crate) const MAX_TEXT_VALUES: usize = 500_000;

const UNDEFINED: u32 = 0xFFFF_FFFF;
const ITEM: (u16, u16) = (0xFFFE, 0xE000);
const ITEM_END: (u16, u16) = (0xFFFE, 0xE00D);
const SEQUENCE_END: (u16, u16) = (0xFFFE, 0xE0DD);
const PIXEL_DATA: (u16, u16) = (0x7FE0, 0x0010);

/// Transfer syntaxes whose data set is deflated (PS3.5 A.5, JPIP referenced deflate).
const DEFLATED: [&str; 3] = [
    uids::DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    uids::JPIP_REFERENCED_DEFLATE,
    uids::JPIPHTJ2K_REFERENCED_DEFLATE,
];

fn corrupt(detail: impl ToString) -> ImportError {
    ImportError::Corrupt {
        format: "DICOM",
        detail: detail.to_string(),
    }
}

fn unsupported(detail: impl ToString) -> ImportError {
    ImportError::UnsupportedVariant {
        format: "DICOM",
        detail: detail.to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    ImplicitLittle,
    ExplicitLittle,
    ExplicitBig,
}

/// Where an element list lives: the top level of the data set, or an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    TopLevel,
    DefinedItem,
    UndefinedItem,
}

/// How a walk ended: at its delimiter or declared end, or at the end of the file (dicom-rs
/// stops reading there too, gracefully or with an error, without reading anything more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Done,
    Eof,
}

#[derive(Debug, Clone, Copy)]
struct Header {
    tag: (u16, u16),
    vr: VR,
    len: u32,
    /// Bytes of tag, VR and length.
    size: usize,
}

struct Walker<'a> {
    bytes: &'a [u8],
    encoding: Encoding,
    elements: usize,
    items: usize,
    text_values: usize,
}

/// Checks the structure of a Part 10 file (`bytes` from the start of the preamble) as
/// described in the module documentation; `Ok` means dicom-rs may read it.
pub(crate) fn check_structure(bytes: &[u8]) -> Result<(), ImportError> {
    if bytes.len() < 132 || &bytes[128..132] != b"DICM" {
        return Err(corrupt("the DICM marker is missing"));
    }
    let mut walker = Walker {
        bytes,
        encoding: Encoding::ExplicitLittle,
        elements: 0,
        items: 0,
        text_values: 0,
    };
    let mut pos = 132;
    let transfer_syntax = walker.walk_meta(&mut pos)?;
    if DEFLATED.contains(&transfer_syntax.as_str()) {
        return Err(unsupported(format!(
            "deflated transfer syntax ({transfer_syntax}) is not accepted, because its size is \
             only known after inflating it; export the image uncompressed or JPEG-compressed"
        )));
    }
    walker.encoding = match transfer_syntax.as_str() {
        uids::IMPLICIT_VR_LITTLE_ENDIAN => Encoding::ImplicitLittle,
        // Explicit VR Big Endian (retired, still read by dicom-rs)
        "1.2.840.10008.1.2.2" => Encoding::ExplicitBig,
        // Every other transfer syntax (uncompressed, JPEG, RLE, ...) encodes the data set in
        // Explicit VR Little Endian; unknown ones are refused by dicom-rs after the meta group.
        _ => Encoding::ExplicitLittle,
    };
    walker.walk_elements(&mut pos, None, bytes.len(), Context::TopLevel, 0)?;
    Ok(())
}

impl Walker<'_> {
    fn u16_at(&self, at: usize) -> u16 {
        let b = [self.bytes[at], self.bytes[at + 1]];
        match self.encoding {
            Encoding::ExplicitBig => u16::from_be_bytes(b),
            _ => u16::from_le_bytes(b),
        }
    }

    fn u32_at(&self, at: usize) -> u32 {
        let b = [
            self.bytes[at],
            self.bytes[at + 1],
            self.bytes[at + 2],
            self.bytes[at + 3],
        ];
        match self.encoding {
            Encoding::ExplicitBig => u32::from_be_bytes(b),
            _ => u32::from_le_bytes(b),
        }
    }

    fn has(&self, at: usize, n: usize) -> bool {
        at.checked_add(n).is_some_and(|end| end <= self.bytes.len())
    }

    /// The element header at `at` as dicom-rs decodes it, or `None` where the file ends first.
    fn header(&self, at: usize) -> Option<Header> {
        if !self.has(at, 8) {
            return None;
        }
        let tag = (self.u16_at(at), self.u16_at(at + 2));
        if self.encoding == Encoding::ImplicitLittle {
            // VR from the dictionary; OW for pixel and overlay data (PS3.5 A.1).
            let vr = if tag == PIXEL_DATA || (tag.0 >> 8 == 0x60 && tag.1 == 0x3000) {
                VR::OW
            } else {
                StandardDataDictionary
                    .by_tag(dicom_core::Tag(tag.0, tag.1))
                    .map(|entry| entry.vr().relaxed())
                    .unwrap_or(VR::UN)
            };
            return Some(Header {
                tag,
                vr,
                len: self.u32_at(at + 4),
                size: 8,
            });
        }
        if tag.0 == 0xFFFE {
            // Item and delimiter tags carry no VR.
            return Some(Header {
                tag,
                vr: VR::UN,
                len: self.u32_at(at + 4),
                size: 8,
            });
        }
        let vr = VR::from_binary([self.bytes[at + 4], self.bytes[at + 5]]).unwrap_or(VR::UN);
        if short_length(vr) {
            Some(Header {
                tag,
                vr,
                len: self.u16_at(at + 6) as u32,
                size: 8,
            })
        } else if self.has(at, 12) {
            Some(Header {
                tag,
                vr,
                len: self.u32_at(at + 8),
                size: 12,
            })
        } else {
            None
        }
    }

    /// The file meta group, read as dicom-rs reads it: the group length element first, then
    /// elements until that many bytes are read. Returns the transfer syntax UID.
    fn walk_meta(&mut self, pos: &mut usize) -> Result<String, ImportError> {
        let incomplete = || corrupt("the file meta information is incomplete");
        let first = self.header(*pos).ok_or_else(incomplete)?;
        if first.tag != (0x0002, 0x0000) || first.len != 4 {
            return Err(corrupt(
                "the file meta information does not start with its group length",
            ));
        }
        let value = *pos + first.size;
        if !self.has(value, 4) {
            return Err(incomplete());
        }
        let group_length = self.u32_at(value);
        *pos = value + 4;
        let mut read = 0u32;
        let mut transfer_syntax = None;
        while read < group_length {
            let header = self.header(*pos).ok_or_else(incomplete)?;
            if header.len == UNDEFINED {
                return Err(corrupt(
                    "an element of the file meta information has no defined length",
                ));
            }
            let value = *pos + header.size;
            self.check_fits("element", header.tag, header.len, value, self.bytes.len())?;
            self.count_element()?;
            let end = value + header.len as usize;
            if header.tag == (0x0002, 0x0010) {
                let text = String::from_utf8_lossy(&self.bytes[value..end]);
                transfer_syntax = Some(
                    text.trim_end_matches(|c: char| c.is_whitespace() || c == '\0')
                        .to_string(),
                );
            }
            *pos = end;
            read = read
                .saturating_add(header.size as u32)
                .saturating_add(header.len);
        }
        transfer_syntax.ok_or_else(|| corrupt("the file meta information names no transfer syntax"))
    }

    /// Elements of the top level (`end` = `None`) or of an item, up to `end` for an item of
    /// defined length or up to its delimiter; nothing may reach past `limit` (the end of the
    /// file or of the enclosing item or sequence).
    fn walk_elements(
        &mut self,
        pos: &mut usize,
        end: Option<usize>,
        limit: usize,
        context: Context,
        depth: usize,
    ) -> Result<Flow, ImportError> {
        loop {
            if let Some(end) = end {
                if *pos == end {
                    return Ok(Flow::Done);
                }
                if *pos > end {
                    return Err(corrupt("an element runs past the end of its item"));
                }
            }
            let Some(header) = self.header(*pos) else {
                return Ok(Flow::Eof);
            };
            let value = *pos + header.size;
            let undefined = header.len == UNDEFINED;
            self.count_element()?;

            if header.tag == ITEM_END {
                // dicom-rs ignores a stray one at the top level and reads no value for it.
                *pos = value;
                match context {
                    Context::TopLevel => continue,
                    Context::UndefinedItem => return Ok(Flow::Done),
                    Context::DefinedItem => {
                        return Err(corrupt(
                            "an item delimiter appears inside an item of defined length",
                        ))
                    }
                }
            }
            let sequence = header.vr == VR::SQ
                // any other element of undefined length is read as a sequence by dicom-rs
                || (undefined && header.tag != PIXEL_DATA);
            if sequence {
                let (seq_end, seq_limit) = if undefined {
                    (None, limit)
                } else {
                    self.check_fits("element", header.tag, header.len, value, limit)?;
                    let seq_end = value + header.len as usize;
                    (Some(seq_end), seq_end)
                };
                *pos = value;
                if self.walk_items(pos, seq_end, seq_limit, depth + 1)? == Flow::Eof {
                    return Ok(Flow::Eof);
                }
                continue;
            }
            if undefined {
                // Encapsulated pixel data: fragments up to a sequence delimiter.
                *pos = value;
                if self.walk_fragments(pos, limit)? == Flow::Eof {
                    return Ok(Flow::Eof);
                }
                continue;
            }
            self.check_fits("element", header.tag, header.len, value, limit)?;
            // dicom-rs reads len / size numbers of a binary VR and moves on by that many
            // bytes: a length that is not a multiple of the size puts it out of step with the
            // file (reading the rest of a value as the next header: a fuzz finding). A tag of
            // the dictionary's US-or-SS kind is read as SS after a signed Pixel Representation,
            // whatever VR the file gives it.
            let size = value_size(header.vr).max(if us_or_ss(header.tag) { 2 } else { 1 });
            if !(header.len as usize).is_multiple_of(size) {
                let (group, element) = header.tag;
                return Err(corrupt(format!(
                    "element ({group:04X},{element:04X}) is {} bytes long, not a whole number of \
                     its {size}-byte values",
                    header.len
                )));
            }
            let value_end = value + header.len as usize;
            if multi_valued_text(header.vr) {
                let separators = self.bytes[value..value_end]
                    .iter()
                    .filter(|&&b| b == b'\\')
                    .count();
                self.text_values += separators + 1;
                if self.text_values > MAX_TEXT_VALUES {
                    return Err(unsupported(format!(
                        "it holds more than {MAX_TEXT_VALUES} text values"
                    )));
                }
            }
            *pos = value_end;
        }
    }

    /// Items of a sequence, up to `end` (defined length) or its delimiter, none reaching past
    /// `limit`.
    fn walk_items(
        &mut self,
        pos: &mut usize,
        end: Option<usize>,
        limit: usize,
        depth: usize,
    ) -> Result<Flow, ImportError> {
        if depth > MAX_DEPTH {
            return Err(unsupported(format!(
                "its sequences are nested more than {MAX_DEPTH} levels deep"
            )));
        }
        loop {
            if let Some(end) = end {
                if *pos == end {
                    return Ok(Flow::Done);
                }
                if *pos > end {
                    return Err(corrupt("an item runs past the end of its sequence"));
                }
            }
            if !self.has(*pos, 8) {
                return Ok(Flow::Eof);
            }
            let tag = (self.u16_at(*pos), self.u16_at(*pos + 2));
            let len = self.u32_at(*pos + 4);
            let value = *pos + 8;
            match tag {
                ITEM => {
                    self.items += 1;
                    if self.items > MAX_ITEMS {
                        return Err(unsupported(format!(
                            "it holds more than {MAX_ITEMS} sequence items"
                        )));
                    }
                    *pos = value;
                    let flow = if len == UNDEFINED {
                        self.walk_elements(pos, None, limit, Context::UndefinedItem, depth)?
                    } else {
                        self.check_fits("item", tag, len, value, limit)?;
                        let item_end = value + len as usize;
                        let context = Context::DefinedItem;
                        self.walk_elements(pos, Some(item_end), item_end, context, depth)?
                    };
                    if flow == Flow::Eof {
                        return Ok(Flow::Eof);
                    }
                }
                SEQUENCE_END if end.is_none() => {
                    *pos = value;
                    return Ok(Flow::Done);
                }
                SEQUENCE_END => {
                    return Err(corrupt(
                        "a sequence delimiter appears inside a sequence of defined length",
                    ))
                }
                (group, element) => {
                    return Err(corrupt(format!(
                        "({group:04X},{element:04X}) appears where a sequence item was expected"
                    )))
                }
            }
        }
    }

    /// Encapsulated pixel data: the offset table and fragments, each of defined length, up to
    /// the sequence delimiter.
    fn walk_fragments(&mut self, pos: &mut usize, limit: usize) -> Result<Flow, ImportError> {
        loop {
            if !self.has(*pos, 8) {
                return Ok(Flow::Eof);
            }
            let tag = (self.u16_at(*pos), self.u16_at(*pos + 2));
            let len = self.u32_at(*pos + 4);
            let value = *pos + 8;
            match tag {
                ITEM if len == UNDEFINED => {
                    return Err(corrupt("a pixel data fragment has no defined length"))
                }
                ITEM => {
                    self.check_fits("pixel data fragment", tag, len, value, limit)?;
                    self.count_element()?;
                    *pos = value + len as usize;
                }
                SEQUENCE_END => {
                    *pos = value;
                    return Ok(Flow::Done);
                }
                (group, element) => {
                    return Err(corrupt(format!(
                    "({group:04X},{element:04X}) appears where a pixel data fragment was expected"
                )))
                }
            }
        }
    }

    fn check_fits(
        &self,
        what: &'static str,
        tag: (u16, u16),
        len: u32,
        value: usize,
        limit: usize,
    ) -> Result<(), ImportError> {
        let remaining = limit.saturating_sub(value);
        if len as usize > remaining {
            return Err(ImportError::DicomLengthOverrun {
                what,
                group: tag.0,
                element: tag.1,
                claimed: len as u64,
                remaining: remaining as u64,
            });
        }
        Ok(())
    }

    fn count_element(&mut self) -> Result<(), ImportError> {
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(unsupported(format!(
                "it holds more than {MAX_ELEMENTS} data elements"
            )));
        }
        Ok(())
    }
}

/// VRs whose length field is 16 bits in explicit VR encodings (PS3.5 7.1.2), as dicom-rs
/// lists them.
fn short_length(vr: VR) -> bool {
    matches!(
        vr,
        VR::AE
            | VR::AS
            | VR::AT
            | VR::CS
            | VR::DA
            | VR::DS
            | VR::DT
            | VR::FL
            | VR::FD
            | VR::IS
            | VR::LO
            | VR::LT
            | VR::PN
            | VR::SH
            | VR::SL
            | VR::SS
            | VR::ST
            | VR::TM
            | VR::UI
            | VR::UL
            | VR::US
    )
}

/// Bytes per value of the binary VRs dicom-rs reads as numbers (1 for the others).
fn value_size(vr: VR) -> usize {
    match vr {
        VR::US | VR::SS | VR::OW => 2,
        VR::AT | VR::FL | VR::OF | VR::SL | VR::UL | VR::OL => 4,
        VR::FD | VR::OD | VR::SV | VR::UV | VR::OV => 8,
        _ => 1,
    }
}

/// Whether the dictionary gives `tag` the VR "US or SS" (PS3.5 6.2: decided by Pixel
/// Representation).
fn us_or_ss(tag: (u16, u16)) -> bool {
    StandardDataDictionary
        .by_tag(dicom_core::Tag(tag.0, tag.1))
        .is_some_and(|entry| entry.vr() == VirtualVr::Xs)
}

/// Text VRs that dicom-rs splits at `\` into one value (a `String`, number or date) each.
fn multi_valued_text(vr: VR) -> bool {
    matches!(
        vr,
        VR::AE
            | VR::AS
            | VR::CS
            | VR::DA
            | VR::DS
            | VR::DT
            | VR::IS
            | VR::LO
            | VR::PN
            | VR::SH
            | VR::TM
            | VR::UC
            | VR::UI
    )
}
