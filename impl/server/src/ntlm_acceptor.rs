//! The NTLM acceptor (MS-NLMP §3.2.5.1): NEGOTIATE in, CHALLENGE out;
//! AUTHENTICATE in, verified against a local account's NT hash.
//!
//! Verification of the AUTHENTICATE message, in order:
//! 1. it decodes and is type 3; anonymous authentication is refused;
//! 2. it is NTLMv2 (an NtChallengeResponse longer than 24 bytes) with
//!    extended session security: NTLMv1 is refused outright;
//! 3. the user is a local account, and its NTProofStr verifies over our
//!    server challenge (MS-NLMP §3.3.2). A wrong password and a replay of
//!    an AUTHENTICATE recorded against another CHALLENGE both fail here,
//!    since every context has a fresh server challenge;
//! 4. the MIC over NEGOTIATE | CHALLENGE | AUTHENTICATE verifies with the
//!    exported session key (§3.1.5.1.2), and is required when configured
//!    (our CHALLENGE always carries MsvAvTimestamp). Any change to the
//!    three messages in transit, flags included, breaks it;
//! 5. MsvAvTargetName names one of our SPNs when a list is configured, and
//!    MsvAvChannelBindings matches when bindings are configured
//!    (§3.2.5.1.2, Extended Protection).
//!
//! The NT hash never leaves this module, and errors never say whether the
//! user or the password was wrong beyond the typed variant the audit
//! layer sees (the wire only carries SPNEGO `reject`).

use std::time::SystemTime;

use kerbside_client::gss::NtlmContext;
use kerbside_client::ntlm::filetime;
use kerbside_crypto::ntlm::{
    SessionSecurity, decrypt_session_key, kxkey_v2, ntowf_v2_from_hash, verify_mic, verify_response,
};
use kerbside_wire::ntlm::av_pair::av_flags;
use kerbside_wire::ntlm::{
    self, AvPair, AvPairs, ChallengeMessage, MIC_OFFSET, NtlmMessage, Version, flags,
};
use rand_core::RngCore;

use crate::config::NtlmServerConfig;
use crate::ntlm_accounts::NtlmAccounts;

/// What the server is willing to negotiate (MS-NLMP §2.2.2.5): everything
/// the client of this crate asks for, never LM keys or NTLMv1 security.
const SERVER_FLAGS: u32 = flags::NEGOTIATE_UNICODE
    | flags::NEGOTIATE_OEM
    | flags::REQUEST_TARGET
    | flags::NEGOTIATE_SIGN
    | flags::NEGOTIATE_SEAL
    | flags::NEGOTIATE_NTLM
    | flags::NEGOTIATE_ALWAYS_SIGN
    | flags::NEGOTIATE_EXTENDED_SESSIONSECURITY
    | flags::NEGOTIATE_VERSION
    | flags::NEGOTIATE_128
    | flags::NEGOTIATE_KEY_EXCH
    | flags::NEGOTIATE_56;

/// Why an NTLM authentication was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NtlmReject {
    /// The message does not decode.
    #[error("malformed NTLM message: {0}")]
    Malformed(String),
    /// Another message type than the exchange expects.
    #[error("expected NTLM {expected}, got {found}")]
    UnexpectedMessage {
        /// Expected type.
        expected: &'static str,
        /// Received type.
        found: &'static str,
    },
    /// Anonymous (null session) authentication.
    #[error("anonymous NTLM authentication refused")]
    Anonymous,
    /// NTLMv1 / LM, or no extended session security.
    #[error("NTLMv1 refused (NTLMv2 with extended session security required)")]
    NtlmV1Refused,
    /// No such local account.
    #[error("unknown account")]
    UnknownAccount,
    /// NTProofStr mismatch: wrong password, or a replayed/modified response.
    #[error("NTLMv2 response does not verify (wrong password, replay or tampering)")]
    BadProof,
    /// The MIC is absent but required.
    #[error("AUTHENTICATE carries no MIC")]
    MicMissing,
    /// The MIC does not verify: a message was changed in transit.
    #[error("AUTHENTICATE MIC does not verify (messages modified in transit)")]
    MicMismatch,
    /// MsvAvTargetName names another service.
    #[error("MsvAvTargetName {0:?} is not one of this server's names")]
    TargetNameMismatch(String),
    /// MsvAvChannelBindings differ from this channel's.
    #[error("channel bindings do not match")]
    ChannelBindingsMismatch,
    /// A message after the exchange finished.
    #[error("NTLM exchange already finished")]
    State,
}

