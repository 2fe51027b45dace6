//! Keys derived for one key usage (RFC 3961 §3: every operation derives
//! Ke/Ki/Kc from the base key and the usage number), and [`UsageKey`],
//! which keeps them so hot paths (a KDC encrypting tickets under its
//! krbtgt key with usage 2, say) derive once instead of per message.

use std::fmt;

use rand_core::RngCore;
use subtle::ConstantTimeEq;

use crate::dk::Derived;
use crate::error::CryptoError;
use crate::etype::EncType;
use crate::key::{Family, Key};
use crate::primitives::Aes;
use crate::{aes_sha1, aes_sha2, rc4_hmac};

/// Encryption keys for one usage.
#[derive(Clone)]
pub(crate) enum EncKeys {
    AesSha1 { ke: Aes, ki: Derived },
    AesSha2 { ke: Aes, ki: Vec<u8> },
    Rc4 { k1: [u8; 16] },
}

impl EncKeys {
    pub(crate) fn derive(key: &Key, usage: u32) -> EncKeys {
        match key.family() {
            Family::AesSha1(base) => {
                let (ke, ki) = aes_sha1::enc_keys(base, usage);
                EncKeys::AesSha1 { ke, ki }
            }
            Family::AesSha2 => {
                let (ke, ki) = aes_sha2::enc_keys(key.etype(), key.bytes(), usage);
                EncKeys::AesSha2 { ke, ki }
            }
            Family::Rc4 => EncKeys::Rc4 {
                k1: rc4_hmac::enc_key(key.bytes(), usage),
            },
        }
    }

    /// Encrypt with a confounder whose length the caller has checked.
    pub(crate) fn seal(&self, etype: EncType, plaintext: &[u8], confounder: &[u8]) -> Vec<u8> {
        match self {
            EncKeys::AesSha1 { ke, ki } => aes_sha1::seal(ke, ki.bytes(), plaintext, confounder),
            EncKeys::AesSha2 { ke, ki } => aes_sha2::seal(etype, ke, ki, plaintext, confounder),
            EncKeys::Rc4 { k1 } => rc4_hmac::seal(k1, plaintext, confounder),
        }
    }

    pub(crate) fn open(&self, etype: EncType, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self {
            EncKeys::AesSha1 { ke, ki } => aes_sha1::open(etype, ke, ki.bytes(), ciphertext),
            EncKeys::AesSha2 { ke, ki } => aes_sha2::open(etype, ke, ki, ciphertext),
            EncKeys::Rc4 { k1 } => rc4_hmac::open(k1, ciphertext),
        }
    }
}

/// Checksum key for one usage.
#[derive(Clone)]
pub(crate) enum MacKey {
    AesSha1(Derived),
    AesSha2(Vec<u8>),
    /// RC4's Ksign does not depend on the usage; the usage goes into the
    /// hashed data instead (RFC 4757 §4).
    Rc4 {
        ksign: [u8; 16],
        usage: u32,
    },
}

impl MacKey {
    pub(crate) fn derive(key: &Key, usage: u32) -> MacKey {
        match key.family() {
            Family::AesSha1(base) => MacKey::AesSha1(aes_sha1::mac_key(base, usage)),
            Family::AesSha2 => MacKey::AesSha2(aes_sha2::mac_key(key.etype(), key.bytes(), usage)),
            Family::Rc4 => MacKey::Rc4 {
                ksign: rc4_hmac::mac_key(key.bytes()),
                usage,
            },
        }
    }

    pub(crate) fn mac(&self, etype: EncType, data: &[u8]) -> Vec<u8> {
        match self {
            MacKey::AesSha1(kc) => aes_sha1::mac(kc.bytes(), data),
            MacKey::AesSha2(kc) => aes_sha2::mac(etype, kc, data),
            MacKey::Rc4 { ksign, usage } => rc4_hmac::mac(ksign, *usage, data),
        }
    }

    /// Verify a received checksum of type `cksumtype` (constant-time).
    pub(crate) fn verify(
        &self,
        etype: EncType,
        cksumtype: i32,
        data: &[u8],
        cksum: &[u8],
    ) -> Result<(), CryptoError> {
        let Some(owner) = EncType::for_checksum_type(cksumtype) else {
            return Err(CryptoError::UnsupportedChecksumType(cksumtype));
        };
        if owner != etype {
            return Err(CryptoError::InappropriateChecksumType {
                etype: etype.id(),
                cksumtype,
            });
        }
        if cksum.len() != etype.checksum_len() {
            return Err(CryptoError::InvalidChecksumLength {
                cksumtype,
                expected: etype.checksum_len(),
                actual: cksum.len(),
            });
        }
        if bool::from(self.mac(etype, data).as_slice().ct_eq(cksum)) {
            Ok(())
        } else {
            Err(CryptoError::ChecksumMismatch)
        }
    }
}

pub(crate) fn check_confounder(etype: EncType, confounder: &[u8]) -> Result<(), CryptoError> {
    if confounder.len() == etype.confounder_len() {
        Ok(())
    } else {
        Err(CryptoError::InvalidConfounderLength {
            etype: etype.id(),
            expected: etype.confounder_len(),
            actual: confounder.len(),
        })
    }
}

pub(crate) fn fresh_confounder(etype: EncType, rng: &mut dyn RngCore) -> [u8; 16] {
    let mut conf = [0u8; 16];
    rng.fill_bytes(&mut conf[..etype.confounder_len()]);
    conf
}

/// A key with its Ke, Ki and Kc for one usage already derived. Same
/// results as the matching [`Key`] methods, without the per-call
/// derivation. Build with [`Key::for_usage`].
#[derive(Clone)]
pub struct UsageKey {
    etype: EncType,
    usage: u32,
    enc: EncKeys,
    mac: MacKey,
}

impl UsageKey {
    pub(crate) fn new(key: &Key, usage: u32) -> UsageKey {
        UsageKey {
            etype: key.etype(),
            usage,
            enc: EncKeys::derive(key, usage),
            mac: MacKey::derive(key, usage),
        }
    }

    /// The enctype.
    pub fn etype(&self) -> EncType {
        self.etype
    }

    /// The key usage these keys were derived for.
    pub fn usage(&self) -> u32 {
        self.usage
    }

    /// [`Key::encrypt`] for this usage.
    pub fn encrypt(&self, plaintext: &[u8], rng: &mut dyn RngCore) -> Vec<u8> {
        let conf = fresh_confounder(self.etype, rng);
        self.enc
            .seal(self.etype, plaintext, &conf[..self.etype.confounder_len()])
    }

    /// [`Key::encrypt_with_confounder`] for this usage.
    pub fn encrypt_with_confounder(
        &self,
        plaintext: &[u8],
        confounder: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        check_confounder(self.etype, confounder)?;
        Ok(self.enc.seal(self.etype, plaintext, confounder))
    }

    /// [`Key::decrypt`] for this usage.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.enc.open(self.etype, ciphertext)
    }

    /// [`Key::checksum`] for this usage.
    pub fn checksum(&self, data: &[u8]) -> Vec<u8> {
        self.mac.mac(self.etype, data)
    }

    /// [`Key::verify_checksum`] for this usage.
    pub fn verify_checksum(
        &self,
        cksumtype: i32,
        data: &[u8],
        cksum: &[u8],
    ) -> Result<(), CryptoError> {
        self.mac.verify(self.etype, cksumtype, data, cksum)
    }
}

impl fmt::Debug for UsageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsageKey")
            .field("etype", &self.etype)
            .field("usage", &self.usage)
            .finish_non_exhaustive()
    }
}
