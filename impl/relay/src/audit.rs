//! One JSON audit record per relay transaction.
//!
//! MIT clients ignore the HTTP status (protocols.md §1.5), so a proxy failure
//! looks to the user like "Cannot contact any KDC" (latchset/kdcproxy#37).
//! The audit line is where an operator finds out what actually happened.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use serde::Serialize;

/// What became of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// An upstream answered and its reply was returned (200).
    Relayed,
    /// The request was refused before any upstream was contacted.
    Rejected,
    /// No upstream gave a usable reply in time (502/503/504).
    UpstreamFailed,
}

/// The record written for each request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    /// When the request arrived (RFC 3339, UTC, milliseconds).
    pub time: String,
    /// The client's address.
    pub client: Option<SocketAddr>,
    /// The authenticated identity (token label or certificate fingerprint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// target-domain, as the client sent it.
    pub realm: Option<String>,
    /// Inner request type: `AS-REQ`, `TGS-REQ`, `KPASSWD-REQ`.
    pub msg_type: Option<&'static str>,
    /// Client principal (`name@REALM`) where the request shows it (AS-REQ).
    pub cname: Option<String>,
    /// Service principal (`name@REALM`) where the request shows it.
    pub sname: Option<String>,
    /// The upstream that answered, or the last one tried.
    pub upstream: Option<String>,
    /// How many upstream attempts were made.
    pub attempts: usize,
    /// What happened.
    pub outcome: Outcome,
    /// Why, for anything but a plain relay: a stable snake_case reason code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// Reply type returned (`AS-REP`, `TGS-REP`, `KRB-ERROR`, `KPASSWD-REP`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_type: Option<&'static str>,
    /// The KRB-ERROR code, when the reply was a KRB-ERROR.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i32>,
    /// The HTTP status returned.
    pub status: u16,
    /// Time from arrival to response, in milliseconds.
    pub latency_ms: f64,
}

impl AuditRecord {
    /// The record as one line of JSON (no trailing newline).
    pub fn to_json_line(&self) -> String {
        // Serialising a struct of strings and numbers cannot fail; fall back
        // to a minimal line rather than panic if it ever did.
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(
                "{{\"audit_error\":{:?},\"status\":{}}}",
                e.to_string(),
                self.status
            )
        })
    }
}

/// Where audit records go. The driver owns one; tests collect them.
pub trait AuditSink: Send + Sync {
    /// Records one transaction.
    fn record(&self, record: &AuditRecord);
}

/// Discards audit records.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAudit;

impl AuditSink for NoAudit {
    fn record(&self, _: &AuditRecord) {}
}

/// Collects records in memory (tests, the simulation's trace).
#[derive(Debug, Default)]
pub struct MemoryAudit(std::sync::Mutex<Vec<AuditRecord>>);

impl MemoryAudit {
    /// Everything recorded so far.
    pub fn records(&self) -> Vec<AuditRecord> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl AuditSink for MemoryAudit {
    fn record(&self, record: &AuditRecord) {
        if let Ok(mut v) = self.0.lock() {
            v.push(record.clone());
        }
    }
}

/// RFC 3339 UTC with milliseconds, from the injected clock.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let dt: chrono::DateTime<chrono::Utc> = t.into();
    dt.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Milliseconds between two injected instants (0 if the clock went back).
pub(crate) fn millis_between(start: SystemTime, end: SystemTime) -> f64 {
    let d = end.duration_since(start).unwrap_or(Duration::ZERO);
    // Round to microseconds: enough resolution, stable text.
    (d.as_micros() as f64) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_and_latency_format() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_764_093_638_123);
        assert_eq!(rfc3339(t), "2025-11-25T18:00:38.123Z");
        assert_eq!(millis_between(t, t + Duration::from_micros(1500)), 1.5);
        assert_eq!(millis_between(t + Duration::from_secs(1), t), 0.0);
    }
}
