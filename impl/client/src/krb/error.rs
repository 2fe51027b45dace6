//! Client-side Kerberos failures.

use std::time::SystemTime;

use kerbside_crypto::CryptoError;
use kerbside_wire::WireError;
use kerbside_wire::krb::constants::error_code_name;

/// A KRB-ERROR the KDC or server answered with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KrbErrorInfo {
    /// RFC 4120 §7.5.9 error code.
    pub code: i32,
    /// e-text, if any.
    pub text: Option<String>,
    /// e-data, if any.
    pub e_data: Option<Vec<u8>>,
    /// The server's time (stime/susec): what to correct the clock by after
    /// KRB_AP_ERR_SKEW.
    pub server_time: SystemTime,
}

impl KrbErrorInfo {
    /// The code's RFC name.
    pub fn name(&self) -> &'static str {
        error_code_name(self.code).unwrap_or("KRB_ERR_OTHER")
    }
}

/// Why a client exchange failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KrbClientError {
    /// The peer answered with a KRB-ERROR.
    #[error("{}({}){}", .0.name(), .0.code, .0.text.as_deref().map(|t| format!(": {t}")).unwrap_or_default())]
    Krb(KrbErrorInfo),
    /// The reply does not decode.
    #[error("malformed reply: {0}")]
    Decode(#[from] WireError),
    /// A decryption or key failure (a wrong password shows up here: the
    /// reply does not decrypt).
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
    /// Another message type than the exchange expects.
    #[error("expected {expected}, got message type {found}")]
    UnexpectedMessage {
        /// What was expected.
        expected: &'static str,
        /// The msg-type received.
        found: i32,
    },
    /// The reply's nonce is not the request's (RFC 4120 §3.1.5).
    #[error("reply nonce {received} does not match request nonce {sent}")]
    NonceMismatch {
        /// Sent.
        sent: u32,
        /// Received.
        received: u32,
    },
    /// The reply names another client than requested.
    #[error("reply is for client {found}, expected {expected}")]
    WrongClient {
        /// Requested.
        expected: String,
        /// In the reply.
        found: String,
    },
    /// The reply names another service than requested.
    #[error("reply is for service {found}, expected {expected}")]
    WrongService {
        /// Requested.
        expected: String,
        /// In the reply.
        found: String,
    },
    /// RFC 6806 §11: the KDC's checksum over our request does not verify
    /// (the request was modified in transit).
    #[error("KDC's checksum over the request does not match (request modified in transit)")]
    RequestModified,
    /// No enctype in PA-ETYPE-INFO2 (or the reply) that we can use.
    #[error("no usable enctype offered by the KDC")]
    NoUsableEtype,
    /// The KDC asked for pre-authentication after we sent it.
    #[error("KDC still requires pre-authentication after PA-ENC-TIMESTAMP")]
    PreauthLoop,
    /// A mutual-authentication reply that does not echo our authenticator.
    #[error("AP-REP does not match the AP-REQ (ctime/cusec differ)")]
    ApRepMismatch,
    /// The ticket cannot be renewed.
    #[error("ticket is not renewable or its renewable life has ended")]
    NotRenewable,
    /// The exchange was driven after it finished.
    #[error("exchange already finished")]
    Finished,
    /// A principal name that does not parse.
    #[error("bad principal name {0:?}")]
    BadName(String),
}

impl KrbClientError {
    /// The KRB-ERROR code, when the failure is one.
    pub fn krb_code(&self) -> Option<i32> {
        match self {
            KrbClientError::Krb(e) => Some(e.code),
            _ => None,
        }
    }
}
