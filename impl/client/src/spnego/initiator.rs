//! [`SpnegoInitiator`]: the initiator's side of RFC 4178 §5.
//!
//! ```text
//! let mut sp = SpnegoInitiator::new(vec![OfferedMech::kerberos(creds), OfferedMech::Ntlm(ntlm)], SpnegoOptions::default())?;
//! let mut out = sp.initial_token(now, rng)?;        // 60 .. 2b 06 01 05 05 02 a0 .. NegTokenInit
//! loop {
//!     let reply = exchange(out);
//!     match sp.step(&reply, now, rng)? {
//!         SpnegoStep::Continue(t) => out = t,
//!         SpnegoStep::Complete(t) => { if let Some(t) = t { send(t) } break }
//!     }
//! }
//! let ctx = sp.into_context()?;
//! ```

use std::time::SystemTime;

use kerbside_wire::der::Oid;
use kerbside_wire::gss::oid;
use kerbside_wire::spnego::{
    NegState, NegTokenInit, NegTokenResp, NegotiationToken, mech_type_list_der,
};
use rand_core::RngCore;

use super::error::{Downgrade, SpnegoError};
use super::mech_list::{self, mechanism_of};
use crate::gss::{Mechanism, SecurityContext};
use crate::gss_krb::{GssKrbError, KrbInitiator, KrbInitiatorOptions};
use crate::iakerb::{IakerbError, IakerbInitiator, IakerbStep};
use crate::krb::Credentials;
use crate::ntlm::NtlmClient;

/// A mechanism the initiator can offer, with what it needs to run.
#[derive(Debug)]
#[non_exhaustive]
pub enum OfferedMech {
    /// Kerberos with a service ticket for the target.
    Kerberos {
        /// The service ticket.
        creds: Box<Credentials>,
        /// Flags and channel bindings.
        options: KrbInitiatorOptions,
    },
    /// NTLM with the user's credentials.
    Ntlm(Box<NtlmClient>),
    /// IAKERB (OID 1.3.6.1.5.2.5): Kerberos with the KDC exchanges relayed
    /// by the acceptor; its context is a Kerberos one.
    Iakerb(Box<IakerbInitiator>),
}

impl OfferedMech {
    /// Kerberos with default GSS flags.
    pub fn kerberos(creds: Credentials) -> Self {
        OfferedMech::Kerberos {
            creds: Box::new(creds),
            options: KrbInitiatorOptions::default(),
        }
    }

    /// NTLM.
    pub fn ntlm(client: NtlmClient) -> Self {
        OfferedMech::Ntlm(Box::new(client))
    }

    /// IAKERB through the acceptor.
    pub fn iakerb(initiator: IakerbInitiator) -> Self {
        OfferedMech::Iakerb(Box::new(initiator))
    }

    fn mechanism(&self) -> Mechanism {
        match self {
            OfferedMech::Kerberos { .. } | OfferedMech::Iakerb(_) => Mechanism::Kerberos,
            OfferedMech::Ntlm(_) => Mechanism::Ntlm,
        }
    }
}

/// Initiator choices.
#[derive(Debug, Clone, Default)]
pub struct SpnegoOptions {
    /// List Microsoft's legacy Kerberos OID 1.2.840.48018.1.2.2 before the
    /// standard one, as Windows clients do (RFC 4178 Appendix C).
    pub legacy_ms_krb5: bool,
}

/// What to do after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpnegoStep {
    /// Send this token and wait for the acceptor's answer.
    Continue(Vec<u8>),
    /// The context is established; send the token if there is one (our
    /// final mechListMIC) and expect nothing more.
    Complete(Option<Vec<u8>>),
}

#[derive(Debug)]
enum Mech {
    NotStarted(OfferedMech),
    Kerberos(Box<KrbInitiator>),
    Ntlm(Box<NtlmClient>),
    Iakerb(Box<IakerbInitiator>),
    /// Started and dropped (the acceptor chose another), or its context
    /// moved into the initiator.
    Spent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    AwaitReply,
    Complete,
    Failed,
}

/// One SPNEGO negotiation, initiator side.
#[derive(Debug)]
pub struct SpnegoInitiator {
    mechs: Vec<(Mechanism, Mech)>,
    /// The MechTypeList as sent, and for each entry the index into `mechs`.
    mech_types: Vec<(Oid, usize)>,
    mech_list_der: Vec<u8>,
    phase: Phase,
    selected: Option<usize>,
    context: Option<SecurityContext>,
    mic_required: bool,
    mic_sent: bool,
    last_sent_mic: bool,
    peer_mic_verified: bool,
}

