//! The IAKERB acceptor (draft-ietf-kitten-iakerb-03 §3, as MIT's
//! `iakerb.c` implements it, with Microsoft's header variant): the server
//! relays the initiator's KDC exchanges to its KDC, then takes the AP-REQ
//! and checks the finished checksum over everything relayed.
//!
//! ```text
//! initiator                      acceptor (this)                     KDC
//!  IAKERB_PROXY{realm, AS-REQ} ─► checks ─► ProxyKdc{realm, AS-REQ} ──►
//!  ◄─ IAKERB_PROXY{realm, KRB-ERROR 25 / AS-REP} ◄─ kdc_reply(bytes) ◄──
//!  ... TGS-REQ / TGS-REP the same way ...
//!  AP-REQ (IAKERB or krb5 OID) ─► krb_acceptor + finished over transcript
//!  ◄─ AP-REP
//! ```
//!
//! What is checked before anything reaches the KDC (a token failing any
//! check is refused and nothing is forwarded):
//! * GSS framing with the IAKERB OID, TOK_ID `05 01`, a valid
//!   IAKERB-HEADER (`kerbside_wire::iakerb`); MIT krb5 up to 1.21 frames
//!   only its first token and sends target-realm as OCTET STRING, so later
//!   tokens may start at the TOK_ID and either string type is taken
//!   ([`TokenForm`]); replies use the form the initiator used;
//! * at most [`IakerbConfig::max_hops`] proxy tokens (MIT
//!   `IAKERB_MAX_HOPS` = 26);
//! * the cookie: when this acceptor issues cookies, the latest one echoed
//!   verbatim (draft §3); a cookie it never issued is refused;
//! * target-realm and message both present, or both absent (realm
//!   discovery, draft §3.1); MIT treats one without the other as
//!   KRB5_BAD_MSIZE;
//! * the message is an AS-REQ or TGS-REQ that decodes, and its req-body
//!   realm is the header's target-realm (the acceptor routes by the
//!   header, so a disagreement is a defective token);
//! * the realm is one this server reaches ([`IakerbConfig::realms`]);
//!   otherwise the initiator gets KRB_AP_ERR_IAKERB_KDC_NOT_FOUND (85).
//!
//! KDC answers pass through untouched, KRB-ERRORs included
//! (PREAUTH_REQUIRED is the normal second step); a KDC that does not
//! answer gives KRB_AP_ERR_IAKERB_KDC_NO_RESPONSE (86). Both IAKERB errors
//! travel as a KRB-ERROR inside an IAKERB_PROXY token, then the context
//! fails. The transcript (every IAKERB token received and sent, exact
//! bytes including the `60` framing; MIT `iakerb_save_token`) feeds the
//! finished check in [`crate::krb_acceptor::accept_iakerb`].

use std::time::SystemTime;

use kerbside_crypto::gss_checksum::FinishedFlavor;
use kerbside_wire::der::BitString;
use kerbside_wire::gss::{self, oid, tok_id};
use kerbside_wire::iakerb::{IakerbHeader, IakerbProxy, TokenForm};
use kerbside_wire::krb::constants::name_type;
use kerbside_wire::krb::{self, Asn1Object, KrbErrorBuilder, KrbMessage};
use rand_core::RngCore;

use crate::acceptor::{KdcProxyFailure, KdcProxyRequest};
use crate::config::{IakerbConfig, IakerbReplyStyle};
use crate::error::{AcceptError, AcceptFailure};
use crate::krb_acceptor::{self, KrbAccepted};
use crate::service::AppService;

/// Length of the cookies this acceptor issues.
const COOKIE_LEN: usize = 16;

/// Windows' header-flags in server tokens (protocols.md §2.5 I5; the
/// semantics are unpublished).
const WINDOWS_SERVER_FLAGS: [u8; 4] = [0x01, 0x00, 0x00, 0x00];

/// Why an IAKERB token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IakerbReject {
    /// Not an IAKERB_PROXY or AP-REQ token with valid framing and header
    /// (MIT: GSS_S_DEFECTIVE_TOKEN).
    #[error("defective IAKERB token: {0}")]
    Defective(String),
    /// Exactly one of target-realm and message is present (MIT
    /// KRB5_BAD_MSIZE).
    #[error("target-realm and KDC message must be both present or both absent")]
    RealmMessageMismatch,
    /// The proxied message is not an AS-REQ or TGS-REQ.
    #[error("proxied message is {0}, not an AS-REQ or TGS-REQ")]
    NotAKdcRequest(String),
    /// The header routes to one realm, the request names another.
    #[error("header target-realm {header:?} but the request is for realm {request:?}")]
    RealmDisagrees {
        /// The IAKERB-HEADER target-realm.
        header: String,
        /// The req-body realm.
        request: String,
    },
    /// The cookie is not the one this acceptor issued last.
    #[error("IAKERB cookie: {0}")]
    Cookie(&'static str),
    /// More proxy tokens than allowed.
    #[error("more than {0} IAKERB proxy tokens")]
    TooManyHops(u32),
    /// No KDC is known for the realm (KRB_AP_ERR_IAKERB_KDC_NOT_FOUND).
    #[error("no KDC known for realm {0:?}")]
    KdcNotFound(String),
    /// The KDC did not answer, or answered with something that is not a
    /// Kerberos reply (KRB_AP_ERR_IAKERB_KDC_NO_RESPONSE).
    #[error("the KDC of realm {0:?} did not respond")]
    KdcNoResponse(String),
}

