//! Logons: the interface between the simulation and whatever authenticates
//! on a client host.
//!
//! The runner asks a client host's [`LogonAgent`] to log a user on and gets
//! a [`LogonReport`]: the path taken, every attempt with its endpoint,
//! result and duration, and the audit events. The first agent is the
//! simple fallback client in [`crate::programs::client`] (native Kerberos,
//! then the configured relays); the negotiator replaces it behind the same
//! trait.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::Serialize;

use crate::scenario::{Outcome, Path};

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
}

/// How one attempt ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "result", content = "detail")]
pub enum AttemptResult {
    /// The exchange(s) on this path succeeded.
    Ok,
    /// The KDC answered with a KRB-ERROR that ends the logon (wrong
    /// password, unknown principal...): no other path would do better.
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
            AttemptResult::Error(_) => "error",
        }
    }
}

/// One attempt on one path and endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// The path this attempt tried.
    pub stage: Path,
    /// Where (`dc1:88`, `https://relay/KdcProxy`).
    pub endpoint: String,
    /// How long it took (simulated time).
    #[serde(serialize_with = "ser_micros")]
    pub duration: Duration,
    /// How it ended.
    #[serde(flatten)]
    pub result: AttemptResult,
}

/// A structured audit event (DESIGN §3: stage, endpoint, outcome, error
/// code, duration, NTLM yes/no): the record that catches a silent NTLM
/// fallback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// `attempt` for each try, `decision` for the final outcome.
    pub event: &'static str,
    /// The path.
    pub stage: Path,
    /// Where.
    pub endpoint: String,
    /// `ok`, `krb-error`, `refused`, `timeout`, `error`, `success`, `failure`.
    pub outcome: String,
    /// KRB-ERROR code, if any.
    pub error_code: Option<i32>,
    /// Duration.
    #[serde(serialize_with = "ser_micros")]
    pub duration: Duration,
    /// Whether NTLM was used.
    pub ntlm: bool,
}

/// What a logon did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogonReport {
    /// The path that produced the result (`none` when every path failed).
    pub path: Path,
    /// Success or failure.
    pub outcome: Outcome,
    /// Every attempt in order.
    pub attempts: Vec<Attempt>,
    /// Audit events.
    pub audit: Vec<AuditEvent>,
    /// Why it failed, for people.
    pub error: Option<String>,
}

impl LogonReport {
    /// Builds the report from attempts: the last attempt decides the path and
    /// outcome; one audit event per attempt plus the decision.
    pub fn from_attempts(attempts: Vec<Attempt>, total: Duration) -> Self {
        let last_ok = attempts.last().filter(|a| a.result == AttemptResult::Ok);
        let (path, outcome) = match last_ok {
            Some(a) => (a.stage, Outcome::Success),
            None => (Path::None, Outcome::Failure),
        };
        let error = match attempts.last() {
            None => Some("no path is configured".to_owned()),
            Some(a) if a.result != AttemptResult::Ok => Some(match &a.result {
                AttemptResult::KrbError { code, name } => {
                    format!("{name} ({code}) from {}", a.endpoint)
                }
                AttemptResult::Error(e) => format!("{}: {e}", a.endpoint),
                r => format!("{}: {}", a.endpoint, r.word()),
            }),
            Some(_) => None,
        };
        let mut audit: Vec<AuditEvent> = attempts
            .iter()
            .map(|a| AuditEvent {
                event: "attempt",
                stage: a.stage,
                endpoint: a.endpoint.clone(),
                outcome: a.result.word().to_owned(),
                error_code: match a.result {
                    AttemptResult::KrbError { code, .. } => Some(code),
                    _ => None,
                },
                duration: a.duration,
                ntlm: a.stage == Path::Ntlm,
            })
            .collect();
        audit.push(AuditEvent {
            event: "decision",
            stage: path,
            endpoint: last_ok.map(|a| a.endpoint.clone()).unwrap_or_default(),
            outcome: match outcome {
                Outcome::Success => "success".to_owned(),
                Outcome::Failure => "failure".to_owned(),
            },
            error_code: None,
            duration: total,
            ntlm: path == Path::Ntlm,
        });
        LogonReport {
            path,
            outcome,
            attempts,
            audit,
            error,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(stage: Path, result: AttemptResult) -> Attempt {
        Attempt {
            stage,
            endpoint: "dc1:88".into(),
            duration: Duration::from_millis(3),
            result,
        }
    }

    #[test]
    fn report_takes_path_from_the_successful_attempt() {
        let r = LogonReport::from_attempts(
            vec![
                attempt(Path::NativeTcp, AttemptResult::Timeout),
                attempt(Path::Kkdcp, AttemptResult::Ok),
            ],
            Duration::from_secs(3),
        );
        assert_eq!(r.path, Path::Kkdcp);
        assert_eq!(r.outcome, Outcome::Success);
        assert_eq!(r.audit.len(), 3);
        assert_eq!(r.audit[2].event, "decision");
        assert!(r.error.is_none());
    }

    #[test]
    fn report_failure_names_the_last_error() {
        let r = LogonReport::from_attempts(
            vec![attempt(
                Path::NativeTcp,
                AttemptResult::KrbError {
                    code: 24,
                    name: "KDC_ERR_PREAUTH_FAILED".into(),
                },
            )],
            Duration::from_millis(3),
        );
        assert_eq!(r.path, Path::None);
        assert_eq!(r.outcome, Outcome::Failure);
        assert_eq!(
            r.error.as_deref(),
            Some("KDC_ERR_PREAUTH_FAILED (24) from dc1:88")
        );
        assert_eq!(r.audit[0].error_code, Some(24));
        let empty = LogonReport::from_attempts(vec![], Duration::ZERO);
        assert_eq!(empty.error.as_deref(), Some("no path is configured"));
    }
}
