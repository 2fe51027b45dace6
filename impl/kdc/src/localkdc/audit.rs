//! The LocalKDC's audit trail: one [`LocalKdcEvent`] per issue decision.
//! Shared between the policy (which records) and whoever reports (the
//! simulation's invariants, the real-mode log).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::SystemTime;

use super::policy::Placement;

/// What the policy decided.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum LocalKdcDecision {
    /// A ticket may be issued, living at most this long.
    Granted {
        /// The lifetime cap applied.
        max_lifetime_secs: u64,
    },
    /// Refused with this RFC 4120 code.
    Refused {
        /// Error code (KDC_ERR_POLICY).
        code: i32,
        /// Why, as sent in e-text.
        reason: String,
    },
}

/// One decision.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LocalKdcEvent {
    /// KDC time of the decision.
    #[serde(serialize_with = "unix_secs")]
    pub at: SystemTime,
    /// Which LocalKDC.
    pub placement: Placement,
    /// Its realm.
    pub realm: String,
    /// `as`, `tgs`, `renew`.
    pub exchange: &'static str,
    /// The client.
    pub client: String,
    /// The client's account kind.
    pub client_kind: &'static str,
    /// The service the ticket would be for.
    pub service: String,
    /// The decision.
    #[serde(flatten)]
    pub decision: LocalKdcDecision,
}

fn unix_secs<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    s.serialize_u64(secs)
}

/// Decisions kept before the oldest are dropped (a long-running server
/// that never drains must not grow without bound).
pub const DEFAULT_MAX_EVENTS: usize = 100_000;

/// The recorded decisions, in order (the most recent `max_events`).
#[derive(Debug)]
pub struct LocalKdcAudit {
    events: Mutex<VecDeque<LocalKdcEvent>>,
    max_events: usize,
}

impl Default for LocalKdcAudit {
    fn default() -> Self {
        Self::with_limit(DEFAULT_MAX_EVENTS)
    }
}

impl LocalKdcAudit {
    /// An empty trail keeping [`DEFAULT_MAX_EVENTS`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty trail keeping the most recent `max_events` (at least 1).
    pub fn with_limit(max_events: usize) -> Self {
        Self {
            events: Mutex::new(VecDeque::new()),
            max_events: max_events.max(1),
        }
    }

    /// Records a decision (also as a `tracing` event, target
    /// `kerbside::localkdc`).
    pub fn record(&self, e: LocalKdcEvent) {
        match &e.decision {
            LocalKdcDecision::Granted { max_lifetime_secs } => tracing::info!(
                target: "kerbside::localkdc",
                placement = e.placement.name(), client = %e.client, service = %e.service,
                max_lifetime_secs, "LocalKDC granted"
            ),
            LocalKdcDecision::Refused { code, reason } => tracing::info!(
                target: "kerbside::localkdc",
                placement = e.placement.name(), client = %e.client, service = %e.service,
                code, %reason, "LocalKDC refused"
            ),
        }
        // A poisoned lock only means a panic elsewhere; keep recording.
        let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if events.len() >= self.max_events {
            events.pop_front();
        }
        events.push_back(e);
    }

    /// A copy of every decision so far.
    pub fn events(&self) -> Vec<LocalKdcEvent> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Takes the decisions recorded so far.
    pub fn drain(&self) -> Vec<LocalKdcEvent> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect()
    }
}
