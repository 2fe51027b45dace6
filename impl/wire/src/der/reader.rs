//! Strict TLV reader over a byte slice, with absolute offsets in errors.

use super::oid::Oid;
use super::tag;
use super::values::{self, BitString};
use crate::error::{ErrorKind, Format, Result, WireError};

/// One DER element: its tag, where it starts, and its content octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The identifier octet (single-octet form only).
    pub tag: u8,
    /// Absolute offset of the identifier octet.
    pub offset: usize,
    /// Identifier plus length octets.
    pub header_len: usize,
    /// Content octets.
    pub value: &'a [u8],
    /// The complete encoding (header and content).
    pub raw: &'a [u8],
    /// The format errors about this element are attributed to.
    pub format: Format,
}

impl<'a> Tlv<'a> {
    /// Absolute offset of the first content octet.
    pub fn value_offset(&self) -> usize {
        self.offset + self.header_len
    }

    /// Absolute offset just past the element.
    pub fn end(&self) -> usize {
        self.value_offset() + self.value.len()
    }

    /// True for constructed encodings.
    pub fn is_constructed(&self) -> bool {
        tag::is_constructed(self.tag)
    }

    /// A reader over the content octets (for constructed elements).
    pub fn reader(&self, what: &'static str) -> Reader<'a> {
        Reader {
            buf: self.value,
            pos: 0,
            base: self.value_offset(),
            format: self.format,
            what,
        }
    }

    /// The single element an EXPLICIT tag wraps: reads exactly one TLV from
    /// the content and rejects anything after it.
    pub fn explicit_inner(&self, what: &'static str) -> Result<Tlv<'a>> {
        let mut r = self.reader(what);
        let inner = r.read()?;
        r.finish()?;
        Ok(inner)
    }

    fn err(&self, kind: ErrorKind) -> WireError {
        WireError::new(self.format, self.value_offset(), kind)
    }

    fn check_tag(&self, expected_tag: u8, expected: &'static str) -> Result<()> {
        if self.tag == expected_tag {
            Ok(())
        } else {
            Err(WireError::new(
                self.format,
                self.offset,
                ErrorKind::UnexpectedTag {
                    expected,
                    found: self.tag,
                },
            ))
        }
    }

    /// INTEGER content as i64 (X.690 §8.3, minimal two's complement).
    pub fn integer(&self) -> Result<i64> {
        self.check_tag(tag::INTEGER, "INTEGER")?;
        values::integer(self.value).map_err(|found| {
            self.err(ErrorKind::InvalidValue {
                what: "INTEGER",
                found,
            })
        })
    }

    /// ENUMERATED content as i64 (X.690 §8.4: encoded like INTEGER).
    pub fn enumerated(&self) -> Result<i64> {
        self.check_tag(tag::ENUMERATED, "ENUMERATED")?;
        values::integer(self.value).map_err(|found| {
            self.err(ErrorKind::InvalidValue {
                what: "ENUMERATED",
                found,
            })
        })
    }

    /// BOOLEAN (X.690 §11.1: DER TRUE is 0xFF).
    pub fn boolean(&self) -> Result<bool> {
        self.check_tag(tag::BOOLEAN, "BOOLEAN")?;
        values::boolean(self.value).map_err(|found| {
            self.err(ErrorKind::InvalidValue {
                what: "BOOLEAN",
                found,
            })
        })
    }

    /// OCTET STRING content.
    pub fn octet_string(&self) -> Result<&'a [u8]> {
        self.check_tag(tag::OCTET_STRING, "OCTET STRING")?;
        Ok(self.value)
    }

    /// BIT STRING (X.690 §8.6, §11.2).
    pub fn bit_string(&self) -> Result<BitString> {
        self.check_tag(tag::BIT_STRING, "BIT STRING")?;
        BitString::from_content(self.value).map_err(|found| {
            self.err(ErrorKind::InvalidValue {
                what: "BIT STRING",
                found,
            })
        })
    }

    /// OBJECT IDENTIFIER (X.690 §8.19).
    pub fn oid(&self) -> Result<Oid> {
        self.check_tag(tag::OID, "OBJECT IDENTIFIER")?;
        Oid::from_content(self.value).map_err(|found| {
            self.err(ErrorKind::InvalidValue {
                what: "OBJECT IDENTIFIER",
                found: found.to_string(),
            })
        })
    }

    /// A character string whose tag is one of `allowed`, as UTF-8 text.
    pub fn string(&self, allowed: &[u8], expected: &'static str) -> Result<&'a str> {
        if !allowed.contains(&self.tag) {
            return Err(WireError::new(
                self.format,
                self.offset,
                ErrorKind::UnexpectedTag {
                    expected,
                    found: self.tag,
                },
            ));
        }
        std::str::from_utf8(self.value).map_err(|e| {
            WireError::new(
                self.format,
                self.value_offset() + e.valid_up_to(),
                ErrorKind::InvalidValue {
                    what: "character string (UTF-8)",
                    found: "an invalid UTF-8 sequence".into(),
                },
            )
        })
    }
}

/// Reads consecutive DER elements from a slice; every error carries the
/// absolute offset (`base` + position).
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
    format: Format,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over a whole buffer (offsets start at 0).
    pub fn new(buf: &'a [u8], format: Format, what: &'static str) -> Self {
        Self::with_base(buf, 0, format, what)
    }

    /// A reader over a slice that starts at absolute offset `base`.
    pub fn with_base(buf: &'a [u8], base: usize, format: Format, what: &'static str) -> Self {
        Self {
            buf,
            pos: 0,
            base,
            format,
            what,
        }
    }

    /// Absolute offset of the next unread byte.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// The unread bytes.
    pub fn remaining(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    /// Consumes and returns every unread byte.
    pub fn take_rest(&mut self) -> &'a [u8] {
        let rest = self.remaining();
        self.pos = self.buf.len();
        rest
    }

    /// The identifier octet of the next element, if any.
    pub fn peek_tag(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// An error at the current position.
    pub fn error(&self, kind: ErrorKind) -> WireError {
        WireError::new(self.format, self.offset(), kind)
    }

    /// Reads the next element with strict header rules (X.690 §8.1.2-§8.1.3,
    /// §10.1): single-octet tag, definite minimal length, within the buffer.
    pub fn read(&mut self) -> Result<Tlv<'a>> {
        let start = self.pos;
        let rest = self.remaining();
        let Some(&tag_byte) = rest.first() else {
            return Err(self.error(ErrorKind::Missing {
                what: "a DER element",
                container: self.what,
            }));
        };
        if tag_byte & 0x1f == 0x1f {
            return Err(self.error(ErrorKind::HighTagNumber { found: tag_byte }));
        }
        let (len, len_octets) = parse_length(rest.get(1..).unwrap_or(&[]))
            .map_err(|kind| WireError::new(self.format, self.offset() + 1, kind))?;
        let header_len = 1 + len_octets;
        let available = rest.len() - header_len;
        if len > available {
            return Err(WireError::new(
                self.format,
                self.offset() + 1,
                ErrorKind::LengthOverrun {
                    length: len,
                    available,
                },
            ));
        }
        let total = header_len + len;
        let raw = rest.get(..total).unwrap_or(&[]);
        let value = raw.get(header_len..).unwrap_or(&[]);
        self.pos = start + total;
        Ok(Tlv {
            tag: tag_byte,
            offset: self.base + start,
            header_len,
            value,
            raw,
            format: self.format,
        })
    }

    /// Reads the next element and requires its tag to be `tag`.
    pub fn expect(&mut self, tag: u8, expected: &'static str) -> Result<Tlv<'a>> {
        match self.peek_tag() {
            None => Err(self.error(ErrorKind::Missing {
                what: expected,
                container: self.what,
            })),
            Some(t) if t != tag => Err(self.error(ErrorKind::UnexpectedTag { expected, found: t })),
            Some(_) => self.read(),
        }
    }

    /// Reads the next element only if its tag is `tag`.
    pub fn optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>> {
        if self.peek_tag() == Some(tag) {
            self.read().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Requires that everything has been read.
    pub fn finish(&self) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(ErrorKind::TrailingBytes {
                what: self.what,
                count: self.buf.len() - self.pos,
            }))
        }
    }

    /// Reads and ignores every remaining element: the unknown fields an
    /// ASN.1 extension marker (`...`) allows after the known ones.
    pub fn skip_extensions(&mut self) -> Result<()> {
        while !self.is_empty() {
            self.read()?;
        }
        Ok(())
    }
}

/// Parses DER length octets; returns (length, number of length octets).
/// Offsets in the returned error kind are relative to the length octets.
fn parse_length(b: &[u8]) -> std::result::Result<(usize, usize), ErrorKind> {
    let Some(&first) = b.first() else {
        return Err(ErrorKind::Truncated {
            what: "length octets",
            needed: 1,
            available: 0,
        });
    };
    if first < 0x80 {
        return Ok((usize::from(first), 1));
    }
    if first == 0x80 {
        return Err(ErrorKind::IndefiniteLength);
    }
    let n = usize::from(first & 0x7f);
    // X.690 §8.1.3.5 c): 0xFF is reserved. Anything over 4 octets is beyond
    // every cap in this crate (and over usize on 32-bit targets).
    if first == 0xff || n > 4 {
        return Err(ErrorKind::InvalidValue {
            what: "length",
            found: format!("{n} length octets"),
        });
    }
    let octets = b.get(1..=n).ok_or(ErrorKind::Truncated {
        what: "length octets",
        needed: n,
        available: b.len() - 1,
    })?;
    let len = octets
        .iter()
        .fold(0usize, |acc, &o| (acc << 8) | usize::from(o));
    // X.690 §10.1: the minimum number of octets.
    if octets.first() == Some(&0) || len < 0x80 {
        return Err(ErrorKind::NonMinimalLength {
            octets: n,
            length: len,
        });
    }
    Ok((len, 1 + n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_one(b: &[u8]) -> Result<Tlv<'_>> {
        Reader::new(b, Format::Der, "test").read()
    }

    #[test]
    fn reads_short_and_long_lengths() {
        let t = read_one(&[0x04, 0x02, 0xaa, 0xbb]).unwrap();
        assert_eq!((t.tag, t.header_len, t.value), (0x04, 2, &[0xaa, 0xbb][..]));
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([7u8; 0x80]);
        let t = read_one(&long).unwrap();
        assert_eq!((t.header_len, t.value.len()), (3, 0x80));
    }

    #[test]
    fn rejects_non_minimal_indefinite_high_tag_and_overrun() {
        assert_eq!(
            read_one(&[0x04, 0x81, 0x01, 0x00]).unwrap_err().kind,
            ErrorKind::NonMinimalLength {
                octets: 1,
                length: 1
            }
        );
        assert_eq!(
            read_one(&[0x04, 0x82, 0x00, 0x80]).unwrap_err().kind,
            ErrorKind::NonMinimalLength {
                octets: 2,
                length: 0x80
            }
        );
        assert_eq!(
            read_one(&[0x30, 0x80, 0, 0]).unwrap_err().kind,
            ErrorKind::IndefiniteLength
        );
        assert_eq!(
            read_one(&[0x1f, 0x81, 0x01, 0x00]).unwrap_err().kind,
            ErrorKind::HighTagNumber { found: 0x1f }
        );
        let e = read_one(&[0x30, 0x05, 0x01]).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::LengthOverrun {
                length: 5,
                available: 1
            }
        );
        assert_eq!(e.offset, 1);
        assert!(matches!(
            read_one(&[0x30, 0x85, 1, 2, 3, 4, 5]).unwrap_err().kind,
            ErrorKind::InvalidValue { what: "length", .. }
        ));
    }

    #[test]
    fn nested_reader_reports_absolute_offsets() {
        // SEQUENCE { [0] { INTEGER 5 }, trailing 0x00 inside }
        let b = [0x30, 0x07, 0xa0, 0x03, 0x02, 0x01, 0x05, 0x05, 0x00];
        let seq = read_one(&b).unwrap();
        let mut r = seq.reader("SEQUENCE");
        let ctx = r.expect(tag::context(0), "[0]").unwrap();
        assert_eq!(ctx.explicit_inner("[0]").unwrap().integer().unwrap(), 5);
        let e = r.finish().unwrap_err();
        assert_eq!(e.offset, 7);
        assert_eq!(
            e.kind,
            ErrorKind::TrailingBytes {
                what: "SEQUENCE",
                count: 2
            }
        );
    }

    #[test]
    fn expect_reports_missing_and_wrong_tag() {
        let mut r = Reader::new(&[0x02, 0x01, 0x00], Format::Kkdcp, "KDC-PROXY-MESSAGE");
        let e = r.expect(0xa0, "[0] kerb-message").unwrap_err();
        assert_eq!(
            e.to_string(),
            "kkdcp: at byte 0: expected [0] kerb-message, found tag 0x02"
        );
        r.read().unwrap();
        let e = r.expect(0xa0, "[0] kerb-message").unwrap_err();
        assert_eq!(
            e.to_string(),
            "kkdcp: at byte 3: expected [0] kerb-message, found end of KDC-PROXY-MESSAGE"
        );
    }
}
