//! The Kerberos V5 GSS-API mechanism, initiator side (RFC 4121 §4.1).
//!
//! ```text
//! let (mut init, ap_req_token) = KrbInitiator::start(&service_creds, &KrbInitiatorOptions::default(), now, rng)?;
//! send(ap_req_token);                                 // 60 .. 06 09 <krb5 oid> 01 00 <AP-REQ>
//! match init.step(&reply)? {                          // 60 .. 02 00 <AP-REP>  or  03 00 <KRB-ERROR>
//!     KrbStep::Complete => { let ctx = init.into_context()?; /* wrap, get_mic */ }
//! }
//! ```
//!
//! The AP-REQ's authenticator carries a fresh subkey, a random sequence
//! number and the 0x8003 checksum (RFC 4121 §4.1.1: channel-binding hash
//! and the context flags; mutual, replay, sequence, conf and integ by
//! default, as MIT's `gss-client` asks). With mutual authentication the
//! acceptor's AP-REP is verified ([`ApPending::verify_ap_rep`]) and its
//! subkey, when present, protects every later token (RFC 4121 §2). A
//! KRB-ERROR token from the acceptor (`03 00`) surfaces with its RFC 4120
//! code: KRB_AP_ERR_SKEW carries the server's time so a caller can
//! correct its clock and retry.

use std::time::SystemTime;

use kerbside_crypto::Key;
use kerbside_crypto::gss::{GssError, Role};
use kerbside_crypto::gss_checksum::{
    self, CKSUMTYPE_GSSAPI, FinishedFlavor, GSS_C_CONF_FLAG, GSS_C_INTEG_FLAG, GSS_C_MUTUAL_FLAG,
    GSS_C_REPLAY_FLAG, GSS_C_SEQUENCE_FLAG,
};
use kerbside_wire::WireError;
use kerbside_wire::der::Oid;
use kerbside_wire::gss::{self, GssChecksum, oid, tok_id};
use kerbside_wire::krb::asn1::Checksum;
use kerbside_wire::krb::{KrbMessage, decode};
use kerbside_wire::time::from_kerberos_time_usec;
use rand_core::RngCore;

use crate::gss::{KrbContext, SecurityContext};
use crate::krb::{
    ApOptions, ApPending, ApRequest, AuthenticatorChecksum, Credentials, KrbClientError,
    KrbErrorInfo,
};

/// The flags MIT's `gss-client` requests by default plus sequencing and
/// protection (RFC 4121 §4.1.1.1).
pub const DEFAULT_FLAGS: u32 = GSS_C_MUTUAL_FLAG
    | GSS_C_REPLAY_FLAG
    | GSS_C_SEQUENCE_FLAG
    | GSS_C_CONF_FLAG
    | GSS_C_INTEG_FLAG;

/// How to start the context.
#[derive(Debug, Clone)]
pub struct KrbInitiatorOptions {
    /// GSS context flags for the 0x8003 checksum (GSS_C_*_FLAG).
    pub flags: u32,
    /// MD5 of the channel bindings (RFC 4121 §4.1.1.2), zero for none.
    pub channel_bindings: [u8; 16],
}

impl Default for KrbInitiatorOptions {
    fn default() -> Self {
        Self {
            flags: DEFAULT_FLAGS,
            channel_bindings: [0; 16],
        }
    }
}

/// Why the Kerberos mechanism failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GssKrbError {
    /// The acceptor answered with a KRB-ERROR token.
    #[error("acceptor returned {}({}){}", .0.name(), .0.code, .0.text.as_deref().map(|t| format!(": {t}")).unwrap_or_default())]
    Krb(KrbErrorInfo),
    /// The reply is not a well-formed Kerberos GSS token.
    #[error("malformed token from the acceptor: {0}")]
    Decode(#[from] WireError),
    /// A Kerberos GSS token with an unexpected TOK_ID or framing OID.
    #[error("unexpected token: {0}")]
    UnexpectedToken(String),
    /// The AP-REP does not verify (mutual authentication failed:
    /// KRB_AP_ERR_MUT_FAIL territory).
    #[error("mutual authentication failed: {0}")]
    MutualAuth(KrbClientError),
    /// The context keys cannot protect RFC 4121 tokens (e.g. rc4-hmac).
    #[error("context keys unusable for per-message tokens: {0}")]
    Protection(#[from] GssError),
    /// `step` after the context finished, or `into_context` before.
    #[error("Kerberos context is not in a state for this call")]
    State,
}

impl GssKrbError {
    /// The RFC 4120 code when the acceptor sent a KRB-ERROR.
    pub fn krb_code(&self) -> Option<i32> {
        match self {
            GssKrbError::Krb(e) => Some(e.code),
            _ => None,
        }
    }
}

/// What a step produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KrbStep {
    /// The context is established (no token to send: the initiator never
    /// sends after the AP-REP in RFC 4121).
    Complete,
}

