//! aes128-cts-hmac-sha1-96 and aes256-cts-hmac-sha1-96 (enctypes 17/18,
//! RFC 3962) through `kerberos_crypto`.
//!
//! `kerberos_crypto` asserts on wrong key lengths and draws confounders from
//! `thread_rng` in its high-level API, so this module only calls its
//! low-level functions, with lengths validated by [`crate::Key`] and the
//! confounder supplied by the caller.

use kerberos_crypto::{AesSizes, aes_hmac_sha1, checksum_sha_aes};

use crate::error::CryptoError;
use crate::etype::EncType;

/// RFC 3962 §6: HMAC-SHA1 truncated to 96 bits.
pub(crate) const MAC_LEN: usize = 12;
/// AES block size, also the confounder length (RFC 3961 §5.3).
pub(crate) const BLOCK: usize = 16;

fn sizes(etype: EncType) -> AesSizes {
    if etype.key_len() == 32 {
        AesSizes::Aes256
    } else {
        AesSizes::Aes128
    }
}

/// RFC 3961 key usages are unsigned 32-bit numbers encoded big-endian;
/// `kerberos_crypto` takes them as `i32` and encodes the same four bytes.
fn usage_i32(usage: u32) -> i32 {
    i32::from_be_bytes(usage.to_be_bytes())
}

/// RFC 3961 §5.3 encrypt: `CTS(Ke, conf | pt) | HMAC-SHA1-96(Ki, conf | pt)`.
/// `key` and `confounder` lengths are validated by the caller.
pub(crate) fn encrypt(
    etype: EncType,
    key: &[u8],
    usage: u32,
    plaintext: &[u8],
    confounder: &[u8],
) -> Vec<u8> {
    aes_hmac_sha1::encrypt(key, usage_i32(usage), plaintext, confounder, &sizes(etype))
}

/// RFC 3961 §5.3 decrypt with integrity check.
pub(crate) fn decrypt(
    etype: EncType,
    key: &[u8],
    usage: u32,
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    // kerberos_crypto checks this too, but its error is a string; and the
    // length is what keeps its block splitting in bounds.
    if ciphertext.len() < BLOCK + MAC_LEN {
        return Err(CryptoError::CiphertextTooShort {
            etype: etype.id(),
            minimum: BLOCK + MAC_LEN,
            actual: ciphertext.len(),
        });
    }
    aes_hmac_sha1::decrypt(key, usage_i32(usage), ciphertext, &sizes(etype))
        .map_err(|_| CryptoError::IntegrityCheckFailed)
}

/// RFC 3962 §7 / RFC 3961 §5.4: hmac-sha1-96-aes128/256 with
/// `Kc = DK(key, usage | 0x99)`.
pub(crate) fn checksum(etype: EncType, key: &[u8], usage: u32, data: &[u8]) -> Vec<u8> {
    checksum_sha_aes(key, usage_i32(usage), data, &sizes(etype))
}

/// RFC 3962 §4 string-to-key with the default iteration count (4096):
/// `DK(PBKDF2-HMAC-SHA1(password, salt, 4096, keylen), "kerberos")`.
pub(crate) fn string_to_key_default(etype: EncType, password: &[u8], salt: &[u8]) -> Vec<u8> {
    aes_hmac_sha1::generate_key(password, salt, &sizes(etype))
}
