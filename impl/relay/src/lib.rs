//! sans-IO MS-KKDCP relay core: request checks, realm routing, upstream
//! exchange bookkeeping, limits, audit.
//!
//! The driver hands in HTTP-level facts ([`RequestHead`], the body, `now`)
//! and gets a [`Decision`]: [`Forward`] (which realm, which upstreams in which
//! order, the exact bytes, a deadline) or a [`Rejection`] (status, body,
//! reason). It then walks the upstream attempts the [`Forward`] plans,
//! reports what each returned, and asks [`Relay::finish`] for the HTTP
//! response (`200`, `application/kerberos`, a KDC-PROXY-MESSAGE carrying the
//! reply) and the JSON [`AuditRecord`]. No sockets, no clocks, no randomness
//! here: the same core runs under hyper on real sockets and in the turmoil
//! simulation.
//!
//! What it enforces, beyond every check kdcproxy 1.1.0 makes (protocols.md
//! §1.6; statuses in [`reject`]):
//! * static realm allowlist, never DNS discovery (CVE-2025-59088);
//! * bounded request body and bounded upstream reply, declared length
//!   checked before reading, endless replies cut off (CVE-2025-59089);
//! * bounded upstream time, failover across the realm's upstreams, TCP first;
//! * case-insensitive realm match; missing target-domain is a 400;
//! * the inner AS-REQ/TGS-REQ realm must equal target-domain;
//! * a configurable policy for Apple's missing length prefix;
//! * the reply must be a Kerberos reply to the request, else 502;
//! * optional bearer-token or mutual-TLS client authentication and a
//!   per-client token-bucket rate limit.

mod audit;
mod config;
mod forward;
mod http;
mod inner;
mod kkdcp;
mod ratelimit;
pub mod reject;
mod relay;
mod tcp_reply;

pub use audit::{AuditRecord, AuditSink, MemoryAudit, NoAudit, Outcome};
pub use config::{
    ClientAuth, ConfigError, DEFAULT_MAX_MESSAGE, DEFAULT_PATH, PrefixPolicy, RateLimit,
    RealmRoute, RelayConfig, Transport, Upstream, UpstreamHost,
};
pub use forward::{AttemptPlan, Forward};
pub use http::{CONTENT_TYPE_KERBEROS, CONTENT_TYPE_TEXT, ClientInfo, HttpResponse, RequestHead};
pub use inner::RequestKind;
pub use ratelimit::RateLimiter;
pub use reject::{RejectReason, UpstreamError};
pub use relay::{Admitted, Completed, Decision, Rejection, Relay};
pub use tcp_reply::{RECORD_MARK_LEN, TcpReplyReader};
