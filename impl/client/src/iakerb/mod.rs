//! IAKERB, initiator side (draft-ietf-kitten-iakerb-03, as MIT's
//! `iakerb.c` and Windows behave): when the client cannot reach a KDC but
//! can reach the server, it sends its KDC requests to the server inside
//! GSS tokens and the server relays them.
//!
//! ```text
//! let mut ia = IakerbInitiator::new(request, IakerbOptions::default());
//! let mut out = ia.initial_token(now, rng)?;     // 60 .. 2b 06 01 05 02 05 | 05 01 | IAKERB-HEADER | AS-REQ
//! loop {
//!     let reply = exchange(out);                  // the server's IAKERB_PROXY / AP-REP token
//!     match ia.step(&reply, now, rng)? {
//!         IakerbStep::Continue(t) => out = t,
//!         IakerbStep::Complete(t) => { if let Some(t) = t { send(t) } break }
//!     }
//! }
//! let ctx = ia.into_context()?;                   // an RFC 4121 Kerberos context
//! ```
//!
//! | phase | token sent | on the answer |
//! |---|---|---|
//! | realm discovery (no realm known, draft §3.1) | header with empty target-realm, no message | the acceptor's realm becomes the client's |
//! | AS | AS-REQ in IAKERB_PROXY for the client realm | KRB-ERROR 25 (PREAUTH_REQUIRED) → pre-authenticated AS-REQ; AS-REP → TGT |
//! | TGS | TGS-REQ for the service realm | TGS-REP → service ticket |
//! | AP | AP-REQ (IAKERB OID, or krb5's for Windows-like peers) with the finished checksum | AP-REP → context (mutual), or done at once |
//!
//! Every token carries the cookie of the acceptor's last token verbatim.
//! KDC errors come back inside IAKERB_PROXY like replies and are handled
//! by the AS/TGS exchanges as they would be on a direct path; the context
//! is abandoned only on the IAKERB errors 85 (KDC_NOT_FOUND) and 86
//! (KDC_NO_RESPONSE), on a hop count above [`IakerbOptions::max_hops`], or
//! when an exchange fails. The transcript is the exact bytes of every
//! IAKERB token sent and received (MIT `iakerb_save_token`); the finished
//! checksum over it (keyed with the authenticator subkey) lets the
//! acceptor detect anything changed on the way.

mod error;
mod initiator;

pub use error::IakerbError;
pub use initiator::{
    ApFraming, DEFAULT_MAX_HOPS, IakerbDialect, IakerbInitiator, IakerbOptions, IakerbRequest,
    IakerbStep,
};
