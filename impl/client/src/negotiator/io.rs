//! What crosses the sans-IO boundary: the clock reading the driver passes
//! in, the actions the negotiator asks for, and the events the driver
//! answers with.
//!
//! The contract, for a driver:
//! * every [`Action::KdcSend`] is answered by exactly one
//!   [`Event::KdcReply`] or [`Event::KdcFailed`] with its id, unless an
//!   [`Action::Cancel`] for that id came first (then nothing is owed, and a
//!   late answer is ignored);
//! * every [`Action::SetTimer`] fires [`Event::Timer`] once the monotonic
//!   clock reaches `at` (timers the negotiator no longer needs are ignored
//!   when they fire, so a driver may keep them all);
//! * [`Action::App`] actions are answered by [`Event::App`] events in order.
//!
//! The negotiator owns every timeout; drivers only need a generous backstop.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::route::Route;

/// A clock reading: monotonic time (timers, durations, the negative cache)
/// and the host's Kerberos wall clock (timestamps, ticket lifetimes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Time since the driver's origin; never goes backwards.
    pub mono: Duration,
    /// The host's wall clock (with any simulated skew).
    pub wall: SystemTime,
}

/// Identifies one KDC exchange (one send and its answer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ExchangeId(pub u64);

/// Identifies one timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TimerId(pub u64);

impl fmt::Display for ExchangeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "x{}", self.0)
    }
}

/// What the negotiator asks the driver to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send one bare Kerberos message (no record mark) to a KDC over
    /// `route` and report the bare reply. For KKDCP the driver wraps it
    /// (MS-KKDCP §2.2.2) for `realm`.
    KdcSend {
        /// Answer with this id.
        id: ExchangeId,
        /// Where.
        route: Route,
        /// The realm (KKDCP `target-domain`, IAKERB `target-realm`).
        realm: String,
        /// The KDC-REQ.
        message: Vec<u8>,
    },
    /// Abandon an exchange (timed out or lost a race): drop its connection
    /// or socket; no event is owed for it.
    Cancel {
        /// The exchange.
        id: ExchangeId,
    },
    /// Wake the negotiator with [`Event::Timer`] at monotonic time `at`.
    SetTimer {
        /// The timer.
        id: TimerId,
        /// When.
        at: Duration,
    },
    /// Application-server traffic.
    App(AppAction),
}

/// Application-server traffic (the gss-sample-framed connection to the
/// target server).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppAction {
    /// Connect (if not connected) and send one authentication token. With
    /// `expect_reply`, answer with [`AppEvent::Token`] (the server's next
    /// token), [`AppEvent::Accepted`] (the server finished without a
    /// token) or [`AppEvent::Failed`]; without, nothing is owed (our last
    /// context token: the server answers the application message next).
    SendToken {
        /// The token.
        token: Vec<u8>,
        /// It is the first token of the context (the gss-sample framing
        /// marks it).
        first: bool,
        /// Wait for the server's answer.
        expect_reply: bool,
    },
    /// Send an application message protected by the established context
    /// (RFC 4121 Wrap token, or NTLM sealing); answer with
    /// [`AppEvent::Message`].
    SendMessage {
        /// The protected message.
        message: Vec<u8>,
    },
    /// Close the connection; nothing is owed.
    Close,
}

/// What happened on the way to the application server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppEvent {
    /// The server's next token.
    Token(Vec<u8>),
    /// The server completed the context without sending a token.
    Accepted,
    /// The server's protected reply to [`AppAction::SendMessage`].
    Message(Vec<u8>),
    /// The connection failed.
    Failed(TransportFailure),
}

/// What the driver reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The KDC's reply to exchange `id` (bare, record mark or KKDCP framing
    /// removed).
    KdcReply {
        /// The exchange.
        id: ExchangeId,
        /// The reply bytes (untrusted).
        reply: Vec<u8>,
    },
    /// Exchange `id` failed below Kerberos.
    KdcFailed {
        /// The exchange.
        id: ExchangeId,
        /// Why.
        failure: TransportFailure,
    },
    /// A timer fired.
    Timer {
        /// The timer.
        id: TimerId,
    },
    /// Application-server traffic.
    App(AppEvent),
}

/// A failure below Kerberos, as the driver saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TransportFailure {
    /// Connection refused / port unreachable: nothing listens, retrying
    /// the same endpoint is pointless.
    #[error("connection refused")]
    Refused,
    /// The driver's own deadline passed (the negotiator's timers normally
    /// fire first).
    #[error("timed out")]
    Timeout,
    /// The peer closed or reset mid-exchange.
    #[error("connection reset or closed: {0}")]
    Reset(String),
    /// The name did not resolve.
    #[error("cannot resolve {0}")]
    Resolve(String),
    /// TLS handshake or certificate failure.
    #[error("TLS: {0}")]
    Tls(String),
    /// The relay answered HTTP with a non-200 status.
    #[error("HTTP {status}")]
    Http {
        /// The status.
        status: u16,
    },
    /// The reply's framing (record mark, KKDCP envelope) is invalid.
    #[error("malformed reply framing: {0}")]
    Framing(String),
    /// A request or reply above a size limit.
    #[error("message too large: {0}")]
    TooLarge(String),
    /// The driver cannot carry this route (no handler for the stage).
    #[error("route not available: {0}")]
    NotAvailable(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl TransportFailure {
    /// Whether retrying the same endpoint is pointless (nothing listens).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            TransportFailure::Refused
                | TransportFailure::Resolve(_)
                | TransportFailure::NotAvailable(_)
        )
    }
}
