//! Thin, allocation-free wrappers over the RustCrypto primitives used by the
//! enctypes: HMAC with each hash, and the AES block cipher at both key sizes.

use aes::{Aes128, Aes256};
use cipher::generic_array::GenericArray;
use cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use hmac::{Hmac, Mac};

macro_rules! hmac_fn {
    ($name:ident, $hash:ty, $len:expr) => {
        /// HMAC over the concatenation of `parts`.
        pub(crate) fn $name(key: &[u8], parts: &[&[u8]]) -> [u8; $len] {
            // `Hmac::new_from_slice` accepts keys of every length (long keys
            // are hashed, short ones padded); it only fails for MACs with a
            // fixed key size, so the fallback below is never taken. Using
            // `<Hmac<_> as KeyInit>::new` would need a fixed-size array.
            let mut mac = match <Hmac<$hash> as Mac>::new_from_slice(key) {
                Ok(m) => m,
                Err(_) => return [0u8; $len],
            };
            for p in parts {
                mac.update(p);
            }
            mac.finalize().into_bytes().into()
        }
    };
}

hmac_fn!(hmac_md5, md5::Md5, 16);
hmac_fn!(hmac_sha1, sha1::Sha1, 20);
hmac_fn!(hmac_sha256, sha2::Sha256, 32);
hmac_fn!(hmac_sha384, sha2::Sha384, 48);

/// AES block size in bytes.
pub(crate) const AES_BLOCK: usize = 16;

/// An AES key schedule at either key size.
#[derive(Clone)]
pub(crate) enum Aes {
    // Boxed: the schedules (with the runtime AES-NI/soft fallback) are
    // hundreds of bytes and differ in size.
    A128(Box<Aes128>),
    A256(Box<Aes256>),
}

impl Aes {
    /// The key schedule for a 16- or 32-byte key; `None` for any other
    /// length (callers validate lengths before this, so `None` is a bug
    /// guard rather than a path).
    pub(crate) fn new(key: &[u8]) -> Option<Aes> {
        match key.len() {
            16 => Aes128::new_from_slice(key)
                .ok()
                .map(|a| Aes::A128(Box::new(a))),
            32 => Aes256::new_from_slice(key)
                .ok()
                .map(|a| Aes::A256(Box::new(a))),
            _ => None,
        }
    }

    /// AES-128 from a 16-byte key.
    pub(crate) fn aes128(key: &[u8; 16]) -> Aes {
        Aes::A128(Box::new(Aes128::new(key.into())))
    }

    /// AES-256 from a 32-byte key.
    pub(crate) fn aes256(key: &[u8; 32]) -> Aes {
        Aes::A256(Box::new(Aes256::new(key.into())))
    }

    /// Key length in bytes.
    pub(crate) fn key_len(&self) -> usize {
        match self {
            Aes::A128(_) => 16,
            Aes::A256(_) => 32,
        }
    }

    pub(crate) fn encrypt_block(&self, block: &mut [u8; AES_BLOCK]) {
        let b = GenericArray::from_mut_slice(block.as_mut_slice());
        match self {
            Aes::A128(a) => a.encrypt_block(b),
            Aes::A256(a) => a.encrypt_block(b),
        }
    }

    pub(crate) fn decrypt_block(&self, block: &mut [u8; AES_BLOCK]) {
        let b = GenericArray::from_mut_slice(block.as_mut_slice());
        match self {
            Aes::A128(a) => a.decrypt_block(b),
            Aes::A256(a) => a.decrypt_block(b),
        }
    }
}

/// `a ^= b` over the shorter of the two.
pub(crate) fn xor_in_place(a: &mut [u8], b: &[u8]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x ^= y;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_rfc2202_and_rfc4231_vectors() {
        // RFC 2202 test case 2 (HMAC-MD5 and HMAC-SHA1, key "Jefe").
        let d: &[u8] = b"what do ya want for nothing?";
        assert_eq!(
            hex::encode(hmac_md5(b"Jefe", &[d])),
            "750c783e6ab0b503eaa86e310a5db738"
        );
        assert_eq!(
            hex::encode(hmac_sha1(b"Jefe", &[&d[..4], &d[4..]])),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        // RFC 4231 test case 2.
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", &[d])),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(hmac_sha384(b"Jefe", &[d])),
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"
        );
    }

    #[test]
    fn aes_rejects_bad_key_lengths() {
        assert!(Aes::new(&[0; 15]).is_none());
        assert!(Aes::new(&[0; 24]).is_none());
        assert!(Aes::new(&[0; 16]).is_some());
    }
}
