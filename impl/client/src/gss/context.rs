//! [`SecurityContext`]: an established context of either mechanism, and
//! the Kerberos half of it ([`KrbContext`]).

use kerbside_crypto::Key;
use kerbside_crypto::gss::{GssError, PerMessage, Role};
use kerbside_crypto::gss_checksum::{GSS_C_REPLAY_FLAG, GSS_C_SEQUENCE_FLAG};
use kerbside_crypto::ntlm::NtlmError;
use kerbside_wire::der::Oid;
use kerbside_wire::gss::oid;
use rand_core::RngCore;

use super::ntlm_protection::NtlmContext;
use super::sequence::{ReplayWindow, SequenceError};

/// The mechanism behind a context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum Mechanism {
    /// Kerberos V5 (RFC 4121), whichever OID named it.
    Kerberos,
    /// NTLMSSP (MS-NLMP).
    Ntlm,
}

impl Mechanism {
    /// The mechanism's standard OID.
    pub fn oid(self) -> Oid {
        match self {
            Mechanism::Kerberos => oid::KRB5,
            Mechanism::Ntlm => oid::NTLMSSP,
        }
    }

    /// `kerberos` / `ntlm`.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Kerberos => "kerberos",
            Mechanism::Ntlm => "ntlm",
        }
    }
}

