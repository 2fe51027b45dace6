//! Whole-tree DER validation.
//!
//! This is the first of the two layers in front of `kerberos_asn1` (the
//! second is the `catch_unwind` fence in `crate::fence`). It makes the
//! crate's known panics unreachable (reference/crates.md §2.4):
//! * invalid GeneralizedTime digits/dates (chrono panics): every 0x18 must be
//!   a real `YYYYMMDDHHMMSSZ` (RFC 4120 §5.2.3);
//! * an OPTIONAL field whose length overshoots its container (`split_at`
//!   panic in the derive): every length must fit exactly in its parent;
//! * high-tag-number tags (u8 shift overflow): rejected outright;
//! * BIT STRING with 8 unused bits (shift overflow): 0..=7 only.

use super::reader::{Reader, Tlv};
use super::tag;
use super::values;
use crate::error::{ErrorKind, Format, Result, WireError};

/// Size and depth bounds for [`validate_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted input in bytes.
    pub max_size: usize,
    /// Deepest accepted nesting of constructed elements.
    pub max_depth: usize,
}

impl Limits {
    /// 1 MiB: well above any Kerberos message (MIT clients give up on
    /// KKDCP replies over 1 MiB; KDC TCP messages are capped lower by
    /// `crate::record`) and small enough to bound work per message.
    pub const DEFAULT_MAX_SIZE: usize = 1 << 20;
    /// Kerberos messages nest about 12 deep (TGS-REP > ticket > enc-part >
    /// ...); 32 leaves room and bounds recursion.
    pub const DEFAULT_MAX_DEPTH: usize = 32;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_size: Self::DEFAULT_MAX_SIZE,
            max_depth: Self::DEFAULT_MAX_DEPTH,
        }
    }
}

/// Validates that `bytes` is exactly one well-formed DER element under the
/// default [`Limits`].
pub fn validate(bytes: &[u8], format: Format) -> Result<()> {
    validate_with(bytes, format, &Limits::default())
}

/// Validates that `bytes` is exactly one well-formed DER element.
pub fn validate_with(bytes: &[u8], format: Format, limits: &Limits) -> Result<()> {
    if bytes.len() > limits.max_size {
        return Err(WireError::new(
            format,
            0,
            ErrorKind::TooLarge {
                size: bytes.len(),
                limit: limits.max_size,
            },
        ));
    }
    let mut r = Reader::new(bytes, format, "message");
    let top = r.read()?;
    r.finish()?;
    walk(&top, 1, limits)
}

fn walk(t: &Tlv<'_>, depth: usize, limits: &Limits) -> Result<()> {
    if depth > limits.max_depth {
        return Err(WireError::new(
            t.format,
            t.offset,
            ErrorKind::TooDeep {
                limit: limits.max_depth,
            },
        ));
    }
    check_form(t)?;
    if t.is_constructed() {
        let mut r = t.reader("constructed element");
        while !r.is_empty() {
            let child = r.read()?;
            walk(&child, depth + 1, limits)?;
        }
        Ok(())
    } else {
        check_primitive(t)
    }
}

/// X.690 §10.2 and §8.1.2: universal types have a fixed form in DER.
fn check_form(t: &Tlv<'_>) -> Result<()> {
    let universal = t.tag & 0xc0 == 0;
    if !universal {
        return Ok(());
    }
    let number = t.tag & 0x1f;
    let must_be_constructed = matches!(number, 0x10 | 0x11);
    let bad = number == 0 || must_be_constructed != t.is_constructed();
    if bad {
        let found = if number == 0 {
            "end-of-contents (only valid with indefinite lengths)".to_string()
        } else if must_be_constructed {
            "a primitive SEQUENCE/SET".to_string()
        } else {
            format!("a constructed encoding of universal type {number}")
        };
        return Err(WireError::new(
            t.format,
            t.offset,
            ErrorKind::InvalidValue {
                what: "DER element form",
                found,
            },
        ));
    }
    Ok(())
}

