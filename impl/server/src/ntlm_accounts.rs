//! Local accounts the NTLM acceptor verifies against: user name and NT
//! hash, as a Windows machine's SAM or a NAS's user list keeps them (the
//! password itself is never needed: NTOWFv2 starts from the NT hash,
//! MS-NLMP §3.3.2).
//!
//! Text format (`kerbside serve app --ntlm-accounts FILE`), one account a
//! line, `#` comments:
//!
//! ```text
//! alice:Passw0rd!                          # a password (hashed on load)
//! printer-admin:$NT$8846f7eaee8fb117ad06bdd830b7586c
//! ```

use std::collections::BTreeMap;
use std::fmt;

use kerbside_crypto::nt_hash;

/// One account.
#[derive(Clone)]
pub struct NtlmAccount {
    /// The user name as configured.
    pub user: String,
    /// MD4(UTF-16LE(password)).
    pub nt_hash: [u8; 16],
}

impl fmt::Debug for NtlmAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NtlmAccount")
            .field("user", &self.user)
            .field("nt_hash", &"<redacted>")
            .finish()
    }
}

/// A malformed accounts file line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct AccountsError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Accounts by upper-cased user name (NTLM user names are
/// case-insensitive; NTOWFv2 upper-cases them itself).
#[derive(Debug, Clone, Default)]
pub struct NtlmAccounts {
    by_name: BTreeMap<String, NtlmAccount>,
}

impl NtlmAccounts {
    /// No accounts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) an account from its password.
    pub fn add_password(&mut self, user: &str, password: &str) {
        self.add_hash(user, nt_hash(password));
    }

    /// Adds (or replaces) an account from its NT hash.
    pub fn add_hash(&mut self, user: &str, nt_hash: [u8; 16]) {
        self.by_name.insert(
            user.to_uppercase(),
            NtlmAccount {
                user: user.to_owned(),
                nt_hash,
            },
        );
    }

    /// The account named `user` (any case).
    pub fn get(&self, user: &str) -> Option<&NtlmAccount> {
        self.by_name.get(&user.to_uppercase())
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Parses the text format described in the module documentation.
    pub fn parse(text: &str) -> Result<Self, AccountsError> {
        let mut out = Self::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |message: String| AccountsError {
                line: i + 1,
                message,
            };
            let Some((user, secret)) = line.split_once(':') else {
                return Err(err("expected USER:PASSWORD or USER:$NT$HEX".into()));
            };
            let user = user.trim();
            if user.is_empty() {
                return Err(err("empty user name".into()));
            }
            if out.get(user).is_some() {
                return Err(err(format!("account {user:?} listed twice")));
            }
            // The password is everything after the first colon, verbatim;
            // the hash form tolerates surrounding blanks.
            match secret.trim().strip_prefix("$NT$") {
                Some(h) => out.add_hash(user, parse_hash(h.trim()).map_err(err)?),
                None => out.add_password(user, secret),
            }
        }
        Ok(out)
    }
}

fn parse_hash(h: &str) -> Result<[u8; 16], String> {
    if h.len() != 32 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("an NT hash is 32 hex digits".into());
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&h[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_passwords_and_hashes() {
        let a = NtlmAccounts::parse(
            "# accounts\n\nalice:Password\n  bob : $NT$a4f49c406510bdcab6824ee7c30fd852 \nc:with:colons\n",
        )
        .unwrap();
        assert_eq!(a.len(), 3);
        // MS-NLMP §4.2.2.1.2: NTOWFv1("Password") = a4f49c406510bdcab6824ee7c30fd852
        assert_eq!(
            a.get("ALICE").unwrap().nt_hash,
            a.get("bob").unwrap().nt_hash
        );
        assert_eq!(a.get("Bob").unwrap().user, "bob");
        assert_eq!(a.get("c").unwrap().nt_hash, nt_hash("with:colons"));
        assert!(a.get("carol").is_none());
    }

    #[test]
    fn errors_name_the_line() {
        let e = NtlmAccounts::parse("alice:x\nnocolon\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = NtlmAccounts::parse("a:$NT$zz\n").unwrap_err();
        assert!(e.message.contains("32 hex"), "{e}");
        let e = NtlmAccounts::parse(":pw\n").unwrap_err();
        assert!(e.message.contains("empty"), "{e}");
        let e = NtlmAccounts::parse("a:1\nA:2\n").unwrap_err();
        assert!(e.message.contains("twice"), "{e}");
        let dbg = format!("{:?}", NtlmAccounts::parse("a:secret").unwrap());
        assert!(!dbg.contains("secret") && dbg.contains("redacted"), "{dbg}");
    }
}
