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
//! | [`gss`] | GSS-API framing (RFC 2743 §3.1), RFC 4121 tokens, OIDs |
//! | [`iakerb`] | IAKERB tokens (draft-ietf-kitten-iakerb-03) |
//! | [`spnego`] | SPNEGO (RFC 4178) incl. NegTokenInit2 (MS-SPNG) |
//! | [`ntlm`] | NTLM NEGOTIATE/CHALLENGE/AUTHENTICATE (MS-NLMP) |
//! | [`detect`], [`describe`], [`tree`] | format detection and decoded trees (`kerbside decode`) |
//! | [`fuzz`] | the no-panic fuzzer (`kerbside fuzz wire`) |
//!
//! Decoding is sans-IO and deterministic: bytes in, values or errors out.
//! Every error is a [`WireError`] whose `Display` is one line:
//! `<format>: at byte <offset>: <what was expected / found>`, with the
//! offset counted from the start of the buffer the caller passed.
//!
//! Notes for callers:
//! * decode Kerberos structures only with [`krb::decode`] /
//!   [`krb::decode_der`], never with `kerberos_asn1`'s `parse` (it panics
//!   on malformed input and ignores trailing bytes);
//! * the panic fence replaces the process panic hook once with one that
//!   chains to the previous hook and stays silent only on the thread that is
//!   inside a fenced call; it needs `panic = "unwind"` (the default);
//! * see [`krb`] for `kerberos_asn1` type pitfalls (PrincipalName display
//!   and equality, UInt32 range).

mod bytes;
pub mod der;
pub mod describe;
pub mod detect;
pub mod error;
mod fence;
pub mod fuzz;
pub mod gss;
pub mod iakerb;
pub mod kkdcp;
pub mod krb;
pub mod ntlm;
pub mod record;
pub mod spnego;
pub mod time;
pub mod tree;

pub use error::{ErrorKind, Format, WireError};
