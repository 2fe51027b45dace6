//! IAKERB initiator failures.

use kerbside_wire::WireError;
use kerbside_wire::krb::constants::error_code_name;

use crate::gss_krb::GssKrbError;
use crate::krb::{KrbClientError, KrbErrorInfo};

/// Why the IAKERB context failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IakerbError {
    /// The acceptor could not reach a KDC: KRB_AP_ERR_IAKERB_KDC_NOT_FOUND
    /// (85) or KRB_AP_ERR_IAKERB_KDC_NO_RESPONSE (86), draft §3.3.
    #[error("IAKERB proxy: {}({}){}", .0.name(), .0.code, .0.text.as_deref().map(|t| format!(": {t}")).unwrap_or_default())]
    Proxy(KrbErrorInfo),
    /// A KDC exchange through the proxy failed (a KDC error other than the
    /// ones the exchange handles, a reply that does not decrypt, ...).
    #[error("KDC exchange through the IAKERB proxy: {0}")]
    Kdc(#[from] KrbClientError),
    /// The AP exchange failed (the acceptor's KRB-ERROR, mutual
    /// authentication).
    #[error("{0}")]
    Gss(#[from] GssKrbError),
    /// The acceptor's token is not a valid IAKERB token.
    #[error("malformed IAKERB token from the acceptor: {0}")]
    Decode(#[from] WireError),
    /// A token that does not fit this point of the exchange.
    #[error("unexpected token from the acceptor: {0}")]
    UnexpectedToken(String),
    /// Realm discovery gave nothing usable.
    #[error("realm discovery failed: {0}")]
    Discovery(String),
    /// More proxy tokens than allowed.
    #[error("more than {0} IAKERB proxy tokens")]
    TooManyHops(u32),
    /// A call out of order.
    #[error("IAKERB initiator is not in a state for this call")]
    State,
}

impl IakerbError {
    /// The RFC 4120 code of the KRB-ERROR behind the failure, if any.
    pub fn krb_code(&self) -> Option<i32> {
        match self {
            IakerbError::Proxy(e) => Some(e.code),
            IakerbError::Kdc(e) => e.krb_code(),
            IakerbError::Gss(e) => e.krb_code(),
            _ => None,
        }
    }

    /// True for the IAKERB-specific "no KDC" errors (85 / 86).
    pub fn is_proxy_failure(&self) -> bool {
        matches!(self, IakerbError::Proxy(_))
    }

    /// The name of the Kerberos error, when there is one.
    pub fn krb_name(&self) -> Option<&'static str> {
        self.krb_code()
            .map(|c| error_code_name(c).unwrap_or("KRB_ERR_OTHER"))
    }
}