#[derive(Debug)]
enum State {
    AwaitingApRep { pending: ApPending, seq: u32 },
    Established(KrbContext),
    Taken,
}

/// A Kerberos GSS initiator context.
#[derive(Debug)]
pub struct KrbInitiator {
    state: State,
    flags: u32,
    /// The OID the AP-REQ was framed with.
    framing: Oid,
}

impl KrbInitiator {
    /// Builds the AP-REQ for `creds` (a service ticket) and returns the
    /// context with the framed initial token to send.
    pub fn start(
        creds: &Credentials,
        options: &KrbInitiatorOptions,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<(Self, Vec<u8>), GssKrbError> {
        Self::start_framed(creds, options, &oid::KRB5, None, now, rng)
    }

    /// The AP-REQ that ends an IAKERB exchange (draft-ietf-kitten-iakerb-03
    /// §3.2): framed with `framing` (MIT uses the IAKERB OID, Windows the
    /// krb5 one), and, when `conversation` (every IAKERB token sent and
    /// received) is not empty, the finished checksum over it keyed with the
    /// authenticator subkey, in the RFC 6542 extension `flavor` names. The
    /// AP-REP may come back under `framing` or either Kerberos OID.
    pub fn start_iakerb(
        creds: &Credentials,
        options: &KrbInitiatorOptions,
        framing: &Oid,
        conversation: &[u8],
        flavor: FinishedFlavor,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<(Self, Vec<u8>), GssKrbError> {
        let finished = (!conversation.is_empty()).then_some((conversation, flavor));
        Self::start_framed(creds, options, framing, finished, now, rng)
    }

    fn start_framed(
        creds: &Credentials,
        options: &KrbInitiatorOptions,
        framing: &Oid,
        finished: Option<(&[u8], FinishedFlavor)>,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<(Self, Vec<u8>), GssKrbError> {
        let flags = options.flags;
        let mutual = flags & GSS_C_MUTUAL_FLAG != 0;
        // A 30-bit random sequence number, as MIT picks (and always sent:
        // the acceptor's sequence state starts from it).
        let seq = rng.next_u32() & 0x3fff_ffff;
        // A fresh subkey protects the context (RFC 4121 §2) and keys the
        // IAKERB finished checksum, so it exists before the checksum.
        let subkey = Key::random(creds.session_key.etype(), rng);
        let extensions = match finished {
            Some((conversation, flavor)) => vec![(
                flavor.ext_type(),
                gss_checksum::iakerb_finished(&subkey, conversation, flavor),
            )],
            None => Vec::new(),
        };
        // RFC 4121 §4.1.1: the GSS checksum binds the flags and channel
        // bindings into the authenticator (RFC 6542 extensions after them).
        let checksum = GssChecksum {
            bindings: options.channel_bindings,
            flags,
            delegation: None,
            extensions,
        };
        let ap = ApRequest::build_with_subkey(
            creds,
            &ApOptions {
                mutual,
                subkey: true,
                checksum: AuthenticatorChecksum::Raw(Checksum {
                    cksumtype: CKSUMTYPE_GSSAPI,
                    checksum: checksum.encode(),
                }),
                seq_number: Some(seq),
            },
            Some(subkey),
            now,
            rng,
        );
        let token = gss::encode_krb_token(framing, tok_id::AP_REQ, &ap.bytes);
        let state = if mutual {
            State::AwaitingApRep {
                pending: ap.pending,
                seq,
            }
        } else {
            // RFC 4121 §4.2.3 / MIT: without an AP-REP both directions start
            // from the initiator's sequence number.
            let key = initiator_key(&ap.pending);
            State::Established(KrbContext::new(
                Role::Initiator,
                key,
                None,
                u64::from(seq),
                u64::from(seq),
                flags,
            )?)
        };
        Ok((
            Self {
                state,
                flags,
                framing: framing.clone(),
            },
            token,
        ))
    }

    /// True once the context is established.
    pub fn is_complete(&self) -> bool {
        matches!(self.state, State::Established(_))
    }

    /// The flags requested.
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// Processes the acceptor's reply token (AP-REP or KRB-ERROR).
    pub fn step(&mut self, token: &[u8]) -> Result<KrbStep, GssKrbError> {
        let State::AwaitingApRep { pending, seq } = &self.state else {
            return Err(GssKrbError::State);
        };
        let t = gss::decode_krb_token(token)?;
        // The acceptor answers under the OID we framed with; MIT and
        // Windows also accept (and Windows sends) the legacy MS OID, and
        // after IAKERB Windows answers under krb5's (protocols.md §2.2).
        if t.mech != oid::KRB5 && t.mech != oid::MS_KRB5 && t.mech != self.framing {
            return Err(GssKrbError::UnexpectedToken(format!(
                "framing mechanism {} is not Kerberos",
                t.mech
            )));
        }
        match t.tok_id {
            tok_id::AP_REP => {
                let info = pending
                    .verify_ap_rep(t.body)
                    .map_err(GssKrbError::MutualAuth)?;
                let key = initiator_key(pending);
                // RFC 4121 §4.2.3: the acceptor's first number is the
                // AP-REP's seq-number (MIT falls back to ours without one).
                let peer_seq = info.seq_number.unwrap_or(*seq);
                let ctx = KrbContext::new(
                    Role::Initiator,
                    key,
                    info.subkey,
                    u64::from(*seq),
                    u64::from(peer_seq),
                    self.flags,
                )?;
                self.state = State::Established(ctx);
                Ok(KrbStep::Complete)
            }
            tok_id::KRB_ERROR => Err(krb_error_token(t.body)),
            other => Err(GssKrbError::UnexpectedToken(format!(
                "TOK_ID {:02x}{:02x} where an AP-REP or KRB-ERROR was expected",
                other[0], other[1]
            ))),
        }
    }

    /// The established context.
    pub fn into_context(self) -> Result<SecurityContext, GssKrbError> {
        match self.state {
            State::Established(c) => Ok(SecurityContext::Kerberos(c)),
            _ => Err(GssKrbError::State),
        }
    }

    /// Borrow the established context (for the SPNEGO mechListMIC).
    pub fn context_mut(&mut self) -> Option<&mut KrbContext> {
        match &mut self.state {
            State::Established(c) => Some(c),
            _ => None,
        }
    }

    /// Moves the established context out, leaving the initiator spent.
    pub(crate) fn take_context(&mut self) -> Option<KrbContext> {
        match std::mem::replace(&mut self.state, State::Taken) {
            State::Established(c) => Some(c),
            other => {
                self.state = other;
                None
            }
        }
    }
}

/// RFC 4121 §2: the initiator's subkey when it sent one, else the ticket
/// session key.
fn initiator_key(pending: &ApPending) -> kerbside_crypto::Key {
    pending
        .subkey()
        .cloned()
        .unwrap_or_else(|| pending.session_key().clone())
}

/// A KRB-ERROR carried in a `03 00` token, as a typed error.
fn krb_error_token(body: &[u8]) -> GssKrbError {
    match decode(body) {
        Ok(KrbMessage::KrbError(e)) => GssKrbError::Krb(KrbErrorInfo {
            code: e.error_code,
            text: e.e_text.clone(),
            e_data: e.e_data.clone(),
            server_time: from_kerberos_time_usec(&e.stime, e.susec),
        }),
        Ok(other) => {
            GssKrbError::UnexpectedToken(format!("{} inside a KRB-ERROR token", other.name()))
        }
        Err(e) => GssKrbError::Decode(e),
    }
}

/// True for the OIDs an AP-REQ may be framed with or listed under.
pub fn is_kerberos_oid(mech: &Oid) -> bool {
    *mech == oid::KRB5 || *mech == oid::MS_KRB5
}
