//! The negotiator: what a Windows-like client does when it needs to
//! authenticate to a server (DESIGN §3, issue 7).
//!
//! ```text
//! native Kerberos (TCP first, UDP optional, DC failover)
//!   -> KKDCP relays in order (MS-KKDCP)
//!   -> IAKERB through the target server   (pluggable stage, issue 8)
//!   -> LocalKDC                           (pluggable stage, issue 8)
//!   -> NTLM, if the policy permits it (allow / audit / deny + exceptions)
//! ```
//!
//! Sans-IO like every protocol core here: a [`Logon`] takes a
//! [`LogonRequest`], a [`Policy`], the host's [`HostState`] (negative cache,
//! ticket cache, clock correction), a [`Now`] reading and an RNG, and emits
//! [`Action`]s (send this KDC message over that route, cancel, wake me at,
//! send this token to the server) while consuming [`Event`]s (reply,
//! transport failure, timer, server token). `kerbside_net::negotiator_driver`
//! executes it over sockets, the same way on real networks and in the
//! simulation.
//!
//! | module | job |
//! |---|---|
//! | [`policy`] | the serde policy: order, per-stage timeouts and tries, racing, negative cache, tickets, NTLM |
//! | [`route`] | routes (path + endpoint) and the plan that orders them |
//! | [`negative_cache`] | failed endpoints and when they may be tried again |
//! | [`ticket_cache`] | TGTs and service tickets, lifetimes and skew |
//! | [`ntlm_policy`] | Restrict NTLM: outgoing traffic, with exceptions |
//! | `router` | one KDC request over the routes: timeouts, retries, failover, racing |
//! | `kdc_step` | AS / pre-authenticated AS / TGS / renewal requests and reply sorting |
//! | `app` | SPNEGO or raw NTLM to the server, then one protected message |
//! | [`logon`] | the whole sequence and its decision |
//!
//! Audit events (ids, kinds and fields) are documented in
//! [`crate::audit`]: 7001 per attempt, 7002 skipped (negative cache), 7003
//! not available, 7004 ticket cache, 8001 NTLM audited, 4001 NTLM blocked,
//! 7005 NTLM used without a Windows event, 7010 decision, 7020 security.

pub mod duration;
pub mod logon;
pub mod negative_cache;
pub mod ntlm_policy;
pub mod policy;
pub mod route;
pub mod ticket_cache;

mod app;
mod error;
mod host;
mod io;
mod kdc_step;
mod log;
mod request;
mod router;

pub use error::LogonError;
pub use host::{ClockOffset, HostState};
pub use io::{Action, AppAction, AppEvent, Event, ExchangeId, Now, TimerId, TransportFailure};
pub use logon::Logon;
pub use negative_cache::NegativeCache;
pub use ntlm_policy::{NtlmMode, NtlmPolicy, NtlmVerdict};
pub use policy::{
    KkdcpPolicy, NativePolicy, NegativeCachePolicy, Policy, PolicyError, ProxyStagePolicy,
    RacingPolicy, Stage, TicketPolicy, WhenAllCached,
};
pub use request::{AppProtocol, AppServer, Credential, LogonRequest, LogonResult};
pub use route::{Capabilities, KdcTransport, PathKind, Plan, Route};
pub use ticket_cache::{Lookup, TicketCache};