/// A per-message token that does not verify or is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtectionError {
    /// An RFC 4121 token failed (bad checksum, wrong direction, ...).
    #[error("Kerberos per-message token: {0}")]
    Kerberos(#[from] GssError),
    /// An NTLM signature or sealed message failed.
    #[error("NTLM per-message token: {0}")]
    Ntlm(#[from] NtlmError),
    /// Replay or sequence detection refused the token.
    #[error("{0}")]
    Sequence(#[from] SequenceError),
    /// The token cannot be a token of this mechanism at all.
    #[error("malformed per-message token: {0}")]
    Malformed(&'static str),
    /// The context did not negotiate what the call needs (e.g. sealing).
    #[error("not available on this context: {0}")]
    NotNegotiated(&'static str),
}

/// The result of GSS_Unwrap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unwrapped {
    /// The application data.
    pub data: Vec<u8>,
    /// Whether it travelled encrypted.
    pub confidential: bool,
}

/// An established Kerberos GSS context (RFC 4121): the per-message keys
/// and both directions' sequence state.
#[derive(Debug, Clone)]
pub struct KrbContext {
    tokens: PerMessage,
    recv: ReplayWindow,
    flags: u32,
    role: Role,
}

impl KrbContext {
    /// A context for `role`. `key` is the initiator's subkey (or the ticket
    /// session key when it sent none), `acceptor_subkey` the AP-REP's
    /// subkey; `send_seq`/`recv_seq` the initial sequence numbers of this
    /// side and of the peer; `flags` the GSS flags both agreed on (replay
    /// and sequence detection are enforced from them).
    pub fn new(
        role: Role,
        key: Key,
        acceptor_subkey: Option<Key>,
        send_seq: u64,
        recv_seq: u64,
        flags: u32,
    ) -> Result<Self, GssError> {
        Ok(Self {
            tokens: PerMessage::new(role, key, acceptor_subkey, send_seq)?,
            recv: ReplayWindow::new(
                recv_seq,
                flags & GSS_C_REPLAY_FLAG != 0,
                flags & GSS_C_SEQUENCE_FLAG != 0,
            ),
            flags,
            role,
        })
    }

    /// The GSS flags of the context.
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// Which end this is.
    pub fn role(&self) -> Role {
        self.role
    }

    /// GSS_GetMIC (RFC 4121 §4.2.6.1).
    pub fn get_mic(&mut self, message: &[u8]) -> Vec<u8> {
        self.tokens.get_mic(message)
    }

    /// GSS_VerifyMIC, then replay/sequence detection.
    pub fn verify_mic(&mut self, message: &[u8], token: &[u8]) -> Result<(), ProtectionError> {
        let seq = self.tokens.verify_mic(message, token)?;
        self.recv.check(seq)?;
        Ok(())
    }

    /// GSS_Wrap (RFC 4121 §4.2.6.2).
    pub fn wrap(&mut self, message: &[u8], confidential: bool, rng: &mut dyn RngCore) -> Vec<u8> {
        self.tokens.wrap(message, confidential, rng)
    }

    /// GSS_Unwrap, then replay/sequence detection.
    pub fn unwrap(&mut self, token: &[u8]) -> Result<Unwrapped, ProtectionError> {
        let u = self.tokens.unwrap(token)?;
        self.recv.check(u.seq)?;
        Ok(Unwrapped {
            data: u.data,
            confidential: u.confidential,
        })
    }
}

/// An established context of either mechanism.
#[derive(Debug)]
#[non_exhaustive]
pub enum SecurityContext {
    /// Kerberos (RFC 4121).
    Kerberos(KrbContext),
    /// NTLM (MS-NLMP §3.4).
    Ntlm(NtlmContext),
}

impl SecurityContext {
    /// The mechanism.
    pub fn mechanism(&self) -> Mechanism {
        match self {
            SecurityContext::Kerberos(_) => Mechanism::Kerberos,
            SecurityContext::Ntlm(_) => Mechanism::Ntlm,
        }
    }

    /// GSS_GetMIC.
    pub fn get_mic(&mut self, message: &[u8]) -> Vec<u8> {
        match self {
            SecurityContext::Kerberos(k) => k.get_mic(message),
            SecurityContext::Ntlm(n) => n.get_mic(message),
        }
    }

    /// GSS_VerifyMIC.
    pub fn verify_mic(&mut self, message: &[u8], token: &[u8]) -> Result<(), ProtectionError> {
        match self {
            SecurityContext::Kerberos(k) => k.verify_mic(message, token),
            SecurityContext::Ntlm(n) => n.verify_mic(message, token),
        }
    }

    /// GSS_Wrap. NTLM has no integrity-only wrap format: it always seals
    /// (and fails when sealing was not negotiated).
    pub fn wrap(
        &mut self,
        message: &[u8],
        confidential: bool,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<u8>, ProtectionError> {
        match self {
            SecurityContext::Kerberos(k) => Ok(k.wrap(message, confidential, rng)),
            SecurityContext::Ntlm(n) => n.wrap(message),
        }
    }

    /// GSS_Unwrap.
    pub fn unwrap(&mut self, token: &[u8]) -> Result<Unwrapped, ProtectionError> {
        match self {
            SecurityContext::Kerberos(k) => k.unwrap(token),
            SecurityContext::Ntlm(n) => n.unwrap(token),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kerbside_crypto::EncType;
    use kerbside_crypto::gss_checksum::{GSS_C_MUTUAL_FLAG, GSS_C_REPLAY_FLAG};
    use rand_chacha::ChaCha12Rng;
    use rand_core::SeedableRng;

    fn pair(flags: u32, acceptor_subkey: bool) -> (KrbContext, KrbContext) {
        let mut rng = ChaCha12Rng::seed_from_u64(1);
        let key = Key::random(EncType::Aes256CtsHmacSha196, &mut rng);
        let sub = acceptor_subkey.then(|| Key::random(EncType::Aes256CtsHmacSha384192, &mut rng));
        let i =
            KrbContext::new(Role::Initiator, key.clone(), sub.clone(), 100, 900, flags).unwrap();
        let a = KrbContext::new(Role::Acceptor, key, sub, 900, 100, flags).unwrap();
        (i, a)
    }

    #[test]
    fn wrap_and_mic_both_ways_with_replay_detection() {
        let mut rng = ChaCha12Rng::seed_from_u64(2);
        for sub in [false, true] {
            let (mut i, mut a) = pair(GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG, sub);
            let t = i.wrap(b"hello", true, &mut rng);
            let u = a.unwrap(&t).unwrap();
            assert_eq!((u.data.as_slice(), u.confidential), (&b"hello"[..], true));
            // the same token again is a replay
            assert!(matches!(
                a.unwrap(&t),
                Err(ProtectionError::Sequence(SequenceError::Duplicate {
                    seq: 100
                }))
            ));
            let mic = a.get_mic(b"hello");
            i.verify_mic(b"hello", &mic).unwrap();
            assert!(matches!(
                i.verify_mic(b"hello", &mic),
                Err(ProtectionError::Sequence(_))
            ));
            let mic2 = a.get_mic(b"x");
            assert!(matches!(
                i.verify_mic(b"y", &mic2),
                Err(ProtectionError::Kerberos(GssError::BadSignature))
            ));
            // a reflected token (our own) is refused by direction
            let own = i.get_mic(b"z");
            assert!(i.verify_mic(b"z", &own).is_err());
        }
    }

    #[test]
    fn rc4_contexts_are_refused() {
        let key = Key::new(EncType::Rc4Hmac, vec![7; 16]).unwrap();
        assert!(matches!(
            KrbContext::new(Role::Initiator, key, None, 0, 0, 0),
            Err(GssError::UnsupportedEncType(23))
        ));
    }
}