impl IakerbReject {
    /// The IAKERB error code the initiator was sent (85 / 86).
    pub fn krb_code(&self) -> Option<i32> {
        use kerbside_wire::krb::constants::error_code as code;
        match self {
            IakerbReject::KdcNotFound(_) => Some(code::KRB_AP_ERR_IAKERB_KDC_NOT_FOUND),
            IakerbReject::KdcNoResponse(_) => Some(code::KRB_AP_ERR_IAKERB_KDC_NO_RESPONSE),
            _ => None,
        }
    }
}

/// What an IAKERB context token produced.
#[derive(Debug)]
pub enum IakerbOutcome {
    /// Send this IAKERB_PROXY token (the realm-discovery answer).
    Reply(Vec<u8>),
    /// Forward this KDC request and resume with
    /// [`IakerbAcceptor::kdc_reply`].
    Proxy(KdcProxyRequest),
    /// The closing AP-REQ was accepted.
    Accepted(Box<KrbAccepted>),
}

/// What the session records about the IAKERB exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct IakerbSummary {
    /// KDC exchanges relayed.
    pub kdc_exchanges: u32,
    /// Proxy tokens received (discovery included).
    pub hops: u32,
    /// The finished flavour that verified (`None`: the initiator sent no
    /// finished checksum and the compatibility switch let it through, or
    /// it had its ticket already and nothing was relayed).
    #[serde(serialize_with = "flavor_name")]
    pub finished: Option<FinishedFlavor>,
}

fn flavor_name<S: serde::Serializer>(f: &Option<FinishedFlavor>, s: S) -> Result<S::Ok, S::Error> {
    match f {
        Some(FinishedFlavor::Draft03) => s.serialize_some("draft-03"),
        Some(FinishedFlavor::MitLegacy) => s.serialize_some("mit-legacy"),
        None => s.serialize_none(),
    }
}

/// One IAKERB conversation, acceptor side.
#[derive(Debug, Default)]
pub struct IakerbAcceptor {
    transcript: Vec<u8>,
    hops: u32,
    kdc_exchanges: u32,
    /// The cookie sent last, which the next token must echo.
    issued_cookie: Option<Vec<u8>>,
    /// A KDC request is out: (realm routed to, realm as the client spelled it).
    awaiting: Option<(String, String)>,
    /// The initiator speaks MIT <= 1.21's form (OCTET STRING realm): our
    /// replies are unframed with an OCTET STRING realm, as MIT's acceptor
    /// sends them.
    mit_form: bool,
    done: bool,
}

fn defective(e: impl ToString) -> AcceptFailure {
    AcceptFailure::silent(AcceptError::Iakerb(IakerbReject::Defective(e.to_string())))
}

fn silent(r: IakerbReject) -> AcceptFailure {
    AcceptFailure::silent(AcceptError::Iakerb(r))
}

impl IakerbAcceptor {
    /// A fresh conversation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every IAKERB token received and sent so far, exact bytes.
    pub fn transcript(&self) -> &[u8] {
        &self.transcript
    }

    /// The record for the session.
    pub fn summary(&self, finished: Option<FinishedFlavor>) -> IakerbSummary {
        IakerbSummary {
            kdc_exchanges: self.kdc_exchanges,
            hops: self.hops,
            finished,
        }
    }

    /// True while a KDC request is out.
    pub fn is_awaiting_kdc(&self) -> bool {
        self.awaiting.is_some()
    }