fn check_primitive(t: &Tlv<'_>) -> Result<()> {
    let checked = match t.tag {
        tag::BOOLEAN => values::boolean(t.value)
            .map(drop)
            .map_err(|f| ("BOOLEAN", f)),
        tag::INTEGER => values::check_integer(t.value).map_err(|f| ("INTEGER", f)),
        tag::ENUMERATED => values::check_integer(t.value).map_err(|f| ("ENUMERATED", f)),
        tag::BIT_STRING => values::BitString::from_content(t.value)
            .map(drop)
            .map_err(|f| ("BIT STRING", f)),
        tag::NULL => values::null(t.value).map_err(|f| ("NULL", f)),
        tag::OID => super::Oid::from_content(t.value)
            .map(drop)
            .map_err(|f| ("OBJECT IDENTIFIER", f.to_string())),
        tag::GENERALIZED_TIME => values::kerberos_time(t.value).map_err(|f| ("KerberosTime", f)),
        tag::UTF8_STRING => std::str::from_utf8(t.value)
            .map(drop)
            .map_err(|_| ("UTF8String", "invalid UTF-8".to_string())),
        _ => Ok(()),
    };
    checked.map_err(|(what, found)| {
        WireError::new(
            t.format,
            t.value_offset(),
            ErrorKind::InvalidValue { what, found },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(hex: &str) -> Result<()> {
        validate(&hex::decode(hex).unwrap(), Format::Der)
    }

    #[test]
    fn accepts_well_formed_trees() {
        v("3006020105040100").unwrap();
        v("a011180f32303236303130323033303430355a").unwrap();
        v("300ca00a0408524553504f4e5345").unwrap();
        v("0500").unwrap();
    }

    #[test]
    fn rejects_the_kerberos_asn1_panic_triggers() {
        // reference/crates.md §2.4, minimal overshooting OPTIONAL as PaEncTsEnc
        let e = v("3018a011180f32303236303130323033303430355aa104020101").unwrap_err();
        assert!(matches!(e.kind, ErrorKind::LengthOverrun { .. }), "{e}");
        // month 13 / hour 25
        let e = v("180f32303236313330323033303430355a").unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(matches!(
            e.kind,
            ErrorKind::InvalidValue {
                what: "KerberosTime",
                ..
            }
        ));
        assert!(v("180f32303236303130323235303430355a").is_err());
        // high tag number
        assert!(matches!(
            v("1fffff0100").unwrap_err().kind,
            ErrorKind::HighTagNumber { .. }
        ));
        // BIT STRING padding 8
        assert!(v("03050800000000").is_err());
    }

    #[test]
    fn rejects_structure_errors_with_offsets() {
        let e = v("3003020105ff").unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::TrailingBytes {
                what: "message",
                count: 1
            }
        );
        assert_eq!(e.offset, 5);
        // a child whose length runs past the end of its parent
        let e = v("30050201050403").unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::LengthOverrun {
                length: 3,
                available: 0
            }
        );
        assert_eq!(e.offset, 6);
        let e = v("300402010504").unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Truncated { .. }), "{e}");
        assert_eq!(e.offset, 6);
        assert!(
            v("2403040100").is_err(),
            "constructed OCTET STRING is not DER"
        );
        assert!(v("1000").is_err(), "primitive SEQUENCE is not DER");
        assert!(v("0000").is_err(), "end-of-contents is not DER");
        assert!(v("01010f").is_err(), "BOOLEAN must be 00 or ff");
        assert!(v("02020005").is_err(), "non-minimal INTEGER");
    }

    #[test]
    fn enforces_size_and_depth_limits() {
        let mut deep = Vec::new();
        for _ in 0..40 {
            let mut next = vec![0x30];
            encode(&mut next, deep.len());
            next.extend_from_slice(&deep);
            deep = next;
        }
        let e = validate(&deep, Format::Der).unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooDeep { limit: 32 });
        let limits = Limits {
            max_size: 4,
            max_depth: 8,
        };
        let e = validate_with(&[0x04, 0x03, 1, 2, 3], Format::Der, &limits).unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooLarge { size: 5, limit: 4 });
    }

    fn encode(out: &mut Vec<u8>, len: usize) {
        super::super::encode_length(len, out);
    }
}
