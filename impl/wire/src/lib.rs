//! Every kerbside wire format, with one safe decode entry point per format:
//! arbitrary bytes give `Ok` or a typed [`WireError`], never a panic.
//!
//! | module | format |
//! |---|---|
//! | [`der`] | strict DER reader/writer/validator (X.690 §10) |
//! | [`krb`] | Kerberos V5 messages (RFC 4120) via `kerberos_asn1` |
//! | [`time`] | `SystemTime` <-> KerberosTime |
//! | [`record`] | TCP record mark (RFC 4120 §7.2.2) |
//! | [`kkdcp`] | KDC-PROXY-MESSAGE (MS-KKDCP §2.2.2) |
//!
//! Decoding is sans-IO and deterministic: bytes in, values or errors out.

pub mod der;
pub mod error;
mod fence;
pub mod kkdcp;
pub mod krb;
pub mod record;
pub mod time;

pub use error::{ErrorKind, Format, WireError};
