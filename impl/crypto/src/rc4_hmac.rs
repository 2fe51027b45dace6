//! rc4-hmac (enctype 23, RFC 4757), kept for NTLM-era keys and for
//! interoperating with Windows accounts that only have an NT hash.

use md4::{Digest, Md4};
use md5::Md5;
use rc4::{KeyInit, Rc4, StreamCipher, consts::U16};
use subtle::ConstantTimeEq;

use crate::error::CryptoError;
use crate::etype::EncType;
use crate::primitives::hmac_md5;

/// RFC 4757 §5: 8-byte confounder.
pub(crate) const CONFOUNDER_LEN: usize = 8;
/// RFC 4757 §5: the untruncated HMAC-MD5 checksum leads the ciphertext.
pub(crate) const CKSUM_LEN: usize = 16;

/// RC4 keystream applied in place with a 16-byte key (every RC4 key Kerberos
/// and NTLMv2 use is an HMAC-MD5 output or an MD4/MD5 digest).
pub(crate) fn rc4_apply(key: &[u8; 16], data: &mut [u8]) {
    let mut c = Rc4::<U16>::new(key.into());
    c.apply_keystream(data);
}

/// The NT hash: MD4 over the UTF-16LE password (RFC 4757 §3 string-to-key;
/// MS-NLMP §3.3.1 NTOWFv1).
pub fn nt_hash(password: &str) -> [u8; 16] {
    let mut h = Md4::new();
    for unit in password.encode_utf16() {
        h.update(unit.to_le_bytes());
    }
    h.finalize().into()
}

/// RFC 4757 §3: Windows uses different usage numbers for three messages.
/// The "ms_usage" translation (MIT `krb5int_arcfour_translate_usage`).
pub(crate) fn translate_usage(usage: u32) -> u32 {
    match usage {
        3 => 8,   // AS-REP enc-part is encrypted like a TGS-REP enc-part
        9 => 8,   // TGS-REP enc-part with subkey
        23 => 13, // GSS wrap token sealing uses the KRB-PRIV number
        u => u,
    }
}

/// RFC 4757 §5: `K1 = HMAC-MD5(key, ms_usage_le32)`.
pub(crate) fn enc_key(key: &[u8], usage: u32) -> [u8; 16] {
    hmac_md5(key, &[&translate_usage(usage).to_le_bytes()])
}

/// RFC 4757 §5 encrypt with `K1`: `cksum = HMAC-MD5(K1, conf | pt)`,
/// `K3 = HMAC-MD5(K1, cksum)`, output `cksum | RC4(K3, conf | pt)`.
pub(crate) fn seal(k1: &[u8; 16], plaintext: &[u8], confounder: &[u8]) -> Vec<u8> {
    let cksum = hmac_md5(k1, &[confounder, plaintext]);
    let k3 = hmac_md5(k1, &[&cksum]);
    let mut out = Vec::with_capacity(CKSUM_LEN + confounder.len() + plaintext.len());
    out.extend_from_slice(&cksum);
    out.extend_from_slice(confounder);
    out.extend_from_slice(plaintext);
    rc4_apply(&k3, &mut out[CKSUM_LEN..]);
    out
}

/// RFC 4757 §5 decrypt with integrity check.
pub(crate) fn open(k1: &[u8; 16], ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let Some((cksum, body)) = ciphertext.split_at_checked(CKSUM_LEN) else {
        return Err(too_short(ciphertext.len()));
    };
    if body.len() < CONFOUNDER_LEN {
        return Err(too_short(ciphertext.len()));
    }
    let k3 = hmac_md5(k1, &[cksum]);
    let mut plain = body.to_vec();
    rc4_apply(&k3, &mut plain);
    let expect = hmac_md5(k1, &[&plain]);
    if !bool::from(expect.ct_eq(cksum)) {
        return Err(CryptoError::IntegrityCheckFailed);
    }
    plain.drain(..CONFOUNDER_LEN);
    Ok(plain)
}

fn too_short(actual: usize) -> CryptoError {
    CryptoError::CiphertextTooShort {
        etype: EncType::Rc4Hmac.id(),
        minimum: CKSUM_LEN + CONFOUNDER_LEN,
        actual,
    }
}

/// RFC 4757 §4 hmac-md5 signing key: `Ksign = HMAC-MD5(key, "signaturekey\0")`.
pub(crate) fn mac_key(key: &[u8]) -> [u8; 16] {
    hmac_md5(key, &[b"signaturekey\0"])
}

/// RFC 4757 §4 keyed checksum hmac-md5 (type -138):
/// `HMAC-MD5(Ksign, MD5(ms_usage_le32 | data))`, with the usage translated
/// as for encryption (MIT `k5_hmac_md5_checksum`).
pub(crate) fn mac(ksign: &[u8; 16], usage: u32, data: &[u8]) -> Vec<u8> {
    let mut h = Md5::new();
    h.update(translate_usage(usage).to_le_bytes());
    h.update(data);
    let inner: [u8; 16] = h.finalize().into();
    hmac_md5(ksign, &[&inner]).to_vec()
}
