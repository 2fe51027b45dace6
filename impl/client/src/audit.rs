//! Structured audit events of the negotiator: the record that catches a
//! silent NTLM fallback (DESIGN §3).
//!
//! Every attempt and every decision emits one [`AuditEvent`] (serde, so the
//! simulation's results, a JSON log line and a report all carry the same
//! shape). Event ids mirror the Windows NTLM operational events where the
//! meaning matches (reference/protocols.md §4.4, channel
//! `Microsoft-Windows-NTLM/Operational`) and are kerbside's own otherwise:
//!
//! | id | kind | meaning |
//! |---|---|---|
//! | **8001** | `ntlm-audit` | Windows "NTLM client blocked audit": outgoing NTLM that policy `audit` lets through and records (`Audit all`) |
//! | **4001** | `ntlm-blocked` | Windows "NTLM client blocked": outgoing NTLM refused by policy `deny` (`Deny all`); no NTLM byte was sent |
//! | 7001 | `attempt` | one KDC exchange (or the application authentication) on one endpoint: path, endpoint, outcome, Kerberos error code or transport error, duration |
//! | 7002 | `skipped` | an endpoint skipped because it is in the negative cache (or, with `deferred`, moved behind every fresh one) |
//! | 7003 | `not-available` | a stage the policy enables that cannot be used (no handler, no target server) |
//! | 7004 | `ticket-cache` | a ticket taken from the cache (or a renewal of one) instead of a new exchange |
//! | 7005 | `ntlm-used` | NTLM sent under `allow` or as a `deny` exception, where Windows logs nothing: every NTLM use leaves a record |
//! | 7010 | `decision` | the end of a logon: final path, total time, NTLM used or not, policy verdict, error |
//! | 7020 | `security` | a security failure: SPNEGO downgrade (mechListMIC), server failed mutual authentication |
//!
//! Times are the host's monotonic clock (microseconds in JSON), durations
//! are measured on it too.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::negotiator::{NtlmVerdict, PathKind};

/// Event ids.
pub mod ids {
    /// Windows NTLM operational "NTLM client blocked audit" (Audit all).
    pub const NTLM_CLIENT_BLOCKED_AUDIT: u32 = 8001;
    /// Windows NTLM operational "NTLM client blocked" (Deny all).
    pub const NTLM_CLIENT_BLOCKED: u32 = 4001;
    /// One attempt on one endpoint.
    pub const ATTEMPT: u32 = 7001;
    /// An endpoint skipped by the negative cache.
    pub const SKIPPED: u32 = 7002;
    /// A stage that cannot be used.
    pub const NOT_AVAILABLE: u32 = 7003;
    /// A cached ticket used or renewed.
    pub const TICKET_CACHE: u32 = 7004;
    /// NTLM used where Windows would log nothing.
    pub const NTLM_USED: u32 = 7005;
    /// The decision closing a logon.
    pub const DECISION: u32 = 7010;
    /// A security failure.
    pub const SECURITY: u32 = 7020;
}

/// The NTLMSSP mechanism OID (the `MechanismOID` field of events 8001/4001).
pub const NTLM_MECH_OID: &str = "1.3.6.1.4.1.311.2.2.10";

/// One audit record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Event id (see the module table).
    pub id: u32,
    /// The logon this event belongs to.
    pub logon: u64,
    /// When, on the host's monotonic clock.
    #[serde(rename = "at_us", with = "micros")]
    pub at: Duration,
    /// The user (`alice@CORP.EXAMPLE`).
    pub client: String,
    /// What the user wanted to reach (service principal, or server name).
    pub target: String,
    /// What happened.
    #[serde(flatten)]
    pub detail: AuditDetail,
}

