//! Per-message protection of an established NTLM context (MS-NLMP §3.4)
//! behind the GSS-API calls.
//!
//! * GSS_GetMIC is NTLM's MAC (§3.4.4.2): a 16-octet signature.
//! * GSS_Wrap seals (§3.4.3) and sends `signature || sealed message`, the
//!   layout SSPI's `EncryptMessage` produces with a token buffer first and
//!   gss-ntlmssp uses for `gss_wrap`. NTLM has no integrity-only wrap, so
//!   it always seals.
//! * Sequence numbers are part of every signature, so a replayed or
//!   reordered token fails its signature check.
//! * After the SPNEGO mechListMIC each side resets its RC4 handle (MS-SPNG
//!   §3.3.5.1; see [`NtlmContext::reset_send_cipher`]).

use kerbside_crypto::ntlm::{SIGNATURE_LEN, SessionSecurity};
use kerbside_wire::ntlm::flags;

use super::context::{ProtectionError, Unwrapped};

/// An established NTLM context.
#[derive(Debug)]
pub struct NtlmContext {
    // Boxed: the two RC4 states make it ~600 bytes, too big to move around
    // inside enums.
    session: Box<SessionSecurity>,
    flags: u32,
}

impl NtlmContext {
    /// A context over `session` with the negotiated NegotiateFlags.
    pub fn new(session: SessionSecurity, flags: u32) -> Self {
        Self {
            session: Box::new(session),
            flags,
        }
    }

    /// The NegotiateFlags both sides agreed on.
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// Whether NTLMSSP_NEGOTIATE_SIGN was negotiated (SPNEGO's mechListMIC
    /// over NTLM needs it).
    pub fn can_sign(&self) -> bool {
        self.flags & flags::NEGOTIATE_SIGN != 0
    }

    /// GSS_GetMIC.
    pub fn get_mic(&mut self, message: &[u8]) -> Vec<u8> {
        self.session.sign(message).to_vec()
    }

    /// GSS_VerifyMIC.
    pub fn verify_mic(&mut self, message: &[u8], token: &[u8]) -> Result<(), ProtectionError> {
        Ok(self.session.verify(message, token)?)
    }

    /// GSS_Wrap: `signature || sealed`.
    pub fn wrap(&mut self, message: &[u8]) -> Result<Vec<u8>, ProtectionError> {
        if self.flags & flags::NEGOTIATE_SEAL == 0 {
            return Err(ProtectionError::NotNegotiated(
                "NTLM sealing (NTLMSSP_NEGOTIATE_SEAL)",
            ));
        }
        let (sealed, sig) = self.session.seal(message);
        let mut out = Vec::with_capacity(SIGNATURE_LEN + sealed.len());
        out.extend_from_slice(&sig);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// GSS_Unwrap of `signature || sealed`.
    pub fn unwrap(&mut self, token: &[u8]) -> Result<Unwrapped, ProtectionError> {
        if self.flags & flags::NEGOTIATE_SEAL == 0 {
            return Err(ProtectionError::NotNegotiated(
                "NTLM sealing (NTLMSSP_NEGOTIATE_SEAL)",
            ));
        }
        let Some((sig, sealed)) = token.split_at_checked(SIGNATURE_LEN) else {
            return Err(ProtectionError::Malformed(
                "NTLM wrap token shorter than its 16-octet signature",
            ));
        };
        let data = self.session.unseal(sealed, sig)?;
        Ok(Unwrapped {
            data,
            confidential: true,
        })
    }

    /// MS-SPNG §3.3.5.1: after signing the mechListMIC, restart the
    /// outgoing RC4 stream so the first application message is protected
    /// from the state the mechListMIC started from.
    pub fn reset_send_cipher(&mut self) {
        self.session.reset_send_cipher();
    }

    /// The receive-side counterpart, after verifying the peer's mechListMIC.
    pub fn reset_recv_cipher(&mut self) {
        self.session.reset_recv_cipher();
    }
}
