//! The SPNEGO acceptor (RFC 4178 §5, MS-SPNG §3.2).
//!
//! * Selection: the first mechanism in the *initiator's* list that this
//!   server accepts (MIT's `negotiate_mech` and Windows do the same), with
//!   Microsoft's legacy Kerberos OID treated as Kerberos and echoed back.
//! * The optimistic token is used when it is for the selected mechanism;
//!   otherwise the first reply names the mechanism (`supportedMech`) and
//!   waits for its first token.
//! * mechListMIC: required unless the selected mechanism is the first
//!   choice of both sides (RFC 4178 §5). The first reply says so with
//!   `request-mic`. Kerberos (an even number of mechanism tokens) sends its
//!   MIC with the AP-REP and expects the initiator's; NTLM (odd) expects
//!   the initiator's MIC with the AUTHENTICATE and answers with its own.
//!   The MIC covers DER(MechTypeList) *as this acceptor received it*, so a
//!   list edited in transit fails verification here
//!   ([`AcceptError::DowngradeDetected`]) and the initiator gets `reject`.
//! * IAKERB (draft-ietf-kitten-iakerb-03) is selectable when the server
//!   is configured for it: its proxy tokens ride in intermediate
//!   NegTokenResps (`accept-incomplete`, supportedMech IAKERB in the
//!   first) while the KDC exchanges are relayed
//!   ([`SpnegoOutcome::ProxyKdc`], resumed by [`SpnegoAcceptor::kdc_reply`]);
//!   the AP-REQ then completes a Kerberos context and the mechListMIC is
//!   always required (IAKERB is never both sides' first choice: our first
//!   is Kerberos), as Windows sends it (protocols.md §2.5 step 4).
//! * Failures answer NegTokenResp `reject`; a Kerberos refusal also
//!   carries its KRB-ERROR token (as MIT's acceptor sends it), so the
//!   initiator learns KRB_AP_ERR_SKEW and friends.

use std::time::SystemTime;

use kerbside_client::gss::{Mechanism, SecurityContext};
use kerbside_client::spnego::Downgrade;
use kerbside_client::spnego::mech_list::{self, mechanism_of};
use kerbside_wire::der::Oid;
use kerbside_wire::gss::{self, oid, tok_id};
use kerbside_wire::spnego::{NegState, NegTokenResp, NegotiationToken, mech_type_list_der};
use rand_core::RngCore;

use crate::acceptor::{KdcProxyFailure, KdcProxyRequest};
use crate::error::{AcceptError, AcceptFailure};
use crate::iakerb_acceptor::{IakerbAcceptor, IakerbOutcome, IakerbSummary};
use crate::krb_acceptor;
use crate::ntlm_acceptor::{NtlmAcceptor, NtlmStep};
use crate::service::AppService;
use crate::session::{Session, Via};

/// What a SPNEGO step produced.
#[derive(Debug)]
pub enum SpnegoOutcome {
    /// Send this NegTokenResp and wait for the initiator.
    Continue(Vec<u8>),
    /// Authenticated; send `reply` if present.
    Complete {
        /// The final NegTokenResp, if one is due.
        reply: Option<Vec<u8>>,
        /// The authenticated session.
        session: Box<Session>,
    },
    /// IAKERB: forward this KDC message and resume with
    /// [`SpnegoAcceptor::kdc_reply`].
    ProxyKdc(KdcProxyRequest),
}

#[derive(Debug)]
enum Inner {
    /// Kerberos: the next mechanism token is the AP-REQ.
    Kerberos,
    Ntlm(NtlmAcceptor),
    Iakerb(Box<IakerbAcceptor>),
}

/// What a mechanism token produced.
enum Fed {
    /// A token for the initiator (or none).
    Token(Option<Vec<u8>>),
    /// IAKERB wants a KDC message relayed first.
    Proxy(KdcProxyRequest),
}

/// An established context waiting for the mechListMIC exchange.
type Established = (String, SecurityContext, Option<IakerbSummary>);

/// One SPNEGO negotiation, acceptor side.
#[derive(Debug)]
pub struct SpnegoAcceptor {
    first: bool,
    mech_types_der: Vec<u8>,
    selected: Option<(Mechanism, Oid)>,
    inner: Option<Inner>,
    established: Option<Established>,
    /// The reply being built after a relayed KDC exchange is the first.
    pending_first: bool,
    mic_required: bool,
    mic_sent: bool,
    mic_received: bool,
    done: bool,
}

