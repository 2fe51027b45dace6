//! Kerberos cryptography for kerbside (RFC 3961 framework).
//!
//! * aes128/aes256-cts-hmac-sha1-96 (enctypes 17/18, RFC 3962) through
//!   `kerberos_crypto`, with the confounder taken from an injected RNG;
//! * aes128-cts-hmac-sha256-128 / aes256-cts-hmac-sha384-192 (19/20,
//!   RFC 8009) on RustCrypto primitives, since `kerberos_crypto` lacks them;
//! * rc4-hmac (23, RFC 4757) for NTLM-era keys;
//! * string-to-key with explicit salt and s2kparams, n-fold, DK, PRF,
//!   KRB-FX-CF2 (RFC 6113), keyed checksums;
//! * MIT keytab files.
//!
//! Nothing here reads a clock or the OS RNG: random keys and confounders come
//! from the `RngCore` the caller passes. Wrong key lengths and bad
//! ciphertexts are typed errors, never panics.

// API contract (filled in by the crypto work; signatures are what other
// crates code against):
//
// pub enum EncType { Aes128CtsHmacSha196 = 17, Aes256CtsHmacSha196 = 18,
//                    Aes128CtsHmacSha256128 = 19, Aes256CtsHmacSha384192 = 20, Rc4Hmac = 23 }
//   EncType::from_id(i32) -> Option<EncType>; .id() -> i32; .name() -> &'static str
//   ("aes256-cts-hmac-sha1-96"); FromStr accepts names and numbers; .key_len();
//   .checksum_type() -> i32 (16, 15, 19, 20, -138)
//
// pub struct Key { etype, bytes }   (Debug never prints key bytes)
//   Key::new(etype, bytes) -> Result<Key, CryptoError>        (length checked)
//   Key::from_password(etype, password, salt) -> Result<Key>  (default s2kparams)
//   Key::from_password_params(etype, password, salt, s2kparams: Option<&[u8]>) -> Result<Key>
//   Key::random(etype, &mut dyn RngCore) -> Key
//   key.etype(), key.bytes()
//   key.encrypt(usage: u32, plaintext, &mut dyn RngCore) -> Vec<u8>
//   key.encrypt_with_confounder(usage, plaintext, confounder) -> Result<Vec<u8>>
//   key.decrypt(usage, ciphertext) -> Result<Vec<u8>, CryptoError>
//   key.checksum(usage, data) -> Vec<u8>                    (the etype's mandatory cksumtype)
//   key.verify_checksum(usage, cksumtype: i32, data, cksum) -> Result<(), CryptoError>
//   key.prf(input) -> Vec<u8>
// pub fn cf2(k1: &Key, k2: &Key, pepper1: &[u8], pepper2: &[u8]) -> Result<Key>
// pub fn nfold(input: &[u8], out_bits: usize) -> Vec<u8>
// pub fn default_salt(realm: &str, name_components: &[&str]) -> Vec<u8>
// pub fn nt_hash(password: &str) -> [u8; 16]
// pub mod keytab { parse(bytes) -> Result<Vec<KeytabEntry>>, write(entries) -> Vec<u8> }
// pub struct KeyCache: memoises string-to-key (PBKDF2 is 4096-32768 rounds)

mod aes_sha1;
mod aes_sha2;
mod cache;
mod cts;
mod dk;
mod error;
mod etype;
pub mod gss;
pub mod gss_checksum;
mod key;
pub mod keytab;
mod nfold;
pub mod ntlm;
mod prf;
mod primitives;
mod rc4_hmac;
mod s2k;
mod usage_key;

pub use cache::KeyCache;
pub use error::CryptoError;
pub use etype::EncType;
pub use key::{Key, default_salt};
pub use nfold::nfold;
pub use prf::{cf2, prf_plus};
pub use rc4_hmac::nt_hash;
pub use s2k::{
    AES_SHA1_DEFAULT_ITERATIONS, AES_SHA2_DEFAULT_ITERATIONS, MAX_ITERATIONS, default_s2kparams,
};
pub use usage_key::UsageKey;

/// Result alias for this crate.
pub type Result<T, E = CryptoError> = std::result::Result<T, E>;
