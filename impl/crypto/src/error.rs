//! Typed errors for every crypto operation.
//!
//! Each variant that corresponds to a Kerberos failure maps to its RFC 4120
//! §7.5.9 error code through [`CryptoError::krb_error_code`], so a KDC or
//! acceptor can answer with the right KRB-ERROR without re-classifying.

use thiserror::Error;

/// RFC 4120 §7.5.9 error codes used by the mapping below.
mod code {
    pub(super) const KDC_ERR_ETYPE_NOSUPP: i32 = 14;
    pub(super) const KDC_ERR_SUMTYPE_NOSUPP: i32 = 15;
    pub(super) const KRB_AP_ERR_BAD_INTEGRITY: i32 = 31;
    pub(super) const KRB_AP_ERR_MODIFIED: i32 = 41;
    pub(super) const KRB_AP_ERR_INAPP_CKSUM: i32 = 50;
    pub(super) const KRB_ERR_GENERIC: i32 = 60;
}

/// Failure of a Kerberos crypto operation.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The enctype number is not one this crate implements.
    #[error("unsupported enctype {0}")]
    UnsupportedEncType(i32),
    /// The checksum type number is not one this crate implements.
    #[error("unsupported checksum type {0}")]
    UnsupportedChecksumType(i32),
    /// The checksum type exists but is not the one tied to this key's enctype
    /// (RFC 3961 §3: a keyed checksum belongs to one enctype family).
    #[error("checksum type {cksumtype} cannot be used with enctype {etype}")]
    InappropriateChecksumType {
        /// enctype of the key
        etype: i32,
        /// checksum type that was asked for
        cksumtype: i32,
    },
    /// Key material of the wrong length for its enctype.
    #[error("enctype {etype} needs a {expected}-byte key, got {actual} bytes")]
    InvalidKeyLength {
        /// enctype of the key
        etype: i32,
        /// required length
        expected: usize,
        /// supplied length
        actual: usize,
    },
    /// Confounder of the wrong length (16 for AES, 8 for RC4).
    #[error("enctype {etype} needs a {expected}-byte confounder, got {actual} bytes")]
    InvalidConfounderLength {
        /// enctype of the key
        etype: i32,
        /// required length
        expected: usize,
        /// supplied length
        actual: usize,
    },
    /// Ciphertext shorter than confounder + MAC (or one cipher block).
    #[error("enctype {etype} ciphertext of {actual} bytes is shorter than the minimum {minimum}")]
    CiphertextTooShort {
        /// enctype of the key
        etype: i32,
        /// minimum length
        minimum: usize,
        /// supplied length
        actual: usize,
    },
    /// The integrity check of a ciphertext failed: wrong key, wrong key usage
    /// or modified bytes (RFC 3961 §3 decrypt "integrity error").
    #[error("ciphertext integrity check failed (wrong key, wrong key usage or modified data)")]
    IntegrityCheckFailed,
    /// A checksum has the wrong length for its type.
    #[error("checksum type {cksumtype} is {expected} bytes, got {actual} bytes")]
    InvalidChecksumLength {
        /// checksum type
        cksumtype: i32,
        /// required length
        expected: usize,
        /// supplied length
        actual: usize,
    },
    /// A checksum did not verify.
    #[error("checksum mismatch")]
    ChecksumMismatch,
    /// Malformed string-to-key parameters (RFC 3962 §4, RFC 8009 §4: a 4-byte
    /// big-endian iteration count; RFC 4757: none).
    #[error("invalid string-to-key parameters for enctype {etype}: {reason}")]
    InvalidS2kParams {
        /// enctype
        etype: i32,
        /// what was wrong
        reason: &'static str,
    },
    /// An enctype name or number that could not be parsed.
    #[error("unknown enctype {0:?}")]
    UnknownEncTypeName(String),
}

impl CryptoError {
    /// The RFC 4120 §7.5.9 error code a KDC or acceptor reports for this
    /// failure.
    pub fn krb_error_code(&self) -> i32 {
        match self {
            CryptoError::UnsupportedEncType(_) | CryptoError::UnknownEncTypeName(_) => {
                code::KDC_ERR_ETYPE_NOSUPP
            }
            CryptoError::UnsupportedChecksumType(_) => code::KDC_ERR_SUMTYPE_NOSUPP,
            CryptoError::InappropriateChecksumType { .. } => code::KRB_AP_ERR_INAPP_CKSUM,
            CryptoError::CiphertextTooShort { .. } | CryptoError::IntegrityCheckFailed => {
                code::KRB_AP_ERR_BAD_INTEGRITY
            }
            CryptoError::InvalidChecksumLength { .. } | CryptoError::ChecksumMismatch => {
                code::KRB_AP_ERR_MODIFIED
            }
            CryptoError::InvalidKeyLength { .. }
            | CryptoError::InvalidConfounderLength { .. }
            | CryptoError::InvalidS2kParams { .. } => code::KRB_ERR_GENERIC,
        }
    }
}
