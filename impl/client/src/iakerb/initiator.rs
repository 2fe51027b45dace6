//! [`IakerbInitiator`]: the state machine of module [`crate::iakerb`].

use std::time::SystemTime;

use kerbside_crypto::gss_checksum::FinishedFlavor;
use kerbside_wire::der::{BitString, Oid};
use kerbside_wire::gss::oid;
use kerbside_wire::iakerb::{IakerbHeader, IakerbProxy, TokenForm};
use kerbside_wire::krb::constants::{error_code, name_type};
use kerbside_wire::krb::{self, KrbMessage};
use kerbside_wire::time::from_kerberos_time_usec;
use rand_core::RngCore;

use super::error::IakerbError;
use crate::gss::{KrbContext, SecurityContext};
use crate::gss_krb::{KrbInitiator, KrbInitiatorOptions, KrbStep};
use crate::krb::{
    AsExchange, AsOptions, AsStep, Credentials, KrbErrorInfo, Principal, Secret, TgsExchange,
    TgsOptions,
};

/// MIT's `IAKERB_MAX_HOPS` (16 + `KRB5_REFERRAL_MAXHOPS`).
pub const DEFAULT_MAX_HOPS: u32 = 26;

/// Which OID frames the closing AP-REQ (protocols.md §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApFraming {
    /// The IAKERB OID, as MIT and Kerberos.NET send it (MIT's acceptor
    /// then answers under IAKERB too).
    Iakerb,
    /// The krb5 OID, as scapy's client sent it to Windows.
    Krb5,
}

impl ApFraming {
    fn oid(self) -> Oid {
        match self {
            ApFraming::Iakerb => oid::IAKERB,
            ApFraming::Krb5 => oid::KRB5,
        }
    }
}

/// The IAKERB dialect spoken (the acceptor's must match: MIT 1.20 refuses
/// a UTF8String realm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IakerbDialect {
    /// draft-ietf-kitten-iakerb-03 (Windows, MIT after 04f9c19c98): every
    /// token framed, target-realm UTF8String.
    Draft03,
    /// MIT krb5 up to 1.21 (Debian 12's 1.20.1, observed): only the first
    /// token framed, target-realm OCTET STRING.
    Mit,
}

/// Initiator choices.
#[derive(Debug, Clone)]
pub struct IakerbOptions {
    /// Most proxy tokens sent before giving up.
    pub max_hops: u32,
    /// How tokens are written.
    pub dialect: IakerbDialect,
    /// The finished flavour to send: MIT krb5 up to 1.21 sends and expects
    /// extension 1 / usage 42, the draft and newer MIT extension 2 /
    /// usage 41.
    pub finished: FinishedFlavor,
    /// Send no finished checksum at all (what the scapy client did and
    /// Windows accepted); acceptors like MIT's refuse such an AP-REQ.
    pub omit_finished: bool,
    /// The AP-REQ framing.
    pub ap_framing: ApFraming,
    /// header-flags to send (Windows clients send 32 zero bits; MIT none).
    pub header_flags: Option<BitString>,
    /// GSS flags and channel bindings of the AP-REQ.
    pub gss: KrbInitiatorOptions,
    /// The AS request (lifetime, enctypes, pre-authentication).
    pub as_options: AsOptions,
    /// The TGS request.
    pub tgs_options: TgsOptions,
}

impl IakerbOptions {
    /// What MIT krb5 up to 1.21 speaks: its token form and finished
    /// numbering.
    pub fn mit() -> Self {
        Self {
            dialect: IakerbDialect::Mit,
            finished: FinishedFlavor::MitLegacy,
            ..Self::default()
        }
    }
}

impl Default for IakerbOptions {
    /// draft-ietf-kitten-iakerb-03 throughout.
    fn default() -> Self {
        Self {
            max_hops: DEFAULT_MAX_HOPS,
            dialect: IakerbDialect::Draft03,
            finished: FinishedFlavor::Draft03,
            omit_finished: false,
            ap_framing: ApFraming::Iakerb,
            header_flags: None,
            gss: KrbInitiatorOptions::default(),
            as_options: AsOptions::default(),
            tgs_options: TgsOptions::default(),
        }
    }
}

