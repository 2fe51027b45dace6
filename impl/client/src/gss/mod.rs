//! What initiators and acceptors share once a GSS-API security context is
//! established: per-message protection (GSS_GetMIC / GSS_VerifyMIC /
//! GSS_Wrap / GSS_Unwrap, RFC 2743 §2.3) for the Kerberos mechanism
//! (RFC 4121 tokens) and for NTLM (MS-NLMP §3.4 session security).
//!
//! The SPNEGO layer signs and verifies the mechListMIC through
//! [`SecurityContext`]; the application protocol (the gss-sample "wrapped
//! message, MIC back" exchange) wraps and unwraps through it. The acceptor
//! in `kerbside-server` builds the same type for its side, so both ends run
//! one implementation of the token formats.

mod context;
mod ntlm_protection;
mod sequence;

pub use context::{KrbContext, Mechanism, ProtectionError, SecurityContext, Unwrapped};
pub use ntlm_protection::NtlmContext;
pub use sequence::ReplayWindow;
