//! [`Key`]: an enctype plus validated key bytes, and the RFC 3961 operations
//! on it (encrypt, decrypt, checksum, string-to-key, random-to-key).

use std::fmt;

use rand_core::RngCore;
use subtle::ConstantTimeEq;

use crate::error::CryptoError;
use crate::etype::EncType;
use crate::primitives::Aes;
use crate::usage_key::{EncKeys, MacKey, UsageKey, check_confounder, fresh_confounder};
use crate::{aes_sha1, aes_sha2, prf, rc4_hmac, s2k};

/// A Kerberos key: enctype and key bytes of exactly the enctype's length.
///
/// `Debug` never prints the key bytes (they end up in logs and test
/// failures); use [`Key::bytes`] deliberately where the value is needed.
#[derive(Clone)]
pub struct Key {
    etype: EncType,
    bytes: Vec<u8>,
    family: Family,
}

/// Per-family state prepared once per key.
#[derive(Clone)]
pub(crate) enum Family {
    /// 17/18: the base key's AES schedule, which every DK call uses.
    AesSha1(Aes),
    /// 19/20: the KDF is HMAC keyed with the raw bytes.
    AesSha2,
    /// 23.
    Rc4,
}

impl Key {
    /// A key from raw bytes, rejecting a length that does not match the
    /// enctype.
    pub fn new(etype: EncType, bytes: impl Into<Vec<u8>>) -> Result<Key, CryptoError> {
        let bytes = bytes.into();
        let bad_len = CryptoError::InvalidKeyLength {
            etype: etype.id(),
            expected: etype.key_len(),
            actual: bytes.len(),
        };
        if bytes.len() != etype.key_len() {
            return Err(bad_len);
        }
        let family = match etype {
            EncType::Aes128CtsHmacSha196 | EncType::Aes256CtsHmacSha196 => {
                Family::AesSha1(Aes::new(&bytes).ok_or(bad_len)?)
            }
            EncType::Aes128CtsHmacSha256128 | EncType::Aes256CtsHmacSha384192 => Family::AesSha2,
            EncType::Rc4Hmac => Family::Rc4,
        };
        Ok(Key {
            etype,
            bytes,
            family,
        })
    }

    pub(crate) fn family(&self) -> &Family {
        &self.family
    }

    /// A key from an enctype number as carried on the wire
    /// (`EncryptionKey.keytype`) and its bytes.
    pub fn from_wire(etype: i32, bytes: &[u8]) -> Result<Key, CryptoError> {
        Key::new(EncType::try_from_id(etype)?, bytes)
    }

    /// String-to-key with the enctype's default parameters (RFC 3962 §4:
    /// 4096 iterations; RFC 8009 §4: 32768; RFC 4757: NT hash, salt
    /// ignored). `salt` is the principal's salt, usually [`default_salt`];
    /// for 19/20 the enctype-name prefix of RFC 8009 §4 is added here.
    pub fn from_password(etype: EncType, password: &str, salt: &[u8]) -> Result<Key, CryptoError> {
        Key::from_password_params(etype, password, salt, None)
    }

    /// String-to-key with explicit s2kparams as received in ETYPE-INFO2
    /// (`None` = the enctype's default). AES params are a 4-byte big-endian
    /// PBKDF2 iteration count; a count of 0 or >= 2^24 is refused.
    pub fn from_password_params(
        etype: EncType,
        password: &str,
        salt: &[u8],
        s2kparams: Option<&[u8]>,
    ) -> Result<Key, CryptoError> {
        let pw = password.as_bytes();
        let bytes = match etype {
            EncType::Aes128CtsHmacSha196 | EncType::Aes256CtsHmacSha196 => {
                let iter = s2k::iterations(etype, s2kparams)?;
                aes_sha1::string_to_key(etype, pw, salt, iter)
            }
            EncType::Aes128CtsHmacSha256128 | EncType::Aes256CtsHmacSha384192 => {
                let iter = s2k::iterations(etype, s2kparams)?;
                aes_sha2::string_to_key(etype, pw, salt, iter)
            }
            EncType::Rc4Hmac => {
                s2k::check_rc4_params(s2kparams)?;
                rc4_hmac::nt_hash(password).to_vec()
            }
        };
        Key::new(etype, bytes)
    }

