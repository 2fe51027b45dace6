//! Acceptor failures: a typed error plus the wire reply that tells the
//! initiator (a KRB-ERROR token, a SPNEGO `reject`), never a panic.

use kerbside_client::spnego::Downgrade;
use kerbside_wire::krb::constants::error_code_name;

use crate::iakerb_acceptor::IakerbReject;
use crate::ntlm_acceptor::NtlmReject;

/// Why the acceptor refused a context.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptError {
    /// The token is not any format this server reads.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// A mechanism this server does not accept (e.g. Kerberos at an
    /// NTLM-only printer, or IAKERB when it is not enabled).
    #[error("mechanism {0} not accepted by this server")]
    MechanismNotAccepted(String),
    /// SPNEGO: nothing in the initiator's list is acceptable.
    #[error("no mechanism in common with the initiator")]
    NoCommonMechanism,
    /// The AP-REQ was refused with this RFC 4120 code.
    #[error("kerberos {}({code}): {reason}", error_code_name(*.code).unwrap_or("KRB_ERR_OTHER"))]
    Kerberos {
        /// RFC 4120 §7.5.9 error code (also in the KRB-ERROR sent).
        code: i32,
        /// Why.
        reason: &'static str,
    },
    /// NTLM refused.
    #[error("ntlm: {0}")]
    Ntlm(NtlmReject),
    /// An IAKERB token was refused before (or instead of) reaching the KDC,
    /// or the KDC could not be reached (85 / 86).
    #[error("iakerb: {0}")]
    Iakerb(IakerbReject),
    /// The SPNEGO mechListMIC exchange failed: the mechanism list was
    /// tampered with (RFC 4178 §5).
    #[error("downgrade detected: mechListMIC {}", .0.name())]
    DowngradeDetected(Downgrade),
    /// The selected mechanism cannot sign the required mechListMIC.
    #[error("mechListMIC required but the context cannot sign")]
    MicUnavailable,
    /// A token that does not fit this point of the exchange.
    #[error("unexpected token: {0}")]
    UnexpectedToken(&'static str),
    /// A call out of order (a token after completion or failure).
    #[error("acceptor is not in a state for this call")]
    State,
}

impl AcceptError {
    /// The RFC 4120 code of a Kerberos refusal.
    pub fn krb_code(&self) -> Option<i32> {
        match self {
            AcceptError::Kerberos { code, .. } => Some(*code),
            AcceptError::Iakerb(r) => r.krb_code(),
            _ => None,
        }
    }

    /// True when the failure is evidence of a downgrade attempt.
    pub fn is_downgrade(&self) -> bool {
        matches!(self, AcceptError::DowngradeDetected(_))
    }

    /// A short stable name for audit records.
    pub fn kind(&self) -> &'static str {
        match self {
            AcceptError::Malformed(_) => "malformed",
            AcceptError::MechanismNotAccepted(_) => "mechanism-not-accepted",
            AcceptError::NoCommonMechanism => "no-common-mechanism",
            AcceptError::Kerberos { .. } => "kerberos",
            AcceptError::Ntlm(_) => "ntlm",
            AcceptError::Iakerb(_) => "iakerb",
            AcceptError::DowngradeDetected(_) => "downgrade-detected",
            AcceptError::MicUnavailable => "mic-unavailable",
            AcceptError::UnexpectedToken(_) => "unexpected-token",
            AcceptError::State => "state",
        }
    }
}

/// A refused context and what to send the initiator before closing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct AcceptFailure {
    /// What went wrong.
    pub error: AcceptError,
    /// The token to send back, if the protocol has one for this failure.
    pub reply: Option<Vec<u8>>,
}

impl AcceptFailure {
    /// A failure with a reply token.
    pub fn with_reply(error: AcceptError, reply: Vec<u8>) -> Self {
        Self {
            error,
            reply: Some(reply),
        }
    }

    /// A failure with nothing to send.
    pub fn silent(error: AcceptError) -> Self {
        Self { error, reply: None }
    }
}
