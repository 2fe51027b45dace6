//! The application server / GSS acceptor, sans-IO: tokens in, `now` and an
//! RNG in; reply tokens, an authenticated [`Session`] or a typed refusal
//! (with the reply the protocol has for it) out.
//!
//! | module | job |
//! |---|---|
//! | [`acceptor`] | per-connection entry point: picks SPNEGO, raw Kerberos, raw NTLM (or the IAKERB seam) from the first token |
//! | [`spnego_acceptor`] | RFC 4178 negotiation, mechListMIC, NegTokenInit2 hints |
//! | [`krb_acceptor`] | AP-REQ checks, replay cache, skew, KRB-ERROR tokens, mutual AP-REP (RFC 4120 §3.2, RFC 4121), IAKERB finished |
//! | [`iakerb_acceptor`] | IAKERB: token checks, KDC relaying through [`AcceptStep::ProxyKdc`], realm discovery, cookies, hop limit, transcript (draft-ietf-kitten-iakerb-03) |
//! | [`ntlm_acceptor`] | NTLMv2 against local accounts, MIC (MS-NLMP §3.2) |
//! | [`keys`], [`ntlm_accounts`] | service keys (keytab, principal store) and local accounts |
//! | [`service`], [`config`] | what connections share, and the knobs (NTLM-only printer mode) |
//! | [`app`], [`sample_proto`] | the gss-sample application exchange and its framing |
//!
//! The async loops that move these bytes over sockets live in
//! `kerbside_net::app_server` (and its client in `kerbside_net::app_client`).

pub mod acceptor;
pub mod app;
pub mod config;
pub mod error;
pub mod iakerb_acceptor;
pub mod keys;
pub mod krb_acceptor;
pub mod ntlm_acceptor;
pub mod ntlm_accounts;
pub mod sample_proto;
pub mod service;
pub mod session;
pub mod spnego_acceptor;

pub use acceptor::{AcceptStep, Acceptor, KdcProxyFailure, KdcProxyRequest};
pub use config::{AcceptMode, AcceptorConfig, IakerbConfig, IakerbReplyStyle, NtlmServerConfig};
pub use error::{AcceptError, AcceptFailure};
pub use iakerb_acceptor::{IakerbReject, IakerbSummary};
pub use keys::ServiceKeys;
pub use ntlm_accounts::NtlmAccounts;
pub use service::AppService;
pub use session::{Session, Via};
