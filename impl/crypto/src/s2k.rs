//! String-to-key parameters (s2kparams, as carried in ETYPE-INFO2) and the
//! AES-SHA1 string-to-key with an explicit iteration count.

use crate::error::CryptoError;
use crate::etype::EncType;

/// RFC 3962 §4: default PBKDF2 iteration count for enctypes 17/18.
pub const AES_SHA1_DEFAULT_ITERATIONS: u32 = 4096;
/// RFC 8009 §4: default PBKDF2 iteration count for enctypes 19/20.
pub const AES_SHA2_DEFAULT_ITERATIONS: u32 = 32768;
/// Upper bound on iteration counts taken from s2kparams. The parameters come
/// from the KDC (ETYPE-INFO2), so an unbounded count is a denial of service
/// on the client; MIT rejects counts at or above 2^24
/// (`MAX_ITERATION_COUNT` in lib/crypto/krb/s2k_pbkdf2.c) and so do we.
pub const MAX_ITERATIONS: u32 = 0x0100_0000;

/// The default s2kparams for an enctype: the 4-byte big-endian iteration
/// count for AES enctypes, empty for RC4.
pub fn default_s2kparams(etype: EncType) -> Vec<u8> {
    match default_iterations(etype) {
        Some(n) => n.to_be_bytes().to_vec(),
        None => Vec::new(),
    }
}

pub(crate) fn default_iterations(etype: EncType) -> Option<u32> {
    match etype {
        EncType::Aes128CtsHmacSha196 | EncType::Aes256CtsHmacSha196 => {
            Some(AES_SHA1_DEFAULT_ITERATIONS)
        }
        EncType::Aes128CtsHmacSha256128 | EncType::Aes256CtsHmacSha384192 => {
            Some(AES_SHA2_DEFAULT_ITERATIONS)
        }
        EncType::Rc4Hmac => None,
    }
}

/// The iteration count requested by `params` for an AES enctype (RFC 3962
/// §4, RFC 8009 §4: exactly four octets, an unsigned big-endian number).
/// Absent params mean the default. Zero (which RFC 3962 defines as 2^32)
/// and counts of 2^24 or more are refused.
pub(crate) fn iterations(etype: EncType, params: Option<&[u8]>) -> Result<u32, CryptoError> {
    let default = default_iterations(etype).unwrap_or(AES_SHA1_DEFAULT_ITERATIONS);
    let Some(p) = params else {
        return Ok(default);
    };
    let bytes: [u8; 4] = p.try_into().map_err(|_| CryptoError::InvalidS2kParams {
        etype: etype.id(),
        reason: "expected a 4-byte iteration count",
    })?;
    let n = u32::from_be_bytes(bytes);
    if n == 0 {
        return Err(CryptoError::InvalidS2kParams {
            etype: etype.id(),
            reason: "iteration count 0 (2^32) is not supported",
        });
    }
    if n >= MAX_ITERATIONS {
        return Err(CryptoError::InvalidS2kParams {
            etype: etype.id(),
            reason: "iteration count of 2^24 or more refused",
        });
    }
    Ok(n)
}

/// RFC 4757 string-to-key takes no parameters; MIT rejects non-empty ones.
pub(crate) fn check_rc4_params(params: Option<&[u8]>) -> Result<(), CryptoError> {
    match params {
        None | Some([]) => Ok(()),
        Some(_) => Err(CryptoError::InvalidS2kParams {
            etype: EncType::Rc4Hmac.id(),
            reason: "rc4-hmac string-to-key takes no parameters",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_validated() {
        let e = EncType::Aes256CtsHmacSha196;
        assert_eq!(iterations(e, None), Ok(4096));
        assert_eq!(iterations(EncType::Aes128CtsHmacSha256128, None), Ok(32768));
        assert_eq!(iterations(e, Some(&[0, 0, 0, 5])), Ok(5));
        assert!(iterations(e, Some(&[0, 0, 5])).is_err());
        assert!(iterations(e, Some(&[0, 0, 0, 0, 5])).is_err());
        assert!(iterations(e, Some(&[0, 0, 0, 0])).is_err());
        assert!(iterations(e, Some(&[1, 0, 0, 0])).is_err());
        assert_eq!(iterations(e, Some(&[0, 0xff, 0xff, 0xff])), Ok(0xff_ffff));
        assert!(check_rc4_params(Some(&[])).is_ok());
        assert!(check_rc4_params(Some(&[0, 0, 16, 0])).is_err());
        assert_eq!(default_s2kparams(e), vec![0, 0, 0x10, 0]);
        assert_eq!(default_s2kparams(EncType::Rc4Hmac), Vec::<u8>::new());
    }
}
