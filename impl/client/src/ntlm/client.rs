//! [`NtlmClient`]: the client's NEGOTIATE → CHALLENGE → AUTHENTICATE
//! state machine (MS-NLMP §3.1.5.1).

use std::time::SystemTime;

use kerbside_crypto::ntlm::{
    self as ntlm_crypto, NtlmError, SessionSecurity, compute_response, encrypt_session_key,
    kxkey_v2,
};
use kerbside_wire::WireError;
use kerbside_wire::ntlm::av_pair::av_flags;
use kerbside_wire::ntlm::{
    self, AuthenticateMessage, AvPair, AvPairs, ChallengeMessage, MIC_OFFSET, NegotiateMessage,
    NtlmMessage, Version, flags,
};
use rand_core::RngCore;

use super::credentials::NtlmCredentials;
use super::{CLIENT_FLAGS, filetime};
use crate::gss::{NtlmContext, SecurityContext};

/// Client choices.
#[derive(Debug, Clone)]
pub struct NtlmClientConfig {
    /// NegotiateFlags offered in NEGOTIATE (the AUTHENTICATE carries the
    /// intersection with the server's CHALLENGE).
    pub flags: u32,
    /// Workstation name sent in AUTHENTICATE.
    pub workstation: String,
    /// The SPN the client means to reach (`host/app.lab.test`), sent as
    /// MsvAvTargetName so the server can refuse a reflected or relayed
    /// authentication meant for someone else (MS-NLMP §3.1.5.1.2).
    pub target_spn: Option<String>,
    /// MD5 of the channel bindings for MsvAvChannelBindings: all zero for
    /// none, which is what Windows sends outside TLS; `None` leaves the
    /// pair out (older clients, the MS-NLMP §4.2.4 example).
    pub channel_bindings: Option<[u8; 16]>,
    /// The VERSION reported.
    pub version: Version,
    /// Send the MIC (and set MsvAvFlags MIC_PRESENT). Windows always does
    /// when the CHALLENGE carries MsvAvTimestamp; turning it off exists for
    /// tests of acceptors that insist on it.
    pub send_mic: bool,
}

impl Default for NtlmClientConfig {
    fn default() -> Self {
        Self {
            flags: CLIENT_FLAGS,
            workstation: "KERBSIDE".into(),
            target_spn: None,
            channel_bindings: Some([0; 16]),
            version: Version::windows_10(26100),
            send_mic: true,
        }
    }
}

/// Why the NTLM client failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NtlmClientError {
    /// The server's message does not decode.
    #[error("malformed NTLM message from the server: {0}")]
    Decode(#[from] WireError),
    /// Another NTLM message where a CHALLENGE was expected.
    #[error("expected an NTLM CHALLENGE, got {0}")]
    UnexpectedMessage(&'static str),
    /// The CHALLENGE has no TargetInfo: the server wants NTLMv1/LM.
    #[error("CHALLENGE carries no TargetInfo: NTLMv2 impossible, NTLMv1 refused")]
    NoTargetInfo,
    /// The CHALLENGE did not keep extended session security.
    #[error(
        "server refused NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY: NTLMv1 session security refused"
    )]
    ExtendedSessionSecurityRequired,
    /// The negotiated session security is unusable.
    #[error("NTLM session security: {0}")]
    Session(#[from] NtlmError),
    /// A call out of order (AUTHENTICATE before NEGOTIATE, twice, ...).
    #[error("NTLM client is not in a state for this call")]
    State,
}

#[derive(Debug)]
enum State {
    Start,
    SentNegotiate { negotiate: Vec<u8> },
    Done(NtlmContext),
    Taken,
}

/// One NTLM authentication, client side.
#[derive(Debug)]
pub struct NtlmClient {
    creds: NtlmCredentials,
    config: NtlmClientConfig,
    state: State,
}

impl NtlmClient {
    /// A client for `creds`.
    pub fn new(creds: NtlmCredentials, config: NtlmClientConfig) -> Self {
        Self {
            creds,
            config,
            state: State::Start,
        }
    }

    /// The user this client authenticates as.
    pub fn user(&self) -> &str {
        &self.creds.user
    }

    /// The NEGOTIATE_MESSAGE (MS-NLMP §3.1.5.1.1). Domain and workstation
    /// are not supplied in it (as Windows does).
    pub fn negotiate(&mut self) -> Result<Vec<u8>, NtlmClientError> {
        if !matches!(self.state, State::Start) {
            return Err(NtlmClientError::State);
        }
        let msg = NegotiateMessage {
            flags: self.config.flags,
            domain: String::new(),
            workstation: String::new(),
            version: (self.config.flags & flags::NEGOTIATE_VERSION != 0)
                .then_some(self.config.version),
        }
        .encode();
        self.state = State::SentNegotiate {
            negotiate: msg.clone(),
        };
        Ok(msg)
    }

