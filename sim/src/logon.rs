//! Logons: the interface between the simulation and whatever authenticates
//! on a client host.
//!
//! The runner asks a client host's [`LogonAgent`] to log a user on and gets
//! a [`LogonReport`]: the path taken, every attempt with its endpoint,
//! result and duration, the negotiator's audit events (event ids 7001 ...
//! 8001/4001, see `kerbside_client::audit`), whether NTLM was used, and
//! why it failed. The agent is the negotiator
//! ([`crate::programs::client`]).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use kerbside_client::audit::{AttemptOutcome, AuditEvent, LogonOutcome};
use kerbside_client::negotiator::{LogonResult, PathKind};
use serde::Serialize;

use crate::scenario::{AppProtocol, Outcome, Path};

/// A logon to perform.
#[derive(Clone, Debug)]
pub struct LogonRequest {
    /// Run-wide logon id.
    pub id: u64,
    /// User name without realm (`alice`).
    pub user: String,
    /// The user's realm.
    pub realm: String,
    /// Service principal to get a ticket for after the TGT, without realm
    /// (`host/app.corp.example`).
    pub service: Option<String>,
    /// Application server to authenticate to (host name or alias).
    pub server: Option<String>,
    /// Its authentication protocol, when the timeline says.
    pub protocol: Option<AppProtocol>,
}

/// How one attempt ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "result", content = "detail")]
pub enum AttemptResult {
    /// The endpoint answered and the step succeeded.
    Ok,
    /// The endpoint answered with a KRB-ERROR (expected, like
    /// PREAUTH_REQUIRED, or final).
    KrbError {
        /// RFC 4120 §7.5.9 code.
        code: i32,
        /// Its name.
        name: String,
    },
    /// Connection refused (RST / ICMP unreachable).
    Refused,
    /// Nothing came back in time.
    Timeout,
    /// Another endpoint answered first (racing); this one was abandoned.
    Cancelled,
    /// The application server refused the authentication.
    Rejected,
    /// Anything else (TLS failure, HTTP error, malformed reply...).
    Error(String),
}

impl AttemptResult {
    /// A short word for tables.
    pub fn word(&self) -> &'static str {
        match self {
            AttemptResult::Ok => "ok",
            AttemptResult::KrbError { .. } => "krb-error",
            AttemptResult::Refused => "refused",
            AttemptResult::Timeout => "timeout",
            AttemptResult::Cancelled => "cancelled",
            AttemptResult::Rejected => "rejected",
            AttemptResult::Error(_) => "error",
        }
    }
}

/// One attempt on one path and endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// The path this attempt tried.
    pub stage: Path,
    /// Where (`dc1:88`, `https://relay/KdcProxy`, `files.corp.example:4444`).
    pub endpoint: String,
    /// Which message (`as`, `as-preauth`, `tgs`, `renew`, `app`).
    pub exchange: String,
    /// How long it took (simulated time).
    #[serde(serialize_with = "ser_micros")]
    pub duration: Duration,
    /// How it ended.
    #[serde(flatten)]
    pub result: AttemptResult,
}

/// What a logon did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogonReport {
    /// The path that produced the result (`none` when every path failed,
    /// `cache` when no KDC was asked, `ntlm` when NTLM was used).
    pub path: Path,
    /// Success or failure.
    pub outcome: Outcome,
    /// The endpoint of that path.
    pub endpoint: Option<String>,
    /// The mechanism the application server accepted (`kerberos`, `ntlm`).
    pub mechanism: Option<String>,
    /// Whether any NTLM byte was sent.
    pub ntlm_used: bool,
    /// Until the service ticket (or TGT) was in hand.
    #[serde(rename = "time_to_ticket_us", serialize_with = "ser_opt_micros")]
    pub time_to_ticket: Option<Duration>,
    /// Every attempt in order (KDC exchanges and the application).
    pub attempts: Vec<Attempt>,
    /// The negotiator's audit events, in order.
    pub audit: Vec<AuditEvent>,
    /// Why it failed, for people.
    pub error: Option<String>,
    /// Why it failed, as a stable kind (`ntlm-denied`, `downgrade`, ...).
    pub error_kind: Option<String>,
}

impl LogonReport {
    /// The report of a negotiator logon.
    pub fn from_result(r: &LogonResult) -> Self {
        let attempts = r
            .attempts()
            .map(|a| Attempt {
                stage: path_of(a.path),
                endpoint: a.endpoint.clone(),
                exchange: serde_json::to_value(a.exchange)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                duration: a.duration,
                result: match a.outcome {
                    AttemptOutcome::Ok => AttemptResult::Ok,
                    AttemptOutcome::KrbError => AttemptResult::KrbError {
                        code: a.error_code.unwrap_or(0),
                        name: a.error.clone().unwrap_or_default(),
                    },
                    AttemptOutcome::Refused => AttemptResult::Refused,
                    AttemptOutcome::Timeout => AttemptResult::Timeout,
                    AttemptOutcome::Cancelled => AttemptResult::Cancelled,
                    AttemptOutcome::Rejected => AttemptResult::Rejected,
                    AttemptOutcome::Error => {
                        AttemptResult::Error(a.error.clone().unwrap_or_default())
                    }
                },
            })
            .collect();
        LogonReport {
            path: path_of(r.path),
            outcome: match r.outcome {
                LogonOutcome::Success => Outcome::Success,
                LogonOutcome::Failure => Outcome::Failure,
            },
            endpoint: r.endpoint.clone(),
            mechanism: r.mechanism.map(|m| m.name().to_owned()),
            ntlm_used: r.ntlm_used,
            time_to_ticket: r.time_to_ticket,
            attempts,
            audit: r.events.clone(),
            error: r.error.as_ref().map(ToString::to_string),
            error_kind: r.error.as_ref().map(|e| e.kind().to_owned()),
        }
    }

