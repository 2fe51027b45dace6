//! SPNEGO (RFC 4178, with MS-SPNG's NegTokenInit2), initiator side, over
//! the Kerberos ([`crate::gss_krb`]) and NTLM ([`crate::ntlm`]) mechanisms.
//!
//! The initiator offers its mechanisms most preferred first (Kerberos,
//! then NTLM, like Windows' Negotiate package) with an optimistic token for
//! the first. Whatever the acceptor picks, the mechListMIC rules of
//! RFC 4178 §5 apply: when the chosen mechanism is not the initiator's
//! first choice, or the acceptor asks (request-mic) or sends one, both
//! sides sign DER(MechTypeList) with the new context and check the other's
//! signature. A man-in-the-middle who strips Kerberos from the list (or
//! reorders it) to force NTLM therefore makes the two MICs disagree, and
//! whichever side checks first fails with
//! [`SpnegoError::DowngradeDetected`]; an acceptor that refuses our MIC
//! answers `reject`, reported as [`SpnegoError::Rejected`] with
//! `after_mic: true` so the negotiator can flag a possible downgrade.
//!
//! The MIC helpers in [`mech_list`] are shared with the acceptor in
//! `kerbside-server`, so both ends compute the same bytes.

mod error;
mod initiator;
pub mod mech_list;

pub use error::{Downgrade, SpnegoError};
pub use initiator::{OfferedMech, SpnegoInitiator, SpnegoOptions, SpnegoStep};
