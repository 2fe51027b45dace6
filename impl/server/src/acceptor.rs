//! [`Acceptor`]: one connection's GSS context establishment, whatever the
//! client sends first.
//!
//! The first token decides the path (what MIT's mechglue does by the
//! token's OID):
//!
//! | first bytes | path |
//! |---|---|
//! | `60 .. 06 06 2b 06 01 05 05 02` | SPNEGO ([`crate::spnego_acceptor`]) |
//! | `60 .. 06 09 2a 86 48 86 f7 12 01 02 02 01 00` (or the MS OID) | raw Kerberos AP-REQ ([`crate::krb_acceptor`]) |
//! | `60 .. 06 06 2b 06 01 05 02 05` | IAKERB ([`crate::iakerb_acceptor`]) when configured: [`AcceptStep::ProxyKdc`] per KDC message |
//! | `NTLMSSP\0` | raw NTLM ([`crate::ntlm_acceptor`]) |
//!
//! Anything else is refused with [`AcceptError::Malformed`]. Every failure
//! comes back as an [`AcceptFailure`] holding the reply the protocol has
//! for it (a KRB-ERROR token, a SPNEGO reject) so the driver can send it
//! before closing.

use std::sync::Arc;
use std::time::SystemTime;

use kerbside_client::gss::{Mechanism, SecurityContext};
use kerbside_client::spnego::mech_list::mechanism_of;
use kerbside_wire::gss::{self, oid, tok_id};
use kerbside_wire::ntlm::SIGNATURE as NTLMSSP;
use kerbside_wire::spnego::{HINT_NAME_IGNORE, NegHints, NegTokenInit2, NegotiationToken};
use rand_core::RngCore;

use crate::error::{AcceptError, AcceptFailure};
use crate::iakerb_acceptor::{IakerbAcceptor, IakerbOutcome};
use crate::krb_acceptor;
use crate::ntlm_acceptor::{NtlmAcceptor, NtlmStep};
use crate::service::AppService;
use crate::session::{Session, Via};
use crate::spnego_acceptor::{SpnegoAcceptor, SpnegoOutcome};

/// A KDC message the acceptor needs forwarded to its realm's KDC: the
/// IAKERB seam (draft-ietf-kitten-iakerb §3: the acceptor relays the
/// initiator's KDC-REQ and returns the KDC-REP inside the next token).
/// The driver sends `message` to a KDC of `realm` over TCP and hands the
/// reply to [`Acceptor::kdc_reply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KdcProxyRequest {
    /// The target realm from the IAKERB header (empty: discovery).
    pub realm: String,
    /// The raw KDC-REQ (no length prefix).
    pub message: Vec<u8>,
}

/// Why a [`KdcProxyRequest`] got no reply, in the terms IAKERB reports
/// back to the initiator (draft-ietf-kitten-iakerb §3.3 / MIT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KdcProxyFailure {
    /// No KDC is known for the realm: KRB_AP_ERR_IAKERB_KDC_NOT_FOUND (85).
    KdcNotFound,
    /// The KDC did not answer: KRB_AP_ERR_IAKERB_KDC_NO_RESPONSE (86).
    NoResponse,
}

impl KdcProxyFailure {
    /// The RFC 4120-style error code IAKERB assigns.
    pub fn krb_code(self) -> i32 {
        use kerbside_wire::krb::constants::error_code as code;
        match self {
            KdcProxyFailure::KdcNotFound => code::KRB_AP_ERR_IAKERB_KDC_NOT_FOUND,
            KdcProxyFailure::NoResponse => code::KRB_AP_ERR_IAKERB_KDC_NO_RESPONSE,
        }
    }
}

/// What a step produced.
#[derive(Debug)]
pub enum AcceptStep {
    /// Send this token and wait for the next.
    Continue(Vec<u8>),
    /// Authenticated. Send `reply` if present.
    Complete {
        /// The final token (AP-REP, NegTokenResp), if one is due.
        reply: Option<Vec<u8>>,
        /// The authenticated session.
        session: Box<Session>,
    },
    /// Forward a KDC message (IAKERB) and resume with
    /// [`Acceptor::kdc_reply`].
    ProxyKdc(KdcProxyRequest),
}

#[derive(Debug)]
enum State {
    Fresh,
    Spnego(Box<SpnegoAcceptor>),
    Ntlm(NtlmAcceptor),
    Iakerb(Box<IakerbAcceptor>),
    Finished,
}

/// One connection's context establishment.
#[derive(Debug)]
pub struct Acceptor {
    svc: Arc<AppService>,
    state: State,
}

