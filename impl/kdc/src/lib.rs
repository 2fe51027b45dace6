//! A sans-IO Kerberos KDC (RFC 4120): AS and TGS exchanges,
//! PA-ENC-TIMESTAMP pre-authentication, replay cache, clock-skew checks,
//! ticket lifetime and renewal limits, and a principal store loaded from a
//! TOML file or an MIT keytab.
//!
//! ```text
//!   request bytes, Transport, now, rng  ──►  Kdc::handle  ──►  Outcome::{Reply(bytes), Drop(reason)}
//! ```
//!
//! No sockets, no clock, no OS randomness: the drivers in `kerbside-net`
//! move bytes (real sockets or the simulation), and tests, benches and the
//! proptest fuzzers call [`Kdc::handle`] directly.
//!
//! * [`kdc`]: the entry point and the answer-or-drop rules;
//! * [`as_exchange`], [`tgs_exchange`] (+ [`tgs_auth`], [`preauth`]): the
//!   exchanges, each documenting its checks and their error codes;
//! * [`store`], [`principals_file`], [`load`]: principals and keys (TOML, MIT keytab);
//! * [`policy`]: the issue-time hook LocalKDC plugs into;
//! * [`replay`], [`lookaside`], [`lifetime`], [`etype`], [`ticket`],
//!   [`reject`]: the pieces;
//! * [`encode`]: the replies' DER, written in one pass (the hot path).
//!
//! Performance: long-term keys are derived once at load (string-to-key) and
//! their per-usage Ke/Ki/Kc on first use; replies are encoded without
//! per-element allocation. `cargo bench -p kerbside-benches --bench kdc`
//! times AS and TGS per request; `benches/compare.sh` compares `kerbside
//! serve kdc` with MIT's krb5kdc on this machine (`reports/BENCHMARKS.md`).
//!
//! What this KDC deliberately does not do: FAST (it is not advertised, so
//! clients do not armor), PKINIT, cross-realm, S4U, user-to-user,
//! postdated tickets, PACs.

pub mod as_exchange;
pub mod codes;
pub mod config;
pub mod encode;
pub mod error;
pub mod etype;
pub mod kdc;
pub mod lifetime;
pub mod load;
pub mod localkdc;
pub mod lookaside;
pub mod name;
pub mod policy;
pub mod preauth;
pub mod principals_file;
pub mod reject;
pub mod replay;
mod request_checks;
pub mod store;
pub mod tgs_auth;
pub mod tgs_exchange;
pub mod ticket;

pub use codes::ErrorCode;
pub use config::KdcConfig;
pub use error::{ConfigError, NameError};
pub use kdc::{DropReason, Handled, Kdc, Outcome, RequestKind, RequestSummary, Transport};
pub use name::Principal;
pub use policy::{Exchange, IssueContext, IssueLimits, IssuePolicy, PolicyDenial, RealmPolicy};
pub use store::{PrincipalEntry, PrincipalKind, PrincipalStore};