/// The kinds of audit events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AuditDetail {
    /// 7001.
    Attempt(AttemptRecord),
    /// 7002.
    Skipped {
        /// The path.
        path: PathKind,
        /// The endpoint.
        endpoint: String,
        /// How much longer the endpoint stays cached.
        #[serde(rename = "remaining_us", with = "micros")]
        remaining: Duration,
        /// Deferred rather than dropped: it is still tried after every
        /// fresh endpoint (`when_all_cached = "probe"`).
        deferred: bool,
    },
    /// 7003.
    NotAvailable {
        /// The path.
        path: PathKind,
        /// The endpoint it would have used.
        endpoint: String,
        /// Why not.
        reason: String,
    },
    /// 7004.
    TicketCache {
        /// The ticket's server principal.
        server: String,
        /// `hit` or `renewed`.
        action: CacheAction,
    },
    /// 8001 (audit), 4001 (blocked), 7005 (used without a Windows event).
    Ntlm {
        /// The server NTLM is (or would have been) sent to.
        server: String,
        /// The policy's verdict.
        verdict: NtlmVerdict,
        /// NTLMSSP's OID, as the Windows events carry it.
        mechanism: String,
        /// Whether any NTLM byte was sent.
        sent: bool,
    },
    /// 7010.
    Decision(Decision),
    /// 7020.
    Security {
        /// What was detected.
        what: SecurityKind,
        /// Details for people.
        detail: String,
    },
}

/// What happened to a cached ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheAction {
    /// Used as is.
    Hit,
    /// Renewed with the KDC (RFC 4120 §3.3.1).
    Renewed,
    /// Still valid but past its refresh point; used because no KDC could
    /// replace it.
    UsedStale,
}

/// Security failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecurityKind {
    /// RFC 4178 §5: the mechListMIC did not verify (or was missing when
    /// required): someone changed the mechanism list.
    Downgrade,
    /// The server did not prove its identity (AP-REP or NTLM failed).
    ServerAuthentication,
    /// A KDC reply whose integrity check failed (RFC 6806 §11 request
    /// checksum, wrong nonce): the exchange was tampered with.
    Tampering,
}

/// Which message an attempt carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExchangeKind {
    /// First AS-REQ.
    As,
    /// AS-REQ with PA-ENC-TIMESTAMP after KDC_ERR_PREAUTH_REQUIRED.
    AsPreauth,
    /// TGS-REQ for the service.
    Tgs,
    /// TGS-REQ renewing the TGT.
    Renew,
    /// Authentication to the application server (SPNEGO / NTLM).
    App,
}

/// How an attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttemptOutcome {
    /// The endpoint answered and the step succeeded.
    Ok,
    /// The endpoint answered with a KRB-ERROR (which may be expected, e.g.
    /// KDC_ERR_PREAUTH_REQUIRED, or may end the logon).
    KrbError,
    /// Connection refused (RST / ICMP unreachable): no retry on this endpoint.
    Refused,
    /// No answer in time.
    Timeout,
    /// A transport, TLS, HTTP or decoding failure.
    Error,
    /// Another racer answered first; this one was abandoned.
    Cancelled,
    /// The server rejected the authentication.
    Rejected,
}

impl AttemptOutcome {
    /// The name used in files and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Ok => "ok",
            AttemptOutcome::KrbError => "krb-error",
            AttemptOutcome::Refused => "refused",
            AttemptOutcome::Timeout => "timeout",
            AttemptOutcome::Error => "error",
            AttemptOutcome::Cancelled => "cancelled",
            AttemptOutcome::Rejected => "rejected",
        }
    }
}

/// One attempt on one endpoint (event 7001).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// The path.
    pub path: PathKind,
    /// The endpoint.
    pub endpoint: String,
    /// Which message.
    pub exchange: ExchangeKind,
    /// 1 for the first send on this endpoint for this message, 2 for the
    /// first retry, ...
    pub try_no: u32,
    /// Started by racing (happy eyeballs) while an earlier endpoint was
    /// still in flight.
    pub raced: bool,
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// The KRB-ERROR code, when the answer was one.
    pub error_code: Option<i32>,
    /// The transport error or error name, for people.
    pub error: Option<String>,
    /// When it started (host monotonic clock).
    #[serde(rename = "started_us", with = "micros")]
    pub started: Duration,
    /// How long it took.
    #[serde(rename = "duration_us", with = "micros")]
    pub duration: Duration,
}

