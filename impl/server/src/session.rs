//! [`Session`]: an authenticated client and its security context.

use kerbside_client::gss::{Mechanism, SecurityContext};

use crate::iakerb_acceptor::IakerbSummary;

/// How the client authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum Via {
    /// Inside SPNEGO (RFC 4178).
    Spnego,
    /// A bare mechanism token (RFC 2743 framing for Kerberos, raw NTLMSSP).
    Raw,
}

impl Via {
    /// `spnego` / `raw`.
    pub fn name(self) -> &'static str {
        match self {
            Via::Spnego => "spnego",
            Via::Raw => "raw",
        }
    }
}

/// An authenticated client.
#[derive(Debug)]
pub struct Session {
    /// `user@REALM` (Kerberos) or `DOMAIN\user` (NTLM).
    pub client: String,
    /// The mechanism.
    pub mechanism: Mechanism,
    /// SPNEGO or raw.
    pub via: Via,
    /// Per-message protection for the application.
    pub context: SecurityContext,
    /// Set when the ticket was obtained through this server (IAKERB).
    pub iakerb: Option<IakerbSummary>,
}
