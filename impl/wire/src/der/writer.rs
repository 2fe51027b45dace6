//! DER writer: definite minimal lengths, content built inside closures so
//! nested lengths are always right.

use super::oid::Oid;
use super::tag;
use super::values::BitString;

/// Appends DER length octets for `len` (X.690 §8.1.3, §10.1).
pub fn encode_length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    let significant = bytes.get(skip..).unwrap_or(&[]);
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

/// `tag len content` as a new vector.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    encode_length(content.len(), &mut out);
    out.extend_from_slice(content);
    out
}

/// Minimal two's-complement content octets for an integer (X.690 §8.3.2).
fn integer_content(v: i64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0x00 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    bytes[start..].to_vec()
}

/// Builds DER output. Constructed elements take a closure that writes their
/// content into a fresh writer; the length is known when it returns.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    out: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes written.
    pub fn finish(self) -> Vec<u8> {
        self.out
    }

    /// Appends pre-encoded bytes verbatim (an already-DER element).
    pub fn raw(&mut self, der: &[u8]) -> &mut Self {
        self.out.extend_from_slice(der);
        self
    }

    /// A primitive element with the given tag and content.
    pub fn primitive(&mut self, tag: u8, content: &[u8]) -> &mut Self {
        self.out.push(tag);
        encode_length(content.len(), &mut self.out);
        self.out.extend_from_slice(content);
        self
    }

    /// A constructed element whose content `f` writes.
    pub fn constructed(&mut self, tag: u8, f: impl FnOnce(&mut Writer)) -> &mut Self {
        let mut inner = Writer::new();
        f(&mut inner);
        self.primitive(tag, &inner.out)
    }

    /// SEQUENCE { ... }.
    pub fn sequence(&mut self, f: impl FnOnce(&mut Writer)) -> &mut Self {
        self.constructed(tag::SEQUENCE, f)
    }

    /// `[n]` EXPLICIT wrapper around what `f` writes.
    pub fn explicit(&mut self, n: u8, f: impl FnOnce(&mut Writer)) -> &mut Self {
        self.constructed(tag::context(n), f)
    }

    /// INTEGER.
    pub fn integer(&mut self, v: i64) -> &mut Self {
        self.primitive(tag::INTEGER, &integer_content(v))
    }

    /// ENUMERATED.
    pub fn enumerated(&mut self, v: i64) -> &mut Self {
        self.primitive(tag::ENUMERATED, &integer_content(v))
    }

    /// BOOLEAN (DER TRUE = 0xFF).
    pub fn boolean(&mut self, v: bool) -> &mut Self {
        self.primitive(tag::BOOLEAN, &[if v { 0xff } else { 0x00 }])
    }

    /// OCTET STRING.
    pub fn octet_string(&mut self, v: &[u8]) -> &mut Self {
        self.primitive(tag::OCTET_STRING, v)
    }

    /// BIT STRING.
    pub fn bit_string(&mut self, v: &BitString) -> &mut Self {
        self.primitive(tag::BIT_STRING, &v.to_content())
    }

    /// OBJECT IDENTIFIER.
    pub fn oid(&mut self, v: &Oid) -> &mut Self {
        self.primitive(tag::OID, v.as_bytes())
    }

    /// GeneralString (KerberosString, RFC 4120 §5.2.1).
    pub fn general_string(&mut self, v: &str) -> &mut Self {
        self.primitive(tag::GENERAL_STRING, v.as_bytes())
    }

    /// UTF8String.
    pub fn utf8_string(&mut self, v: &str) -> &mut Self {
        self.primitive(tag::UTF8_STRING, v.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_minimal() {
        let enc = |n| {
            let mut v = Vec::new();
            encode_length(n, &mut v);
            v
        };
        assert_eq!(enc(0), [0x00]);
        assert_eq!(enc(127), [0x7f]);
        assert_eq!(enc(128), [0x81, 0x80]);
        assert_eq!(enc(255), [0x81, 0xff]);
        assert_eq!(enc(256), [0x82, 0x01, 0x00]);
        assert_eq!(enc(65536), [0x83, 0x01, 0x00, 0x00]);
    }

    #[test]
    fn integers_are_minimal() {
        assert_eq!(integer_content(0), [0x00]);
        assert_eq!(integer_content(127), [0x7f]);
        assert_eq!(integer_content(128), [0x00, 0x80]);
        assert_eq!(integer_content(-1), [0xff]);
        assert_eq!(integer_content(-129), [0xff, 0x7f]);
        assert_eq!(integer_content(i64::MIN), i64::MIN.to_be_bytes());
        for v in [
            0i64,
            1,
            -1,
            127,
            128,
            -128,
            -129,
            255,
            256,
            0x7fff_ffff,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(super::super::values::integer(&integer_content(v)), Ok(v));
        }
    }

    #[test]
    fn nested_writer_produces_expected_bytes() {
        let mut w = Writer::new();
        w.sequence(|w| {
            w.explicit(0, |w| {
                w.octet_string(b"RESPONSE");
            });
        });
        // MS-KKDCP response framing from kdcproxy's tests (protocols.md §1.2 K2)
        assert_eq!(hex::encode(w.finish()), "300ca00a0408524553504f4e5345");
    }
}