/// Who authenticates to what.
#[derive(Debug, Clone)]
pub struct IakerbRequest {
    /// The client's name components (`["alice"]`, `["WS01$"]`).
    pub user: Vec<String>,
    /// The client's realm; `None` asks the acceptor (realm discovery).
    pub realm: Option<String>,
    /// The client's long-term secret (unused when `tgt` is given).
    pub secret: Secret,
    /// The service's name components (`["host", "app.lab.test"]`).
    pub service: Vec<String>,
    /// The service's realm; default the client's.
    pub service_realm: Option<String>,
    /// A TGT already held (from a ticket cache): the AS exchange is
    /// skipped.
    pub tgt: Option<Credentials>,
}

/// What to do after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IakerbStep {
    /// Send this token and wait for the acceptor's answer.
    Continue(Vec<u8>),
    /// The context is established; send the token if there is one (the
    /// AP-REQ of a context without mutual authentication).
    Complete(Option<Vec<u8>>),
}

#[derive(Debug)]
enum State {
    Start,
    Discovery,
    As(Box<AsExchange>),
    Tgs(Box<TgsExchange>),
    Ap(Box<KrbInitiator>),
    Established(Box<KrbInitiator>),
    Failed,
}

/// One IAKERB context, initiator side.
#[derive(Debug)]
pub struct IakerbInitiator {
    request: IakerbRequest,
    options: IakerbOptions,
    state: State,
    realm: Option<String>,
    cookie: Option<Vec<u8>>,
    transcript: Vec<u8>,
    hops: u32,
    tgt: Option<Credentials>,
    ticket: Option<Credentials>,
}

impl IakerbInitiator {
    /// A context for `request`.
    pub fn new(request: IakerbRequest, options: IakerbOptions) -> Self {
        let realm = request
            .realm
            .clone()
            .or_else(|| request.tgt.as_ref().map(|t| t.client.realm.clone()));
        Self {
            tgt: request.tgt.clone(),
            request,
            options,
            state: State::Start,
            realm,
            cookie: None,
            transcript: Vec::new(),
            hops: 0,
            ticket: None,
        }
    }

    /// The realm in use (after discovery, the acceptor's).
    pub fn realm(&self) -> Option<&str> {
        self.realm.as_deref()
    }

    /// Every IAKERB token sent and received, exact bytes.
    pub fn transcript(&self) -> &[u8] {
        &self.transcript
    }

    /// Proxy tokens sent so far.
    pub fn hops(&self) -> u32 {
        self.hops
    }

    /// The TGT, once obtained (to cache it).
    pub fn tgt(&self) -> Option<&Credentials> {
        self.tgt.as_ref()
    }

    /// The service ticket, once obtained.
    pub fn service_ticket(&self) -> Option<&Credentials> {
        self.ticket.as_ref()
    }

    /// True once the context is established.
    pub fn is_complete(&self) -> bool {
        matches!(self.state, State::Established(_))
    }