impl SpnegoInitiator {
    /// An initiator offering `mechs`, most preferred first.
    pub fn new(mechs: Vec<OfferedMech>, options: SpnegoOptions) -> Result<Self, SpnegoError> {
        if mechs.is_empty() {
            return Err(SpnegoError::NoMechanisms);
        }
        let mut mech_types = Vec::new();
        let mut list = Vec::new();
        for (i, m) in mechs.into_iter().enumerate() {
            let mechanism = m.mechanism();
            match mechanism {
                Mechanism::Kerberos if matches!(m, OfferedMech::Iakerb(_)) => {
                    mech_types.push((oid::IAKERB, i));
                }
                Mechanism::Kerberos => {
                    if options.legacy_ms_krb5 {
                        mech_types.push((oid::MS_KRB5, i));
                    }
                    mech_types.push((oid::KRB5, i));
                }
                other => mech_types.push((other.oid(), i)),
            }
            list.push((mechanism, Mech::NotStarted(m)));
        }
        let oids: Vec<Oid> = mech_types.iter().map(|(o, _)| o.clone()).collect();
        Ok(Self {
            mechs: list,
            mech_list_der: mech_type_list_der(&oids),
            mech_types,
            phase: Phase::Start,
            selected: None,
            context: None,
            mic_required: false,
            mic_sent: false,
            last_sent_mic: false,
            peer_mic_verified: false,
        })
    }

    /// The MechTypeList offered, in order.
    pub fn mech_types(&self) -> Vec<Oid> {
        self.mech_types.iter().map(|(o, _)| o.clone()).collect()
    }

    /// The mechanism the acceptor selected, once it has.
    pub fn selected_mechanism(&self) -> Option<Mechanism> {
        self.selected
            .and_then(|i| self.mechs.get(i))
            .map(|(m, _)| *m)
    }

    /// Whether the mechListMIC exchange was (or is) required.
    pub fn mic_required(&self) -> bool {
        self.mic_required
    }

    /// True once established.
    pub fn is_complete(&self) -> bool {
        self.phase == Phase::Complete
    }

    /// The mechanisms a server's NegTokenInit2 hints at (MS-SPNG §2.2.1),
    /// for information only: hints are unauthenticated, so the initiator
    /// never narrows its own list by them (a man-in-the-middle editing the
    /// hint to drop Kerberos would otherwise make the client offer NTLM
    /// alone, and a MIC over that list would not reveal it).
    pub fn hinted_mechanisms(token: &[u8]) -> Result<Vec<Oid>, SpnegoError> {
        match NegotiationToken::decode(token)? {
            NegotiationToken::Init2(t) => Ok(t.mech_types.unwrap_or_default()),
            NegotiationToken::Init(t) => Ok(t.mech_types),
            NegotiationToken::Resp(_) => Err(SpnegoError::UnexpectedToken(
                "NegTokenResp where a server-initiated NegTokenInit2 was expected",
            )),
        }
    }

