//! LocalKDC: a KDC that needs no domain controller, built on this crate's
//! KDC core with its own [`IssuePolicy`](crate::IssuePolicy) (DESIGN §3).
//! Two placements:
//!
//! | | `on-target` ([`on_target`]) | `on-client` ([`on_client`]) |
//! |---|---|---|
//! | where | the application server's machine | the user's laptop |
//! | modelled on | Windows Insider build 29617 (protocols.md §3.1-3.2) | the seed article's design (not observed in any public build, protocols.md §0.2) |
//! | realm | machine (NetBIOS) name upper-case, e.g. `WIN25H2INS` | `<COMPUTER>.LOCALKDC` by default |
//! | principals | the machine's local accounts | the computer account (`WS01$`) |
//! | reached | through IAKERB on the application's port; no KDC port | in-process by the client's negotiator |
//! | ticket lifetime | 10 h (observed) | 15 min cap (configurable) |
//! | services | the machine's own | an allowlist of approved services |
//! | who | local users and computers | the computer account only, unless configured |
//!
//! ## The on-client trust model
//!
//! A ticket is only as good as the key it is encrypted in. An approved
//! service accepts tickets from a laptop's LocalKDC because, at
//! **enrolment** (while the laptop is online and both ends can be reached
//! by the domain's management), a per-(laptop, service) key is created and
//! installed at both ends ([`Enrolment`]): in the LocalKDC's principal
//! store as the service principal of the LocalKDC realm, and in the
//! service's keys under that realm, like a cross-realm key shared between
//! two realms. The service additionally holds a trust rule for the
//! LocalKDC realm ([`LocalKdcTrust`]: lifetime cap, computer accounts
//! only), checked when it accepts a ticket, so a LocalKDC that was
//! tampered with still cannot hand out day-long or user tickets the
//! service would honour. A service not enrolled holds no key for the
//! realm: a ticket replayed to it does not even decrypt
//! (KRB_AP_ERR_NOT_US), and a ticket presented after its end is expired at
//! the service's own clock, whatever the laptop's clock said.
//!
//! What the LocalKDC caches while online ([`OnClientCache`]): the
//! enrolment keys and the allowlist, stamped with when they were fetched.
//! Offline it works from that cache until it is older than
//! [`OnClientConfig::max_offline`], then refuses (stale approvals are not
//! approvals).
//!
//! Every decision is recorded ([`LocalKdcAudit`]): tickets granted with
//! their cap, and refusals with the RFC 4120 code and reason.

mod accounts;
mod audit;
mod enrolment;
mod error;
mod on_client;
mod on_target;
mod policy;
#[cfg(test)]
mod tests;

pub use accounts::{AccountsError, LocalAccount, parse_accounts};
pub use audit::{DEFAULT_MAX_EVENTS, LocalKdcAudit, LocalKdcDecision, LocalKdcEvent};
pub use enrolment::{Enrolment, LocalKdcTrust};
pub use error::LocalKdcError;
pub use on_client::{OnClientCache, OnClientConfig, on_client};
pub use on_target::{BuiltLocalKdc, OnTargetConfig, on_target};
pub use policy::{ClientKinds, LocalKdcPolicy, Placement};

/// Default lifetime cap of on-client tickets (the seed's 15 minutes).
pub const ON_CLIENT_LIFETIME: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Lifetime of on-target tickets (10 h, observed on Windows build 29617).
pub const ON_TARGET_LIFETIME: std::time::Duration = std::time::Duration::from_secs(10 * 3600);
