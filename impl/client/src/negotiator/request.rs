//! What a logon is asked to do, and what it reports.

use std::fmt;
use std::time::Duration;

use kerbside_crypto::{EncType, Key};

use crate::audit::{AttemptRecord, AuditEvent, LogonOutcome};
use crate::gss::Mechanism;
use crate::krb::{Credentials, Principal};

use super::error::LogonError;
use super::ntlm_policy::NtlmVerdict;
use super::route::PathKind;

/// The user's secret.
#[derive(Clone)]
pub enum Credential {
    /// A password: Kerberos keys are derived with the KDC's salt; NTLM uses
    /// its NT hash.
    Password(String),
    /// Long-term keys (a keytab). An rc4-hmac key is the NT hash, so NTLM
    /// works with one.
    Keys(Vec<Key>),
    /// Only what the ticket cache holds (a TGT logon: no secret at hand).
    Cached,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Password(_) => f.write_str("Password(<redacted>)"),
            Credential::Keys(k) => f.debug_tuple("Keys").field(k).finish(),
            Credential::Cached => f.write_str("Cached"),
        }
    }
}

impl Credential {
    /// The NT hash NTLM needs, if this credential yields one.
    pub(crate) fn nt_hash(&self) -> Option<[u8; 16]> {
        match self {
            Credential::Password(p) => Some(kerbside_crypto::nt_hash(p)),
            Credential::Keys(keys) => keys
                .iter()
                .find(|k| k.etype() == EncType::Rc4Hmac)
                .and_then(|k| <[u8; 16]>::try_from(k.bytes()).ok()),
            Credential::Cached => None,
        }
    }
}

/// How the application protocol authenticates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppProtocol {
    /// SPNEGO (HTTP `Negotiate`, SMB): Kerberos first, NTLM if permitted.
    #[default]
    Negotiate,
    /// Raw NTLMSSP (HTTP `NTLM`): an NTLM-only device; Kerberos is not
    /// possible at all.
    Ntlm,
}

/// The application server to authenticate to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppServer {
    /// Its host name, as the application uses it (also what NTLM
    /// exceptions match).
    pub host: String,
    /// Its port.
    pub port: u16,
    /// Other names it is known by (also matched by NTLM exceptions).
    pub aliases: Vec<String>,
    /// SPNEGO or raw NTLM.
    pub protocol: AppProtocol,
}

/// One logon.
#[derive(Clone, Debug)]
pub struct LogonRequest {
    /// Id carried by every audit event.
    pub id: u64,
    /// The user.
    pub client: Principal,
    /// The user's secret.
    pub credential: Credential,
    /// The service to get a ticket for (`host/app.corp.example@REALM`);
    /// `None` stops after the TGT.
    pub service: Option<Principal>,
    /// The server to authenticate to; `None` stops after the tickets.
    pub server: Option<AppServer>,
    /// Workstation name for NTLM.
    pub workstation: String,
}

/// What a logon did.
#[derive(Clone, Debug)]
pub struct LogonResult {
    /// The request id.
    pub id: u64,
    /// Success or failure.
    pub outcome: LogonOutcome,
    /// The path that produced the credentials (`none` on failure, `ntlm`
    /// when NTLM was used, `cache` when no KDC was asked).
    pub path: PathKind,
    /// Its endpoint.
    pub endpoint: Option<String>,
    /// The mechanism the application server accepted.
    pub mechanism: Option<Mechanism>,
    /// Whether any NTLM byte was sent.
    pub ntlm_used: bool,
    /// The NTLM policy's verdict, when NTLM was considered.
    pub ntlm_verdict: Option<NtlmVerdict>,
    /// From the start of the logon until the service ticket (or TGT) was
    /// in hand.
    pub time_to_ticket: Option<Duration>,
    /// The whole logon.
    pub total: Duration,
    /// Why it failed.
    pub error: Option<LogonError>,
    /// Every audit event, in order (attempts, skips, NTLM events, decision).
    pub events: Vec<AuditEvent>,
    /// The service ticket (or the TGT of a TGT-only logon).
    pub ticket: Option<Credentials>,
}

impl LogonResult {
    /// The attempt records, in order.
    pub fn attempts(&self) -> impl Iterator<Item = &AttemptRecord> {
        self.events.iter().filter_map(AuditEvent::attempt)
    }

    /// The number of events with `id`.
    pub fn count(&self, id: u32) -> usize {
        self.events.iter().filter(|e| e.id == id).count()
    }

    /// Whether the logon succeeded.
    pub fn is_success(&self) -> bool {
        self.outcome == LogonOutcome::Success
    }
}