    /// The first token: realm discovery, an AS-REQ, or (with a TGT) a
    /// TGS-REQ.
    pub fn initial_token(
        &mut self,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<u8>, IakerbError> {
        if !matches!(self.state, State::Start) {
            return Err(IakerbError::State);
        }
        let r = match self.realm.clone() {
            None => {
                self.state = State::Discovery;
                self.proxy_token("", Vec::new())
            }
            Some(realm) => self.after_realm(&realm, now, rng),
        };
        self.fail_on_err(r)
    }

    /// Processes the acceptor's next token.
    pub fn step(
        &mut self,
        token: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<IakerbStep, IakerbError> {
        let r = self.step_inner(token, now, rng);
        self.fail_on_err(r)
    }

    fn fail_on_err<T>(&mut self, r: Result<T, IakerbError>) -> Result<T, IakerbError> {
        if r.is_err() {
            self.state = State::Failed;
        }
        r
    }

    fn step_inner(
        &mut self,
        token: &[u8],
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<IakerbStep, IakerbError> {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::Discovery => {
                let proxy = self.receive(token)?;
                if !proxy.message.is_empty() {
                    // A KRB-ERROR instead of a realm: 85 when the acceptor
                    // has none (MIT), anything else is a defect.
                    self.message(&proxy)?;
                    return Err(IakerbError::Discovery(
                        "the acceptor answered discovery with a Kerberos message".into(),
                    ));
                }
                let realm = proxy.header.target_realm;
                // "." is Windows' name for "this machine", not a realm a
                // client can ask a KDC for.
                if realm.is_empty() || realm == "." {
                    return Err(IakerbError::Discovery(format!(
                        "the acceptor named no usable realm ({realm:?})"
                    )));
                }
                self.realm = Some(realm.clone());
                self.after_realm(&realm, now, rng).map(IakerbStep::Continue)
            }
            State::As(mut ex) => {
                let proxy = self.receive(token)?;
                let msg = self.message(&proxy)?;
                match ex.step(&msg, now, rng)? {
                    AsStep::Send(next) => {
                        let realm = self.client_realm()?;
                        let t = self.proxy_token(&realm, next)?;
                        self.state = State::As(ex);
                        Ok(IakerbStep::Continue(t))
                    }
                    AsStep::Done(tgt) => {
                        self.tgt = Some(tgt.clone());
                        self.tgs_token(&tgt, now, rng).map(IakerbStep::Continue)
                    }
                }
            }
            State::Tgs(ex) => {
                let proxy = self.receive(token)?;
                let msg = self.message(&proxy)?;
                let ticket = ex.handle_reply(&msg)?;
                self.ticket = Some(ticket.clone());
                self.ap_token(&ticket, now, rng)
            }
            State::Ap(mut k) => match k.step(token)? {
                KrbStep::Complete => {
                    self.state = State::Established(k);
                    Ok(IakerbStep::Complete(None))
                }
            },
            State::Start | State::Established(_) | State::Failed => Err(IakerbError::State),
        }
    }

    /// The context once established.
    pub fn into_context(self) -> Result<SecurityContext, IakerbError> {
        match self.state {
            State::Established(k) => Ok(k.into_context()?),
            _ => Err(IakerbError::State),
        }
    }

    /// Borrow the established context (for the SPNEGO mechListMIC).
    pub fn context_mut(&mut self) -> Option<&mut KrbContext> {
        match &mut self.state {
            State::Established(k) => k.context_mut(),
            _ => None,
        }
    }

    /// Moves the established context out, leaving the initiator spent.
    pub(crate) fn take_context(&mut self) -> Option<KrbContext> {
        match &mut self.state {
            State::Established(k) => k.take_context(),
            _ => None,
        }
    }

    fn client_realm(&self) -> Result<String, IakerbError> {
        self.realm.clone().ok_or(IakerbError::State)
    }

    /// With the realm known: the AS-REQ, or the TGS-REQ when a TGT is held.
    fn after_realm(
        &mut self,
        realm: &str,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<u8>, IakerbError> {
        if let Some(tgt) = self.tgt.clone() {
            return self.tgs_token(&tgt, now, rng);
        }
        let client = Principal {
            name_type: name_type::NT_PRINCIPAL,
            components: self.request.user.clone(),
            realm: realm.to_owned(),
        };
        let mut ex = AsExchange::new(
            client,
            self.request.secret.clone(),
            self.options.as_options.clone(),
        );
        let req = ex.start(now, rng)?;
        let t = self.proxy_token(realm, req)?;
        self.state = State::As(Box::new(ex));
        Ok(t)
    }

    fn service_principal(&self, realm: &str) -> Principal {
        let comps = &self.request.service;
        Principal {
            name_type: if comps.len() == 2 {
                name_type::NT_SRV_HST
            } else {
                name_type::NT_PRINCIPAL
            },
            components: comps.clone(),
            realm: realm.to_owned(),
        }
    }

    fn tgs_token(
        &mut self,
        tgt: &Credentials,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<u8>, IakerbError> {
        // No cross-realm here: the service realm is the TGT's unless set.
        let realm = self
            .request
            .service_realm
            .clone()
            .unwrap_or_else(|| tgt.client.realm.clone());
        let mut ex = TgsExchange::new(
            tgt,
            self.service_principal(&realm),
            self.options.tgs_options.clone(),
        );
        let req = ex.request(now, rng);
        let t = self.proxy_token(&realm, req)?;
        self.state = State::Tgs(Box::new(ex));
        Ok(t)
    }

    /// The closing AP-REQ with the finished checksum over the transcript
    /// (draft §3.2).
    fn ap_token(
        &mut self,
        ticket: &Credentials,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Result<IakerbStep, IakerbError> {
        let conversation: &[u8] = if self.options.omit_finished {
            &[]
        } else {
            &self.transcript
        };
        let (k, token) = KrbInitiator::start_iakerb(
            ticket,
            &self.options.gss,
            &self.options.ap_framing.oid(),
            conversation,
            self.options.finished,
            now,
            rng,
        )?;
        if k.is_complete() {
            self.state = State::Established(Box::new(k));
            Ok(IakerbStep::Complete(Some(token)))
        } else {
            self.state = State::Ap(Box::new(k));
            Ok(IakerbStep::Continue(token))
        }
    }

    /// Wraps `message` for `realm`, echoing the last cookie, and records it.
    fn proxy_token(&mut self, realm: &str, message: Vec<u8>) -> Result<Vec<u8>, IakerbError> {
        if self.hops >= self.options.max_hops {
            return Err(IakerbError::TooManyHops(self.options.max_hops));
        }
        let form = match self.options.dialect {
            IakerbDialect::Mit if self.hops == 0 => TokenForm::MIT_FIRST,
            IakerbDialect::Mit => TokenForm::MIT_LATER,
            _ => TokenForm::DRAFT_03,
        };
        self.hops += 1;
        let token = IakerbProxy {
            header: IakerbHeader {
                target_realm: realm.to_owned(),
                cookie: self.cookie.clone(),
                header_flags: self.options.header_flags.clone(),
                extensions: Vec::new(),
            },
            message,
        }
        .encode_as(form);
        self.transcript.extend_from_slice(&token);
        Ok(token)
    }

    /// Decodes an acceptor token of the proxy phase (either form: MIT
    /// <= 1.21 answers unframed), records it and keeps its cookie.
    fn receive(&mut self, token: &[u8]) -> Result<IakerbProxy, IakerbError> {
        let (proxy, _) = IakerbProxy::decode_any(token)?;
        self.transcript.extend_from_slice(token);
        // draft §3: copied verbatim from the acceptor's latest token.
        self.cookie = proxy.header.cookie.clone();
        Ok(proxy)
    }

    /// The KDC message inside, failing on the IAKERB errors 85/86; other
    /// KRB-ERRORs go to the exchange like a direct KDC's would.
    fn message(&self, proxy: &IakerbProxy) -> Result<Vec<u8>, IakerbError> {
        if proxy.message.is_empty() {
            return Err(IakerbError::UnexpectedToken(
                "an IAKERB token without a KDC reply".into(),
            ));
        }
        if let Ok(KrbMessage::KrbError(e)) = krb::decode(&proxy.message)
            && matches!(
                e.error_code,
                error_code::KRB_AP_ERR_IAKERB_KDC_NOT_FOUND
                    | error_code::KRB_AP_ERR_IAKERB_KDC_NO_RESPONSE
            )
        {
            return Err(IakerbError::Proxy(KrbErrorInfo {
                code: e.error_code,
                text: e.e_text.clone(),
                e_data: e.e_data.clone(),
                server_time: from_kerberos_time_usec(&e.stime, e.susec),
            }));
        }
        Ok(proxy.message.clone())
    }
}
