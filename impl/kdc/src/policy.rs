//! Issue policy: the hook consulted every time the KDC is about to issue a
//! ticket.
//!
//! The core enforces the protocol (RFC 4120); a policy decides what the
//! realm allows: how long tickets live, whether they may be renewable or
//! forwardable, and whether this client may have a ticket for this service
//! at all. [`RealmPolicy`] is the ordinary DC's (limits from
//! [`crate::KdcConfig`]); LocalKDC plugs in its own (lifetime cap, service
//! allowlist, principal kind) without touching the exchanges.

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::codes::ErrorCode;
use crate::name::Principal;
use crate::store::PrincipalEntry;

/// Which exchange is issuing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exchange {
    /// AS exchange (RFC 4120 §3.1): initial ticket, usually a TGT.
    As,
    /// TGS exchange (§3.3): a service ticket from a TGT.
    Tgs,
    /// TGS with the RENEW option (§3.3.1): a fresh copy of a renewable ticket.
    Renew,
}

/// What is about to be issued.
#[derive(Clone, Copy, Debug)]
pub struct IssueContext<'a> {
    /// The exchange.
    pub exchange: Exchange,
    /// Client name (from the request in AS, from the TGT in TGS).
    pub client: &'a Principal,
    /// The client's store entry (the core refuses a TGS request whose
    /// client has left the store before asking).
    pub client_entry: &'a PrincipalEntry,
    /// The service the ticket is for.
    pub server: &'a PrincipalEntry,
    /// KDC time.
    pub now: SystemTime,
}

/// Upper bounds the policy grants for one ticket. The core takes the
/// minimum of these, the request and (in TGS) the TGT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IssueLimits {
    /// Longest lifetime from the ticket's start.
    pub max_lifetime: Duration,
    /// Longest renewable life from the ticket's start; zero forbids
    /// renewable tickets.
    pub max_renewable: Duration,
    /// Whether a FORWARDABLE ticket may be issued when asked for.
    pub allow_forwardable: bool,
}

/// A policy refusal: becomes a KRB-ERROR with `code`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDenial {
    /// RFC 4120 §7.5.9 code, normally [`ErrorCode::KDC_ERR_POLICY`].
    pub code: ErrorCode,
    /// Human-readable reason, sent as e-text.
    pub reason: String,
}

impl PolicyDenial {
    /// KDC_ERR_POLICY with a reason.
    pub fn policy(reason: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::KDC_ERR_POLICY,
            reason: reason.into(),
        }
    }
}

/// Consulted at issue time, after authentication succeeded.
pub trait IssuePolicy: fmt::Debug + Send + Sync {
    /// The limits for this ticket, or a refusal.
    fn limits(&self, ctx: &IssueContext<'_>) -> Result<IssueLimits, PolicyDenial>;
}

/// The ordinary realm's policy: the configured lifetime and renew limits,
/// forwardable allowed, everything else permitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RealmPolicy {
    /// Maximum ticket lifetime.
    pub max_lifetime: Duration,
    /// Maximum renewable life.
    pub renew_limit: Duration,
}

impl IssuePolicy for RealmPolicy {
    fn limits(&self, _ctx: &IssueContext<'_>) -> Result<IssueLimits, PolicyDenial> {
        Ok(IssueLimits {
            max_lifetime: self.max_lifetime,
            max_renewable: self.renew_limit,
            allow_forwardable: true,
        })
    }
}
