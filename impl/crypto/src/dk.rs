//! Key derivation for the RFC 3961 simplified profile (enctypes 17/18):
//! `DK(key, constant) = random-to-key(DR(key, constant))` (RFC 3961 §5.1).

use crate::nfold::nfold_into;
use crate::primitives::{AES_BLOCK, Aes};

/// `DR(key, constant)`: encrypt `n-fold(constant, 128)` with the base key,
/// then keep encrypting the previous output block, concatenating until
/// `key.len()` bytes are produced. For AES the "encryption" of a single
/// block with the zero initial state is plain AES (RFC 3962 §5), and
/// random-to-key is the identity (RFC 3962 §6), so DK = DR.
///
/// Returns `None` only for a key length AES does not have (callers validate).
pub(crate) fn dk(key: &[u8], constant: &[u8]) -> Option<Vec<u8>> {
    let aes = Aes::new(key)?;
    Some(dk_with(&aes, key.len(), constant))
}

/// [`dk`] with an existing key schedule, producing `out_len` bytes.
pub(crate) fn dk_with(aes: &Aes, out_len: usize, constant: &[u8]) -> Vec<u8> {
    let mut block = [0u8; AES_BLOCK];
    nfold_into(constant, &mut block);
    let mut out = Vec::with_capacity(out_len.next_multiple_of(AES_BLOCK));
    while out.len() < out_len {
        aes.encrypt_block(&mut block);
        out.extend_from_slice(&block);
    }
    out.truncate(out_len);
    out
}

/// The 5-byte well-known constant `usage | tag` of RFC 3961 §5.3 / RFC 8009
/// §5 (tag 0x99 for Kc, 0xAA for Ke, 0x55 for Ki).
pub(crate) fn usage_constant(usage: u32, tag: u8) -> [u8; 5] {
    let u = usage.to_be_bytes();
    [u[0], u[1], u[2], u[3], tag]
}

/// RFC 3961 §5.3 / RFC 8009 §5 derived-key tags.
pub(crate) const TAG_KC: u8 = 0x99;
pub(crate) const TAG_KE: u8 = 0xAA;
pub(crate) const TAG_KI: u8 = 0x55;
