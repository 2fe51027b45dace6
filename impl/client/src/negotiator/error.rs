//! Why a logon failed.

use std::time::Duration;

use kerbside_wire::krb::constants::error_code_name;

use super::io::TransportFailure;
use super::policy::PolicyError;

/// A failed logon, typed so callers (and scenario expectations) can tell a
/// policy refusal from an outage from an attack.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogonError {
    /// The policy does not validate.
    #[error("invalid policy: {0}")]
    Policy(#[from] PolicyError),
    /// No Kerberos path answered and NTLM is not an option (no application
    /// server, or the failure is not one NTLM would work around).
    #[error("no Kerberos path reachable{}", .last.as_deref().map(|l| format!(" (last: {l})")).unwrap_or_default())]
    Unreachable {
        /// The last failure seen.
        last: Option<String>,
    },
    /// A KDC or the server answered with a KRB-ERROR that ends the logon.
    #[error("{name}({code}){}", .text.as_deref().map(|t| format!(": {t}")).unwrap_or_default())]
    Kerberos {
        /// RFC 4120 §7.5.9 code.
        code: i32,
        /// Its name.
        name: String,
        /// Details.
        text: Option<String>,
    },
    /// A KDC reply failed its integrity checks (wrong password, or tampered).
    #[error("KDC reply rejected: {0}")]
    Integrity(String),
    /// Policy `deny` forbids NTLM to this server and Kerberos failed: fail
    /// closed (Windows event 4001). No NTLM byte was sent.
    #[error("Kerberos failed and NTLM to {server} is denied by policy (Restrict NTLM: Deny all)")]
    NtlmDenied {
        /// The server.
        server: String,
    },
    /// The logon was to use only cached tickets and none is usable.
    #[error("no usable cached ticket and no password or key to get one")]
    NoCredentials,
    /// NTLM was permitted but there is no password or NT hash for it.
    #[error("NTLM needed but no password or NT hash is available")]
    NoNtlmCredential,
    /// SPNEGO detected a changed mechanism list (RFC 4178 §5): a downgrade
    /// attempt. The logon fails closed.
    #[error("downgrade detected: {0}")]
    Downgrade(String),
    /// The server did not prove its identity (AP-REP, MIC on the reply).
    #[error("server authentication failed: {0}")]
    ServerAuthentication(String),
    /// The server rejected the authentication.
    #[error("server rejected the authentication: {0}")]
    Rejected(String),
    /// The application server's tokens do not make sense (malformed,
    /// out of order, a mechanism failure).
    #[error("application protocol: {0}")]
    AppProtocol(String),
    /// The connection to the application server failed.
    #[error("application server: {0}")]
    App(TransportFailure),
    /// The application server did not answer in time.
    #[error("application server did not answer within {0:?}")]
    AppTimeout(Duration),
    /// The logon's overall budget ran out.
    #[error("logon did not finish within {0:?}")]
    Timeout(Duration),
}

impl LogonError {
    /// A KRB-ERROR as a logon error.
    pub(crate) fn kerberos(code: i32, text: Option<String>) -> Self {
        LogonError::Kerberos {
            code,
            name: error_code_name(code).unwrap_or("KRB_ERR_OTHER").to_owned(),
            text,
        }
    }

    /// The KRB-ERROR code, when the failure is one.
    pub fn krb_code(&self) -> Option<i32> {
        match self {
            LogonError::Kerberos { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// A short stable name for tables and expectations.
    pub fn kind(&self) -> &'static str {
        match self {
            LogonError::Policy(_) => "policy",
            LogonError::Unreachable { .. } => "unreachable",
            LogonError::Kerberos { .. } => "kerberos",
            LogonError::Integrity(_) => "integrity",
            LogonError::NtlmDenied { .. } => "ntlm-denied",
            LogonError::NoCredentials => "no-credentials",
            LogonError::NoNtlmCredential => "no-ntlm-credential",
            LogonError::Downgrade(_) => "downgrade",
            LogonError::ServerAuthentication(_) => "server-authentication",
            LogonError::Rejected(_) => "rejected",
            LogonError::AppProtocol(_) => "app-protocol",
            LogonError::App(_) => "app",
            LogonError::AppTimeout(_) => "app-timeout",
            LogonError::Timeout(_) => "timeout",
        }
    }
}
