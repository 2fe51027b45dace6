//! aes128-cts-hmac-sha256-128 and aes256-cts-hmac-sha384-192 (enctypes
//! 19/20, RFC 8009) on RustCrypto primitives: `kerberos_crypto` has neither.

use subtle::ConstantTimeEq;

use crate::cts;
use crate::dk::{TAG_KC, TAG_KE, TAG_KI, usage_constant};
use crate::error::CryptoError;
use crate::etype::EncType;
use crate::primitives::{AES_BLOCK, Aes, hmac_sha256, hmac_sha384};

/// Largest HMAC output (SHA-384).
const MAX_HASH: usize = 48;

/// RFC 8009 §3: `KDF-HMAC-SHA2(key, label, [context,] k)
///   = k-truncate(HMAC(key, 00000001 | label | 00 | context | k))`
/// with `k` the output length in bits as a 32-bit big-endian number. The
/// hash is SHA-256 for enctype 19 and SHA-384 for enctype 20.
pub(crate) fn kdf(
    etype: EncType,
    key: &[u8],
    label: &[u8],
    context: &[u8],
    k_bytes: usize,
) -> Vec<u8> {
    let k_bits = u32::try_from(k_bytes * 8).unwrap_or(u32::MAX).to_be_bytes();
    let parts: [&[u8]; 5] = [&[0, 0, 0, 1], label, &[0], context, &k_bits];
    let mut full = [0u8; MAX_HASH];
    let hlen = hash_into(etype, key, &parts, &mut full);
    full[..k_bytes.min(hlen)].to_vec()
}

fn hash_into(etype: EncType, key: &[u8], parts: &[&[u8]], out: &mut [u8; MAX_HASH]) -> usize {
    if etype == EncType::Aes256CtsHmacSha384192 {
        out.copy_from_slice(&hmac_sha384(key, parts));
        48
    } else {
        out[..32].copy_from_slice(&hmac_sha256(key, parts));
        32
    }
}

/// RFC 8009 §5: integrity tag length h (128 or 192 bits); also the Kc and
/// Ki length.
fn mac_len(etype: EncType) -> usize {
    etype.checksum_len()
}

/// Ke (as an AES key schedule, key-length bits) and Ki (h bits) for
/// `usage` (RFC 8009 §5).
pub(crate) fn enc_keys(etype: EncType, key: &[u8], usage: u32) -> (Aes, Vec<u8>) {
    let ke = kdf(
        etype,
        key,
        &usage_constant(usage, TAG_KE),
        &[],
        etype.key_len(),
    );
    let ke = if etype == EncType::Aes256CtsHmacSha384192 {
        let mut k = [0u8; 32];
        k.copy_from_slice(&ke[..32]);
        Aes::aes256(&k)
    } else {
        let mut k = [0u8; 16];
        k.copy_from_slice(&ke[..16]);
        Aes::aes128(&k)
    };
    let ki = kdf(
        etype,
        key,
        &usage_constant(usage, TAG_KI),
        &[],
        mac_len(etype),
    );
    (ke, ki)
}

/// Kc = KDF(key, usage | 0x99, h) (RFC 8009 §5).
pub(crate) fn mac_key(etype: EncType, key: &[u8], usage: u32) -> Vec<u8> {
    kdf(
        etype,
        key,
        &usage_constant(usage, TAG_KC),
        &[],
        mac_len(etype),
    )
}

/// HMAC(Ki, IV | C) truncated to h; the cipher state IV is all zeros for
/// every Kerberos message (RFC 8009 §5 "the initial cipher state").
fn tag(etype: EncType, ki: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    let iv = [0u8; AES_BLOCK];
    let mut full = [0u8; MAX_HASH];
    hash_into(etype, ki, &[&iv, ciphertext], &mut full);
    full[..mac_len(etype)].to_vec()
}

/// RFC 8009 §5 encryption: `C = AES-CTS(Ke, conf | plaintext)`,
/// `H = HMAC(Ki, IV | C)`, output `C | H` (encrypt-then-MAC).
pub(crate) fn seal(
    etype: EncType,
    ke: &Aes,
    ki: &[u8],
    plaintext: &[u8],
    confounder: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(confounder.len() + plaintext.len() + mac_len(etype));
    out.extend_from_slice(confounder);
    out.extend_from_slice(plaintext);
    cts::encrypt(ke, &mut out);
    let h = tag(etype, ki, &out);
    out.extend_from_slice(&h);
    out
}

