//! Pseudo-random functions (RFC 3961 §3 "pseudo-random") and KRB-FX-CF2
//! (RFC 6113 §5.1).

use sha1::{Digest, Sha1};

use crate::aes_sha2;
use crate::dk::dk;
use crate::error::CryptoError;
use crate::key::{Family, Key};
use crate::primitives::{AES_BLOCK, hmac_sha1};

/// The enctype's PRF over `input`.
///
/// * 17/18, RFC 3962 §5: `AES(DK(key, "prf"), truncate16(SHA-1(input)))`,
///   16 bytes (one block encrypted with the zero cipher state).
/// * 19/20, RFC 8009 §5: `KDF-HMAC-SHA2(key, "prf", input, 256 | 384)`.
/// * 23: `HMAC-SHA1(key, input)`, 20 bytes (RFC 4757 defines no PRF; this
///   is MIT's `krb5int_arcfour_prf`, which the RFC 6113 vector uses).
pub(crate) fn prf(key: &Key, input: &[u8]) -> Vec<u8> {
    let kb = key.bytes();
    match key.family() {
        Family::AesSha1(base) => {
            let aes = dk(base, b"prf").cipher();
            let digest: [u8; 20] = Sha1::digest(input).into();
            let mut block = [0u8; AES_BLOCK];
            block.copy_from_slice(&digest[..AES_BLOCK]);
            aes.encrypt_block(&mut block);
            block.to_vec()
        }
        Family::AesSha2 => aes_sha2::prf(key.etype(), kb, input),
        Family::Rc4 => hmac_sha1(kb, &[input]).to_vec(),
    }
}

/// RFC 6113 §5.1 `PRF+(key, shared-info) = pseudo-random(key, 1 | info) |
/// pseudo-random(key, 2 | info) | ...`, truncated to `len` bytes. The
/// counter is one octet.
pub fn prf_plus(key: &Key, shared_info: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 48);
    let mut input = Vec::with_capacity(1 + shared_info.len());
    input.push(1u8);
    input.extend_from_slice(shared_info);
    while out.len() < len {
        let block = prf(key, &input);
        if block.is_empty() {
            break;
        }
        out.extend_from_slice(&block);
        input[0] = input[0].wrapping_add(1);
    }
    out.truncate(len);
    out
}

/// KRB-FX-CF2 (RFC 6113 §5.1): combine two keys into one of `k1`'s enctype,
/// `random-to-key(PRF+(k1, pepper1) ^ PRF+(k2, pepper2))`. Used by FAST
/// (armor key, reply key strengthening).
pub fn cf2(k1: &Key, k2: &Key, pepper1: &[u8], pepper2: &[u8]) -> Result<Key, CryptoError> {
    let len = k1.etype().key_len();
    let mut a = prf_plus(k1, pepper1, len);
    let b = prf_plus(k2, pepper2, len);
    for (x, y) in a.iter_mut().zip(&b) {
        *x ^= y;
    }
    // random-to-key is the identity for every enctype here.
    Key::new(k1.etype(), a)
}