/// An authenticated NTLM client.
#[derive(Debug)]
pub struct NtlmAccepted {
    /// The account as configured.
    pub user: String,
    /// The domain the client named.
    pub domain: String,
    /// The established context.
    pub context: NtlmContext,
}

/// What a step produced.
#[derive(Debug)]
pub enum NtlmStep {
    /// Send this CHALLENGE_MESSAGE.
    Challenge(Vec<u8>),
    /// Authenticated.
    Accepted(NtlmAccepted),
}

#[derive(Debug)]
enum State {
    AwaitNegotiate,
    AwaitAuthenticate {
        negotiate: Vec<u8>,
        challenge: Vec<u8>,
        server_challenge: [u8; 8],
        flags: u32,
    },
    Done,
}

/// One NTLM authentication, server side.
#[derive(Debug)]
pub struct NtlmAcceptor {
    state: State,
}

impl Default for NtlmAcceptor {
    fn default() -> Self {
        Self::new()
    }
}

impl NtlmAcceptor {
    /// Waiting for NEGOTIATE.
    pub fn new() -> Self {
        Self {
            state: State::AwaitNegotiate,
        }
    }

    /// True when the AUTHENTICATE is the next message expected.
    pub fn challenged(&self) -> bool {
        matches!(self.state, State::AwaitAuthenticate { .. })
    }

