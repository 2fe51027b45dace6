//! [`Kdc`]: the sans-IO entry point. Request bytes, transport, time and RNG
//! in; an [`Outcome`] out.
//!
//! Every request is either answered or dropped, by these rules:
//!
//! | input | outcome |
//! |---|---|
//! | empty | [`DropReason::Empty`] |
//! | identical, octet for octet, to a request answered within the replay window | that reply again, from the [`crate::lookaside`] cache (MIT's lookaside): a retransmission or the TCP retry after KRB_ERR_RESPONSE_TOO_BIG is not processed twice (which would refuse a TGS-REQ as a replay) |
//! | first octet not AS-REQ (`6a`) or TGS-REQ (`6c`) | [`DropReason::NotARequest`]: answering replies or errors with errors would let two KDCs (or a spoofed source) ping-pong forever, and answering arbitrary datagrams makes a reflector |
//! | AS-REQ/TGS-REQ tag but not a valid DER message | [`DropReason::Malformed`]: without a decoded request there is no realm or service to name in a KRB-ERROR (MIT drops these too) |
//! | decoded AS-REQ / TGS-REQ | a reply: AS-REP / TGS-REP, or KRB-ERROR with the RFC 4120 code of the first failed check |
//! | reply over UDP larger than `udp_max_reply` | KRB-ERROR KRB_ERR_RESPONSE_TOO_BIG instead (RFC 4120 §7.2.1), naked (never FAST-wrapped) so clients retry over TCP |
//!
//! A `Kdc` is cheap to clone; clones share the principal store, the
//! configuration, the replay cache and the lookaside cache (real mode runs
//! one clone per worker thread).

use std::sync::Arc;
use std::time::SystemTime;

use kerbside_wire::WireError;
use kerbside_wire::krb::asn1::{AsReq, PrincipalName, TgsReq};
use kerbside_wire::krb::constants::name_type;
use kerbside_wire::krb::decode_der;
use rand_core::RngCore;

use crate::as_exchange;
use crate::codes::ErrorCode;
use crate::config::KdcConfig;
use crate::error::ConfigError;
use crate::lookaside::{self, CachedReply, Lookaside};
use crate::name::{Principal, display_components};
use crate::policy::{IssuePolicy, RealmPolicy};
use crate::reject::Rejection;
use crate::replay::ReplayCache;
use crate::store::PrincipalStore;
use crate::tgs_exchange;
use crate::ticket::unix_secs;

/// How the request arrived; UDP replies are size-limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// UDP datagram (RFC 4120 §7.2.1).
    Udp,
    /// TCP record (RFC 4120 §7.2.2), or any stream (KKDCP, IAKERB).
    Tcp,
}

/// Why a request got no reply. See the module docs for the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DropReason {
    /// Zero bytes.
    Empty,
    /// Not an AS-REQ or TGS-REQ (the first octet).
    NotARequest {
        /// The first octet.
        tag: u8,
    },
    /// Tagged as a KDC request but not decodable.
    Malformed(WireError),
}

/// What to do with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Send these bytes back (AS-REP, TGS-REP or KRB-ERROR).
    Reply(Vec<u8>),
    /// Send nothing.
    Drop(DropReason),
}

/// Which exchange a request was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// AS-REQ.
    As,
    /// TGS-REQ.
    Tgs,
    /// Anything else (dropped).
    Other,
}

impl RequestKind {
    /// `AS-REQ`, `TGS-REQ`, `other`.
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::As => "AS-REQ",
            RequestKind::Tgs => "TGS-REQ",
            RequestKind::Other => "other",
        }
    }
}

/// What happened to one request, for logs and traces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestSummary {
    /// The exchange.
    pub kind: RequestKind,
    /// Client `name@REALM` when known (escaped: safe to log).
    pub client: Option<String>,
    /// Requested service `name@REALM` when known (escaped).
    pub server: Option<String>,
    /// The error code when the reply is a KRB-ERROR.
    pub error: Option<ErrorCode>,
    /// The reply came from the lookaside cache: the same bytes were
    /// answered recently, this copy was not processed again.
    pub from_lookaside: bool,
}

/// An [`Outcome`] with its [`RequestSummary`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handled {
    /// What to send.
    pub outcome: Outcome,
    /// What it was.
    pub summary: RequestSummary,
}

