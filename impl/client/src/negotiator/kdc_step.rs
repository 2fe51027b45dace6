//! One KDC request the negotiator needs answered (first AS-REQ, the
//! pre-authenticated AS-REQ, a TGS-REQ, a renewal), independent of the route
//! it travels: builds the request bytes for each send and sorts each reply
//! into what the router should do next.
//!
//! Every send of a fresh AS or TGS step is a new request (its own nonce and
//! authenticator, RFC 4120 §3.1.1/§3.3.1), kept with the exchange that
//! carried it: a retry or a racer then never trips the KDC's authenticator
//! replay cache (KRB_AP_ERR_REPEAT), and each reply is checked against the
//! request it answers. The pre-authenticated AS-REQ is the exception: it
//! exists only after KDC_ERR_PREAUTH_REQUIRED, so every send of it carries
//! the same bytes and every reply goes to the one exchange state.

use std::time::SystemTime;

use kerbside_wire::krb::constants::error_code;
use rand_core::RngCore;

use crate::audit::ExchangeKind;
use crate::krb::{
    AsExchange, AsOptions, AsStep, Credentials, KrbClientError, Principal, Secret, TgsExchange,
    TgsOptions,
};

/// What a finished step produced.
#[derive(Clone, Debug)]
pub(crate) enum StepValue {
    /// A TGT from the AS exchange.
    Tgt(Credentials),
    /// A renewed TGT.
    Renewed(Credentials),
    /// A service ticket.
    Ticket(Credentials),
}

/// Why Kerberos cannot go on, whatever the route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fatal {
    /// The KRB-ERROR code, when the KDC sent one.
    pub(crate) code: Option<i32>,
    /// For people.
    pub(crate) message: String,
    /// A failed integrity check rather than a KDC refusal (a tampered or
    /// forged reply, or a wrong password the reply does not decrypt with).
    pub(crate) integrity: bool,
    /// Evidence of tampering: the reply decrypted but answers another
    /// request (nonce, names) or the KDC saw another request (RFC 6806 §11).
    pub(crate) tampered: bool,
}

/// What to do with a reply.
#[derive(Debug)]
pub(crate) enum ReplyClass {
    /// The step is complete.
    Done(StepValue),
    /// The endpoint answered and asked for the next message of the same
    /// exchange (KDC_ERR_PREAUTH_REQUIRED): send it on the same route.
    Continue(KdcStep),
    /// The KDC answered with something that no other route would change.
    Fatal(Fatal),
    /// This endpoint cannot serve the request (KDC_ERR_SVC_UNAVAILABLE, a
    /// reply that is not Kerberos): try another.
    RouteFailed {
        /// The KRB-ERROR code, when there was one.
        code: Option<i32>,
        /// For people.
        why: String,
    },
    /// KRB_ERR_RESPONSE_TOO_BIG (RFC 4120 §7.2.1): retry over TCP.
    TooBig,
    /// KRB_AP_ERR_SKEW with the KDC's time.
    Skew {
        /// The KDC's clock.
        server_time: SystemTime,
    },
}

/// Per-send state.
#[derive(Debug)]
pub(crate) enum Pending {
    /// This send's own AS exchange.
    As(Box<AsExchange>),
    /// This send's own TGS exchange.
    Tgs(Box<TgsExchange>),
    /// The step's shared state answers (the pre-authenticated AS-REQ).
    Shared,
}

/// The AS parameters, kept to restart the exchange.
#[derive(Clone, Debug)]
pub(crate) struct AsParams {
    pub(crate) client: Principal,
    pub(crate) secret: Secret,
    pub(crate) options: AsOptions,
}

#[derive(Debug)]
enum Source {
    As(AsParams),
    AsContinue {
        params: AsParams,
        /// Taken when the exchange moves on to its next request.
        exchange: Option<Box<AsExchange>>,
        request: Vec<u8>,
    },
    Tgs {
        tgt: Box<Credentials>,
        service: Principal,
        options: TgsOptions,
    },
    Renew {
        tgt: Box<Credentials>,
        options: TgsOptions,
    },
}

/// One KDC request to get answered.
#[derive(Debug)]
pub(crate) struct KdcStep {
    source: Source,
}

impl KdcStep {
    /// The AS exchange for a TGT.
    pub(crate) fn as_req(params: AsParams) -> Self {
        KdcStep {
            source: Source::As(params),
        }
    }

    /// A TGS exchange for `service`.
    pub(crate) fn tgs(tgt: Credentials, service: Principal, options: TgsOptions) -> Self {
        KdcStep {
            source: Source::Tgs {
                tgt: Box::new(tgt),
                service,
                options,
            },
        }
    }

    /// A renewal of `tgt`.
    pub(crate) fn renew(tgt: Credentials, options: TgsOptions) -> Self {
        KdcStep {
            source: Source::Renew {
                tgt: Box::new(tgt),
                options,
            },
        }
    }

    /// Which message this is, for audit records.
    pub(crate) fn kind(&self) -> ExchangeKind {
        match &self.source {
            Source::As(_) => ExchangeKind::As,
            Source::AsContinue { .. } => ExchangeKind::AsPreauth,
            Source::Tgs { .. } => ExchangeKind::Tgs,
            Source::Renew { .. } => ExchangeKind::Renew,
        }
    }