    /// Processes one context token of the conversation.
    pub fn step(
        &mut self,
        svc: &AppService,
        token: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<IakerbOutcome, AcceptFailure> {
        if self.done || self.awaiting.is_some() {
            return Err(AcceptFailure::silent(AcceptError::State));
        }
        let Some(cfg) = svc.config.iakerb.as_ref() else {
            return Err(AcceptFailure::silent(AcceptError::MechanismNotAccepted(
                "iakerb".into(),
            )));
        };
        // MIT <= 1.21 sends every token after the first without framing.
        if self.hops > 0 && token.starts_with(&tok_id::IAKERB_PROXY) {
            return self.proxy_token(cfg, token, now, rng).inspect_err(|_| {
                self.done = true;
            });
        }
        let framed = gss::decode_krb_token(token).map_err(defective)?;
        match framed.tok_id {
            tok_id::IAKERB_PROXY => self.proxy_token(cfg, token, now, rng).inspect_err(|_| {
                self.done = true;
            }),
            tok_id::AP_REQ => {
                // MIT frames the AP-REQ with the IAKERB OID, Windows (and
                // scapy) with krb5's: accept either (protocols.md §2.2).
                if framed.mech != oid::IAKERB
                    && framed.mech != oid::KRB5
                    && framed.mech != oid::MS_KRB5
                {
                    self.done = true;
                    return Err(defective(format!(
                        "AP-REQ framed with {}, not IAKERB or Kerberos",
                        framed.mech
                    )));
                }
                self.done = true;
                krb_acceptor::accept_iakerb(
                    svc,
                    &framed.mech,
                    framed.body,
                    &self.transcript,
                    now,
                    rng,
                )
                .map(|a| IakerbOutcome::Accepted(Box::new(a)))
                .map_err(|r| {
                    AcceptFailure::with_reply(
                        AcceptError::Kerberos {
                            code: r.code,
                            reason: r.reason,
                        },
                        r.token,
                    )
                })
            }
            other => {
                self.done = true;
                Err(defective(format!(
                    "TOK_ID {:02x}{:02x} where IAKERB_PROXY or AP-REQ was expected",
                    other[0], other[1]
                )))
            }
        }
    }

    fn proxy_token(
        &mut self,
        cfg: &IakerbConfig,
        token: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<IakerbOutcome, AcceptFailure> {
        let (proxy, form) = IakerbProxy::decode_any(token).map_err(defective)?;
        if self.hops == 0 {
            self.mit_form = form.realm_octets;
        }
        if self.hops >= cfg.max_hops {
            return Err(silent(IakerbReject::TooManyHops(cfg.max_hops)));
        }
        self.hops += 1;
        // draft §3: the cookie is copied verbatim from our last reply.
        match (&self.issued_cookie, &proxy.header.cookie) {
            (Some(mine), Some(theirs)) if mine == theirs => {}
            (Some(_), Some(_)) => return Err(silent(IakerbReject::Cookie("not the one issued"))),
            (Some(_), None) => {
                return Err(silent(IakerbReject::Cookie("issued cookie not echoed")));
            }
            (None, Some(_)) => return Err(silent(IakerbReject::Cookie("never issued"))),
            _ => {}
        }
        let realm = proxy.header.target_realm.as_str();
        match (realm.is_empty(), proxy.message.is_empty()) {
            (true, true) => {
                // Realm discovery (draft §3.1): answer with our realm and
                // no message. MIT takes the verifier's realm, else the
                // default realm, else error 85.
                self.transcript.extend_from_slice(token);
                let Some(ours) = cfg.discovery_realm() else {
                    return Err(self.iakerb_error(
                        cfg,
                        IakerbReject::KdcNotFound(String::new()),
                        "",
                        now,
                        rng,
                    ));
                };
                let header = IakerbHeader {
                    target_realm: ours.to_owned(),
                    cookie: self.next_cookie(cfg, rng),
                    header_flags: reply_flags(cfg),
                    extensions: Vec::new(),
                };
                let reply = IakerbProxy {
                    header,
                    message: Vec::new(),
                }
                .encode_as(self.reply_form());
                self.transcript.extend_from_slice(&reply);
                return Ok(IakerbOutcome::Reply(reply));
            }
            (false, false) => {}
            _ => return Err(silent(IakerbReject::RealmMessageMismatch)),
        }
        let request_realm = match krb::decode(&proxy.message) {
            Ok(KrbMessage::AsReq(r)) => r.req_body.realm,
            Ok(KrbMessage::TgsReq(r)) => r.req_body.realm,
            Ok(other) => {
                return Err(silent(IakerbReject::NotAKdcRequest(other.name().into())));
            }
            Err(e) => return Err(silent(IakerbReject::NotAKdcRequest(e.to_string()))),
        };
        let header_realm = if realm == "." {
            cfg.discovery_realm().unwrap_or(realm)
        } else {
            realm
        };
        if !header_realm.eq_ignore_ascii_case(&request_realm) {
            return Err(silent(IakerbReject::RealmDisagrees {
                header: realm.to_owned(),
                request: request_realm,
            }));
        }
        self.transcript.extend_from_slice(token);
        let Some(known) = cfg.known_realm(realm) else {
            // Nothing went to any KDC; the initiator learns why.
            return Err(self.iakerb_error(
                cfg,
                IakerbReject::KdcNotFound(realm.to_owned()),
                realm,
                now,
                rng,
            ));
        };
        self.awaiting = Some((known.to_owned(), realm.to_owned()));
        Ok(IakerbOutcome::Proxy(KdcProxyRequest {
            realm: known.to_owned(),
            message: proxy.message,
        }))
    }

    /// The KDC's answer to the last [`IakerbOutcome::Proxy`] (or why there
    /// is none), as the IAKERB_PROXY token to send back.
    pub fn kdc_reply(
        &mut self,
        svc: &AppService,
        reply: Result<&[u8], KdcProxyFailure>,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<u8>, AcceptFailure> {
        let (Some((realm, spelled)), Some(cfg)) =
            (self.awaiting.take(), svc.config.iakerb.as_ref())
        else {
            self.done = true;
            return Err(AcceptFailure::silent(AcceptError::State));
        };
        let failure = match reply {
            // Only a Kerberos reply goes back: AS-REP, TGS-REP, KRB-ERROR.
            Ok(bytes) => match krb::decode(bytes) {
                Ok(KrbMessage::AsRep(_) | KrbMessage::TgsRep(_) | KrbMessage::KrbError(_)) => {
                    self.kdc_exchanges += 1;
                    let header = IakerbHeader {
                        target_realm: reply_realm(cfg, &spelled),
                        cookie: self.next_cookie(cfg, rng),
                        header_flags: reply_flags(cfg),
                        extensions: Vec::new(),
                    };
                    let token = IakerbProxy {
                        header,
                        message: bytes.to_vec(),
                    }
                    .encode_as(self.reply_form());
                    self.transcript.extend_from_slice(&token);
                    return Ok(token);
                }
                _ => {
                    tracing::debug!(%realm, "iakerb: KDC answered with something that is not a reply");
                    IakerbReject::KdcNoResponse(realm)
                }
            },
            Err(KdcProxyFailure::KdcNotFound) => IakerbReject::KdcNotFound(realm),
            Err(KdcProxyFailure::NoResponse) => IakerbReject::KdcNoResponse(realm),
        };
        self.done = true;
        Err(self.iakerb_error(cfg, failure, &spelled, now, rng))
    }

    /// A refusal carrying KRB-ERROR 85/86 inside an IAKERB_PROXY token
    /// (draft §3.3), so the initiator can tell "no KDC" from a defect.
    fn iakerb_error(
        &mut self,
        cfg: &IakerbConfig,
        why: IakerbReject,
        realm: &str,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> AcceptFailure {
        self.done = true;
        let Some(code) = why.krb_code() else {
            return silent(why);
        };
        let err_realm = if realm.is_empty() { "." } else { realm };
        let der = KrbErrorBuilder::new(
            code,
            now,
            err_realm,
            krb::principal(name_type::NT_SRV_INST, &["krbtgt", err_realm]),
        )
        .e_text(&why.to_string())
        .build()
        .build();
        let header = IakerbHeader {
            target_realm: reply_realm(cfg, realm),
            cookie: self.next_cookie(cfg, rng),
            header_flags: reply_flags(cfg),
            extensions: Vec::new(),
        };
        let token = IakerbProxy {
            header,
            message: der,
        }
        .encode_as(self.reply_form());
        AcceptFailure::with_reply(AcceptError::Iakerb(why), token)
    }

    /// Replies in the initiator's form: MIT <= 1.21 unframed with an OCTET
    /// STRING realm, everyone else draft-03.
    fn reply_form(&self) -> TokenForm {
        if self.mit_form {
            TokenForm::MIT_LATER
        } else {
            TokenForm::DRAFT_03
        }
    }

    fn next_cookie(&mut self, cfg: &IakerbConfig, rng: &mut dyn RngCore) -> Option<Vec<u8>> {
        if !cfg.issue_cookie {
            return None;
        }
        let mut c = vec![0u8; COOKIE_LEN];
        rng.fill_bytes(&mut c);
        self.issued_cookie = Some(c.clone());
        Some(c)
    }
}

/// The target-realm of a reply: MIT echoes the request's, Windows says ".".
fn reply_realm(cfg: &IakerbConfig, request_realm: &str) -> String {
    match cfg.reply_style {
        IakerbReplyStyle::Windows => ".".to_owned(),
        _ => request_realm.to_owned(),
    }
}

fn reply_flags(cfg: &IakerbConfig) -> Option<BitString> {
    match cfg.reply_style {
        IakerbReplyStyle::Windows => Some(BitString::from_bytes(&WINDOWS_SERVER_FLAGS)),
        _ => None,
    }
}
