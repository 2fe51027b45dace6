//! Client-side Kerberos exchanges, sans-IO: request bytes out, reply bytes
//! in, `now` and an RNG injected. What the simulation's logons, `kerbside
//! load`, the negotiator and the conformance runner all build on.
//!
//! | exchange | type | RFC 4120 |
//! |---|---|---|
//! | AS: password/keys -> TGT, with the PREAUTH_REQUIRED round trip | [`AsExchange`] | §3.1 |
//! | TGS: TGT -> service ticket; renewal | [`TgsExchange`] | §3.3 |
//! | AP: service ticket -> AP-REQ; AP-REP check | [`ApRequest`], [`ApPending`] | §3.2 |
//!
//! Results are [`Credentials`] (ticket, session key, times, flags). Every
//! reply goes through `kerbside-wire`'s safe decoders; a KRB-ERROR comes back
//! as [`KrbClientError::Krb`] with its code, e-text, e-data and the server's
//! time. Nonces (31-bit, as MIT), session subkeys, confounders and
//! sequence numbers come from the caller's RNG; timestamps from the caller's
//! `now`. Transports (UDP/TCP to a KDC, KKDCP, IAKERB) are the caller's
//! business: see `kerbside_net::kdc_transport`.
//!
//! Key usages: PA-ENC-TIMESTAMP 1, AS-REP 3, TGS authenticator checksum 6,
//! TGS authenticator 7, TGS-REP 8 (9 with a subkey), AP authenticator
//! checksum 10, AP authenticator 11, AP-REP 12; RFC 6806 §11 request
//! checksum 56.

mod ap_exchange;
mod as_exchange;
mod credentials;
mod error;
mod kdc_reply;
mod principal;
mod tgs_exchange;

pub use ap_exchange::{ApOptions, ApPending, ApRepInfo, ApRequest, AuthenticatorChecksum};
pub use as_exchange::{AsExchange, AsOptions, AsStep, Secret};
pub use credentials::Credentials;
pub use error::{KrbClientError, KrbErrorInfo};
pub use principal::Principal;
pub use tgs_exchange::{TgsExchange, TgsOptions};
