//! Key derivation for the RFC 3961 simplified profile (enctypes 17/18):
//! `DK(key, constant) = random-to-key(DR(key, constant))` (RFC 3961 §5.1).

use crate::nfold::nfold_into;
use crate::primitives::{AES_BLOCK, Aes};

/// A derived AES-SHA1 key: 16 or 32 bytes, the size of its base key.
#[derive(Clone)]
pub(crate) struct Derived {
    bytes: [u8; 32],
    len: usize,
}

impl Derived {
    /// The derived key bytes (Ki and Kc are used as HMAC keys).
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The derived key as an AES key schedule (Ke, Kprf).
    pub(crate) fn cipher(&self) -> Aes {
        if self.len == 16 {
            let mut k = [0u8; 16];
            k.copy_from_slice(&self.bytes[..16]);
            Aes::aes128(&k)
        } else {
            Aes::aes256(&self.bytes)
        }
    }
}

/// `DK(base, constant)`: encrypt `n-fold(constant, 128)` with the base key,
/// then keep encrypting the previous output block, concatenating until the
/// base key's length is reached. For AES the "encryption" of one block with
/// the zero initial state is plain AES (RFC 3962 §5) and random-to-key is
/// the identity (RFC 3962 §6), so DK = DR.
pub(crate) fn dk(base: &Aes, constant: &[u8]) -> Derived {
    let mut block = [0u8; AES_BLOCK];
    nfold_into(constant, &mut block);
    let mut out = Derived {
        bytes: [0u8; 32],
        len: base.key_len(),
    };
    for chunk in out.bytes[..out.len].chunks_exact_mut(AES_BLOCK) {
        base.encrypt_block(&mut block);
        chunk.copy_from_slice(&block);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// MIT t_derive.c-style check through the RFC 3962 string-to-key
    /// vectors lives in tests/rfc_vectors.rs; here: DK of a 256-bit key is
    /// two chained blocks.
    #[test]
    fn dk_chains_blocks_for_256_bit_keys() {
        let base = Aes::aes256(&[1u8; 32]);
        let d = dk(&base, b"kerberos");
        let mut b1 = [0u8; 16];
        nfold_into(b"kerberos", &mut b1);
        base.encrypt_block(&mut b1);
        let mut b2 = b1;
        base.encrypt_block(&mut b2);
        assert_eq!(&d.bytes()[..16], &b1);
        assert_eq!(&d.bytes()[16..], &b2);
    }
}