/// Everything the exchanges read; shared by all clones of a [`Kdc`].
#[derive(Debug)]
pub struct Shared {
    /// Configuration.
    pub config: KdcConfig,
    /// Principals.
    pub store: PrincipalStore,
    /// Issue policy.
    pub policy: Arc<dyn IssuePolicy>,
}

/// A KDC for one realm.
#[derive(Clone, Debug)]
pub struct Kdc {
    shared: Arc<Shared>,
    replay: Arc<ReplayCache>,
    lookaside: Arc<Lookaside>,
}

impl Kdc {
    /// A KDC with the realm's ordinary policy ([`RealmPolicy`] from the
    /// config's limits).
    pub fn new(config: KdcConfig, store: PrincipalStore) -> Result<Kdc, ConfigError> {
        let policy = RealmPolicy {
            max_lifetime: config.ticket_lifetime,
            renew_limit: config.renew_limit,
        };
        Kdc::with_policy(config, store, Arc::new(policy))
    }

    /// A KDC with a custom issue policy (LocalKDC).
    pub fn with_policy(
        config: KdcConfig,
        store: PrincipalStore,
        policy: Arc<dyn IssuePolicy>,
    ) -> Result<Kdc, ConfigError> {
        config.validate()?;
        if store.realm() != config.realm {
            return Err(ConfigError::RealmMismatch {
                store: store.realm().to_owned(),
                config: config.realm.clone(),
            });
        }
        let tgs = Principal::krbtgt(&config.realm);
        let has_tgs_key = store
            .get(tgs.components())
            .is_some_and(|e| config.enctypes.iter().any(|et| e.key(*et).is_some()));
        if !has_tgs_key {
            return Err(ConfigError::NoKrbtgt {
                realm: config.realm.clone(),
            });
        }
        let replay = Arc::new(ReplayCache::new(
            config.replay_window,
            config.replay_capacity,
        ));
        let lookaside = Arc::new(Lookaside::new(
            config.replay_window,
            config.lookaside_capacity,
        ));
        Ok(Kdc {
            shared: Arc::new(Shared {
                config,
                store,
                policy,
            }),
            replay,
            lookaside,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &KdcConfig {
        &self.shared.config
    }

    /// The principals.
    pub fn store(&self) -> &PrincipalStore {
        &self.shared.store
    }

    /// Authenticators currently in the replay cache.
    pub fn replay_cache_len(&self) -> usize {
        self.replay.len()
    }

    /// Replies currently in the lookaside cache.
    pub fn lookaside_len(&self) -> usize {
        self.lookaside.len()
    }

    /// Handles one request. See the module docs for when it drops.
    pub fn handle(
        &mut self,
        request: &[u8],
        transport: Transport,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Outcome {
        self.handle_traced(request, transport, now, rng).outcome
    }

    /// [`Kdc::handle`] plus a summary of the request for logging.
    pub fn handle_traced(
        &mut self,
        request: &[u8],
        transport: Transport,
        now: SystemTime,
        rng: &mut dyn RngCore,
    ) -> Handled {
        let mut summary = RequestSummary {
            kind: RequestKind::Other,
            client: None,
            server: None,
            error: None,
            from_lookaside: false,
        };
        let Some(&tag) = request.first() else {
            return Handled {
                outcome: Outcome::Drop(DropReason::Empty),
                summary,
            };
        };
        // MIT `dispatch.c`: the lookaside is consulted before decoding.
        let now_secs = unix_secs(now);
        let digest = lookaside::digest(request);
        if let Some(hit) = self.lookaside.get(digest, request, now_secs) {
            let summary = RequestSummary {
                from_lookaside: true,
                ..hit.summary
            };
            return self.deliver(hit.reply, summary, transport, now);
        }
        let realm = self.shared.config.realm.as_str();
        let (result, sname) = match tag {
            0x6a => {
                summary.kind = RequestKind::As;
                let req: AsReq = match decode_der(request) {
                    Ok(r) => r,
                    Err(e) => {
                        return Handled {
                            outcome: Outcome::Drop(DropReason::Malformed(e)),
                            summary,
                        };
                    }
                };
                let body = &req.req_body;
                summary.client = body
                    .cname
                    .as_ref()
                    .map(|c| named(&c.name_string, &body.realm));
                summary.server = body
                    .sname
                    .as_ref()
                    .map(|s| named(&s.name_string, &body.realm));
                let r = as_exchange::handle(&self.shared, &req, request, now, rng).map(|r| r.reply);
                (r, body.sname.clone())
            }
            0x6c => {
                summary.kind = RequestKind::Tgs;
                let req: TgsReq = match decode_der(request) {
                    Ok(r) => r,
                    Err(e) => {
                        return Handled {
                            outcome: Outcome::Drop(DropReason::Malformed(e)),
                            summary,
                        };
                    }
                };
                let body = &req.req_body;
                summary.server = body
                    .sname
                    .as_ref()
                    .map(|s| named(&s.name_string, &body.realm));
                let r = tgs_exchange::handle(&self.shared, &self.replay, &req, request, now, rng)
                    .map(|(bytes, client)| {
                        summary.client = Some(client);
                        bytes
                    });
                (r, body.sname.clone())
            }
            other => {
                return Handled {
                    outcome: Outcome::Drop(DropReason::NotARequest { tag: other }),
                    summary,
                };
            }
        };
        let reply = match result {
            Ok(bytes) => bytes,
            Err(rejection) => {
                summary.error = Some(rejection.code);
                if summary.client.is_none()
                    && let Some((crealm, cname)) = &rejection.client
                {
                    summary.client = Some(named(&cname.name_string, crealm));
                }
                rejection.to_krb_error(realm, error_sname(sname, realm), now)
            }
        };
        // KDC_ERR_SVC_UNAVAILABLE says the replay cache was full and the
        // request was not taken: a retransmission deserves a new attempt.
        if summary.error != Some(ErrorCode::KDC_ERR_SVC_UNAVAILABLE) {
            self.lookaside.insert(
                digest,
                request,
                CachedReply {
                    reply: reply.clone(),
                    summary: summary.clone(),
                },
                now_secs,
            );
        }
        self.deliver(reply, summary, transport, now)
    }

    /// The reply as sent on `transport`: over UDP one larger than
    /// `udp_max_reply` becomes KRB_ERR_RESPONSE_TOO_BIG (RFC 4120 §7.2.1),
    /// and the client retries over TCP with the same bytes, which the
    /// lookaside cache answers with the full reply.
    fn deliver(
        &self,
        reply: Vec<u8>,
        mut summary: RequestSummary,
        transport: Transport,
        now: SystemTime,
    ) -> Handled {
        if transport == Transport::Udp && reply.len() > self.shared.config.udp_max_reply {
            summary.error = Some(ErrorCode::KRB_ERR_RESPONSE_TOO_BIG);
            let too_big = Rejection::new(ErrorCode::KRB_ERR_RESPONSE_TOO_BIG, "");
            let realm = self.shared.config.realm.as_str();
            return Handled {
                outcome: Outcome::Reply(too_big.to_krb_error(realm, self.krbtgt_name(), now)),
                summary,
            };
        }
        Handled {
            outcome: Outcome::Reply(reply),
            summary,
        }
    }

    /// A KRB-ERROR from this KDC that is not about a particular request
    /// (drivers use it for KRB_ERR_FIELD_TOOLONG on an oversized TCP record,
    /// RFC 4120 §7.2.2).
    pub fn error_reply(&self, code: ErrorCode, text: &str, now: SystemTime) -> Vec<u8> {
        Rejection::new(code, text.to_owned()).to_krb_error(
            &self.shared.config.realm,
            self.krbtgt_name(),
            now,
        )
    }

    fn krbtgt_name(&self) -> PrincipalName {
        PrincipalName {
            name_type: name_type::NT_SRV_INST,
            name_string: vec!["krbtgt".to_owned(), self.shared.config.realm.clone()],
        }
    }
}

/// The sname a KRB-ERROR names: the request's, or krbtgt when it had none.
fn error_sname(sname: Option<PrincipalName>, realm: &str) -> PrincipalName {
    sname
        .filter(|s| !s.name_string.is_empty())
        .unwrap_or_else(|| PrincipalName {
            name_type: name_type::NT_SRV_INST,
            name_string: vec!["krbtgt".to_owned(), realm.to_owned()],
        })
}

fn named(components: &[String], realm: &str) -> String {
    format!(
        "{}@{}",
        display_components(components),
        display_components(std::slice::from_ref(&realm.to_owned()))
    )
}