    /// RFC 3961 §3 random-to-key over fresh bytes from `rng`. For every
    /// enctype here random-to-key is the identity on `key_len` bytes.
    pub fn random(etype: EncType, rng: &mut dyn RngCore) -> Key {
        let (bytes, family) = match etype {
            EncType::Aes128CtsHmacSha196 => {
                let mut b = [0u8; 16];
                rng.fill_bytes(&mut b);
                (b.to_vec(), Family::AesSha1(Aes::aes128(&b)))
            }
            EncType::Aes256CtsHmacSha196 => {
                let mut b = [0u8; 32];
                rng.fill_bytes(&mut b);
                (b.to_vec(), Family::AesSha1(Aes::aes256(&b)))
            }
            EncType::Aes128CtsHmacSha256128 | EncType::Aes256CtsHmacSha384192 => {
                let mut b = vec![0u8; etype.key_len()];
                rng.fill_bytes(&mut b);
                (b, Family::AesSha2)
            }
            EncType::Rc4Hmac => {
                let mut b = vec![0u8; etype.key_len()];
                rng.fill_bytes(&mut b);
                (b, Family::Rc4)
            }
        };
        Key {
            etype,
            bytes,
            family,
        }
    }

    /// The enctype.
    pub fn etype(&self) -> EncType {
        self.etype
    }

    /// The raw key bytes (for `EncryptionKey.keyvalue`, keytabs).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Encrypt with a fresh confounder drawn from `rng` (RFC 3961 §5.3).
    pub fn encrypt(&self, usage: u32, plaintext: &[u8], rng: &mut dyn RngCore) -> Vec<u8> {
        let conf = fresh_confounder(self.etype, rng);
        EncKeys::derive(self, usage).seal(
            self.etype,
            plaintext,
            &conf[..self.etype.confounder_len()],
        )
    }

    /// Encrypt with a caller-chosen confounder (test vectors, replay). The
    /// confounder must be one block (16 bytes) for AES, 8 bytes for RC4.
    pub fn encrypt_with_confounder(
        &self,
        usage: u32,
        plaintext: &[u8],
        confounder: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        check_confounder(self.etype, confounder)?;
        Ok(EncKeys::derive(self, usage).seal(self.etype, plaintext, confounder))
    }

    /// Decrypt and verify integrity; returns the plaintext without the
    /// confounder. Any byte string is accepted as input: short or modified
    /// ciphertexts are errors, never panics.
    pub fn decrypt(&self, usage: u32, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        EncKeys::derive(self, usage).open(self.etype, ciphertext)
    }

    /// The keyed checksum of the enctype's mandatory checksum type
    /// ([`EncType::checksum_type`]) over `data` with `usage`.
    pub fn checksum(&self, usage: u32, data: &[u8]) -> Vec<u8> {
        MacKey::derive(self, usage).mac(self.etype, data)
    }

    /// Verify a keyed checksum of type `cksumtype` (as received in a
    /// `Checksum` structure). The type must belong to this key's enctype
    /// (RFC 4120 §7.5.9 KRB_AP_ERR_INAPP_CKSUM otherwise); the comparison is
    /// constant-time.
    pub fn verify_checksum(
        &self,
        usage: u32,
        cksumtype: i32,
        data: &[u8],
        cksum: &[u8],
    ) -> Result<(), CryptoError> {
        MacKey::derive(self, usage).verify(self.etype, cksumtype, data, cksum)
    }

    /// Ke, Ki and Kc for `usage`, derived once for repeated use.
    pub fn for_usage(&self, usage: u32) -> UsageKey {
        UsageKey::new(self, usage)
    }

    /// The enctype's pseudo-random function (RFC 3961 §3; RFC 3962 §5,
    /// RFC 8009 §5): 16 bytes for 17/18, 32/48 for 19/20, 20 for 23.
    pub fn prf(&self, input: &[u8]) -> Vec<u8> {
        prf::prf(self, input)
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.etype == other.etype && bool::from(self.bytes.as_slice().ct_eq(&other.bytes))
    }
}

impl Eq for Key {}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("etype", &self.etype)
            .field(
                "bytes",
                &format_args!("<{} bytes redacted>", self.bytes.len()),
            )
            .finish()
    }
}

/// The MIT / RFC 4120 §4 default salt: the realm followed by every name
/// component, with no separators (`LAB.TEST` + `host`, `app.lab.test` ->
/// `LAB.TESThostapp.lab.test`).
pub fn default_salt(realm: &str, name_components: &[&str]) -> Vec<u8> {
    let len = realm.len() + name_components.iter().map(|c| c.len()).sum::<usize>();
    let mut salt = Vec::with_capacity(len);
    salt.extend_from_slice(realm.as_bytes());
    for c in name_components {
        salt.extend_from_slice(c.as_bytes());
    }
    salt
}