impl Acceptor {
    /// A fresh acceptor for `svc`.
    pub fn new(svc: Arc<AppService>) -> Self {
        Self {
            svc,
            state: State::Fresh,
        }
    }

    /// The shared service.
    pub fn service(&self) -> &Arc<AppService> {
        &self.svc
    }

    /// The NegTokenInit2 a server sends first when its protocol lets it
    /// speak first (MS-SPNG §3.2.5.2, e.g. SMB2 NEGOTIATE): our mechanisms
    /// in preference order and the fixed hint name. Hints are advisory;
    /// the initiator's NegTokenInit still drives the negotiation.
    pub fn negotiate_hint(&self) -> Vec<u8> {
        let mut mechs = Vec::new();
        for m in self.svc.config.mode.mechanisms() {
            mechs.push(m.oid());
            // IAKERB right after Kerberos, as Windows orders them
            // (protocols.md §2.8).
            if *m == Mechanism::Kerberos && self.svc.config.iakerb.is_some() {
                mechs.push(oid::IAKERB);
            }
        }
        NegotiationToken::Init2(NegTokenInit2 {
            mech_types: Some(mechs),
            req_flags: None,
            mech_token: None,
            neg_hints: Some(NegHints {
                hint_name: Some(HINT_NAME_IGNORE.to_owned()),
                hint_address: None,
            }),
            mech_list_mic: None,
        })
        .encode_initial()
    }

