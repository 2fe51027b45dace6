//! A small, strict DER (X.690 §10) reader and writer.
//!
//! The hand-written codecs (KKDCP, GSS framing, IAKERB, SPNEGO) read with
//! [`Reader`] and write with [`Writer`]; [`validate`] walks a whole DER tree
//! and is what stands in front of `kerberos_asn1`, whose parser panics on
//! some malformed input (see `crate::krb`).
//!
//! Strictness, in one place: single-octet tags only (no format here uses
//! tags above 30), definite minimal lengths, every element exactly inside its
//! parent, no trailing bytes, DER primitive/constructed rules for universal
//! types, minimal INTEGERs, BOOLEAN 00/FF, BIT STRING padding rules,
//! well-formed OBJECT IDENTIFIERs and RFC 4120 §5.2.3 KerberosTime.

mod oid;
mod reader;
mod validate;
mod values;
mod writer;

pub use oid::Oid;
pub use reader::{Reader, Tlv};
pub use validate::{Limits, validate, validate_with};
pub use values::BitString;
pub use writer::{Writer, encode_length};

/// Universal and context tag bytes used by the codecs in this crate.
pub mod tag {
    /// BOOLEAN (X.690 §8.2).
    pub const BOOLEAN: u8 = 0x01;
    /// INTEGER (X.690 §8.3).
    pub const INTEGER: u8 = 0x02;
    /// BIT STRING (X.690 §8.6).
    pub const BIT_STRING: u8 = 0x03;
    /// OCTET STRING (X.690 §8.7).
    pub const OCTET_STRING: u8 = 0x04;
    /// NULL (X.690 §8.8).
    pub const NULL: u8 = 0x05;
    /// OBJECT IDENTIFIER (X.690 §8.19).
    pub const OID: u8 = 0x06;
    /// ENUMERATED (X.690 §8.4).
    pub const ENUMERATED: u8 = 0x0a;
    /// UTF8String.
    pub const UTF8_STRING: u8 = 0x0c;
    /// IA5String.
    pub const IA5_STRING: u8 = 0x16;
    /// GeneralizedTime (KerberosTime, RFC 4120 §5.2.3).
    pub const GENERALIZED_TIME: u8 = 0x18;
    /// GeneralString (KerberosString, RFC 4120 §5.2.1).
    pub const GENERAL_STRING: u8 = 0x1b;
    /// SEQUENCE / SEQUENCE OF (constructed).
    pub const SEQUENCE: u8 = 0x30;
    /// SET / SET OF (constructed).
    pub const SET: u8 = 0x31;

    /// `[n]` EXPLICIT context tag (constructed), n in 0..=30.
    pub const fn context(n: u8) -> u8 {
        0xa0 | (n & 0x1f)
    }

    /// `[APPLICATION n]` constructed tag, n in 0..=30.
    pub const fn application(n: u8) -> u8 {
        0x60 | (n & 0x1f)
    }

    /// True when the constructed bit (X.690 §8.1.2.5) is set.
    pub const fn is_constructed(tag: u8) -> bool {
        tag & 0x20 != 0
    }
}