    /// Answers the server's CHALLENGE_MESSAGE with the AUTHENTICATE_MESSAGE
    /// (MS-NLMP §3.1.5.1.2); the context is then established.
    pub fn authenticate(
        &mut self,
        challenge_bytes: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<u8>, NtlmClientError> {
        let State::SentNegotiate { negotiate } = &self.state else {
            return Err(NtlmClientError::State);
        };
        let challenge = match ntlm::decode(challenge_bytes)? {
            NtlmMessage::Challenge(c) => c,
            other => return Err(NtlmClientError::UnexpectedMessage(other.name())),
        };
        let (auth, exported, negotiated) =
            self.build_authenticate(negotiate, challenge_bytes, &challenge, now, rng)?;
        let session = SessionSecurity::client(&exported, negotiated)?;
        self.state = State::Done(NtlmContext::new(session, negotiated));
        Ok(auth)
    }

    fn build_authenticate(
        &self,
        negotiate: &[u8],
        challenge_bytes: &[u8],
        challenge: &ChallengeMessage,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<(Vec<u8>, [u8; 16], u32), NtlmClientError> {
        // §3.1.5.1.2: the client keeps only what both offered.
        let negotiated = challenge.flags & self.config.flags;
        if negotiated & flags::NEGOTIATE_EXTENDED_SESSIONSECURITY == 0 {
            return Err(NtlmClientError::ExtendedSessionSecurityRequired);
        }
        let Some(target_info) = &challenge.target_info else {
            return Err(NtlmClientError::NoTargetInfo);
        };
        // §3.1.5.1.2: with MsvAvTimestamp the client uses the server's time
        // (so its clock does not matter) and sends no LMv2 response.
        let server_time = target_info.timestamp();
        let time = server_time.unwrap_or_else(|| filetime(now));
        let mut client_challenge = [0u8; 8];
        rng.fill_bytes(&mut client_challenge);
        let pairs = self.client_av_pairs(target_info);
        let response = compute_response(
            &self.creds.response_key(),
            &challenge.server_challenge,
            &client_challenge,
            time,
            &pairs.encode(),
        );
        let lm = if server_time.is_some() {
            vec![0; 24]
        } else {
            response.lm_challenge_response.to_vec()
        };
        // §3.1.5.1.2 / §3.4.5.1: with key exchange the session key is ours,
        // sent RC4-encrypted under the KeyExchangeKey.
        let kxkey = kxkey_v2(&response.session_base_key);
        let (exported, encrypted) = if negotiated & flags::NEGOTIATE_KEY_EXCH != 0 {
            let mut k = [0u8; 16];
            rng.fill_bytes(&mut k);
            (k, encrypt_session_key(&kxkey, &k).to_vec())
        } else {
            (kxkey, Vec::new())
        };
        let msg = AuthenticateMessage {
            flags: negotiated,
            lm_challenge_response: lm,
            nt_challenge_response: response.nt_challenge_response.clone(),
            domain: self.creds.domain.clone(),
            user: self.creds.user.clone(),
            workstation: self.config.workstation.clone(),
            encrypted_random_session_key: encrypted,
            version: (negotiated & flags::NEGOTIATE_VERSION != 0).then_some(self.config.version),
            mic: self.config.send_mic.then_some([0; 16]),
        };
        let mut bytes = msg.encode();
        if self.config.send_mic {
            // §3.1.5.1.2: MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE |
            // CHALLENGE | AUTHENTICATE), over the bytes as sent.
            let mic = ntlm_crypto::mic(&exported, negotiate, challenge_bytes, &bytes);
            if let Some(field) = bytes.get_mut(MIC_OFFSET..MIC_OFFSET + 16) {
                field.copy_from_slice(&mic);
            }
        }
        Ok((bytes, exported, negotiated))
    }

    /// The server's TargetInfo plus what the client adds (MS-NLMP
    /// §3.1.5.1.2): MsvAvFlags (when it has a bit to carry, e.g. MIC
    /// present), MsvAvChannelBindings and MsvAvTargetName, replacing any
    /// the server sent.
    fn client_av_pairs(&self, server: &AvPairs) -> AvPairs {
        let server_flags = server.flags().unwrap_or(0);
        let mut pairs: Vec<AvPair> = server
            .0
            .iter()
            .filter(|p| {
                !matches!(
                    p,
                    AvPair::Flags(_) | AvPair::ChannelBindings(_) | AvPair::TargetName(_)
                )
            })
            .cloned()
            .collect();
        let mic_flag = if self.config.send_mic {
            av_flags::MIC_PRESENT
        } else {
            0
        };
        if server_flags | mic_flag != 0 {
            pairs.push(AvPair::Flags(server_flags | mic_flag));
        }
        if let Some(cb) = self.config.channel_bindings {
            pairs.push(AvPair::ChannelBindings(cb));
        }
        if let Some(spn) = &self.config.target_spn {
            pairs.push(AvPair::TargetName(spn.clone()));
        }
        AvPairs(pairs)
    }

    /// True once AUTHENTICATE was produced.
    pub fn is_complete(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    /// The established context.
    pub fn into_context(self) -> Result<SecurityContext, NtlmClientError> {
        match self.state {
            State::Done(c) => Ok(SecurityContext::Ntlm(c)),
            _ => Err(NtlmClientError::State),
        }
    }

    /// Borrow the established context (for the SPNEGO mechListMIC).
    pub fn context_mut(&mut self) -> Option<&mut NtlmContext> {
        match &mut self.state {
            State::Done(c) => Some(c),
            _ => None,
        }
    }

    /// Moves the established context out, leaving the client spent.
    pub(crate) fn take_context(&mut self) -> Option<NtlmContext> {
        match std::mem::replace(&mut self.state, State::Taken) {
            State::Done(c) => Some(c),
            other => {
                self.state = other;
                None
            }
        }
    }
}