    /// Processes the client's next context token.
    pub fn step(
        &mut self,
        token: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<AcceptStep, AcceptFailure> {
        let result = match std::mem::replace(&mut self.state, State::Finished) {
            State::Fresh => self.first(token, now, rng),
            State::Spnego(mut s) => match s.step(&self.svc, token, now, rng) {
                Ok(SpnegoOutcome::Continue(t)) => {
                    self.state = State::Spnego(s);
                    Ok(AcceptStep::Continue(t))
                }
                Ok(SpnegoOutcome::Complete { reply, session }) => {
                    Ok(AcceptStep::Complete { reply, session })
                }
                Ok(SpnegoOutcome::ProxyKdc(req)) => {
                    self.state = State::Spnego(s);
                    Ok(AcceptStep::ProxyKdc(req))
                }
                Err(e) => Err(e),
            },
            State::Ntlm(n) => self.ntlm(n, token, now, rng),
            State::Iakerb(ia) => self.iakerb(ia, token, now, rng),
            State::Finished => Err(AcceptFailure::silent(AcceptError::State)),
        };
        if let Err(f) = &result {
            tracing::debug!(error = %f.error, "acceptor: context refused");
        }
        result
    }

    /// Resumes an IAKERB exchange with the KDC's answer to the last
    /// [`AcceptStep::ProxyKdc`] (the reply bytes, or why there are none):
    /// the next token to send, or the refusal (85/86 inside an IAKERB
    /// token) when there is no answer.
    pub fn kdc_reply(
        &mut self,
        reply: Result<&[u8], KdcProxyFailure>,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<AcceptStep, AcceptFailure> {
        let result = match std::mem::replace(&mut self.state, State::Finished) {
            State::Iakerb(mut ia) => match ia.kdc_reply(&self.svc, reply, now, rng) {
                Ok(t) => {
                    self.state = State::Iakerb(ia);
                    Ok(AcceptStep::Continue(t))
                }
                Err(f) => Err(f),
            },
            State::Spnego(mut s) => match s.kdc_reply(&self.svc, reply, now, rng) {
                Ok(SpnegoOutcome::Continue(t)) => {
                    self.state = State::Spnego(s);
                    Ok(AcceptStep::Continue(t))
                }
                Ok(SpnegoOutcome::ProxyKdc(req)) => {
                    self.state = State::Spnego(s);
                    Ok(AcceptStep::ProxyKdc(req))
                }
                Ok(SpnegoOutcome::Complete { reply, session }) => {
                    Ok(AcceptStep::Complete { reply, session })
                }
                Err(f) => Err(f),
            },
            _ => Err(AcceptFailure::silent(AcceptError::State)),
        };
        if let Err(f) = &result {
            tracing::debug!(error = %f.error, "acceptor: IAKERB context refused");
        }
        result
    }

    fn first(
        &mut self,
        token: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<AcceptStep, AcceptFailure> {
        let mode = self.svc.config.mode;
        if token.starts_with(NTLMSSP) {
            if !mode.accepts(Mechanism::Ntlm) {
                return Err(AcceptFailure::silent(AcceptError::MechanismNotAccepted(
                    "NTLMSSP".into(),
                )));
            }
            return self.ntlm(NtlmAcceptor::new(), token, now, rng);
        }
        let framed = gss::unwrap(token)
            .map_err(|e| AcceptFailure::silent(AcceptError::Malformed(e.to_string())))?;
        if framed.mech == oid::SPNEGO {
            let mut s = Box::new(SpnegoAcceptor::new());
            return match s.step(&self.svc, token, now, rng)? {
                SpnegoOutcome::Continue(t) => {
                    self.state = State::Spnego(s);
                    Ok(AcceptStep::Continue(t))
                }
                SpnegoOutcome::Complete { reply, session } => {
                    Ok(AcceptStep::Complete { reply, session })
                }
                SpnegoOutcome::ProxyKdc(req) => {
                    self.state = State::Spnego(s);
                    Ok(AcceptStep::ProxyKdc(req))
                }
            };
        }
        let name = oid::name(&framed.mech)
            .map(str::to_owned)
            .unwrap_or_else(|| framed.mech.to_string());
        if framed.mech == oid::IAKERB {
            // draft-ietf-kitten-iakerb-03: only when configured (MIT limits
            // IAKERB to callers that ask for it, krb5/krb5#303).
            if self.svc.config.iakerb.is_none() || !mode.accepts(Mechanism::Kerberos) {
                return Err(AcceptFailure::silent(AcceptError::MechanismNotAccepted(
                    name,
                )));
            }
            return self.iakerb(Box::new(IakerbAcceptor::new()), token, now, rng);
        }
        if mechanism_of(&framed.mech) != Some(Mechanism::Kerberos)
            || !mode.accepts(Mechanism::Kerberos)
        {
            return Err(AcceptFailure::silent(AcceptError::MechanismNotAccepted(
                name,
            )));
        }
        let krb = gss::decode_krb_token(token)
            .map_err(|e| AcceptFailure::silent(AcceptError::Malformed(e.to_string())))?;
        if krb.tok_id != tok_id::AP_REQ {
            return Err(AcceptFailure::silent(AcceptError::UnexpectedToken(
                "a Kerberos token other than an AP-REQ opened the context",
            )));
        }
        let svc = &self.svc;
        match krb_acceptor::accept(
            &svc.config,
            &svc.keys,
            svc.replay_cache(),
            &krb.mech,
            krb.body,
            now,
            rng,
        ) {
            Ok(a) => Ok(AcceptStep::Complete {
                reply: a.reply,
                session: Box::new(Session {
                    client: a.client,
                    mechanism: Mechanism::Kerberos,
                    via: Via::Raw,
                    context: SecurityContext::Kerberos(a.context),
                    iakerb: None,
                }),
            }),
            Err(r) => Err(AcceptFailure::with_reply(
                AcceptError::Kerberos {
                    code: r.code,
                    reason: r.reason,
                },
                r.token,
            )),
        }
    }

    fn iakerb(
        &mut self,
        mut ia: Box<IakerbAcceptor>,
        token: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<AcceptStep, AcceptFailure> {
        match ia.step(&self.svc, token, now, rng)? {
            IakerbOutcome::Reply(t) => {
                self.state = State::Iakerb(ia);
                Ok(AcceptStep::Continue(t))
            }
            IakerbOutcome::Proxy(req) => {
                self.state = State::Iakerb(ia);
                Ok(AcceptStep::ProxyKdc(req))
            }
            IakerbOutcome::Accepted(a) => {
                let a = *a;
                Ok(AcceptStep::Complete {
                    reply: a.reply,
                    session: Box::new(Session {
                        client: a.client,
                        mechanism: Mechanism::Kerberos,
                        via: Via::Raw,
                        context: SecurityContext::Kerberos(a.context),
                        iakerb: Some(ia.summary(a.finished)),
                    }),
                })
            }
        }
    }

    fn ntlm(
        &mut self,
        mut n: NtlmAcceptor,
        token: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<AcceptStep, AcceptFailure> {
        // Raw NTLM has no error message: a refusal is silence and a close.
        match n.step(&self.svc.config.ntlm, &self.svc.accounts, token, now, rng) {
            Ok(NtlmStep::Challenge(c)) => {
                self.state = State::Ntlm(n);
                Ok(AcceptStep::Continue(c))
            }
            Ok(NtlmStep::Accepted(a)) => Ok(AcceptStep::Complete {
                reply: None,
                session: Box::new(Session {
                    client: if a.domain.is_empty() {
                        a.user
                    } else {
                        format!("{}\\{}", a.domain, a.user)
                    },
                    mechanism: Mechanism::Ntlm,
                    via: Via::Raw,
                    context: SecurityContext::Ntlm(a.context),
                    iakerb: None,
                }),
            }),
            Err(e) => Err(AcceptFailure::silent(AcceptError::Ntlm(e))),
        }
    }
}