impl Default for SpnegoAcceptor {
    fn default() -> Self {
        Self::new()
    }
}

/// A NegTokenResp.
fn resp(
    neg_state: NegState,
    supported_mech: Option<Oid>,
    response_token: Option<Vec<u8>>,
    mech_list_mic: Option<Vec<u8>>,
) -> Vec<u8> {
    NegotiationToken::Resp(NegTokenResp {
        neg_state: Some(neg_state),
        supported_mech,
        response_token,
        mech_list_mic,
    })
    .encode()
}

impl SpnegoAcceptor {
    /// Waiting for the NegTokenInit.
    pub fn new() -> Self {
        Self {
            first: true,
            mech_types_der: Vec::new(),
            selected: None,
            inner: None,
            established: None,
            pending_first: false,
            mic_required: false,
            mic_sent: false,
            mic_received: false,
            done: false,
        }
    }

    /// The selected mechanism, once chosen.
    pub fn selected(&self) -> Option<Mechanism> {
        self.selected.as_ref().map(|(m, _)| *m)
    }

    /// A `reject`, naming the mechanism in the first reply, with an
    /// optional mechanism error token.
    fn reject(&mut self, error: AcceptError, token: Option<Vec<u8>>) -> AcceptFailure {
        self.done = true;
        let sup = if self.first {
            self.selected.as_ref().map(|(_, o)| o.clone())
        } else {
            None
        };
        AcceptFailure::with_reply(error, resp(NegState::Reject, sup, token, None))
    }

