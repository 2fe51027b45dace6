//! SPNEGO initiator failures.

use kerbside_wire::WireError;
use kerbside_wire::der::Oid;

use crate::gss::ProtectionError;
use crate::gss_krb::GssKrbError;
use crate::iakerb::IakerbError;
use crate::ntlm::NtlmClientError;

/// How the mechListMIC exchange revealed tampering with the negotiation
/// (RFC 4178 §5).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum Downgrade {
    /// The peer's MIC over DER(MechTypeList) does not verify over the list
    /// we sent: the list it saw was not ours.
    MicMismatch,
    /// The MIC was required (the chosen mechanism is not our first choice)
    /// but the peer completed without sending one.
    MicMissing,
}

impl Downgrade {
    /// `mic-mismatch` / `mic-missing`.
    pub fn name(&self) -> &'static str {
        match self {
            Downgrade::MicMismatch => "mic-mismatch",
            Downgrade::MicMissing => "mic-missing",
        }
    }
}

/// Why SPNEGO negotiation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpnegoError {
    /// Nothing to offer.
    #[error("no mechanism to offer")]
    NoMechanisms,
    /// The acceptor's token does not decode.
    #[error("malformed SPNEGO token: {0}")]
    Decode(#[from] WireError),
    /// A token of the wrong kind at this point of the exchange.
    #[error("unexpected SPNEGO token: {0}")]
    UnexpectedToken(&'static str),
    /// The acceptor chose a mechanism we did not offer.
    #[error("acceptor selected {0}, which was not offered")]
    UnofferedMechanism(Oid),
    /// The acceptor answered `reject` (RFC 4178 §4.2.2). `after_mic` says
    /// it did so right after receiving our mechListMIC, which is how an
    /// acceptor reacts when the mechanism list it saw was tampered with.
    #[error("acceptor rejected the negotiation{}", if *.after_mic { " after our mechListMIC (possible downgrade)" } else { "" })]
    Rejected {
        /// Our MIC was in the token the acceptor rejected.
        after_mic: bool,
    },
    /// The mechListMIC exchange failed: the negotiation was tampered with.
    #[error("downgrade detected: mechListMIC {}", .0.name())]
    DowngradeDetected(Downgrade),
    /// The selected mechanism cannot produce a MIC (NTLM without
    /// NTLMSSP_NEGOTIATE_SIGN), yet RFC 4178 §5 requires one.
    #[error("mechListMIC required but the mechanism cannot sign: {0}")]
    MicUnavailable(ProtectionError),
    /// The Kerberos mechanism failed (a KRB-ERROR keeps its code).
    #[error("kerberos: {0}")]
    Kerberos(#[from] GssKrbError),
    /// The NTLM mechanism failed.
    #[error("ntlm: {0}")]
    Ntlm(#[from] NtlmClientError),
    /// IAKERB failed (85/86 from the proxy, a KDC or AP error).
    #[error("iakerb: {0}")]
    Iakerb(#[from] IakerbError),
    /// A call out of order.
    #[error("SPNEGO initiator is not in a state for this call")]
    State,
}

impl SpnegoError {
    /// True when this failure is evidence of a downgrade attempt.
    pub fn is_downgrade(&self) -> bool {
        matches!(
            self,
            SpnegoError::DowngradeDetected(_) | SpnegoError::Rejected { after_mic: true }
        )
    }

    /// The RFC 4120 code when the Kerberos acceptor sent a KRB-ERROR.
    pub fn krb_code(&self) -> Option<i32> {
        match self {
            SpnegoError::Kerberos(e) => e.krb_code(),
            SpnegoError::Iakerb(e) => e.krb_code(),
            _ => None,
        }
    }
}