    /// Processes the client's next message.
    pub fn step(
        &mut self,
        config: &NtlmServerConfig,
        accounts: &NtlmAccounts,
        token: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<NtlmStep, NtlmReject> {
        // Any failure ends the exchange: the state stays Done.
        let state = std::mem::replace(&mut self.state, State::Done);
        let msg = ntlm::decode(token).map_err(|e| NtlmReject::Malformed(e.to_string()))?;
        match state {
            State::AwaitNegotiate => {
                let NtlmMessage::Negotiate(n) = msg else {
                    return Err(unexpected("NEGOTIATE", &msg));
                };
                let (challenge, server_challenge, flags) =
                    challenge_for(config, n.flags, now, rng)?;
                let bytes = challenge.encode();
                self.state = State::AwaitAuthenticate {
                    negotiate: token.to_vec(),
                    challenge: bytes.clone(),
                    server_challenge,
                    flags,
                };
                Ok(NtlmStep::Challenge(bytes))
            }
            State::AwaitAuthenticate {
                negotiate,
                challenge,
                server_challenge,
                flags,
            } => {
                let NtlmMessage::Authenticate(a) = msg else {
                    return Err(unexpected("AUTHENTICATE", &msg));
                };
                verify_authenticate(
                    config,
                    accounts,
                    &a,
                    token,
                    &negotiate,
                    &challenge,
                    &server_challenge,
                    flags,
                )
                .map(NtlmStep::Accepted)
            }
            State::Done => Err(NtlmReject::State),
        }
    }
}

fn unexpected(expected: &'static str, found: &NtlmMessage) -> NtlmReject {
    NtlmReject::UnexpectedMessage {
        expected,
        found: found.name(),
    }
}

/// The CHALLENGE_MESSAGE (MS-NLMP §3.2.5.1.1) for a NEGOTIATE with
/// `client_flags`.
fn challenge_for(
    config: &NtlmServerConfig,
    client_flags: u32,
    now: SystemTime,
    rng: &mut dyn RngCore,
) -> Result<(ChallengeMessage, [u8; 8], u32), NtlmReject> {
    if client_flags & flags::NEGOTIATE_EXTENDED_SESSIONSECURITY == 0 {
        return Err(NtlmReject::NtlmV1Refused);
    }
    let mut negotiated = client_flags & SERVER_FLAGS;
    // Unicode when the client can, else OEM (§3.2.5.1.1), never both.
    if negotiated & flags::NEGOTIATE_UNICODE != 0 {
        negotiated &= !flags::NEGOTIATE_OEM;
    }
    negotiated |= flags::NEGOTIATE_TARGET_INFO | flags::TARGET_TYPE_DOMAIN;
    let mut server_challenge = [0u8; 8];
    rng.fill_bytes(&mut server_challenge);
    let target_info = AvPairs(vec![
        AvPair::NbDomainName(config.netbios_domain.clone()),
        AvPair::NbComputerName(config.netbios_computer.clone()),
        AvPair::DnsDomainName(config.dns_domain.clone()),
        AvPair::DnsComputerName(config.dns_computer.clone()),
        AvPair::DnsTreeName(config.dns_domain.clone()),
        // With MsvAvTimestamp the client computes its response on our
        // clock and must send a MIC (§3.1.5.1.2).
        AvPair::Timestamp(filetime(now)),
    ]);
    let challenge = ChallengeMessage {
        target_name: config.netbios_domain.clone(),
        flags: negotiated,
        server_challenge,
        target_info: Some(target_info),
        version: (negotiated & flags::NEGOTIATE_VERSION != 0).then_some(Version::windows_10(20348)),
    };
    Ok((challenge, server_challenge, negotiated))
}

#[allow(clippy::too_many_arguments)]
fn verify_authenticate(
    config: &NtlmServerConfig,
    accounts: &NtlmAccounts,
    a: &ntlm::AuthenticateMessage,
    raw: &[u8],
    negotiate: &[u8],
    challenge: &[u8],
    server_challenge: &[u8; 8],
    challenge_flags: u32,
) -> Result<NtlmAccepted, NtlmReject> {
    // 1. Anonymous: empty user and no NT response (§3.2.5.1.2).
    if a.user.is_empty() && a.nt_challenge_response.is_empty() {
        return Err(NtlmReject::Anonymous);
    }
    // 2. NTLMv2 with extended session security only.
    let flags = a.flags & challenge_flags;
    if flags & flags::NEGOTIATE_EXTENDED_SESSIONSECURITY == 0 {
        return Err(NtlmReject::NtlmV1Refused);
    }
    let v2 = match a.ntlmv2_response() {
        Ok(Some(v2)) => v2,
        Ok(None) => return Err(NtlmReject::NtlmV1Refused),
        Err(e) => return Err(NtlmReject::Malformed(e.to_string())),
    };
    // 3. Account and proof.
    let account = accounts.get(&a.user).ok_or(NtlmReject::UnknownAccount)?;
    let response_key = ntowf_v2_from_hash(&account.nt_hash, &a.user, &a.domain);
    let session_base_key =
        verify_response(&response_key, server_challenge, &a.nt_challenge_response)
            .map_err(|_| NtlmReject::BadProof)?;
    // 4. Exported session key and MIC.
    let kxkey = kxkey_v2(&session_base_key);
    let exported = if flags & flags::NEGOTIATE_KEY_EXCH != 0 {
        let Ok(enc) = <[u8; 16]>::try_from(a.encrypted_random_session_key.as_slice()) else {
            return Err(NtlmReject::Malformed(format!(
                "EncryptedRandomSessionKey of {} bytes with NEGOTIATE_KEY_EXCH",
                a.encrypted_random_session_key.len()
            )));
        };
        decrypt_session_key(&kxkey, &enc)
    } else {
        kxkey
    };
    let pairs = &v2.client_challenge.av_pairs;
    let mic_present = pairs.flags().unwrap_or(0) & av_flags::MIC_PRESENT != 0;
    if mic_present {
        if a.mic.is_none() {
            return Err(NtlmReject::MicMissing);
        }
        verify_mic(&exported, negotiate, challenge, raw, MIC_OFFSET)
            .map_err(|_| NtlmReject::MicMismatch)?;
    } else if config.require_mic {
        return Err(NtlmReject::MicMissing);
    }
    // 5. Extended Protection.
    if !config.accepted_target_names.is_empty()
        && let Some(name) = pairs.target_name()
        && !config
            .accepted_target_names
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name))
    {
        return Err(NtlmReject::TargetNameMismatch(name.to_owned()));
    }
    if let Some(expected) = config.channel_bindings
        && pairs.channel_bindings() != Some(expected)
    {
        return Err(NtlmReject::ChannelBindingsMismatch);
    }
    let session =
        SessionSecurity::server(&exported, flags).map_err(|_| NtlmReject::NtlmV1Refused)?;
    Ok(NtlmAccepted {
        user: account.user.clone(),
        domain: a.domain.clone(),
        context: NtlmContext::new(session, flags),
    })
}