    /// The framed NegTokenInit with the optimistic token of the first
    /// mechanism (RFC 4178 §4.2.1).
    pub fn initial_token(
        &mut self,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<u8>, SpnegoError> {
        if self.phase != Phase::Start {
            return Err(SpnegoError::State);
        }
        let first = self.first_choice();
        let token = match self.start(first, now, rng) {
            Ok(t) => t,
            Err(e) => return Err(self.fail(e)),
        };
        self.phase = Phase::AwaitReply;
        Ok(NegotiationToken::Init(NegTokenInit {
            mech_types: self.mech_types(),
            req_flags: None,
            mech_token: Some(token),
            mech_list_mic: None,
        })
        .encode_initial())
    }

    /// Processes the acceptor's NegTokenResp.
    pub fn step(
        &mut self,
        token: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<SpnegoStep, SpnegoError> {
        if self.phase != Phase::AwaitReply {
            return Err(SpnegoError::State);
        }
        match self.step_inner(token, now, rng) {
            Ok(s) => {
                self.phase = match s {
                    SpnegoStep::Continue(_) => Phase::AwaitReply,
                    SpnegoStep::Complete(_) => Phase::Complete,
                };
                Ok(s)
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    /// The established context.
    pub fn into_context(self) -> Result<SecurityContext, SpnegoError> {
        match (self.phase, self.context) {
            (Phase::Complete, Some(c)) => Ok(c),
            _ => Err(SpnegoError::State),
        }
    }

    fn fail(&mut self, e: SpnegoError) -> SpnegoError {
        self.phase = Phase::Failed;
        e
    }

    fn first_choice(&self) -> usize {
        self.mech_types.first().map_or(0, |(_, i)| *i)
    }

    /// The IAKERB initiator, when IAKERB was offered: its tickets, realm
    /// and transcript stay readable after the context moved out.
    pub fn iakerb(&self) -> Option<&IakerbInitiator> {
        self.mechs.iter().find_map(|(_, m)| match m {
            Mech::Iakerb(ia) => Some(&**ia),
            Mech::NotStarted(OfferedMech::Iakerb(ia)) => Some(&**ia),
            _ => None,
        })
    }

    /// The OID the acceptor selected, once it has (IAKERB and Kerberos
    /// share [`Mechanism::Kerberos`]; this tells them apart).
    pub fn selected_oid(&self) -> Option<Oid> {
        let i = self.selected?;
        self.mech_types
            .iter()
            .find(|(_, j)| *j == i)
            .map(|(o, _)| o.clone())
    }

    /// The offer an OID names: the exact OID, else Kerberos under either
    /// Kerberos OID (never the IAKERB offer, which only its own OID names).
    fn offer_for(&self, mech: &Oid) -> Option<usize> {
        if let Some((_, i)) = self.mech_types.iter().find(|(o, _)| o == mech) {
            return Some(*i);
        }
        let wanted = mechanism_of(mech)?;
        self.mech_types
            .iter()
            .filter(|(o, _)| *o != oid::IAKERB)
            .map(|(_, i)| *i)
            .find(|i| self.mechs.get(*i).is_some_and(|(m, _)| *m == wanted))
    }

    fn start(
        &mut self,
        i: usize,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<u8>, SpnegoError> {
        let Some((_, slot)) = self.mechs.get_mut(i) else {
            return Err(SpnegoError::State);
        };
        let Mech::NotStarted(offer) = std::mem::replace(slot, Mech::Spent) else {
            return Err(SpnegoError::State);
        };
        let (mech, token) = match offer {
            OfferedMech::Kerberos { creds, options } => {
                let (init, token) = KrbInitiator::start(&creds, &options, now, rng)?;
                (Mech::Kerberos(Box::new(init)), token)
            }
            OfferedMech::Ntlm(mut client) => {
                let token = client.negotiate()?;
                (Mech::Ntlm(client), token)
            }
            OfferedMech::Iakerb(mut ia) => {
                let token = ia.initial_token(now, rng)?;
                (Mech::Iakerb(ia), token)
            }
        };
        *slot = mech;
        Ok(token)
    }

    /// Feeds a mechanism token to mechanism `i`; returns its answer.
    fn feed(
        &mut self,
        i: usize,
        token: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<Option<Vec<u8>>, SpnegoError> {
        match self.mechs.get_mut(i).map(|(_, m)| m) {
            Some(Mech::Kerberos(k)) => {
                k.step(token)?;
                Ok(None)
            }
            Some(Mech::Ntlm(c)) => Ok(Some(c.authenticate(token, now, rng)?)),
            Some(Mech::Iakerb(ia)) => match ia.step(token, now, rng)? {
                IakerbStep::Continue(t) => Ok(Some(t)),
                IakerbStep::Complete(t) => Ok(t),
            },
            _ => Err(SpnegoError::UnexpectedToken(
                "a mechanism token after the mechanism finished",
            )),
        }
    }

    /// Moves mechanism `i`'s context out once it is established.
    fn take_established(&mut self, i: usize) -> Option<SecurityContext> {
        match self.mechs.get_mut(i).map(|(_, m)| m) {
            Some(Mech::Kerberos(k)) => k.take_context().map(SecurityContext::Kerberos),
            Some(Mech::Ntlm(c)) => c.take_context().map(SecurityContext::Ntlm),
            Some(Mech::Iakerb(ia)) => ia.take_context().map(SecurityContext::Kerberos),
            _ => None,
        }
    }

    /// The typed error inside a mechanism token that came with `reject`
    /// (MIT's acceptor returns the KRB-ERROR token this way).
    fn mech_error(
        &mut self,
        token: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Option<SpnegoError> {
        let i = self.selected.unwrap_or_else(|| self.first_choice());
        match self.mechs.get_mut(i).map(|(_, m)| m) {
            Some(Mech::Kerberos(k)) => match k.step(token) {
                Err(e @ GssKrbError::Krb(_)) => Some(SpnegoError::Kerberos(e)),
                _ => None,
            },
            // 85/86 inside an IAKERB token, or the AP-REQ's KRB-ERROR.
            Some(Mech::Iakerb(ia)) => match ia.step(token, now, rng) {
                Err(e @ (IakerbError::Proxy(_) | IakerbError::Gss(GssKrbError::Krb(_)))) => {
                    Some(SpnegoError::Iakerb(e))
                }
                _ => None,
            },
            _ => None,
        }
    }

    fn step_inner(
        &mut self,
        token: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<SpnegoStep, SpnegoError> {
        let resp = match NegotiationToken::decode(token)? {
            NegotiationToken::Resp(r) => r,
            _ => {
                return Err(SpnegoError::UnexpectedToken(
                    "NegTokenInit where a NegTokenResp was expected",
                ));
            }
        };
        let after_mic = self.last_sent_mic;
        self.last_sent_mic = false;
        if resp.neg_state == Some(NegState::Reject) {
            if let Some(e) = resp
                .response_token
                .as_deref()
                .and_then(|t| self.mech_error(t, now, rng))
            {
                return Err(e);
            }
            return Err(SpnegoError::Rejected { after_mic });
        }

        let mut mech_out = None;
        let selected = match self.selected {
            None => {
                // RFC 4178 §4.2.2: the first reply names the chosen mechanism.
                let Some(sup) = &resp.supported_mech else {
                    return Err(SpnegoError::UnexpectedToken(
                        "first NegTokenResp without supportedMech",
                    ));
                };
                let Some(i) = self.offer_for(sup) else {
                    return Err(SpnegoError::UnofferedMechanism(sup.clone()));
                };
                self.selected = Some(i);
                // RFC 4178 §5: a MIC is due unless the acceptor took our
                // first choice; it may also ask for one (request-mic).
                self.mic_required =
                    i != self.first_choice() || resp.neg_state == Some(NegState::RequestMic);
                if i != self.first_choice() {
                    // The optimistic token was for another mechanism: start
                    // the chosen one and send its first token (§5 c).
                    if resp.response_token.is_some() {
                        return Err(SpnegoError::UnexpectedToken(
                            "a response token for a mechanism the initiator has not started",
                        ));
                    }
                    mech_out = Some(self.start(i, now, rng)?);
                }
                i
            }
            Some(i) => {
                if let Some(sup) = &resp.supported_mech
                    && self.offer_for(sup) != Some(i)
                {
                    return Err(SpnegoError::UnexpectedToken(
                        "supportedMech changed during the negotiation",
                    ));
                }
                if resp.neg_state == Some(NegState::RequestMic) {
                    self.mic_required = true;
                }
                i
            }
        };

        if let Some(t) = &resp.response_token {
            mech_out = self.feed(selected, t, now, rng)?;
        }
        if self.context.is_none() {
            self.context = self.take_established(selected);
        }

        let mut mic_out = None;
        match self.context.as_mut() {
            Some(ctx) => {
                if let Some(mic) = &resp.mech_list_mic {
                    // RFC 4178 §5: the acceptor's MIC is over the list as *it*
                    // received it; if that was not the list we sent, it does
                    // not verify here.
                    mech_list::verify(ctx, &self.mech_list_der, mic)
                        .map_err(|_| SpnegoError::DowngradeDetected(Downgrade::MicMismatch))?;
                    self.peer_mic_verified = true;
                    // A MIC received must be answered with ours.
                    self.mic_required = true;
                }
                if self.mic_required && !self.mic_sent {
                    mic_out = Some(
                        mech_list::sign(ctx, &self.mech_list_der)
                            .map_err(SpnegoError::MicUnavailable)?,
                    );
                    self.mic_sent = true;
                }
            }
            None => {
                if resp.mech_list_mic.is_some() {
                    return Err(SpnegoError::UnexpectedToken(
                        "mechListMIC before the mechanism context was established",
                    ));
                }
            }
        }

        let accept_completed = resp.neg_state == Some(NegState::AcceptCompleted);
        let has_output = mech_out.is_some() || mic_out.is_some();
        self.last_sent_mic = mic_out.is_some();
        let out = has_output.then(|| {
            NegotiationToken::Resp(NegTokenResp {
                neg_state: None,
                supported_mech: None,
                response_token: mech_out,
                mech_list_mic: mic_out,
            })
            .encode()
        });
        let established = self.context.is_some();
        if self.mic_required {
            if established && self.peer_mic_verified {
                // Both MICs exchanged (ours possibly in `out`): done. The
                // acceptor sends nothing after our MIC (MIT behaves so).
                return Ok(SpnegoStep::Complete(out));
            }
            if accept_completed {
                // The acceptor is finished and never proved the list.
                return Err(SpnegoError::DowngradeDetected(Downgrade::MicMissing));
            }
        } else if established && accept_completed {
            return Ok(SpnegoStep::Complete(out));
        }
        match out {
            Some(t) => Ok(SpnegoStep::Continue(t)),
            None => Err(SpnegoError::UnexpectedToken(
                "acceptor expects more but the initiator has nothing to send",
            )),
        }
    }
}