/// Success or failure of a logon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogonOutcome {
    /// Authenticated.
    Success,
    /// Not authenticated.
    Failure,
}

/// The decision closing a logon (event 7010).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Success or failure.
    pub outcome: LogonOutcome,
    /// The path that produced the credentials (`none` on failure).
    pub path: PathKind,
    /// Its endpoint.
    pub endpoint: Option<String>,
    /// Whether NTLM was used (any NTLM byte sent).
    pub ntlm_used: bool,
    /// The NTLM policy verdict, when NTLM was considered.
    pub ntlm_verdict: Option<NtlmVerdict>,
    /// Time until the service ticket (or TGT) was in hand.
    #[serde(rename = "time_to_ticket_us", with = "micros_opt")]
    pub time_to_ticket: Option<Duration>,
    /// Time of the whole logon.
    #[serde(rename = "total_us", with = "micros")]
    pub total: Duration,
    /// The KRB-ERROR code that ended it, if any.
    pub error_code: Option<i32>,
    /// Why it failed, for people.
    pub error: Option<String>,
}

/// Durations as integer microseconds.
pub(crate) mod micros {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_micros(u64::deserialize(d)?))
    }
}

/// Optional durations as integer microseconds.
pub(crate) mod micros_opt {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_micros))
    }
}

impl AuditEvent {
    /// The attempt record, for 7001 events.
    pub fn attempt(&self) -> Option<&AttemptRecord> {
        match &self.detail {
            AuditDetail::Attempt(a) => Some(a),
            _ => None,
        }
    }

    /// The decision, for 7010 events.
    pub fn decision(&self) -> Option<&Decision> {
        match &self.detail {
            AuditDetail::Decision(d) => Some(d),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_flat_with_kind_and_micros() {
        let e = AuditEvent {
            id: ids::ATTEMPT,
            logon: 3,
            at: Duration::from_millis(1500),
            client: "alice@CORP.EXAMPLE".into(),
            target: "host/app.corp.example@CORP.EXAMPLE".into(),
            detail: AuditDetail::Attempt(AttemptRecord {
                path: PathKind::NativeTcp,
                endpoint: "dc1:88".into(),
                exchange: ExchangeKind::As,
                try_no: 1,
                raced: false,
                outcome: AttemptOutcome::KrbError,
                error_code: Some(25),
                error: Some("KDC_ERR_PREAUTH_REQUIRED".into()),
                started: Duration::from_millis(1000),
                duration: Duration::from_micros(2500),
            }),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["id"], 7001);
        assert_eq!(v["kind"], "attempt");
        assert_eq!(v["path"], "native-tcp");
        assert_eq!(v["outcome"], "krb-error");
        assert_eq!(v["error_code"], 25);
        assert_eq!(v["at_us"], 1_500_000);
        assert_eq!(v["duration_us"], 2500);
        let back: AuditEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn ntlm_events_carry_the_windows_fields() {
        let e = AuditEvent {
            id: ids::NTLM_CLIENT_BLOCKED,
            logon: 1,
            at: Duration::ZERO,
            client: "alice@CORP.EXAMPLE".into(),
            target: "printer.corp.example".into(),
            detail: AuditDetail::Ntlm {
                server: "printer.corp.example".into(),
                verdict: NtlmVerdict::Denied,
                mechanism: NTLM_MECH_OID.into(),
                sent: false,
            },
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["id"], 4001);
        assert_eq!(v["kind"], "ntlm");
        assert_eq!(v["verdict"], "denied");
        assert_eq!(v["mechanism"], "1.3.6.1.4.1.311.2.2.10");
        assert_eq!(v["sent"], false);
        let back: AuditEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }
}