    /// A failure before any negotiation (no credentials, bad request).
    pub fn refused(why: String) -> Self {
        LogonReport {
            path: Path::None,
            outcome: Outcome::Failure,
            endpoint: None,
            mechanism: None,
            ntlm_used: false,
            time_to_ticket: None,
            attempts: Vec::new(),
            audit: Vec::new(),
            error: Some(why),
            error_kind: Some("setup".into()),
        }
    }

    /// Audit events with `id`.
    pub fn count(&self, id: u32) -> usize {
        self.audit.iter().filter(|e| e.id == id).count()
    }

    /// The paths tried, in order, consecutive repeats folded, without the
    /// application attempt (the fallback order). IAKERB's application
    /// attempt is a path attempt: its KDC exchanges ride in it.
    pub fn order(&self) -> Vec<Path> {
        let mut out: Vec<Path> = Vec::new();
        for a in self
            .attempts
            .iter()
            .filter(|a| a.exchange != "app" || a.stage == Path::Iakerb)
        {
            if out.last() != Some(&a.stage) {
                out.push(a.stage);
            }
        }
        out
    }
}

/// The negotiator's path names are the scenario's.
pub fn path_of(p: PathKind) -> Path {
    match p {
        PathKind::NativeTcp => Path::NativeTcp,
        PathKind::NativeUdp => Path::NativeUdp,
        PathKind::Kkdcp => Path::Kkdcp,
        PathKind::Iakerb => Path::Iakerb,
        PathKind::Localkdc => Path::Localkdc,
        PathKind::Ntlm => Path::Ntlm,
        PathKind::Cache => Path::Cache,
        PathKind::None => Path::None,
    }
}

/// Logs users on from one client host. Object-safe so the runner can hold
/// whichever agent the policy selects.
pub trait LogonAgent {
    /// Performs one logon.
    fn logon(&self, req: LogonRequest) -> Pin<Box<dyn Future<Output = LogonReport> + '_>>;
}

pub(crate) fn ser_micros<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

fn ser_opt_micros<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => ser_micros(d, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A report with these attempts (KDC exchanges) and a decision event.
    pub(crate) fn report(attempts: Vec<(Path, AttemptResult)>, outcome: Outcome) -> LogonReport {
        use kerbside_client::audit::{AuditDetail, Decision, ids};
        let path = match outcome {
            Outcome::Success => attempts.last().map_or(Path::None, |a| a.0),
            Outcome::Failure => Path::None,
        };
        let attempts: Vec<Attempt> = attempts
            .into_iter()
            .map(|(stage, result)| Attempt {
                stage,
                endpoint: "dc1:88".into(),
                exchange: "as".into(),
                duration: Duration::from_millis(3),
                result,
            })
            .collect();
        let mut audit: Vec<AuditEvent> = attempts
            .iter()
            .map(|_| AuditEvent {
                id: ids::ATTEMPT,
                logon: 1,
                at: Duration::ZERO,
                client: "alice@CORP.EXAMPLE".into(),
                target: "krbtgt/CORP.EXAMPLE@CORP.EXAMPLE".into(),
                detail: AuditDetail::NotAvailable {
                    path: PathKind::NativeTcp,
                    endpoint: "placeholder for an attempt record".into(),
                    reason: String::new(),
                },
            })
            .collect();
        audit.push(AuditEvent {
            id: ids::DECISION,
            logon: 1,
            at: Duration::ZERO,
            client: "alice@CORP.EXAMPLE".into(),
            target: "krbtgt/CORP.EXAMPLE@CORP.EXAMPLE".into(),
            detail: AuditDetail::Decision(Decision {
                outcome: if outcome == Outcome::Success {
                    LogonOutcome::Success
                } else {
                    LogonOutcome::Failure
                },
                path: PathKind::None,
                endpoint: None,
                ntlm_used: false,
                ntlm_verdict: None,
                time_to_ticket: None,
                total: Duration::ZERO,
                error_code: None,
                error: None,
            }),
        });
        LogonReport {
            path,
            outcome,
            endpoint: None,
            mechanism: None,
            ntlm_used: false,
            time_to_ticket: None,
            attempts,
            audit,
            error: None,
            error_kind: None,
        }
    }

    #[test]
    fn fallback_order_folds_repeats_and_ignores_the_application() {
        let mut r = report(
            vec![
                (Path::NativeTcp, AttemptResult::Timeout),
                (Path::NativeTcp, AttemptResult::Timeout),
                (Path::Kkdcp, AttemptResult::Ok),
                (Path::Kkdcp, AttemptResult::Ok),
            ],
            Outcome::Success,
        );
        r.attempts.push(Attempt {
            stage: Path::Kkdcp,
            endpoint: "files:4444".into(),
            exchange: "app".into(),
            duration: Duration::ZERO,
            result: AttemptResult::Ok,
        });
        assert_eq!(r.order(), vec![Path::NativeTcp, Path::Kkdcp]);
        assert_eq!(r.count(kerbside_client::audit::ids::DECISION), 1);
    }

    #[test]
    fn negotiator_paths_map_one_to_one() {
        for (k, p) in [
            (PathKind::NativeTcp, "native-tcp"),
            (PathKind::NativeUdp, "native-udp"),
            (PathKind::Kkdcp, "kkdcp"),
            (PathKind::Iakerb, "iakerb"),
            (PathKind::Localkdc, "localkdc"),
            (PathKind::Ntlm, "ntlm"),
            (PathKind::Cache, "cache"),
            (PathKind::None, "none"),
        ] {
            assert_eq!(path_of(k).as_str(), p);
            assert_eq!(k.as_str(), p);
        }
    }
}
