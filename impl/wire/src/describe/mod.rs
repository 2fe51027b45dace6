//! Decoded trees for every format, for `kerbside decode` and the snapshot
//! tests: [`Describer::describe`] detects the format, decodes it strictly
//! and maps every field to a [`Node`]. Tokens nested inside others (the
//! Kerberos message in a KKDCP body or IAKERB token, the mechToken of a
//! SPNEGO token) are decoded too.
//!
//! With a [`Decryptor`], every EncryptedData is tried with the key usage
//! its position implies and, when a key fits, decoded (and session keys
//! found inside are offered back to the decryptor, as tshark does).

mod gss;
mod krb;
mod ntlm;

use crate::detect::{self, Detected};
use crate::error::Result;
use crate::record;
use crate::tree::Node;

/// Decryption supplied by the caller (this crate has no crypto).
pub trait Decryptor {
    /// Tries every suitable key; `None` if none decrypts `cipher`.
    fn decrypt(&mut self, etype: i32, usage: u32, cipher: &[u8]) -> Option<Decrypted>;
    /// A key found inside decrypted data (ticket session key, subkey).
    fn learn(&mut self, keytype: i32, key: &[u8], label: String);
}

/// A successful decryption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    /// The plaintext.
    pub plaintext: Vec<u8>,
    /// Which key did it (shown in the tree).
    pub key_label: String,
}

/// Nesting bound for tokens inside tokens (SPNEGO in SPNEGO ...).
const MAX_NESTING: usize = 4;

/// Builds decoded trees.
pub struct Describer<'a> {
    decryptor: Option<&'a mut dyn Decryptor>,
    depth: usize,
}

impl std::fmt::Debug for Describer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Describer")
            .field("decrypting", &self.decryptor.is_some())
            .finish()
    }
}

impl Default for Describer<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Describer<'a> {
    /// Without decryption.
    pub fn new() -> Self {
        Self {
            decryptor: None,
            depth: 0,
        }
    }

    /// With decryption.
    pub fn with_decryptor(decryptor: &'a mut dyn Decryptor) -> Self {
        Self {
            decryptor: Some(decryptor),
            depth: 0,
        }
    }

    /// Detects, decodes and describes `bytes`.
    pub fn describe(&mut self, bytes: &[u8]) -> Result<(Detected, Node)> {
        let kind = detect::detect(bytes)?;
        let node = match kind {
            Detected::Kerberos => {
                let m = crate::krb::decode(bytes)?;
                self.krb_message(&m)
            }
            Detected::KerberosRecordMark => {
                let body = record::decode(bytes, crate::der::Limits::DEFAULT_MAX_SIZE)?;
                let m = crate::krb::decode(body).map_err(|e| e.shifted(record::MARK_LEN))?;
                Node::new("TCP record")
                    .child(Node::leaf("record-mark", format!("length {}", body.len())))
                    .child(self.krb_message(&m))
            }
            Detected::Kkdcp => self.kkdcp(bytes)?,
            Detected::Iakerb => self.iakerb(bytes)?,
            Detected::GssKrb5 => self.gss_krb5(bytes)?,
            Detected::Spnego => self.spnego(bytes)?,
            Detected::Ntlm => ntlm::message(&crate::ntlm::decode(bytes)?),
        };
        Ok((kind, node))
    }

    /// Describes a token nested in another one; failures become a
    /// `decode-error` child instead of failing the outer decode.
    fn nested(&mut self, name: &str, bytes: &[u8]) -> Node {
        if self.depth >= MAX_NESTING {
            return Node::bytes(name, bytes);
        }
        self.depth += 1;
        let r = self.describe(bytes);
        self.depth -= 1;
        match r {
            Ok((kind, node)) => Node::new(name).with_value(kind.name()).child(node),
            Err(e) => Node::bytes(name, bytes).child(Node::leaf("decode-error", e.to_string())),
        }
    }
}

/// Shorthand: describe without decryption.
pub fn describe(bytes: &[u8]) -> Result<(Detected, Node)> {
    Describer::new().describe(bytes)
}
