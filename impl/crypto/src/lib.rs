//! Kerberos and NTLM cryptography for kerbside.
//!
//! * aes128/aes256-cts-hmac-sha1-96 (enctypes 17/18, RFC 3962),
//!   aes128-cts-hmac-sha256-128 / aes256-cts-hmac-sha384-192 (19/20,
//!   RFC 8009) and rc4-hmac (23, RFC 4757), all on RustCrypto primitives;
//!   `kerberos_crypto` and picky-krb are the differential oracles in the
//!   tests (see `aes_sha1.rs` for why 17/18 are native);
//! * string-to-key with explicit salt and s2kparams, n-fold, DK, PRF,
//!   KRB-FX-CF2 (RFC 6113), keyed checksums; [`KeyCache`] memoises
//!   string-to-key, [`UsageKey`] keeps per-usage derived keys;
//! * [`keytab`]: MIT keytab files;
//! * [`ntlm`]: NTLMv2 responses, key exchange, MIC, signing and sealing;
//! * [`gss`]: RFC 4121 MIC and Wrap tokens; [`gss_checksum`]: the 0x8003
//!   authenticator checksum with RFC 6542 extensions (IAKERB finished).
//!
//! Nothing here reads a clock or the OS RNG: random keys and confounders come
//! from the `RngCore` the caller passes. Wrong key lengths and bad
//! ciphertexts are typed errors, never panics.
//!
//! API summary (what other crates code against):
//!
//! ```text
//! EncType { Aes128CtsHmacSha196 = 17, Aes256CtsHmacSha196 = 18,
//!           Aes128CtsHmacSha256128 = 19, Aes256CtsHmacSha384192 = 20, Rc4Hmac = 23 }
//!   from_id(i32) -> Option, try_from_id -> Result, id(), name() (MIT names),
//!   FromStr (names, MIT aliases, numbers), key_len(), checksum_type()
//!   (15, 16, 19, 20, -138), checksum_len(), confounder_len(),
//!   ciphertext_len(pt_len), for_checksum_type(i32), serde as the name
//! Key (Debug never prints key bytes; Eq is constant-time)
//!   new(etype, bytes) / from_wire(i32, &[u8]) -> Result     (length checked)
//!   from_password(etype, password, salt) -> Result          (default s2kparams)
//!   from_password_params(etype, password, salt, Option<&[u8]>) -> Result
//!   random(etype, &mut dyn RngCore) -> Key
//!   etype(), bytes()
//!   encrypt(usage: u32, pt, &mut dyn RngCore) -> Vec<u8>
//!   encrypt_with_confounder(usage, pt, confounder) -> Result<Vec<u8>>
//!   decrypt(usage, ct) -> Result<Vec<u8>>
//!   checksum(usage, data) -> Vec<u8>                        (mandatory cksumtype)
//!   verify_checksum(usage, cksumtype: i32, data, cksum) -> Result<()>
//!   prf(input) -> Vec<u8>;  for_usage(usage) -> UsageKey
//! cf2(k1, k2, pepper1, pepper2) -> Result<Key>;  prf_plus(key, info, len)
//! nfold(input, out_bits);  default_salt(realm, components);  nt_hash(password)
//! KeyCache::{new, global, from_password, from_password_params}
//! CryptoError::krb_error_code() -> RFC 4120 error number
//! ```

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
