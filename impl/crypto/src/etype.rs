//! Encryption types (RFC 3961 §8 registry numbers) and their parameters.

use std::fmt;
use std::str::FromStr;

use crate::error::CryptoError;

/// The enctypes kerbside implements.
///
/// Numbers are the IANA "Kerberos Encryption Type Numbers"; names are MIT's
/// canonical spellings (what `klist -e` prints and `kadmin` accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i32)]
#[non_exhaustive]
pub enum EncType {
    /// aes128-cts-hmac-sha1-96 (RFC 3962)
    Aes128CtsHmacSha196 = 17,
    /// aes256-cts-hmac-sha1-96 (RFC 3962)
    Aes256CtsHmacSha196 = 18,
    /// aes128-cts-hmac-sha256-128 (RFC 8009)
    Aes128CtsHmacSha256128 = 19,
    /// aes256-cts-hmac-sha384-192 (RFC 8009)
    Aes256CtsHmacSha384192 = 20,
    /// rc4-hmac / arcfour-hmac (RFC 4757)
    Rc4Hmac = 23,
}

impl EncType {
    /// Every implemented enctype, strongest first (the order a KDC prefers).
    pub const ALL: [EncType; 5] = [
        EncType::Aes256CtsHmacSha196,
        EncType::Aes128CtsHmacSha196,
        EncType::Aes256CtsHmacSha384192,
        EncType::Aes128CtsHmacSha256128,
        EncType::Rc4Hmac,
    ];

    /// The enctype with this registry number, if implemented.
    pub fn from_id(id: i32) -> Option<EncType> {
        match id {
            17 => Some(EncType::Aes128CtsHmacSha196),
            18 => Some(EncType::Aes256CtsHmacSha196),
            19 => Some(EncType::Aes128CtsHmacSha256128),
            20 => Some(EncType::Aes256CtsHmacSha384192),
            23 => Some(EncType::Rc4Hmac),
            _ => None,
        }
    }

    /// Like [`EncType::from_id`] but with a typed error.
    pub fn try_from_id(id: i32) -> Result<EncType, CryptoError> {
        EncType::from_id(id).ok_or(CryptoError::UnsupportedEncType(id))
    }

    /// The registry number.
    pub fn id(self) -> i32 {
        self as i32
    }

    /// MIT's canonical name.
    pub fn name(self) -> &'static str {
        match self {
            EncType::Aes128CtsHmacSha196 => "aes128-cts-hmac-sha1-96",
            EncType::Aes256CtsHmacSha196 => "aes256-cts-hmac-sha1-96",
            EncType::Aes128CtsHmacSha256128 => "aes128-cts-hmac-sha256-128",
            EncType::Aes256CtsHmacSha384192 => "aes256-cts-hmac-sha384-192",
            EncType::Rc4Hmac => "arcfour-hmac",
        }
    }

    /// Key length in bytes (RFC 3962 §6, RFC 8009 §5, RFC 4757 §4).
    pub fn key_len(self) -> usize {
        match self {
            EncType::Aes128CtsHmacSha196 | EncType::Aes128CtsHmacSha256128 | EncType::Rc4Hmac => 16,
            EncType::Aes256CtsHmacSha196 | EncType::Aes256CtsHmacSha384192 => 32,
        }
    }

    /// The mandatory-to-implement keyed checksum type for this enctype
    /// (RFC 3962 §7: 15/16, RFC 8009 §8: 19/20, RFC 4757: -138 hmac-md5).
    pub fn checksum_type(self) -> i32 {
        match self {
            EncType::Aes128CtsHmacSha196 => 15,
            EncType::Aes256CtsHmacSha196 => 16,
            EncType::Aes128CtsHmacSha256128 => 19,
            EncType::Aes256CtsHmacSha384192 => 20,
            EncType::Rc4Hmac => -138,
        }
    }

    /// Length of this enctype's checksum in bytes.
    pub fn checksum_len(self) -> usize {
        match self {
            // RFC 3962 §6: HMAC-SHA1 truncated to 96 bits.
            EncType::Aes128CtsHmacSha196 | EncType::Aes256CtsHmacSha196 => 12,
            // RFC 8009 §5: h = 128 / 192 bits.
            EncType::Aes128CtsHmacSha256128 => 16,
            EncType::Aes256CtsHmacSha384192 => 24,
            // RFC 4757 §4: HMAC-MD5, untruncated.
            EncType::Rc4Hmac => 16,
        }
    }

    /// Confounder length: one cipher block (16) for AES, 8 for RC4 (RFC 4757 §5).
    pub fn confounder_len(self) -> usize {
        match self {
            EncType::Rc4Hmac => 8,
            _ => 16,
        }
    }

    /// Shortest valid ciphertext: confounder plus integrity tag.
    pub fn min_ciphertext_len(self) -> usize {
        self.confounder_len() + self.checksum_len()
    }

    /// Length of the ciphertext produced for `plaintext_len` bytes of
    /// plaintext (all these enctypes are length-preserving apart from
    /// confounder and MAC: CTS and RC4 do not pad).
    pub fn ciphertext_len(self, plaintext_len: usize) -> usize {
        self.min_ciphertext_len() + plaintext_len
    }

    /// The enctype a keyed checksum type belongs to, for checksum types this
    /// crate implements.
    pub fn for_checksum_type(cksumtype: i32) -> Option<EncType> {
        match cksumtype {
            15 => Some(EncType::Aes128CtsHmacSha196),
            16 => Some(EncType::Aes256CtsHmacSha196),
            19 => Some(EncType::Aes128CtsHmacSha256128),
            20 => Some(EncType::Aes256CtsHmacSha384192),
            -138 => Some(EncType::Rc4Hmac),
            _ => None,
        }
    }

    /// Whether this is one of the RFC 8009 (SHA-2) enctypes.
    pub fn is_sha2(self) -> bool {
        matches!(
            self,
            EncType::Aes128CtsHmacSha256128 | EncType::Aes256CtsHmacSha384192
        )
    }
}

