//! The one error type every decoder in this crate returns.
//!
//! A [`WireError`] always names the format being decoded, the absolute byte
//! offset (into the buffer the caller passed) where decoding stopped, and
//! what was expected or found there. Its `Display` is the single line the
//! CLI prints: `<format>: at byte <offset>: <what>`.

use std::fmt;

/// The wire format a decoder was working on when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[non_exhaustive]
pub enum Format {
    /// Generic DER structure (X.690 §10), before any schema is applied.
    Der,
    /// A Kerberos message or structure (RFC 4120 §5).
    Kerberos,
    /// The RFC 4120 §7.2.2 four-byte TCP record mark.
    RecordMark,
    /// MS-KKDCP §2.2.2 KDC-PROXY-MESSAGE.
    Kkdcp,
    /// RFC 2743 §3.1 GSS-API InitialContextToken framing and RFC 4121 tokens.
    Gss,
    /// draft-ietf-kitten-iakerb-03 IAKERB tokens.
    Iakerb,
    /// RFC 4178 / MS-SPNG SPNEGO tokens.
    Spnego,
    /// MS-NLMP NTLM messages.
    Ntlm,
}

impl Format {
    /// Short lower-case name used in messages and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Format::Der => "der",
            Format::Kerberos => "kerberos",
            Format::RecordMark => "record-mark",
            Format::Kkdcp => "kkdcp",
            Format::Gss => "gss",
            Format::Iakerb => "iakerb",
            Format::Spnego => "spnego",
            Format::Ntlm => "ntlm",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What went wrong, with enough detail to name what was expected and found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended inside a field.
    #[error("expected {needed} more byte(s) for {what}, found {available}")]
    Truncated {
        what: &'static str,
        needed: usize,
        available: usize,
    },
    /// Bytes remain after a complete value.
    #[error("expected end of {what}, found {count} trailing byte(s)")]
    TrailingBytes { what: &'static str, count: usize },
    /// A tag other than the one the schema requires.
    #[error("expected {expected}, found tag 0x{found:02x}")]
    UnexpectedTag { expected: &'static str, found: u8 },
    /// A required element is absent.
    #[error("expected {what}, found end of {container}")]
    Missing {
        what: &'static str,
        container: &'static str,
    },
    /// X.690 §8.1.2.4 high-tag-number form; no format here uses tags above 30.
    #[error("expected a single-octet tag, found high-tag-number form (0x{found:02x})")]
    HighTagNumber { found: u8 },
    /// X.690 §10.1: DER forbids the indefinite length form.
    #[error("expected a definite length, found the indefinite form (0x80)")]
    IndefiniteLength,
    /// X.690 §10.1: DER lengths use the fewest octets possible.
    #[error(
        "expected a minimal length encoding, found {octets} length octet(s) for length {length}"
    )]
    NonMinimalLength { octets: usize, length: usize },
    /// A length that does not fit in the enclosing element.
    #[error("expected a length of at most {available}, found {length}")]
    LengthOverrun { length: usize, available: usize },
    /// Nesting deeper than the decoder allows (protects the stack).
    #[error("expected at most {limit} levels of nesting, found more")]
    TooDeep { limit: usize },
    /// A message larger than the configured cap.
    #[error("expected at most {limit} bytes, found {size}")]
    TooLarge { size: usize, limit: usize },
    /// A primitive value whose content is not valid for its type.
    #[error("expected a valid {what}, found {found}")]
    InvalidValue { what: &'static str, found: String },
    /// A value that decodes but is not in the unique DER encoding (X.690 §10):
    /// re-encoding it gives different bytes from this offset on.
    #[error("expected canonical DER for {what}, found a different encoding")]
    NonCanonical { what: String },
    /// The schema decoder (kerberos_asn1) rejected the structure.
    #[error("expected a valid {what}, decoder said: {message}")]
    Rejected { what: String, message: String },
    /// A panic inside a third-party decoder, caught by the fence. Every such
    /// case is a bug in the validator in front of it; the fuzzer reports it.
    #[error("decoder panicked on {what} (caught): {message}")]
    DecoderPanic { what: String, message: String },
    /// RFC 4120 §7.2.2: the high bit of the record mark is reserved.
    #[error("expected the record mark's high bit clear, found 0x{value:08x}")]
    RecordMarkHighBit { value: u32 },
    /// A length prefix that disagrees with the data it frames.
    #[error("expected {what} of {declared} byte(s), found {actual}")]
    LengthMismatch {
        what: &'static str,
        declared: usize,
        actual: usize,
    },
    /// MS-KKDCP §2.2.2: kerb-message must start with the RFC 4120 §7.2.2
    /// length; this one is a bare Kerberos message (Apple's client, kdcproxy#61).
    #[error("expected a 4-byte length prefix, found a bare Kerberos message (tag 0x{tag:02x})")]
    MissingLengthPrefix { tag: u8 },
    /// A constant (signature, token id, version) with the wrong value.
    #[error("expected {what} {expected}, found {found}")]
    BadConstant {
        what: &'static str,
        expected: String,
        found: String,
    },
    /// An offset/length pair that points outside the message (MS-NLMP fields).
    #[error(
        "expected {field} (offset {field_offset}, length {len}) inside the {total}-byte message"
    )]
    FieldOutOfBounds {
        field: &'static str,
        field_offset: usize,
        len: usize,
        total: usize,
    },
    /// None of the known formats matched.
    #[error("expected a Kerberos, KKDCP, GSS/IAKERB, SPNEGO or NTLM message, found {found}")]
    UnknownFormat { found: String },
}

/// A decoding failure: which format, where, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{format}: at byte {offset}: {kind}")]
pub struct WireError {
    /// The format being decoded.
    pub format: Format,
    /// Absolute offset into the caller's buffer.
    pub offset: usize,
    /// What was expected / found.
    pub kind: ErrorKind,
}

impl WireError {
    /// A new error.
    pub fn new(format: Format, offset: usize, kind: ErrorKind) -> Self {
        Self {
            format,
            offset,
            kind,
        }
    }

    /// The same error seen from an outer buffer in which the inner one
    /// started at `base` (used when a decoder hands a sub-slice to another).
    #[must_use]
    pub fn shifted(mut self, base: usize) -> Self {
        self.offset = self.offset.saturating_add(base);
        self
    }

    /// The same error attributed to another format (e.g. a DER structure
    /// error found while decoding a KKDCP message).
    #[must_use]
    pub fn in_format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// True when a decoder panicked and the fence caught it.
    pub fn is_decoder_panic(&self) -> bool {
        matches!(self.kind, ErrorKind::DecoderPanic { .. })
    }
}

/// Shorthand used throughout the crate.
pub type Result<T, E = WireError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_with_format_offset_and_expectation() {
        let e = WireError::new(
            Format::Kkdcp,
            17,
            ErrorKind::UnexpectedTag {
                expected: "[0] kerb-message",
                found: 0xa1,
            },
        );
        assert_eq!(
            e.to_string(),
            "kkdcp: at byte 17: expected [0] kerb-message, found tag 0xa1"
        );
        assert!(!e.to_string().contains('\n'));
    }

    #[test]
    fn shifted_adds_base_offset() {
        let e = WireError::new(
            Format::Kerberos,
            3,
            ErrorKind::TrailingBytes {
                what: "message",
                count: 1,
            },
        )
        .shifted(8)
        .in_format(Format::Kkdcp);
        assert_eq!(e.offset, 11);
        assert_eq!(e.format, Format::Kkdcp);
    }
}