/// RFC 8009 §5 decryption: verify `H` over `IV | C` first, then decrypt and
/// drop the confounder.
pub(crate) fn open(
    etype: EncType,
    ke: &Aes,
    ki: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let h = mac_len(etype);
    if ciphertext.len() < AES_BLOCK + h {
        return Err(CryptoError::CiphertextTooShort {
            etype: etype.id(),
            minimum: AES_BLOCK + h,
            actual: ciphertext.len(),
        });
    }
    let (c, mac) = ciphertext.split_at(ciphertext.len() - h);
    if !bool::from(tag(etype, ki, c).ct_eq(mac)) {
        return Err(CryptoError::IntegrityCheckFailed);
    }
    let mut plain = c.to_vec();
    cts::decrypt(ke, &mut plain);
    plain.drain(..AES_BLOCK);
    Ok(plain)
}

/// RFC 8009 §5 checksum: `HMAC(Kc, data)` truncated to h.
pub(crate) fn mac(etype: EncType, kc: &[u8], data: &[u8]) -> Vec<u8> {
    let mut full = [0u8; MAX_HASH];
    hash_into(etype, kc, &[data], &mut full);
    full[..mac_len(etype)].to_vec()
}

/// RFC 8009 §4 string-to-key:
/// `saltp = enctype-name | 0x00 | salt`,
/// `tkey = random-to-key(PBKDF2-HMAC-SHA2(passphrase, saltp, iter, keylen))`,
/// `key = KDF-HMAC-SHA2(tkey, "kerberos", keylen)`.
pub(crate) fn string_to_key(
    etype: EncType,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
) -> Vec<u8> {
    let mut saltp = Vec::with_capacity(etype.name().len() + 1 + salt.len());
    saltp.extend_from_slice(etype.name().as_bytes());
    saltp.push(0);
    saltp.extend_from_slice(salt);
    let mut tkey = [0u8; 32];
    let tkey = &mut tkey[..etype.key_len()];
    if etype == EncType::Aes256CtsHmacSha384192 {
        pbkdf2::pbkdf2_hmac::<sha2::Sha384>(password, &saltp, iterations, tkey);
    } else {
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, &saltp, iterations, tkey);
    }
    kdf(etype, tkey, b"kerberos", &[], etype.key_len())
}

/// RFC 8009 §5 PRF: `KDF-HMAC-SHA2(key, "prf", input, 256 | 384)`.
pub(crate) fn prf(etype: EncType, key: &[u8], input: &[u8]) -> Vec<u8> {
    let len = if etype == EncType::Aes256CtsHmacSha384192 {
        48
    } else {
        32
    };
    kdf(etype, key, b"prf", input, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    /// RFC 8009 Appendix A "Sample results for key derivation".
    #[test]
    fn rfc8009_kc_ke_ki() {
        let e = EncType::Aes128CtsHmacSha256128;
        let k = h("3705D96080C17728A0E800EAB6E0D23C");
        let c = |t| usage_constant(2, t);
        assert_eq!(
            kdf(e, &k, &c(TAG_KC), &[], 16),
            h("B31A018A48F54776F403E9A396325DC3")
        );
        assert_eq!(
            kdf(e, &k, &c(TAG_KE), &[], 16),
            h("9B197DD1E8C5609D6E67C3E37C62C72E")
        );
        assert_eq!(
            kdf(e, &k, &c(TAG_KI), &[], 16),
            h("9FDA0E56AB2D85E1569A688696C26A6C")
        );
        let e = EncType::Aes256CtsHmacSha384192;
        let k = h("6D404D37FAF79F9DF0D33568D320669800EB4836472EA8A026D16B7182460C52");
        assert_eq!(
            kdf(e, &k, &c(TAG_KC), &[], 24),
            h("EF5718BE86CC84963D8BBB5031E9F5C4BA41F28FAF69E73D")
        );
        assert_eq!(
            kdf(e, &k, &c(TAG_KE), &[], 32),
            h("56AB22BEE63D82D7BC5227F6773F8EA7A5EB1C825160C38312980C442E5C7E49")
        );
        assert_eq!(
            kdf(e, &k, &c(TAG_KI), &[], 24),
            h("69B16514E3CD8E56B82010D5C73012B622C4D00FFC23ED1F")
        );
    }
}