impl fmt::Display for EncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EncType {
    type Err = CryptoError;

    /// Accepts MIT canonical names, MIT's aliases and decimal numbers.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if let Ok(n) = t.parse::<i32>() {
            return EncType::from_id(n).ok_or(CryptoError::UnsupportedEncType(n));
        }
        // MIT lib/crypto/krb/etypes.c names and aliases.
        let e = match t.to_ascii_lowercase().as_str() {
            "aes128-cts-hmac-sha1-96" | "aes128-cts" | "aes128-sha1" => {
                EncType::Aes128CtsHmacSha196
            }
            "aes256-cts-hmac-sha1-96" | "aes256-cts" | "aes256-sha1" | "aes" => {
                EncType::Aes256CtsHmacSha196
            }
            "aes128-cts-hmac-sha256-128" | "aes128-sha2" => EncType::Aes128CtsHmacSha256128,
            "aes256-cts-hmac-sha384-192" | "aes256-sha2" => EncType::Aes256CtsHmacSha384192,
            "arcfour-hmac" | "rc4-hmac" | "arcfour-hmac-md5" | "rc4" => EncType::Rc4Hmac,
            _ => return Err(CryptoError::UnknownEncTypeName(t.to_owned())),
        };
        Ok(e)
    }
}

impl TryFrom<i32> for EncType {
    type Error = CryptoError;
    fn try_from(id: i32) -> Result<Self, Self::Error> {
        EncType::try_from_id(id)
    }
}

impl From<EncType> for i32 {
    fn from(e: EncType) -> i32 {
        e.id()
    }
}

// Configs (scenarios, KDC principal files) name enctypes as strings; accept
// numbers too. Serialised as the canonical name.
impl serde::Serialize for EncType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for EncType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = EncType;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an enctype name or number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<EncType, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<EncType, E> {
                i32::try_from(v)
                    .ok()
                    .and_then(EncType::from_id)
                    .ok_or_else(|| E::custom(format!("unsupported enctype {v}")))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<EncType, E> {
                i32::try_from(v)
                    .ok()
                    .and_then(EncType::from_id)
                    .ok_or_else(|| E::custom(format!("unsupported enctype {v}")))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_names_and_parsing_round_trip() {
        for e in EncType::ALL {
            assert_eq!(EncType::from_id(e.id()), Some(e));
            assert_eq!(e.name().parse::<EncType>().unwrap(), e);
            assert_eq!(e.id().to_string().parse::<EncType>().unwrap(), e);
        }
        assert_eq!("rc4-hmac".parse::<EncType>().unwrap(), EncType::Rc4Hmac);
        assert_eq!(
            "AES256-SHA2".parse::<EncType>().unwrap(),
            EncType::Aes256CtsHmacSha384192
        );
        assert_eq!(
            "16".parse::<EncType>(),
            Err(CryptoError::UnsupportedEncType(16))
        );
        assert!(matches!(
            "des-cbc-crc".parse::<EncType>(),
            Err(CryptoError::UnknownEncTypeName(_))
        ));
        assert_eq!(EncType::from_id(3), None);
    }

    #[test]
    fn checksum_types_map_back() {
        for e in EncType::ALL {
            assert_eq!(EncType::for_checksum_type(e.checksum_type()), Some(e));
        }
        assert_eq!(
            [17, 18, 19, 20, 23].map(|i| EncType::from_id(i).unwrap().checksum_type()),
            [15, 16, 19, 20, -138]
        );
    }
}
