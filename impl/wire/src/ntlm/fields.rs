//! The `Len (2) | MaxLen (2) | BufferOffset (4)` field descriptors every
//! NTLM message uses (MS-NLMP §2.2.1), and the payload they point into.

use crate::bytes::Cursor;
use crate::error::{ErrorKind, Format, Result, WireError};

/// A field descriptor as read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldRef {
    pub(crate) name: &'static str,
    pub(crate) len: u16,
    pub(crate) offset: u32,
    /// Where the descriptor itself sits in the message.
    pub(crate) at: usize,
}

pub(crate) fn read(c: &mut Cursor<'_>, name: &'static str) -> Result<FieldRef> {
    let at = c.offset();
    let len = c.u16_le(name)?;
    let _max_len = c.u16_le(name)?; // MaxLen SHOULD equal Len; ignored (§2.2.1.1)
    let offset = c.u32_le(name)?;
    Ok(FieldRef {
        name,
        len,
        offset,
        at,
    })
}

/// Where the fixed header ends: the smallest offset of a non-empty field
/// (what Windows and Samba use to tell whether Version/MIC are present).
pub(crate) fn header_end(msg_len: usize, fields: &[FieldRef]) -> usize {
    fields
        .iter()
        .filter(|f| f.len > 0)
        .map(|f| usize::try_from(f.offset).unwrap_or(usize::MAX))
        .min()
        .unwrap_or(msg_len)
        .min(msg_len)
}

/// The bytes a descriptor points at, bounds-checked: inside the message and
/// not overlapping the `min_header` fixed octets.
pub(crate) fn slice<'a>(msg: &'a [u8], f: &FieldRef, min_header: usize) -> Result<&'a [u8]> {
    if f.len == 0 {
        return Ok(&[]);
    }
    let start = usize::try_from(f.offset).unwrap_or(usize::MAX);
    let len = usize::from(f.len);
    let out_of_bounds = || {
        WireError::new(
            Format::Ntlm,
            f.at,
            ErrorKind::FieldOutOfBounds {
                field: f.name,
                field_offset: start,
                len,
                total: msg.len(),
            },
        )
    };
    if start < min_header {
        return Err(WireError::new(
            Format::Ntlm,
            f.at + 4,
            ErrorKind::InvalidValue {
                what: "field offset",
                found: format!(
                    "{} at offset {start}, inside the {min_header}-byte fixed header",
                    f.name
                ),
            },
        ));
    }
    let end = start.checked_add(len).ok_or_else(out_of_bounds)?;
    msg.get(start..end).ok_or_else(out_of_bounds)
}

/// Builds the payload area and the descriptors that point into it.
#[derive(Debug)]
pub(crate) struct Payload {
    base: usize,
    data: Vec<u8>,
}

impl Payload {
    pub(crate) fn new(header_len: usize) -> Self {
        Self {
            base: header_len,
            data: Vec::new(),
        }
    }

    /// Appends `bytes` and returns its descriptor (MaxLen = Len).
    pub(crate) fn add(&mut self, bytes: &[u8]) -> [u8; 8] {
        let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
        let offset = u32::try_from(self.base + self.data.len()).unwrap_or(u32::MAX);
        self.data
            .extend_from_slice(bytes.get(..usize::from(len)).unwrap_or(bytes));
        let mut d = [0u8; 8];
        d[0..2].copy_from_slice(&len.to_le_bytes());
        d[2..4].copy_from_slice(&len.to_le_bytes());
        d[4..8].copy_from_slice(&offset.to_le_bytes());
        d
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.data
    }
}