    /// Processes the initiator's next SPNEGO token.
    pub fn step(
        &mut self,
        svc: &AppService,
        token: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<SpnegoOutcome, AcceptFailure> {
        if self.done {
            return Err(AcceptFailure::silent(AcceptError::State));
        }
        let parsed = match NegotiationToken::decode(token) {
            Ok(t) => t,
            Err(e) => return Err(self.reject(AcceptError::Malformed(e.to_string()), None)),
        };
        let (mech_token, mic) = if self.first {
            let NegotiationToken::Init(init) = parsed else {
                return Err(self.reject(
                    AcceptError::UnexpectedToken("the first SPNEGO token must be a NegTokenInit"),
                    None,
                ));
            };
            self.mech_types_der = mech_type_list_der(&init.mech_types);
            // RFC 4178 §5: the initiator's order decides among what we accept.
            let accepted = svc.config.mode;
            let iakerb_ok = svc.config.iakerb.is_some() && accepted.accepts(Mechanism::Kerberos);
            let Some((index, mechanism, oid)) =
                init.mech_types.iter().enumerate().find_map(|(i, o)| {
                    if *o == oid::IAKERB {
                        return iakerb_ok.then(|| (i, Mechanism::Kerberos, o.clone()));
                    }
                    mechanism_of(o)
                        .filter(|m| accepted.accepts(*m))
                        .map(|m| (i, m, o.clone()))
                })
            else {
                return Err(self.reject(AcceptError::NoCommonMechanism, None));
            };
            let is_iakerb = oid == oid::IAKERB;
            let our_first = accepted.mechanisms().first().copied();
            self.mic_required = index != 0 || our_first != Some(mechanism) || is_iakerb;
            self.selected = Some((mechanism, oid));
            self.inner = Some(match mechanism {
                Mechanism::Ntlm => Inner::Ntlm(NtlmAcceptor::new()),
                _ if is_iakerb => Inner::Iakerb(Box::new(IakerbAcceptor::new())),
                _ => Inner::Kerberos,
            });
            // The optimistic token only counts when it is for our choice.
            let optimistic = if index == 0 { init.mech_token } else { None };
            (optimistic, init.mech_list_mic)
        } else {
            match parsed {
                NegotiationToken::Resp(r) => {
                    if r.neg_state == Some(NegState::Reject) {
                        self.done = true;
                        return Err(AcceptFailure::silent(AcceptError::UnexpectedToken(
                            "initiator rejected the negotiation",
                        )));
                    }
                    (r.response_token, r.mech_list_mic)
                }
                _ => {
                    return Err(self.reject(
                        AcceptError::UnexpectedToken("a NegTokenInit after the first token"),
                        None,
                    ));
                }
            }
        };
        let result = self.advance(svc, mech_token, mic, now, rng);
        self.first = false;
        result
    }

    fn advance(
        &mut self,
        svc: &AppService,
        mech_token: Option<Vec<u8>>,
        mic: Option<Vec<u8>>,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<SpnegoOutcome, AcceptFailure> {
        let mut mech_out = None;
        // Whether the initiator is still waiting for us: it sent a
        // mechanism token. Its final Kerberos MIC (even case) is answered
        // by nothing.
        let initiator_waits = mech_token.is_some();
        if let Some(t) = mech_token {
            if self.established.is_some() {
                return Err(self.reject(
                    AcceptError::UnexpectedToken("a mechanism token after the context completed"),
                    None,
                ));
            }
            match self.feed(svc, &t, now, rng)? {
                Fed::Token(out) => mech_out = out,
                Fed::Proxy(req) => {
                    if mic.is_some() {
                        return Err(self.reject(
                            AcceptError::UnexpectedToken(
                                "mechListMIC before the context was established",
                            ),
                            None,
                        ));
                    }
                    self.pending_first = self.first;
                    return Ok(SpnegoOutcome::ProxyKdc(req));
                }
            }
        }
        self.after_mech(mech_out, mic, initiator_waits)
    }

    /// The KDC's answer to the last [`SpnegoOutcome::ProxyKdc`]: the IAKERB
    /// token goes back in a NegTokenResp (the first one names IAKERB as
    /// supportedMech); no answer rejects with the 85/86 token.
    pub fn kdc_reply(
        &mut self,
        svc: &AppService,
        reply: Result<&[u8], KdcProxyFailure>,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<SpnegoOutcome, AcceptFailure> {
        self.first = self.pending_first;
        let result = match self.inner.as_mut() {
            Some(Inner::Iakerb(ia)) if !self.done && ia.is_awaiting_kdc() => {
                match ia.kdc_reply(svc, reply, now, rng) {
                    Ok(t) => self.after_mech(Some(t), None, true),
                    Err(f) => Err(self.reject(f.error, f.reply)),
                }
            }
            _ => Err(AcceptFailure::silent(AcceptError::State)),
        };
        self.first = false;
        self.pending_first = false;
        result
    }

    /// Everything after the mechanism token was processed: the reply for
    /// an unfinished context, or the mechListMIC exchange and completion.
    fn after_mech(
        &mut self,
        mech_out: Option<Vec<u8>>,
        mic: Option<Vec<u8>>,
        initiator_waits: bool,
    ) -> Result<SpnegoOutcome, AcceptFailure> {
        let Some((_, ctx, _)) = self.established.as_mut() else {
            if mic.is_some() {
                return Err(self.reject(
                    AcceptError::UnexpectedToken("mechListMIC before the context was established"),
                    None,
                ));
            }
            if mech_out.is_none() && !self.first {
                return Err(self.reject(
                    AcceptError::UnexpectedToken("a NegTokenResp without a mechanism token"),
                    None,
                ));
            }
            // First reply (or an intermediate leg): name the mechanism and
            // ask for the MIC when it will be required.
            let state = if self.first && self.mic_required {
                NegState::RequestMic
            } else {
                NegState::AcceptIncomplete
            };
            let sup = self.first_supported_mech();
            return Ok(SpnegoOutcome::Continue(resp(state, sup, mech_out, None)));
        };
        if let Some(m) = &mic {
            if mech_list::verify(ctx, &self.mech_types_der, m).is_err() {
                return Err(
                    self.reject(AcceptError::DowngradeDetected(Downgrade::MicMismatch), None)
                );
            }
            self.mic_received = true;
            // RFC 4178 §5: a MIC received is answered with ours.
            self.mic_required = true;
        }
        let mut mic_out = None;
        if self.mic_required && !self.mic_sent {
            if !self.mic_received && mech_out.is_none() {
                // Odd number of mechanism tokens (NTLM): the initiator's MIC
                // had to come with its last token.
                return Err(
                    self.reject(AcceptError::DowngradeDetected(Downgrade::MicMissing), None)
                );
            }
            match mech_list::sign(ctx, &self.mech_types_der) {
                Ok(m) => mic_out = Some(m),
                Err(_) => return Err(self.reject(AcceptError::MicUnavailable, None)),
            }
            self.mic_sent = true;
        }
        if self.mic_required && !self.mic_received {
            // Even number (Kerberos): our MIC rides with the AP-REP; the
            // initiator answers with its own.
            let sup = self.first_supported_mech();
            return Ok(SpnegoOutcome::Continue(resp(
                NegState::AcceptIncomplete,
                sup,
                mech_out,
                mic_out,
            )));
        }
        // Complete. After the initiator's final MIC in the Kerberos case
        // there is nothing left to say (MIT's initiator expects nothing);
        // after a last mechanism token (NTLM's AUTHENTICATE) the initiator
        // waits for accept-completed.
        let reply = if mech_out.is_some() || mic_out.is_some() || self.first || initiator_waits {
            Some(resp(
                NegState::AcceptCompleted,
                self.first_supported_mech(),
                mech_out,
                mic_out,
            ))
        } else {
            None
        };
        self.done = true;
        let Some((client, context, iakerb)) = self.established.take() else {
            return Err(AcceptFailure::silent(AcceptError::State));
        };
        let mechanism = context.mechanism();
        Ok(SpnegoOutcome::Complete {
            reply,
            session: Box::new(Session {
                client,
                mechanism,
                via: Via::Spnego,
                context,
                iakerb,
            }),
        })
    }

    fn first_supported_mech(&self) -> Option<Oid> {
        if self.first {
            self.selected.as_ref().map(|(_, o)| o.clone())
        } else {
            None
        }
    }

    /// Runs the selected mechanism on one of its tokens.
    fn feed(
        &mut self,
        svc: &AppService,
        token: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<Fed, AcceptFailure> {
        match self.inner.take() {
            Some(Inner::Kerberos) => {
                let krb = match gss::decode_krb_token(token) {
                    Ok(t)
                        if t.tok_id == tok_id::AP_REQ
                            && mechanism_of(&t.mech) == Some(Mechanism::Kerberos) =>
                    {
                        t
                    }
                    Ok(_) => {
                        return Err(self.reject(
                            AcceptError::UnexpectedToken(
                                "the Kerberos mechanism token is not an AP-REQ",
                            ),
                            None,
                        ));
                    }
                    Err(e) => return Err(self.reject(AcceptError::Malformed(e.to_string()), None)),
                };
                match krb_acceptor::accept(
                    &svc.config,
                    &svc.keys,
                    svc.replay_cache(),
                    &krb.mech,
                    krb.body,
                    now,
                    rng,
                ) {
                    Ok(a) => {
                        self.established =
                            Some((a.client, SecurityContext::Kerberos(a.context), None));
                        Ok(Fed::Token(a.reply))
                    }
                    Err(r) => Err(self.reject(
                        AcceptError::Kerberos {
                            code: r.code,
                            reason: r.reason,
                        },
                        Some(r.token),
                    )),
                }
            }
            Some(Inner::Ntlm(mut n)) => {
                match n.step(&svc.config.ntlm, &svc.accounts, token, now, rng) {
                    Ok(NtlmStep::Challenge(c)) => {
                        self.inner = Some(Inner::Ntlm(n));
                        Ok(Fed::Token(Some(c)))
                    }
                    Ok(NtlmStep::Accepted(a)) => {
                        let client = if a.domain.is_empty() {
                            a.user
                        } else {
                            format!("{}\\{}", a.domain, a.user)
                        };
                        self.established = Some((client, SecurityContext::Ntlm(a.context), None));
                        Ok(Fed::Token(None))
                    }
                    Err(e) => Err(self.reject(AcceptError::Ntlm(e), None)),
                }
            }
            Some(Inner::Iakerb(mut ia)) => match ia.step(svc, token, now, rng) {
                Ok(IakerbOutcome::Reply(t)) => {
                    self.inner = Some(Inner::Iakerb(ia));
                    Ok(Fed::Token(Some(t)))
                }
                Ok(IakerbOutcome::Proxy(req)) => {
                    self.inner = Some(Inner::Iakerb(ia));
                    Ok(Fed::Proxy(req))
                }
                Ok(IakerbOutcome::Accepted(a)) => {
                    let a = *a;
                    let summary = ia.summary(a.finished);
                    self.established = Some((
                        a.client,
                        SecurityContext::Kerberos(a.context),
                        Some(summary),
                    ));
                    Ok(Fed::Token(a.reply))
                }
                Err(f) => Err(self.reject(f.error, f.reply)),
            },
            None => Err(self.reject(AcceptError::State, None)),
        }
    }
}
