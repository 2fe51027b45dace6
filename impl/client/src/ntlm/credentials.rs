//! Who the NTLM client authenticates as.

use std::fmt;

use kerbside_crypto::nt_hash;
use kerbside_crypto::ntlm::ntowf_v2_from_hash;

/// The account's secret: a password, or only its NT hash (what a credential
/// cache or a pass-the-hash test holds).
#[derive(Clone)]
pub enum NtlmSecret {
    /// The password.
    Password(String),
    /// MD4(UTF-16LE(password)).
    NtHash([u8; 16]),
}

impl fmt::Debug for NtlmSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NtlmSecret::Password(_) => f.write_str("Password(<redacted>)"),
            NtlmSecret::NtHash(_) => f.write_str("NtHash(<redacted>)"),
        }
    }
}

/// User, domain and secret.
#[derive(Clone, Debug)]
pub struct NtlmCredentials {
    /// User name as typed (NTOWFv2 upper-cases it, MS-NLMP §3.3.2).
    pub user: String,
    /// The user's domain (NetBIOS name, or empty for a local account).
    pub domain: String,
    /// The secret.
    pub secret: NtlmSecret,
}

impl NtlmCredentials {
    /// Credentials from a password.
    pub fn password(user: &str, domain: &str, password: &str) -> Self {
        Self {
            user: user.to_owned(),
            domain: domain.to_owned(),
            secret: NtlmSecret::Password(password.to_owned()),
        }
    }

    /// The NT hash.
    pub fn nt_hash(&self) -> [u8; 16] {
        match &self.secret {
            NtlmSecret::Password(p) => nt_hash(p),
            NtlmSecret::NtHash(h) => *h,
        }
    }

    /// NTOWFv2 (MS-NLMP §3.3.2), the response key.
    pub fn response_key(&self) -> [u8; 16] {
        ntowf_v2_from_hash(&self.nt_hash(), &self.user, &self.domain)
    }
}