    /// The same request from its beginning (after a clock correction the
    /// pre-authentication timestamp must be rebuilt, so the AS exchange
    /// starts over).
    pub(crate) fn restart(self) -> Self {
        match self.source {
            Source::AsContinue { params, .. } => KdcStep::as_req(params),
            source => KdcStep { source },
        }
    }

    /// The bytes of the next send and the state that checks its reply.
    pub(crate) fn request(
        &mut self,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<(Vec<u8>, Pending), Fatal> {
        match &mut self.source {
            Source::As(p) => {
                let mut ex = AsExchange::new(p.client.clone(), p.secret.clone(), p.options.clone());
                let bytes = ex.start(now, rng).map_err(|e| fatal_from(&e))?;
                Ok((bytes, Pending::As(Box::new(ex))))
            }
            Source::AsContinue { request, .. } => Ok((request.clone(), Pending::Shared)),
            Source::Tgs {
                tgt,
                service,
                options,
            } => {
                let mut ex = TgsExchange::new(tgt, service.clone(), options.clone());
                let bytes = ex.request(now, rng);
                Ok((bytes, Pending::Tgs(Box::new(ex))))
            }
            Source::Renew { tgt, options } => {
                let mut ex =
                    TgsExchange::renew(tgt, options.clone()).map_err(|e| fatal_from(&e))?;
                let bytes = ex.request(now, rng);
                Ok((bytes, Pending::Tgs(Box::new(ex))))
            }
        }
    }

    /// Sorts a reply to a send made with `pending`.
    pub(crate) fn on_reply(
        &mut self,
        pending: Pending,
        reply: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> ReplyClass {
        match (&mut self.source, pending) {
            (Source::As(params), Pending::As(mut ex)) => match ex.step(reply, now, rng) {
                Ok(AsStep::Done(creds)) => ReplyClass::Done(StepValue::Tgt(creds)),
                Ok(AsStep::Send(request)) => ReplyClass::Continue(KdcStep {
                    source: Source::AsContinue {
                        params: params.clone(),
                        exchange: Some(ex),
                        request,
                    },
                }),
                Err(e) => classify(&e),
            },
            (
                Source::AsContinue {
                    params, exchange, ..
                },
                Pending::Shared,
            ) => {
                let Some(ex) = exchange.as_mut() else {
                    return ReplyClass::RouteFailed {
                        code: None,
                        why: "reply to a superseded request".to_owned(),
                    };
                };
                match ex.step(reply, now, rng) {
                    Ok(AsStep::Done(creds)) => ReplyClass::Done(StepValue::Tgt(creds)),
                    // Another request of the same exchange (AsExchange's own
                    // retries are bounded: one skew correction, no second
                    // PREAUTH_REQUIRED): send it on the same route.
                    Ok(AsStep::Send(next)) => ReplyClass::Continue(KdcStep {
                        source: Source::AsContinue {
                            params: params.clone(),
                            exchange: exchange.take(),
                            request: next,
                        },
                    }),
                    Err(e) => classify(&e),
                }
            }
            (Source::Tgs { .. }, Pending::Tgs(ex)) => match ex.handle_reply(reply) {
                Ok(creds) => ReplyClass::Done(StepValue::Ticket(creds)),
                Err(e) => classify(&e),
            },
            (Source::Renew { .. }, Pending::Tgs(ex)) => match ex.handle_reply(reply) {
                Ok(creds) => ReplyClass::Done(StepValue::Renewed(creds)),
                Err(e) => classify(&e),
            },
            // A pending state from another step: the router drops exchanges
            // when the step changes, so this is a stale answer.
            _ => ReplyClass::RouteFailed {
                code: None,
                why: "reply to a superseded request".to_owned(),
            },
        }
    }
}

/// Sorts a client-side failure (RFC 4120 §7.5.9 codes; MIT's `k5_sendto`
/// moves on to the next KDC on KDC_ERR_SVC_UNAVAILABLE).
fn classify(e: &KrbClientError) -> ReplyClass {
    match e {
        KrbClientError::Krb(info) => match info.code {
            error_code::KDC_ERR_SVC_UNAVAILABLE => ReplyClass::RouteFailed {
                code: Some(info.code),
                why: e.to_string(),
            },
            error_code::KRB_ERR_RESPONSE_TOO_BIG => ReplyClass::TooBig,
            error_code::KRB_AP_ERR_SKEW => ReplyClass::Skew {
                server_time: info.server_time,
            },
            _ => ReplyClass::Fatal(fatal_from(e)),
        },
        // Not Kerberos at all, or not the message type asked for: this
        // endpoint is not a working KDC; another may be.
        KrbClientError::Decode(_) | KrbClientError::UnexpectedMessage { .. } => {
            ReplyClass::RouteFailed {
                code: None,
                why: e.to_string(),
            }
        }
        _ => ReplyClass::Fatal(fatal_from(e)),
    }
}

fn fatal_from(e: &KrbClientError) -> Fatal {
    let tampered = matches!(
        e,
        KrbClientError::NonceMismatch { .. }
            | KrbClientError::WrongClient { .. }
            | KrbClientError::WrongService { .. }
            | KrbClientError::RequestModified
    );
    Fatal {
        code: e.krb_code(),
        message: e.to_string(),
        integrity: tampered || matches!(e, KrbClientError::Crypto(_)),
        tampered,
    }
}
